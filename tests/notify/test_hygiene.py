"""Alert hygiene: silences, maintenance windows, depends_on and `failure_threshold: N of M`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from opsverify.cli import main
from opsverify.config.notify import Policy
from opsverify.notify.maintenance import MaintenanceWindow
from opsverify.notify.policy import decide, mark_alerted
from opsverify.notify.state import NotifyState
from tests.conftest import refused_port
from tests.notify.conftest import result
from tests.notify.e2e import Service, target_yaml

ROUTES = "  routes:\n    - {match: {status: failed}, to: [ops-slack]}\n"


@pytest.fixture
def service(http_server) -> Service:
    return Service(http_server).install()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_first_saturday_window() -> None:
    window = MaintenanceWindow.model_validate({"cron": "0 2 1-7 * sat", "duration": "4h"})
    assert window.is_open(at("2026-12-05T02:00"))  # the first Saturday of December 2026
    assert window.is_open(at("2026-12-05T05:59"))
    assert not window.is_open(at("2026-12-05T06:01"))
    assert not window.is_open(at("2026-12-05T01:59"))
    assert not window.is_open(at("2026-12-12T03:00"))  # the second Saturday
    weekly = MaintenanceWindow.model_validate({"weekly": "sat 02:00", "duration": "4h"})
    assert weekly.is_open(at("2026-12-12T03:00"))
    zoned = MaintenanceWindow.model_validate(
        {"weekly": "sun 23:00", "duration": "2h", "timezone": "Europe/Berlin"}
    )
    assert zoned.is_open(at("2026-12-06T22:30"))  # 23:30 in Berlin


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"cron": "0 2 1-7 *", "duration": "4h"}, "needs 5 fields"),
        ({"cron": "0 25 * * *", "duration": "4h"}, "hour '25' must lie within 0-23"),
        ({"weekly": "someday 02:00", "duration": "4h"}, "a day and a time"),
        ({"duration": "4h"}, "exactly one of"),
        ({"weekly": "sat 02:00", "duration": "4h", "timezone": "Mars/Base"}, "unknown time zone"),
    ],
)
def test_bad_windows_are_config_errors(run_checks, window: dict, message: str) -> None:
    text = target_yaml("http://127.0.0.1:9", ROUTES + f"  maintenance: [{json.dumps(window)}]\n")
    run = run_checks(text)
    assert run.returncode == 4, run.output
    assert "notify.maintenance" in run.output
    assert message in run.output


def test_failure_threshold_n_of_m_counts_flapping() -> None:
    state, policy = NotifyState(), Policy(failure_threshold="3 of 5")
    decisions = []
    for now, status in enumerate(["failed", "passed", "failed", "passed", "failed", "failed"]):
        decision = decide([result("api", status)], state, policy, float(now))["http:api"]
        if decision in ("new", "reminder"):
            mark_alerted(state, {"http:api"}, float(now))
        decisions.append(decision)
    assert decisions == ["below_threshold", "passing", "below_threshold", "passing", "new", "ongoing"]
    consecutive = NotifyState()
    for now, status in enumerate(["failed", "passed", "failed", "passed", "failed"]):
        last = decide([result("api", status)], consecutive, Policy(failure_threshold=3), float(now))[
            "http:api"
        ]
    assert last == "below_threshold"


def test_a_flapping_check_resolves_only_once_it_stops_flapping() -> None:
    """3 of 5: alerted once; each pass while 3 of the last 5 runs still failed is `flapping` (nothing sent,
    the alert stays open, so the next failure is `ongoing`, not a new alert); resolved when it settles."""
    state, policy = NotifyState(), Policy(failure_threshold="3 of 5")
    runs = ["failed", "failed", "failed", "passed", "failed", "passed", "passed", "passed", "failed"]
    decisions = []
    for now, status in enumerate(runs):
        decision = decide([result("api", status)], state, policy, float(now))["http:api"]
        if decision in ("new", "reminder"):
            mark_alerted(state, {"http:api"}, float(now))
        decisions.append(decision)
    assert decisions == [
        "below_threshold",
        "below_threshold",
        "new",  # FFF
        "flapping",  # FFFP: 3 of the last 5 failed, no "resolved"
        "ongoing",  # FFFPF: the open alert, no second message
        "flapping",  # FFPFP
        "resolved",  # FPFPP: 2 of 5, once
        "passing",
        "below_threshold",  # PFPPPF... a new count from here
    ]
    assert state.check("http:api").alerted_at is None


def test_a_flapping_check_sends_one_alert_and_one_resolved(service, run_checks) -> None:
    """Through the plugin and a real webhook receiver: fail, fail, fail, pass, fail, pass, pass."""
    text = target_yaml(service.server.url, ROUTES + "  policy: {failure_threshold: 3 of 5}\n")
    outcomes = []
    for healthy in (False, False, False, True, False, True, True):
        service.healthy = healthy
        run = run_checks(text)
        outcomes.append(run.returncode)
    assert outcomes == [1, 1, 1, 0, 1, 0, 0]
    messages = [json.dumps(m) for m in service.slack_messages()]
    assert len(messages) == 2, messages
    assert "[FAILED]" in messages[0]
    assert "[RESOLVED]" in messages[1]


def test_bad_failure_threshold_is_a_config_error(run_checks) -> None:
    run = run_checks(target_yaml("http://127.0.0.1:9", ROUTES + "  policy: {failure_threshold: 6 of 5}\n"))
    assert run.returncode == 4, run.output
    assert "failure_threshold" in run.output
    assert "'N of M'" in run.output


@pytest.fixture
def opsverify(monkeypatch, capsys) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`opsverify(tmp_path, ARGS)`: `opsverify ARGS --target tmp_path/target.yaml` with the state in
    tmp_path/reports/state, called in this process: the silence commands need no process of their own (the
    runs that read the silences they write stay separate processes), and each would pay the start-up."""

    def run(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
        monkeypatch.setenv("OPSVERIFY_STATE_DIR", str(tmp_path / "reports" / "state"))
        monkeypatch.chdir(tmp_path)
        capsys.readouterr()
        command = [*args, "--target", str(tmp_path / "target.yaml")]
        try:
            code = main(command)
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(["opsverify", *command], code, captured.out, captured.err)

    return run


def test_a_silence_sends_nothing_until_cleared(service, run_checks, opsverify, tmp_path) -> None:
    text = target_yaml(service.server.url, ROUTES)
    (tmp_path / "target.yaml").write_text(text)
    added = opsverify(tmp_path, "silence", "http:a*", "--for", "2h", "--reason", "deploy 42")
    assert added.returncode == 0, added.stderr
    assert "silenced http:a* on shop-prod until" in added.stdout
    listed = opsverify(tmp_path, "silence", "--list")
    assert "http:a*" in listed.stdout
    assert "deploy 42" in listed.stdout
    run = run_checks(text)
    assert run.returncode == 1  # a silenced failure still fails the run
    assert service.slack_messages() == []
    assert "FAILED http:api" in run.output
    assert "silenced until" in run.output
    assert "deploy 42" in run.output
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    (api,) = [r for r in summary["checks"] if r["id"] == "http:api"]
    assert api["note"].startswith("silenced until")
    assert api["status"] == "failed"
    allure = allure_result(tmp_path / "reports", "shop-prod/http:api")
    assert allure["status"] == "failed"  # still a failure, shown muted and tagged as silenced
    assert allure["statusDetails"]["muted"] is True
    assert {"name": "tag", "value": "silenced"} in allure["labels"]
    assert allure["statusDetails"]["message"].startswith("[silenced until ")
    assert "deploy 42" in allure["statusDetails"]["message"]
    cleared = opsverify(tmp_path, "silence", "--clear")
    assert "cleared 1 silence of shop-prod" in cleared.stdout
    run_checks(text)
    assert len(service.slack_messages()) == 1


def allure_result(reports, key: str) -> dict:
    """The Allure result of the check `key` (target/check id) in reports/allure-results."""
    for path in (reports / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text())
        if any(p.get("name") == "check" and p.get("value") == repr(key) for p in data.get("parameters", [])):
            return data
    raise AssertionError(f"no Allure result for {key}")


def test_silence_needs_a_duration(opsverify, tmp_path) -> None:
    (tmp_path / "target.yaml").write_text(target_yaml("http://127.0.0.1:9", ROUTES))
    assert opsverify(tmp_path, "silence", "http:api", "--for", "soon").returncode == 2
    assert "--for 'soon'" in opsverify(tmp_path, "silence", "http:api", "--for", "soon").stderr


def test_a_silence_of_a_check_the_target_does_not_have_is_refused(opsverify, tmp_path) -> None:
    """A typo would silence nothing, while the operator believes the alert is muted."""
    (tmp_path / "target.yaml").write_text(target_yaml("http://127.0.0.1:9", ROUTES))
    typo = opsverify(tmp_path, "silence", "http:apii", "--for", "2h")
    assert typo.returncode == 2
    assert "error: 'http:apii' matches no check of target shop-prod (did you mean 'http:api'?)" in typo.stderr
    assert "its checks: http:api, http:home" in typo.stderr
    assert opsverify(tmp_path, "silence", "http:nonexistent*", "--for", "2h").returncode == 2
    assert "silence" not in opsverify(tmp_path, "silence", "--list").stdout.split(":", 1)[1].replace(
        "silences", ""
    )
    for pattern in ("http:*", "http:home", "custom:test_revision"):
        added = opsverify(tmp_path, "silence", pattern, "--for", "1m")
        assert added.returncode == 0, added.stderr


def test_the_custom_kind_is_the_reports_one() -> None:
    from opsverify.report.labels import CUSTOM_KIND
    from opsverify.state.cli import CUSTOM_KIND as SILENCE_CUSTOM_KIND

    assert SILENCE_CUSTOM_KIND == CUSTOM_KIND


def test_a_maintenance_window_sends_nothing(service, run_checks) -> None:
    window = "  maintenance: [{cron: '* * * * *', duration: 1h, reason: 'planned upgrade'}]\n"
    run = run_checks(target_yaml(service.server.url, ROUTES + window))
    assert run.returncode == 1
    assert service.slack_messages() == []
    assert "in maintenance window" in run.output
    assert "planned upgrade" in run.output


def test_a_failing_dependency_alerts_alone(service, run_checks) -> None:
    text = target_yaml(service.server.url, ROUTES).replace(
        "  api: {url:",
        "  api: {depends_on: ['postgres:main'], url:",
    ) + (
        f"postgres:\n  main: {{url: 'postgresql://postgres@127.0.0.1:{refused_port()}/x', tiers: [smoke, daily]}}\n"
    )
    run = run_checks(text)
    assert run.returncode == 1, run.output
    (message,) = service.slack_messages()
    assert "postgres:main" in json.dumps(message)
    assert "http:api" not in json.dumps(message)
    assert "blocked by postgres:main" in run.output
    blocked = allure_result(run.reports, "shop-prod/http:api")
    assert {"name": "tag", "value": "blocked"} in blocked["labels"]
    assert "muted" not in blocked["statusDetails"]  # a blocked check is not muted: its cause is alerted
    assert blocked["statusDetails"]["message"].startswith("[blocked by postgres:main; nothing was sent]")


def test_depends_on_names_an_existing_check(run_checks) -> None:
    text = "target: t\nhttp:\n  a: {url: 'http://127.0.0.1:9/', depends_on: ['postgres:mian']}\n"
    run = run_checks(text)
    assert run.returncode == 4, run.output
    assert "depends_on" in run.output
    assert "postgres:mian" in run.output
