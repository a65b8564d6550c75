"""Backups on another machine (`via:` ssh to a real OpenSSH server): listed over the connection and verified
there (gzip -t, tar -t, sqlite3 integrity_check, pg_dump trailer, sha256sum), with the same verdict."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sqlite3
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.probe import probe
from opsverify.kinds.backups.verdict import judge
from opsverify.kinds.base import ProbeContext
from tests.conftest import refused_port
from tests.sshd import SshServer

CTX = ProbeContext("test")
DUMP = b"-- PostgreSQL database dump\nCREATE TABLE t (id int);\nCOPY t (id) FROM stdin;\n1\n\\.\n\n-- PostgreSQL database dump complete\n\n"


def via(server: SshServer) -> dict[str, str]:
    return {
        "url": server.url,
        "identity": server.user_key.read_text(),
        "known_hosts": str(server.known_hosts),
    }


def check(server: SshServer, folder: Path, **keys: Any) -> list[str]:
    entry = BackupCheck.model_validate({"path": str(folder), "via": via(server), "settle": 0, **keys})
    facts = probe(entry, CTX)
    return [problem.text for problem in judge(entry, facts).problems]


def aged(path: Path, hours: float) -> Path:
    moment = time.time() - hours * 3600
    os.utime(path, (moment, moment))
    return path


def test_gzip_dump_with_checksum(sshd: SshServer, tmp_path: Path) -> None:
    old = tmp_path / "db_1.sql.gz"
    old.write_bytes(gzip.compress(DUMP))
    aged(old, 30)
    new = tmp_path / "db_2.sql.gz"
    new.write_bytes(gzip.compress(DUMP))
    (tmp_path / "db_2.sql.gz.sha256").write_text(
        f"{hashlib.sha256(new.read_bytes()).hexdigest()}  db_2.sql.gz\n"
    )
    aged(new, 1)
    assert check(sshd, tmp_path, pattern="db_*.sql.gz", max_age="26h", checksum="required") == []
    (tmp_path / "db_2.sql.gz.sha256").write_text("0" * 64 + "  db_2.sql.gz\n")
    (problem,) = check(sshd, tmp_path, pattern="db_*.sql.gz", max_age="26h")
    assert "sha256 mismatch" in problem


def test_damaged_gzip_and_truncated_dump(sshd: SshServer, tmp_path: Path) -> None:
    data = gzip.compress(DUMP * 200)
    (tmp_path / "db_1.sql.gz").write_bytes(data[: len(data) // 2])
    (problem,) = check(sshd, tmp_path, pattern="db_*.sql.gz")
    assert "damaged gzip stream (`gzip -t` on" in problem
    (tmp_path / "db_1.sql.gz").write_bytes(gzip.compress(DUMP[:40]))
    (problem,) = check(sshd, tmp_path, pattern="db_*.sql.gz")
    assert "trailer" in problem


def test_tar_and_sqlite(sshd: SshServer, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in ("a.txt", "b.txt"):
            info = tarfile.TarInfo(name)
            info.size = 3
            archive.addfile(info, io.BytesIO(b"abc"))
    (tmp_path / "files.tar.gz").write_bytes(buffer.getvalue())
    assert check(sshd, tmp_path, pattern="*.tar.gz", min_files=2) == []
    (problem,) = check(sshd, tmp_path, pattern="*.tar.gz", min_files=5)
    assert "2 files" in problem
    database = tmp_path / "index.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (id INTEGER)")
    connection.close()
    assert check(sshd, tmp_path, pattern="*.db") == []


def test_missing_folder_empty_folder_unreachable(sshd: SshServer, tmp_path: Path) -> None:
    (problem,) = check(sshd, tmp_path / "nope")
    assert f"does not exist on {sshd.user}@127.0.0.1:{sshd.port}" in problem
    (problem,) = check(sshd, tmp_path, pattern="*.gz")
    assert problem.startswith(f"no backup in {tmp_path} matches *.gz ("), problem
    port = refused_port()
    entry = BackupCheck.model_validate(
        {"path": "/x", "via": {"url": f"ssh://ops@127.0.0.1:{port}", "insecure_skip_host_key": True}}
    )
    (problem,) = judge(entry, probe(entry, CTX)).problems
    assert f"connection refused by ops@127.0.0.1:{port}" in problem.text


def test_restore_needs_a_local_backup() -> None:
    with pytest.raises(ValidationError, match="`restore` drills read the backup on this machine"):
        BackupCheck.model_validate({"path": "/x", "via": "ssh://ops@app1", "restore": {}})
