"""Fixtures of the drill tests: the source database and dumps of tests/backups; evidence kept in tmp_path."""

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
