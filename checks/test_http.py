"""HTTP checks: one test per `http:` entry of the target."""

import pytest

from opsverify.config.types import format_duration
from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("http")


def test_http(check, facts):
    problems = check.entry.mismatches(facts)
    if problems:
        latency = f" in {facts.p95_ms:.0f} ms" if facts.latencies_ms else ""
        waited = f", waited {format_duration(facts.waited_s)}" if check.entry.wait_until_ready else ""
        head = f"{facts.method} {facts.url} -> {facts.status or 'no response'}{latency}{waited}"
        evidence = head if facts.error else f"{head}\n{facts.excerpt()}"
        pytest.fail(explain(check, problems, evidence), pytrace=False)
