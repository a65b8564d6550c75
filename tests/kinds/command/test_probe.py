"""The command probe on this machine and over real SSH: output, cwd, shell, timeout, end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.command.model import CommandCheck
from opsverify.kinds.command.probe import probe
from opsverify.kinds.command.verdict import judge
from tests.conftest import refused_port
from tests.sshd import SshServer


def run(**keys: Any) -> list[str]:
    entry = CommandCheck.model_validate(keys)
    return [problem.text for problem in judge(entry, probe(entry, ProbeContext("t"))).problems]


def ssh_via(server: SshServer) -> dict[str, str]:
    return {
        "url": server.url,
        "identity": server.user_key.read_text(),
        "known_hosts": str(server.known_hosts),
    }


def test_local_argv_shell_and_cwd(tmp_path: Path) -> None:
    (tmp_path / "marker").write_text("")
    assert run(run=["echo", "a b"], expect={"stdout": "a b"}) == []
    assert run(run="printf 'x\\ny\\n' | wc -l", shell=True, expect={"stdout": "2"}) == []
    assert run(run=["ls"], cwd=str(tmp_path), expect={"stdout": "marker"}) == []
    assert run(run=["false"]) == ["exit code: expected 0, got 1"]
    (problem,) = run(run=["opsverify-no-such-program"])
    assert problem.startswith("command: cannot run opsverify-no-such-program")


def test_timeout_is_bounded() -> None:
    (problem,) = run(run=["sleep", "30"], timeout="0.5s")
    assert "still running after 0.5s: killed (timeout)" in problem


def test_over_ssh(sshd: SshServer, tmp_path: Path) -> None:
    (tmp_path / "app.db").write_text("")
    via = ssh_via(sshd)
    assert run(run=["cat", "/etc/hostname"], via=via, expect={"lines": 1}) == []
    assert (
        run(run="echo ok; echo warn >&2", shell=True, via=via, expect={"stdout": "ok", "stderr": "warn"})
        == []
    )
    assert run(run=["ls"], cwd=str(tmp_path), via=via, expect={"stdout": "app.db"}) == []
    (problem,) = run(run=["sleep", "30"], via=via, timeout="1s")
    assert "killed (timeout)" in problem
    port = refused_port()
    (problem,) = run(run=["true"], via={"url": f"ssh://ops@127.0.0.1:{port}", "insecure_skip_host_key": True})
    assert (
        problem
        == f"command: connection refused by ops@127.0.0.1:{port} (machine unreachable: is sshd running on port {port}?)"
    )


def test_end_to_end_with_a_secret_in_the_output(run_checks: Callable[..., Any], sshd: SshServer) -> None:
    via = ssh_via(sshd)
    target = (
        "target: t\n"
        "command:\n"
        "  heads:\n"
        f"    via: {{url: '{via['url']}', identity_file: '{sshd.user_key}', known_hosts: '{via['known_hosts']}'}}\n"
        "    run: [echo, 'ae1027a6acf (head)']\n"
        "    expect: {lines: 1}\n"
        "  leaky:\n"
        "    run: [echo, 'token=${TOKEN}']\n"
        "    expect: {stdout: fine}\n"
    )
    result = run_checks(target, "-m", "daily", env={"TOKEN": "hunter12-canary"})
    assert result.returncode == 1, result.output
    assert "1 failed, 1 passed" in result.output
    assert "hunter12-canary" not in result.output
    assert "hunter12-canary" not in result.files_text()
    bad = run_checks("target: t\ncommand:\n  x:\n    run: [true]\n    via: ssh://a:b@c\n")
    assert bad.returncode == 4, bad.output
    assert "via" in bad.output
