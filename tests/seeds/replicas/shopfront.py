"""Shopfront: a docker-compose web shop on MariaDB (the MySQL seed system). The app answers /health from
its database; `backup.sh`, run by cron at 02:00, writes `mariadb-dump --single-transaction shop | gzip`
to backups/shop_YYYYMMDD_HHMMSS.sql.gz (through a .tmp name) and keeps 7 days.

The database lives on the test MariaDB behind a TCP proxy (so "server down" refuses connections without
touching the real server); the app user has a password, which is a secret of the target file."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from opsverify.kinds.mysql.probe import endpoint
from tests.backups.mysqldumps import dump_tool
from tests.mysql_server import admin
from tests.seeds.replicas.base import Replica
from tests.seeds.replicas.database import age
from tests.seeds.replicas.tcp_proxy import TcpProxy
from tests.seeds.replicas.web import ReplicaServer, Reply, Request, json_reply

REVISION = "20260115_add_coupons"
SCHEMA = [
    "create table schema_migrations (version varchar(64) primary key)",
    "create table products (id int primary key, name varchar(100) not null, price decimal(10,2) not null)",
    "create table orders (id int auto_increment primary key, status varchar(20) not null,"
    " total decimal(10,2) not null, created_at timestamp not null default current_timestamp)",
]
# The cron job of the example (examples/seeds/shopfront.yaml quotes it): `0 2 * * * /opt/shop/backup.sh`.
BACKUP_SCRIPT = """#!/bin/sh
set -eu
stamp=$(date -u +%Y%m%d_%H%M%S)
out="$BACKUP_DIR/shop_$stamp.sql.gz"
MYSQL_PWD="$DB_PASSWORD" "$DUMP" --host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" \\
  --single-transaction ${DUMP_OPTS:-} "$DB_NAME" | gzip > "$out.tmp"
mv "$out.tmp" "$out"
find "$BACKUP_DIR" -name 'shop_*.sql.gz' -mtime +7 -delete
"""


class Shopfront(Replica):
    name = "shopfront"
    backup_states = frozenset({"stale_backup", "truncated_backup", "schema_only_backup", "wrong_database"})

    def __init__(self, root: Path, admin_url: str) -> None:
        super().__init__(root)
        self.admin_url = admin_url
        server = endpoint(admin_url)
        suffix = secrets.token_hex(3)
        self.database, self.other, self.user = f"seed_shop_{suffix}", f"seed_blog_{suffix}", f"shop_{suffix}"
        self.password = f"shop-pw-{secrets.token_hex(8)}"
        self._create()
        self.on_stop(self._drop)
        self.proxy = TcpProxy((server.host, server.port))
        self.on_stop(self.proxy.down)
        self.backup_dir = root / "shop/backups"
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        self.script = root / "shop/backup.sh"
        self.last_backup_end = 0.0  # time.time() when backup.sh last finished
        self.script.write_text(BACKUP_SCRIPT)
        self.script.chmod(0o755)
        self.web = ReplicaServer({"/health": self.health})
        self.on_stop(self.web.stop)
        self.env = {
            "SHOP_URL": self.web.url,
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.proxy.port),
            "DB_NAME": self.database,
            "DB_USER": self.user,
            "DB_PASSWORD": self.password,
            "BACKUP_DIR": str(self.backup_dir),
            "DRILL_ADMIN_URL": admin_url,
        }
        self.healthy()

    def _create(self) -> None:
        with admin(self.admin_url) as conn, conn.cursor() as cursor:
            for name in (self.database, self.other):
                cursor.execute(f"create database `{name}`")
            cursor.execute(f"create user '{self.user}'@'%%' identified by %s", (self.password,))
            cursor.execute(f"grant all on `{self.database}`.* to '{self.user}'@'%'")
            cursor.execute(f"grant all on `{self.other}`.* to '{self.user}'@'%'")
            cursor.execute(f"grant process on *.* to '{self.user}'@'%'")
            cursor.execute(f"create table `{self.other}`.posts (id int primary key, title text)")
            cursor.execute(f"insert into `{self.other}`.posts values (1, 'hello')")
        with admin(self.admin_url, self.database) as conn, conn.cursor() as cursor:
            for statement in SCHEMA:
                cursor.execute(statement)
            cursor.execute("insert into schema_migrations values (%s)", (REVISION,))
            cursor.executemany(
                "insert into products values (%s, %s, %s)", [(n, f"product {n}", 5 + n) for n in range(1, 51)]
            )

    def _drop(self) -> None:
        with admin(self.admin_url) as conn, conn.cursor() as cursor:
            for name in (self.database, self.other):
                cursor.execute(f"drop database if exists `{name}`")
            cursor.execute(f"drop user if exists '{self.user}'@'%'")

    def health(self, _request: Request) -> Reply:
        """The app's health endpoint: 200 when its database answers, 503 when it does not."""
        if not self.proxy.is_up:
            return json_reply({"status": "unhealthy", "database": "unreachable"}, 503)
        return json_reply({"status": "ok", "database": "ok"})

    def reset(self) -> None:
        self.proxy.up()
        with admin(self.admin_url, self.database) as conn, conn.cursor() as cursor:
            cursor.execute("delete from orders")
            cursor.executemany(
                "insert into orders (status, total) values (%s, %s)",
                [("paid" if n % 10 else "pending", 20 + n) for n in range(300)],
            )

    def run_backup(self, hours_ago: float = 0.0, **env: str) -> Path:
        """Run backup.sh as cron does; the new file gets an mtime `hours_ago` in the past."""
        # the file is named after the second the script started in: each run starts in a later second
        # than the previous run ended in (a wait of 0-1 s, not a fixed second after each run)
        time.sleep(max(0.0, int(self.last_backup_end) + 1.01 - time.time()))
        before = set(self.backup_dir.glob("shop_*.sql.gz"))
        variables = {**os.environ, **self.env, "DUMP": dump_tool(), **env}
        subprocess.run(
            ["/bin/sh", str(self.script)], env=variables, check=True, timeout=120, capture_output=True
        )
        self.last_backup_end = time.time()
        (new,) = set(self.backup_dir.glob("shop_*.sql.gz")) - before
        age(new, hours_ago)
        return new

    def reset_backups(self) -> None:
        for old in self.backup_dir.iterdir():
            old.unlink()
        for day in (3, 2, 1):
            newest = self.run_backup(hours_ago=day * 24 - 20)
        self.newest = newest

    def failure_states(self) -> dict[str, Callable[[], None]]:
        return {
            "stale_backup": self.stale_backup,
            "truncated_backup": self.truncated_backup,
            "schema_only_backup": self.schema_only_backup,
            "wrong_database": self.wrong_database,
            "server_down": self.proxy.down,
        }

    def stale_backup(self) -> None:
        """cron stopped two days ago: the newest dump is 44 h old."""
        for index, path in enumerate(sorted(self.backup_dir.glob("shop_*.sql.gz"), reverse=True)):
            age(path, 44 + 24 * index)

    def truncated_backup(self) -> None:
        """The disk filled up during last night's dump: the file was cut short (and still renamed)."""
        data = self.newest.read_bytes()
        self.newest.write_bytes(data[: len(data) // 2])
        age(self.newest, 4)

    def schema_only_backup(self) -> None:
        """Someone added --no-data to DUMP_OPTS while debugging."""
        self.run_backup(hours_ago=1, DUMP_OPTS="--no-data")

    def wrong_database(self) -> None:
        """DB_NAME in the cron environment points at the blog's database."""
        self.run_backup(hours_ago=1, DB_NAME=self.other)
