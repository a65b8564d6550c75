"""`max_latency_ms` at its edge: "at most" — a p95 equal to the limit passes; the p95 is nearest-rank. Also the
edges of what a problem shows: a forbidden match up to 80 characters, a header up to 120; "p95" from 2 samples.
"""

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


@pytest.mark.parametrize(("samples", "label"), [(1, "latency"), (2, "p95 over 2 samples")])
def test_two_samples_are_already_a_p95(samples: int, label: str) -> None:
    facts = response(latencies_ms=[300.0] * samples)
    (problem,) = judge(entry(expect={"max_latency_ms": 200}), facts).problems
    assert (problem.subject, problem.found) == (label, "300 ms")


@pytest.mark.parametrize(("length", "shown"), [(80, 80), (81, 80)])
def test_a_forbidden_match_is_shown_up_to_80_characters(length: int, shown: int) -> None:
    facts = response("Traceback " + "x" * (length - 10))
    (problem,) = judge(entry(expect={"body_not_regex": "Traceback.*"}), facts).problems
    assert problem.found == repr("Traceback " + "x" * (shown - 10))


@pytest.mark.parametrize(("length", "shown"), [(120, 120), (121, 120)])
def test_a_header_that_does_not_match_is_shown_up_to_120_characters(length: int, shown: int) -> None:
    facts = response(headers={"x-version": "2" * length})
    (problem,) = judge(entry(expect={"headers": {"X-Version": "^1"}}), facts).problems
    assert problem.found == repr("2" * shown)
