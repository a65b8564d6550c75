"""Backup checks: one test per `backups:` entry — the newest backup is fresh, big enough and intact."""

import allure
import pytest

from opsverify.config.secrets import redact
from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("backups")


def test_backups(check, facts):
    evidence = facts.evidence()
    allure.attach(redact(evidence), name="backups", attachment_type=allure.attachment_type.TEXT)
    problems = check.entry.mismatches(facts)
    if problems:
        pytest.fail(explain(check, problems, None if facts.error else evidence), pytrace=False)
