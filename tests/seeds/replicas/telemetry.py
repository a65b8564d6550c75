"""What a replica emits besides HTTP answers: a Prometheus exposition built fresh from its current state,
and log files (JSON lines or text) with timestamps relative to now."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass
class Traffic:
    """Requests a replica reports: how many, how many failed with 5xx, and how long they took."""

    requests: int = 2000
    errors_5xx: int = 4
    latency_s: float = 0.05
    slow_share: float = 0.0  # share of requests that took `slow_latency_s`
    slow_latency_s: float = 3.0
    scale: float = 1.0  # counters grow with time (see LiveTraffic); ratios and quantiles do not change

    def scaled(self, factor: float) -> Traffic:
        return Traffic(
            self.requests, self.errors_5xx, self.latency_s, self.slow_share, self.slow_latency_s, factor
        )


class LiveTraffic:
    """Traffic of a running process: counters grow by 1/60 of their start value per second, so a
    Prometheus `rate()` sees steady traffic; `restart()` (a state change) resets them, as a restart would."""

    def __init__(self, traffic: Traffic) -> None:
        self.restart(traffic)

    def restart(self, traffic: Traffic) -> None:
        self.traffic = traffic
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def now(self) -> Traffic:
        return self.traffic.scaled(1 + self.elapsed / 60)


BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def http_exposition(
    traffic: Traffic,
    *,
    requests_metric: str,
    duration_metric: str,
    errors_metric: str | None = None,
    gauges: dict[str, float] | None = None,
) -> bytes:
    """A /metrics body: requests by status, a latency histogram, optionally a 5xx counter and gauges."""
    registry = CollectorRegistry()
    registry.register(
        _TrafficCollector(traffic, requests_metric, duration_metric, errors_metric, gauges or {})
    )
    return generate_latest(registry)


@dataclass(eq=False)
class _TrafficCollector(Collector):
    traffic: Traffic
    requests_metric: str
    duration_metric: str
    errors_metric: str | None
    gauges: dict[str, float]

    def collect(self) -> Iterable[Metric]:
        traffic = self.traffic
        requests = CounterMetricFamily(
            self.requests_metric.removesuffix("_total"), "HTTP requests", labels=["method", "path", "status"]
        )
        k = traffic.scale
        requests.add_metric(["GET", "/v1/items", "200"], k * (traffic.requests - traffic.errors_5xx))
        requests.add_metric(["GET", "/v1/items", "500"], k * traffic.errors_5xx)
        yield requests
        if self.errors_metric:
            errors = CounterMetricFamily(self.errors_metric.removesuffix("_total"), "HTTP 5xx responses")
            errors.add_metric([], k * traffic.errors_5xx)
            yield errors
        slow = round(traffic.requests * traffic.slow_share)
        observations = [
            (traffic.latency_s, k * (traffic.requests - slow)),
            (traffic.slow_latency_s, k * slow),
        ]
        buckets = [(str(bound), sum(n for value, n in observations if value <= bound)) for bound in BUCKETS]
        buckets.append(("+Inf", k * traffic.requests))
        total = sum(value * n for value, n in observations)
        yield HistogramMetricFamily(
            self.duration_metric, "HTTP request latency", buckets=buckets, sum_value=total
        )
        for name, value in self.gauges.items():
            yield GaugeMetricFamily(name, name.replace("_", " "), value=value)


def utc(minutes_ago: float = 0.0) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)


def iso(moment: dt.datetime, millis: bool = False) -> str:
    text = moment.isoformat(timespec="milliseconds" if millis else "seconds")
    return text.replace("+00:00", "Z")


class LogFile:
    """An application log; `write(...)` appends, `rotate()` moves it to .1.gz as logrotate would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def reset(self) -> None:
        for old in self.path.parent.glob(self.path.name + "*"):
            old.unlink()
        self.path.touch()

    def write_json(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    def write_text(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line.rstrip("\n") + "\n")

    def write_rotated(self, lines: list[str], suffix: str = ".1.gz") -> Path:
        """Yesterday's rotated, gzipped file (logrotate `compress`)."""
        rotated = self.path.with_name(self.path.name + suffix)
        rotated.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
        return rotated
