"""Redis checks: one test per `redis:` entry (PING, memory use)."""

import pytest

from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("redis")


def test_redis(check, facts):
    problems = check.entry.mismatches(facts)
    if problems:
        evidence = None if facts.error else facts.summary()
        pytest.fail(explain(check, problems, evidence), pytrace=False)
