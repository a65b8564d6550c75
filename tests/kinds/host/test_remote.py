"""The host checks of another machine (`via:` ssh) against a real OpenSSH server on this machine: the
figures agree with the local ones, and an unreachable machine fails the check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.host.model import HostSection
from opsverify.kinds.host.probe import probe
from opsverify.kinds.host.verdict import judge
from tests.conftest import refused_port
from tests.sshd import SshServer

CTX = ProbeContext("test")


def via(server: SshServer) -> dict[str, str]:
    return {
        "url": server.url,
        "identity": server.user_key.read_text(),
        "known_hosts": str(server.known_hosts),
    }


def test_remote_figures_match_local(sshd: SshServer) -> None:
    keys: dict[str, Any] = {
        "disk": [{"path": "/", "max_used_pct": 100, "max_inodes_used_pct": 100}],
        "memory": {"max_used_pct": 100},
        "load": {"max_per_core": 1000},
        "cpu": {"max_used_pct": 100, "interval": "200ms"},
    }
    remote = HostSection.model_validate({**keys, "via": via(sshd)})
    local = HostSection.model_validate(keys)
    for (name, entry), (_, here) in zip(remote.entries(), local.entries(), strict=True):
        assert entry.via is not None, name
        facts = probe(entry, CTX)
        assert facts.error is None, (name, facts.error)
        assert judge(entry, facts).problems == [], name
        assert facts.hostname == f"{sshd.user}@127.0.0.1:{sshd.port}"
        mine = probe(here, CTX)
        if name == "disk:/":
            assert facts.total == mine.total
            assert abs(facts.used_pct - mine.used_pct) < 2
            assert facts.mountpoint == "/"
            assert facts.inodes_used_pct is not None
        if name == "memory":
            assert facts.total == mine.total
        if name in ("load", "cpu"):
            assert facts.cores == mine.cores


def test_remote_limits_fail_with_top_processes(sshd: SshServer) -> None:
    host = HostSection.model_validate({"via": via(sshd), "memory": {"max_used_pct": 0.001}})
    ((_, entry),) = host.entries()
    facts = probe(entry, CTX)
    (problem,) = judge(entry, facts).problems
    assert problem.expected == "at most 0.001% used"
    assert facts.top_processes
    assert "resident" in facts.top_processes[0]


def test_missing_path_and_unreachable_machine(sshd: SshServer) -> None:
    host = HostSection.model_validate(
        {"via": via(sshd), "disk": [{"path": "/no/such/dir", "max_used_pct": 90}]}
    )
    ((_, entry),) = host.entries()
    facts = probe(entry, CTX)
    assert facts.path_missing
    assert facts.error == f"no such path on {sshd.user}@127.0.0.1:{sshd.port}"
    port = refused_port()
    gone = HostSection.model_validate(
        {
            "via": {"url": f"ssh://ops@127.0.0.1:{port}", "insecure_skip_host_key": True},
            "memory": {"max_used_pct": 90},
        }
    )
    ((_, entry),) = gone.entries()
    (problem,) = judge(entry, probe(entry, CTX)).problems
    assert problem.text.startswith(f"memory: connection refused by ops@127.0.0.1:{port}")


def test_end_to_end(run_checks: Callable[..., Any], sshd: SshServer) -> None:
    v = via(sshd)
    target = (
        "target: t\nhost:\n"
        f"  via: {{url: '{v['url']}', identity_file: '{sshd.user_key}', known_hosts: '{v['known_hosts']}'}}\n"
        "  disk: [{path: /, max_used_pct: 100}]\n  memory: {max_used_pct: 100}\n"
    )
    result = run_checks(target, "-m", "daily")
    assert result.returncode == 0, result.output
    assert "2 passed" in result.output
