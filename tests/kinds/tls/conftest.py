"""The certificates and TLS servers of tests/probes/conftest.py, for the tls probe tests."""

from tests.probes.conftest import certificates, tls_server

__all__ = ["certificates", "tls_server"]
