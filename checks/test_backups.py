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
        # No backup found: the problem already says so (and what the folder holds); no "0 backups" below it.
        found = facts.error is None and facts.newest is not None
        pytest.fail(explain(check, problems, evidence if found else None), pytrace=False)
