"""A long wait for a probe says what it waits for and for how long: on a terminal a line every few seconds,
in a CI log (no terminal) one line when the wait starts and one when it ends."""

from __future__ import annotations

import os
import pty
import socket
import subprocess
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from opsverify.pytest_plugin.progress import EVERY, NOTICE_AFTER
from tests.conftest import LocalHTTPServer, Response, RunResult, json_response, refused_port

WAIT = 12  # seconds of the never-ready check's wait_until_ready: more than NOTICE_AFTER + EVERY
assert WAIT > NOTICE_AFTER + EVERY + 2


def ready_after(polls: int) -> Callable[[BaseHTTPRequestHandler], Response]:
    """503 for the first `polls` requests, then 200."""
    seen: list[int] = []

    def answer(request: BaseHTTPRequestHandler) -> Response:
        seen.append(1)
        return json_response({"ready": len(seen) > polls}, 200 if len(seen) > polls else 503)

    return answer


def lines_with(output: str, text: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


def test_in_a_ci_log_a_long_wait_has_a_start_line_and_an_end_line(
    run_checks: Callable[..., RunResult], http_server: LocalHTTPServer
) -> None:
    down = refused_port()
    http_server.routes["/late"] = ready_after(10)  # ready after ten polls 0.5 s apart
    http_server.routes["/now"] = json_response({"ready": True})
    result = run_checks(
        f"""
target: waits
http:
  a-now: {{url: "{http_server.url}/now"}}
  b-late: {{url: "{http_server.url}/late", wait_until_ready: 60s, poll_interval: 500ms}}
  c-never: {{url: "http://127.0.0.1:{down}/health.json", wait_until_ready: {WAIT}s, poll_interval: 1s}}
""",
        timeout=300,
    )
    assert result.returncode == 1, result.output
    assert lines_with(result.output, "a-now") == []  # no wait, no line
    (late,) = lines_with(result.output, "opsverify: waiting for http:b-late")
    assert late.startswith(f"opsverify: waiting for http:b-late (GET {http_server.url}/late) to be ready: ")
    assert late.endswith("of up to 60.0s; last: status: expected 200, got 503")
    assert len(lines_with(result.output, "opsverify: http:b-late is ready after ")) == 1
    (never,) = lines_with(result.output, "opsverify: waiting for http:c-never")
    assert never.startswith(
        f"opsverify: waiting for http:c-never (GET http://127.0.0.1:{down}/health.json) to be ready: "
    )
    assert f"of up to {WAIT}.0s; last: connection refused by 127.0.0.1:{down}" in never
    assert len(lines_with(result.output, "opsverify: http:c-never was not ready after ")) == 1


def run_on_a_terminal(tmp_path: Path, target: str) -> str:
    """pytest --target in a pseudo-terminal, as an operator runs it; everything it printed."""
    (tmp_path / "target.yaml").write_text(target)
    env = {**os.environ, "OPSVERIFY_REPORTS_DIR": str(tmp_path / "reports")}
    env["OPSVERIFY_STATE_DIR"] = str(tmp_path / "reports" / "state")
    env.pop("OPSVERIFY_TARGET", None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--target={tmp_path / 'target.yaml'}",
    ]
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdin=follower, stdout=follower, stderr=follower
        )
    finally:
        os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end closed: the process ended
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        process.wait(timeout=300)
    return b"".join(chunks).decode(errors="replace")


def test_on_a_terminal_a_long_wait_prints_a_line_every_few_seconds(tmp_path: Path) -> None:
    down = refused_port()
    output = run_on_a_terminal(
        tmp_path,
        f"""
target: waits
http:
  never: {{url: "http://127.0.0.1:{down}/health.json", wait_until_ready: {WAIT}s, poll_interval: 1s}}
""",
    )
    waiting = lines_with(output, "opsverify: waiting for http:never")
    assert len(waiting) >= 2, output  # at NOTICE_AFTER s and every EVERY s after, within the WAIT s
    for line in waiting:
        assert f"(GET http://127.0.0.1:{down}/health.json) to be ready: " in line
        assert f"of up to {WAIT}.0s; last: connection refused by 127.0.0.1:{down}" in line
    assert len(lines_with(output, "opsverify: http:never was not ready after ")) == 1


def test_a_probe_slow_to_answer_is_shown_too(run_checks: Callable[..., RunResult]) -> None:
    """Not only wait_until_ready: a server that takes the connection and never answers keeps the test waiting
    for the request's timeout, and the lines say so."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody ever answers
        port = silent.getsockname()[1]
        result = run_checks(
            f'target: slow\nhttp:\n  slow: {{url: "http://127.0.0.1:{port}/", timeout: 6s}}\n'
        )
    assert result.returncode == 1, result.output
    (line,) = lines_with(result.output, "opsverify: waiting for http:slow")
    assert line.startswith(f"opsverify: waiting for http:slow (GET http://127.0.0.1:{port}/): ")
    assert line.endswith("so far (timeout 6.0s)")
    assert len(lines_with(result.output, "opsverify: http:slow: done waiting after ")) == 1
