"""The kind registry: the one table of built-in check kinds, plus the kinds installed packages add through
the entry-point group `opsverify.kinds` (each entry point names a `Kind`).

A new built-in kind = its package in `opsverify/kinds/` (model, facts, probe, verdict) + a row in BUILT_IN.
The table holds references ("module:attribute"), never imports: a run imports the kinds its target uses.
Plugins are looked up only when a name no built-in has is asked for (a target section, a route's `kinds:`)
or when every kind is listed, so a run of built-in kinds never scans the installed packages.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from opsverify.config.types import CheckEntry, Tier
from opsverify.loader import load_reference
from opsverify.plugins import PluginError, describe, load_group, wrong_type

GROUP = "opsverify.kinds"
RESERVED_SECTIONS = frozenset(
    {"target", "env_file", "public_env", "secret_env", "settings", "state", "notify"}
)


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
    # An entry with rules gives one check per rule (`prometheus:main/cpu-pct`); `rules_only` kinds have no
    # check for the entry itself, the others keep it (`postgres:main` beside `postgres:main/pending-jobs`).
    rules_of: Callable[[Any], list[str]] | None = None
    rules_only: bool = False
    rule_thresholds_of: Callable[[Any, str], list[str]] | None = None  # what one rule's check enforces
    # "module:coroutine function" doing what `probe` does on a running event loop; the run's pool awaits it
    # on one loop for all such checks (`probe` itself stays the synchronous way in)
    probe_async: str | None = None
    # "module:function" of the verdict; default: `judge` in the `verdict` module beside the probe's module
    verdict: str | None = None

    def load_entry_model(self) -> type[CheckEntry]:
        return load_reference(self.entry_model)  # type: ignore[no-any-return]

    def load_probe(self) -> Callable[..., Any]:
        return load_reference(self.probe)  # type: ignore[no-any-return]

    def load_probe_async(self) -> Callable[..., Coroutine[Any, Any, Any]] | None:
        return load_reference(self.probe_async) if self.probe_async else None

    def entry_tiers(self, entry: Any) -> tuple[Tier, ...]:
        tiers = self.tiers_of(entry) if self.tiers_of else entry.tiers
        return tuple(tiers) if tiers else self.default_tiers

    def entry_rules(self, entry: Any) -> list[str]:
        return list(self.rules_of(entry)) if self.rules_of else []

    def entry_is_check(self, entry: Any) -> bool:
        return not (self.rules_only and self.entry_rules(entry))

    def load_verdict(self) -> Callable[..., Any]:
        """`judge(entry, facts, rule) -> Judgement` of this kind (its package's verdict module)."""
        if self.verdict is not None:
            return load_reference(self.verdict)  # type: ignore[no-any-return]
        package = self.probe.partition(":")[0].rpartition(".")[0]
        return load_reference(f"{package}.verdict:judge")  # type: ignore[no-any-return]

    def entry_thresholds(self, entry: Any, rule: str | None = None) -> list[str]:
        """What a check of this kind enforces, one short phrase each (`opsverify validate` shows them);
        with `rule`, what the check of that one rule enforces."""
        if rule is not None and self.rule_thresholds_of:
            return list(self.rule_thresholds_of(entry, rule))
        thresholds = self.thresholds_of(entry) if self.thresholds_of else entry.thresholds()
        return list(thresholds)


BUILT_IN: tuple[Kind, ...] = (
    Kind(
        "http",
        "http",
        "opsverify.kinds.http.model:HttpCheck",
        "opsverify.kinds.http.probe:probe",
        ("smoke", "daily"),
        "HTTP endpoint: status, JSON fields and conditions, body, headers, latency",
        probe_async="opsverify.kinds.http.aio:probe",
    ),
    Kind(
        "tls",
        "tls",
        "opsverify.kinds.tls.model:TlsCheck",
        "opsverify.kinds.tls.probe:probe",
        ("daily",),
        "TLS certificate: days left, hostname, chain",
    ),
    Kind(
        "postgres",
        "postgres",
        "opsverify.kinds.postgres.model:PostgresCheck",
        "opsverify.kinds.postgres.probe:probe",
        ("smoke", "daily"),
        "PostgreSQL (read-only): reachable, schema revision, connections, long queries, invalid indexes, "
        "named queries",
        rules_of=lambda entry: list(entry.queries),
        rule_thresholds_of=lambda entry, rule: [entry.query_threshold(rule)],
    ),
    Kind(
        "mysql",
        "mysql",
        "opsverify.kinds.mysql.model:MysqlCheck",
        "opsverify.kinds.mysql.probe:probe",
        ("smoke", "daily"),
        "MySQL / MariaDB (read-only): reachable, schema revision, connections, long queries, replica lag, "
        "named queries",
        rules_of=lambda entry: list(entry.queries),
        rule_thresholds_of=lambda entry, rule: [entry.query_threshold(rule)],
    ),
    Kind(
        "redis",
        "redis",
        "opsverify.kinds.redis.model:RedisCheck",
        "opsverify.kinds.redis.probe:probe",
        ("smoke", "daily"),
        "Redis: PING, memory use",
    ),
    Kind(
        "backups",
        "backups",
        "opsverify.kinds.backups.model:BackupCheck",
        "opsverify.kinds.backups.probe:probe",
        ("daily",),
        "Backup files: newest is fresh, big enough, intact (format + checksum), retention",
        live=False,
    ),
    Kind(
        "restore",
        "backups",
        "opsverify.kinds.backups.model:BackupCheck",
        "opsverify.kinds.restore.probe:probe",
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
        "opsverify.kinds.prometheus.model:PrometheusCheck",
        "opsverify.kinds.prometheus.probe:probe",
        ("daily",),
        "Prometheus: instant PromQL queries (alert rules, a rules file) against max/min, firing alerts",
        rules_of=lambda entry: entry.rule_names(),
        rules_only=True,
        rule_thresholds_of=lambda entry, rule: [entry.rule_threshold(rule)],
    ),
    Kind(
        "metrics",
        "metrics",
        "opsverify.kinds.metrics.model:MetricsCheck",
        "opsverify.kinds.metrics.probe:probe",
        ("daily",),
        "/metrics exposition: values, counter ratios, histogram quantiles",
        rules_of=lambda entry: list(entry.rules),
        rules_only=True,
        rule_thresholds_of=lambda entry, rule: [entry.rules[rule].threshold(rule)],
    ),
    Kind(
        "logs",
        "logs",
        "opsverify.kinds.logs.model:LogsCheck",
        "opsverify.kinds.logs.probe:probe",
        ("daily",),
        "Log files: error counts and pattern matches in a time window",
    ),
    Kind(
        "host",
        "host",
        "opsverify.kinds.host.model:HostEntry",
        "opsverify.kinds.host.probe:probe",
        ("daily",),
        "The machine the suite runs on: disk, memory, load, CPU",
        section_model="opsverify.kinds.host.model:HostSection",
    ),
    Kind(
        "tcp",
        "tcp",
        "opsverify.kinds.tcp.model:TcpCheck",
        "opsverify.kinds.tcp.probe:probe",
        ("smoke", "daily"),
        "TCP port: accepts connections within a time, optional banner",
    ),
    Kind(
        "command",
        "command",
        "opsverify.kinds.command.model:CommandCheck",
        "opsverify.kinds.command.probe:probe",
        ("daily",),
        "A command, locally or via SSH/Docker: exit code, stdout/stderr, line count, JSON",
    ),
    Kind(
        "docker",
        "docker",
        "opsverify.kinds.docker.model:DockerCheck",
        "opsverify.kinds.docker.probe:probe",
        ("smoke", "daily"),
        "Containers of a deployment: running, healthy, restarts, unhealthy-for, memory vs limit",
    ),
)


class KindRegistry(Mapping[str, Kind]):
    """name -> Kind: the built-ins, then the plugins' (loaded on the first miss, or by `load_plugins`)."""

    def __init__(self, built_in: tuple[Kind, ...]) -> None:
        self._kinds = {kind.name: kind for kind in built_in}
        self._built_in = frozenset(self._kinds)
        self._plugins_loaded = False

    def __getitem__(self, name: str) -> Kind:
        if name not in self._kinds and not self._plugins_loaded:
            self.load_plugins()
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def is_built_in(self, name: str) -> bool:
        return name in self._built_in

    def load_plugins(self) -> None:
        """Add the kinds of installed packages (once). Raises PluginError naming a plugin that fails."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for entry_point, value in load_group(GROUP):
            if not isinstance(value, Kind):
                raise wrong_type(GROUP, entry_point, "Kind", value)
            if value.name in self._kinds:
                raise PluginError(
                    f"plugin {describe(entry_point)} in entry-point group {GROUP}: kind {value.name!r} is "
                    "already defined; give the plugin's kind another name"
                )
            if value.section in RESERVED_SECTIONS:
                raise PluginError(
                    f"plugin {describe(entry_point)} in entry-point group {GROUP}: section {value.section!r} "
                    "is a top-level key of every target file; give the plugin's kind another section"
                )
            self._kinds[value.name] = value

    def forget_plugins(self) -> None:
        """Back to the built-ins only (tests that install a plugin for one test)."""
        self._kinds = {name: kind for name, kind in self._kinds.items() if name in self._built_in}
        self._plugins_loaded = False


KINDS = KindRegistry(BUILT_IN)


def sections() -> dict[str, list[Kind]]:
    """Target-file section -> the kinds reading it."""
    result: dict[str, list[Kind]] = {}
    for kind in KINDS.values():
        result.setdefault(kind.section, []).append(kind)
    return result
