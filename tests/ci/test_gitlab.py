"""The GitLab CI templates: valid against GitLab's schema, consistent, and the gate job's script works."""

from __future__ import annotations

import subprocess

from tests.ci.conftest import CI, base_env, load, run_bash, tool
from tests.conftest import REPO, json_response

TEMPLATE = CI / "gitlab" / "opsverify.gitlab-ci.yml"
EXAMPLE = CI / "gitlab" / "example.gitlab-ci.yml"


def test_templates_match_the_gitlab_ci_schema():
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(TEMPLATE), str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_includes_the_template_and_extends_only_what_it_defines():
    template, example = load(TEMPLATE), load(EXAMPLE)
    assert example["include"] == [{"local": "ci/gitlab/opsverify.gitlab-ci.yml"}]
    assert (REPO / example["include"][0]["local"]).is_file()
    hidden = {name for name in template if name.startswith(".")}
    assert hidden == {".opsverify-base", ".opsverify-gate", ".opsverify-drill"}
    jobs = {name: job for name, job in example.items() if isinstance(job, dict) and "stage" in job}
    for name, job in jobs.items():
        assert job["stage"] in example["stages"], name
        assert job.get("extends", ".opsverify-base") in hidden, name
    assert jobs["post-deploy-gate"]["needs"] == ["deploy"]
    matrix = jobs["daily-checklist"]["parallel"]["matrix"][0]
    assert list(matrix) == ["OPSVERIFY_TARGET"]
    assert len(matrix["OPSVERIFY_TARGET"]) > 1
    assert jobs["nightly-drill"]["resource_group"]  # no two drills at once


def merged(*jobs: dict) -> dict:
    """GitLab's `extends`: later jobs override, `variables` hashes are merged."""
    result: dict = {}
    for job in jobs:
        for key, value in job.items():
            if key == "variables":
                result["variables"] = {**result.get("variables", {}), **value}
            else:
                result[key] = value
    return result


def test_the_gate_job_waits_checks_and_fails_like_the_pipeline_would(tmp_path, http_server):
    http_server.routes["/healthz"] = json_response({"status": "ready"})
    target = tmp_path / "prod.yaml"
    target.write_text(
        f"target: prod\nhttp:\n  api:\n    url: {http_server.url}/healthz\n    tiers: [smoke]\n"
    )
    template, example = load(TEMPLATE), load(EXAMPLE)
    job = merged(template[".opsverify-base"], template[".opsverify-gate"], example["post-deploy-gate"])
    variables = {
        **{key: str(value) for key, value in job["variables"].items()},
        "OPSVERIFY_TARGET": str(target),
        "GATE_HEALTH_URL": f"{http_server.url}/healthz",
        "OPSVERIFY_INSTALL": "true",  # opsverify is installed here already
        "OPSVERIFY_PYTEST_ARGS": "-p no:cacheprovider -v",
    }
    script = "\n".join([*job["before_script"], *job["script"]])
    env = base_env(tmp_path, **variables)
    env["OPSVERIFY_REPORTS_DIR"] = str(tmp_path / "reports")
    result = run_bash(script, env, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is healthy (HTTP 200)" in result.stdout
    assert f"{target}::http:api PASSED" in result.stdout
    assert (tmp_path / "reports" / "junit.xml").exists()  # what artifacts:reports:junit uploads

    http_server.routes["/healthz"] = json_response({"status": "down"}, status=503)
    env["GATE_WAIT"] = "1"
    failed = run_bash(script, env, cwd=REPO)
    assert failed.returncode == 69
