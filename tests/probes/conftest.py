"""Test servers for the live probes: certificates made with `cryptography` (a CA and leaves), a TLS server
on a real socket that answers HTTP, and a throwaway PostgreSQL database with an alembic_version table."""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REVISION = "0086"

# --- certificates ----------------------------------------------------------------------------------------


@dataclass
class KeyPair:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def write(self, folder: Path, name: str) -> tuple[Path, Path]:
        """Write cert.pem and key.pem files; returns (cert path, key path)."""
        cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
        cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path


def make_certificate(
    common_name: str,
    names: list[str],
    days: float = 90,
    issuer: KeyPair | None = None,
    is_ca: bool = False,
) -> KeyPair:
    """A certificate for `names` (DNS names or IP addresses) valid for `days`, signed by `issuer` (or self)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if names:
        sans: list[x509.GeneralName] = []
        for name in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                sans.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if is_ca:
        usage = x509.KeyUsage(True, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    signer = issuer.key if issuer else key
    return KeyPair(key, builder.sign(signer, hashes.SHA256()))


@dataclass
class Certificates:
    """A test CA, the CA file on disk, and leaves for the server scenarios."""

    folder: Path
    ca: KeyPair
    ca_file: Path
    leaves: dict[str, KeyPair] = field(default_factory=dict)


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("certs")
    ca = make_certificate("opsverify test CA", [], days=365, is_ca=True)
    ca_file, _ = ca.write(folder, "ca")
    leaves = {
        "valid": make_certificate("localhost", ["localhost", "127.0.0.1"], issuer=ca),
        "expiring": make_certificate("localhost", ["localhost", "127.0.0.1"], days=5, issuer=ca),
        "wrong-host": make_certificate("other.example", ["other.example"], issuer=ca),
        "self-signed": make_certificate("localhost", ["localhost", "127.0.0.1"]),
    }
    return Certificates(folder, ca, ca_file, leaves)


# --- a TLS server that answers HTTP ----------------------------------------------------------------------


class TLSServer:
    """Serves one certificate on 127.0.0.1:<free port>; answers any HTTP request with 200 `{"ok": true}`."""

    def __init__(self, pair: KeyPair, folder: Path, name: str) -> None:
        cert_file, key_file = pair.write(folder, f"server-{name}")
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert_file, key_file)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = tls.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n")
                tls.sendall(b'Connection: close\r\n\r\n{"ok": true}')
        except (OSError, ssl.SSLError):
            pass  # the client rejected the certificate or went away: that is what some tests want
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.listener.close()


@pytest.fixture
def tls_server(certificates: Certificates) -> Iterator[dict[str, TLSServer]]:
    """One running TLS server per certificate scenario: valid, expiring, wrong-host, self-signed."""
    servers = {name: TLSServer(pair, certificates.folder, name) for name, pair in certificates.leaves.items()}
    yield servers
    for server in servers.values():
        server.stop()


# --- PostgreSQL ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_database(pg_url: str) -> Iterator[str]:
    """URL of a fresh database with alembic_version (REVISION) and a jobs table; dropped afterwards."""
    name = f"opsverify_test_live_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table alembic_version (version_num varchar(32) primary key)")
        conn.execute("insert into alembic_version values (%s)", (REVISION,))
        conn.execute("create table jobs (id serial primary key, status text not null)")
        conn.execute("insert into jobs (status) select 'pending' from generate_series(1, 3)")
    yield url
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')
