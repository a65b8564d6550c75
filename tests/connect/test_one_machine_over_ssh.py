"""The issue's whole case in one target: disk, memory, a log file, a backup folder and a command of a machine
reached over SSH (a real OpenSSH server on loopback), checked by one run as an operator would run it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.sshd import SshServer

DUMP = b"-- PostgreSQL database dump\nCREATE TABLE t (id int);\nCOPY t (id) FROM stdin;\n1\n\\.\n\n-- PostgreSQL database dump complete\n\n"


def test_one_machine_over_ssh(run_checks: Callable[..., Any], sshd: SshServer, tmp_path: Path) -> None:
    srv = tmp_path / "srv"
    (srv / "logs").mkdir(parents=True)
    (srv / "backups").mkdir()
    (srv / "logs" / "app.log").write_text(
        json.dumps({"level": "INFO", "message": "started"}) + "\n"
        + json.dumps({"level": "ERROR", "message": "smtp timeout"}) + "\n"
    )  # fmt: skip
    (srv / "backups" / "emailops_1.sql.gz").write_bytes(gzip.compress(DUMP))
    via = f"{{url: '{sshd.url}', identity_file: '{sshd.user_key}', known_hosts: '{sshd.known_hosts}'}}"
    target = (
        "target: app1\n"
        f"host:\n  via: {via}\n  disk: [{{path: /, max_used_pct: 100}}]\n  memory: {{max_used_pct: 100}}\n"
        f"logs:\n  app-errors:\n    via: {via}\n    path: {srv}/logs/app.log*\n    format: json\n    level: ERROR\n"
        f"backups:\n  database:\n    via: {via}\n    path: {srv}/backups\n    pattern: 'emailops_*.sql.gz'\n"
        "    max_age: 26h\n    settle: 0\n"
        f"command:\n  migrations:\n    via: {via}\n    run: [ls, {srv}/backups]\n    expect: {{lines: 1}}\n"
    )
    result = run_checks(target, "-m", "daily", "-v")
    assert result.returncode == 1, result.output
    for passed in ("host:disk:/", "host:memory", "backups:database", "command:migrations"):
        assert f"{passed} PASSED" in result.output, result.output
    assert "1 failed, 4 passed" in result.output, result.output
    assert "smtp timeout" in result.output  # the error line of the remote log, counted and quoted
