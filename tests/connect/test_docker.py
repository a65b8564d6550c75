"""The docker:// backend against a real Docker Engine: exec with a timeout, files streamed with cat,
stat/list/glob, a missing container, a stopped one, DOCKER_HOST."""

from __future__ import annotations

import gzip
import time
from typing import Any

import pytest

from opsverify.connect import ConnectError, Via, connect, glob


def via(deployment: dict[str, Any], service: str = "api") -> Via:
    return Via.model_validate(
        {
            "url": f"docker://{deployment['project']}-{service}-1",
            "docker_host": deployment["engine"],
            "timeout": 10,
        }
    )


def test_exec_files_and_glob(deployment: dict[str, Any]) -> None:
    with connect(via(deployment)) as machine:
        assert machine.where == f"container {deployment['project']}-api-1"
        result = machine.run(["echo", "it's ok"], timeout=10)
        assert (result.exit_code, result.text()) == (0, "it's ok\n")
        result = machine.run("echo err >&2; exit 4", timeout=10)
        assert (result.exit_code, result.text("stderr")) == (4, "err\n")
        setup = "mkdir -p /tmp/logs && printf 'a\\nb\\n' > /tmp/logs/app.log && echo x | gzip > /tmp/logs/app.log.1.gz"
        assert machine.run(setup, timeout=10).exit_code == 0
        stat = machine.stat("/tmp/logs/app.log")
        assert stat is not None
        assert (stat.size, stat.is_dir) == (4, False)
        assert abs(stat.mtime - time.time()) < 120
        assert machine.stat("/tmp/nope") is None
        assert [e.name for e in machine.listdir("/tmp/logs")] == ["app.log", "app.log.1.gz"]
        assert [e.name for e in glob(machine, "/tmp/*/app.log*")] == ["app.log", "app.log.1.gz"]
        with machine.open("/tmp/logs/app.log") as stream:
            assert stream.read() == b"a\nb\n"
        with machine.open("/tmp/logs/app.log.1.gz") as stream:
            assert gzip.decompress(stream.read()) == b"x\n"
        with pytest.raises(ConnectError, match="no such file"):
            machine.open("/tmp/nope")


def test_a_command_that_hangs(deployment: dict[str, Any]) -> None:
    with connect(via(deployment)) as machine:
        started = time.monotonic()
        result = machine.run(["sleep", "30"], timeout=1)
        assert result.timed_out
        assert time.monotonic() - started < 1 + 14  # the 1 s timeout with a margin, far before the 30 s sleep


def test_missing_and_stopped_containers(deployment: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", deployment["engine"])
    missing = Via.model_validate({"url": "docker://no-such-container"})
    with pytest.raises(ConnectError, match="no container named no-such-container"), connect(missing):
        pass
    with pytest.raises(ConnectError, match="is exited, not running"), connect(via(deployment, "db")):
        pass
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(ConnectError, match="does not answer"), connect(missing):
        pass
