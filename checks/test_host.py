"""Host checks: one test per item of the `host:` section (`host:disk:/`, `host:memory`, `host:load` …)."""

import pytest

from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("host")


def test_host(check, facts):
    print(facts.evidence())
    problems = check.entry.mismatches(facts)
    if problems:
        pytest.fail(explain(check, problems, facts.evidence()), pytrace=False)
