"""/metrics checks: one test per `metrics:` entry; every rule's value is printed for the report."""

import pytest

from opsverify.config.secrets import redact
from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("metrics")


def test_metrics(check, facts):
    print(redact(facts.report()))
    problems = check.entry.mismatches(facts)
    if problems:
        pytest.fail(explain(check, problems, facts.report()), pytrace=False)
