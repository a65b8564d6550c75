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

from tests.conftest import REPO, LocalHTTPServer, Response, RunResult, json_response, refused_port
from tests.pytest_plugin.quick_progress import EVERY, NOTICE_AFTER

# The runs load tests/pytest_plugin/quick_progress.py: a first line after NOTICE_AFTER = 1 s and a line every
# EVERY = 1 s on a terminal (the product's 3 s and 5 s would make these waits 12 s long). The probes start
# in a pool before their tests watch them, so each wait leaves 4 s of slack (as the 12 s one did) for a
# loaded machine between a probe's start and its test's.
QUICK = ["-p", "tests.pytest_plugin.quick_progress"]
QUICK_ENV = {"PYTHONPATH": str(REPO)}
WAIT = 6  # seconds of the never-ready check's wait_until_ready on a terminal: two lines and 4 s of slack
assert WAIT >= NOTICE_AFTER + EVERY + 4
LATE_POLLS, LATE_INTERVAL = 10, 0.3  # b-late is ready after 3 s: the 2 s of slack over NOTICE_AFTER it had
CI_WAIT = 8  # c-never's test watches what is left after b-late's 3 s: NOTICE_AFTER and 4 s of slack
assert CI_WAIT >= LATE_POLLS * LATE_INTERVAL + NOTICE_AFTER + 4
SLOW = 4  # the silent server's request timeout: NOTICE_AFTER and 3 s of slack, as its 6 s had


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
    http_server.routes["/late"] = ready_after(LATE_POLLS)
    http_server.routes["/now"] = json_response({"ready": True})
    result = run_checks(
        f"""
target: waits
http:
  a-now: {{url: "{http_server.url}/now"}}
  b-late: {{url: "{http_server.url}/late", wait_until_ready: 60s, poll_interval: {LATE_INTERVAL}s}}
  c-never: {{url: "http://127.0.0.1:{down}/health.json", wait_until_ready: {CI_WAIT}s, poll_interval: 1s}}
""",
        *QUICK,
        env=QUICK_ENV,
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
    assert f"of up to {CI_WAIT}.0s; last: connection refused by 127.0.0.1:{down}" in never
    assert len(lines_with(result.output, "opsverify: http:c-never was not ready after ")) == 1


def run_on_a_terminal(tmp_path: Path, target: str) -> str:
    """pytest --target in a pseudo-terminal, as an operator runs it; everything it printed."""
    (tmp_path / "target.yaml").write_text(target)
    env = {**os.environ, "OPSVERIFY_REPORTS_DIR": str(tmp_path / "reports"), **QUICK_ENV}
    env["OPSVERIFY_STATE_DIR"] = str(tmp_path / "reports" / "state")
    env.pop("OPSVERIFY_TARGET", None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        *QUICK,
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
            f'target: slow\nhttp:\n  slow: {{url: "http://127.0.0.1:{port}/", timeout: {SLOW}s}}\n',
            *QUICK,
            env=QUICK_ENV,
        )
    assert result.returncode == 1, result.output
    (line,) = lines_with(result.output, "opsverify: waiting for http:slow")
    assert line.startswith(f"opsverify: waiting for http:slow (GET http://127.0.0.1:{port}/): ")
    assert line.endswith(f"so far (timeout {SLOW}.0s)")
    assert len(lines_with(result.output, "opsverify: http:slow: done waiting after ")) == 1
