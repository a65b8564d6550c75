"""A failed check shows its evidence once (in the failure, not again as captured stdout), and a check that
found nothing to look at says so once, without a contradictory "scanned 0 files" or "0 backups" below it.
Passing checks still carry their evidence, as an Allure attachment. Both tests read one run (`daily_run`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import LocalHTTPServer, json_response

METRICS = b"# TYPE up gauge\nup 0\n"


def target(url: str, folder: Path) -> str:
    return f"""\
target: shop
http:
  api: {{url: '{url}/healthz', expect: {{json: {{status: ok}}}}}}
metrics:
  svc: {{url: '{url}/metrics', rules: {{up: {{metric: up, min: 1}}}}}}
logs:
  errors: {{path: '{folder}/logs/app.log', level: ERROR}}
  quiet: {{path: '{folder}/logs/app.log', patterns: [never-logged]}}
  missing: {{path: '{folder}/nowhere/*.log'}}
backups:
  db: {{path: '{folder}/backups', pattern: 'db-*.sql.gz'}}
"""


def failure_block(output: str, test_id: str) -> str:
    """The text pytest prints under `___ <test_id> ___`, up to the next header."""
    start = output.index(f" {test_id} ___")
    end = output.find("\n___", start + 1)
    following = [i for i in (end, output.find("\n====", start)) if i != -1]
    return output[start : min(following)]


@dataclass
class DailyRun:
    returncode: int
    output: str
    reports: Path
    url: str


@pytest.fixture(scope="module")
def daily_run(tmp_path_factory: pytest.TempPathFactory) -> DailyRun:
    """One `pytest --target=... -m daily` run for both tests (as `run_checks` runs it): http:api, the metrics
    rule, logs:errors, logs:missing and backups:db fail; logs:quiet passes, having read one line."""
    folder = tmp_path_factory.mktemp("evidence-once")
    server = LocalHTTPServer().start()
    server.routes["/healthz"] = json_response({"status": "down-7731"})
    server.routes["/metrics"] = (200, {"Content-Type": "text/plain; version=0.0.4"}, METRICS)
    (folder / "logs").mkdir()
    (folder / "logs" / "app.log").write_text("2026-01-01T00:00:00Z ERROR disk-full-4417\n")
    (folder / "backups").mkdir()
    (folder / "target.yaml").write_text(target(server.url, folder))
    reports = folder / "reports"
    environment = {k: v for k, v in os.environ.items() if k != "OPSVERIFY_TARGET"}
    environment |= {
        "OPSVERIFY_REPORTS_DIR": str(reports),
        "OPSVERIFY_STATE_DIR": str(reports / "state"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--target={folder / 'target.yaml'}"]
    try:
        completed = subprocess.run(
            [*command, "-m", "daily"],
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        server.stop()
    return DailyRun(completed.returncode, completed.stdout + completed.stderr, reports, server.url)


def test_a_failure_shows_its_evidence_once(daily_run: DailyRun) -> None:
    output = daily_run.output
    assert daily_run.returncode == 1, output
    assert "Captured stdout" not in output
    assert output.count('{"status": "down-7731"}') == 1  # the HTTP response excerpt
    assert output.count(f"GET {daily_run.url}/metrics -> 200") == 1  # the scraped rule values
    assert output.count("disk-full-4417") == 1  # the quoted log line
    assert "expected at most 0, got 1 line of level ERROR or above in the whole files in 1 file" in output

    missing = failure_block(output, "logs:missing")
    assert "no log file matches" in missing
    assert "  evidence:" not in missing
    empty = failure_block(output, "backups:db")
    assert "(the folder is empty)" in empty
    assert "  evidence:" not in empty
    for contradiction in ("scanned 0", "file(s)", "0 backups"):
        assert contradiction not in output, contradiction


def test_a_passing_check_keeps_its_evidence_in_the_report(daily_run: DailyRun) -> None:
    allure = daily_run.reports / "allure-results"
    results = [json.loads(p.read_text()) for p in allure.glob("*-result.json")]
    (quiet,) = [r for r in results if r["name"] == "logs:quiet"]
    assert quiet["status"] == "passed", daily_run.output
    # The verdict's evidence, attached for every check that has some, passing or not.
    (evidence,) = [a for a in quiet["attachments"] if a["name"] == "evidence"]
    text = (allure / evidence["source"]).read_text()
    assert text.startswith("scanned 1 file, 1 line in ")
    # The probe's facts, as JSON: what was counted.
    (facts,) = [
        a for step in quiet["steps"] for a in step.get("attachments", []) if a["name"] == "logs facts"
    ]
    counted = json.loads((allure / facts["source"]).read_text())
    assert (counted["count"], counted["lines_read"], counted["matches"]) == (0, 1, [])
