"""The Allure record of one check: a `probe` step with the redacted facts and one sub-step per phase, the
drill's steps and evidence, a `verify` step with the problems. Called by the plugin's reporting hooks."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from opsverify.kinds.base import HasPhases, Phase
from opsverify.problem import Judgement
from opsverify.redaction import redact
from opsverify.units import format_duration

if TYPE_CHECKING:
    from opsverify.report.allure_steps import OpenResult

ATTACHMENT_NAMES = {"http": "HTTP response", "postgres": "query results", "restore": "restore log"}
ATTACHMENT_LIMIT = 200_000


def allure_results_dir(config: pytest.Config) -> Path | None:
    given = getattr(config.option, "allure_report_dir", None)
    return Path(given) if given else None


def record_check(
    config: pytest.Config,
    display_id: str,
    key: str,
    check_id: str,
    kind: str,
    facts: Any,
    judgement: Judgement,
) -> None:
    """Allure: the check id as title, a `probe` step (redacted facts, one sub-step per phase), a `verify` step."""
    import allure
    from allure_commons.types import AttachmentType

    from opsverify.report.allure_steps import OpenResult

    # allure-pytest ships no type hints. The parameter shows the check's key (target/id).
    allure.dynamic.title(display_id)  # type: ignore[no-untyped-call]
    allure.dynamic.parameter("check", key)
    result = OpenResult.of(config)
    if result is None:
        return
    probe = result.step(result.result, f"probe {check_id}")
    try:
        text = facts_text(facts)
    except Exception as exc:  # noqa: BLE001 (a report detail must never change the check's verdict)
        text = json.dumps({"facts": redact(f"not shown: {type(exc).__name__}: {exc}")})
    result.attach(probe, ATTACHMENT_NAMES.get(kind, f"{kind} facts"), text, AttachmentType.JSON)
    phase_steps(result, probe, facts)
    if judgement.evidence:
        result.attach(result.result, "evidence", redact(judgement.evidence), AttachmentType.TEXT)
    extra_attachments(facts)
    problems = judgement.problems
    failure = redact("; ".join(p.text for p in problems)) if problems else None
    result.step(result.result, f"verify {check_id} against the target file", failure)


def extra_attachments(facts: Any) -> None:
    """Drills: one step per drill step, the restore log and the evidence record."""
    import allure

    for step in getattr(facts, "steps", None) or []:
        title = f"{step.name}: {format_duration(step.seconds)}{'' if step.ok else ' (failed)'}"
        with allure.step(redact(f"{title} — {step.detail}" if step.detail else title)):
            pass
    restore_log = getattr(facts, "restore_log", None)
    if callable(restore_log) and restore_log():
        allure.attach(redact(restore_log()), name="restore log", attachment_type=allure.attachment_type.TEXT)
    record = getattr(facts, "record", None)
    if record:
        allure.attach(
            redact(json.dumps(record, indent=2, default=str)),
            name="drill evidence",
            attachment_type=allure.attachment_type.JSON,
        )


def drill_record_of(facts: Any) -> dict[str, Any] | None:
    """A drill's evidence record as plain JSON data (it travels from xdist workers), or None."""
    record = getattr(facts, "record", None)
    if not isinstance(record, dict) or not record or "rto_target_s" not in record:
        return None
    try:
        data = json.loads(json.dumps(record, default=str))
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def include_probe_in_allure(item: pytest.Item, check_id: str, seconds: float) -> None:
    """Start the Allure result (and its `probe` step) `seconds` earlier: when the probe began, before the call.

    allure-pytest times a test by its call phase and writes the result when the test's protocol ends;
    until then the result is the listener's last scheduled one. Start and stop are epoch milliseconds.
    """
    if allure_results_dir(item.config) is None:
        return
    from opsverify.report.allure_steps import open_result

    result = open_result(item.config)
    if result is None or getattr(result, "start", None) is None:
        return
    result.start -= round(seconds * 1000)
    for step in getattr(result, "steps", None) or []:
        if step.name == f"probe {check_id}":
            step.start = result.start
            break


def phase_steps(result: OpenResult, probe: Any, facts: object) -> None:
    """One Allure step per phase of the probe (inside the `probe` step), failed where the phase failed.

    Probes run in threads ahead of the tests and never touch Allure; the phases are read from their facts
    here. A failed phase carries its detail as the message, without a made-up traceback.
    """
    if not isinstance(facts, HasPhases):
        return
    try:
        phases = facts.phases()
    except Exception as exc:  # noqa: BLE001 (a report detail must never change the check's verdict)
        phases = [Phase("list the probe's phases", False, f"{type(exc).__name__}: {exc}")]
    for phase in phases:
        failure = None if phase.ok else redact(phase.detail or f"{phase.name} failed")
        result.step(probe, redact(phase.title()), failure)


def facts_text(facts: object) -> str:
    """A probe's facts as JSON (dataclasses field by field, anything else as text), redacted string by string
    for an Allure attachment (masking the JSON text instead could cut a JSON string at an `Authorization: ...`
    value). Text that is too long is cut after it is masked, so no part of a secret survives at the cut."""
    if dataclasses.is_dataclass(facts) and not isinstance(facts, type):
        from opsverify.report.allure_steps import redacted_json

        text = redacted_json(facts)
    else:
        text = json.dumps({"facts": redact(repr(facts))}, indent=2, ensure_ascii=False)
    if len(text) > ATTACHMENT_LIMIT:
        text = text[:ATTACHMENT_LIMIT] + f"\n… ({len(text) - ATTACHMENT_LIMIT} more characters)"
    return text
