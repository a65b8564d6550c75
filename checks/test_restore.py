"""Restore drills (tier dr): the newest backup restored into a throwaway database, verified, RTO/RPO measured.

The drill itself runs in the probe (it must verify before the sandbox is torn down); here its steps are
replayed as Allure steps, the restore log and the evidence line attached, and the verdict asserted.
"""

import json

import allure
import pytest

from opsverify.config.secrets import redact
from opsverify.config.types import format_duration
from opsverify.verdict import explain

pytestmark = pytest.mark.opsverify_kind("restore")


def test_restore(check, facts):
    for step in facts.steps:
        title = f"{step.name}: {format_duration(step.seconds)}{'' if step.ok else ' (failed)'}"
        with allure.step(redact(f"{title} — {step.detail}" if step.detail else title)):
            pass
    if facts.restore_log():
        allure.attach(
            redact(facts.restore_log()), name="restore log", attachment_type=allure.attachment_type.TEXT
        )
    if facts.record:
        allure.attach(
            redact(json.dumps(facts.record, indent=2, default=str)),
            name="drill evidence",
            attachment_type=allure.attachment_type.JSON,
        )
    problems = check.entry.mismatches(facts)
    if problems:
        pytest.fail(explain(check, problems, facts.evidence()), pytrace=False)
