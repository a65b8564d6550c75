"""The `docker` sandbox without a Docker engine: its image choice and the `auto` fallback are tested.

No container is faked: the testcontainers code path is exercised up to the engine check. The tests that need
"no Docker engine reachable" make it themselves (`no_engine`: DOCKER_HOST points at a closed socket), whatever
engine the machine has.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsverify.drills.choose import make_sandboxes, start_sandbox
from opsverify.drills.docker import (
    DEFAULT_IMAGE,
    DEFAULT_MYSQL_IMAGE,
    DockerSandbox,
    docker_unavailable_reason,
    image_for,
    mysql_image_for,
)
from opsverify.drills.sandbox import SandboxUnavailable


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DOCKER_HOST at a unix socket that was bound and closed: connecting to it is refused, as with no engine."""
    with tempfile.TemporaryDirectory(prefix="ov-docker-") as folder:  # short: a socket path has 108 bytes
        path = Path(folder) / "docker.sock"
        with socket.socket(socket.AF_UNIX) as closed:
            closed.bind(str(path))
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        for name in (
            "DOCKER_CONTEXT",
            "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH",
            "TESTCONTAINERS_HOST_OVERRIDE",
        ):
            monkeypatch.delenv(name, raising=False)
        yield str(path)


@pytest.mark.parametrize(
    ("dumped_from", "image"),
    [
        ("15.20 (Debian 15.20-0+deb12u1)", "postgres:15"),
        ("16.4", "postgres:16"),
        ("9.6.24", "postgres:9.6"),
        ("10.23", "postgres:10"),
        (None, DEFAULT_IMAGE),
        ("", DEFAULT_IMAGE),
    ],
)
def test_image_matches_the_dumps_major_version(dumped_from: str | None, image: str) -> None:
    assert image_for(dumped_from) == image


def test_explicit_image_wins() -> None:
    assert image_for("15.2", "registry.local/postgres:15-alpine") == "registry.local/postgres:15-alpine"
    assert DockerSandbox("14.1").image == "postgres:14"


def test_no_engine_here_is_explained(no_engine: str) -> None:
    reason = docker_unavailable_reason()
    assert reason is not None
    assert reason.startswith("no Docker engine (")
    assert reason.endswith("); start Docker or set DOCKER_HOST")
    with pytest.raises(SandboxUnavailable, match="Docker"):
        DockerSandbox("15.20").start()


def test_a_docker_host_that_does_not_answer_is_named(no_engine: str) -> None:
    """`restore.docker_host` is the engine the sandbox uses, whatever DOCKER_HOST says (here DOCKER_HOST is
    the closed socket too: the message names the target's setting, not the environment's)."""
    reason = docker_unavailable_reason(f"unix://{no_engine}")
    assert reason == (
        f"no Docker engine at unix://{no_engine} (connection refused); start it, or fix restore.docker_host"
    )
    with pytest.raises(SandboxUnavailable, match=r"fix restore\.docker_host"):
        DockerSandbox("15.20", docker_host=f"unix://{no_engine}").start()


def test_auto_lists_all_three_when_none_works(tmp_path: Path, no_engine: str) -> None:
    candidates = make_sandboxes(
        "auto", sandbox_url=None, image=None, server_bin=str(tmp_path), dumped_from="15.20"
    )
    assert [kind for kind, _ in candidates] == ["docker", "local"]
    with pytest.raises(SandboxUnavailable) as unavailable:
        start_sandbox(candidates, auto=True)
    message = str(unavailable.value)
    assert message.startswith("no sandbox available for the drill (sandbox: auto tries url, docker, local):")
    assert "  - url: restore.sandbox_url is not set" in message
    assert "  - docker: no Docker engine" in message
    assert f"  - local: initdb/pg_ctl not found in server_bin {tmp_path}" in message
    assert "set restore.sandbox_url to the admin URL of a scratch server, start Docker" in message


def test_auto_falls_back_to_local(no_engine: str) -> None:
    candidates = make_sandboxes("auto", sandbox_url=None, image=None, server_bin=None, dumped_from="15.20")
    sandbox, notes = start_sandbox(candidates, auto=True)
    try:
        assert sandbox.kind == "local"
        assert notes[0].startswith("docker: ")
    finally:
        sandbox.stop()


@pytest.mark.parametrize(
    ("server_version", "image"),
    [
        ("10.11.19-MariaDB-0+deb12u1", "mariadb:10.11"),
        ("11.4.2-MariaDB-ubu2404", "mariadb:11.4"),
        ("8.0.36", "mysql:8.0"),
        ("8.4.0-0ubuntu0.24.04.1", "mysql:8.4"),
        (None, DEFAULT_MYSQL_IMAGE),
    ],
)
def test_mysql_image_matches_the_dumps_server(server_version: str | None, image: str) -> None:
    assert mysql_image_for(server_version) == image
    assert mysql_image_for(server_version, "registry.local/mariadb:10.11") == "registry.local/mariadb:10.11"
