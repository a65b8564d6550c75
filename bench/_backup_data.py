"""A generated database dumped by the real pg_dump, shared by the backup benchmarks (cached between runs).

Four tables of similar size (clients is small) so a parallel restore has work to share. `rows` is the row
count of each big table: 2.9M rows give a ~250 MB .sql.gz (about 1 GB of SQL). The generating database is
dropped once dumped. Set OPSVERIFY_BENCH_PG_URL for a server other than the local one.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ADMIN_URL = os.environ.get("OPSVERIFY_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CACHE = Path(os.environ.get("OPSVERIFY_BENCH_DIR", "/tmp/opsverify-bench"))

SCHEMA = """
create table clients (id serial primary key, name text not null, email text not null, created_at timestamptz not null);
create table bookings (id bigserial primary key, client_id int not null, starts_at timestamptz not null,
  status text not null, price numeric(10,2) not null, note text, created_at timestamptz not null);
create table events (id bigserial primary key, booking_id bigint not null, kind text not null, payload text not null,
  created_at timestamptz not null);
create table invoices (id bigserial primary key, booking_id bigint not null, amount numeric(10,2) not null,
  paid boolean not null, memo text, created_at timestamptz not null);
"""
FILL = """
insert into clients (name, email, created_at)
  select 'Client ' || g, 'client' || g || '@example.com', now() - (g % 5000 || ' minutes')::interval
  from generate_series({start}, {stop}) g where g % 20 = 0;
insert into bookings (client_id, starts_at, status, price, note, created_at)
  select 1 + g % 1000, now() + (g % 9000 || ' minutes')::interval,
         (array['pending','confirmed','done','cancelled'])[1 + g % 4], 20 + (g % 400) * 0.75,
         'window cleaning, ' || (g % 7) || ' rooms, key ' || substr(md5(g::text), 1, 12),
         now() - (g % 100000 || ' seconds')::interval
  from generate_series({start}, {stop}) g;
insert into events (booking_id, kind, payload, created_at)
  select g, (array['created','assigned','started','finished','paid'])[1 + g % 5],
         '{{"by":"user' || (g % 300) || '","ip":"10.0.' || (g % 250) || '.' || (g % 200) || '","trace":"'
           || md5(random()::text) || '"}}',
         now() - (g % 200000 || ' seconds')::interval
  from generate_series({start}, {stop}) g;
insert into invoices (booking_id, amount, paid, memo, created_at)
  select g, 20 + (g % 400) * 0.75, g % 3 = 0, 'INV-' || lpad(g::text, 9, '0') || ' ' || substr(md5(random()::text), 1, 16),
         now() - (g % 300000 || ' seconds')::interval
  from generate_series({start}, {stop}) g;
"""
INDEXES = """
create index on bookings (client_id); create index on events (booking_id); create index on invoices (booking_id);
create index on bookings (created_at);
"""


def url_for(database: str) -> str:
    params = dict(conninfo_to_dict(ADMIN_URL))
    params["dbname"] = database
    return make_conninfo("", **params)


def create_database(name: str) -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url_for(name)


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class BenchDumps:
    small_gz: Path  # a quarter of the rows
    big_gz: Path
    big_custom: Path


def ensure_dumps(rows: int) -> BenchDumps:
    """Dumps of a database with `rows` (big) and `rows / 4` (small) rows per table, generated once."""
    folder = CACHE / f"rows-{rows}"
    folder.mkdir(parents=True, exist_ok=True)
    dumps = BenchDumps(
        folder / "backup_small.sql.gz", folder / "backup_20260101_020000.sql.gz", folder / "backup_big.dump"
    )
    if all(p.exists() for p in (dumps.small_gz, dumps.big_gz, dumps.big_custom)):
        return dumps
    name = f"opsverify_bench_source_{rows}"
    drop_database(name)
    url = create_database(name)
    try:
        quarter = rows // 4
        log(f"generating {quarter} rows per table")
        fill(url, 1, quarter, schema=True)
        dump_gz(url, dumps.small_gz)
        log(f"generating {rows - quarter} more rows per table")
        fill(url, quarter + 1, rows)
        dump_gz(url, dumps.big_gz)
        log("pg_dump --format=custom")
        subprocess.run(
            ["pg_dump", "--format=custom", f"--file={dumps.big_custom}", f"--dbname={url}"], check=True
        )
    finally:
        drop_database(name)
    return dumps


def fill(url: str, start: int, stop: int, schema: bool = False) -> None:
    step = 500_000
    with psycopg.connect(url, autocommit=True) as connection:
        if schema:
            connection.execute(SCHEMA)
        for low in range(start, stop + 1, step):
            connection.execute(FILL.format(start=low, stop=min(stop, low + step - 1)))  # type: ignore[arg-type]
        if schema:
            connection.execute(INDEXES)
        connection.execute("vacuum analyze")


def dump_gz(url: str, target: Path) -> None:
    log(f"pg_dump | gzip -6 > {target.name}")
    with target.open("wb") as output:
        dump = subprocess.Popen(["pg_dump", f"--dbname={url}"], stdout=subprocess.PIPE)
        assert dump.stdout is not None
        packed = subprocess.run(["gzip", "-6"], stdin=dump.stdout, stdout=output, check=True)
        dump.stdout.close()
        if dump.wait() != 0 or packed.returncode != 0:
            raise RuntimeError("pg_dump | gzip failed")
    log(f"{target.name}: {target.stat().st_size / 1e6:.0f} MB")


def warm(path: Path) -> None:
    """Read the file once so every timed run starts from the page cache alike."""
    with path.open("rb") as handle:
        while handle.read(1 << 22):
            pass


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)
