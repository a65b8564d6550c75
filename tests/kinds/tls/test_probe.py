"""The tls probe against TLS servers on real sockets, with certificates generated for the test."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.tls.facts import TlsFacts
from opsverify.kinds.tls.model import TlsCheck
from opsverify.kinds.tls.probe import hostname_matches, probe
from opsverify.kinds.tls.verdict import judge
from tests.conftest import refused_port
from tests.probes.conftest import Certificates, TLSServer


def check(server: TLSServer | int, base_dir: Path, **keys: Any) -> tuple[TlsCheck, TlsFacts]:
    port = server if isinstance(server, int) else server.port
    entry = TlsCheck.model_validate({"host": "127.0.0.1", "port": port, "timeout": 3, **keys})
    return entry, probe(entry, ProbeContext("test", base_dir))


def problems(entry: TlsCheck, facts: TlsFacts) -> list[str]:
    """The verdict's problems, one line each as the terminal shows them."""
    return [problem.text for problem in judge(entry, facts).problems]


def test_valid_certificate_passes(tls_server: dict[str, TLSServer], certificates: Certificates) -> None:
    entry, facts = check(tls_server["valid"], certificates.folder, verify="ca.pem")
    assert problems(entry, facts) == [], facts.summary()
    assert facts.verified is True
    assert facts.hostname_matches is True
    assert facts.subject == "CN=localhost"
    assert facts.issuer == "CN=opsverify test CA"
    assert facts.sans == ["DNS:localhost", "IP:127.0.0.1"]
    assert 88 < (facts.days_left or 0) < 91
    assert facts.protocol.startswith("TLSv1.")


def test_server_name_is_matched_against_dns_names(
    tls_server: dict[str, TLSServer], certificates: Certificates
) -> None:
    entry, facts = check(tls_server["valid"], certificates.folder, verify="ca.pem", server_name="localhost")
    assert problems(entry, facts) == []
    entry, facts = check(tls_server["valid"], certificates.folder, verify="ca.pem", server_name="api.example")
    assert facts.hostname_matches is False
    (problem,) = problems(entry, facts)
    assert "hostname: expected a certificate valid for 'api.example'" in problem
    assert "DNS:localhost, IP:127.0.0.1" in problem


def test_ca_bundle_path_is_relative_to_the_target_file(
    tls_server: dict[str, TLSServer], certificates: Certificates, tmp_path: Path
) -> None:
    _entry, facts = check(tls_server["valid"], tmp_path, verify=str(certificates.ca_file))
    assert facts.verified is True
    _entry, facts = check(tls_server["valid"], tmp_path, verify="ca.pem")  # no ca.pem in tmp_path
    assert facts.error is not None
    assert f"CA bundle {tmp_path / 'ca.pem'} not found" in facts.error


def test_certificate_expiring_in_5_days_fails(
    tls_server: dict[str, TLSServer], certificates: Certificates
) -> None:
    entry, facts = check(tls_server["expiring"], certificates.folder, verify="ca.pem", min_days_left=14)
    assert 4 < (facts.days_left or 0) < 5.1
    (problem,) = problems(entry, facts)
    assert problem.startswith("certificate: expected at least 14 days left, got ")
    assert f"got {facts.days_left:.1f} days left: it expires " in problem  # 5 days less the time since issue
    assert "renew" in problem
    entry, facts = check(tls_server["expiring"], certificates.folder, verify="ca.pem", min_days_left=3)
    assert problems(entry, facts) == []


def test_wrong_hostname_fails_but_the_chain_verifies(
    tls_server: dict[str, TLSServer], certificates: Certificates
) -> None:
    entry, facts = check(tls_server["wrong-host"], certificates.folder, verify="ca.pem")
    assert facts.verified is True
    assert facts.hostname_matches is False
    (problem,) = problems(entry, facts)
    assert problem.startswith(
        "hostname: expected a certificate valid for '127.0.0.1', got a certificate for DNS:other.example;"
    )
    entry, facts = check(tls_server["wrong-host"], certificates.folder, verify="ca.pem", check_hostname=False)
    assert problems(entry, facts) == []


def test_self_signed_certificate_fails_the_chain(
    tls_server: dict[str, TLSServer], certificates: Certificates
) -> None:
    entry, facts = check(tls_server["self-signed"], certificates.folder, verify="ca.pem")
    assert facts.verified is False
    assert facts.self_signed
    assert facts.subject == "CN=localhost"  # the certificate is read even when it does not verify
    (problem,) = problems(entry, facts)
    assert "chain: expected verified against the CA bundle ca.pem, got not verified: " in problem
    assert "self-signed" in problem
    assert "`verify: false`" in problem


def test_system_store_rejects_a_private_ca(
    tls_server: dict[str, TLSServer], certificates: Certificates
) -> None:
    entry, facts = check(tls_server["valid"], certificates.folder)
    assert facts.verified is False
    assert "unable to get local issuer certificate" in (facts.verify_error or "")
    assert "the system CA store" in problems(entry, facts)[0]


def test_verify_false_skips_the_chain_only(
    tls_server: dict[str, TLSServer], certificates: Certificates
) -> None:
    entry, facts = check(tls_server["self-signed"], certificates.folder, verify=False)
    assert facts.verified is None
    assert problems(entry, facts) == []
    entry, facts = check(tls_server["wrong-host"], certificates.folder, verify=False)
    assert len(problems(entry, facts)) == 1  # the hostname is still checked


def test_connection_refused(tmp_path: Path) -> None:
    entry, facts = check(refused_port(), tmp_path)
    assert problems(entry, facts) == [
        f"connection refused by 127.0.0.1:{entry.port} (target unreachable: is the service running?)"
    ]


def test_plain_text_port_and_silent_server(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        _entry, facts = check(port, tmp_path, timeout=0.3)
        assert facts.error == f"no TLS handshake with 127.0.0.1:{port} within 0.3s (timeout)"


@pytest.mark.parametrize(
    ("name", "dns", "ips", "matches"),
    [
        ("api.example.com", ["api.example.com"], [], True),
        ("API.Example.com.", ["api.example.com"], [], True),
        ("api.example.com", ["*.example.com"], [], True),
        ("a.b.example.com", ["*.example.com"], [], False),
        ("example.com", ["*.example.com"], [], False),
        ("10.0.0.1", ["10.0.0.1"], [], False),
        ("10.0.0.1", [], ["10.0.0.1"], True),
        ("::1", [], ["0:0:0:0:0:0:0:1"], True),
    ],
)
def test_hostname_matching(name: str, dns: list[str], ips: list[str], matches: bool) -> None:
    assert hostname_matches(name, dns, ips) is matches


def test_phases_fail_where_the_chain_or_a_checked_hostname_fails() -> None:
    facts = TlsFacts("127.0.0.1", 443, "api.example.com", subject="CN=other", sans=["DNS:other.example.com"])
    facts.protocol, facts.latency_ms, facts.not_after, facts.days_left = "TLSv1.3", 12.0, "2030-01-01", 30.0
    facts.verified, facts.verify_error, facts.hostname_matches = False, "self-signed certificate", False
    connect, certificate, chain, hostname = facts.phases()
    assert (connect.title(), connect.ok) == (
        "connect and handshake with 127.0.0.1:443: TLSv1.3 (12 ms)",
        True,
    )
    assert certificate.detail == "CN=other, valid until 2030-01-01 (30 days left)"
    assert (chain.ok, chain.detail) == (False, "NOT verified: self-signed certificate")
    assert (hostname.name, hostname.ok) == ("match the hostname api.example.com", False)
    facts.hostname_checked = False
    assert facts.phases()[-1].ok
    assert facts.phases()[-1].detail.endswith("(check_hostname: false)")


def test_phases_of_a_refused_connection() -> None:
    entry = TlsCheck(host="127.0.0.1", port=refused_port(), timeout=2)
    facts = probe(entry, ProbeContext("test"))
    (phase,) = facts.phases()
    assert (phase.name, phase.ok) == (f"connect and handshake with 127.0.0.1:{entry.port}", False)
    assert phase.detail == facts.error
