"""tcp probe: connect within the timeout and, when the entry names a banner, read the first line."""

from __future__ import annotations

import socket
import time

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.tcp.facts import TcpFacts
from opsverify.kinds.tcp.model import TcpCheck


def probe(entry: TcpCheck, ctx: ProbeContext) -> TcpFacts:
    """Refused, timed out and unresolvable hosts become `facts.error`."""
    host = f"[{entry.host}]" if ":" in entry.host else entry.host
    facts = TcpFacts(where=f"{host}:{entry.port}")
    started = time.perf_counter()
    try:
        sock = socket.create_connection((entry.host, entry.port), timeout=entry.timeout)
    except ConnectionRefusedError:
        facts.error = f"connection refused by {facts.where} (nothing listens there: is the service running?)"
        return facts
    except TimeoutError:
        facts.error = (
            f"no connection to {facts.where} within {entry.timeout:g}s (timeout: a firewall drops it?)"
        )
        return facts
    except socket.gaierror as exc:
        facts.error = f"cannot resolve {entry.host}: {exc.strerror}; check the host name"
        return facts
    except OSError as exc:
        facts.error = f"cannot connect to {facts.where}: {exc.strerror or exc}"
        return facts
    with sock:
        facts.connected, facts.connect_ms = True, (time.perf_counter() - started) * 1000
        if entry.banner is not None:
            sock.settimeout(entry.banner_timeout)
            data = b""
            try:
                while b"\n" not in data and len(data) < 4096:
                    chunk = sock.recv(1024)
                    if not chunk:
                        break
                    data += chunk
            except TimeoutError:
                pass
            except OSError as exc:
                facts.banner_error = f"reading the banner failed: {exc.strerror or exc}"
            if data:
                facts.banner = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")[:200]
            elif not facts.banner_error:
                facts.banner_error = f"no banner within {entry.banner_timeout:g}s"
    return facts
