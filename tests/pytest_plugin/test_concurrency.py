"""Live probes run concurrently: in one process, and on pytest-xdist workers (`-n 2`, `-n auto`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import RunResult
from tests.pytest_plugin.conftest import target_text

ENDPOINTS = 20
LATENCY = 0.3  # seconds: a serial run of the 20 endpoints takes at least 6 s


class SlowServer(ThreadingHTTPServer):
    """Answers every GET after LATENCY seconds and records the most requests it had in flight at once."""

    daemon_threads = True
    request_queue_size = 128  # the default (5) would drop simultaneous connects

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SlowHandler)
        self.lock = threading.Lock()
        self.in_flight = self.peak = self.served = 0


class SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SlowServer

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.in_flight += 1
            self.server.peak = max(self.server.peak, self.server.in_flight)
        time.sleep(LATENCY)
        with self.server.lock:
            self.server.in_flight -= 1
            self.server.served += 1
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    server = SlowServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def gate(server: SlowServer) -> str:
    url = f"http://127.0.0.1:{server.server_address[1]}"
    return target_text("gate", url, {f"ep-{i:02d}": "tiers: [smoke]" for i in range(ENDPOINTS)})


def test_probes_of_one_run_overlap(run_checks: Callable[..., RunResult], slow_server: SlowServer) -> None:
    result = run_checks(gate(slow_server), "-m", "smoke")
    assert result.returncode == 0, result.output
    assert slow_server.served == ENDPOINTS
    # All 20 probes start at once (the pool holds 128); half of them overlapping already rules out a
    # serial run (peak 1) even on a busy machine.
    assert slow_server.peak >= ENDPOINTS // 2, f"peak {slow_server.peak} requests in flight"
    # No time budget here (a loaded machine stretches any run): the peak proves the overlap, and
    # bench/concurrency.py measures the speed-up.


def test_the_pool_is_bounded(run_checks: Callable[..., RunResult], slow_server: SlowServer) -> None:
    result = run_checks(gate(slow_server), "-m", "smoke", "--probe-workers", "10")
    assert result.returncode == 0, result.output
    assert 1 < slow_server.peak <= 10


@pytest.mark.parametrize("workers", ["2", "auto"])
def test_xdist_workers_prefetch_their_queued_tests(
    run_checks: Callable[..., RunResult], slow_server: SlowServer, workers: str
) -> None:
    result = run_checks(gate(slow_server), "-m", "smoke", "-n", workers)
    assert result.returncode == 0, result.output
    assert f"{ENDPOINTS} passed" in result.output
    # Each worker starts the probes of every test queued for it: with a serial worker the peak would be
    # the number of workers; with xdist's batch-wise `load` mode about four.
    assert slow_server.peak >= ENDPOINTS // 2, f"peak {slow_server.peak} requests in flight"


MANY = 60  # more http checks than threads (`concurrency: 8`): their probes wait on the run's event loop


def many(server: SlowServer, settings: str = "") -> str:
    url = f"http://127.0.0.1:{server.server_address[1]}"
    text = target_text("many", url, {f"ep-{i:02d}": "tiers: [smoke]" for i in range(MANY)})
    return text + (f"settings: {settings}\n" if settings else "")


def test_many_http_checks_wait_together_on_the_event_loop(
    run_checks: Callable[..., RunResult], slow_server: SlowServer
) -> None:
    # Eight threads would hold at most eight requests at once: the loop is bounded by http_concurrency only.
    result = run_checks(many(slow_server, "{concurrency: 8}"), "-m", "smoke")
    assert result.returncode == 0, result.output
    assert f"{MANY} passed" in result.output
    assert slow_server.served == MANY
    assert slow_server.peak >= MANY // 2, f"peak {slow_server.peak} requests in flight"


@pytest.mark.parametrize("bound", ["settings", "option"])
def test_the_event_loop_is_bounded(
    run_checks: Callable[..., RunResult], slow_server: SlowServer, bound: str
) -> None:
    if bound == "settings":
        result = run_checks(many(slow_server, "{concurrency: 8, http_concurrency: 10}"), "-m", "smoke")
    else:
        result = run_checks(many(slow_server), "-m", "smoke", "--probe-workers", "10")  # caps both
    assert result.returncode == 0, result.output
    assert f"{MANY} passed" in result.output
    assert 1 < slow_server.peak <= 10


class ShortBacklogServer(SlowServer):
    request_queue_size = 5  # Python's default listen backlog (http.server, socketserver)


def test_the_event_loop_paces_new_connections_for_a_short_listen_backlog(
    run_checks: Callable[..., RunResult],
) -> None:
    # 200 connects within a millisecond overflowed a backlog of 5: the kernel dropped the SYNs and sent them
    # again together after 1 s, 3 s, 7 s, and ~20% of the checks failed with "no response within 10s".
    server = ShortBacklogServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        text = target_text("backlog", url, {f"ep-{i:03d}": "tiers: [smoke]" for i in range(200)})
        result = run_checks(text + "settings: {concurrency: 8}\n", "-m", "smoke")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert result.returncode == 0, result.output
    assert "200 passed" in result.output
    # Paced connects, not paced requests: most of the 200 still wait on the server together.
    assert server.peak >= 50, f"peak {server.peak} requests in flight"
