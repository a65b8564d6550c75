"""MySQL/MariaDB backups, against named baselines in the same run, on a generated mysqldump `.sql.gz`.

1. integrity: `inspect_backup` (sha256 on a second thread + full inflate + header/trailer/CREATE TABLE/INSERT
   scan, one read) vs `gzip -t` on the same file. Target: <= 1.05x.
2. drill: the whole `restore` probe (find, integrity, url sandbox, streamed restore through `mariadb`,
   verify, drop) vs a raw `gunzip -c FILE | mariadb DB` into a fresh database. Target: <= 1.2x.

The dump is a real mariadb-dump header and trailer around generated extended INSERTs (`--mb`: the size of
the .sql.gz; 200 MB by default, about 1 GB of SQL), cached in $OPSVERIFY_BENCH_DIR. Set
OPSVERIFY_BENCH_MYSQL_URL for a server other than the local one (mysql://root@127.0.0.1:3306/).
"""

from __future__ import annotations

import argparse
import gzip as gzip_module
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from opsverify.backups.files import stat_backup
from opsverify.backups.integrity import inspect_backup
from opsverify.config.target import load_target
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.mysql.probe import endpoint
from opsverify.kinds.restore.probe import probe

ADMIN_URL = os.environ.get("OPSVERIFY_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/")
CACHE = Path(os.environ.get("OPSVERIFY_BENCH_DIR", "/tmp/opsverify-bench"))
ROWS_PER_INSERT = 1000
HEADER = """/*M!999999\\- enable the sandbox mode */
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: 127.0.0.1    Database: shop
-- ------------------------------------------------------
-- Server version\t10.11.19-MariaDB-0+deb12u1

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;

DROP TABLE IF EXISTS `events`;
CREATE TABLE `events` (
  `id` bigint(20) NOT NULL,
  `order_id` int(11) NOT NULL,
  `kind` varchar(20) NOT NULL,
  `payload` varchar(255) NOT NULL,
  `created_at` datetime NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

LOCK TABLES `events` WRITE;
/*!40000 ALTER TABLE `events` DISABLE KEYS */;
"""
TRAILER = """/*!40000 ALTER TABLE `events` ENABLE KEYS */;
UNLOCK TABLES;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;

-- Dump completed on 2026-12-01  2:00:01
"""


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)


def ensure_dump(megabytes: int) -> tuple[Path, int]:
    """The cached generated dump of about `megabytes` MB gzipped, and its row count."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"mysql_shop_{megabytes}mb.sql.gz"
    rows_file = path.with_suffix(".rows")
    if path.exists() and rows_file.exists():
        return path, int(rows_file.read_text())
    log(f"generating {path.name} ...")
    generator = random.Random(13)
    kinds = ("created", "paid", "shipped", "delivered", "refunded")
    rows = 0
    partial = path.with_suffix(".tmp")
    with gzip_module.open(partial, "wb", compresslevel=6) as out:
        out.write(HEADER.encode())
        while partial.stat().st_size < megabytes * 1_000_000:
            values = []
            for _ in range(ROWS_PER_INSERT):
                rows += 1
                trace = f"{generator.getrandbits(64):016x}{generator.getrandbits(32):08x}"
                values.append(
                    f"({rows},{generator.randrange(1, 200000)},'{kinds[rows % 5]}','{{\\\"by\\\":\\\"user"
                    f'{rows % 300}\\",\\"trace\\":\\"{trace}\\"}}\',\'2026-11-{1 + rows % 28:02d} '
                    f"{rows % 24:02d}:{rows % 60:02d}:{rows % 59:02d}')"
                )
            out.write(f"INSERT INTO `events` VALUES {','.join(values)};\n".encode())
        out.write(TRAILER.encode())
    partial.rename(path)
    rows_file.write_text(str(rows))
    return path, rows


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def admin_sql(statement: str) -> None:
    target = endpoint(ADMIN_URL)
    with target.connect(10, read_timeout=600) as connection, connection.cursor() as cursor:
        cursor.execute(statement)


def raw_restore(path: Path) -> float:
    """`gunzip -c FILE | mariadb DB` into a fresh database (created and dropped around the timing)."""
    target = endpoint(ADMIN_URL)
    name = f"opsverify_bench_{os.getpid()}"
    admin_sql(f"create database `{name}`")
    try:
        env = {**os.environ, "MYSQL_PWD": target.password}
        command = f"gunzip -c '{path}' | mariadb --host={target.host} --port={target.port} --user={target.user} {name}"
        started = time.perf_counter()
        subprocess.run(["/bin/sh", "-c", command], env=env, check=True)
        return time.perf_counter() - started
    finally:
        admin_sql(f"drop database if exists `{name}`")


def drill(path: Path, rows: int, workdir: Path) -> float:
    """The whole drill probe of a target file pointing at the dump's folder."""
    document = {
        "target": "bench",
        "backups": {
            "db": {
                "path": str(path.parent),
                "pattern": path.name,
                "settle": 0,
                "checksum": "off",
                "restore": {
                    "sandbox": "url",
                    "sandbox_url": ADMIN_URL,
                    "expect": {"tables": ["events"], "min_rows": {"events": rows}},
                },
            }
        },
    }
    target_path = workdir / "bench.yaml"
    target_path.write_text(yaml.safe_dump(document))
    target = load_target(str(target_path))
    entry = target.model.backups["db"]  # type: ignore[attr-defined]
    context = ProbeContext(target.name, target.base_dir, target=target, entry_name="db")
    started = time.perf_counter()
    facts = probe(entry, context)
    seconds = time.perf_counter() - started
    if facts.error or not facts.verified or facts.verification.row_counts.get("events") != rows:
        raise RuntimeError(f"the benchmark drill did not pass: {facts.error} {facts.verification}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench mysql", description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the generated .sql.gz in MB")
    parser.add_argument(
        "--repeat", type=int, default=3, help="integrity runs (the drill runs once per repeat/3)"
    )
    parser.add_argument("--drill-repeat", type=int, default=1)
    args = parser.parse_args(argv)
    path, rows = ensure_dump(args.mb)
    backup = stat_backup(path)
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # page cache warm for both
    inspection = inspect_backup(backup)
    print(
        f"file {path.name}: {backup.size / 1e6:.0f} MB gzip, {(inspection.inflated_bytes or 0) / 1e6:.0f} MB SQL, "
        f"{rows} rows, format {inspection.format}, defects {inspection.defects or 'none'}"
    )
    times: dict[str, list[float]] = {"gzip -t": [], "opsverify integrity": []}
    for _ in range(args.repeat):
        times["gzip -t"].append(timed(lambda: subprocess.run(["gzip", "-t", str(path)], check=True)))
        times["opsverify integrity"].append(timed(lambda: inspect_backup(backup)))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"  {name:<24} median {value:6.2f}s  runs {', '.join(f'{v:.2f}' for v in times[name])}")
    ratio = medians["opsverify integrity"] / medians["gzip -t"]
    print(
        f"  ratio opsverify / gzip -t: {ratio:.2f}x (target <= 1.05x) {'OK' if ratio <= 1.05 else 'ABOVE TARGET'}"
    )
    raw, ours = [], []
    with tempfile.TemporaryDirectory(prefix="opsverify-bench-") as workdir:
        for _ in range(args.drill_repeat):
            raw.append(raw_restore(path))
            ours.append(drill(path, rows, Path(workdir)))
    best_raw, best_ours = min(raw), min(ours)
    print(f"  {'gunzip -c | mariadb':<24} best {best_raw:6.2f}s  runs {', '.join(f'{v:.2f}' for v in raw)}")
    print(f"  {'opsverify drill':<24} best {best_ours:6.2f}s  runs {', '.join(f'{v:.2f}' for v in ours)}")
    drill_ratio = best_ours / best_raw
    verdict = "OK" if drill_ratio <= 1.2 else "ABOVE TARGET"
    print(
        f"  ratio drill / raw restore: {drill_ratio:.2f}x (target <= 1.2x, verify and teardown included) {verdict}"
    )
    return 0
