"""Prometheus checks: one test per `prometheus:` entry; every rule's series is attached to the report."""

import allure
import pytest

from opsverify.config.secrets import redact
from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("prometheus")


def test_prometheus(check, facts):
    report = facts.report()
    allure.attach(redact(report), name="rule results", attachment_type=allure.attachment_type.TEXT)
    problems = check.entry.mismatches(facts)
    if problems:
        pytest.fail(explain(check, problems, report), pytrace=False)
