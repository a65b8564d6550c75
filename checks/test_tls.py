"""TLS checks: one test per `tls:` entry of the target (days left, hostname, chain)."""

import pytest

from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("tls")


def test_tls(check, facts):
    problems = check.entry.mismatches(facts)
    if problems:
        evidence = None if facts.error else facts.summary()
        pytest.fail(explain(check, problems, evidence), pytrace=False)
