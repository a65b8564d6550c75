"""Smoke-gate concurrency: 100 HTTP endpoints that each take 300 ms, run as `pytest -m smoke`.

Measures each run's wall time less an empty run's (pytest start-up and collection, no checks), and
reports it as a multiple of the slowest endpoint's latency. The issue's target: under 5x with the
default settings (a serial run, --probe-workers 1, is about 100x). Also measured under pytest-xdist, and
without allure-pytest, to separate the cost of writing 100 Allure results from the probes' own time.

    python -m bench concurrency [--endpoints 100] [--latency-ms 300] [--repeat 3] [--no-serial]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class SlowServer(ThreadingHTTPServer):
    """Every GET answers `{"ok": true}` after `latency` seconds; a deep backlog so no connect is dropped."""

    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, latency: float) -> None:
        self.latency = latency
        super().__init__(("127.0.0.1", 0), SlowHandler)


class SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        assert isinstance(self.server, SlowServer)
        time.sleep(self.server.latency)
        body = json.dumps({"ok": True, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def slow_server(latency: float) -> Iterator[str]:
    server = SlowServer(latency)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_target(path: Path, base_url: str, endpoints: int) -> Path:
    lines = [f"target: bench-{endpoints}", "http:" if endpoints else "http: {}"]
    lines += [
        f"  ep-{i:03d}: {{url: '{base_url}/ep/{i}', expect: {{json: {{ok: true}}}}, tiers: [smoke]}}"
        for i in range(endpoints)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_gate(target: Path, reports: Path, *extra: str) -> tuple[float, int, str]:
    """One `pytest -m smoke` run like an operator's: (wall seconds, exit code, last line or all output)."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "smoke"]
    command += [f"--target={target}", str(target), *extra]  # as installed: the plugin collects the target
    environment = {**os.environ, "OPSVERIFY_REPORTS_DIR": str(reports), "PYTHONDONTWRITEBYTECODE": "1"}
    environment.pop("OPSVERIFY_TARGET", None)
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    seconds = time.monotonic() - started
    output = completed.stdout + completed.stderr
    tail = output if completed.returncode not in (0, 5) else (output.strip().splitlines() or [""])[-1]
    return seconds, completed.returncode, tail


def measure(target: Path, empty: Path, reports: Path, repeat: int, *extra: str) -> tuple[float, float]:
    """Median wall times (empty run, full run) over `repeat` interleaved pairs; a failing run aborts."""
    empties, fulls = [], []
    for _ in range(repeat):
        for path, times in ((empty, empties), (target, fulls)):
            seconds, code, tail = run_gate(path, reports, *extra)
            if code not in (0, 5):
                raise SystemExit(f"run {' '.join(extra) or '(default)'} failed with exit code {code}: {tail}")
            times.append(seconds)
    return statistics.median(empties), statistics.median(fulls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench concurrency", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (median is reported)")
    parser.add_argument(
        "--no-serial", action="store_true", help="skip the serial baseline (endpoints x latency)"
    )
    args = parser.parse_args(argv)
    latency = args.latency_ms / 1000

    with tempfile.TemporaryDirectory(prefix="opsverify-bench-") as tmp, slow_server(latency) as url:
        folder = Path(tmp)
        reports = folder / "reports"
        target = write_target(folder / "bench.yaml", url, args.endpoints)
        empty = write_target(folder / "empty.yaml", url, 0)
        configurations: list[tuple[str, tuple[str, ...]]] = [
            ("concurrent (default pool)", ()),
            ("concurrent, no Allure results", ("-p", "no:allure_pytest")),
            ("concurrent, -n 2", ("-n", "2")),
            ("concurrent, -n auto", ("-n", "auto")),
        ]
        if not args.no_serial:
            configurations.append(("serial (--probe-workers 1)", ("--probe-workers", "1")))
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"{args.endpoints} endpoints x {args.latency_ms:.0f} ms, median of {args.repeat} runs", end="")
        print(f" ({os.cpu_count()} CPUs, load average {load})", flush=True)
        print(f"{'configuration':<30} {'empty run':>10} {'run':>8} {'run - empty':>12} {'x slowest':>10}")
        ratios = {}
        for label, extra in configurations:
            repeat = 1 if "--probe-workers" in extra else args.repeat
            baseline, seconds = measure(target, empty, reports, repeat, *extra)
            ratios[label] = (seconds - baseline) / latency
            print(
                f"{label:<30} {baseline:>9.2f}s {seconds:>7.2f}s {seconds - baseline:>11.2f}s "
                f"{ratios[label]:>9.1f}x",
                flush=True,
            )
    worst = max(ratio for label, ratio in ratios.items() if "serial" not in label)
    print(
        f"target (every concurrent configuration < 5x the slowest latency): {'met' if worst < 5 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
