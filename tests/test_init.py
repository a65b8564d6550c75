"""`opsverify init [DIR]`: scaffolds an ops repository that validates as it is; never overwrites a file."""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from opsverify.cli import main
from opsverify.scaffold import scaffold_files
from tests.conftest import REPO, run_opsverify
from tests.in_process import call_cli

LAYOUT = [
    ".gitignore",
    "checks/README.md",
    "checks/example_revision_check.py",
    "pytest.ini",
    "targets/example.yaml",
]


UNSET = ("OPSVERIFY_", "API_URL", "WEB_URL", "DATABASE_URL", "REDIS_URL")  # the example target's defaults do


def opsverify(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script in a shell without the example target's variables: for `validate`, which reads
    the target file (and registers its secrets for redaction: a process of its own)."""
    return run_opsverify(cwd, *args, drop=UNSET)


Init = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def init(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Init:
    """`init(cwd, ARGS)`: `opsverify init ARGS` from the folder `cwd`, called in this process
    (tests/in_process.py): it writes files and prints, nothing else."""

    def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return call_cli(monkeypatch, capsys, cwd, "init", *args, drop=UNSET)

    return run


def test_init_writes_the_repository_into_a_new_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "new" / "ops"
    assert main(["init", str(root)]) == 0
    out = capsys.readouterr().out
    written = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    ci = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "ci").rglob("*") if p.is_file())
    assert written == sorted(LAYOUT + ci)  # the repository's ci/ is the one init writes
    for source, relative in scaffold_files():
        assert (root / relative).read_bytes() == source.read_bytes(), relative
        assert f"  {relative}\n" in out
    assert os.access(root / "ci" / "deploy-gate.sh", os.X_OK)
    assert (root / "pytest.ini").read_text().splitlines()[0] == "# opsverify ops repository"
    assert "reports/" in (root / ".gitignore").read_text().splitlines()
    # The example check is not collected until renamed: pytest's default python_files are test_*.py, *_test.py
    assert not any(fnmatch.fnmatch("example_revision_check.py", p) for p in ("test_*.py", "*_test.py"))
    assert "rename it to `test_revision.py`" in (root / "checks" / "README.md").read_text()
    assert (
        "git mv checks/example_revision_check.py checks/test_revision.py"
        in (root / "checks" / "example_revision_check.py").read_text()
    )
    assert out.rstrip().splitlines()[-5:-2] == [
        f"  cd {os.path.relpath(root)}",
        "  opsverify validate example",
        "  opsverify run smoke --target example",
    ]


def test_the_example_target_validates(tmp_path: Path, init: Init) -> None:
    assert init(tmp_path).returncode == 0  # DIR defaults to the current folder
    for folder in (tmp_path, tmp_path / "checks"):  # names are found from any folder of the repository
        result = opsverify(folder, "validate", "example")
        assert result.returncode == 0, result.stderr
        assert "target example (" in result.stdout
        assert "valid, 4 checks" in result.stdout
        for check in ("http:api-health", "http:web-home", "postgres:main", "redis:cache"):
            assert check in result.stdout
        assert "    smoke        3   opsverify run smoke --target example" in result.stdout.splitlines()


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path, init: Init) -> None:
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "example.yaml").write_text("target: mine\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "ci").write_text("not a folder\n")
    result = init(tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"error: opsverify init: {tmp_path} has files of its own where init writes; nothing was written "
        "(init never overwrites):\n  ci (a file, where init writes a folder)\n  pytest.ini\n  targets/example.yaml\n"
    )
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "ci",
        "pytest.ini",
        "targets",
        "targets/example.yaml",
    ]
    assert (tmp_path / "targets" / "example.yaml").read_text() == "target: mine\n"
    assert "Traceback" not in result.stderr


def test_init_adds_to_an_existing_repository_without_touching_its_files(tmp_path: Path, init: Init) -> None:
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "prod.yaml").write_text("target: prod\n")
    assert init(tmp_path, ".").returncode == 0
    assert (tmp_path / "targets" / "prod.yaml").read_text() == "target: prod\n"
    assert (tmp_path / "targets" / "example.yaml").is_file()
    again = init(tmp_path)
    assert again.returncode == 1
    listed = {line.strip() for line in again.stderr.splitlines()[1:-1]}  # between the error and the fix
    assert listed == {relative for _, relative in scaffold_files()}
    assert again.stderr.splitlines()[-1].startswith("  move or rename them")
