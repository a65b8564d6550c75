"""`opsverify report`: the pinned Allure 3 CLI from npm, installed on first use; history; single file."""

from __future__ import annotations

import json
import tempfile

import pytest

from opsverify.cli import main
from opsverify.report.builder import (
    ALLURE_DATA,
    ALLURE_FILES,
    ALLURE_VERSION,
    AllureHome,
    ReportError,
    allure_home,
    build_report,
    default_home,
    ensure_allure,
    prepare_output,
)


def test_pinned_version_matches_package_files() -> None:
    home = AllureHome(ALLURE_DATA)
    assert home.pinned_version() == ALLURE_VERSION
    assert ALLURE_VERSION.startswith("3.")
    lock = json.loads((ALLURE_DATA / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/allure"]["version"] == ALLURE_VERSION
    assert home.config.is_file()


def test_the_home_is_the_user_cache_made_from_the_package_files(tmp_path, monkeypatch) -> None:
    """An installed opsverify has no reports/ folder of the project: the files come from the package."""
    monkeypatch.delenv("OPSVERIFY_ALLURE_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    home = allure_home()
    assert home.path == default_home() == tmp_path / "cache" / "opsverify" / f"allure-{ALLURE_VERSION}"
    for name in ALLURE_FILES:
        assert (home.path / name).read_bytes() == (ALLURE_DATA / name).read_bytes()
    (home.path / "allurerc.mjs").write_text("stale")  # an older opsverify's configuration
    assert allure_home().config.read_bytes() == (ALLURE_DATA / "allurerc.mjs").read_bytes()


def test_a_given_home_keeps_its_own_files_and_gets_the_missing_ones(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OPSVERIFY_ALLURE_HOME", str(tmp_path / "mine"))
    (tmp_path / "mine").mkdir()
    pinned = '{"dependencies": {"allure": "3.17.0"}}'
    (tmp_path / "mine" / "package.json").write_text(pinned)
    home = allure_home()
    assert (home.path / "package.json").read_text() == pinned
    assert home.config.read_bytes() == (ALLURE_DATA / "allurerc.mjs").read_bytes()
    assert not (home.path / "package-lock.json").exists()  # their pin is installed without our lock


def test_a_home_that_cannot_be_written_is_one_line_with_the_fix(tmp_path, monkeypatch) -> None:
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("OPSVERIFY_ALLURE_HOME", str(tmp_path / "file" / "allure"))
    with pytest.raises(ReportError) as raised:
        allure_home()
    message = str(raised.value)
    assert "\n" not in message
    assert f"cannot prepare the Allure CLI's folder {tmp_path / 'file' / 'allure'}" in message
    assert "choose another folder for OPSVERIFY_ALLURE_HOME" in message


def test_installs_the_cli_on_first_use(tmp_path) -> None:
    for name in ALLURE_FILES:
        (tmp_path / name).write_bytes((ALLURE_DATA / name).read_bytes())
    home = AllureHome(tmp_path)
    assert not home.cli.exists()
    said: list[str] = []
    cli = ensure_allure(home, said.append)
    assert cli == home.cli
    assert cli.is_file()
    assert said == [
        f"installing the Allure report CLI (allure@{ALLURE_VERSION}, npm) into {tmp_path}: "
        "first use only, this takes a minute ..."
    ]
    installed = json.loads((tmp_path / "node_modules" / "allure" / "package.json").read_text())
    assert installed["version"] == ALLURE_VERSION
    assert ensure_allure(home, said.append) == cli
    assert len(said) == 1


def test_a_failed_npm_install_is_one_line_with_the_fix(tmp_path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"allure": "0.0.0-no-such-version"}}')
    with pytest.raises(ReportError) as raised:
        ensure_allure(AllureHome(tmp_path), lambda _: None)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"installing the Allure CLI failed (`npm install` exit 1 in {tmp_path}): ")
    assert "ETARGET" in message or "No matching version" in message
    assert message.endswith(
        "check that the npm registry is reachable (`npm ping`), then run `opsverify report` again"
    )


def test_a_node_error_is_one_line_with_the_fix_never_a_stack_trace(
    finished_run, allure_cli_home, tmp_path, monkeypatch
):
    """A broken configuration makes Node throw: the user sees its message and the fix, not the stack."""
    ensure_allure(allure_home(), lambda _: None)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ALLURE_FILES:
        (broken / name).write_bytes((ALLURE_DATA / name).read_bytes())
    (broken / "node_modules").symlink_to(allure_cli_home / "node_modules")
    (broken / "allurerc.mjs").write_text("export default { name: ;\n")
    monkeypatch.setenv("OPSVERIFY_ALLURE_HOME", str(broken))
    with pytest.raises(ReportError) as raised:
        build_report(finished_run / "allure-results", tmp_path / "out", tmp_path / "h.jsonl", log=print)
    message = str(raised.value)
    assert "\n" not in message
    assert " at " not in message  # no stack frame
    assert message.startswith("allure generate failed (exit 1): Syntax Error: Unexpected token ';'; ")
    assert f"check {broken / 'allurerc.mjs'}" in message


def test_a_build_leaves_no_file_outside_its_folders(finished_run, tmp_path, monkeypatch) -> None:
    """No lock file in /tmp (a folder lock on the history's folder and on the CLI's home instead)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    build_report(finished_run / "allure-results", tmp_path / "out", tmp_path / "h" / "h.jsonl", log=print)
    assert list(scratch.iterdir()) == []
    assert sorted(path.name for path in (tmp_path / "h").iterdir()) == ["h.jsonl"]


def test_report_writes_the_run_into_the_history(finished_run, tmp_path) -> None:
    history = tmp_path / "allure-history.jsonl"
    output = tmp_path / "allure-report"
    index = build_report(finished_run / "allure-results", output, history, log=lambda _: None)
    assert index == output / "index.html"
    (line,) = history.read_text().splitlines()  # runs over several builds: tests/report/test_history.py
    entry = json.loads(line)
    names = {result["name"]: result for result in entry["testResults"].values()}
    assert names["http:checkout"]["status"] == "failed"
    assert "duration" in names["http:checkout"]
    summary = json.loads((output / "summary.json").read_text())
    assert summary["stats"] == {"total": 2, "failed": 1, "passed": 1, "new": 2}  # the history's first run
    assert summary["name"] == "opsverify · shop-prod"


def test_single_file_report(finished_run, tmp_path) -> None:
    output = tmp_path / "mail"
    build_report(finished_run / "allure-results", output, tmp_path / "h.jsonl", single_file=True, log=print)
    assert (output / "index.html").stat().st_size > 100_000
    assert not (output / "data").exists()  # everything is inside index.html


def test_cli(finished_run, tmp_path, capsys) -> None:
    args = ["report", "--results", str(finished_run / "allure-results"), "--output", str(tmp_path / "r")]
    assert main([*args, "--history", str(tmp_path / "h.jsonl")]) == 0
    assert f"report: {tmp_path / 'r' / 'index.html'}" in capsys.readouterr().out
    assert main(["report", "--results", str(tmp_path / "none")]) == 1
    assert "no test results in" in capsys.readouterr().err


def test_output_that_is_not_a_report_is_refused(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ReportError, match="holds no earlier report"):
        prepare_output(tmp_path)
    assert (tmp_path / "notes.txt").exists()
