"""`--target` in all its forms: several targets, names, OPSVERIFY_TARGET, the targets folder, no target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, LocalHTTPServer, RunResult
from tests.pytest_plugin.conftest import target_text

CHECKS: list[str] = []  # an installed plugin needs no test paths: it collects the target itself


def http_ids(output: str) -> list[str]:
    """`prod.yaml::http:api` for each collected check (nodeids are the target file's path + the check id)."""
    return [line.rsplit("/", 1)[-1] for line in output.splitlines() if ".yaml::http:" in line]


@pytest.fixture
def targets(tmp_path: Path, http_server: LocalHTTPServer) -> Path:
    """A targets folder with `prod` and `staging`, each with an `api` entry."""
    folder = tmp_path / "targets"
    folder.mkdir()
    for name in ("prod", "staging"):
        (folder / f"{name}.yaml").write_text(target_text(name, http_server.url, {"api": ""}))
    return folder


def test_several_targets_carry_their_name_in_the_ids(
    run_pytest: Callable[..., RunResult], targets: Path
) -> None:
    result = run_pytest(
        *CHECKS, f"--targets-dir={targets}", "--target", "prod", "--target", "staging", "--co", "-q"
    )
    assert result.returncode == 0, result.output
    assert http_ids(result.output) == ["prod.yaml::http:api", "staging.yaml::http:api"]


def test_opsverify_target_takes_a_comma_separated_list(
    run_pytest: Callable[..., RunResult], targets: Path
) -> None:
    env = {"OPSVERIFY_TARGET": "prod, staging", "OPSVERIFY_TARGETS_DIR": str(targets)}
    result = run_pytest(*CHECKS, "--co", "-q", env=env)
    assert result.returncode == 0, result.output
    assert http_ids(result.output) == ["prod.yaml::http:api", "staging.yaml::http:api"]


def test_a_target_given_twice_is_refused(run_pytest: Callable[..., RunResult], targets: Path) -> None:
    result = run_pytest(
        *CHECKS, f"--targets-dir={targets}", "--target", "prod", f"--target={targets / 'prod.yaml'}"
    )
    assert result.returncode == 4, result.output
    assert "prod.yaml: target given twice" in result.output
    assert "pass it once" in result.output


def test_two_files_with_one_target_name_are_refused(
    run_pytest: Callable[..., RunResult], targets: Path, http_server: LocalHTTPServer
) -> None:
    (targets / "prod-copy.yaml").write_text(target_text("prod", http_server.url, {"api": ""}))
    result = run_pytest(*CHECKS, f"--targets-dir={targets}", "--target", "prod", "--target", "prod-copy")
    assert result.returncode == 4, result.output
    assert "target name 'prod' is also the name of" in result.output


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_no_target_exits_5_saying_how_to_pass_one_and_listing_the_targets(
    run_pytest: Callable[..., RunResult], targets: Path, xdist: list[str]
) -> None:
    result = run_pytest(*CHECKS, f"--targets-dir={targets}", *xdist, cwd=targets)
    assert result.returncode == 5, result.output  # nothing to check: fail closed, saying why
    assert "no target given: pass --target NAME" in result.output
    assert f"targets in {targets}: prod, staging" in result.output
    assert "Traceback" not in result.output
    assert "INTERNALERROR" not in result.output


def test_a_missing_target_name_lists_the_targets(run_pytest: Callable[..., RunResult], targets: Path) -> None:
    result = run_pytest(*CHECKS, f"--targets-dir={targets}", "--target", "prdo")
    assert result.returncode == 4, result.output
    assert "target 'prdo' not found" in result.output
    assert "prod, staging" in result.output


def test_a_target_path_outside_the_project_is_not_taken_for_a_test_path(
    run_pytest: Callable[..., RunResult], targets: Path
) -> None:
    """pytest finds its config before plugins add options: `--target /elsewhere/x.yaml` would move rootdir."""
    spaced = run_pytest("--target", str(targets / "prod.yaml"), "--co", "-q", cwd=REPO)
    assert spaced.returncode == 4, spaced.output
    assert f"write --target={targets / 'prod.yaml'} (with '=')" in spaced.output
    joined = run_pytest(f"--target={targets / 'prod.yaml'}", "--co", "-q", cwd=REPO)
    assert joined.returncode == 0, joined.output
    assert http_ids(joined.output) == ["prod.yaml::http:api"]


def test_plain_tests_need_no_target_and_the_plugin_can_be_disabled(
    run_pytest: Callable[..., RunResult], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    assert run_pytest("-q", cwd=project).returncode == 0
    disabled = run_pytest("-q", "-p", "no:opsverify", "--help", cwd=project)
    assert "--target" not in disabled.output
    assert run_pytest("-q", "-p", "no:opsverify", cwd=project).returncode == 0


def test_a_spaced_target_path_from_outside_its_repository_stops_before_walking_the_folder(
    run_pytest: Callable[..., RunResult], tmp_path: Path
) -> None:
    """`cd /tmp && pytest -m smoke --target /srv/ops/targets/prod.yaml`: exit 4 with the fix, no walk of /tmp."""
    from opsverify.cli import main

    repo = tmp_path / "ops"
    assert main(["init", str(repo)]) == 0
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "deep").mkdir(parents=True)
    walked = elsewhere / "walked"
    (elsewhere / "deep" / "conftest.py").write_text(f"open({str(walked)!r}, 'w').close()\n")
    (elsewhere / "deep" / "test_stray.py").write_text("def test_stray():\n    pass\n")
    target = repo / "targets" / "example.yaml"
    result = run_pytest("-m", "smoke", "--target", str(target), cwd=elsewhere)
    assert result.returncode == 4, result.output
    assert f"so it would collect every test file under {elsewhere} (outside {repo})" in result.output
    assert (
        f"write --target={target} (with '='), set OPSVERIFY_TARGET, or run `opsverify run TIER"
        in result.output
    )
    assert not walked.exists()
    assert "test_stray" not in result.output
