"""What `opsverify import` and `opsverify draft` write: never over a file the user has (exit 2, `--force`), a
target naming its env file, and a printed next step that works when run as printed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.importers.conftest import FILES, GUIDES, run_cli

OPSVERIFY = Path(sys.executable).parent / "opsverify"


@pytest.mark.parametrize(
    "argv", [("import", "compose", str(FILES / "docker-compose.yml")), ("draft", str(GUIDES / "emailops.md"))]
)
def test_an_existing_output_is_refused_with_exit_2_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    output = tmp_path / "targets" / "prod.yaml"
    output.parent.mkdir()
    output.write_text("# edited by hand\n")
    assert run_cli(*argv, "-o", str(output)) == 2
    err = capsys.readouterr().err
    assert f"{output} exists already" in err
    assert "--force" in err
    assert output.read_text() == "# edited by hand\n"
    assert not (tmp_path / "targets" / "prod.env.example").exists()
    assert run_cli(*argv, "-o", str(output), "--force") == 0
    assert output.read_text().startswith("# Imported by opsverify")


def test_an_existing_env_example_is_refused_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = tmp_path / "prod.env.example"
    example.write_text("MINE=1\n")
    argv = ("import", "compose", str(FILES / "docker-compose.yml"), "-o", str(tmp_path / "prod.yaml"))
    assert run_cli(*argv) == 2
    assert f"{example} exists already" in capsys.readouterr().err
    assert example.read_text() == "MINE=1\n"
    assert not (tmp_path / "prod.yaml").exists()


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (("import", "compose", "docker-compose.yml", "--target", "shop"), "shop"),
        (("draft", "OPERATIONS.md"), "operations"),
    ],
)
def test_the_printed_next_step_works_as_printed(tmp_path: Path, argv: tuple[str, ...], name: str) -> None:
    """In a project folder with its own .env (never touched), run the import, then the printed commands."""
    shutil.copy(FILES / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(GUIDES / "emailops.md", tmp_path / "OPERATIONS.md")
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=the-projects-own\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES", "OPSVERIFY"))}
    environ["PATH"] = f"{OPSVERIFY.parent}{os.pathsep}{environ.get('PATH', '')}"
    done = subprocess.run(
        [str(OPSVERIFY), *argv],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    step = lines[lines.index("  next: set the variables, then validate:") + 1].strip()
    assert (
        step == f"cp targets/{name}.env.example targets/{name}.env && opsverify validate targets/{name}.yaml"
    )
    ran = subprocess.run(
        ["/bin/sh", "-c", step],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (tmp_path / ".env").read_text() == "POSTGRES_PASSWORD=the-projects-own\n"
    assert f"env_file: {name}.env" in (tmp_path / "targets" / f"{name}.yaml").read_text()
