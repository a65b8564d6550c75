"""The project's own tests under pytest-xdist (`make test`: `-n auto --dist loadgroup`): the tests that share an
expensive fixture (a module's replica, a shared session fixture) or an `xdist_group` mark run on one worker,
so the fixture is made once per run, not once per worker (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SUITE = {
    "conftest.py": "from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n",
    "record.py": """
import os
from pathlib import Path

def record(name):
    folder = Path(os.environ["SEEN"])
    (folder / f"{name}-{os.getpid()}").write_text(os.environ.get("PYTEST_XDIST_WORKER", "none"))
""",
    "test_module_fixture.py": """
import pytest
from record import record

@pytest.fixture(scope="module")
def replica():
    record("replica")

@pytest.mark.parametrize("n", range(6))
def test_uses_the_replica(replica, n):
    record(f"module-{n}")
""",
    "test_marked.py": """
import pytest
from record import record

pytestmark = pytest.mark.xdist_group("marked")

@pytest.mark.parametrize("n", range(6))
def test_marked(n):
    record(f"marked-{n}")
""",
    "test_free.py": """
import pytest

@pytest.mark.parametrize("n", range(12))
def test_free(n):
    pass
""",
}


def test_a_module_fixture_and_an_xdist_group_each_run_on_one_worker(tmp_path: Path) -> None:
    """pytest 9.2 ignores xdist 3.8's way of appending the group to the node id (pytest-xdist issue 1386):
    without tests/conftest.py's own, every worker made its own copy of each module's fixture."""
    for name, text in SUITE.items():
        (tmp_path / name).write_text(text)
    seen = tmp_path / "seen"
    seen.mkdir()
    environment = {**os.environ, "SEEN": str(seen), "PYTHONPATH": f"{REPO}{os.pathsep}{tmp_path}"}
    command = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q"]
    command += ["-p", "no:cacheprovider", "-p", "no:opsverify"]
    done = subprocess.run(
        command,
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "24 passed" in done.stdout, done.stdout
    workers: dict[str, set[str]] = {}
    for path in seen.iterdir():
        workers.setdefault(path.name.split("-")[0], set()).add(path.read_text())
    assert len(list(seen.glob("replica-*"))) == 1  # made once, not once per worker
    assert len(workers["module"]) == 1, workers
    assert len(workers["marked"]) == 1, workers
    assert workers["module"] | workers["marked"] <= {"gw0", "gw1"}
