"""Connection and TLS failures as one line an operator understands: what happened, where, and the fix.

The one translation used by the http, tls, prometheus and metrics probes and the HTTP notification sender.
A message never carries a raw code: no OpenSSL reason names or source lines (`WRONG_VERSION_NUMBER`,
`(_ssl.c:1006)`), no errno numbers, no urllib3 wrapper reprs (`HTTPSConnectionPool(...): Max retries
exceeded ...`). `describe` walks the exception chain to the cause that says what happened.

When a TLS handshake fails because the other side does not speak TLS (a wrong version number, a record
layer failure, a connection closed mid-handshake), the endpoint is asked once more, on a second short
connection, what it does answer to a TLS ClientHello: plain HTTP, a banner (SSH, SMTP, ...), nothing.
"""

from __future__ import annotations

import errno
import http.client
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

Scheme = Literal["http", "https", "tls"]
E = TypeVar("E", bound=BaseException)

VERIFY_FIX = "set `verify:` to a CA bundle path, or `verify: false` to skip verification"
PEEK_TIMEOUT = 3.0  # at most this long for the second look at an endpoint that did not speak TLS

# OpenSSL reasons meaning "what came back is not TLS" (3.0 says WRONG_VERSION_NUMBER, 3.2+ may say
# RECORD_LAYER_FAILURE or PACKET_LENGTH_TOO_LONG), or "the other side hung up during the handshake".
_NOT_TLS_REASONS = {
    "WRONG_VERSION_NUMBER",
    "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG",
    "UNKNOWN_PROTOCOL",
    "RECORD_TOO_LARGE",
    "HTTP_REQUEST",
    "HTTPS_PROXY_REQUEST",
    "UNEXPECTED_EOF_WHILE_READING",
}
_ALERTS = {
    "TLSV1_ALERT_PROTOCOL_VERSION": "the server refused every TLS version this client offers",
    "UNSUPPORTED_PROTOCOL": "the server only offers a TLS version this client refuses (too old)",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the server found no TLS version or cipher in common with this client",
    "NO_SHARED_CIPHER": "the server found no cipher in common with this client",
    "NO_PROTOCOLS_AVAILABLE": "no TLS version in common with the server",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the server requires a client certificate, which opsverify does not send",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the server rejected the client certificate (or requires one)",
    "TLSV1_ALERT_UNKNOWN_CA": "the server rejected the client certificate (unknown CA)",
    "TLSV1_UNRECOGNIZED_NAME": "the server does not serve the requested host name (SNI)",
    "TLSV1_ALERT_INTERNAL_ERROR": "the server reported an internal TLS error",
    "TLSV1_ALERT_ACCESS_DENIED": "the server denied access during the TLS handshake",
}


class ConnectTimeout(TimeoutError):
    """The TCP connection itself timed out (unlike an answer that did not come in time)."""


def connect(host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection whose timeout, if it times out, says it was the connect (see `describe`)."""
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except TimeoutError as exc:
        raise ConnectTimeout(f"connecting to {host}:{port} timed out") from exc


@dataclass(frozen=True)
class Endpoint:
    """Where a connection went and how: `scheme` "tls" is a bare handshake (the tls kind).

    `verify_fix` is the fix for an untrusted certificate, `not_tls_fix` the fix when the port does not
    speak TLS (both default by scheme); `host_fix` what to check when the name does not resolve; `service`
    what should be listening ("the receiver" for a notification channel).
    `secret_url`: the URL's path or query is a secret, so no library text that could quote it is shown.
    """

    host: str
    port: int
    scheme: Scheme
    timeout: float
    verify_fix: str = VERIFY_FIX
    not_tls_fix: str = ""
    host_fix: str = "check the URL"
    service: str = "the service"
    secret_url: bool = False

    @classmethod
    def from_url(
        cls,
        url: str,
        timeout: float,
        *,
        verify_fix: str = VERIFY_FIX,
        not_tls_fix: str = "",
        service: str = "the service",
        secret_url: bool = False,
    ) -> Endpoint:
        """The endpoint of an http:// or https:// URL (its port, or 80 / 443)."""
        parts = urlsplit(url)
        scheme: Scheme = "https" if parts.scheme == "https" else "http"
        default = 443 if scheme == "https" else 80
        try:
            port = parts.port or default
        except ValueError:
            port = default
        return cls(
            parts.hostname or "",
            port,
            scheme,
            timeout,
            verify_fix=verify_fix,
            not_tls_fix=not_tls_fix,
            service=service,
            secret_url=secret_url,
        )

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def tls(self) -> bool:
        return self.scheme != "http"

    def plain_http_fix(self) -> str:
        """What to do when the port answered a TLS handshake in plain HTTP."""
        if self.not_tls_fix:
            return self.not_tls_fix
        if self.scheme == "tls":
            return "set `port:` to the TLS port (or check this service with the `http` kind)"
        return "use http:// or the TLS port"

    def other_port_fix(self) -> str:
        """What to do when the port answered a TLS handshake in some other protocol, or not at all."""
        if self.scheme == "tls":
            return "set `port:` to the port that speaks TLS"
        return "use the port that speaks TLS in the URL"


def describe(exc: BaseException, endpoint: Endpoint) -> str:
    """One line for a failed connection, request or handshake; `exc` is any requests, ssl or socket error."""
    where, timeout = endpoint.where, f"{endpoint.timeout:g}s"
    chain = list(_causes(exc))
    if _any(chain, requests.exceptions.TooManyRedirects):
        return f"too many redirects from {where} (a redirect loop: check the URL and where the server redirects it)"
    tls_error = _find(chain, ssl.SSLError)
    if tls_error is not None:
        return _describe_tls(tls_error, endpoint)
    if _any(chain, ConnectionRefusedError):
        return f"connection refused by {where} (target unreachable: is {endpoint.service} running?)"
    if _any(chain, socket.gaierror, urllib3.exceptions.NameResolutionError):
        return f"cannot resolve host {endpoint.host!r} (target unreachable: {endpoint.host_fix})"
    if _any(chain, http.client.RemoteDisconnected):
        return _closed(endpoint)
    bad_line = _find(chain, http.client.BadStatusLine)
    if bad_line is not None:
        return _not_http(endpoint, str(bad_line.args[0]) if bad_line.args else "")
    if _any(chain, ConnectionResetError):
        return _reset(endpoint)
    connect_timeout = _find(chain, urllib3.exceptions.ConnectTimeoutError)
    if _any(chain, requests.exceptions.ConnectTimeout, ConnectTimeout) or (
        connect_timeout is not None and not isinstance(connect_timeout, urllib3.exceptions.NewConnectionError)
    ):
        return (
            f"timed out after {timeout} connecting to {where} (is the host up, and does a firewall let "
            f"port {endpoint.port} through?)"
        )
    if _any(chain, requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
        if endpoint.scheme == "tls":
            return f"no TLS handshake with {where} within {timeout} (timeout)"
        return f"no response from {where} within {timeout} (timeout)"
    if _any(
        chain,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.IncompleteRead,
        http.client.IncompleteRead,
    ):
        return f"{where} broke off the response before the end of the body (is the service crashing?)"
    if _any(chain, requests.exceptions.ProxyError, urllib3.exceptions.ProxyError):
        return f"cannot reach {where} through the proxy set in HTTPS_PROXY / HTTP_PROXY (check the proxy, or set NO_PROXY)"
    os_error = next((e for e in chain if isinstance(e, OSError) and e.errno is not None), None)
    if os_error is not None:
        return _os_error(os_error, endpoint)
    return f"connection to {where} failed: {_last_resort(chain, endpoint)}"


def _describe_tls(error: ssl.SSLError, endpoint: Endpoint) -> str:
    where = endpoint.where
    if isinstance(error, ssl.SSLCertVerificationError):
        detail = error.verify_message or _ssl_text(error)
        return f"TLS error talking to {where}: certificate verify failed: {detail} ({endpoint.verify_fix})"
    reason = (error.reason or "").upper()
    if reason in _NOT_TLS_REASONS or isinstance(error, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return _not_tls(endpoint, _ssl_text(error))
    if reason in _ALERTS:
        return f"TLS handshake with {where} failed: {_ALERTS[reason]}"
    return f"TLS handshake with {where} failed: {_ssl_text(error)}"


def _not_tls(endpoint: Endpoint, detail: str) -> str:
    """The handshake got something that is not TLS: look once more at what the endpoint does answer."""
    where, fix = endpoint.where, endpoint.other_port_fix()
    answer = peek(endpoint.host, endpoint.port, min(endpoint.timeout, PEEK_TIMEOUT))
    if answer is None:
        return f"{where} did not complete a TLS handshake (is this a TLS port?): {fix}"
    if _is_http(answer):
        return f"{where} answered in plain HTTP, not TLS: {endpoint.plain_http_fix()}"
    if not answer:
        return f"{where} closed the connection without a TLS handshake (not a TLS port, or it rejected this client): {fix}"
    if answer[:1] in (b"\x15", b"\x16"):  # a TLS record after all: the failure was something else
        return f"TLS handshake with {where} failed: {detail}"
    return f"{where} is not a TLS port: {_what_it_sent(answer)}; {fix}"


def _is_http(answer: bytes) -> bool:
    """A status line, or an HTML error page (what an HTTP/0.9-style reply to binary input looks like)."""
    start = answer.lstrip()[:14].lower()
    return answer.startswith(b"HTTP/") or start.startswith((b"<!doctype html", b"<html"))


def _closed(endpoint: Endpoint) -> str:
    """The connection was accepted, then closed with no answer to the request."""
    where = endpoint.where
    if endpoint.scheme == "http" and _speaks_tls(endpoint):
        return f"{where} speaks TLS, not plain HTTP: use https://"
    return f"{where} closed the connection without answering the request (is this the right port? is the service crashing?)"


def _reset(endpoint: Endpoint) -> str:
    """The connection was accepted, then reset: for TLS, see what the port answers; for HTTP, as closed."""
    if endpoint.tls:
        return _not_tls(endpoint, "the connection was reset")
    return _closed(endpoint)


def _not_http(endpoint: Endpoint, line: str) -> str:
    where = endpoint.where
    if line.startswith(("\x15", "\x16")):
        return f"{where} speaks TLS, not plain HTTP: use https://"
    if not line.strip():
        return _closed(endpoint)
    return f"{where} did not answer in HTTP: {_what_it_sent(line.encode('latin-1', 'replace'))} (is this the HTTP port?)"


def _os_error(error: OSError, endpoint: Endpoint) -> str:
    where = endpoint.where
    if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"no route to {where} (target unreachable: check the host and the network in between)"
    if error.errno == errno.ECONNABORTED:
        return f"connection to {where} aborted (does a firewall or proxy reject this client?)"
    reason = error.strerror or _clean(str(error)) or _humanize(type(error).__name__)
    return f"connection to {where} failed: {reason[:1].lower()}{reason[1:]}"


def _speaks_tls(endpoint: Endpoint) -> bool:
    answer = peek(endpoint.host, endpoint.port, min(endpoint.timeout, PEEK_TIMEOUT))
    return answer is not None and answer[:1] in (b"\x15", b"\x16")


def peek(host: str, port: int, timeout: float) -> bytes | None:
    """What host:port sends back to a TLS ClientHello: its first bytes, b"" when it closes, None if unknown.

    The ClientHello is a real one (from an in-memory TLS client), so the endpoint sees what the failed
    handshake sent; nothing else is sent, so no URL, header or secret leaves this machine.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    client = context.wrap_bio(ssl.MemoryBIO(), (outgoing := ssl.MemoryBIO()), server_hostname=host or None)
    try:
        client.do_handshake()
    except ssl.SSLWantReadError:
        pass
    except ssl.SSLError:
        return None
    hello = outgoing.read()
    try:
        with connect(host, port, timeout) as sock:
            sock.sendall(hello)
            received = b""
            while len(received) < 512 and b"\n" not in received:
                chunk = sock.recv(256)
                if not chunk:
                    break
                received += chunk
            return received
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
        return b""  # it hung up on the ClientHello
    except OSError:  # refused, timed out, unreachable: nothing more to learn
        return None


def _what_it_sent(data: bytes) -> str:
    """`it answered 'SSH-2.0-OpenSSH_9.2'` for a text banner, `it answered with binary data` else."""
    first = data.split(b"\n", 1)[0].rstrip(b"\r")
    text = first.decode("ascii", errors="replace")
    printable = sum(ch.isprintable() for ch in text)
    if text and printable >= 0.9 * len(text):
        shown = "".join(ch if ch.isprintable() else "?" for ch in text[:60])
        return f"it answered {shown!r}{' …' if len(text) > 60 else ''}"
    return "it answered with binary data"


def _ssl_text(error: ssl.SSLError) -> str:
    """OpenSSL's words without its codes: `[SSL: X] words (_ssl.c:1006)` becomes `words`."""
    text = _clean(error.strerror or (str(error.args[-1]) if error.args else "") or str(error))
    if not text and error.reason:
        text = _humanize(error.reason)
    return text or "the TLS library gave no reason"


def _clean(text: str) -> str:
    text = re.sub(r"\[SSL(: [A-Z0-9_]+)?\]\s*", "", text)
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", text)
    text = re.sub(r"\[Errno -?\d+\]\s*", "", text)
    if re.search(r"ConnectionPool\(|Max retries exceeded|Caused by|^\(|\w(Error|Exception)\(", text):
        return ""  # a wrapper's or a tuple's repr: a deeper exception says it better
    return text.strip(" .'\"")


def _humanize(name: str) -> str:
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ")
    return words.lower()


def _last_resort(chain: list[BaseException], endpoint: Endpoint) -> str:
    """The deepest cause's own words (its class name when the URL is secret, or it has no clean words)."""
    root = chain[-1]
    if not endpoint.secret_url:
        for error in reversed(chain):
            text = _clean(str(error))
            if text:
                return text[:200]
    return _humanize(type(root).__name__)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception it wraps (args, urllib3's `reason`, __cause__, __context__), outermost first."""
    seen: set[int] = set()
    queue = [exc]
    while queue:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [arg for arg in current.args if isinstance(arg, BaseException)]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            nested.append(reason)
        nested += [e for e in (current.__cause__, current.__context__) if e is not None]
        queue.extend(nested)


def _find(chain: list[BaseException], kind: type[E]) -> E | None:
    return next((e for e in chain if isinstance(e, kind)), None)


def _any(chain: list[BaseException], *kinds: type[BaseException]) -> bool:
    return any(isinstance(e, kinds) for e in chain)
