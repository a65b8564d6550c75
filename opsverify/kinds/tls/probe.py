"""TLS probe: handshake with a server, read its certificate, verify the chain and match the hostname."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import time

from cryptography import x509

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.tls.facts import TlsFacts
from opsverify.kinds.tls.model import TlsCheck
from opsverify.netmessages import Endpoint, connect, describe


def probe(entry: TlsCheck, ctx: ProbeContext) -> TlsFacts:
    """Handshake (verifying unless `verify: false`), then read the certificate; errors become facts.error."""
    facts = TlsFacts(entry.host, entry.port, entry.server_name or entry.host)
    facts.hostname_checked = entry.check_hostname
    started = time.perf_counter()
    try:
        certificate = _fetch(entry, ctx, facts)
    except FileNotFoundError as exc:
        facts.error = (
            f"CA bundle {exc.filename or entry.verify} not found; fix `verify:` (a path relative to the "
            "target file) or use `verify: true` for the system CA store"
        )
        return facts
    except OSError as exc:  # ssl.SSLError included
        facts.error = describe(
            exc, Endpoint(entry.host, entry.port, "tls", entry.timeout, host_fix="check `host:`")
        )
        return facts
    except ValueError as exc:
        facts.error = f"cannot parse the certificate {entry.host}:{entry.port} sent: {exc}"
        return facts
    facts.latency_ms = (time.perf_counter() - started) * 1000
    read_certificate(certificate, facts)
    return facts


def _fetch(entry: TlsCheck, ctx: ProbeContext, facts: TlsFacts) -> x509.Certificate:
    if entry.verify is not False:
        try:
            der, facts.protocol = _handshake(entry, facts.server_name, _verifying_context(entry, ctx))
            facts.verified = True
            return x509.load_der_x509_certificate(der)
        except ssl.SSLCertVerificationError as exc:
            facts.verified = False
            facts.verify_error = str(exc.verify_message or exc.reason or exc)
    # Verification is off or failed: handshake again without it, to read the certificate anyway.
    der, facts.protocol = _handshake(entry, facts.server_name, _unverified_context())
    return x509.load_der_x509_certificate(der)


def _verifying_context(entry: TlsCheck, ctx: ProbeContext) -> ssl.SSLContext:
    """The chain is checked by OpenSSL; the hostname by `hostname_matches`, so both are reported apart."""
    if isinstance(entry.verify, str):
        path = ctx.path(entry.verify)
        if not path.exists():
            raise FileNotFoundError(2, "CA bundle not found", str(path))
        context = ssl.create_default_context(
            cafile=str(path) if path.is_file() else None, capath=str(path) if path.is_dir() else None
        )
    else:
        context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _unverified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _handshake(entry: TlsCheck, server_name: str, context: ssl.SSLContext) -> tuple[bytes, str]:
    with (
        connect(entry.host, entry.port, entry.timeout) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        if not der:
            raise ssl.SSLError("the server sent no certificate")
        return der, tls.version() or ""


def read_certificate(certificate: x509.Certificate, facts: TlsFacts) -> None:
    """Fill subject, issuer, names, validity and the hostname match from the leaf certificate."""
    facts.subject = certificate.subject.rfc4514_string()
    facts.issuer = certificate.issuer.rfc4514_string()
    facts.self_signed = certificate.subject == certificate.issuer
    not_after = certificate.not_valid_after_utc
    facts.not_before = certificate.not_valid_before_utc.strftime("%Y-%m-%d %H:%M UTC")
    facts.not_after = not_after.strftime("%Y-%m-%d %H:%M UTC")
    facts.days_left = (not_after - dt.datetime.now(dt.UTC)).total_seconds() / 86400
    dns_names: list[str] = []
    addresses: list[str] = []
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = names.get_values_for_type(x509.DNSName)
        addresses = [str(a) for a in names.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    facts.sans = [f"DNS:{n}" for n in dns_names] + [f"IP:{a}" for a in addresses]
    facts.hostname_matches = hostname_matches(facts.server_name, dns_names, addresses)


def hostname_matches(server_name: str, dns_names: list[str], addresses: list[str]) -> bool:
    """RFC 6125 matching: exact names, a `*.` wildcard for one leftmost label, IPs against IP SANs."""
    try:
        address = ipaddress.ip_address(server_name.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(a) == address for a in addresses)
    name = server_name.lower().rstrip(".")
    for pattern in (p.lower().rstrip(".") for p in dns_names):
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name:
            label, rest = name.split(".", 1)
            if label and rest == pattern[2:]:
                return True
    return False
