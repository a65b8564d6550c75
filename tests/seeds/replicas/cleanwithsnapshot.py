"""CleanWithSnapshot (guide 001): API (/healthz, admin DLQ, /metrics behind a bearer token), web, the
`cleaning` PostgreSQL database behind a stoppable proxy, Redis, JSON API logs, the db's slow-query log,
pg_dump + gzip backups in /opt/backups/postgres and tar.gz upload backups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import psycopg

from tests.backups.s3.motoserver import MotoS3
from tests.docker_engine import DockerEngine
from tests.seeds.replicas.base import Replica
from tests.seeds.replicas.bucket import ReplicaBucket
from tests.seeds.replicas.containers import ComposeStack, unique_project
from tests.seeds.replicas.database import PostgresDatabase, corrupt, tar_backup, with_database
from tests.seeds.replicas.tcp_proxy import TcpProxy
from tests.seeds.replicas.telemetry import LogFile, Traffic, http_exposition, iso, utc
from tests.seeds.replicas.web import ReplicaServer, Reply, Request, json_reply

EXPECTED_REVISION = "0086"
ADMIN = ("admin", "replica-admin-password")
METRICS_TOKEN = "replica-metrics-token"

SCHEMA = """
create table alembic_version (version_num varchar(32) primary key);
create table clients (id serial primary key, org_id text not null, name text not null);
create table bookings (
  id serial primary key, org_id text not null, client_id int references clients(id),
  status text not null default 'confirmed', starts_at timestamptz not null,
  created_at timestamptz not null default now());
create table admin_audit_logs (
  id serial primary key, org_id text not null, created_at timestamptz not null default now(),
  admin_role text not null, action text not null, resource_type text not null, resource_id text,
  metadata jsonb not null default '{}');
create table outbox_events (id serial primary key, kind text not null, status text not null,
  created_at timestamptz not null default now());
create table export_jobs (id serial primary key, kind text not null, status text not null,
  created_at timestamptz not null default now());
create table notifications_digest_settings (org_id text, digest_key text, enabled boolean,
  schedule text, recipients text[], primary key (org_id, digest_key));
create table notifications_digest_state (org_id text, digest_key text, period_key text,
  sent_at timestamptz, primary key (org_id, digest_key, period_key));
insert into clients (org_id, name) select 'org-789', 'client ' || n from generate_series(1, 20) n;
insert into bookings (org_id, client_id, starts_at, created_at)
  select 'org-789', 1 + n % 20, now() + n * interval '1 hour', now() - n * interval '10 minutes'
  from generate_series(1, 120) n;
insert into admin_audit_logs (org_id, admin_role, action, resource_type, resource_id, metadata)
  values ('org-789', 'admin', 'booking.create', 'booking', 'def-456', '{"client_id": "abc-123"}');
insert into notifications_digest_settings values ('org-789', 'daily', true, 'daily', '{ops@example.com}');
"""


def pg_time(moment: dt.datetime) -> str:
    """PostgreSQL's log_line_prefix time (%m): `2026-01-15 12:00:00.123`."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class CleanWithSnapshot(Replica):
    name = "cleanwithsnapshot"
    backup_states = frozenset({"stale_backup", "broken_backup"})

    def __init__(
        self, root: Path, admin_pg_url: str, redis_url: str, engine: DockerEngine, s3: MotoS3
    ) -> None:
        super().__init__(root)
        # docker compose: api, web, db, redis with their healthchecks (/healthz, pg_isready, redis-cli ping)
        self.stack = ComposeStack(engine, unique_project("cleaning"), ["api", "web", "db", "redis"],
                                  healthchecked=["api", "web", "db", "redis"])  # fmt: skip
        self.on_stop(self.stack.down)
        self.db = PostgresDatabase(admin_pg_url, "seed_cleaning", SCHEMA)
        self.on_stop(self.db.drop)
        self.proxy = TcpProxy(("127.0.0.1", 5432))
        self.on_stop(self.proxy.down)
        self.app_db_url = with_database(admin_pg_url, self.db.name, port=self.proxy.port)
        self.traffic = Traffic()
        self.api = ReplicaServer(
            {
                "/healthz": self._healthz,
                "/v1/admin/queue/dlq": self._dlq,
                "/metrics": self._metrics,
            }
        )
        self.on_stop(self.api.stop)
        self.web = ReplicaServer({"/": self._web_root, "/healthz": lambda _: json_reply({"status": "ok"})})
        self.on_stop(self.web.stop)
        self.backup_dir = root / "opt/backups/postgres"
        self.uploads = root / "opt/cleaning/var/uploads"
        self.uploads_backup_dir = root / "opt/cleaning"
        self.bucket = ReplicaBucket(s3, "cleaning-uploads")  # aws s3 sync .../uploads/ s3://.../uploads/
        self.on_stop(self.bucket.stop)
        self.api_log = LogFile(root / "logs/api.log")
        self.db_log = LogFile(root / "logs/db.log")
        self.env = {
            "API_URL": self.api.url,
            "WEB_URL": self.web.url,
            "ADMIN_BASIC_USERNAME": ADMIN[0],
            "ADMIN_BASIC_PASSWORD": ADMIN[1],
            "METRICS_TOKEN": METRICS_TOKEN,
            "DATABASE_URL": self.app_db_url,
            "REDIS_URL": redis_url,
            "EXPECTED_REVISION": EXPECTED_REVISION,
            "BACKUP_DIR": str(self.backup_dir),
            "UPLOADS_BACKUP_DIR": str(self.uploads_backup_dir),
            "UPLOADS_BUCKET": self.bucket.name,
            **self.bucket.env,
            "API_LOG_PATH": str(self.api_log.path),
            "DB_LOG_PATH": str(self.db_log.path),
            "DRILL_ADMIN_URL": admin_pg_url,
            "COMPOSE_PROJECT": self.stack.project,
            "DOCKER_HOST": engine.base_url,
        }
        self.healthy()

    # --- the HTTP endpoints the guide documents ---------------------------------------------------

    def _query(self, sql: str) -> list[tuple[object, ...]]:
        with psycopg.connect(self.app_db_url, connect_timeout=2, autocommit=True) as conn:
            return conn.execute(sql.encode()).fetchall()

    def _healthz(self, request: Request) -> Reply:
        try:
            revisions = [row[0] for row in self._query("select version_num from alembic_version")]
        except psycopg.Error:
            return json_reply(
                {
                    "status": "unhealthy",
                    "db_connected": False,
                    "migrations_current": False,
                    "current_revision": None,
                    "expected_revision": EXPECTED_REVISION,
                    "error": "Database connection failed",
                },
                503,
            )
        current = ",".join(sorted(str(r) for r in revisions))
        ok = current == EXPECTED_REVISION
        body = {
            "status": "ready" if ok else "unhealthy",
            "db_connected": True,
            "migrations_current": ok,
            "current_revision": current,
            "expected_revision": EXPECTED_REVISION,
        }
        return json_reply(body, 200 if ok else 503)

    def _dlq(self, request: Request) -> Reply:
        if request.basic() != ADMIN:
            return Reply(401, b"Unauthorized", headers={"WWW-Authenticate": 'Basic realm="admin"'})
        try:
            (outbox,), (export,) = (
                self._query("select count(*) from outbox_events where status = 'dead'")[0],
                self._query("select count(*) from export_jobs where status = 'dead'")[0],
            )
        except psycopg.Error:
            return json_reply({"detail": "Database connection failed"}, 503)
        return json_reply({"outbox_dead_count": outbox, "export_dead_count": export})

    def _metrics(self, request: Request) -> Reply:
        if request.bearer() != METRICS_TOKEN:
            return Reply(401, b"Unauthorized")
        body = http_exposition(
            self.traffic,
            requests_metric="http_requests_total",
            duration_metric="http_request_duration_seconds",
            errors_metric="http_5xx_errors_total",
        )
        return Reply(200, body, "text/plain; version=0.0.4; charset=utf-8")

    def _web_root(self, request: Request) -> Reply:
        return Reply(200, b"<!doctype html><title>Panidobro</title><div id=__next></div>", "text/html")

    # --- state --------------------------------------------------------------------------------------

    def reset(self) -> None:
        self.stack.reset()
        self.proxy.up()
        self.traffic = Traffic()
        self.db.execute(
            f"delete from alembic_version; insert into alembic_version values ('{EXPECTED_REVISION}');"
            "delete from outbox_events; delete from export_jobs;"
            "insert into outbox_events (kind, status) values ('email', 'sent');"
        )
        self._write_logs(errors=0)
        self.db_log.reset()
        self.db_log.write_text(f"{pg_time(utc(60))} UTC [71] LOG:  checkpoint complete: wrote 12 buffers")

    def reset_backups(self) -> None:
        for old in self.backup_dir.glob("backup_*"):
            old.unlink()
        self.make_backup(hours_ago=6)
        self.make_backup(hours_ago=30)
        self.uploads.mkdir(parents=True, exist_ok=True)
        (self.uploads / "order-1.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * 2048)
        self.bucket.clear("uploads/")  # what `aws s3 sync /opt/cleaning/var/uploads/ s3://…/uploads/` left
        self.bucket.put("uploads/order-1.jpg", (self.uploads / "order-1.jpg").read_bytes(), age_hours=6)
        for old in self.uploads_backup_dir.glob("uploads_backup_*"):
            old.unlink()
        stamp = utc(6 * 60).strftime("%Y%m%d")
        tar_backup(self.uploads, self.uploads_backup_dir / f"uploads_backup_{stamp}.tar.gz", age_hours=6)

    def make_backup(self, hours_ago: float) -> Path:
        """ops/backup.sh: pg_dump the database, then gzip, named by the time it ran."""
        stamp = utc(hours_ago * 60).strftime("%Y%m%d_%H%M%S")
        return self.db.dump(self.backup_dir / f"backup_{stamp}.sql.gz", compress=True, age_hours=hours_ago)

    def _write_logs(self, errors: int) -> None:
        self.api_log.reset()
        for minute in range(0, 600, 30):
            self.api_log.write_json(
                {
                    "timestamp": iso(utc(minute)),
                    "level": "INFO",
                    "message": "request",
                    "request_id": f"req-{minute}",
                    "org_id": "org-789",
                    "method": "POST",
                    "path": "/v1/admin/ui/bookings/create",
                    "status_code": 200,
                    "latency_ms": 45,
                }
            )
        # yesterday's file, rotated and gzipped: an old error there is outside the 24 h window
        old = utc(60 * 30)
        self.api_log.write_rotated(
            [f'{{"timestamp": "{iso(old)}", "level": "ERROR", "message": "old failure", "request_id": "x"}}']
        )
        for n in range(errors):
            self.api_log.write_json(
                {
                    "timestamp": iso(utc(5 + n)),
                    "level": "ERROR",
                    "message": "request failed: psycopg.OperationalError: server closed the connection",
                    "request_id": f"err-{n}",
                    "org_id": "org-789",
                    "path": "/v1/admin/ui/bookings/create",
                    "status_code": 500,
                }
            )

    def failure_states(self) -> dict[str, Callable[[], None]]:
        return {
            "migrations_out_of_sync": self.migrations_out_of_sync,
            "database_down": self.proxy.down,
            "dlq_not_empty": self.dlq_not_empty,
            "high_error_rate": self.high_error_rate,
            "slow_queries": self.slow_queries,
            "multiple_migration_heads": self.multiple_migration_heads,
            "stale_backup": self.stale_backup,
            "broken_backup": self.broken_backup,
            "container_unhealthy": lambda: self.stack.unhealthy("api"),
            "container_down": lambda: self.stack.stop("redis"),
        }

    def migrations_out_of_sync(self) -> None:
        self.db.execute("update alembic_version set version_num = '0085'")

    def multiple_migration_heads(self) -> None:
        self.db.execute("insert into alembic_version values ('0086b')")

    def dlq_not_empty(self) -> None:
        self.db.execute(
            "insert into outbox_events (kind, status) values ('email', 'dead'), ('sms', 'dead');"
            "insert into export_jobs (kind, status) values ('gst', 'dead');"
        )

    def high_error_rate(self) -> None:
        self.traffic = Traffic(requests=2000, errors_5xx=120)
        self._write_logs(errors=3)
        # `docker compose logs api`: the same errors on the api container's output
        self.stack.output(
            "api", [line for line in self.api_log.path.read_text().splitlines() if "err-" in line]
        )

    def slow_queries(self) -> None:
        for n, ms in enumerate((1520.4, 3310.9, 12042.0)):
            self.db_log.write_text(
                f"{pg_time(utc(20 + n))} UTC [{90 + n}] LOG:  duration: {ms} ms  statement: "
                "SELECT * FROM bookings WHERE status = 'confirmed' ORDER BY starts_at"
            )

    def stale_backup(self) -> None:
        for backup in self.backup_dir.glob("backup_*"):
            backup.unlink()
        self.make_backup(hours_ago=80)

    def broken_backup(self) -> None:
        corrupt(max(self.backup_dir.glob("backup_*.sql.gz")))
