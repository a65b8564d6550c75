"""Helpers of the importer tests: run the CLI, load what it wrote with its .env.example."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsverify.cli import main
from opsverify.config.interpolate import read_env_file
from opsverify.config.target import LoadedTarget, load_target
from opsverify.redaction import SECRETS

FILES = Path(__file__).parent / "files"
GUIDES = Path(__file__).parent / "guides"


def run_cli(*argv: str) -> int:
    return main(list(argv))


def env_example(target: Path) -> Path:
    return target.parent / f"{target.stem}.env.example"


def load_with_env_example(target: Path) -> LoadedTarget:
    """The written target, validated as the printed next step does: its NAME.env.example copied to the
    NAME.env its `env_file:` names (the example values alone, nothing from this process's environment)."""
    env_file = target.parent / f"{target.stem}.env"
    shutil.copyfile(env_example(target), env_file)
    read_env_file(env_file)  # a line the reader rejects fails here, naming it
    return load_target(str(target), target.parent, {})


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Loading a target registers its environment values as secrets; later tests must not see them masked."""
    yield
    SECRETS.clear()
