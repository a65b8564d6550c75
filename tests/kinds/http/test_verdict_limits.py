"""`max_latency_ms` at its edge: "at most" — a p95 equal to the limit passes; the p95 is nearest-rank."""

from __future__ import annotations

import pytest

from opsverify.kinds.http.verdict import judge
from tests.kinds.http.test_verdict import entry, response


@pytest.mark.parametrize(("latency", "fails"), [(199.0, False), (200.0, False), (200.5, True), (201.0, True)])
def test_max_latency_ms_is_at_most_the_limit(latency: float, fails: bool) -> None:
    found = judge(entry(expect={"max_latency_ms": 200}), response(latencies_ms=[latency]))
    assert [p.subject for p in found.problems] == (["latency"] if fails else [])


def test_the_p95_of_twenty_samples_is_the_nineteenth() -> None:
    """Nearest rank: of 20 samples the 19th smallest is the p95; one slow outlier does not fail the check."""
    samples = [100.0] * 18 + [200.0, 5000.0]
    assert judge(entry(expect={"max_latency_ms": 200}), response(latencies_ms=samples)).passed
    samples = [100.0] * 18 + [201.0, 5000.0]
    (problem,) = judge(entry(expect={"max_latency_ms": 200}), response(latencies_ms=samples)).problems
    assert (problem.subject, problem.found) == ("p95 over 20 samples", "201 ms")
