"""Restore step and drill memory, against named baselines in the same run (~250 MB .sql.gz, 1 GB of SQL).

1. plain restore: opsverify's streaming restore (inflate in-process, psql ON_ERROR_STOP, one transaction)
   vs `gunzip -c FILE | psql -v ON_ERROR_STOP=1` into a fresh database. Target: <= 1.05x.
2. custom restore: opsverify with jobs=2 vs `pg_restore -j 1`. Target: faster.
3. memory: peak RSS of the pytest process running `pytest -m dr` on the dump and on one 4x smaller.
   Target: under 150 MB and flat as the dump grows 4x.
4. drill: the whole drill (find, integrity, url sandbox, restore, verify, teardown; the restore probe run
   in-process) of the .sql.gz vs `gunzip -c | psql -v ON_ERROR_STOP=1`, and of the custom dump with
   jobs: 2 vs `pg_restore -j 1`; the plain drill both in one read (large dumps, the default) and with the
   integrity read first (ONE_PASS_BYTES raised: the drill before issue 15). Runs interleaved, medians.
   Targets: <= 1.1x and <= 0.7x.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench._backup_data import ADMIN_URL, create_database, drop_database, ensure_dumps, log, warm
from bench._pytest_rss import pytest_peak_rss
from opsverify.drills.restore import restore_archive, restore_plain

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 4 * 3600.0


def fresh(run: Callable[[str], object]) -> float:
    """Time `run(url)` against a new empty database, dropped afterwards."""
    name = f"opsverify_bench_restore_{secrets.token_hex(3)}"
    url = create_database(name)
    try:
        started = time.perf_counter()
        run(url)
        return time.perf_counter() - started
    finally:
        drop_database(name)


def shell_pipeline(path: Path) -> Callable[[str], None]:
    def run(url: str) -> None:
        gunzip = subprocess.Popen(["gunzip", "-c", str(path)], stdout=subprocess.PIPE)
        assert gunzip.stdout is not None
        subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url],
            stdin=gunzip.stdout,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        gunzip.stdout.close()
        gunzip.wait()

    return run


def ours_plain(path: Path) -> Callable[[str], None]:
    def run(url: str) -> None:
        result = restore_plain(path, gzip=True, database_url=url, client_bin=None, timeout=TIMEOUT)
        if not result.ok:
            raise RuntimeError(result.error)

    return run


def pg_restore_serial(path: Path) -> Callable[[str], None]:
    def run(url: str) -> None:
        subprocess.run(["pg_restore", "--exit-on-error", "-j", "1", f"--dbname={url}", str(path)], check=True)

    return run


def ours_archive(path: Path, jobs: int) -> Callable[[str], None]:
    def run(url: str) -> None:
        result = restore_archive(
            path, database_url=url, client_bin=None, jobs=jobs, no_owner=False, timeout=TIMEOUT
        )
        if not result.ok:
            raise RuntimeError(result.error)

    return run


def drill_target(dump: Path, workdir: Path, name: str, jobs: int | None = None) -> Path:
    """A target whose one backups entry finds `dump` (linked into its own folder), restored into a `url`
    sandbox on the bench server and verified (tables, a row count)."""
    folder = workdir / name
    folder.mkdir(exist_ok=True)
    link = folder / ("backup_1.dump" if dump.suffix == ".dump" else "backup_1.sql.gz")
    if not link.exists():
        link.symlink_to(dump)
    target = workdir / f"{name}.yaml"
    jobs_line = f"\n      jobs: {jobs}" if jobs else ""
    target.write_text(
        f"""target: bench
backups:
  db:
    path: {folder}
    settle: 0s
    checksum: off
    restore:
      sandbox: url
      sandbox_url: {ADMIN_URL}{jobs_line}
      expect:
        tables: [bookings, events, invoices]
        min_rows: {{bookings: 1}}
"""
    )
    return target


def whole_drill(target: Path, one_pass: bool = True) -> Callable[[str], None]:
    """The restore probe of `target`'s entry, in this process (the url sandbox makes its own database; the
    `url` argument of `fresh` is unused); fails unless the drill passed."""
    from opsverify.config.target import load_target
    from opsverify.kinds.base import ProbeContext
    from opsverify.kinds.restore import probe as drill
    from opsverify.kinds.restore.verdict import judge

    def run(_url: str) -> None:
        loaded = load_target(str(target))
        entry = loaded.model.backups["db"]  # type: ignore[attr-defined]
        context = ProbeContext(loaded.name, loaded.base_dir, target=loaded, entry_name="db")
        saved = drill.ONE_PASS_BYTES
        drill.ONE_PASS_BYTES = saved if one_pass else 1 << 62
        try:
            facts = drill.probe(entry, context)
        finally:
            drill.ONE_PASS_BYTES = saved
        log(f"  steps: {facts.step_seconds()}")
        problems = judge(entry, facts).problems
        if problems:
            raise RuntimeError(f"drill failed: {problems[0].text}")
        if facts.one_pass != one_pass:
            raise RuntimeError(
                f"the drill of {target.stem} read the backup {'once' if facts.one_pass else 'twice'}"
            )

    return run


def client_cpu() -> float:
    """CPU seconds of this process and its waited-for children (gunzip, psql, pg_restore): the restore's
    client side, which the server's work (the same for both) does not blur; steadier than wall time on a
    busy machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def compare_median(
    title: str, repeat: int, runs: list[tuple[str, Callable[[str], None]]], target: str
) -> None:
    """Interleaved runs (each into a fresh database), medians; ratios against the first (the baseline)."""
    times: dict[str, list[float]] = {name: [] for name, _ in runs}
    cpu: dict[str, list[float]] = {name: [] for name, _ in runs}
    for _ in range(repeat):
        for name, run in runs:
            log(f"{title}: {name}")
            before = client_cpu()
            try:
                seconds = fresh(run)
            except (RuntimeError, subprocess.CalledProcessError) as exc:  # a shared server: others' tests
                log(f"{title}: {name} failed ({str(exc)[:160]}); once more")  # may end our connections
                before = client_cpu()
                seconds = fresh(run)
            times[name].append(seconds)
            cpu[name].append(client_cpu() - before)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{title} (median of {repeat}, interleaved; load average now {load}):")
    base = statistics.median(times[runs[0][0]])
    for name, values in times.items():
        median = statistics.median(values)
        shown = ", ".join(f"{v:.1f}" for v in values)
        print(
            f"  {name:<52} {median:7.1f}s  ({shown})  {median / base:.2f}x; "
            f"client CPU {statistics.median(cpu[name]):.1f}s"
        )
    print(f"  target: {target}")


def drill_peak_rss(dump: Path, workdir: Path) -> tuple[float, float]:
    """(peak RSS MB of the pytest process, drill seconds) for `pytest -m dr` on `dump`."""
    folder = workdir / dump.stem.replace(".", "_")
    folder.mkdir(exist_ok=True)
    link = folder / "backup_1.sql.gz"
    if not link.exists():
        link.symlink_to(dump)
    target = workdir / f"{folder.name}.yaml"
    target.write_text(
        f"""target: bench
backups:
  db:
    path: {folder}
    settle: 0s
    checksum: off
    restore:
      sandbox: url
      sandbox_url: {ADMIN_URL}
      expect:
        tables: [bookings, events, invoices]
        min_rows: {{bookings: 1}}
"""
    )
    return pytest_peak_rss(target, "dr", workdir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench restore", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=2_900_000, help="rows per big table (2.9M: ~250 MB .sql.gz)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per side (each restore takes minutes)")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["plain", "custom", "memory", "drill", "plain-drill", "custom-drill"],
    )
    args = parser.parse_args(argv)
    dumps = ensure_dumps(args.rows)
    warm(dumps.big_gz)
    print(
        f"dump {dumps.big_gz.name}: {dumps.big_gz.stat().st_size / 1e6:.0f} MB; {dumps.big_custom.name}: "
        f"{dumps.big_custom.stat().st_size / 1e6:.0f} MB; {os.cpu_count()} cores"
    )
    if "plain" not in args.skip:
        compare(
            "plain restore",
            args.repeat,
            ("gunzip -c | psql ON_ERROR_STOP (baseline)", shell_pipeline(dumps.big_gz)),
            ("opsverify restore_plain", ours_plain(dumps.big_gz)),
            target="<= 1.05x",
        )
    if "custom" not in args.skip:
        warm(dumps.big_custom)
        compare(
            "custom restore",
            args.repeat,
            ("pg_restore -j 1 (baseline)", pg_restore_serial(dumps.big_custom)),
            ("opsverify restore_archive jobs=2", ours_archive(dumps.big_custom, 2)),
            target="< 1.00x",
        )
    if "drill" not in args.skip:
        with tempfile.TemporaryDirectory(prefix="opsverify-bench-drill-") as tmp:
            plain_target = drill_target(dumps.big_gz, Path(tmp), "plain")
            custom_target = drill_target(dumps.big_custom, Path(tmp), "custom", jobs=2)
            if "plain-drill" not in args.skip:
                compare_median(
                    "plain drill",
                    args.repeat,
                    [
                        ("gunzip -c | psql -v ON_ERROR_STOP=1 (baseline)", shell_pipeline(dumps.big_gz)),
                        ("drill, one read (psql, --single-transaction)", whole_drill(plain_target)),
                        (
                            "drill, integrity read first (before issue 15)",
                            whole_drill(plain_target, one_pass=False),
                        ),
                    ],
                    target="drill <= 1.1x",
                )
            if "custom-drill" not in args.skip:
                warm(dumps.big_custom)
                compare_median(
                    "custom drill",
                    args.repeat,
                    [
                        ("pg_restore -j 1 (baseline)", pg_restore_serial(dumps.big_custom)),
                        ("drill, jobs: 2, integrity read beside it", whole_drill(custom_target)),
                        (
                            "drill, jobs: 2, integrity read first (before issue 15)",
                            whole_drill(custom_target, one_pass=False),
                        ),
                    ],
                    target="drill <= 0.7x",
                )
    if "memory" not in args.skip:
        with tempfile.TemporaryDirectory(prefix="opsverify-bench-drill-") as tmp:
            small_rss, small_s = drill_peak_rss(dumps.small_gz, Path(tmp))
            big_rss, big_s = drill_peak_rss(dumps.big_gz, Path(tmp))
        print("drill memory (peak RSS of the pytest process, `pytest -m dr`):")
        print(
            f"  {dumps.small_gz.name:<34} {dumps.small_gz.stat().st_size / 1e6:6.0f} MB  peak {small_rss:6.1f} MB  in {small_s:6.1f}s"
        )
        print(
            f"  {dumps.big_gz.name:<34} {dumps.big_gz.stat().st_size / 1e6:6.0f} MB  peak {big_rss:6.1f} MB  in {big_s:6.1f}s"
        )
        print(
            f"  growth {big_rss / small_rss:.2f}x for a {dumps.big_gz.stat().st_size / dumps.small_gz.stat().st_size:.1f}x dump "
            f"(target: < 150 MB, flat) {'OK' if big_rss < 150 and big_rss / small_rss < 1.1 else 'ABOVE TARGET'}"
        )
    return 0


def compare(
    title: str,
    repeat: int,
    baseline: tuple[str, Callable[[str], None]],
    ours: tuple[str, Callable[[str], None]],
    target: str,
) -> None:
    runs: dict[str, list[float]] = {baseline[0]: [], ours[0]: []}
    for _ in range(repeat):
        for name, run in (baseline, ours):
            log(f"{title}: {name}")
            runs[name].append(fresh(run))
    best = {name: min(values) for name, values in runs.items()}
    print(f"{title} (best of {repeat}):")
    for name, value in best.items():
        print(f"  {name:<42} {value:7.1f}s")
    print(f"  ratio opsverify / baseline: {best[ours[0]] / best[baseline[0]]:.2f}x (target {target})")
