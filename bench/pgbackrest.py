"""The pgBackRest drill against its named baseline in the same run, on the same backup.

baseline: what an operator types: `pgbackrest restore` into an empty data directory, PostgreSQL 15 started on
it (pg_ctl, the drill's own server settings and pg_hba, as the postgres user), a psql loop until recovery
ended, then the drill's queries by psql; stopped and removed.
drill: the whole `restore` probe of a backups entry with `pgbackrest:` (find, restore, start, recovery,
verify, teardown, evidence). Target: <= 1.15x (medians of --repeat runs; which goes first alternates).

The stanza is made here: a cluster archiving to pgBackRest, `--rows` rows (~70 bytes each) in one table, a
full backup, then more rows written after it (so recovery replays WAL from the archive), then stopped.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from opsverify.config.target import load_target
from opsverify.drills.local import find_server_bin, free_port, stop_cluster
from opsverify.drills.stanza import DRILL_HBA, RECOVERY_SETTINGS
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.probe import probe

STANZA = "bench"
QUERIES = {
    "items": "select count(*) from items",
    "newest": "select max(id) from items",
}


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_as() -> dict[str, Any]:
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def as_postgres(*command: str, cwd: Path, timeout: float = 3600) -> str:
    done = subprocess.run(
        list(command), capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, **run_as()
    )
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {done.stderr or done.stdout}")
    return done.stdout


def owned_folder(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    return folder


def make_stanza(work: Path, rows: int) -> Path:
    """A stopped cluster's stanza: a full backup of `rows` rows, then rows/10 more in the WAL archive."""
    bindir, port, data = find_server_bin(None, "15"), free_port(), work / "data"
    config = work / "pgbackrest.conf"
    config.write_text(
        f"[global]\nrepo1-path={work}/repo\nlog-path={work}\nlock-path={work}/lock\nspool-path={work}\n"
        f"log-level-file=off\nstart-fast=y\ncompress-type=lz4\n"
        f"[{STANZA}]\npg1-path={data}\npg1-port={port}\npg1-socket-path={work}\npg1-user=postgres\n"
    )
    shutil.chown(config, "postgres", "postgres") if os.geteuid() == 0 else None
    as_postgres(
        str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", cwd=work
    )
    archive = f"pgbackrest --config={config} --stanza={STANZA} archive-push %p"
    options = (
        f"-p {port} -c listen_addresses='' -c unix_socket_directories={work} -c archive_mode=on "
        f'-c wal_level=replica -c fsync=off -c "archive_command={archive}"'
    )
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(work / "server.log")]
    as_postgres(*pg_ctl, "-w", "-o", options, "start", cwd=work)
    psql = [str(bindir / "psql"), "-h", str(work), "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1"]
    try:
        as_postgres("pgbackrest", f"--config={config}", f"--stanza={STANZA}", "stanza-create", cwd=work)
        as_postgres(
            *psql,
            "-c",
            f"create table items as select g as id, md5(g::text) || md5((g * 7)::text) as payload "
            f"from generate_series(1, {rows}) g",
            cwd=work,
        )
        as_postgres(
            "pgbackrest", f"--config={config}", f"--stanza={STANZA}", "--type=full", "backup", cwd=work
        )
        as_postgres(
            *psql,
            "-c",
            f"insert into items select g, md5(g::text) from generate_series({rows + 1}, {rows + rows // 10}) g",
            cwd=work,
        )
    finally:
        as_postgres(*pg_ctl, "-m", "fast", "-w", "stop", cwd=work)  # the last segment is archived on the way
    shutil.rmtree(data, ignore_errors=True)
    return config


def baseline(config: Path, work_dir: Path) -> float:
    """pgbackrest restore + pg_ctl start + waiting for recovery + the queries by psql, then teardown."""
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="baseline_", dir=work_dir))
    data = folder / "data"
    data.mkdir(mode=0o700)
    bindir, port = find_server_bin(None, "15"), free_port()
    try:
        subprocess.run(
            ["pgbackrest", f"--config={config}", f"--stanza={STANZA}", f"--pg1-path={data}", "--archive-mode=off",
             "--log-level-console=warn", "restore"],
            check=True, capture_output=True, timeout=3600,
        )  # fmt: skip
        marks = [("restore", time.monotonic())]
        (folder / "pg_hba.conf").write_text(DRILL_HBA)
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(folder)], check=True, timeout=600)
        options = f"{RECOVERY_SETTINGS} -c hba_file={folder}/pg_hba.conf -p {port} -c unix_socket_directories={folder}"
        as_postgres(
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "3600",
            "-o", options, "start", cwd=folder,
        )  # fmt: skip
        marks.append(("start", time.monotonic()))
        psql = [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-At"]
        while as_postgres(*psql, "-c", "select pg_is_in_recovery()", cwd=folder).strip() != "f":
            time.sleep(0.2)
        marks.append(("recovery", time.monotonic()))
        for sql in QUERIES.values():
            as_postgres(*psql, "-c", sql, cwd=folder)
        marks.append(("queries", time.monotonic()))
    finally:
        stop_cluster(data, bindir, None, run_as())
        shutil.rmtree(folder, ignore_errors=True)
    marks.append(("teardown", time.monotonic()))
    previous = started
    steps = []
    for name, at in marks:
        steps.append(f"{name} {at - previous:.1f}s")
        previous = at
    log("baseline steps: " + ", ".join(steps))
    return time.monotonic() - started


def drill(config: Path, work_dir: Path, tmp: Path, rows: int) -> float:
    document = {
        "target": "bench",
        "backups": {
            "db": {
                "pgbackrest": {"stanza": STANZA, "config": str(config), "work_dir": str(work_dir)},
                "restore": {
                    "expect": {
                        "min_rows": {"items": rows},
                        "queries": {"newest": {"sql": QUERIES["newest"], "min": rows}},
                    }
                },
            }
        },
    }
    path = tmp / "target.yaml"
    path.write_text(yaml.safe_dump(document))
    target = load_target(str(path))
    entry = target.model.backups["db"]  # type: ignore[attr-defined]
    started = time.monotonic()
    facts = probe(entry, ProbeContext(target.name, target.base_dir, target=target, entry_name="db"))
    seconds = time.monotonic() - started
    if facts.error or not facts.verified:
        raise SystemExit(f"the drill failed: {facts.error}\n{facts.evidence()}")
    log("drill steps: " + ", ".join(f"{step.name} {step.seconds:.1f}s" for step in facts.steps))
    log(f"backup: {facts.steps[1].detail}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pgbackrest", description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows in the backup (~70 bytes each)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    work = owned_folder("opsverify-bench-pgbr-")
    work_dir = owned_folder("opsverify-bench-pgbr-restore-")
    tmp = Path(tempfile.mkdtemp(prefix="opsverify-bench-"))
    os.environ.setdefault("OPSVERIFY_REPORTS_DIR", str(tmp / "reports"))
    try:
        log(f"making the stanza ({args.rows} rows, then {args.rows // 10} more in the WAL archive)")
        config = make_stanza(work, args.rows)
        times: dict[str, list[float]] = {"baseline": [], "drill": []}
        for run in range(args.repeat):
            order = ["baseline", "drill"] if run % 2 == 0 else ["drill", "baseline"]  # neither always warms
            for which in order:  # the page cache for the other
                if which == "baseline":
                    times["baseline"].append(baseline(config, work_dir))
                else:
                    times["drill"].append(drill(config, work_dir, tmp, args.rows))
            log(f"run {run + 1}: baseline {times['baseline'][-1]:.2f} s, drill {times['drill'][-1]:.2f} s")
        base, ours = statistics.median(times["baseline"]), statistics.median(times["drill"])
        print(f"pgbackrest restore + start + recovery + psql queries: median {base:.2f} s")
        print(f"opsverify drill:                                     median {ours:.2f} s")
        print(f"ratio {ours / base:.2f}x (goal <= 1.15x); load average {os.getloadavg()[0]:.1f}")
    finally:
        for folder in (work, work_dir, tmp):
            shutil.rmtree(folder, ignore_errors=True)
    return 0
