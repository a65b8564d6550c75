"""Log checks: one test per `logs:` entry; a failure quotes the first matching lines (redacted)."""

import allure
import pytest

from opsverify.config.secrets import redact
from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("logs")


def test_logs(check, facts):
    evidence = None if facts.error else facts.evidence()  # no file found: the problem says so, once
    if evidence:
        counted = f"{check.entry.what(facts.count)} {check.entry.window(facts)}"
        allure.attach(
            redact(f"{counted}\n{evidence}"), name="log lines", attachment_type=allure.attachment_type.TEXT
        )
    problems = check.entry.mismatches(facts)
    if problems:
        pytest.fail(explain(check, problems, evidence), pytrace=False)
