"""The plugin example (examples/plugin-kind, an `amqp` kind) from wheels, in a fresh venv, in an empty folder:
validated, run against the real RabbitMQ, failing with a structured problem that reaches summary.json, the
Allure results and a webhook channel exactly like a built-in kind; and a broken plugin named in one line.

The venv gets opsverify's wheel and the plugin's wheel (nothing else installed in it); their dependencies
(pydantic, pytest, ...) come from this project's venv through a .pth line, so the test needs no network.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, LocalHTTPServer, json_response
from tests.plugins import install_plugin
from tests.shared import built_wheel, opsverify_wheel

EXAMPLE = REPO / "examples" / "plugin-kind"
AMQP_HOST = os.environ.get("OPSVERIFY_TEST_AMQP_HOST", "127.0.0.1")
AMQP_PORT = int(os.environ.get("OPSVERIFY_TEST_AMQP_PORT", "5672"))


def _run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPSVERIFY_", "PYTEST_", "VIRTUAL_ENV"))
    }
    return subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout, check=False
    )


def _git_files(project: Path) -> list[str]:
    """The project's files as git knows them (tracked and new, not ignored)."""
    listed = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "."], cwd=project)
    assert listed.returncode == 0, listed.stderr
    return [name for name in listed.stdout.splitlines() if (project / name).is_file()]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding opsverify's wheel and the plugin's wheel."""
    root = tmp_path_factory.mktemp("plugin-venv")
    # built once per test session (tests/shared.py): tests/test_walkthrough.py installs the same wheel
    wheels = [
        opsverify_wheel(tmp_path_factory),
        built_wheel(tmp_path_factory, EXAMPLE, _git_files(EXAMPLE)),
    ]
    env = root / "venv"
    created = _run([sys.executable, "-m", "venv", "--without-pip", str(env)], cwd=root)
    assert created.returncode == 0, created.stderr
    python = env / "bin" / "python"
    installed = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            *map(str, wheels),
        ],
        cwd=root,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root
        ).stdout.strip()
    )
    (purelib / "zz_project_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    origin = _run(
        [str(python), "-c", "import opsverify, opsverify_amqp; print(opsverify.__file__)"], cwd=root
    )
    assert str(purelib) in origin.stdout, origin.stdout + origin.stderr  # the wheel's copy, not this checkout
    return env


@pytest.fixture
def queue() -> Iterator[str]:
    """A real queue on RabbitMQ holding 3 messages (deleted afterwards)."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        from opsverify_amqp.client import Connection
    finally:
        sys.path.remove(str(EXAMPLE))
    name = f"opsverify-test-{uuid.uuid4().hex[:10]}"
    try:
        connection = Connection(AMQP_HOST, AMQP_PORT, "guest", "guest", "/", 10)
    except OSError as exc:
        pytest.fail(
            f"RabbitMQ is not reachable at {AMQP_HOST}:{AMQP_PORT} ({exc}); set OPSVERIFY_TEST_AMQP_HOST/PORT"
        )
    with connection:
        connection.declare(name, passive=False)
        for number in range(3):
            connection.publish(name, f"message {number}".encode())
        # basic.publish has no answer: the queue counts the messages a little later (a check connecting
        # at once saw fewer than 3 once). A declare on the publishing channel answers after they are queued.
        deadline = time.monotonic() + 10
        while (ready := connection.declare(name, passive=True).messages) < 3:
            assert time.monotonic() < deadline, f"RabbitMQ queued {ready} of the 3 messages within 10 s"
            time.sleep(0.05)
    yield name
    with Connection(AMQP_HOST, AMQP_PORT, "guest", "guest", "/", 10) as connection:
        connection.delete(name)


def test_plugin_kind_runs_from_wheels_like_a_built_in(venv: Path, queue: str, tmp_path: Path) -> None:
    hook = LocalHTTPServer(routes={"/hook": json_response({"ok": True})}).start()
    try:
        folder = tmp_path / "empty"
        folder.mkdir()
        (folder / "prod.yaml").write_text(
            f"""\
target: broker-prod
amqp:
  orders:
    host: {AMQP_HOST}
    port: {AMQP_PORT}
    queue: {queue}
    max_messages: 2
  drained:
    host: {AMQP_HOST}
    port: {AMQP_PORT}
    queue: {queue}
    max_messages: 10
notify:
  channels:
    ops-hook: {{webhook: {{url: '{hook.url}/hook', retries: 0}}}}
  routes:
    - {{match: {{status: failed}}, to: [ops-hook]}}
"""
        )
        opsverify = str(venv / "bin" / "opsverify")
        validated = _run([opsverify, "validate", "prod.yaml"], cwd=folder)
        assert validated.returncode == 0, validated.stdout + validated.stderr
        assert "amqp:orders" in validated.stdout
        assert "<= 2 messages" in validated.stdout
        ran = _run([opsverify, "run", "smoke", "--target", "prod.yaml"], cwd=folder)
        output = ran.stdout + ran.stderr
        assert ran.returncode == 1, output
        assert f"queue {queue}: expected at most 2 (max_messages), got 3 messages ready" in output
        reports = folder / "reports"
        summary = json.loads((reports / "summary.json").read_text())
        checks = {c["id"]: c for c in summary["checks"]}
        assert checks["amqp:drained"]["status"] == "passed"
        failed = checks["amqp:orders"]
        assert failed["status"] == "failed"
        assert failed["problems"][0]["subject"] == f"queue {queue}"
        assert failed["problems"][0]["found"] == "3 messages ready"
        assert failed["problems"][0]["expected"] == "at most 2 (max_messages)"
        results = [json.loads(p.read_text()) for p in (reports / "allure-results").glob("*-result.json")]
        allure = next(r for r in results if r["name"] == "amqp:orders")
        assert allure["status"] == "failed"
        assert {"name": "feature", "value": "amqp"} in allure["labels"]
        assert any(step["name"] == "probe amqp:orders" for step in allure["steps"])
        posted = [json.loads(r["body"]) for r in hook.requests if r["path"] == "/hook"]
        assert len(posted) == 1
        assert "amqp:orders" in json.dumps(posted[0])
    finally:
        hook.stop()


def test_a_broken_plugin_is_named_not_a_traceback(venv: Path, tmp_path: Path) -> None:
    site_dir = tmp_path / "broken-site"
    install_plugin(
        site_dir,
        "opsverify-broken-kind",
        "opsverify_broken_kind",
        "import a_module_that_is_not_installed\n",
        {"opsverify.kinds": {"kafka": "opsverify_broken_kind:KIND"}},
    )
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "prod.yaml").write_text("target: prod\nkafka:\n  orders: {topic: orders}\n")
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(site_dir)}
    message = (
        "plugin 'kafka' (opsverify_broken_kind:KIND, package opsverify-broken-kind 0.1) in entry-point group "
        "opsverify.kinds failed to load: ModuleNotFoundError: No module named 'a_module_that_is_not_installed'; "
        "fix or upgrade that package, or uninstall it"
    )
    opsverify = str(venv / "bin" / "opsverify")
    for command, exit_code in (
        ([opsverify, "validate", "prod.yaml"], 1),
        ([opsverify, "run", "daily", "--target", "prod.yaml"], 4),
    ):
        completed = subprocess.run(
            command, cwd=folder, env=environment, capture_output=True, text=True, timeout=300, check=False
        )
        output = completed.stdout + completed.stderr
        assert completed.returncode == exit_code, output
        assert "Traceback" not in output
        assert message in output
