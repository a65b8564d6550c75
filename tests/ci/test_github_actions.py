"""The GitHub Actions workflows for users: they parse, pass actionlint, and their steps work when run."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ci.conftest import CI, base_env, load, render, run_bash, tool
from tests.conftest import REPO, json_response

WORKFLOWS = sorted((CI / "github").glob("*.yml"))


def step(workflow: dict, job: str, name_or_id: str) -> dict:
    for entry in workflow["jobs"][job]["steps"]:
        if name_or_id in (entry.get("id"), entry.get("name")):
            return entry
    raise KeyError(name_or_id)


def test_the_workflows_are_shipped():
    assert [p.name for p in WORKFLOWS] == [
        "opsverify-gate.yml",
        "opsverify-matrix.yml",
        "opsverify-nightly-drill.yml",
    ]


def lint(workflows_dir: Path) -> subprocess.CompletedProcess[str]:
    """actionlint (with shellcheck on every `run:` script) over a repository holding these workflows."""
    subprocess.run(["git", "init", "-q", str(workflows_dir.parent.parent)], check=True)
    return subprocess.run(
        [tool("actionlint"), "-color=false", f"-shellcheck={tool('shellcheck')}"],
        cwd=workflows_dir.parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def test_actionlint_passes(tmp_path):
    # Users copy them to .github/workflows/, where the matrix workflow finds the reusable gate.
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for path in WORKFLOWS:
        shutil.copy(path, workflows)
    result = lint(workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_mistake(tmp_path):
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    text = (CI / "github" / "opsverify-gate.yml").read_text()
    (workflows / "gate.yml").write_text(text.replace("${{ inputs.health-url }}", "${{ inputs.health_url }}"))
    result = lint(workflows)
    assert result.returncode != 0
    assert "health_url" in result.stdout


def test_reusable_gate_interface():
    gate = load(CI / "github" / "opsverify-gate.yml")
    call = gate[True]["workflow_call"]  # PyYAML reads the key `on` as True
    assert call["inputs"]["target"]["required"] is True
    assert {"target", "tiers", "wait", "health-url"} <= set(call["inputs"])
    assert call["inputs"]["tiers"]["default"] == "smoke"
    assert "OPSVERIFY_ENV" in call["secrets"]
    upload = step(gate, "gate", "Upload JUnit and Allure results")
    assert upload["if"] == "always()"
    assert "reports/allure-results" in upload["with"]["path"]
    assert "reports/junit.xml" in upload["with"]["path"]


def test_nightly_drill_runs_on_cron_without_overlap():
    drill = load(CI / "github" / "opsverify-nightly-drill.yml")
    assert drill[True]["schedule"][0]["cron"] == "0 1 * * *"
    assert "workflow_dispatch" in drill[True]
    assert drill["concurrency"]["cancel-in-progress"] is False
    job = drill["jobs"]["drill"]
    assert job["services"]["sandbox"]["image"].startswith("postgres:")
    assert job["env"]["DRILL_ADMIN_URL"].startswith("postgresql://postgres:drill@localhost:5432/")
    assert step(drill, "drill", "Restore drill")["run"] == 'opsverify run dr --target "$OPSVERIFY_TARGET"'


def run_gate_step(
    tmp_path: Path, target: Path, health_url: str, wait: str = "10s"
) -> tuple[subprocess.CompletedProcess[str], str]:
    gate = load(CI / "github" / "opsverify-gate.yml")
    entry = step(gate, "gate", "gate")
    inputs = {"target": str(target), "tiers": "smoke", "wait": wait, "health-url": health_url}
    inputs["pytest-args"] = "-p no:cacheprovider -v"
    context = {f"inputs.{key}": value for key, value in inputs.items()}
    output = tmp_path / "github_output"
    env = base_env(tmp_path, GITHUB_OUTPUT=str(output))
    env.update({key: render(str(value), context) for key, value in entry["env"].items()})
    result = run_bash(render(entry["run"], context), env, cwd=REPO)
    return result, output.read_text() if output.exists() else ""


@pytest.fixture
def target(tmp_path, http_server):
    path = tmp_path / "prod.yaml"
    path.write_text(
        f"target: prod\nhttp:\n  api-health:\n    url: {http_server.url}/healthz\n    tiers: [smoke]\n"
    )
    return path


def test_the_gate_step_passes_a_healthy_service(tmp_path, http_server, target):
    http_server.routes["/healthz"] = json_response({"status": "ready"})
    result, output = run_gate_step(tmp_path, target, f"{http_server.url}/healthz")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{target}::http:api-health PASSED" in result.stdout
    assert output == "status=passed\n"

    # The summary step turns reports/summary.json into the job summary.
    summary_step = step(load(CI / "github" / "opsverify-gate.yml"), "gate", "Summary")
    job_summary = tmp_path / "step_summary.md"
    shutil.copytree(tmp_path / "reports", tmp_path / "work" / "reports")
    rendered = run_bash(
        summary_step["run"], base_env(tmp_path, GITHUB_STEP_SUMMARY=str(job_summary)), cwd=tmp_path / "work"
    )
    assert rendered.returncode == 0, rendered.stderr
    assert "### opsverify passed: prod" in job_summary.read_text()


def test_the_gate_step_fails_the_job_when_the_gate_fails(tmp_path, http_server, target):
    http_server.routes["/healthz"] = json_response({"status": "starting"}, status=503)
    result, output = run_gate_step(tmp_path, target, f"{http_server.url}/healthz", wait="1")
    assert result.returncode == 69
    assert output == "status=failed\n"


def test_the_secrets_step_exports_and_masks_each_value(tmp_path):
    entry = step(
        load(CI / "github" / "opsverify-gate.yml"), "gate", "Export the checks' environment (masked)"
    )
    github_env = tmp_path / "github_env"
    secret = "DATABASE_URL=postgresql://ops:s3cret@db/app\n# comment\n\nSLACK_WEBHOOK_URL=https://hooks.example/T0/B1"
    result = run_bash(
        entry["run"], base_env(tmp_path, GITHUB_ENV=str(github_env), OPSVERIFY_ENV=secret), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert github_env.read_text().splitlines() == [
        "DATABASE_URL=postgresql://ops:s3cret@db/app",
        "SLACK_WEBHOOK_URL=https://hooks.example/T0/B1",
    ]
    assert result.stdout.splitlines() == [
        "::add-mask::postgresql://ops:s3cret@db/app",
        "::add-mask::https://hooks.example/T0/B1",
    ]
    empty = run_bash(
        entry["run"], base_env(tmp_path, GITHUB_ENV=str(github_env), OPSVERIFY_ENV=""), cwd=tmp_path
    )
    assert empty.returncode == 0


def test_the_matrix_lists_one_job_per_target(tmp_path):
    matrix = load(CI / "github" / "opsverify-matrix.yml")
    (tmp_path / "targets").mkdir()
    for name in ("web", "api", "demo", "billing"):
        (tmp_path / "targets" / f"{name}.yaml").write_text(f"target: {name}\n")
    output = tmp_path / "github_output"
    result = run_bash(
        step(matrix, "targets", "list")["run"], base_env(tmp_path, GITHUB_OUTPUT=str(output)), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    key, _, value = output.read_text().strip().partition("=")
    assert key == "targets"
    assert json.loads(value) == ["api", "billing", "web"]
    daily = matrix["jobs"]["daily"]
    assert daily["uses"] == "./.github/workflows/opsverify-gate.yml"
    assert daily["strategy"]["fail-fast"] is False
    assert daily["with"]["artifact-name"] == "opsverify-daily-${{ matrix.target }}"
