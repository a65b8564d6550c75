"""Run summary: failure reasons of hand-written checks (tracebacks, xdist headers); summary.json's shape."""

from __future__ import annotations

import json

from opsverify.redaction import SECRETS
from opsverify.report.summary import CheckResult, RunSummary, split_failure_text, write_json


def test_xdist_worker_header_is_dropped() -> None:
    text = "[gw3] linux -- Python 3.11.7 /venv/bin/python\nE       ValueError: boom\n\nchecks/test_x.py:3"
    reason, details = split_failure_text(text)
    assert reason == "ValueError: boom"
    assert details.startswith("E       ValueError")


def test_traceback_reason_is_the_error_line() -> None:
    text = "def test_x():\n>       raise ValueError('boom')\nE       ValueError: boom\n\nchecks/test_x.py:3: ValueError"
    assert split_failure_text(text)[0] == "ValueError: boom"


def test_reasons_are_redacted() -> None:
    SECRETS.add("summary-secret-123")
    reason, details = split_failure_text(
        "checks/test_x.py::test_x: RuntimeError: token summary-secret-123 refused"
    )
    assert reason == "checks/test_x.py::test_x: RuntimeError: token *** refused"
    assert "summary-secret-123" not in details


def test_summary_json(tmp_path) -> None:
    results = [
        CheckResult("prod", "http", "api", ("smoke",), "critical", "failed", "status: expected 200, got 503"),
        CheckResult("prod", "tls", "cert", ("daily",), status="passed", duration=0.25),
        CheckResult("prod", "http", "old", ("smoke",), status="skipped"),
    ]
    summary = RunSummary(
        "run-1", 1_700_000_000.0, 1_700_000_012.5, ["prod"], ["smoke"], results, exit_status=1
    )
    write_json(tmp_path / "summary.json", summary.as_json())
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["target"] == "prod"
    assert data["tiers"] == ["smoke"]
    assert data["status"] == "failed"
    assert data["counts"] == {"total": 3, "passed": 1, "failed": 1, "skipped": 1}
    assert data["duration"] == 12.5
    assert data["started"] == "2023-11-14T22:13:20Z"
    (failure,) = data["failures"]
    assert (failure["id"], failure["reason"], failure["severity"]) == (
        "http:api",
        "status: expected 200, got 503",
        "critical",
    )


def test_a_run_that_checked_nothing_never_says_passed() -> None:
    empty = RunSummary(
        "run-2", 1.0, 2.0, ["prod"], ["weekly"], [], exit_status=5, empty_reason="no weekly checks"
    )
    skipped = RunSummary(
        "run-3", 1.0, 2.0, ["prod"], ["daily"], [CheckResult("prod", "http", "a", status="skipped")]
    )
    assert empty.as_json()["status"] == "no checks"
    assert empty.as_json()["empty_reason"] == "no weekly checks"
    assert skipped.as_json()["status"] == "no checks"


def test_a_check_result_as_json_has_every_field_in_order_then_its_id() -> None:
    from dataclasses import asdict, fields

    result = CheckResult(
        "prod",
        "http",
        "api",
        tiers=("smoke",),
        problems=[{"subject": "status"}],
        depends_on=("postgres:main",),
        figures={"latency_ms": 12.0},
        warnings=["slow"],
        duration=0.12345,
    )
    data = result.as_json()
    assert list(data) == [f.name for f in fields(CheckResult)] + ["id"]
    expected = {**asdict(result), "tiers": ["smoke"], "depends_on": ["postgres:main"], "duration": 0.123}
    assert data == {**expected, "id": "http:api"}
    data["problems"][0]["subject"] = "changed"  # a copy, as asdict made
    assert result.problems == [{"subject": "status"}]
