"""Fixtures of the backup tests: a real source database and its pg_dump output (see pgdumps.py)."""

from tests.backups.pgdumps import dumps, source_db  # noqa: F401 - fixtures shared with tests/drills
