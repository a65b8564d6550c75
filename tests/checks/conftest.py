"""End-to-end tests reuse the probe tests' servers: certificates, the TLS server, a throwaway database."""

from tests.probes.conftest import certificates, pg_database, tls_server

__all__ = ["certificates", "pg_database", "tls_server"]
from tests.backups.s3.motoserver import moto_s3_auth  # noqa: F401 - S3 credentials in the canary test
