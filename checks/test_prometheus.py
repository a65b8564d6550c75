"""Prometheus checks: one test per `prometheus:` entry; every rule's series is printed for the report."""

import pytest

from opsverify.config.secrets import redact
from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("prometheus")


def test_prometheus(check, facts):
    print(redact(facts.report()))
    problems = check.entry.mismatches(facts)
    if problems:
        pytest.fail(explain(check, problems, facts.report()), pytrace=False)
