"""A check's duration in the reports includes its probe: the pool runs live probes ahead of the tests, and a
drill runs in its test's setup, yet JUnit, summary.json and Allure show the time the check really took."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.conftest import LocalHTTPServer, Response, RunResult, json_response
from tests.drills.test_file_drills import emailops_backup

SLOW_SECONDS = 1.0


def answer_after_a_second(_request: BaseHTTPRequestHandler) -> Response:
    time.sleep(SLOW_SECONDS)
    return json_response({"status": "ok"})


def junit_times(reports: Path) -> dict[str, float]:
    """JUnit `time` of every test case, by the check id in its name (`http:first`)."""
    tree = ET.parse(reports / "junit.xml")  # noqa: S314 (written by this test's own run)
    cases = tree.getroot().iter("testcase")
    return {case.attrib["name"].split("[")[-1].rstrip("]"): float(case.attrib["time"]) for case in cases}


def allure_results(reports: Path) -> dict[str, dict[str, Any]]:
    files = (reports / "allure-results").glob("*-result.json")
    return {result["name"]: result for result in (json.loads(path.read_text()) for path in files)}


def seconds(span: dict[str, Any]) -> float:
    """The length of an Allure result or step (`start` and `stop` are milliseconds)."""
    return float(span["stop"] - span["start"]) / 1000


def summary_durations(reports: Path) -> dict[str, float]:
    summary = json.loads((reports / "summary.json").read_text())
    return {check["id"]: check["duration"] for check in summary["checks"]}


def test_a_pooled_check_lasts_as_long_as_its_probe(
    http_server: LocalHTTPServer, run_checks: Callable[..., RunResult]
) -> None:
    """Both probes run at once; the second test finds its facts ready, yet its check took a second too."""
    http_server.routes["/first"] = answer_after_a_second
    http_server.routes["/second"] = answer_after_a_second
    target = f"""\
target: slow
http:
  first: {{url: '{http_server.url}/first', tiers: [smoke]}}
  second: {{url: '{http_server.url}/second', tiers: [smoke]}}
"""
    run = run_checks(target, "-m", "smoke")
    assert run.returncode == 0, run.output
    junit, allure, summary = (
        junit_times(run.reports),
        allure_results(run.reports),
        summary_durations(run.reports),
    )
    for check in ("http:first", "http:second"):
        result = allure[check]
        probe = result["steps"][0]
        assert probe["name"] == f"probe {check}"
        assert probe["start"] == result["start"]  # the check starts when its probe did
        probe_seconds, check_seconds = seconds(probe), seconds(result)
        assert probe_seconds >= SLOW_SECONDS
        assert probe_seconds <= check_seconds < 2 * probe_seconds, (check, result)
        # The probe's time counts once: not also as the first test's wait for it in setup. No fixed budget:
        # a double count is at least twice the probe, whatever the machine's load.
        assert probe_seconds <= junit[check] < check_seconds + probe_seconds, (check, junit, result)
        assert probe_seconds <= summary[check] < check_seconds + probe_seconds, (check, summary, result)


def test_a_drill_lasts_as_long_as_its_rto(tmp_path: Path, run_checks: Callable[..., RunResult]) -> None:
    """A drill runs in its test's setup; the test's duration (JUnit and Allure) covers its measured RTO."""
    emailops_backup(tmp_path / "backups")
    slow_query = "with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000000) select count(*) from c"
    target = f"""\
target: drill
backups:
  index:
    path: {tmp_path / "backups"}
    pattern: "emailops-*.db"
    format: sqlite
    settle: 0s
    max_age: 26h
    restore:
      expect:
        tables: [messages]
        queries: {{count-slowly: {{sql: "{slow_query}", min: 1}}}}
      rto: 5m
"""
    run = run_checks(target, "-m", "dr")
    assert run.returncode == 0, run.output
    (line,) = (run.reports / "drills.jsonl").read_text().splitlines()
    rto = json.loads(line)["rto_s"]
    assert rto > 0.2  # the slow query makes the RTO measurable next to the test's own overhead
    junit = junit_times(run.reports)["restore:index"]
    result = allure_results(run.reports)["restore:index"]
    probe = result["steps"][0]
    assert probe["name"] == "probe restore:index"
    assert probe["start"] == result["start"]
    probe_seconds, check_seconds = seconds(probe), seconds(result)
    # The drill (its RTO and more: loading, the sandbox) is the probe; the check lasts that long, once. No
    # fixed budget: a double count is at least twice the probe, whatever the machine's load.
    assert rto <= probe_seconds <= check_seconds < 2 * probe_seconds, (rto, result)
    assert rto <= junit < check_seconds + probe_seconds, (rto, junit, result)
