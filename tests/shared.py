"""What one test session shares across its pytest-xdist workers: a file lock, the session's shared temporary
folder, and wheels built once per session.

Session fixtures run once per worker; a costly artefact that every worker would make the same (a wheel of
this repository, a Docker image) is made by the first worker that needs it, under a file lock, in a folder
all workers of the run see, keyed by a hash of what it is made from. The others wait and reuse it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# what opsverify's wheel is built from
WHEEL_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "opsverify")


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def session_folder(factory: pytest.TempPathFactory) -> Path:
    """The temporary folder every worker of this run sees (the workers' base folders' parent under xdist);
    pytest removes it with the run's other old base folders."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def tree_files(project: Path, names: Iterable[str]) -> list[str]:
    """The files under `names` (files or folders of `project`), relative, sorted, without bytecode caches."""
    found: list[str] = []
    for name in names:
        origin = project / name
        if origin.is_file():
            found.append(name)
            continue
        for folder, subfolders, files in os.walk(origin):
            subfolders[:] = [sub for sub in subfolders if sub != "__pycache__"]
            found += [
                os.path.relpath(os.path.join(folder, file), project)
                for file in files
                if not file.endswith(".pyc")
            ]
    return sorted(found)


def tree_digest(project: Path, files: Iterable[str]) -> str:
    """A hash of the files' names and contents."""
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (project / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def built_wheel(factory: pytest.TempPathFactory, project: Path, files: list[str]) -> Path:
    """The wheel of `project` built from a copy of `files` (a build writes build/ and *.egg-info beside its
    sources), once per test session for the same sources: workers wait for the first builder and reuse it."""
    shared = session_folder(factory) / "wheels"
    key = f"{project.name}-{tree_digest(project, files)}"
    done = shared / key
    with file_lock(shared / f"{key}.lock"):
        if not done.is_dir():
            shared.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix=f"{key}-", dir=shared) as temporary:
                source = Path(temporary) / "source" / project.name
                for name in files:
                    (source / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(project / name, source / name)
                wheels = Path(temporary) / "wheels"
                command = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
                command += ["wheel", "--no-deps", "-q", "-w", str(wheels), str(source)]
                built = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
                assert built.returncode == 0, built.stdout + built.stderr
                wheels.replace(done)
    (wheel,) = done.glob("*.whl")
    return wheel


def opsverify_wheel(factory: pytest.TempPathFactory) -> Path:
    """This repository's opsverify wheel, built once per test session."""
    return built_wheel(factory, REPO, tree_files(REPO, WHEEL_SOURCES))


def once_per_process(function: Callable[..., Any]) -> Callable[..., Iterator[Any]]:
    """A session fixture's function, made once per test process though several conftest.py files import the
    fixture: pytest makes each import a session fixture of its own, so a process that ran tests of three
    folders made the same database, dumps or server three times. The first set-up calls `function` (a
    generator's code up to its `yield`); the others get the same value; the last teardown finishes it.
    Apply below `@pytest.fixture(scope="session")`, to a fixture whose value the tests only read."""
    made: list[Any] = []  # [value, generator or None] while made
    holders = [0]

    @functools.wraps(function)
    def fixture(*args: Any, **kwargs: Any) -> Iterator[Any]:
        if not made:
            result = function(*args, **kwargs)
            if inspect.isgenerator(result):
                made[:] = [next(result), result]
            else:
                made[:] = [result, None]
        holders[0] += 1
        try:
            yield made[0]
        finally:
            holders[0] -= 1
            if holders[0] == 0:
                generator = made[1]
                made.clear()
                if generator is not None:
                    with contextlib.suppress(StopIteration):
                        next(generator)

    return fixture
