"""Fixtures of the drill tests: the source database and dumps of tests/backups; evidence kept in tmp_path."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backups.mysqldumps import mysql_dumps  # noqa: F401 - real mariadb-dump output
from tests.backups.pgdumps import dumps, source_db  # noqa: F401 - fixtures shared with tests/backups


@pytest.fixture(autouse=True)
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Drill evidence goes to tmp_path/reports, never into the repository's reports/ folder."""
    folder = tmp_path / "reports"
    monkeypatch.setenv("OPSVERIFY_REPORTS_DIR", str(folder))
    return folder


from tests.backups.s3.motoserver import moto_s3  # noqa: E402, F401 - drills from a bucket


@pytest.fixture
def private_tempdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """tempfile's folder for this test alone, where local sandboxes make their folders: another process's
    drill reaps stale sandbox folders of the machine's temp folder, and a test looks only at its own. Short
    (a folder of the real temp folder, not tmp_path): the sandbox servers' unix sockets live in it."""
    folder = Path(tempfile.mkdtemp(prefix="ovt-"))
    folder.chmod(0o755)  # the sandbox servers run as their own users (postgres, mysql) inside it
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def drill_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The drill's temporary folders go here, so a test can see that none is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
