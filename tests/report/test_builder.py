"""`opsverify report`: the pinned Allure 3 CLI from npm, installed on first use; history; single file."""

from __future__ import annotations

import json
import shutil

import pytest

from opsverify.cli import main
from opsverify.report.builder import (
    ALLURE_VERSION,
    PROJECT_HOME,
    AllureHome,
    ReportError,
    build_report,
    ensure_allure,
    prepare_output,
)


def test_pinned_version_matches_package_files() -> None:
    home = AllureHome(PROJECT_HOME)
    assert home.pinned_version() == ALLURE_VERSION
    assert ALLURE_VERSION.startswith("3.")
    lock = json.loads((PROJECT_HOME / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/allure"]["version"] == ALLURE_VERSION
    assert home.config.is_file()


def test_installs_the_cli_on_first_use(tmp_path, monkeypatch) -> None:
    for name in ("package.json", "package-lock.json", "allurerc.mjs"):
        shutil.copy(PROJECT_HOME / name, tmp_path / name)
    home = AllureHome(tmp_path)
    assert not home.cli.exists()
    said: list[str] = []
    cli = ensure_allure(home, said.append)
    assert cli == home.cli
    assert cli.is_file()
    assert said == [f"installing the Allure report CLI (allure@{ALLURE_VERSION}) into {tmp_path} ..."]
    installed = json.loads((tmp_path / "node_modules" / "allure" / "package.json").read_text())
    assert installed["version"] == ALLURE_VERSION
    assert ensure_allure(home, said.append) == cli
    assert len(said) == 1


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
