"""Helpers of the importer tests: run the CLI, load what it wrote with its .env.example."""

from __future__ import annotations

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


def load_with_env_example(target: Path) -> LoadedTarget:
    """The written target, validated with the variables of the .env.example written beside it."""
    environ = read_env_file(target.parent / ".env.example")
    return load_target(str(target), target.parent, environ)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Loading a target registers its environment values as secrets; later tests must not see them masked."""
    yield
    SECRETS.clear()
