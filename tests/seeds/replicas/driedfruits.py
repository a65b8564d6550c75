"""Dried Fruits Inventory (guide 004): the API behind nginx TLS (/health, /api/v1/health/database,
/api/v1/health/redis), PostgreSQL `dried_fruits_db` and Redis each behind a stoppable proxy, a real
Prometheus scraping the API's /metrics, node_exporter and postgres_exporter stand-ins, the API log and
nginx access log, scripts/backup.sh's database dumps and upload archives."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import redis
import requests

from tests.conftest import free_port
from tests.seeds.replicas.base import Replica
from tests.seeds.replicas.certs import CertificateAuthority
from tests.seeds.replicas.database import HeldConnection, PostgresDatabase, corrupt, tar_backup, with_database
from tests.seeds.replicas.prometheus import SCRAPE_INTERVAL_S, NodeExporter, PrometheusServer, Scraped, Server
from tests.seeds.replicas.receivers import SMTP_PASSWORD, SMTP_USER, Receivers
from tests.seeds.replicas.tcp_proxy import TcpProxy
from tests.seeds.replicas.telemetry import LiveTraffic, LogFile, Traffic, http_exposition, utc
from tests.seeds.replicas.web import ReplicaServer, Reply, Request, json_reply

SCHEMA = """
create table users (id serial primary key, email text unique not null, hashed_password text not null,
  is_active boolean not null default true, last_login timestamptz);
create table products (id serial primary key, name text not null, sku text unique not null);
create table inventory (product_id int primary key references products(id), quantity numeric not null,
  reorder_level numeric not null);
create table transactions (id serial primary key, product_id int references products(id),
  quantity numeric not null, kind text not null, created_at timestamptz not null default now());
insert into users (email, hashed_password, last_login)
  select 'user' || n || '@example.com', 'x', now() - n * interval '1 hour' from generate_series(1, 25) n;
insert into products (name, sku) values ('Dried apricots', 'APR-1'), ('Dates', 'DAT-1'), ('Figs', 'FIG-1'),
  ('Raisins', 'RAI-1'), ('Prunes', 'PRU-1');
insert into inventory select id, 500, 50 from products;
insert into transactions (product_id, quantity, kind, created_at)
  select 1 + n % 5, 3, 'sale', now() - n * interval '9 minutes' from generate_series(1, 300) n;
"""


WINDOW_S = 1
HEALTHY_TRAFFIC = Traffic(requests=8000, errors_5xx=16, latency_s=0.08)


class DriedFruits(Replica):
    name = "driedfruits"
    backup_states = frozenset({"backup_missed", "broken_backup", "old_backups_not_cleaned"})

    def __init__(self, root: Path, admin_pg_url: str, redis_url: str) -> None:
        super().__init__(root)
        self.db = PostgresDatabase(admin_pg_url, "seed_dried_fruits_db", SCHEMA)
        self.on_stop(self.db.drop)
        self.pg_proxy = TcpProxy(("127.0.0.1", 5432))
        self.on_stop(self.pg_proxy.down)
        redis_host, _, redis_rest = redis_url.removeprefix("redis://").partition(":")
        redis_port = int(redis_rest.split("/", 1)[0] or 6379)
        self.redis_proxy = TcpProxy((redis_host, redis_port))
        self.on_stop(self.redis_proxy.down)
        self.app_db_url = with_database(admin_pg_url, self.db.name, port=self.pg_proxy.port)
        self.app_redis_url = f"redis://127.0.0.1:{self.redis_proxy.port}/0"
        # what the exporters Prometheus scrapes query with: the api's pool, postgres_exporter's connection
        self.api_pool = HeldConnection(self.db.url)
        self.on_stop(self.api_pool.close)
        self.exporter_conn = HeldConnection(self.app_db_url)
        self.on_stop(self.exporter_conn.close)
        self.ca = CertificateAuthority(root / "nginx/ssl")
        self.traffic = LiveTraffic(HEALTHY_TRAFFIC)
        self.api = ReplicaServer(
            {
                "/health": self._health,
                "/api/v1/health/database": self._health_database,
                "/api/v1/health/redis": self._health_redis,
            },
            tls=self.ca.issue(days_left=75),
        )
        self.on_stop(self.api.stop)
        # Inside the compose network: the api's /metrics, node_exporter and postgres_exporter, which
        # Prometheus (:9090 in the guide) scrapes over plain HTTP.
        self.node = NodeExporter()
        self.scrapes = {
            "api": Scraped(self._metrics),
            "node": Scraped(self.node.route),
            "postgres": Scraped(self._postgres_exporter),
        }
        self.exporters = ReplicaServer({f"/{job}/metrics": route for job, route in self.scrapes.items()})
        self.on_stop(self.exporters.stop)
        self.prometheus = PrometheusServer(
            root / "prometheus",
            {job: f"127.0.0.1:{self.exporters.port}/{job}/metrics" for job in self.scrapes},
            free_port(),
        )
        self.on_stop(self.prometheus.stop)
        self.project = root / "dried-fruits"
        self.db_backups = self.project / "backups/database"
        self.upload_backups = self.project / "backups/uploads"
        self.uploads = self.project / "uploads"
        self.api_log = LogFile(root / "logs/api.log")
        self.nginx_log = LogFile(root / "logs/nginx/access.log")
        self.receivers = Receivers()
        self.on_stop(self.receivers.stop)
        self.env = {
            "API_URL": self.api.url,
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.api.port),
            "CA_BUNDLE": str(self.ca.ca_path),
            "DATABASE_URL": self.app_db_url,
            "REDIS_URL": self.app_redis_url,
            "BACKUP_DIR": str(self.project / "backups"),
            "API_LOG_PATH": str(self.api_log.path),
            "NGINX_LOG_PATH": str(self.nginx_log.path),
            "DRILL_ADMIN_URL": admin_pg_url,
            "PROMETHEUS_URL": self.prometheus.url,
            "ALERT_WEBHOOK_URL": self.receivers.hook_url("oncall"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.receivers.smtp_port),
            "SMTP_STARTTLS": "false",
            "SMTP_USER": SMTP_USER,
            "SMTP_PASSWORD": SMTP_PASSWORD,
            "OPS_EMAIL": "ops@driedfruits.test",
            # a 5-minute rate window needs 5 minutes of samples: tests look at the last second instead
            "RATE_WINDOW": f"{WINDOW_S}s",
            "CAPACITY_WINDOW": f"{WINDOW_S}s",
        }
        self.prometheus_dirty = False
        self.healthy()
        self.prometheus.wait_until('up{job="postgres"} == 1 and on() count(node_cpu_seconds_total) > 0')
        self.settle()

    # --- the endpoints the guide curls -------------------------------------------------------------

    def _database_ok(self) -> bool:
        try:
            with psycopg.connect(self.app_db_url, connect_timeout=2) as conn:
                conn.execute("select 1")
        except psycopg.Error:
            return False
        return True

    def _redis_ok(self) -> bool:
        client = redis.Redis.from_url(self.app_redis_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def _health(self, request: Request) -> Reply:
        return json_reply({"status": "healthy", "version": "1.4.0"})

    def _health_database(self, request: Request) -> Reply:
        if self._database_ok():
            return json_reply({"status": "healthy", "database": "connected"})
        return json_reply({"status": "unhealthy", "database": "connection failed"}, 503)

    def _health_redis(self, request: Request) -> Reply:
        if self._redis_ok():
            return json_reply({"status": "healthy", "redis": "connected"})
        return json_reply({"status": "unhealthy", "redis": "connection refused"}, 503)

    def _postgres_exporter(self, request: Request) -> Reply:
        try:
            self.exporter_conn.scalar("select 1")
        except psycopg.Error:
            return Reply(503, b"pg_up 0: connection refused")
        return Reply(200, b"# TYPE pg_up gauge\npg_up 1\n", "text/plain; version=0.0.4; charset=utf-8")

    def _metrics(self, request: Request) -> Reply:
        low_stock = self.api_pool.scalar("select count(*) from inventory where quantity <= reorder_level")
        body = http_exposition(
            self.traffic.now(),
            requests_metric="api_requests_total",
            duration_metric="api_request_duration_seconds",
            gauges={
                "database_connections_active": 4.0 if self.pg_proxy.is_up else 0.0,
                "inventory_low_stock_alerts": float(str(low_stock)),
            },
        )
        return Reply(200, body, "text/plain; version=0.0.4; charset=utf-8")

    # --- state --------------------------------------------------------------------------------------

    def settle(self) -> None:
        """Wait until Prometheus scraped every exporter often enough that its rate windows and
        subqueries (WINDOW_S each) hold only the current state."""
        deadline = time.monotonic() + 30
        if self.prometheus_dirty:
            needed = int(2 * WINDOW_S / SCRAPE_INTERVAL_S) + 2
            start = {job: scraped.count for job, scraped in self.scrapes.items()}
            while time.monotonic() < deadline:
                if all(self.scrapes[job].count - start[job] >= needed for job in self.scrapes):
                    break
                time.sleep(SCRAPE_INTERVAL_S / 2)
            self.prometheus_dirty = False
        # A scrape that timed out on a loaded machine reads as `up == 0` (the database-down alert) until
        # the next one: start a run only once the latest scrape of every job is what the state says.
        expected = {job: 1 for job in self.scrapes} | {"postgres": int(self.pg_proxy.is_up)}
        while time.monotonic() < deadline and self._up() != expected:
            time.sleep(SCRAPE_INTERVAL_S / 2)

    def _up(self) -> dict[str, int]:
        """job -> Prometheus' latest `up`; empty while Prometheus does not answer (settle waits on)."""
        try:
            series = self.prometheus.query("up")
            return {str(s["metric"]["job"]): int(float(s["value"][1])) for s in series}  # type: ignore[index]
        except (requests.RequestException, KeyError, ValueError):
            return {}

    def enter(self, state: str) -> None:
        super().enter(state)
        self.settle()

    def restart_server(self, traffic: Traffic = HEALTHY_TRAFFIC, server: Server | None = None) -> None:
        """A new state of the API process and its server: Prometheus needs a few scrapes to see it."""
        self.traffic.restart(traffic)
        self.node.restart(server or Server())
        self.prometheus_dirty = True

    def reset(self) -> None:
        if not (self.pg_proxy.is_up and self.redis_proxy.is_up):
            self.prometheus_dirty = True
        self.pg_proxy.up()
        self.redis_proxy.up()
        if self.traffic.traffic != HEALTHY_TRAFFIC or self.node.server != Server():
            self.restart_server()
        self.db.execute("update inventory set quantity = 500")
        self.api.use_certificate(self.ca.issue(days_left=75))
        self.api_log.reset()
        self.nginx_log.reset()
        for minute in range(0, 20 * 60, 10):
            moment = utc(minute)
            self.api_log.write_text(
                f"{moment:%Y-%m-%d %H:%M:%S},120 INFO app.api.v1.inventory: GET /api/v1/inventory 200 41ms"
            )
            self.nginx_log.write_text(
                f'203.0.113.9 - - [{moment:%d/%b/%Y:%H:%M:%S +0000}] "GET /api/v1/inventory HTTP/1.1" 200 '
                '812 "-" "Mozilla/5.0" request_time=0.041'
            )
        for n in range(3):  # a few mistyped passwords are normal
            self.api_log.write_text(
                f"{utc(100 + n):%Y-%m-%d %H:%M:%S},500 WARNING app.api.v1.auth: authentication failed "
                f"for user{n}@example.com: invalid password"
            )

    def reset_backups(self) -> None:
        for folder, pattern in ((self.db_backups, "db_backup_*"), (self.upload_backups, "uploads_backup_*")):
            for old in folder.glob(pattern):
                old.unlink()
        self.uploads.mkdir(parents=True, exist_ok=True)
        (self.uploads / "invoice-1.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * 4096)
        (self.uploads / "product-apr.jpg").write_bytes(b"\xff\xd8\xff" + b"1" * 4096)
        for days in (20, 2, 1):
            self.make_backups(hours_ago=days * 24 - 7)

    def make_backups(self, hours_ago: float) -> None:
        """scripts/backup.sh at 2 AM: db_backup_<ts>.sql.gz (pg_dump | gzip) and uploads_backup_<ts>.tar.gz."""
        stamp = utc(hours_ago * 60).strftime("%Y%m%d_%H%M%S")
        self.db.dump(self.db_backups / f"db_backup_{stamp}.sql.gz", compress=True, age_hours=hours_ago)
        tar_backup(self.uploads, self.upload_backups / f"uploads_backup_{stamp}.tar.gz", age_hours=hours_ago)

    def failure_states(self) -> dict[str, Callable[[], None]]:
        return {
            "database_down": self.database_down,
            "high_cpu": self.high_cpu,
            "memory_leak": self.memory_leak,
            "low_stock": self.low_stock,
            "redis_down": self.redis_proxy.down,
            "slow_responses": self.slow_responses,
            "high_error_rate": self.high_error_rate,
            "failed_logins": self.failed_logins,
            "certificate_expiring": self.certificate_expiring,
            "backup_missed": self.backup_missed,
            "broken_backup": self.broken_backup,
            "old_backups_not_cleaned": self.old_backups_not_cleaned,
        }

    def database_down(self) -> None:
        self.pg_proxy.down()
        self.prometheus_dirty = True

    def high_cpu(self) -> None:
        self.restart_server(server=Server(cpu_busy=0.93))

    def memory_leak(self) -> None:
        self.restart_server(server=Server(memory_used_pct=91.0))

    def low_stock(self) -> None:
        self.db.execute(
            "update inventory set quantity = 12 where product_id in (select id from products where sku = 'FIG-1')"
        )
        self.prometheus_dirty = True

    def slow_responses(self) -> None:
        self.restart_server(
            Traffic(requests=8000, errors_5xx=16, latency_s=0.08, slow_share=0.2, slow_latency_s=1.8)
        )

    def high_error_rate(self) -> None:
        self.restart_server(Traffic(requests=8000, errors_5xx=400, latency_s=0.08))
        for n in range(3):
            self.api_log.write_text(
                f"{utc(4 + n):%Y-%m-%d %H:%M:%S},001 ERROR app.api.v1.orders: Internal Server Error: "
                "sqlalchemy.exc.TimeoutError: QueuePool limit of size 20 overflow 0 reached"
            )

    def failed_logins(self) -> None:
        for n in range(40):
            self.api_log.write_text(
                f"{utc(30 + n / 10):%Y-%m-%d %H:%M:%S},000 WARNING app.api.v1.auth: authentication failed "
                "for admin@example.com: invalid password"
            )

    def certificate_expiring(self) -> None:
        self.api.use_certificate(self.ca.issue(days_left=9))

    def backup_missed(self) -> None:
        """Last night's backup.sh did not run: the newest backups are from the night before."""
        for folder in (self.db_backups, self.upload_backups):
            max(folder.iterdir()).unlink()

    def broken_backup(self) -> None:
        corrupt(max(self.db_backups.glob("db_backup_*.sql.gz")))

    def old_backups_not_cleaned(self) -> None:
        """`find ./backups -name "*.gz" -mtime +30 -delete` stopped running."""
        self.make_backups(hours_ago=45 * 24)
