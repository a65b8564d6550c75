"""A test's events cross from xdist workers to the controller in one pickled batch, reports pickled
(opsverify.pytest_plugin.xdist_wire): the controller gets the events and reports it got before, in the same
order, for every outcome, and a blob can only ever hold plain values."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from _pytest.reports import TestReport

from opsverify.pytest_plugin.xdist_wire import (
    BATCH_EVENT,
    WIRE_KEY,
    BatchingSender,
    batch_receiver,
    decode,
    encode,
)
from tests.conftest import LocalHTTPServer, json_response

CHECKS = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("setup broke")

@pytest.fixture
def leaky():
    yield
    raise RuntimeError("teardown broke")

def test_passes(record_property):
    record_property("rows", 3)
    print("some output")

def test_fails():
    assert 1 == 2, "one is not two"

def test_skips():
    pytest.skip("not today")

def test_setup_error(broken):
    pass

def test_teardown_error(leaky):
    pass

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert False
"""

# Counts what reaches the controller: the messages as they arrive from the workers (batches, reports sent
# alone), and the reports it deserialises (pickled alone, or plain dicts).
COUNTER = """
import pytest

SEEN = {"batches": 0, "alone": 0, "encoded": 0, "plain": 0}

@pytest.hookimpl(trylast=True)
def pytest_configure_node(node):
    receive = node.process_from_remote

    def counting(eventcall):
        if isinstance(eventcall, tuple) and eventcall[0] in ("opsverify_batch", "testreport"):
            SEEN["batches" if eventcall[0] == "opsverify_batch" else "alone"] += 1
        receive(eventcall)

    node.process_from_remote = counting

@pytest.hookimpl(wrapper=True)
def pytest_report_from_serializable(data):
    SEEN["encoded" if list(data) == ["opsverify_pickled_report"] else "plain"] += 1
    return (yield)

def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):
        (session.config.rootpath / "seen.txt").write_text(" ".join(str(n) for n in SEEN.values()))
"""


def a_report(**changes: object) -> dict[str, object]:
    report = TestReport(
        nodeid="prod.yaml::http:api",
        location=("prod.yaml", None, "http:api"),
        keywords={"http:api": 1, "smoke": 1},
        outcome="failed",
        longrepr="status: expected 200, got 503",
        when="call",
        sections=[("Captured stdout call", "text")],
        duration=0.25,
        start=1.0,
        stop=1.25,
        user_properties=[("opsverify_target", "prod")],
    )
    data = report._to_json()
    data.update({"$report_type": "TestReport", "item_index": 3, "worker_id": "gw1"}, **changes)
    return data


def test_a_report_of_plain_values_goes_pickled_and_comes_back_the_same() -> None:
    data = a_report(opsverify_problems=[{"text": "status: expected 200, got 503"}], opsverify_figures={})
    encoded = encode(data)
    assert list(encoded) == [WIRE_KEY]
    assert isinstance(encoded[WIRE_KEY], bytes)
    assert decode(encoded) == data
    assert type(decode(encoded)["location"]) is tuple  # not made a list, as JSON would


def test_a_report_holding_anything_else_goes_as_before() -> None:
    class Marker(str):
        pass

    data = a_report(attached=Marker("a plugin's object"))
    assert encode(data) is data
    assert decode(data) is None  # a plain report: pytest's own hook reads it


def test_a_blob_that_refers_to_a_class_is_refused() -> None:
    blob = pickle.dumps({"nodeid": Path("/etc/passwd")})
    with pytest.raises(pickle.UnpicklingError, match="only plain values cross"):
        decode({WIRE_KEY: blob})


def short_summary(output: str) -> list[str]:
    """pytest's short test summary (-rA), one line per outcome, sorted (xdist finishes in its own order)."""
    summary = output.split("short test summary info", 1)[1]
    return sorted(re.findall(r"^(?:PASSED|FAILED|ERROR|SKIPPED|XFAIL) .*$", summary, re.M))


def without_times(junit: str) -> str:
    junit = re.sub(r' (time|timestamp|hostname)="[^"]*"', "", junit)
    return re.sub(r"in \d+ ms", "in N ms", junit)  # the probe's latency in the evidence


def test_under_xdist_every_outcome_reaches_terminal_junit_and_durations_as_without_it(
    pytester: pytest.Pytester, http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSVERIFY_NOTIFY", "0")
    monkeypatch.delenv("OPSVERIFY_TARGET", raising=False)
    monkeypatch.setenv("OPSVERIFY_REPORTS_DIR", str(pytester.path / "reports"))
    http_server.routes["/health"] = json_response({"status": "down"}, status=503)
    (pytester.path / "prod.yaml").write_text(
        f"target: prod\nhttp:\n  health: {{url: '{http_server.url}/health'}}\n"
    )
    pytester.makepyfile(test_checks=CHECKS)
    pytester.makeconftest(COUNTER)
    outputs = {}
    for label, workers in (("plain", "0"), ("xdist", "2")):
        junit = pytester.path / f"junit-{label}.xml"
        result = pytester.runpytest_subprocess(
            "--target=prod.yaml", "test_checks.py", "-n", workers, f"--junitxml={junit}", "--durations=0",
            "--durations-min=0", "-rA",
        )  # fmt: skip
        result.assert_outcomes(passed=2, failed=2, skipped=1, errors=2, xfailed=1)
        outputs[label] = (result.stdout.str(), without_times(junit.read_text()))
    plain, xdist = outputs["plain"], outputs["xdist"]
    for testcase in re.findall(r"<testcase .*?</testcase>|<testcase [^>]*/>", plain[1], re.S):
        assert testcase in xdist[1]
    assert '<property name="rows" value="3" />' in xdist[1]
    assert short_summary(xdist[0]) == short_summary(plain[0])
    assert "FAILED prod.yaml::http:health - status: expected 200, got 503" in short_summary(xdist[0])
    for phase in ("setup", "call", "teardown"):
        assert re.search(rf"\d+\.\d\ds {phase} +test_checks.py::test_passes", xdist[0]), xdist[0]
    batches, alone, encoded, plain_reports = map(int, (pytester.path / "seen.txt").read_text().split())
    # each of the 7 tests' reports (one has no call) came batched, none alone: one batch per test, except that
    # an event sent mid-test from execnet's thread (xdist's `unscheduled` answering a steal) sends what the
    # worker kept so far first, which splits that test's batch in two (8 batches seen once in 2343 tests' CI)
    assert (alone, encoded, plain_reports) == (0, 0, 7 * 3 - 1)
    assert 7 <= batches < 2 * 7, batches


def test_a_tests_events_after_logstart_go_in_one_batch_and_come_back_in_order() -> None:
    sent: list[tuple[str, dict[str, object]]] = []
    sender = BatchingSender(lambda name, **kwargs: sent.append((name, kwargs)))
    location = ("prod.yaml", None, "http:api")
    sender("logstart", nodeid="prod.yaml::http:api", location=location)
    for when in ("setup", "call", "teardown"):
        sender("testreport", data=a_report(when=when))
    sender("logfinish", nodeid="prod.yaml::http:api", location=location)
    assert [name for name, _ in sent] == ["logstart"]  # the controller knows at once the test started
    sender("runtest_protocol_complete", item_index=3, duration=0.5)
    assert [name for name, _ in sent] == ["logstart", BATCH_EVENT]
    received: list[object] = []
    unpack = batch_receiver(received.append)
    for name, kwargs in sent:
        unpack((name, kwargs))
    assert received == [
        ("logstart", {"nodeid": "prod.yaml::http:api", "location": location}),
        *(("testreport", {"data": a_report(when=when)}) for when in ("setup", "call", "teardown")),
        ("logfinish", {"nodeid": "prod.yaml::http:api", "location": location}),
        ("runtest_protocol_complete", {"item_index": 3, "duration": 0.5}),
    ]


def test_any_other_event_sends_what_is_kept_first_and_anything_not_plain_goes_one_by_one() -> None:
    class Marker(str):
        pass

    sent: list[tuple[str, dict[str, object]]] = []
    sender = BatchingSender(lambda name, **kwargs: sent.append((name, kwargs)))
    sender("testreport", data=a_report(when="setup"))
    sender("unscheduled", indices=[7])  # xdist answers a steal meanwhile: the order stays
    assert [name for name, _ in sent] == [BATCH_EVENT, "unscheduled"]
    sent.clear()
    sender("testreport", data=a_report(attached=Marker("a plugin's object")))
    sender("testreport", data=a_report(when="teardown"))
    sender("runtest_protocol_complete", item_index=3, duration=0.5)
    assert [name for name, _ in sent] == ["testreport", "testreport", "runtest_protocol_complete"]
    assert isinstance(sent[0][1]["data"], dict)
    assert "attached" in sent[0][1]["data"]  # as xdist sends it
    assert list(sent[1][1]["data"]) == [WIRE_KEY]  # a plain report still goes pickled alone


def test_a_batch_that_refers_to_a_class_is_refused_as_an_internal_error() -> None:
    received: list[object] = []
    batch_receiver(received.append)((BATCH_EVENT, {"blob": pickle.dumps([("logfinish", {"at": Path("/")})])}))
    assert len(received) == 1
    name, kwargs = received[0]  # type: ignore[misc]
    assert name == "internal_error"
    assert "only plain values cross" in kwargs["formatted_error"]


def test_under_xdist_secrets_appear_in_no_output_or_report(
    pytester: pytest.Pytester, http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    password, token = "s26c-password-5150", "s26c-token-9001"
    monkeypatch.setenv("OPSVERIFY_NOTIFY", "0")
    monkeypatch.delenv("OPSVERIFY_TARGET", raising=False)
    monkeypatch.setenv("OPSVERIFY_REPORTS_DIR", str(pytester.path / "reports"))
    monkeypatch.setenv("API_PASSWORD", password)
    monkeypatch.setenv("UPSTREAM_TOKEN", token)
    # the service echoes the token in its answer: the failure's evidence holds it unless it is masked
    http_server.routes["/health"] = json_response({"status": "down", "seen": token}, status=503)
    host = http_server.url.removeprefix("http://")
    entries = "".join(
        f"  api-{i}: {{url: 'http://app:${{API_PASSWORD}}@{host}/health', headers: {{X-Upstream: "
        f"'${{UPSTREAM_TOKEN}}'}}, expect: {{json: {{status: up}}}}}}\n"
        for i in range(4)
    )
    (pytester.path / "prod.yaml").write_text(f"target: prod\nhttp:\n{entries}")
    result = pytester.runpytest_subprocess("--target=prod.yaml", "-n", "2", "-rA", "-v")
    result.assert_outcomes(failed=4)
    assert "status: expected 200, got 503" in result.stdout.str()
    assert {request["headers"].get("X-Upstream") for request in http_server.requests} == {token}  # sent
    reports = pytester.path / "reports"
    assert (reports / "summary.json").is_file()
    assert (reports / "junit.xml").is_file()
    assert len(list((reports / "allure-results").glob("*-result.json"))) == 4
    written = result.stdout.str() + result.stderr.str()
    written += "\n".join(p.read_text(errors="replace") for p in reports.rglob("*") if p.is_file())
    assert password not in written
    assert token not in written
    assert "app:***@" in written  # the URL is shown, its password masked
    assert re.search(r'seen\\?": \\?"\*\*\*', written)  # the echoed token is in the evidence, masked


def test_a_worker_that_dies_in_a_test_is_reported_as_xdist_reports_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dying test's kept events (its setup report) never leave the worker: xdist still names the test."""
    monkeypatch.setenv("OPSVERIFY_NOTIFY", "0")
    monkeypatch.delenv("OPSVERIFY_TARGET", raising=False)
    monkeypatch.setenv("OPSVERIFY_REPORTS_DIR", str(pytester.path / "reports"))
    (pytester.path / "prod.yaml").write_text("target: prod\nhttp: {}\n")
    pytester.makepyfile(
        test_dies="""
import os
import pytest

@pytest.mark.parametrize("i", range(6))
def test_x(i):
    if i == 2:
        os._exit(3)
"""
    )
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        "--target=prod.yaml", "test_dies.py", "-n", "2", f"--junitxml={junit}"
    )
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.re_match_lines([r".*worker 'gw\d' crashed while running 'test_dies.py::test_x\[2\]'"])
    assert re.search(r'<testcase classname="test_dies" name="test_x\[2\]"[^>]*><error ', junit.read_text())
