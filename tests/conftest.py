"""Shared test infrastructure: real servers on real sockets, the local PostgreSQL and Redis, and a runner
that drives `pytest --target ...` in a subprocess the way an operator would.

Servers are found through environment variables with local defaults. A missing PostgreSQL or Redis is a
test failure (never a quiet skip), in CI and locally.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.deployment import deployment  # noqa: F401 - a fixture, used by name
from tests.docker_engine import DockerEngine
from tests.plugins import plugin_path  # noqa: F401 - a fixture: installs a plugin distribution for one test
from tests.sshd import SshServer

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("OPSVERIFY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("OPSVERIFY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MYSQL_URL = os.environ.get("OPSVERIFY_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refused_port() -> int:
    """A local port nothing listens on (connections are refused)."""
    return free_port()


# Session fixtures slow to start (a real Prometheus that has scraped, a settled Docker deployment): the tests
# using one run on one pytest-xdist worker, so it starts once per run instead of once per worker.
SHARED_SESSION_FIXTURES = ("deployment", "prometheus")


@pytest.hookimpl(wrapper=True)  # around xdist's own hook, which reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Iterator[None]:
    """Warnings are errors in the project's own tests (a test's own filterwarnings mark still wins), and the
    tests that share an expensive fixture get an xdist_group (see `xdist_group_of`); after xdist's hook, each
    grouped test's node id ends with its group (`group_node_ids`).

    Marks apply in order, the later winning: "error", then pyproject's ignores, then the test's own marks.
    """
    ignores = (
        [line for line in items[0].config.getini("filterwarnings") if line.startswith("ignore")]
        if items
        else []
    )
    for item in items:
        for line in reversed(["error", *ignores]):
            item.add_marker(pytest.mark.filterwarnings(line), append=False)
        group = xdist_group_of(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    yield
    if getattr(config.option, "loadgroup", False):  # a pytest-xdist worker of a `--dist loadgroup` run
        group_node_ids(items)


def group_node_ids(items: list[pytest.Item]) -> None:
    """`--dist loadgroup` sends the controller each test's node id with `@<group>` appended: the scheduler
    keeps the tests of one suffix on one worker. xdist 3.8 appends it by setting `item._nodeid`, which pytest
    9.2 no longer reads (its node id is a structured `item._id`; pytest-xdist issue 1386): the groups were
    silently ignored and both workers made every module's replica. Here the suffix is set where this pytest
    keeps the id, the same suffix xdist computes, and left alone when xdist's own took."""
    for item in items:
        names = sorted(
            {
                str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                for mark in item.iter_markers("xdist_group")
            }
        )
        suffix = "@" + "_".join(names)
        if not names or item.nodeid.endswith(suffix):
            continue
        current = getattr(item, "_id", None)
        if current is not None and not isinstance(current, str) and hasattr(type(current), "parse"):
            item._id = type(current).parse(item.nodeid + suffix)
        else:
            item._nodeid = item.nodeid + suffix


def start_image_builds(nodeids: Iterable[str]) -> None:
    """On a cold machine, start building the Docker database images as soon as the tests that need them are
    known (once per run): the builds then overlap the other tests instead of holding up the worker that runs
    the first Docker drill test, which waits for them under the same file lock (tests/docker_images.py)."""
    if _images_started or _image_builds:
        return
    from tests.docker_images import TESTS_BUILDING_IMAGES, build_in_background

    files = {nodeid.split("::", 1)[0] for nodeid in nodeids}
    recipes = {
        recipe.reference: recipe
        for path, needed in TESTS_BUILDING_IMAGES.items()
        if path in files
        for recipe in needed
    }
    if recipes:  # a process that collected none of them (an empty list) leaves it to the next call
        _images_started.append(True)
        _image_builds.extend(build_in_background(*recipes.values()))


_images_started: list[bool] = []
_image_builds: list[threading.Thread] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    """Without pytest-xdist this process collected the tests; a worker leaves it to the controller."""
    if not hasattr(session.config, "workerinput") and not session.config.option.collectonly:
        start_image_builds(item.nodeid for item in session.items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """pytest-xdist's controller: a worker has collected these tests."""
    if not node.config.option.collectonly:
        start_image_builds(ids)


def pytest_unconfigure(config: pytest.Config) -> None:
    """A run that ended before its Docker tests (-x, a failure in collection) lets a build it started finish
    (it is cached for the next run) rather than leave debootstrap running after pytest has exited."""
    for thread in _image_builds:
        thread.join()


def xdist_group_of(item: pytest.Item) -> str | None:
    """The xdist group a test joins without a mark of its own (`--dist loadgroup` runs a group on one worker).

    A test using one of SHARED_SESSION_FIXTURES joins that fixture's group; a test using a module-scoped
    fixture (a seed replica, a finished run) joins its module's, so the fixture is made once, not once per
    worker. A test's own `xdist_group` mark wins."""
    if item.get_closest_marker("xdist_group") is not None:
        return None
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    names = set(info.names_closure)
    for name in SHARED_SESSION_FIXTURES:
        if name in names:
            return name
    for name in info.names_closure:
        if any(definition.scope == "module" for definition in info.name2fixturedefs.get(name, ())):
            return f"module:{item.nodeid.split('::', 1)[0]}"
    return None


# --- the repository's own folders are not written by its tests ------------------------------------------


def repository_reports() -> dict[str, tuple[int, int]]:
    """Every file under the repository's reports/ (what `make demo` left for `make report`): size, mtime."""
    found: dict[str, tuple[int, int]] = {}
    for folder, subfolders, files in os.walk(REPO / "reports"):
        subfolders[:] = [name for name in subfolders if name != "node_modules"]
        for name in files:
            try:
                stat = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            found[os.path.relpath(os.path.join(folder, name), REPO)] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture(autouse=True)
def repository_reports_untouched() -> Iterator[None]:
    """Fail the test that wrote into, or emptied, the repository's reports/ (make demo; make test; make report)."""
    before = repository_reports()
    yield
    after = repository_reports()
    if after != before:
        changed = sorted(
            {path for path in before.keys() ^ after.keys()}
            | {path for path in before.keys() & after.keys() if before[path] != after[path]}
        )
        listed = ", ".join(changed[:5]) + (", ..." if len(changed) > 5 else "")
        pytest.fail(
            f"this test changed the repository's reports/ folder ({listed}): tests write only into their own "
            "temporary folders (OPSVERIFY_REPORTS_DIR=tmp_path/reports, the run_checks fixture)",
            pytrace=False,
        )


# --- real servers ----------------------------------------------------------------------------------------

Response = tuple[int, dict[str, str], bytes]
Handler = Callable[[BaseHTTPRequestHandler], Response]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(data).encode()


@dataclass
class LocalHTTPServer:
    """A threaded HTTP server on 127.0.0.1:<free port>; `routes[path]` is a Response or a Handler."""

    routes: dict[str, Response | Handler] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalHTTPServer:
        owner = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                owner.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                route = owner.routes.get(path) or owner.routes.get("*")
                if route is None:
                    status, headers, payload = 404, {"Content-Type": "text/plain"}, b"not found"
                elif callable(route):
                    status, headers, payload = route(self)
                else:
                    status, headers, payload = route
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    server = LocalHTTPServer().start()
    yield server
    server.stop()


# --- PostgreSQL and Redis on this machine ----------------------------------------------------------------


def _require(what: str, variable: str, url: str, check: Callable[[], None]) -> None:
    try:
        check()
    except Exception as exc:
        pytest.fail(
            f"{what} is not reachable at {url} ({exc}); start it or point {variable} at one. "
            "These tests need a real server and do not skip.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def pg_url() -> str:
    """Admin URL of a real PostgreSQL (OPSVERIFY_TEST_PG_URL; default the local one, trust auth)."""
    import psycopg

    def check() -> None:
        with psycopg.connect(PG_URL, connect_timeout=5) as conn:
            conn.execute("select 1")

    _require("PostgreSQL", "OPSVERIFY_TEST_PG_URL", PG_URL, check)
    return PG_URL


@pytest.fixture(scope="session")
def mysql_url() -> str:
    """Admin URL of a real MySQL/MariaDB (OPSVERIFY_TEST_MYSQL_URL; default root on the local MariaDB)."""
    from tests.mysql_server import admin

    def check() -> None:
        with admin(MYSQL_URL) as conn, conn.cursor() as cursor:
            cursor.execute("select 1")

    _require("MySQL/MariaDB", "OPSVERIFY_TEST_MYSQL_URL", MYSQL_URL, check)
    return MYSQL_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a real Redis (OPSVERIFY_TEST_REDIS_URL; default redis://127.0.0.1:6379/0)."""
    import redis

    def check() -> None:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5).ping()

    _require("Redis", "OPSVERIFY_TEST_REDIS_URL", REDIS_URL, check)
    return REDIS_URL


# --- running the suite like an operator ------------------------------------------------------------------

OPSVERIFY_SCRIPT = Path(sys.executable).with_name("opsverify")


def run_opsverify(
    cwd: Path, *args: str, drop: tuple[str, ...] = ("OPSVERIFY_",), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The console script as a user runs it in a shell: without this process's variables whose names start
    with one of `drop` (its OPSVERIFY_* settings), with `env` added."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    environment.update(env or {})
    return subprocess.run(
        [str(OPSVERIFY_SCRIPT), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class RunResult:
    returncode: int
    output: str
    reports: Path
    seconds: float

    def files_text(self) -> str:
        """Every file written under the reports folder, concatenated (for secret-leak checks)."""
        chunks = []
        for path in sorted(self.reports.rglob("*")):
            if path.is_file():
                chunks.append(path.read_bytes().decode("utf-8", errors="replace"))
        return "\n".join(chunks)


@pytest.fixture
def run_checks(tmp_path: Path) -> Callable[..., RunResult]:
    """Run a target's checks as an operator would: `run_checks(target_path_or_yaml_text, "-m", "smoke")`.

    YAML text is written to tmp_path/target.yaml first. Reports and state go to tmp_path/reports, so runs
    never touch the repository's reports/ folder.
    """

    def run(
        target: str | Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> RunResult:
        if isinstance(target, str) and "\n" in target:
            path = tmp_path / "target.yaml"
            path.write_text(target)
            target = path
        reports = tmp_path / "reports"
        environment = {
            **os.environ,
            "OPSVERIFY_REPORTS_DIR": str(reports),
            "OPSVERIFY_STATE_DIR": str(reports / "state"),
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),
        }
        environment.pop("OPSVERIFY_TARGET", None) if "OPSVERIFY_TARGET" not in (env or {}) else None
        # As an installed opsverify runs: from a folder with no project files, the target given with `=`.
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--target={target}", *args]
        started = time.monotonic()
        completed = subprocess.run(
            command,
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return RunResult(
            completed.returncode, completed.stdout + completed.stderr, reports, time.monotonic() - started
        )

    return run


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A real OpenSSH server on a loopback port (key login only); fails, never skips, when it cannot start."""
    server = SshServer.start(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[DockerEngine]:
    """A real Docker Engine: the running one, or a dockerd started for the session (overlay2, else vfs; its own
    data root and socket) and stopped at the end. A failure to start fails the tests, never skips them."""
    engine = DockerEngine.start()
    yield engine
    engine.stop()
