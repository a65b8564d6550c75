"""Reports written by a real run: JUnit, summary.json, Allure results with labels/steps/attachments,
environment, categories, executor; the terminal summary lists failures with their reasons."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from opsverify import __version__
from tests.conftest import json_response


def target(url: str) -> str:
    return f"""\
target: shop-prod
http:
  api: {{url: '{url}/api', tiers: [smoke], severity: critical}}
  home: {{url: '{url}/up', tiers: [smoke, daily]}}
"""


@pytest.fixture
def site(http_server):
    http_server.routes["/up"] = json_response({"status": "ok"})
    http_server.routes["/api"] = json_response({"status": "down"}, 503)
    return http_server


def allure_results(folder: Path) -> dict[str, dict[str, Any]]:
    results = [json.loads(p.read_text()) for p in folder.glob("*-result.json")]
    return {r["name"]: r for r in results}


def labels(result: dict[str, Any]) -> set[tuple[str, str]]:
    return {(label["name"], label["value"]) for label in result["labels"]}


def test_reports_of_a_run(site, run_checks, tmp_path) -> None:
    # the ops repository the run starts in is a git checkout: its commit goes into the Allure environment
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(tmp_path),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ],
        check=True,
    )
    stale = tmp_path / "reports" / "allure-results" / "old-result.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    run = run_checks(target(site.url), "-m", "smoke", env={"GITHUB_ACTIONS": "", "GITLAB_CI": ""})
    assert run.returncode == 1
    reports = run.reports

    # terminal: failures with their reasons
    assert "opsverify summary" in run.output
    assert "target shop-prod [smoke]: 2 checks: 1 passed, 1 failed" in run.output
    assert "FAILED http:api (critical): status: expected 200, got 503" in run.output

    # JUnit by default
    junit = (reports / "junit.xml").read_text()
    assert 'name="http:api"' in junit
    assert "status: expected 200, got 503" in junit
    assert '<property name="opsverify_severity" value="critical" />' in junit

    # summary.json
    summary = json.loads((reports / "summary.json").read_text())
    assert (summary["target"], summary["tiers"], summary["exit_status"]) == ("shop-prod", ["smoke"], 1)
    assert summary["counts"]["failed"] == 1
    assert summary["counts"]["passed"] == 1
    assert summary["failures"][0]["id"] == "http:api"
    assert summary["duration"] > 0

    # Allure results, the previous run's removed
    results_dir = reports / "allure-results"
    assert not stale.exists()
    results = allure_results(results_dir)
    api = results["http:api"]
    assert api["status"] == "failed"
    assert "status: expected 200, got 503" in api["statusDetails"]["message"]
    assert {
        ("epic", "shop-prod"),
        ("feature", "http"),
        ("story", "api"),
        ("severity", "critical"),
        ("tag", "smoke"),
    } <= labels(api)
    assert [step["name"] for step in api["steps"]] == [
        "probe http:api",
        "verify http:api against the target file",
    ]
    (attachment,) = api["steps"][0]["attachments"]
    assert attachment["name"] == "HTTP response"
    response = json.loads((results_dir / attachment["source"]).read_text())
    assert response["status"] == 503
    assert '"down"' in response["text"]
    assert {"name": "check", "value": "'shop-prod/http:api'"} in api["parameters"]
    environment = (results_dir / "environment.properties").read_text()
    assert "target=shop-prod\n" in environment
    assert "tiers=smoke\n" in environment
    assert f"opsverify.version={__version__}\n" in environment
    assert "git.sha=" in environment
    categories = json.loads((results_dir / "categories.json").read_text())
    assert [c["name"] for c in categories][:2] == ["Target unreachable", "Timeout"]
    assert not (results_dir / "executor.json").exists()


def test_ci_executor_and_custom_alluredir(site, run_checks, tmp_path) -> None:
    custom = tmp_path / "custom-results"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/ops",
        "GITHUB_RUN_ID": "77",
        "GITHUB_RUN_NUMBER": "3",
        "GITHUB_WORKFLOW": "gate",
    }
    run = run_checks(target(site.url), "-m", "smoke", f"--alluredir={custom}", env=env)
    assert run.returncode == 1
    assert not (run.reports / "allure-results").exists()
    executor = json.loads((custom / "executor.json").read_text())
    assert executor["buildUrl"] == "https://github.com/acme/ops/actions/runs/77"
    summary = json.loads((run.reports / "summary.json").read_text())
    assert summary["run_id"].startswith("gh-77-")
    assert summary["report_url"] == executor["buildUrl"]


def test_xdist_workers_write_results_and_the_controller_summarises(site, run_checks) -> None:
    run = run_checks(target(site.url), "-m", "smoke", "-n", "2")
    assert run.returncode == 1
    results = allure_results(run.reports / "allure-results")
    assert {"http:api", "http:home"} <= set(results)
    assert ("feature", "http") in labels(results["http:home"])
    summary = json.loads((run.reports / "summary.json").read_text())
    assert summary["counts"]["total"] == 2
    assert summary["failures"][0]["reason"] == "status: expected 200, got 503"
    assert run.output.count("FAILED http:api (critical): status: expected 200, got 503") == 1


def test_a_run_stopped_by_a_bad_target_file_keeps_the_last_results(site, run_checks, tmp_path) -> None:
    """`make demo`, then a run with a typo (exit 4): `make report` still has the demo's results to show."""
    first = run_checks(target(site.url), "-m", "smoke")
    assert first.returncode == 1, first.output
    results = tmp_path / "reports" / "allure-results"
    kept = sorted(path.name for path in results.iterdir())
    assert any(name.endswith("-result.json") for name in kept)
    broken = tmp_path / "broken.yaml"
    broken.write_text(target(site.url).replace("tiers:", "tier:", 1))
    stopped = run_checks(broken, "-m", "smoke")
    assert stopped.returncode == 4, stopped.output
    assert sorted(path.name for path in results.iterdir()) == kept
