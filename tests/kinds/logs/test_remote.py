"""The logs probe on another machine (`via:` ssh, a real OpenSSH server): the same counts as locally,
compressed rotated files streamed, old files skipped, an unreachable machine fails the check."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.logs.model import LogsCheck
from opsverify.kinds.logs.probe import probe
from opsverify.kinds.logs.verdict import judge
from tests.conftest import refused_port
from tests.sshd import SshServer

CTX = ProbeContext("test")
NOW = datetime.now(UTC)


def line(minutes_ago: float, level: str, message: str) -> str:
    moment = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return json.dumps({"ts": moment, "level": level, "message": message})


def via(server: SshServer) -> dict[str, str]:
    return {
        "url": server.url,
        "identity": server.user_key.read_text(),
        "known_hosts": str(server.known_hosts),
    }


def logs(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text(
        "\n".join([line(5, "INFO", "ok"), line(3, "ERROR", "smtp timeout"), line(1, "ERROR", "db down")])
        + "\n"
    )
    (tmp_path / "app.log.1.gz").write_bytes(gzip.compress((line(60, "ERROR", "old burst") + "\n").encode()))
    os.utime(tmp_path / "app.log.1.gz", ((NOW - timedelta(minutes=50)).timestamp(),) * 2)
    (tmp_path / "app.log.2.gz").write_bytes(gzip.compress((line(3000, "ERROR", "ancient") + "\n").encode()))
    os.utime(tmp_path / "app.log.2.gz", ((NOW - timedelta(days=2)).timestamp(),) * 2)


def check(tmp_path: Path, **keys: Any) -> tuple[LogsCheck, Any]:
    entry = LogsCheck.model_validate(
        {"path": f"{tmp_path}/app.log*", "format": "json", "level": "ERROR", "since": "24h", **keys}
    )
    return entry, probe(entry, CTX)


def test_remote_counts_match_local(sshd: SshServer, tmp_path: Path) -> None:
    logs(tmp_path)
    entry, remote = check(tmp_path, via=via(sshd), max=0)
    _local_entry, local = check(tmp_path, max=0)
    assert remote.error is None
    assert (remote.count, local.count) == (3, 3)
    assert remote.unreadable == {}
    assert len(remote.skipped) == 1
    assert remote.skipped[0].endswith("app.log.2.gz")
    assert remote.files[0].startswith(f"{sshd.user}@127.0.0.1:{sshd.port}:")
    (problem,) = judge(entry, remote).problems
    assert "3" in problem.text


def test_no_file_and_unreachable(sshd: SshServer, tmp_path: Path) -> None:
    _entry, facts = check(tmp_path, via=via(sshd))
    assert facts.error == f"no log file matches {tmp_path}/app.log* on {sshd.user}@127.0.0.1:{sshd.port}"
    port = refused_port()
    _entry, facts = check(
        tmp_path, via={"url": f"ssh://ops@127.0.0.1:{port}", "insecure_skip_host_key": True}
    )
    assert facts.error is not None
    assert facts.error.startswith(f"connection refused by ops@127.0.0.1:{port}")
