"""The tls verdict from constructed facts (no server): every problem it can report, and a pass."""

from __future__ import annotations

from typing import Any

from opsverify.kinds.tls.facts import TlsFacts
from opsverify.kinds.tls.model import TlsCheck
from opsverify.kinds.tls.verdict import judge
from opsverify.problem import Judgement


def entry(**keys: Any) -> TlsCheck:
    return TlsCheck.model_validate({"host": "api.example.com", **keys})


def certificate(**keys: Any) -> TlsFacts:
    facts = TlsFacts("api.example.com", 443, "api.example.com", subject="CN=api.example.com")
    facts.issuer, facts.sans, facts.protocol = "CN=R11", ["DNS:api.example.com"], "TLSv1.3"
    facts.not_before, facts.not_after, facts.days_left = "2026-01-01 00:00 UTC", "2026-04-01 00:00 UTC", 60.0
    facts.verified, facts.hostname_matches = True, True
    for key, value in keys.items():
        setattr(facts, key, value)
    return facts


def lines(judgement: Judgement) -> list[str]:
    return [problem.text for problem in judgement.problems]


def test_a_valid_certificate_passes() -> None:
    assert judge(entry(), certificate()) == Judgement([], "")


def test_a_failed_handshake_is_one_connection_problem_without_evidence() -> None:
    error = "connection refused by api.example.com:443 (target unreachable: is the service running?)"
    judgement = judge(entry(), TlsFacts("api.example.com", 443, "api.example.com", error=error))
    assert lines(judgement) == [error]
    assert judgement.evidence == ""


def test_expiring_and_expired_certificates() -> None:
    (expiring,) = judge(entry(min_days_left=30), certificate(days_left=4.94)).problems
    assert (expiring.subject, expiring.expected) == ("certificate", "at least 30 days left")
    assert expiring.found == "4.9 days left: it expires 2026-04-01 00:00 UTC"
    assert expiring.fix == "renew it (e.g. `certbot renew`) and reload the server"
    assert lines(judge(entry(min_days_left=1), certificate(days_left=-2.5))) == [
        "certificate: expected at least 1 day left, got 0 days left: it expired 2.5 days ago, on "
        "2026-04-01 00:00 UTC; renew it (e.g. `certbot renew`) and reload the server"
    ]
    assert judge(entry(min_days_left=0), certificate(days_left=0.5)).passed


def test_hostname_names_what_the_certificate_covers() -> None:
    facts = certificate(hostname_matches=False, sans=["DNS:other.example", "IP:10.0.0.1"])
    (problem,) = lines(judge(entry(), facts))
    assert problem == (
        "hostname: expected a certificate valid for 'api.example.com', got a certificate for "
        "DNS:other.example, IP:10.0.0.1; install a certificate for this name, or set `server_name:` to the "
        "name clients use"
    )
    facts.sans = []
    (problem,) = lines(judge(entry(), facts))
    assert "got a certificate with no subjectAltName (subject CN=api.example.com);" in problem
    assert judge(entry(check_hostname=False), facts).passed


def test_chain_against_the_system_store_or_a_bundle() -> None:
    facts = certificate(verified=False, verify_error="unable to get local issuer certificate")
    (problem,) = lines(judge(entry(), facts))
    assert problem.startswith(
        "chain: expected verified against the system CA store, got not verified: unable to get local issuer "
        "certificate; serve the full chain (leaf + intermediates)"
    )
    assert problem.endswith("or `verify: false`")
    facts.self_signed, facts.verify_error = True, "self-signed certificate"
    (problem,) = lines(judge(entry(verify="ca.pem"), facts))
    assert problem.startswith(
        "chain: expected verified against the CA bundle ca.pem, got not verified: self-signed certificate "
        "(the certificate is self-signed);"
    )
    assert judge(entry(verify=False), certificate(verified=None, self_signed=True)).passed


def test_evidence_is_the_certificate_summary() -> None:
    facts = certificate(days_left=3.0, hostname_matches=False)
    judgement = judge(entry(), facts)
    assert len(judgement.problems) == 2
    assert judgement.evidence == facts.summary()
    assert "subject: CN=api.example.com" in judgement.evidence
