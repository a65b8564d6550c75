"""DOCKER_HOST=ssh://user@host: the Docker Engine of another machine, reached as `docker -H ssh://` reaches it.

The docker SDK logs in with the SSH client's own settings (~/.ssh/config, its keys, ~/.ssh/known_hosts; an
unknown host key is refused) and runs `docker system dial-stdio` there. The SSH server here is a real OpenSSH on
a loopback port whose key may run only that command, pointed at the test engine's socket; HOME is a folder of
the test's, so the user's own ~/.ssh is never read or written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opsverify.connect import ConnectError, Via, connect
from tests.docker_engine import DockerEngine
from tests.sshd import SshServer


@pytest.fixture(scope="module")
def docker_sshd(tmp_path_factory: pytest.TempPathFactory, docker_engine: DockerEngine) -> Iterator[SshServer]:
    """An OpenSSH server whose user key runs only `docker system dial-stdio` against the test engine."""
    server = SshServer.start(
        tmp_path_factory.mktemp("docker-sshd"),
        forced_command=f"DOCKER_HOST={docker_engine.base_url} exec docker system dial-stdio",
    )
    yield server
    server.stop()


def ssh_home(folder: Path, server: SshServer, known: bool = True) -> Path:
    """A HOME whose ~/.ssh names the server's key (and knows its host key when `known`)."""
    ssh = folder / ".ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    (ssh / "config").write_text(
        f"Host 127.0.0.1\n  Port {server.port}\n  User {server.user}\n  IdentityFile {server.user_key}\n"
    )
    (ssh / "known_hosts").write_text(server.known_hosts.read_text() if known else "")
    return folder


def docker_host(server: SshServer) -> str:
    return f"ssh://{server.user}@127.0.0.1:{server.port}"


def test_checks_reach_the_engine_over_ssh(
    run_checks: Callable[..., Any], deployment: dict[str, Any], docker_sshd: SshServer, tmp_path: Path
) -> None:
    project = deployment["project"]
    target = (
        "target: t\n"
        "docker:\n"
        f"  stack: {{project: {project}, services: [api]}}\n"
        "command:\n"
        "  in-api:\n"
        f"    via: docker://{project}-api-1\n"
        "    run: [cat, /etc/hostname]\n"
        "    expect: {exit_code: 0, lines: 1}\n"
        "logs:\n"
        "  logger:\n"
        f"    source: docker\n    container: {project}-logger-1\n"
        "    patterns: ['authentication failed']\n"
    )
    home = ssh_home(tmp_path / "home", docker_sshd)
    result = run_checks(
        target, "-m", "daily", "-v", env={"HOME": str(home), "DOCKER_HOST": docker_host(docker_sshd)}
    )
    assert result.returncode == 1, result.output
    assert "docker:stack PASSED" in result.output
    assert "command:in-api PASSED" in result.output
    assert "authentication failed" in result.output  # read through the engine over ssh, and judged


def test_an_unknown_host_key_is_refused(
    docker_sshd: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(ssh_home(tmp_path / "home", docker_sshd, known=False)))
    via = Via.model_validate(
        {"url": "docker://anything", "docker_host": docker_host(docker_sshd), "timeout": 10}
    )
    with pytest.raises(ConnectError) as caught, connect(via):
        pass
    message = str(caught.value)
    assert f"the SSH host key of 127.0.0.1:{docker_sshd.port} (Docker engine " in message
    assert "known_hosts" in message
    assert "ssh-keyscan" in message


def test_a_refused_ssh_engine_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docker_sshd: SshServer
) -> None:
    monkeypatch.setenv("HOME", str(ssh_home(tmp_path / "home", docker_sshd)))
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    via = Via.model_validate(
        {"url": "docker://anything", "docker_host": f"ssh://ops@127.0.0.1:{port}", "timeout": 5}
    )
    with pytest.raises(ConnectError, match="does not answer") as caught, connect(via):
        pass
    assert "refused" in str(caught.value)
