"""The plugin collects a target's entries itself: no test modules, ids `kind:name[/rule]`, tiers as marks,
every `--target` form from every folder, and a run that selects nothing fails closed (exit 5, with why)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import LocalHTTPServer, json_response

pytestmark = pytest.mark.usefixtures("isolated_reports")


@pytest.fixture
def isolated_reports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPSVERIFY_TARGET", raising=False)
    monkeypatch.delenv("OPSVERIFY_TARGETS_DIR", raising=False)
    monkeypatch.delenv("OPSVERIFY_REPORTS_DIR", raising=False)
    monkeypatch.setenv("OPSVERIFY_NOTIFY", "0")


@pytest.fixture
def site(http_server: LocalHTTPServer) -> LocalHTTPServer:
    http_server.routes["/health"] = json_response({"status": "ok"})
    http_server.routes["/ready"] = json_response({"status": "ok"})
    return http_server


def target_yaml(url: str, name: str = "prod") -> str:
    return (
        f"target: {name}\n"
        "http:\n"
        f"  health: {{url: '{url}/health', expect: {{json: {{status: ok}}}}}}\n"
        f"  ready: {{url: '{url}/ready', tiers: [daily]}}\n"
    )


def ops_repo(pytester: pytest.Pytester, url: str) -> Path:
    """An ops repository as `opsverify init` lays it out: pytest.ini at the root, targets/, checks/."""
    pytester.makeini("# opsverify ops repository\n[pytest]\ntestpaths = checks\n")
    (pytester.path / "targets").mkdir()
    (pytester.path / "targets" / "prod.yaml").write_text(target_yaml(url))
    (pytester.path / "checks").mkdir()
    return pytester.path


def test_a_folder_with_only_a_target_file_runs_its_checks(
    pytester: pytest.Pytester, site: LocalHTTPServer
) -> None:
    (pytester.path / "prod.yaml").write_text(target_yaml(site.url))
    result = pytester.runpytest_subprocess("--target=prod.yaml", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*prod.yaml::http:health PASSED*", "*prod.yaml::http:ready PASSED*"])
    summary = json.loads((pytester.path / "reports" / "summary.json").read_text())
    assert summary["status"] == "passed"
    assert [c["id"] for c in summary["checks"]] == ["http:health", "http:ready"]


def test_tiers_are_marks(pytester: pytest.Pytester, site: LocalHTTPServer) -> None:
    (pytester.path / "prod.yaml").write_text(target_yaml(site.url))
    result = pytester.runpytest_subprocess("--target=prod.yaml", "-m", "smoke", "-v")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["*http:health PASSED*"])


def test_a_target_file_given_as_a_path_too_is_collected_once(
    pytester: pytest.Pytester, site: LocalHTTPServer
) -> None:
    (pytester.path / "prod.yaml").write_text(target_yaml(site.url))
    result = pytester.runpytest_subprocess("--target=prod.yaml", "prod.yaml")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("where", "option"),
    [
        (".", "--target=prod"),
        (".", "--target=targets/prod.yaml"),
        ("targets", "--target=prod"),
        ("targets", "--target=prod.yaml"),
        ("checks", "--target=../targets/prod.yaml"),
    ],
)
def test_every_target_form_from_the_repository_and_its_subfolders(
    pytester: pytest.Pytester, site: LocalHTTPServer, where: str, option: str
) -> None:
    root = ops_repo(pytester, site.url)
    result = _run_in(pytester, root / where, option)
    result.assert_outcomes(passed=2)
    assert (root / "reports" / "summary.json").is_file(), "reports go to the ops repository's root"


def _run_in(pytester: pytest.Pytester, folder: Path, *args: str) -> pytest.RunResult:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        return pytester.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args, timeout=120)


def test_an_absolute_path_with_a_space_from_another_folder_is_refused_with_the_fix(
    pytester: pytest.Pytester, site: LocalHTTPServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """pytest would collect every test file under the folder it was started in (`cd /tmp`): exit 4 at once."""
    root = ops_repo(pytester, site.url)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    target = root / "targets" / "prod.yaml"
    result = _run_in(pytester, elsewhere, "--target", str(target))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*so it would collect every test file under {elsewhere}*", f"*--target={target}*"]
    )
    assert _run_in(pytester, elsewhere, f"--target={target}").ret == pytest.ExitCode.OK  # with '=' it runs


def test_a_spaced_path_that_hides_the_repository_config_is_refused_with_the_fix(
    pytester: pytest.Pytester, site: LocalHTTPServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ops_repo(pytester, site.url)
    outside = tmp_path_factory.mktemp("outside") / "staging.yaml"
    outside.write_text(target_yaml(site.url, "staging"))
    result = pytester.runpytest_subprocess("--target", str(outside))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pytest read this path as a test path*", f"*write --target={outside}*"])


def test_a_tier_without_entries_exits_5_saying_why(pytester: pytest.Pytester, site: LocalHTTPServer) -> None:
    (pytester.path / "prod.yaml").write_text(target_yaml(site.url))
    result = pytester.runpytest_subprocess("--target=prod.yaml", "-m", "weekly")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*target prod has no checks in tier weekly; its tiers are smoke, daily*"])
    summary = json.loads((pytester.path / "reports" / "summary.json").read_text())
    assert summary["status"] == "no checks"
    assert "weekly" in summary["empty_reason"]


def test_a_keyword_matching_nothing_exits_5_saying_why(
    pytester: pytest.Pytester, site: LocalHTTPServer
) -> None:
    (pytester.path / "prod.yaml").write_text(target_yaml(site.url))
    result = pytester.runpytest_subprocess("--target=prod.yaml", "-k", "nothing")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(
        ["*no check of target prod matches -k 'nothing'; its checks: http:health, http:ready*"]
    )


def test_a_folder_without_a_target_exits_5_naming_the_targets(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*no checks selected: no target given*"])


def test_a_failing_check_shows_its_problems_not_a_traceback(
    pytester: pytest.Pytester, http_server: LocalHTTPServer
) -> None:
    http_server.routes["/health"] = json_response({"status": "degraded"}, status=503)
    http_server.routes["/ready"] = json_response({"status": "ok"})
    (pytester.path / "prod.yaml").write_text(target_yaml(http_server.url))
    result = pytester.runpytest_subprocess("--target=prod.yaml")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*http:health failed on target prod:*", "*- status: expected 200, got 503*"])
    assert "Traceback" not in result.stdout.str()
    summary = json.loads((pytester.path / "reports" / "summary.json").read_text())
    problems = summary["failures"][0]["problems"]
    assert {"subject": "status", "expected": "200", "found": "503"}.items() <= problems[0].items()


def test_hand_written_checks_run_beside_the_built_in_ones_and_show_errors_as_messages(
    pytester: pytest.Pytester, site: LocalHTTPServer
) -> None:
    root = ops_repo(pytester, site.url)
    (root / "checks" / "test_mine.py").write_text(
        "def test_uses_the_target(target, http):\n"
        "    assert http.get(target.model.http['health'].url).status_code == 200\n"
        "def test_database_is_down(target):\n"
        "    raise ConnectionError('connection refused by db:5432')\n"
    )
    result = pytester.runpytest_subprocess("--target=prod")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*test_database_is_down: ConnectionError: connection refused by db:5432*"])
    assert "Traceback" not in result.stdout.str()
    assert "raise ConnectionError" not in result.stdout.str()
    verbose = pytester.runpytest_subprocess("--target=prod", "--tb=short")
    assert "raise ConnectionError" in verbose.stdout.str()


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_the_short_summary_names_the_problems_in_one_line_also_in_ci(
    pytester: pytest.Pytester, http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch, xdist: list[str]
) -> None:
    monkeypatch.setenv("CI", "true")  # pytest prints whole messages in CI's short summary
    http_server.routes["/health"] = json_response({"status": "down-5521"}, status=503)
    http_server.routes["/ready"] = json_response({"status": "ok"})
    (pytester.path / "prod.yaml").write_text(target_yaml(http_server.url))
    result = pytester.runpytest_subprocess("--target=prod.yaml", *xdist)
    result.stdout.fnmatch_lines(
        [
            'FAILED prod.yaml::http:health - status: expected 200, got 503; json status: expected "ok", got "down-5521"'
        ]
    )
    # the problem, the evidence, the opsverify summary and pytest's short summary: each once
    assert result.stdout.str().count("down-5521") == 4


def test_a_linked_target_file_given_as_a_path_is_collected_there(
    pytester: pytest.Pytester, site: LocalHTTPServer
) -> None:
    (pytester.path / "shared").mkdir()
    (pytester.path / "shared" / "prod.yaml").write_text(target_yaml(site.url))
    (pytester.path / "targets").mkdir()
    (pytester.path / "targets" / "prod.yaml").symlink_to(pytester.path / "shared" / "prod.yaml")
    result = pytester.runpytest_subprocess("--target=targets/prod.yaml", "targets/prod.yaml", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*targets/prod.yaml::http:health PASSED*"])
