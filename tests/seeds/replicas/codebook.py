"""Construction Codebook (guide 003): the API over HTTPS (/health with per-dependency checks, /metrics),
the Supabase PostgreSQL behind a stoppable proxy, pg_dump backups, the weekly Pinecone JSON export and
JSON application logs. Pinecone and the LLM provider are flags: they are external services."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg

from tests.backups.s3.motoserver import MotoS3
from tests.seeds.replicas.base import Replica
from tests.seeds.replicas.bucket import ReplicaBucket
from tests.seeds.replicas.certs import CertificateAuthority
from tests.seeds.replicas.database import PostgresDatabase, age, corrupt, with_database
from tests.seeds.replicas.receivers import SMTP_PASSWORD, SMTP_USER, Receivers
from tests.seeds.replicas.tcp_proxy import TcpProxy
from tests.seeds.replicas.telemetry import LogFile, Traffic, http_exposition, iso, utc
from tests.seeds.replicas.web import ReplicaServer, Reply, Request, json_reply

VERSION = "1.2.3"

# Tables the guide names (jobs, llm_usage, codebook_items, codebook_versions) and what they hang off.
SCHEMA = """
create table clients (id uuid primary key default gen_random_uuid(), name text not null,
  monthly_token_quota bigint not null default 1000000);
create table codebooks (id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients(id) on delete cascade, name text not null,
  created_at timestamptz not null default now());
create table codebook_versions (id uuid primary key default gen_random_uuid(),
  codebook_id uuid not null references codebooks(id), is_active boolean not null default false,
  created_at timestamptz not null default now());
create table codebook_items (id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients(id), codebook_id uuid references codebooks(id),
  csi_division text, description text, created_at timestamptz not null default now());
create table jobs (id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients(id) on delete cascade, job_type text not null,
  status text not null default 'pending', started_at timestamptz, created_at timestamptz default now());
create index idx_jobs_status on jobs(status, started_at);
create table llm_usage (id bigserial primary key, client_id uuid not null references clients(id),
  model text not null, tokens bigint not null, created_at timestamptz not null default now());
insert into clients (name) values ('Acme Builders'), ('Northwind Construction');
insert into codebooks (client_id, name) select id, name || ' codebook' from clients;
insert into codebook_versions (codebook_id, is_active) select id, true from codebooks;
insert into codebook_items (client_id, codebook_id, csi_division, description, created_at)
  select c.client_id, c.id, '03 30 00', 'Cast-in-place concrete ' || n, now() - n * interval '7 minutes'
  from codebooks c, generate_series(1, 150) n;
"""

QUOTA_SHARE = """
select coalesce(max(used::float / quota), 0) from (
  select c.monthly_token_quota as quota, coalesce(sum(u.tokens), 0) as used
  from clients c left join llm_usage u on u.client_id = c.id and u.created_at >= date_trunc('month', now())
  group by c.id) per_client
"""


class Codebook(Replica):
    name = "codebook"
    backup_states = frozenset({"stale_backup", "broken_backup"})

    def __init__(self, root: Path, admin_pg_url: str, s3: MotoS3) -> None:
        super().__init__(root)
        self.db = PostgresDatabase(admin_pg_url, "seed_codebook", SCHEMA)
        self.on_stop(self.db.drop)
        self.proxy = TcpProxy(("127.0.0.1", 5432))
        self.on_stop(self.proxy.down)
        self.app_db_url = with_database(admin_pg_url, self.db.name, port=self.proxy.port)
        self.ca = CertificateAuthority(root / "tls")
        self.traffic = Traffic()
        self.llm = Traffic(requests=300, errors_5xx=3)
        self.pinecone_up = True
        self.llm_up = True
        self.api = ReplicaServer(
            {"/health": self._health, "/metrics": self._metrics}, tls=self.ca.issue(days_left=80)
        )
        self.on_stop(self.api.stop)
        self.backup_dir = root / "backups/database"
        self.pinecone_dir = root / "backups/pinecone"
        self.bucket = ReplicaBucket(s3, "codebook-backups")  # §4.1 weekly backups, §4.2 Pinecone
        self.on_stop(self.bucket.stop)
        self.app_log = LogFile(root / "logs/api.log")
        self.receivers = Receivers()
        self.on_stop(self.receivers.stop)
        self.env = {
            "API_URL": self.api.url,
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.api.port),
            "CA_BUNDLE": str(self.ca.ca_path),
            "DATABASE_URL": self.app_db_url,
            "BACKUP_DIR": str(self.backup_dir),
            "S3_BACKUP_BUCKET": self.bucket.name,
            **self.bucket.env,
            "APP_LOG_PATH": str(self.app_log.path),
            "DRILL_ADMIN_URL": admin_pg_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.receivers.smtp_port),
            "SMTP_STARTTLS": "false",
            "SMTP_USER": SMTP_USER,
            "SMTP_PASSWORD": SMTP_PASSWORD,
            "ONCALL_EMAIL": "oncall@codebook.test",
            "SLACK_WEBHOOK_URL": self.receivers.hook_url("slack"),
            "PAGER_WEBHOOK_URL": self.receivers.hook_url("pager"),
        }
        self.healthy()

    def _database_status(self) -> str:
        try:
            with psycopg.connect(self.app_db_url, connect_timeout=2) as conn:
                conn.execute("select 1")
        except psycopg.Error:
            return "unhealthy"
        return "healthy"

    def _health(self, request: Request) -> Reply:
        checks = {
            "database": self._database_status(),
            "pinecone": "healthy" if self.pinecone_up else "unhealthy",
            "llm_service": "healthy" if self.llm_up else "unhealthy",
        }
        ok = all(value == "healthy" for value in checks.values())
        body = {
            "status": "healthy" if ok else "degraded",
            "timestamp": iso(utc()),
            "version": VERSION,
            "checks": checks,
        }
        return json_reply(body, 200 if ok else 503)

    def _metrics(self, request: Request) -> Reply:
        body = http_exposition(
            self.traffic,
            requests_metric="http_requests_total",
            duration_metric="http_request_duration_seconds",
            gauges={"job_queue_depth": float(self._pending_jobs())},
        )
        body += http_exposition(
            self.llm, requests_metric="llm_api_requests_total", duration_metric="llm_api_duration_seconds"
        )
        return Reply(200, body, "text/plain; version=0.0.4; charset=utf-8")

    def _pending_jobs(self) -> int:
        try:
            return int(str(self.db.scalar("select count(*) from jobs where status = 'pending'")))
        except psycopg.Error:
            return 0

    def reset(self) -> None:
        self.proxy.up()
        self.pinecone_up = self.llm_up = True
        self.traffic = Traffic(requests=5000, errors_5xx=20, latency_s=0.2)
        self.llm = Traffic(requests=300, errors_5xx=3, latency_s=2.0)
        self.api.use_certificate(self.ca.issue(days_left=80))
        self.db.execute(
            "delete from jobs; delete from llm_usage;"
            "insert into jobs (client_id, job_type, status) select id, 'refactor', 'pending' from clients;"
            "insert into jobs (client_id, job_type, status, started_at)"
            "  select id, 'analysis', 'completed', now() - interval '1 hour' from clients;"
            "insert into llm_usage (client_id, model, tokens) select id, 'gpt-4o-mini', 120000 from clients;"
        )
        self.app_log.reset()
        for minute in range(0, 12 * 60, 15):
            self.app_log.write_json(
                {
                    "timestamp": iso(utc(minute), millis=True),
                    "level": "INFO",
                    "message": "Codebook created successfully",
                    "context": {"request_id": f"r-{minute}", "client_id": "c-1", "status_code": 201},
                }
            )

    def reset_backups(self) -> None:
        for old in [*self.backup_dir.glob("backup-*"), *self.pinecone_dir.glob("pinecone-backup-*")]:
            old.unlink()
        self.make_backup(hours_ago=30)
        self.make_backup(hours_ago=5)
        self.make_pinecone_backup(days_ago=3)
        self.make_weekly_s3_backups()

    def make_weekly_s3_backups(self) -> None:
        """ "Weekly manual backups (retained 90 days, stored in S3)": one a week, the oldest 85 days old."""
        self.bucket.clear("weekly/")
        dump = self.db.dump(self.root / "weekly.sql", compress=False, age_hours=0)
        body = dump.read_bytes()
        for week in range(13):
            days = 1 + 7 * week
            stamp = utc(days * 1440).strftime("%Y%m%d")
            self.bucket.put(f"weekly/backup-{stamp}.sql", body, age_hours=days * 24)

    def make_backup(self, hours_ago: float) -> Path:
        """`pg_dump ... > backup-$(date +%Y%m%d).sql` (plain SQL, not compressed)."""
        stamp = utc(hours_ago * 60).strftime("%Y%m%d")
        return self.db.dump(self.backup_dir / f"backup-{stamp}.sql", compress=False, age_hours=hours_ago)

    def make_pinecone_backup(self, days_ago: float) -> Path:
        """The weekly application-level export of the `codebooks` index (pinecone-backup-<ms>.json)."""
        self.pinecone_dir.mkdir(parents=True, exist_ok=True)
        moment = utc(days_ago * 1440)
        vectors = {
            f"item-{n}": {
                "id": f"item-{n}",
                "values": [0.01 * n, 0.5, -0.25],
                "metadata": {"csi": "03 30 00"},
            }
            for n in range(300)
        }
        path = self.pinecone_dir / f"pinecone-backup-{int(moment.timestamp() * 1000)}.json"
        path.write_text(json.dumps({"namespace": "", "vectors": vectors}))
        age(path, days_ago * 24)
        self.bucket.clear("pinecone-backup-")
        self.bucket.put(path.name, path.read_bytes(), age_hours=days_ago * 24)  # s3.putObject in the guide
        return path

    def failure_states(self) -> dict[str, Callable[[], None]]:
        return {
            "database_down": self.proxy.down,
            "pinecone_down": self.pinecone_down,
            "llm_api_errors": self.llm_api_errors,
            "high_error_rate": self.high_error_rate,
            "job_queue_backlog": self.job_queue_backlog,
            "token_quota_near": self.token_quota_near,
            "certificate_expiring": self.certificate_expiring,
            "stale_backup": self.stale_backup,
            "broken_backup": self.broken_backup,
        }

    def pinecone_down(self) -> None:
        self.pinecone_up = False

    def llm_api_errors(self) -> None:
        """The LLM provider fails: 500s on refactor/analysis, "LLM service unavailable" (guide §8)."""
        self.llm_up = False
        self.llm = Traffic(requests=300, errors_5xx=60, latency_s=2.0)
        for n in range(5):
            self.app_log.write_json(
                {
                    "timestamp": iso(utc(2 + n), millis=True),
                    "level": "ERROR",
                    "message": "LLM service unavailable: 503 from provider",
                    "context": {"request_id": f"e-{n}", "client_id": "c-1", "status_code": 500},
                }
            )

    def high_error_rate(self) -> None:
        self.traffic = Traffic(requests=5000, errors_5xx=300, latency_s=0.2)

    def job_queue_backlog(self) -> None:
        self.db.execute(
            "insert into jobs (client_id, job_type, status) "
            "select c.id, 'refactor', 'pending' from clients c, generate_series(1, 80)"
        )

    def token_quota_near(self) -> None:
        self.db.execute(
            "insert into llm_usage (client_id, model, tokens) "
            "select id, 'gpt-4o', 800000 from clients where name = 'Acme Builders'"
        )

    def certificate_expiring(self) -> None:
        self.api.use_certificate(self.ca.issue(days_left=12))

    def stale_backup(self) -> None:
        for old in self.backup_dir.glob("backup-*"):
            old.unlink()
        self.make_backup(hours_ago=60)

    def broken_backup(self) -> None:
        corrupt(max(self.backup_dir.glob("backup-*.sql"), key=lambda p: p.stat().st_mtime))
