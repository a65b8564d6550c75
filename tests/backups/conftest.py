"""Fixtures of the backup tests: a real source database and its pg_dump output (see pgdumps.py)."""

from tests.backups.mysqldumps import mysql_dumps  # noqa: F401 - real mariadb-dump output
from tests.backups.pgdumps import dumps, source_db  # noqa: F401 - fixtures shared with tests/drills
