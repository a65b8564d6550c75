"""The TLS servers of tests/probes/conftest.py, for the http probe's `verify:` tests."""

from tests.probes.conftest import certificates, tls_server

__all__ = ["certificates", "tls_server"]
