"""The demo's EmailOps HTTP service: `/healthz` (the runbook's healthcheck JSON), `/metrics`, `/version`.

Runs in a background thread on 127.0.0.1 and a free port, and appends one JSON log line per request to
the deployment's app.log, as the real service would. Its request metrics count the service's traffic:
the health probe and the metrics scrape (`/healthz`, `/metrics`) are left out of them, as instrumentation
libraries are usually told to, so that an unhealthy healthcheck is one failing check, not three.
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opsverify import __version__
from opsverify.demo.data import SCHEMA_VERSION, DemoLayout, log_line

HEALTHY = {"ok": True, "env": "production", "log_level": "INFO", "workers": 1}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Probes of the service, not its traffic: not in http_requests_total or the latency histogram, and an
# answer other than 2xx is logged as a WARNING (the healthcheck reports a problem; it did not fail).
PROBE_PATHS = frozenset({"/healthz", "/metrics"})
FIRST_REQUEST = "/"  # served by start() before the service counts as up


class DemoServer(ThreadingHTTPServer):
    """The service plus its request counters (for /metrics)."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, layout: DemoLayout, healthy: bool = True) -> None:
        super().__init__(("127.0.0.1", 0), DemoHandler)
        self.layout = layout
        self.healthy = healthy
        self.started = time.time()
        self.requests: Counter[tuple[str, int]] = Counter()
        self.durations: list[float] = []
        self.served = 0  # every request, probes included (for request ids)
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> DemoServer:
        """Serve in a background thread; return once the service has answered its first request.

        That request (GET /, over the socket, as a deploy's smoke request would) is counted like any
        other, so /metrics has a request and a latency observation to report from the first scrape on,
        whichever check scrapes it first.
        """
        self.thread = threading.Thread(target=self.serve_forever, args=(0.1,), daemon=True)
        self.thread.start()
        host, port = self.server_address[:2]
        connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
        try:
            connection.request("GET", FIRST_REQUEST)
            response = connection.getresponse()
            response.read()
        except OSError as exc:
            self.stop()
            raise RuntimeError(
                f"the demo service did not answer GET {self.url}{FIRST_REQUEST}: {exc}"
            ) from exc
        finally:
            connection.close()
        if response.status != 200:
            self.stop()
            raise RuntimeError(
                f"the demo service answered GET {self.url}{FIRST_REQUEST} with {response.status}, expected 200"
            )
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def health(self) -> tuple[int, dict[str, object]]:
        """The runbook's healthcheck: ok and the settings, or ok=false with the error."""
        if not self.healthy:
            return 503, {
                "ok": False,
                "error": "IMAP login failed: authentication rejected",
                "error_type": "AuthError",
            }
        try:
            connection = sqlite3.connect(f"file:{self.layout.database}?mode=ro", uri=True, timeout=2)
            try:
                connection.execute("select count(*) from messages").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            return 503, {"ok": False, "error": str(exc), "error_type": type(exc).__name__}
        return 200, dict(HEALTHY)

    def record(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count the request (unless it is a probe) and append its JSON log line."""
        if path in PROBE_PATHS:
            level = "INFO" if status < 300 else "WARNING"
        else:
            level = "INFO" if status < 500 else "ERROR"
        with self.lock:
            self.served += 1
            if path not in PROBE_PATHS:
                self.requests[(path, status)] += 1
                self.durations.append(seconds)
            line = log_line(
                datetime.now(UTC),
                level,
                "emailops.http",
                f"{method} {path} {status}",
                component="http",
                request_id=f"req-{self.served:06d}",
                duration_ms=round(seconds * 1000, 1),
                pid=os.getpid(),
            )
            with self.layout.log_file.open("a", encoding="utf-8") as log:
                log.write(line + "\n")

    def metrics(self) -> str:
        """Prometheus text exposition of the request counters and latency histogram."""
        with self.lock:
            requests, durations = dict(self.requests), list(self.durations)
        lines = [
            "# HELP http_requests_total HTTP requests served (not counting /healthz and /metrics).",
            "# TYPE http_requests_total counter",
        ]
        lines += [
            f'http_requests_total{{path="{path}",status="{status}"}} {count}'
            for (path, status), count in sorted(requests.items())
        ]
        errors = sum(count for (_, status), count in requests.items() if status >= 500)
        lines += [
            "# HELP http_5xx_errors_total HTTP requests answered with a 5xx status.",
            "# TYPE http_5xx_errors_total counter",
            f"http_5xx_errors_total {errors}",
            "# HELP http_request_duration_seconds Time to answer a request (not /healthz, /metrics).",
            "# TYPE http_request_duration_seconds histogram",
        ]
        for bound in LATENCY_BUCKETS:
            count = sum(1 for seconds in durations if seconds <= bound)
            lines.append(f'http_request_duration_seconds_bucket{{le="{bound}"}} {count}')
        lines += [
            f'http_request_duration_seconds_bucket{{le="+Inf"}} {len(durations)}',
            f"http_request_duration_seconds_sum {sum(durations):.6f}",
            f"http_request_duration_seconds_count {len(durations)}",
            "# HELP emailops_uptime_seconds Seconds since the service started.",
            "# TYPE emailops_uptime_seconds gauge",
            f"emailops_uptime_seconds {time.time() - self.started:.1f}",
        ]
        return "\n".join(lines) + "\n"


class DemoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DemoServer

    def do_GET(self) -> None:
        started = time.perf_counter()
        path = self.path.split("?", 1)[0]
        status, content_type, body = self.route(path)
        # Record before replying, so a client that reads the log or /metrics next sees this request.
        self.server.record(self.command, path, status, time.perf_counter() - started)
        payload = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def route(self, path: str) -> tuple[int, str, str]:
        if path == "/healthz":
            status, document = self.server.health()
            return status, "application/json", json.dumps(document)
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", self.server.metrics()
        if path == "/version":
            version = {"version": __version__, "schema_version": SCHEMA_VERSION, "service": "emailops-demo"}
            return 200, "application/json", json.dumps(version)
        if path == "/":
            return 200, "text/plain; charset=utf-8", "EmailOps demo: /healthz /metrics /version\n"
        return 404, "application/json", json.dumps({"error": f"no route {path}"})

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are logged as JSON lines by DemoServer.record
