"""Host checks: one test per item of the `host:` section (`host:disk:/`, `host:memory`, `host:load` …)."""

import allure
import pytest

from opsverify.config.secrets import redact
from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("host")


def test_host(check, facts):
    evidence = None if facts.error else facts.evidence()
    if evidence:
        allure.attach(redact(evidence), name="measured", attachment_type=allure.attachment_type.TEXT)
    problems = check.entry.mismatches(facts)
    if problems:
        pytest.fail(explain(check, problems, evidence), pytrace=False)
