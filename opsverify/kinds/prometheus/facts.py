"""What the prometheus probe observed: every rule's series (or why it has none), and a server error.

`Series` and `RuleResult` are shared with the `metrics` kind, whose rules yield series the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opsverify.kinds.base import Phase
from opsverify.units import format_number


@dataclass(frozen=True)
class Series:
    """One label set and its value (`__name__` among the labels when the result keeps it)."""

    labels: dict[str, str]
    value: float

    def label_text(self) -> str:
        """`name{a="1", b="2"}` like Prometheus prints a series; `{}` for an aggregate without labels."""
        name = self.labels.get("__name__", "")
        pairs = ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()) if k != "__name__")
        return f"{name}{{{pairs}}}" if pairs or not name else name


@dataclass
class RuleResult:
    """What one rule evaluated to: every series, or why it could not be evaluated."""

    expr: str  # the rule as shown in messages (PromQL, a selector, a ratio, a quantile)
    series: list[Series] = field(default_factory=list)
    error: str | None = None
    note: str = ""  # how the value was derived (ratio parts, observations), for the report
    warnings: list[str] = field(default_factory=list)

    def phase(self, name: str) -> Phase:
        """This rule as a probe phase: its expression and what it yielded (or why it yielded nothing)."""
        if self.error:
            return Phase(name, False, f"{self.expr}: {self.error}")
        values = ", ".join(f"{s.label_text()} = {format_number(s.value)}" for s in self.series[:3])
        more = f" … ({len(self.series)} series)" if len(self.series) > 3 else ""
        note = f" [{self.note}]" if self.note else ""
        return Phase(name, True, f"{self.expr} -> {values + more if self.series else '(no series)'}{note}")

    def report_lines(self, name: str) -> list[str]:
        head = f"{name}: {self.expr}" + (f"  [{self.note}]" if self.note else "")
        if self.error:
            return [head, f"    error: {self.error}"]
        lines = [head]
        lines += [f"    {s.label_text()} = {format_number(s.value)}" for s in self.series[:50]]
        if len(self.series) > 50:
            lines.append(f"    … and {len(self.series) - 50} more series")
        if not self.series:
            lines.append("    (no series)")
        lines += [f"    warning: {w}" for w in self.warnings]
        return lines


@dataclass(frozen=True)
class FiringAlert:
    """One alert of `/api/v1/alerts` in state `firing` (pending ones are not firing yet)."""

    name: str
    labels: dict[str, str]
    active_at: str = ""

    def text(self) -> str:
        others = ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()) if k != "alertname")
        since = f" since {self.active_at}" if self.active_at else ""
        return f"{self.name}{{{others}}}{since}"


@dataclass
class PrometheusFacts:
    url: str
    results: dict[str, RuleResult] = field(default_factory=dict)
    error: str | None = None  # the server could not be queried (rules after the failed query have no result)
    elapsed_ms: float = 0.0
    firing: list[FiringAlert] | None = None  # /api/v1/alerts, when the entry has `firing:`
    firing_error: str | None = None

    def phases(self) -> list[Phase]:
        """One instant query per rule; a server that could not be queried ends the list."""
        phases = [result.phase(f"query {name}") for name, result in self.results.items()]
        if self.firing is not None:
            names = ", ".join(alert.text() for alert in self.firing) or "none"
            phases.append(Phase("firing alerts", True, f"/api/v1/alerts -> {names}"))
        elif self.firing_error:
            phases.append(Phase("firing alerts", False, self.firing_error))
        if self.error:
            phases.append(Phase(f"query {self.url}", False, self.error, self.elapsed_ms / 1000))
        return phases

    def report(self, rule: str | None = None) -> str:
        """Every rule (or only `rule`) with every series it returned, for the test report."""
        lines = [f"Prometheus {self.url} ({self.elapsed_ms:.0f} ms)"]
        for name, result in self.results.items():
            if rule is None or name == rule:
                lines += result.report_lines(name)
        if self.firing is not None and (rule is None or rule == "firing"):
            lines.append("firing alerts (/api/v1/alerts):")
            lines += [f"    {alert.text()}" for alert in self.firing] or ["    (none)"]
        return "\n".join(lines)
