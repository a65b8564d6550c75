"""PostgreSQL checks: one test per `postgres:` entry, read-only (revision, connections, long queries, queries)."""

import pytest

from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("postgres")


def test_postgres(check, facts):
    problems = check.entry.mismatches(facts)
    if problems:
        evidence = None if facts.error else facts.summary()
        pytest.fail(explain(check, problems, evidence), pytrace=False)
