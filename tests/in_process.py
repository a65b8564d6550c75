"""`opsverify ARGS` called in the test's own process, as a shell in a folder would run the console script:
for the commands whose result is built from the folder, the arguments and the environment only (a process
each would pay the start-up, ~0.5-2 s of CPU). The console script itself is test_cli.py's."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

from opsverify.cli import main
from opsverify.redaction import SECRETS


def call_cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    drop: tuple[str, ...] = ("OPSVERIFY_",),
) -> subprocess.CompletedProcess[str]:
    """`opsverify ARGS` from the folder `cwd`, without this process's variables whose names start with one
    of `drop`, with `env` added; its exit code and what it printed.

    Nothing of it stays in this process: the folder and the variables are put back, a command that would
    replace the process by pytest (`opsverify run` without --print) fails the test instead, and one that
    registered a secret for redaction (it read a target file) fails it too: such a command belongs in a
    process of its own.
    """

    def refuse(path: str, argv: list[str]) -> NoReturn:
        raise AssertionError(f"opsverify would have started {shlex.join(argv)}")

    with monkeypatch.context() as patch:
        for name in [name for name in os.environ if name.startswith(drop)]:
            patch.delenv(name)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        patch.setattr(os, "execv", refuse)
        patch.chdir(cwd)
        capsys.readouterr()
        secrets = len(SECRETS)
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
    assert len(SECRETS) == secrets, f"opsverify {shlex.join(args)} registered secrets in the test process"
    return subprocess.CompletedProcess(["opsverify", *args], code, captured.out, captured.err)
