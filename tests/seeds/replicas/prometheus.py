"""A real Prometheus (Debian's `prometheus`) scraping a replica's exporters every 500 ms, and the
node-exporter figures (CPU, memory, filesystem) a replica reports about its server."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import requests
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tests.seeds.replicas.web import Reply, Request, Route

SCRAPE_INTERVAL_S = 0.25
GIB = 1024**3


@dataclass
class Server:
    """What node_exporter would report: CPU busy share, memory and root filesystem use."""

    cpu_busy: float = 0.25
    memory_used_pct: float = 45.0
    disk_used_pct: float = 40.0
    cores: int = 2


class NodeExporter:
    """Serves `node_*` metrics for `server`; CPU counters grow from `restart()` like a booted machine's."""

    def __init__(self) -> None:
        self.restart(Server())

    def restart(self, server: Server) -> None:
        self.server = server
        self.started = time.monotonic()

    def route(self, request: Request) -> Reply:
        registry = CollectorRegistry()
        registry.register(_NodeCollector(self.server, 100 + time.monotonic() - self.started))
        return Reply(200, generate_latest(registry), "text/plain; version=0.0.4; charset=utf-8")


@dataclass(eq=False)
class _NodeCollector(Collector):
    server: Server
    uptime: float

    def collect(self) -> Iterable[Metric]:
        cpu = CounterMetricFamily(
            "node_cpu_seconds", "Seconds the CPUs spent in each mode", labels=["cpu", "mode"]
        )
        busy = self.server.cpu_busy
        for core in range(self.server.cores):
            cpu.add_metric([str(core), "idle"], self.uptime * (1 - busy))
            cpu.add_metric([str(core), "user"], self.uptime * busy * 0.8)
            cpu.add_metric([str(core), "system"], self.uptime * busy * 0.2)
        yield cpu
        total = 16 * GIB
        yield GaugeMetricFamily("node_memory_MemTotal_bytes", "Memory", value=total)
        yield GaugeMetricFamily(
            "node_memory_MemAvailable_bytes", "Memory", value=total * (1 - self.server.memory_used_pct / 100)
        )
        size = 200 * GIB
        for name, value in (
            ("node_filesystem_size_bytes", size),
            ("node_filesystem_avail_bytes", size * (1 - self.server.disk_used_pct / 100)),
        ):
            family = GaugeMetricFamily(name, "Filesystem", labels=["mountpoint", "fstype"])
            family.add_metric(["/", "ext4"], value)
            yield family


class Scraped:
    """Wraps a route and counts the scrapes of it (to wait until Prometheus has seen a new state)."""

    def __init__(self, route: Route) -> None:
        self.inner = route
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            self.count += 1
        return self.inner(request)


class PrometheusServer:
    """`prometheus` on 127.0.0.1:<free port> with one job per exporter (name -> host:port/path)."""

    def __init__(self, folder: Path, jobs: dict[str, str], port: int) -> None:
        binary = os.environ.get("OPSVERIFY_TEST_PROMETHEUS") or shutil.which("prometheus")
        if binary is None:
            raise RuntimeError(
                "prometheus is not installed: run `make system-deps` (apt-get install prometheus) or point "
                "OPSVERIFY_TEST_PROMETHEUS at the binary"
            )
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            f"global: {{scrape_interval: {int(SCRAPE_INTERVAL_S * 1000)}ms, "
            f"evaluation_interval: {int(SCRAPE_INTERVAL_S * 1000)}ms}}",
            "scrape_configs:",
        ]
        for job, address in jobs.items():
            host, _, path = address.partition("/")
            lines += [
                f"  - job_name: {job}",
                f"    metrics_path: /{path}",
                f"    scrape_timeout: {int(SCRAPE_INTERVAL_S * 1000)}ms",
                f"    static_configs: [{{targets: ['{host}']}}]",
            ]
        config = folder / "prometheus.yml"
        config.write_text("\n".join(lines) + "\n")
        self.url = f"http://127.0.0.1:{port}"
        self.log = folder / "prometheus.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={folder / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def query(self, expr: str) -> list[dict[str, object]]:
        response = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        response.raise_for_status()
        return list(response.json()["data"]["result"])

    def wait_until(self, expr: str, timeout: float = 40) -> None:
        """Until `expr` returns a series (the first scrapes are in)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if self.query(expr):
                    return
            except (requests.RequestException, KeyError, ValueError):
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"Prometheus did not answer {expr!r} within {timeout:.0f} s:\n{self.log.read_text()[-2000:]}"
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
