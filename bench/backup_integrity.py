"""Backup integrity check (sha256 + full inflate + trailer, one read) against `gzip -t` on the same ~250 MB .sql.gz.

`gzip -t` only inflates; opsverify also hashes (on a second thread) and scans the SQL for its header,
trailer and CREATE TABLE / COPY counts. Target: opsverify <= 1.05x gzip -t. Runs alternate, the page
cache is warm for both, and the median of --repeat runs is reported.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections.abc import Callable

from bench._backup_data import ensure_dumps, warm
from opsverify.backups.files import stat_backup
from opsverify.backups.integrity import inspect_backup


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench backup_integrity", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--rows", type=int, default=2_900_000, help="rows per big table (2.9M: ~250 MB .sql.gz)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    dumps = ensure_dumps(args.rows)
    path = dumps.big_gz
    backup = stat_backup(path)
    warm(path)

    def gzip_t() -> None:
        subprocess.run(["gzip", "-t", str(path)], check=True)

    def opsverify() -> None:
        inspection = inspect_backup(backup)
        if inspection.defects or not inspection.trailer or inspection.sha256 is None:
            raise RuntimeError(f"the benchmark dump did not pass: {inspection.defects}")

    def sha256sum() -> None:
        subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)

    times: dict[str, list[float]] = {"gzip -t": [], "opsverify integrity": [], "sha256sum (reference)": []}
    for _ in range(args.repeat):
        times["gzip -t"].append(timed(gzip_t))
        times["opsverify integrity"].append(timed(opsverify))
        times["sha256sum (reference)"].append(timed(sha256sum))
    inspection = inspect_backup(backup)
    print(
        f"file {path.name}: {backup.size / 1e6:.0f} MB gzip, {(inspection.inflated_bytes or 0) / 1e6:.0f} MB SQL"
    )
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"  {name:<24} median {value:6.2f}s  runs {', '.join(f'{v:.2f}' for v in times[name])}")
    ratio = medians["opsverify integrity"] / medians["gzip -t"]
    verdict = "OK" if ratio <= 1.05 else "ABOVE TARGET"
    print(f"  ratio opsverify / gzip -t: {ratio:.2f}x (target <= 1.05x) {verdict}")
    return 0
