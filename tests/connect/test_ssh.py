"""The SSH backend against a real OpenSSH server: healthy, wrong host key, unknown host, refused, auth
failure, a command that hangs."""

from __future__ import annotations

import gzip
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from opsverify.connect import ConnectError, Via, connect, glob
from tests.conftest import refused_port
from tests.sshd import SshServer, keygen


def via(server: SshServer, **keys: Any) -> Via:
    options = {
        "url": server.url,
        "identity": server.user_key.read_text(),
        "known_hosts": str(server.known_hosts),
    }
    return Via.model_validate({**options, "timeout": 5, **keys})


def test_healthy_run_and_files(sshd: SshServer, tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("one\ntwo\n")
    (tmp_path / "b.tar.gz").write_bytes(gzip.compress(b"x" * 1000))
    os.utime(tmp_path / "a.log", (1_700_000_000, 1_700_000_000))
    with connect(via(sshd)) as machine:
        assert machine.where == f"{sshd.user}@127.0.0.1:{sshd.port}"
        result = machine.run(["echo", "it's ok"], timeout=5)
        assert (result.exit_code, result.text()) == (0, "it's ok\n")
        result = machine.run("echo err >&2; exit 3", timeout=5)
        assert (result.exit_code, result.text("stderr")) == (3, "err\n")
        stat = machine.stat(str(tmp_path / "a.log"))
        assert stat is not None
        assert (stat.size, stat.mtime, stat.is_dir) == (8, 1_700_000_000, False)
        assert machine.stat(str(tmp_path / "missing")) is None
        with machine.open(str(tmp_path / "a.log")) as stream:
            assert stream.read() == b"one\ntwo\n"
        with machine.open(str(tmp_path / "a.log")) as stream:
            stream.seek(4)
            assert stream.read() == b"two\n"
        with machine.open(str(tmp_path / "b.tar.gz")) as stream, gzip.GzipFile(fileobj=stream) as unzipped:
            assert unzipped.read() == b"x" * 1000
        names = [entry.name for entry in glob(machine, f"{tmp_path}/*.log")]
        assert names == ["a.log"]
        assert [entry.name for entry in machine.listdir(str(tmp_path))] == ["a.log", "b.tar.gz"]
        with pytest.raises(ConnectError, match=r"cannot read .*missing"):
            machine.open(str(tmp_path / "missing"))


def test_wrong_host_key_fails_closed(sshd: SshServer, tmp_path: Path) -> None:
    other = keygen(tmp_path / "other")
    public = Path(f"{other}.pub").read_text().split()
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {public[0]} {public[1]}\n")
    with pytest.raises(ConnectError) as caught, connect(via(sshd, known_hosts=str(known))):
        pass
    message = str(caught.value)
    assert "does not match known_hosts" in message
    assert f"ssh-keygen -R '[127.0.0.1]:{sshd.port}'" in message


def test_unknown_host_fails_closed_and_the_opt_out(sshd: SshServer, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    with pytest.raises(ConnectError) as caught, connect(via(sshd, known_hosts=str(known))):
        pass
    assert "is not in known_hosts" in str(caught.value)
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> ~/.ssh/known_hosts" in str(caught.value)
    with connect(via(sshd, known_hosts=None, insecure_skip_host_key=True)) as machine:
        assert machine.run(["true"], timeout=5).exit_code == 0
    assert known.read_text() == ""


def test_refused() -> None:
    port = refused_port()
    entry = Via.model_validate({"url": f"ssh://ops@127.0.0.1:{port}", "insecure_skip_host_key": True})
    with pytest.raises(ConnectError, match=f"connection refused by ops@127.0.0.1:{port}"), connect(entry):
        pass


def test_auth_failure(sshd: SshServer, tmp_path: Path) -> None:
    stranger = keygen(tmp_path / "stranger")
    with (
        pytest.raises(ConnectError, match=r"authentication failed for .*check `identity_file:`"),
        connect(via(sshd, identity=stranger.read_text())),
    ):
        pass


def test_encrypted_identity_needs_its_passphrase(sshd: SshServer, tmp_path: Path) -> None:
    key = tmp_path / "locked"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret-pass", "-f", str(key)], check=True, timeout=30
    )
    with (
        pytest.raises(ConnectError, match="the SSH identity is encrypted"),
        connect(via(sshd, identity=key.read_text())),
    ):
        pass
    with (
        pytest.raises(ConnectError, match="not a private key paramiko reads"),
        connect(via(sshd, identity=key.read_text(), passphrase="wrong-pass")),
    ):
        pass


def test_missing_identity_file_is_a_config_error(run_checks: Any, tmp_path: Path) -> None:
    target = "target: t\ncommand:\n  x:\n    run: [true]\n    via: {url: 'ssh://a@127.0.0.1', identity_file: keys/nope}\n"
    result = run_checks(target)
    assert result.returncode == 4, result.output
    assert "keys/nope not found" in result.output


def test_a_command_that_hangs_is_cut_at_its_timeout(sshd: SshServer) -> None:
    with connect(via(sshd)) as machine:
        started = time.monotonic()
        result = machine.run(["sleep", "30"], timeout=1)
        assert result.timed_out
        assert result.exit_code is None
        assert time.monotonic() - started < 1 + 14  # the 1 s timeout with a margin, far before the 30 s sleep


def test_silent_server_times_out() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        entry = Via.model_validate({"url": f"ssh://ops@127.0.0.1:{port}", "timeout": 0.5})
        started = time.monotonic()
        with pytest.raises(ConnectError, match=r"within 0.5s"), connect(entry):
            pass
        assert time.monotonic() - started < 0.5 + 5  # the 0.5 s timeout with a margin for a loaded machine
