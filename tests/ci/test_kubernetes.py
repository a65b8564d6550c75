"""The Kubernetes CronJobs: valid against the Kubernetes schemas, and the matrix picks one target per pod."""

from __future__ import annotations

import subprocess

import pytest

from tests.ci.conftest import CI, base_env, load, run_bash, tool

DRILL = CI / "kubernetes" / "nightly-drill-cronjob.yaml"
MATRIX = CI / "kubernetes" / "daily-matrix-cronjob.yaml"


@pytest.mark.parametrize("version", ["1.29.0", "1.33.0"])
def test_manifests_validate_strictly(version):
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "-k", version, str(DRILL), str(MATRIX)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_drill_cronjob_settings():
    spec = load(DRILL)["spec"]
    assert (spec["schedule"], spec["timeZone"]) == ("0 2 * * *", "Europe/Berlin")
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 6 * 3600  # catch-up window
    job = spec["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == 3 * 3600
    assert job["backoffLimit"] == 0
    pod = job["template"]["spec"]
    (sandbox,) = pod["initContainers"]
    assert sandbox["restartPolicy"] == "Always"
    assert sandbox["image"].startswith("postgres:")
    (drill,) = pod["containers"]
    assert drill["command"] == ["opsverify", "run", "dr", "--target", "prod"]
    env = {item["name"]: item["value"] for item in drill["env"] if "value" in item}
    assert env["DRILL_ADMIN_URL"] == "postgresql://postgres:drill@127.0.0.1:5432/postgres"


def run_matrix_pod(tmp_path, index: int) -> subprocess.CompletedProcess[str]:
    """The matrix container's command with JOB_COMPLETION_INDEX set, `opsverify` replaced by an echo."""
    spec = load(MATRIX)["spec"]["jobTemplate"]["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    (fake_bin / "opsverify").write_text('#!/bin/sh\necho "opsverify $*"\n')
    (fake_bin / "opsverify").chmod(0o755)
    env = base_env(tmp_path, JOB_COMPLETION_INDEX=str(index))
    env["PATH"] = f"{fake_bin}:{env['PATH']}"
    env.update({item["name"]: item["value"] for item in container["env"] if "value" in item})
    assert container["command"][:2] == ["bash", "-c"]
    return run_bash(container["command"][2], env, cwd=tmp_path)


def test_each_matrix_pod_checks_its_own_target(tmp_path):
    spec = load(MATRIX)["spec"]["jobTemplate"]["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    targets = next(item["value"] for item in container["env"] if item["name"] == "TARGETS").split()
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == len(targets)
    assert spec["backoffLimitPerIndex"] == 0  # one failing target does not stop the others
    commands = [run_matrix_pod(tmp_path, index).stdout.splitlines()[-1] for index in range(len(targets))]
    assert commands == [f"opsverify run daily --target {name}" for name in targets]
    beyond = run_matrix_pod(tmp_path, len(targets))
    assert beyond.returncode != 0
    assert f"no target for index {len(targets)}" in beyond.stderr
