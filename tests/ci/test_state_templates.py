"""The CI templates share a state URL when the secret is set, and otherwise carry the SQLite state store."""

from __future__ import annotations

import pytest

from tests.ci.conftest import CI, load


def steps(workflow: dict, job: str) -> dict[str, dict]:
    return {entry.get("name", ""): entry for entry in workflow["jobs"][job]["steps"]}


@pytest.mark.parametrize(
    ("file", "job", "run_step"),
    [
        ("opsverify-gate.yml", "gate", "Gate (${{ inputs.tiers }})"),
        ("opsverify-nightly-drill.yml", "drill", "Restore drill"),
    ],
)
def test_github_uses_the_secret_or_caches_the_sqlite_store(file: str, job: str, run_step: str) -> None:
    workflow = load(CI / "github" / file)
    assert workflow["jobs"][job]["env"]["OPSVERIFY_STATE_URL"] == "${{ secrets.OPSVERIFY_STATE_URL }}"
    by_name = steps(workflow, job)
    names = list(by_name)
    restore, save = by_name["Restore the state store"], by_name["Save the state store"]
    assert (
        names.index("Restore the state store") < names.index(run_step) < names.index("Save the state store")
    )
    assert restore["uses"].startswith("actions/cache/restore@")
    assert restore["if"] == "env.OPSVERIFY_STATE_URL == ''"
    assert restore["with"]["path"] == save["with"]["path"] == "reports/state"
    assert restore["with"]["key"] == save["with"]["key"]
    assert restore["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert save["if"] == "always() && env.OPSVERIFY_STATE_URL == ''"


def test_the_reusable_gate_takes_the_secret_and_the_matrix_passes_it() -> None:
    gate = load(CI / "github" / "opsverify-gate.yml")
    assert gate[True]["workflow_call"]["secrets"]["OPSVERIFY_STATE_URL"]["required"] is False
    matrix = load(CI / "github" / "opsverify-matrix.yml")
    (job,) = [j for j in matrix["jobs"].values() if "uses" in j]
    assert job["secrets"]["OPSVERIFY_STATE_URL"] == "${{ secrets.OPSVERIFY_STATE_URL }}"


def test_gitlab_caches_the_state_per_target() -> None:
    base = load(CI / "gitlab" / "opsverify.gitlab-ci.yml")[".opsverify-base"]
    (state,) = [c for c in base["cache"] if "reports/state/" in c["paths"]]
    assert state["key"] == "opsverify-state-$OPSVERIFY_TARGET"
    assert state["when"] == "always"


@pytest.mark.parametrize("file", ["nightly-drill-cronjob.yaml", "daily-matrix-cronjob.yaml"])
def test_kubernetes_reads_the_state_url_from_an_optional_secret(file: str) -> None:
    cronjob = load(CI / "kubernetes" / file)
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    (env,) = [e for e in container["env"] if e["name"] == "OPSVERIFY_STATE_URL"]
    assert env["valueFrom"]["secretKeyRef"] == {"name": "opsverify-state", "key": "url", "optional": True}
