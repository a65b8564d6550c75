"""/metrics checks: one test per `metrics:` entry; every rule's value is attached to the report."""

import allure
import pytest

from opsverify.config.secrets import redact
from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("metrics")


def test_metrics(check, facts):
    report = None if facts.error else facts.report()  # a failed scrape: its error says it all, once
    if report:
        allure.attach(redact(report), name="rule values", attachment_type=allure.attachment_type.TEXT)
    problems = check.entry.mismatches(facts)
    if problems:
        pytest.fail(explain(check, problems, report), pytrace=False)
