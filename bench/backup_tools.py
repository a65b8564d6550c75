"""restic and Borg drills of a pg_dump inside a snapshot (~200 MB .sql.gz by default), against the shell
pipeline an operator would run: `restic dump SNAPSHOT FILE | gunzip -c | psql` (and `borg extract --stdout
::ARCHIVE FILE | gunzip -c | psql`) into a fresh database, ON_ERROR_STOP, in the same run.

opsverify's side is the whole drill through the restore probe (in-process): list the snapshots, read the file
out of the newest one (the `download` step), the integrity read, url sandbox, restore, verify, teardown.
Runs alternate; medians. Target: <= 1.15x.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench._backup_data import ADMIN_URL, create_database, drop_database, ensure_dumps, log, warm
from opsverify.config.target import load_target
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.probe import probe as drill_probe

PASSWORD = secrets.token_hex(12)  # a throwaway repository password of this run
FILE = "backup_20260101_020000.sql.gz"


def tool_env(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RESTIC_REPOSITORY": str(workdir / "restic-repo"),
        "RESTIC_PASSWORD": PASSWORD,
        "BORG_REPO": str(workdir / "borg-repo"),
        "BORG_PASSPHRASE": PASSWORD,
        "BORG_BASE_DIR": str(workdir / "borg-base"),
    }


def make_repositories(dump: Path, workdir: Path, tools: list[str]) -> Path:
    """Both repositories with one snapshot holding `source/dumps/FILE` (a hard link to the cached dump)."""
    folder = workdir / "source" / "dumps"
    folder.mkdir(parents=True)
    os.link(dump, folder / FILE)  # the work folder is beside the cached dump: same file system
    env = tool_env(workdir)
    if "restic" in tools:
        log("restic init + backup")
        subprocess.run(["restic", "init", "-q"], env=env, check=True, timeout=600)
        subprocess.run(
            ["restic", "backup", "-q", "--no-cache", str(folder)], env=env, check=True, timeout=3600
        )
    if "borg" in tools:
        log("borg init + create")
        subprocess.run(["borg", "init", "--encryption=repokey"], env=env, check=True, timeout=600)
        subprocess.run(["borg", "create", "::bench-1", str(folder)], env=env, check=True, timeout=3600)
    return folder


def baseline(tool: str, folder: Path, workdir: Path) -> Callable[[], None]:
    """`restic dump latest FILE | gunzip -c | psql` (borg: `extract --stdout`) into a fresh database."""
    path = str(folder / FILE)
    reader = (
        ["restic", "dump", "--no-cache", "latest", path]
        if tool == "restic"
        else ["borg", "extract", "--stdout", "::bench-1", path.lstrip("/")]
    )

    def run() -> None:
        name = f"opsverify_bench_tool_{secrets.token_hex(3)}"
        url = create_database(name)
        try:
            dump = subprocess.Popen(reader, env=tool_env(workdir), stdout=subprocess.PIPE)
            gunzip = subprocess.Popen(["gunzip", "-c"], stdin=dump.stdout, stdout=subprocess.PIPE)
            psql = subprocess.Popen(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url],
                stdin=gunzip.stdout,
                stdout=subprocess.DEVNULL,
            )
            assert dump.stdout is not None
            assert gunzip.stdout is not None
            dump.stdout.close()
            gunzip.stdout.close()
            if psql.wait() != 0 or gunzip.wait() != 0 or dump.wait() != 0:
                raise RuntimeError(f"{tool} | gunzip | psql failed")
        finally:
            drop_database(name)

    return run


def drill(tool: str, folder: Path, workdir: Path) -> Callable[[], None]:
    block = (
        '{repository: "${RESTIC_REPOSITORY}", password: "${RESTIC_PASSWORD}"}'
        if tool == "restic"
        else '{repository: "${BORG_REPO}", passphrase: "${BORG_PASSPHRASE}"}'
    )
    target_path = workdir / f"{tool}.yaml"
    target_path.write_text(
        f"""target: bench
backups:
  db:
    path: {folder}
    pattern: "backup_*.sql.gz"
    checksum: off
    {tool}: {block}
    restore:
      sandbox: url
      sandbox_url: {ADMIN_URL}
      expect: {{tables: [bookings, events, invoices], min_rows: {{bookings: 1}}}}
"""
    )
    os.environ.update({k: v for k, v in tool_env(workdir).items() if k.startswith(("RESTIC_", "BORG_"))})
    target = load_target(str(target_path))
    entry = target.model.backups["db"]  # type: ignore[attr-defined]
    os.environ["OPSVERIFY_REPORTS_DIR"] = str(workdir / "reports")

    def run() -> None:
        facts = drill_probe(entry, ProbeContext("bench", workdir, target=target, entry_name="db"))
        if not facts.verified or facts.error:
            raise RuntimeError(f"the {tool} drill did not pass: {facts.error} {facts.steps}")

    return run


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def compare(name: str, base_run: Callable[[], object], ours: Callable[[], object], repeat: int) -> float:
    base: list[float] = []
    mine: list[float] = []
    for _ in range(repeat):
        base.append(timed(base_run))
        mine.append(timed(ours))
    b, o = statistics.median(base), statistics.median(mine)
    print(
        f"{name}: baseline {b:.1f}s {[round(x, 1) for x in base]}, drill {o:.1f}s {[round(x, 1) for x in mine]}"
    )
    print(f"  ratio {o / b:.2f}x (target <= 1.15x) {'OK' if o / b <= 1.15 else 'ABOVE TARGET'}")
    return o / b


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench backup_tools", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=2_300_000, help="rows per big table (2.3M: ~200 MB .sql.gz)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=["restic", "borg"])
    args = parser.parse_args(argv)
    tools = [tool for tool in ("restic", "borg") if tool not in args.skip]
    dump = ensure_dumps(args.rows).big_gz
    print(f"dump: {dump.name}, {dump.stat().st_size / 1e6:.0f} MB; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="opsverify-bench-tools-", dir=dump.parent) as tmp:
        workdir = Path(tmp)
        folder = make_repositories(dump, workdir, tools)
        warm(dump)
        for tool in tools:
            compare(
                f"{tool} drill of the dump in a snapshot",
                baseline(tool, folder, workdir),
                drill(tool, folder, workdir),
                args.repeat,
            )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
