"""The throwaway PostgreSQL database of the probe tests (shared with tests/probes)."""

from tests.probes.conftest import pg_database

__all__ = ["pg_database"]
