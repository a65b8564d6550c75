"""What the metrics probe observed: the scrape (status, samples, declared families) and each rule's series."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsverify.kinds.base import Phase
from opsverify.kinds.prometheus.facts import RuleResult
from opsverify.units import plural


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


@dataclass
class MetricsFacts:
    url: str
    status: int | None = None
    samples: list[Sample] = field(default_factory=list)
    declared: dict[str, str] = field(default_factory=dict)  # sample name -> type of its declared family
    results: dict[str, RuleResult] = field(default_factory=dict)
    error: str | None = None
    body_bytes: int = 0
    elapsed_ms: float = 0.0

    def phases(self) -> list[Phase]:
        """The scrape (status, samples, size), then each rule evaluated against it."""
        scrape = f"scrape {self.url}"
        got = f"HTTP {self.status}, " if self.status is not None else ""
        if self.error:
            return [Phase(scrape, False, f"{got}{self.error}", self.elapsed_ms / 1000 or None)]
        phases = [
            Phase(
                scrape,
                True,
                f"{got}{plural(len(self.samples), 'sample')}, {plural(self.body_bytes, 'byte')}",
                self.elapsed_ms / 1000,
            )
        ]
        return phases + [result.phase(f"rule {name}") for name, result in self.results.items()]

    def report(self, rule: str | None = None) -> str:
        """Every rule's value(s) (or only `rule`'s), for the test report."""
        lines = [
            f"GET {self.url} -> {self.status or 'no response'}, {plural(len(self.samples), 'sample')}, "
            f"{plural(self.body_bytes, 'byte')} in {self.elapsed_ms:.0f} ms"
        ]
        for name, result in self.results.items():
            if rule is None or name == rule:
                lines += result.report_lines(name)
        return "\n".join(lines)
