"""Log checks: one test per `logs:` entry; a failure quotes the first matching lines (redacted)."""

import pytest

from opsverify.config.secrets import redact
from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("logs")


def test_logs(check, facts):
    print(redact(f"{facts.count} {check.entry.what()} {check.entry.window(facts)}\n{facts.evidence()}"))
    problems = check.entry.mismatches(facts)
    if problems:
        pytest.fail(explain(check, problems, facts.evidence()), pytrace=False)
