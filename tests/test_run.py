"""`opsverify run TIER --target ...`: the pytest command it builds from any folder, and that it runs it."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from opsverify.cli import main
from opsverify.run import find_root, pytest_command
from tests.conftest import run_opsverify
from tests.in_process import call_cli


def opsverify(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console script, as a user runs it in a shell (no OPSVERIFY_* settings of this process): for the
    commands that start pytest."""
    return run_opsverify(cwd, *args, env=env)


Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`cli(cwd, ARGS, env=...)`: `opsverify ARGS` from the folder `cwd` with no OPSVERIFY_* settings but
    `env`, called in this process (tests/in_process.py): what `--print` prints and the refusals before
    pytest starts are built from the folder, the arguments and the environment only."""

    def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return call_cli(monkeypatch, capsys, cwd, *args, env=env)

    return run


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An ops repository made by `opsverify init`."""
    root = tmp_path / "ops"
    assert main(["init", str(root)]) == 0
    return root


def expected(root: Path, tier_args: list[str], *targets: Path, extra: tuple[str, ...] = ()) -> list[str]:
    """What `opsverify run` prints after the interpreter, for an initialised repository."""
    words = ["-m", "pytest", f"--rootdir={root}", "-c", str(root / "pytest.ini"), *tier_args]
    words += [f"--target={target}" for target in targets] + [str(root / "checks")]
    words += [str(target) for target in targets]
    return words + list(extra)


def printed(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    words = shlex.split(result.stdout)
    assert Path(words[0]).resolve() == Path(sys.executable).resolve()
    return words[1:]


def test_from_the_root_a_name_becomes_the_absolute_target_path(repo: Path, cli: Cli) -> None:
    result = cli(repo, "run", "smoke", "--target", "example", "--print")
    assert printed(result) == expected(repo, ["-m", "smoke"], repo / "targets" / "example.yaml")


def test_from_a_subfolder_the_command_is_the_same(repo: Path, cli: Cli) -> None:
    root_command = printed(cli(repo, "run", "daily", "--target", "example", "--print"))
    for folder in (repo / "targets", repo / "ci" / "github"):
        assert printed(cli(folder, "run", "daily", "--target", "example", "--print")) == root_command
    relative = cli(repo / "targets", "run", "daily", "--target", "example.yaml", "--print")
    assert printed(relative) == root_command  # a path is relative to the current folder


def test_from_another_folder_an_absolute_path_runs_in_its_repository(
    repo: Path, tmp_path: Path, cli: Cli
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = repo / "targets" / "example.yaml"
    result = cli(elsewhere, "run", "smoke", f"--target={target}", "--print")
    assert printed(result) == expected(repo, ["-m", "smoke"], target)

    # A target file in no ops repository: the current folder is the root (no settings, no checks/).
    loose = tmp_path / "loose" / "prod.yaml"
    loose.parent.mkdir()
    loose.write_text("target: prod\n")
    words = printed(cli(elsewhere, "run", "smoke", "--target", str(loose), "--print"))
    assert words[:6] == ["-m", "pytest", f"--rootdir={elsewhere}", "-m", "smoke", f"--target={loose}"]
    assert str(repo / "checks") not in words


def test_tier_expressions_all_and_pytest_arguments(repo: Path, cli: Cli) -> None:
    target = repo / "targets" / "example.yaml"
    both = cli(repo, "run", "smoke or daily", "--target", "example", "--print", "--", "-n", "2", "-k", "a b")
    assert printed(both) == expected(repo, ["-m", "smoke or daily"], target, extra=("-n", "2", "-k", "a b"))
    everything = cli(repo, "run", "all", "--target", "example", "--print")
    assert printed(everything) == expected(repo, [], target)


def test_targets_from_the_environment(repo: Path, tmp_path: Path, cli: Cli) -> None:
    other = tmp_path / "more-targets"
    other.mkdir()
    (other / "staging.yaml").write_text("target: staging\n")
    env = {"OPSVERIFY_TARGET": "example, staging", "OPSVERIFY_TARGETS_DIR": str(other)}
    (repo / "targets" / "example.yaml").rename(other / "example.yaml")
    result = cli(repo / "checks", "run", "smoke", "--print", env=env)
    assert printed(result) == expected(repo, ["-m", "smoke"], other / "example.yaml", other / "staging.yaml")


def test_an_unknown_target_exits_4_with_the_targets_and_the_fix(repo: Path, cli: Cli) -> None:
    result = cli(repo / "ci", "run", "smoke", "--target", "exmaple")
    assert result.returncode == 4
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: target 'exmaple' not found: no {repo}/targets/exmaple.yaml")
    assert f"(targets in {repo}/targets/: example)" in result.stderr
    assert (
        "pass a target name from that folder or a path to a YAML file; did you mean 'example'?"
        in result.stderr
    )
    missing = cli(repo, "run", "smoke", "--target=/nowhere/prod.yaml")
    assert missing.returncode == 4
    assert "/nowhere/prod.yaml: target file not found" in missing.stderr
    none = cli(repo, "run", "smoke")
    assert none.returncode == 4
    assert "error: no target: pass --target NAME" in none.stderr
    assert f"targets in {repo}/targets/: example" in none.stderr
    assert "Traceback" not in result.stderr + missing.stderr + none.stderr


def test_it_runs_pytest_and_exits_with_its_code(repo: Path, tmp_path: Path) -> None:
    (repo / "checks" / "test_own.py").write_text(
        "import pytest\n\n\n@pytest.mark.daily\ndef test_passes():\n    pass\n\n\n"
        "@pytest.mark.weekly\ndef test_fails():\n    assert 1 == 2\n"
    )
    env = {"OPSVERIFY_REPORTS_DIR": str(tmp_path / "reports"), "PYTHONDONTWRITEBYTECODE": "1"}
    args = ("--target", "example", "--", "-p", "no:cacheprovider", "-k", "test_own")
    passed = opsverify(repo / "targets", "run", "daily", *args, env=env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert f"rootdir: {repo}" in passed.stdout
    assert "configfile: pytest.ini" in passed.stdout
    assert "test_own.py ." in passed.stdout
    assert passed.stderr.startswith("opsverify run: ")  # the command it runs, shown first
    failed = opsverify(repo / "targets", "run", "weekly", *args, env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "assert 1 == 2" in failed.stdout


def test_pytest_command_passes_target_files_as_paths_for_the_plugin(repo: Path) -> None:
    target = repo / "targets" / "example.yaml"
    command = pytest_command("dr", ["example"], cwd=repo / "checks", python="python3")
    assert command == [
        "python3",
        "-m",
        "pytest",
        f"--rootdir={repo}",
        "-c",
        str(repo / "pytest.ini"),
        "-m",
        "dr",
        f"--target={target}",
        str(repo / "checks"),
        str(target),
    ]


def test_the_root_is_marked_by_the_pytest_ini_of_init_or_a_targets_folder(tmp_path: Path) -> None:
    marked = tmp_path / "marked"
    (marked / "deep" / "er").mkdir(parents=True)
    (marked / "pytest.ini").write_text("# opsverify ops repository\n[pytest]\n")
    assert find_root(marked / "deep" / "er") == marked
    plain = tmp_path / "plain"
    (plain / "sub").mkdir(parents=True)
    (plain / "pytest.ini").write_text("[pytest]\n")  # some other project's settings
    assert find_root(plain / "sub") == plain / "sub"
    (plain / "targets").mkdir()
    assert find_root(plain / "sub") == plain


def test_pytest_options_before_the_separator_get_the_command_that_passes_them(repo: Path, cli: Cli) -> None:
    result = cli(repo, "run", "smoke", "--target", "example", "-p", "no:allure_pytest", "--", "-x")
    assert result.returncode == 2
    assert "unrecognized arguments: -p no:allure_pytest" in result.stderr
    assert (
        "pytest's own options go after --: opsverify run smoke --target example -- -p no:allure_pytest -x"
        in result.stderr
    )
    same_word = cli(repo, "run", "smoke", "--target", "example", "-k", "smoke")
    assert "go after --: opsverify run smoke --target example -- -k smoke" in same_word.stderr
    other = cli(repo, "validate", "example", "--bogus")
    assert other.returncode == 2
    assert "unrecognized arguments: --bogus" in other.stderr
    assert "go after --" not in other.stderr


def test_an_unknown_tier_exits_4_with_did_you_mean_and_keeps_the_last_results(
    repo: Path, tmp_path: Path
) -> None:
    (repo / "targets" / "local.yaml").write_text(
        "target: local\nhttp:\n  site: {url: 'http://127.0.0.1:9/'}\n"
    )
    reports = tmp_path / "reports"
    earlier = reports / "allure-results" / "earlier-result.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("{}")
    env = {"OPSVERIFY_REPORTS_DIR": str(reports), "PYTHONDONTWRITEBYTECODE": "1"}
    typo = opsverify(repo, "run", "smok", "--target", "local", "--", "-p", "no:cacheprovider", env=env)
    assert typo.returncode == 4, typo.stdout + typo.stderr
    assert "ERROR: unknown tier 'smok' (did you mean 'smoke'?)" in typo.stderr
    assert "Unknown marker" not in typo.stdout + typo.stderr
    assert earlier.exists()  # `opsverify report` still has the last run to show
    other = opsverify(
        repo, "run", "smoke or nightly", "--target", "local", "--", "-p", "no:cacheprovider", env=env
    )
    assert other.returncode == 4
    assert (
        "unknown tier 'nightly': the tiers are smoke, daily, weekly, monthly, quarterly, dr" in other.stderr
    )


def test_a_marker_the_repository_registers_is_a_tier_too(repo: Path, tmp_path: Path) -> None:
    (repo / "targets" / "local.yaml").write_text(
        "target: local\nhttp:\n  site: {url: 'http://127.0.0.1:9/'}\n"
    )
    ini = repo / "pytest.ini"
    ini.write_text(ini.read_text() + "markers =\n    slow: checks that take minutes\n")
    env = {"OPSVERIFY_REPORTS_DIR": str(tmp_path / "reports"), "PYTHONDONTWRITEBYTECODE": "1"}
    args = ("--target", "local", "--", "-p", "no:cacheprovider", "--co", "-q")
    listed = opsverify(repo, "run", "(smoke or daily) and not slow and not skip", *args, env=env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "http:site" in listed.stdout
