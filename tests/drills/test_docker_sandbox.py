"""The `docker` sandbox on a real Docker Engine: drills through the plugin, as an operator runs them, restore
PostgreSQL and MySQL dumps into testcontainers containers of images built here (tests/docker_images.py), and
leave no container, volume or network behind — after a pass, a failed restore, a missing image and SIGTERM.

Ryuk (testcontainers' reaper) is disabled: its image cannot be pulled here, and the drill's own teardown must
remove everything without it. In CI an engine that does not start fails these tests.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from opsverify.drills.docker import LABEL, reap_docker_sandboxes
from tests.backups.mysqldumps import ROWS, MysqlDumps
from tests.backups.pgdumps import Dumps, place
from tests.conftest import REPO, RunResult
from tests.docker_engine import DockerEngine, busybox_image
from tests.docker_images import MARIADB, POSTGRES, database_images
from tests.drills.helpers import evidence_lines

PG_EXPECT = """
      expect:
        tables: [clients, bookings, public.invoices]
        min_rows: {bookings: 3000, clients: 400}
        queries:
          revision: {sql: "select version_num from alembic_version", equals: "0086"}
"""
MYSQL_EXPECT = f"""
      expect:
        tables: [customers, orders]
        min_rows: {{orders: {ROWS}, customers: 100}}
        queries:
          revision: {{sql: "select version_num from alembic_version", equals: "0086"}}
"""


@pytest.fixture(scope="module")
def engine(docker_engine: DockerEngine) -> Iterator[docker.DockerClient]:
    client = docker_engine.client(timeout=300)
    yield client
    client.close()


@pytest.fixture(scope="module")
def images(docker_engine: DockerEngine) -> dict[str, str]:
    """Both database images, made side by side the first time either is needed."""
    return dict(zip(("postgres", "mariadb"), database_images(docker_engine, POSTGRES, MARIADB), strict=True))


@pytest.fixture(scope="module")
def pg_image(images: dict[str, str]) -> str:
    return images["postgres"]


@pytest.fixture(scope="module")
def mariadb_image(images: dict[str, str]) -> str:
    return images["mariadb"]


# The sandboxes of these tests run one at a time (one xdist worker). The engine may be shared with other test
# processes (other sessions, tests/deployment.py's containers), so a test looks only for what it could have
# left: sandbox containers (labelled), volumes no container uses, networks, that were not there before it.
pytestmark = pytest.mark.xdist_group("docker-sandbox")
OTHERS_WAIT = 300.0  # seconds: another run's drill under a loaded machine's RTO


def engine_state(client: docker.DockerClient) -> dict[str, set[str]]:
    containers = client.containers.list(all=True, filters={"label": LABEL})
    containers += [c for c in client.containers.list(all=True) if "ryuk" in str(c.image.tags)]
    return {
        "containers": {f"{c.name} {c.image.tags}" for c in containers},
        "volumes": {str(v.name) for v in client.volumes.list(filters={"dangling": True})},
        "networks": {str(n.name) for n in client.networks.list()},
    }


def new_on_engine(engine: docker.DockerClient, before: dict[str, set[str]]) -> dict[str, set[str]]:
    """What is on the engine that was not in `before`, waited for until it goes or OTHERS_WAIT ends."""
    deadline = time.monotonic() + OTHERS_WAIT
    while True:
        after = engine_state(engine)
        new = {kind: after[kind] - before[kind] for kind in after}
        if not any(new.values()) or time.monotonic() > deadline:
            return new
        time.sleep(2)


@pytest.fixture
def leaves_nothing(engine: docker.DockerClient) -> Iterator[None]:
    """No sandbox container (Ryuk's included), unused volume or network is on the engine after the test that
    was not there before it. Another test run's drill on the same engine (another worktree, another session)
    makes labelled containers too: what is new is waited for until OTHERS_WAIT, since another run's sandbox
    goes when its drill ends and a leftover of ours never does."""
    before = engine_state(engine)
    yield
    assert new_on_engine(engine, before) == {kind: set() for kind in before}


@pytest.fixture
def drill_env(docker_engine: DockerEngine) -> dict[str, str]:
    return {"DOCKER_HOST": docker_engine.base_url, "TESTCONTAINERS_RYUK_DISABLED": "true"}


def target(folder: Path, image: str, expect: str, rto: str = "1h") -> str:
    return f"""target: prod
backups:
  db:
    path: {folder}
    max_age: 100000h
    settle: 0s
    restore:
      sandbox: docker
      image: {image}
      rto: {rto}
{expect}"""


def drill_record(result: RunResult) -> dict[str, Any]:
    (line,) = (result.reports / "drills.jsonl").read_text().splitlines()
    return dict(json.loads(line))


@pytest.mark.usefixtures("leaves_nothing")
@pytest.mark.parametrize("which", ["plain_gz", "custom"])
def test_postgres_dump_restores_in_a_container(
    run_checks: Callable[..., RunResult],
    dumps: Dumps,
    pg_image: str,
    drill_env: dict[str, str],
    tmp_path: Path,
    which: str,
) -> None:
    place(getattr(dumps, which), tmp_path / "backups")
    result = run_checks(target(tmp_path / "backups", pg_image, PG_EXPECT), "-m", "dr", env=drill_env)
    assert result.returncode == 0, result.output
    assert "1 passed" in result.output
    record = drill_record(result)
    assert record["verdict"] == "passed", record
    assert record["sandbox"] == "docker"
    assert record["rows_checked"] == 5400  # bookings, clients and invoices counted
    assert record["rto_target_s"] == 3600
    assert 0 < record["rto_s"] < 3600


@pytest.mark.usefixtures("leaves_nothing")
def test_mysql_dump_restores_in_a_container(
    run_checks: Callable[..., RunResult],
    mysql_dumps: MysqlDumps,
    mariadb_image: str,
    drill_env: dict[str, str],
    tmp_path: Path,
) -> None:
    place(mysql_dumps.plain_gz, tmp_path / "backups")
    result = run_checks(target(tmp_path / "backups", mariadb_image, MYSQL_EXPECT), "-m", "dr", env=drill_env)
    assert result.returncode == 0, result.output
    assert "1 passed" in result.output
    record = drill_record(result)
    assert record["verdict"] == "passed", record
    assert record["sandbox"] == "docker"
    assert record["rows_checked"] == ROWS + 100
    assert record["rto_target_s"] == 3600
    assert 0 < record["rto_s"] < 3600


def broken(source: Path, folder: Path, name: str, statement: bytes, after: bytes) -> Path:
    """A copy of a plain dump with `statement` inserted after the first line starting with `after`: the file
    reads whole (integrity passes), the restore stops at the statement."""
    data = source.read_bytes()
    at = data.index(b"\n", data.index(b"\n" + after)) + 1
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data[:at] + statement + b"\n" + data[at:])
    return path


@pytest.mark.usefixtures("leaves_nothing")
def test_a_broken_postgres_dump_fails_naming_the_error(
    run_checks: Callable[..., RunResult],
    dumps: Dumps,
    pg_image: str,
    drill_env: dict[str, str],
    tmp_path: Path,
) -> None:
    broken(
        dumps.plain,
        tmp_path / "b",
        dumps.plain.name,
        b"INSERT INTO no_such_table VALUES (1);",
        b"CREATE TABLE",
    )
    result = run_checks(target(tmp_path / "b", pg_image, PG_EXPECT), "-m", "dr", env=drill_env)
    assert result.returncode == 1, result.output
    assert "restore failed (psql exited with status 3)" in result.output
    assert 'relation "no_such_table" does not exist' in result.output
    assert drill_record(result)["failed_step"] == "restore"


@pytest.mark.usefixtures("leaves_nothing")
def test_a_broken_mysql_dump_fails_naming_the_error(
    run_checks: Callable[..., RunResult],
    mysql_dumps: MysqlDumps,
    mariadb_image: str,
    drill_env: dict[str, str],
    tmp_path: Path,
) -> None:
    broken(
        mysql_dumps.plain,
        tmp_path / "b",
        "shop.sql",
        b"INSERT INTO no_such_table VALUES (1);",
        b"CREATE TABLE",
    )
    result = run_checks(target(tmp_path / "b", mariadb_image, MYSQL_EXPECT), "-m", "dr", env=drill_env)
    assert result.returncode == 1, result.output
    assert "restore failed" in result.output
    assert "no_such_table" in result.output
    assert "doesn't exist" in result.output
    assert drill_record(result)["failed_step"] == "restore"


@pytest.mark.usefixtures("leaves_nothing")
@pytest.mark.parametrize("database", ["postgres", "mysql"])
def test_a_missing_image_names_the_image_and_the_fix(
    run_checks: Callable[..., RunResult],
    dumps: Dumps,
    mysql_dumps: MysqlDumps,
    engine: docker.DockerClient,
    drill_env: dict[str, str],
    tmp_path: Path,
    database: str,
) -> None:
    place(dumps.plain_gz if database == "postgres" else mysql_dumps.plain_gz, tmp_path / "backups")
    image = "registry.invalid/opsverify/absent:1"
    result = run_checks(
        target(tmp_path / "backups", image, PG_EXPECT if database == "postgres" else MYSQL_EXPECT),
        "-m",
        "dr",
        env=drill_env,
    )
    assert result.returncode == 1, result.output
    assert f"the image {image} is not on the Docker engine and cannot be pulled" in result.output
    assert f"run `docker pull {image}` where the registry is reachable, or set restore.image" in result.output
    assert drill_record(result)["failed_step"] == "sandbox"


@pytest.mark.usefixtures("leaves_nothing")
def test_with_ryuk_on_its_missing_image_is_named(
    run_checks: Callable[..., RunResult],
    dumps: Dumps,
    pg_image: str,
    drill_env: dict[str, str],
    tmp_path: Path,
) -> None:
    place(dumps.plain_gz, tmp_path / "backups")
    env = {**drill_env, "TESTCONTAINERS_RYUK_DISABLED": "false"}
    result = run_checks(target(tmp_path / "backups", pg_image, PG_EXPECT), "-m", "dr", env=env)
    assert result.returncode == 1, result.output
    assert "the image testcontainers/ryuk:" in result.output
    assert "set TESTCONTAINERS_RYUK_DISABLED=true" in result.output


SIGTERM_SCRIPT = """
import sys
from pathlib import Path

from tests.drills.test_mysql_drill import drill
from opsverify.kinds.restore.probe import DrillHooks

tmp = Path(sys.argv[1])


def restoring(sandbox, written):
    print("RESTORING", sandbox.admin_url.rsplit("@", 1)[-1], flush=True)
    import time
    time.sleep(60)

drill(tmp, tmp / "b", {"sandbox": "docker", "image": sys.argv[2]}, hooks=DrillHooks(on_restore_progress=restoring))
print("NOT INTERRUPTED", flush=True)
"""


@pytest.mark.usefixtures("leaves_nothing")
def test_sigterm_mid_restore_removes_the_container(
    mysql_dumps: MysqlDumps,
    mariadb_image: str,
    engine: docker.DockerClient,
    drill_env: dict[str, str],
    tmp_path: Path,
    reports: Path,
) -> None:
    place(mysql_dumps.plain_gz, tmp_path / "b")
    script = tmp_path / "drill.py"
    script.write_text(SIGTERM_SCRIPT)
    env = {**os.environ, **drill_env, "PYTHONPATH": str(REPO), "OPSVERIFY_REPORTS_DIR": str(reports)}
    process = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), mariadb_image],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("RESTORING"), line + (process.stderr.read() if process.stderr else "")
    assert [c.name for c in engine.containers.list(filters={"label": LABEL})]  # the sandbox runs
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGTERM, err
    assert "NOT INTERRUPTED" not in out
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "interrupted"


@pytest.mark.usefixtures("leaves_nothing")
def test_a_container_left_by_a_killed_drill_is_reaped(
    engine: docker.DockerClient, monkeypatch: pytest.MonkeyPatch, docker_engine: DockerEngine
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_engine.base_url)
    image = busybox_image(engine)  # small: vfs copies the image for every container
    old = f"{time.time() - 2 * 86400:.0f}"
    left = engine.containers.create(image, labels={LABEL: old, f"{LABEL}.image": image}, network_mode="none")
    current = engine.containers.create(image, labels={LABEL: f"{time.time():.0f}"}, network_mode="none")
    try:
        assert f"container {left.name} ({image})" in reap_docker_sandboxes()
        remaining = {c.id for c in engine.containers.list(all=True, filters={"label": LABEL})}
        assert left.id not in remaining  # other processes' sandboxes may be running on the same engine
        assert current.id in remaining
    finally:
        current.remove(force=True, v=True)


@pytest.fixture
def closed_socket() -> Iterator[Path]:
    """A unix socket that was bound and closed: connecting to it is refused, as with no engine."""
    with tempfile.TemporaryDirectory(prefix="ov-docker-") as folder:  # short: a socket path has 108 bytes
        path = Path(folder) / "docker.sock"
        with socket.socket(socket.AF_UNIX) as closed:
            closed.bind(str(path))
        yield path


@pytest.mark.usefixtures("leaves_nothing")
def test_the_targets_docker_host_wins_over_docker_host_in_the_environment(
    run_checks: Callable[..., RunResult],
    dumps: Dumps,
    pg_image: str,
    docker_engine: DockerEngine,
    closed_socket: Path,
    tmp_path: Path,
) -> None:
    """DOCKER_HOST names a socket nothing listens on; `restore.docker_host` names the engine: the drill's
    ping, image check, container and teardown all reach the engine of the target file."""
    place(dumps.plain_gz, tmp_path / "backups")
    text = target(tmp_path / "backups", pg_image, PG_EXPECT).replace(
        "      sandbox: docker\n", f"      sandbox: docker\n      docker_host: {docker_engine.base_url}\n"
    )
    env = {"DOCKER_HOST": f"unix://{closed_socket}", "TESTCONTAINERS_RYUK_DISABLED": "true"}
    result = run_checks(text, "-m", "dr", env=env)
    assert result.returncode == 0, result.output
    record = drill_record(result)
    assert record["verdict"] == "passed", record
    assert record["sandbox"] == "docker"
    assert record["rows_checked"] == 5400


@pytest.mark.usefixtures("leaves_nothing")
def test_ryuk_on_another_engine_than_docker_host_is_refused_with_the_fix(
    run_checks: Callable[..., RunResult],
    dumps: Dumps,
    pg_image: str,
    docker_engine: DockerEngine,
    closed_socket: Path,
    tmp_path: Path,
) -> None:
    """testcontainers starts Ryuk with a client of its own, on DOCKER_HOST's engine: with `docker_host` naming
    another engine the drill says so and how to go on, instead of failing inside testcontainers."""
    place(dumps.plain_gz, tmp_path / "backups")
    text = target(tmp_path / "backups", pg_image, PG_EXPECT).replace(
        "      sandbox: docker\n", f"      sandbox: docker\n      docker_host: {docker_engine.base_url}\n"
    )
    env = {"DOCKER_HOST": f"unix://{closed_socket}", "TESTCONTAINERS_RYUK_DISABLED": "false"}
    result = run_checks(text, "-m", "dr", env=env)
    assert result.returncode == 1, result.output
    assert f"not on restore.docker_host {docker_engine.base_url}: set TESTCONTAINERS_RYUK_DISABLED=true" in (
        result.output
    )
    assert drill_record(result)["failed_step"] == "sandbox"
