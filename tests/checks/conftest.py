"""End-to-end tests reuse the probe tests' servers: certificates, the TLS server, a throwaway database."""

from tests.probes.conftest import certificates, pg_database, tls_server

__all__ = ["certificates", "pg_database", "tls_server"]
