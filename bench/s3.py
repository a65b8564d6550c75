"""Backups in a bucket (moto's standalone server on loopback): the integrity check of a ~250 MB .sql.gz
object against boto3 streaming it into `gzip -t`; the drill from the bucket against `download | gunzip |
psql`; the drill of a mysqldump .sql.gz object against `download | gunzip | mariadb`; peak RSS of `pytest -m
daily` on a ~60 MB and a ~430 MB object.

Targets: integrity <= 1.15x, drills <= 1.15x, peak RSS < 150 MB and flat. Runs alternate; medians.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from bench._backup_data import ADMIN_URL, create_database, drop_database, ensure_dumps, log
from bench._pytest_rss import pytest_peak_rss
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.probe import probe as backup_probe
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.probe import probe as drill_probe

BUCKET, KEY_ID, SECRET, REGION = "bench-backups", "bench", "bench-secret", "us-east-1"
CHUNK = 1 << 20


def start_moto(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_file = (workdir / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log_file,
        stderr=log_file,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto_server did not start")


def client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )


def entry(endpoint: str, prefix: str, **extra: Any) -> BackupCheck:
    settings = {
        "endpoint_url": endpoint,
        "region": REGION,
        "access_key_id": KEY_ID,
        "secret_access_key": SECRET,
    }
    return BackupCheck.model_validate({"path": f"s3://{BUCKET}/{prefix}", "s3": settings, **extra})


def boto3_into(endpoint: str, key: str, command: list[str], stdout: Any = None) -> None:
    """The baseline: boto3 streams the object into a shell pipeline's stdin (one read)."""
    body = client(endpoint).get_object(Bucket=BUCKET, Key=key)["Body"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=stdout)
    assert process.stdin is not None
    for chunk in body.iter_chunks(CHUNK):
        process.stdin.write(chunk)
    process.stdin.close()
    if process.wait() != 0:
        raise RuntimeError(f"{command} failed")


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def compare(
    name: str, baseline: Callable[[], object], ours: Callable[[], object], repeat: int, target: float
) -> None:
    base: list[float] = []
    mine: list[float] = []
    for _ in range(repeat):
        base.append(timed(baseline))
        mine.append(timed(ours))
    b, o = statistics.median(base), statistics.median(mine)
    verdict = "OK" if o / b <= target else "ABOVE TARGET"
    print(
        f"{name}: baseline {b:.2f}s {[round(x, 2) for x in base]}, opsverify {o:.2f}s {[round(x, 2) for x in mine]}"
    )
    print(f"  ratio {o / b:.2f}x (target <= {target:.2f}x) {verdict}")


def peak_rss(endpoint: str, prefix: str, workdir: Path) -> float:
    """Peak RSS (MB) of `pytest -m daily` checking the newest object under `prefix`."""
    target = workdir / f"rss-{prefix.strip('/')}.yaml"
    target.write_text(
        f"""target: bench
backups:
  db:
    path: s3://{BUCKET}/{prefix}
    tiers: [daily]
    s3: {{endpoint_url: "{endpoint}", region: {REGION}, access_key_id: {KEY_ID}, secret_access_key: {SECRET}}}
"""
    )
    return pytest_peak_rss(target, "daily", workdir, cwd=workdir)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench s3", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=2_900_000, help="rows per big table (2.9M: ~250 MB .sql.gz)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mysql-mb", type=int, default=50, help="size of the generated mysqldump .sql.gz")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["integrity", "drill", "mysql-drill", "memory"]
    )
    args = parser.parse_args(argv)
    dumps = ensure_dumps(args.rows) if {"integrity", "drill", "memory"} - set(args.skip) else None
    with tempfile.TemporaryDirectory(prefix="opsverify-bench-s3-") as tmp:
        workdir = Path(tmp)
        moto, endpoint = start_moto(workdir)
        try:
            s3 = client(endpoint)
            s3.create_bucket(Bucket=BUCKET)
            if "mysql-drill" not in args.skip:
                compare_mysql_drill(endpoint, workdir, args.mysql_mb, max(1, args.repeat - 1))
            if dumps is None:
                return 0
            log(f"uploading {dumps.big_gz.name} ({dumps.big_gz.stat().st_size / 1e6:.0f} MB)")
            s3.upload_file(str(dumps.big_gz), BUCKET, "big/backup_1.sql.gz")
            if "integrity" not in args.skip:

                def ours_integrity() -> None:
                    facts = backup_probe(entry(endpoint, "big/"), ProbeContext("bench", workdir))
                    inspection = facts.inspection
                    if facts.error or inspection is None or inspection.defects or not inspection.trailer:
                        raise RuntimeError(f"the object did not pass: {facts.error or inspection}")

                compare(
                    "integrity of the .sql.gz object",
                    lambda: boto3_into(endpoint, "big/backup_1.sql.gz", ["gzip", "-t"]),
                    ours_integrity,
                    args.repeat,
                    1.15,
                )
            if "drill" not in args.skip:
                compare_drill(endpoint, workdir, max(1, args.repeat - 1))
            if "memory" not in args.skip:
                small = workdir / "small.sql.gz"
                small.write_bytes(dumps.small_gz.read_bytes())
                s3.upload_file(str(small), BUCKET, "small/backup_1.sql.gz")
                large = workdir / "large.sql.gz"
                with large.open("wb") as out:  # gzip members concatenated: one valid ~430 MB stream
                    for part in (dumps.big_gz, dumps.small_gz, dumps.small_gz, dumps.small_gz):
                        out.write(part.read_bytes())
                s3.upload_file(str(large), BUCKET, "large/backup_1.sql.gz")
                large.unlink()
                small_rss = peak_rss(endpoint, "small/", workdir)
                large_rss = peak_rss(endpoint, "large/", workdir)
                sizes = (
                    dumps.small_gz.stat().st_size / 1e6,
                    (dumps.big_gz.stat().st_size + 3 * dumps.small_gz.stat().st_size) / 1e6,
                )
                print(
                    f"peak RSS of `pytest -m daily`: {sizes[0]:.0f} MB object {small_rss:.1f} MB, {sizes[1]:.0f} MB object {large_rss:.1f} MB"
                )
                ok = large_rss < 150 and large_rss / small_rss < 1.15
                print(
                    f"  growth {large_rss / small_rss:.2f}x (target < 150 MB, flat) {'OK' if ok else 'ABOVE TARGET'}"
                )
        finally:
            moto.terminate()
            moto.wait(30)
    return 0


def compare_drill(endpoint: str, workdir: Path, repeat: int) -> None:
    """The whole drill from the bucket (the object streamed into psql with the integrity read, url sandbox,
    verify, teardown) against `download | gunzip | psql` into a fresh database."""
    from opsverify.config.target import load_target

    target_path = workdir / "drill.yaml"
    target_path.write_text(
        f"""target: bench
backups:
  db:
    path: s3://{BUCKET}/big/
    checksum: off
    s3: {{endpoint_url: "{endpoint}", region: {REGION}, access_key_id: {KEY_ID}, secret_access_key: {SECRET}}}
    restore:
      sandbox: url
      sandbox_url: {ADMIN_URL}
      expect: {{tables: [bookings, events, invoices], min_rows: {{bookings: 1}}}}
"""
    )
    target = load_target(str(target_path))
    drill_entry = target.model.backups["db"]  # type: ignore[attr-defined]
    os.environ["OPSVERIFY_REPORTS_DIR"] = str(workdir / "reports")

    def baseline() -> None:
        name = f"opsverify_bench_s3_{secrets.token_hex(3)}"
        url = create_database(name)
        try:
            gunzip = subprocess.Popen(["gunzip", "-c"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            psql = subprocess.Popen(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url],
                stdin=gunzip.stdout,
                stdout=subprocess.DEVNULL,
            )
            assert gunzip.stdin is not None
            assert gunzip.stdout is not None
            gunzip.stdout.close()
            body = client(endpoint).get_object(Bucket=BUCKET, Key="big/backup_1.sql.gz")["Body"]
            for chunk in body.iter_chunks(CHUNK):
                gunzip.stdin.write(chunk)
            gunzip.stdin.close()
            if gunzip.wait() != 0 or psql.wait() != 0:
                raise RuntimeError("download | gunzip | psql failed")
        finally:
            drop_database(name)

    def ours() -> None:
        facts = drill_probe(drill_entry, ProbeContext("bench", workdir, target=target, entry_name="db"))
        if not facts.verified or facts.error:
            raise RuntimeError(f"the drill did not pass: {facts.error} {facts.steps}")

    compare("drill from the bucket", baseline, ours, repeat, 1.15)


def compare_mysql_drill(endpoint: str, workdir: Path, megabytes: int, repeat: int) -> None:
    """The drill of a mysqldump object (streamed from the GET into `mariadb` with the integrity read, url
    sandbox on the local MariaDB, verify, drop) against boto3 streaming it into `gunzip -c | mariadb`."""
    from bench.mysql import ADMIN_URL as MYSQL_ADMIN_URL
    from bench.mysql import admin_sql, ensure_dump
    from opsverify.config.target import load_target
    from opsverify.kinds.mysql.probe import endpoint as mysql_endpoint

    path, rows = ensure_dump(megabytes)
    log(f"uploading {path.name} ({path.stat().st_size / 1e6:.0f} MB, {rows} rows)")
    client(endpoint).upload_file(str(path), BUCKET, "mysql/backup_1.sql.gz")
    target_path = workdir / "mysql-drill.yaml"
    target_path.write_text(
        f"""target: bench
backups:
  db:
    path: s3://{BUCKET}/mysql/
    checksum: off
    s3: {{endpoint_url: "{endpoint}", region: {REGION}, access_key_id: {KEY_ID}, secret_access_key: {SECRET}}}
    restore:
      sandbox: url
      sandbox_url: "{MYSQL_ADMIN_URL}"
      expect: {{tables: [events], min_rows: {{events: {rows}}}}}
"""
    )
    target = load_target(str(target_path))
    drill_entry = target.model.backups["db"]  # type: ignore[attr-defined]
    os.environ["OPSVERIFY_REPORTS_DIR"] = str(workdir / "reports")
    server = mysql_endpoint(MYSQL_ADMIN_URL)

    def baseline() -> None:
        name = f"opsverify_bench_s3_{secrets.token_hex(3)}"
        admin_sql(f"create database `{name}`")
        try:
            gunzip = subprocess.Popen(["gunzip", "-c"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            mariadb = subprocess.Popen(
                ["mariadb", f"--host={server.host}", f"--port={server.port}", f"--user={server.user}", name],
                stdin=gunzip.stdout,
                stdout=subprocess.DEVNULL,
                env={**os.environ, "MYSQL_PWD": server.password},
            )
            assert gunzip.stdin is not None
            assert gunzip.stdout is not None
            gunzip.stdout.close()
            body = client(endpoint).get_object(Bucket=BUCKET, Key="mysql/backup_1.sql.gz")["Body"]
            for chunk in body.iter_chunks(CHUNK):
                gunzip.stdin.write(chunk)
            gunzip.stdin.close()
            if gunzip.wait() != 0 or mariadb.wait() != 0:
                raise RuntimeError("download | gunzip | mariadb failed")
        finally:
            admin_sql(f"drop database if exists `{name}`")

    def ours() -> None:
        facts = drill_probe(drill_entry, ProbeContext("bench", workdir, target=target, entry_name="db"))
        if not facts.verified or facts.error or facts.steps[0].name != "stream":
            raise RuntimeError(f"the drill did not pass (streamed): {facts.error} {facts.steps}")

    compare("MySQL drill from the bucket", baseline, ours, repeat, 1.15)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
