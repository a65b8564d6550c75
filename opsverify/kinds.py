"""The one table of check kinds. A new kind = a config model + a probe module + a checks module + a row here."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opsverify.config.types import CheckEntry, Tier


@dataclass(frozen=True)
class Kind:
    """How one kind of check is configured, probed and selected.

    `section` is the target-file key the entries live under; several kinds may read one section (the
    backups section yields both the daily integrity check and the `restore` drill).
    """

    name: str
    section: str
    entry_model: str  # "module:Class" of the entry's pydantic model
    probe: str  # "module:function" taking (entry, ProbeContext) and returning facts
    default_tiers: tuple[Tier, ...]
    summary: str
    live: bool = True  # probes of live kinds run concurrently ahead of their tests
    section_model: str | None = None  # a model with .entries() when the section is not {name: entry}
    applies: Callable[[Any], bool] | None = None  # entry filter for kinds derived from another's section
    tiers_of: Callable[[Any], list[Tier] | None] | None = None
    thresholds_of: Callable[[Any], list[str]] | None = None  # default: entry.thresholds()

    def load_entry_model(self) -> type[CheckEntry]:
        return _load(self.entry_model)  # type: ignore[no-any-return]

    def load_probe(self) -> Callable[..., Any]:
        return _load(self.probe)  # type: ignore[no-any-return]

    def entry_tiers(self, entry: Any) -> tuple[Tier, ...]:
        tiers = self.tiers_of(entry) if self.tiers_of else entry.tiers
        return tuple(tiers) if tiers else self.default_tiers

    def entry_thresholds(self, entry: Any) -> list[str]:
        """What a check of this kind enforces, one short phrase each (`opsverify validate` shows them)."""
        thresholds = self.thresholds_of(entry) if self.thresholds_of else entry.thresholds()
        return list(thresholds)


def _load(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "http",
            "http",
            "opsverify.config.http:HttpCheck",
            "opsverify.probes.http:probe",
            ("smoke", "daily"),
            "HTTP endpoint: status, JSON fields and conditions, body, headers, latency",
        ),
        Kind(
            "tls",
            "tls",
            "opsverify.config.tls:TlsCheck",
            "opsverify.probes.tls:probe",
            ("daily",),
            "TLS certificate: days left, hostname, chain",
        ),
        Kind(
            "postgres",
            "postgres",
            "opsverify.config.postgres:PostgresCheck",
            "opsverify.probes.postgres:probe",
            ("smoke", "daily"),
            "PostgreSQL (read-only): reachable, schema revision, connections, long queries, named queries",
        ),
        Kind(
            "redis",
            "redis",
            "opsverify.config.redis:RedisCheck",
            "opsverify.probes.redis:probe",
            ("smoke", "daily"),
            "Redis: PING, memory use",
        ),
        Kind(
            "backups",
            "backups",
            "opsverify.config.backups:BackupCheck",
            "opsverify.backups.check:probe",
            ("daily",),
            "Backup files: newest is fresh, big enough, intact (format + checksum), retention",
            live=False,
        ),
        Kind(
            "restore",
            "backups",
            "opsverify.config.backups:BackupCheck",
            "opsverify.drills.drill:probe",
            ("dr",),
            "Restore drill: newest backup restored into a throwaway database, verified, RTO/RPO measured",
            live=False,
            applies=lambda entry: entry.restore is not None,
            tiers_of=lambda entry: entry.restore.tiers,
            thresholds_of=lambda entry: entry.restore.thresholds(),
        ),
        Kind(
            "prometheus",
            "prometheus",
            "opsverify.config.prometheus:PrometheusCheck",
            "opsverify.probes.prometheus:probe",
            ("daily",),
            "Prometheus: instant PromQL queries (alert rules) against max/min, every series reported",
        ),
        Kind(
            "metrics",
            "metrics",
            "opsverify.config.metrics:MetricsCheck",
            "opsverify.probes.metrics:probe",
            ("daily",),
            "/metrics exposition: values, counter ratios, histogram quantiles",
        ),
        Kind(
            "logs",
            "logs",
            "opsverify.config.logs:LogsCheck",
            "opsverify.probes.logs:probe",
            ("daily",),
            "Log files: error counts and pattern matches in a time window",
        ),
        Kind(
            "host",
            "host",
            "opsverify.config.host:HostEntry",
            "opsverify.probes.host:probe",
            ("daily",),
            "The machine the suite runs on: disk, memory, load, CPU",
            section_model="opsverify.config.host:HostSection",
        ),
    )
}


def sections() -> dict[str, list[Kind]]:
    """Target-file section -> the kinds reading it."""
    result: dict[str, list[Kind]] = {}
    for kind in KINDS.values():
        result.setdefault(kind.section, []).append(kind)
    return result
