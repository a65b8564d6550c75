"""The pgBackRest drill in the `docker` sandbox, on a real Docker Engine with real pgBackRest: a live stanza
(a PostgreSQL 15 cluster archiving to pgBackRest, tests/backups/tools/live_stanza.py) restored inside a
container of an image with PostgreSQL 15 and pgbackrest (tests/docker_images.py), its config and repository
mounted read-only; recovery through `archive-get` in the container, the drill's `expect`, and a teardown that
leaves no container, volume or temporary folder behind — after a pass, a failure and SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml

from opsverify.config.target import load_target
from opsverify.drills.docker import LABEL
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.kinds.restore.probe import probe
from opsverify.kinds.restore.verdict import judge
from tests.backups.tools.live_stanza import LiveStanza, live_stanza  # noqa: F401 - a stanza archiving WAL
from tests.backups.tools.stanza import STANZA
from tests.conftest import REPO
from tests.docker_engine import DockerEngine, busybox_image
from tests.docker_images import POSTGRES_PGBACKREST, database_images
from tests.drills.helpers import evidence_lines
from tests.drills.test_docker_sandbox import engine, engine_state, new_on_engine  # noqa: F401 - engine: a fixture

pytestmark = pytest.mark.xdist_group("docker-sandbox")  # the images are made once, by one worker

EXPECT: dict[str, Any] = {
    "tables": ["events"],
    "min_rows": {"events": 5},
    "queries": {"after": {"sql": "select count(*) from events where note = 'after'", "equals": 2}},
    "freshness": {"sql": "select max(at) from events", "max_lag": "1h"},
}


@pytest.fixture(scope="module")
def pgbackrest_image(docker_engine: DockerEngine) -> str:
    (image,) = database_images(docker_engine, POSTGRES_PGBACKREST)
    return image


def _drill_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("opsverify_drill_*")}


@pytest.fixture
def leaves_nothing(engine: docker.DockerClient) -> Iterator[None]:  # noqa: F811 - the imported fixture
    """No sandbox container, unused volume or network on the engine, and no drill folder in the temporary
    folder, that was not there before the test (what is new on the engine is waited for as in
    test_docker_sandbox: another test process may share the engine)."""
    before, folders = engine_state(engine), _drill_folders()
    yield
    assert new_on_engine(engine, before) == {kind: set() for kind in before}
    assert _drill_folders() - folders == set()


def target(tmp_path: Path, live: LiveStanza, restore: dict[str, Any], **settings: Any) -> Path:
    document = {
        "target": "prod",
        "backups": {
            "db": {
                "pgbackrest": {"stanza": STANZA, "config": str(live.config), **settings},
                "restore": restore,
            }
        },
    }
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def drill(path: Path) -> tuple[DrillFacts, list[str]]:
    loaded = load_target(str(path))
    entry = loaded.model.backups["db"]  # type: ignore[attr-defined]
    facts = probe(entry, ProbeContext(loaded.name, loaded.base_dir, target=loaded, entry_name="db"))
    return facts, [problem.text for problem in judge(entry, facts).problems]


def in_docker(image: str, docker_engine: DockerEngine, **more: Any) -> dict[str, Any]:
    return {"sandbox": "docker", "image": image, "docker_host": docker_engine.base_url, "rto": "1h", **more}


@pytest.mark.usefixtures("leaves_nothing")
def test_the_newest_backup_is_restored_and_recovered_in_a_container(
    live_stanza: LiveStanza,  # noqa: F811
    pgbackrest_image: str,
    docker_engine: DockerEngine,
    tmp_path: Path,
    reports: Path,
) -> None:
    path = target(tmp_path, live_stanza, in_docker(pgbackrest_image, docker_engine, expect=EXPECT))
    facts, problems = drill(path)
    assert problems == [], facts.evidence()
    assert [s.name for s in facts.steps] == ["find", "restore", "start", "recovery", "verify", "teardown"]
    assert facts.verification.row_counts == {"events": 5}  # the rows after the backup: archive-get, inside
    assert facts.steps[3].detail.startswith("recovered to the end of the WAL archive")
    assert facts.sandbox_detail.startswith("restored cluster 127.0.0.1:")
    assert "(container opsverify-drill-" in facts.sandbox_detail
    record = evidence_lines(reports)[-1]
    assert record["verdict"] == "passed", record
    assert record["sandbox"] == "docker"
    assert record["restore_program"] == "pgbackrest"
    assert record["file"].startswith(f"pgbackrest:{STANZA}/")
    assert set(record["steps"]) == {"find", "restore", "start", "recovery", "verify", "teardown"}
    assert record["rto_target_s"] == 3600
    assert 0 < record["rto_s"] < 3600
    assert record["teardown_problems"] == []


@pytest.mark.usefixtures("leaves_nothing")
def test_target_time_recovers_to_that_point_in_a_container(
    live_stanza: LiveStanza,  # noqa: F811
    pgbackrest_image: str,
    docker_engine: DockerEngine,
    tmp_path: Path,
) -> None:
    expect = {"tables": ["events"], "queries": {"n": {"sql": "select count(*) from events", "equals": 3}}}
    restore = in_docker(pgbackrest_image, docker_engine, expect=expect)
    facts, problems = drill(target(tmp_path, live_stanza, restore, target_time=live_stanza.middle))
    assert problems == [], facts.evidence()
    assert facts.verification.queries == {"n": 3}  # the 'after' rows were written after target_time
    assert facts.restore is not None
    assert f"--type=time --target='{live_stanza.middle}'" in facts.restore.command


@pytest.mark.usefixtures("leaves_nothing")
def test_an_image_without_pgbackrest_is_named_with_the_fix(
    live_stanza: LiveStanza,  # noqa: F811
    engine: docker.DockerClient,  # noqa: F811
    docker_engine: DockerEngine,
    tmp_path: Path,
) -> None:
    image = busybox_image(engine)
    facts, problems = drill(target(tmp_path, live_stanza, in_docker(image, docker_engine, expect=EXPECT)))
    assert problems == [
        f"the image {image} has no pgbackrest program: set restore.image to an image with PostgreSQL 15 and "
        "pgbackrest (e.g. one built FROM postgres:15 with `apt-get install -y pgbackrest`); "
        f"{image} is not one"
    ], facts.evidence()
    assert [step.name for step in facts.steps if not step.ok] == ["restore"]


@pytest.fixture
def root_only_copy(live_stanza: LiveStanza) -> Iterator[Path]:  # noqa: F811
    """A copy of the stanza's repository that only root can read (0700), and a config naming it."""
    folder = Path(tempfile.mkdtemp(prefix="ovt-pgbr-root-"))  # root's, 0700
    shutil.copytree(live_stanza.work / "repo", folder / "repo", symlinks=True)
    for path in [folder / "repo", *(folder / "repo").rglob("*")]:
        os.chown(path, 0, 0, follow_symlinks=False)
    (folder / "repo").chmod(0o700)
    text = live_stanza.config.read_text().replace(f"{live_stanza.work}/repo", f"{folder}/repo")
    (folder / "pgbackrest.conf").write_text(text)
    yield folder / "pgbackrest.conf"
    shutil.rmtree(folder)


@pytest.mark.usefixtures("leaves_nothing")
def test_a_repository_the_container_cannot_read_is_named_with_the_fix(
    live_stanza: LiveStanza,  # noqa: F811
    root_only_copy: Path,
    pgbackrest_image: str,
    docker_engine: DockerEngine,
    tmp_path: Path,
) -> None:
    """Root reads the copy here (`pgbackrest info` finds the backup); in the container the restore runs as the
    image's postgres user (a root-owned repository has no other owner to run as), who cannot."""
    path = target(tmp_path, live_stanza, in_docker(pgbackrest_image, docker_engine, expect=EXPECT))
    document = yaml.safe_load(path.read_text())
    document["backups"]["db"]["pgbackrest"]["config"] = str(root_only_copy)
    path.write_text(yaml.safe_dump(document))
    facts, problems = drill(path)
    assert len(problems) == 1, facts.evidence()
    assert problems[0].startswith(
        "pgbackrest restore in the container cannot read the repository or config (it runs as uid:gid "
    )
    assert "the image's postgres user): " in problems[0]
    assert "Permission denied" in problems[0]
    assert problems[0].endswith(
        "make the repository and pgbackrest.config that user's, as pgBackRest keeps them (the repository "
        "owned by the postgres user, mode 0750)"
    )
    assert [step.name for step in facts.steps if not step.ok] == ["restore"]


@pytest.mark.usefixtures("leaves_nothing")
def test_a_restore_out_of_time_is_named_and_its_container_removed(
    live_stanza: LiveStanza,  # noqa: F811
    pgbackrest_image: str,
    docker_engine: DockerEngine,
    tmp_path: Path,
) -> None:
    """The exec goes on in the container when its time is up (the Engine API cannot stop it): removing the
    container ends it."""
    restore = in_docker(pgbackrest_image, docker_engine, expect=EXPECT, timeout="1ms")
    facts, problems = drill(target(tmp_path, live_stanza, restore))
    assert problems == [
        "pgbackrest restore did not finish within 0.001s: raise restore.timeout (or restore.rto), or check that "
        "the repository answers"
    ], facts.evidence()
    assert facts.teardown_problems == []


SCRIPT = """
import sys, time
from opsverify.config.target import load_target
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.probe import DrillHooks, probe

target = load_target(sys.argv[1])
entry = target.model.backups["db"]

def started(sandbox):
    print("STARTED", sandbox.name, flush=True)
    time.sleep(60)

probe(entry, ProbeContext(target.name, target.base_dir, target=target, entry_name="db"), DrillHooks(started))
print("NOT INTERRUPTED", flush=True)
"""


@pytest.mark.usefixtures("leaves_nothing")
def test_sigterm_removes_the_container_and_its_volumes(
    live_stanza: LiveStanza,  # noqa: F811
    pgbackrest_image: str,
    engine: docker.DockerClient,  # noqa: F811
    docker_engine: DockerEngine,
    tmp_path: Path,
    reports: Path,
) -> None:
    path = target(tmp_path, live_stanza, in_docker(pgbackrest_image, docker_engine, expect=EXPECT))
    (tmp_path / "drill.py").write_text(SCRIPT)
    canary = "canary-cipher-pass-s24d"  # a secret: in the execs' environment, never on a command line
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "OPSVERIFY_REPORTS_DIR": str(reports),
        "PGBACKREST_REPO1_CIPHER_PASS": canary,
    }
    process = subprocess.Popen(
        [sys.executable, str(tmp_path / "drill.py"), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("STARTED"), process.communicate(timeout=60)
    name = line.split()[1]
    (container,) = engine.containers.list(filters={"label": LABEL})
    assert container.name == name
    command_lines = container.exec_run(["/bin/sh", "-c", "cat /proc/[0-9]*/cmdline"]).output
    assert b"postgres" in command_lines  # the restored server runs
    assert canary.encode() not in command_lines
    assert canary not in str(container.attrs)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGTERM, err
    assert "NOT INTERRUPTED" not in out
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "interrupted"
    assert record["teardown_problems"] == []
    assert engine.containers.list(all=True, filters={"name": name}) == []
    assert canary not in out + err + (reports / "drills.jsonl").read_text()


@pytest.mark.parametrize(
    ("restore", "settings", "message"),
    [
        ({"sandbox": "docker"}, {}, "restore.sandbox: docker for a pgBackRest stanza needs restore.image"),
        (
            {"sandbox": "docker", "image": "pg15-pgbackrest"},
            {"work_dir": "/srv"},
            "pgbackrest.work_dir is where the local sandbox restores",
        ),
        (
            {"sandbox": "docker", "image": "pg15-pgbackrest", "docker_host": "ssh://ops@db9"},
            {},
            "restore.docker_host ssh://ops@db9 is an engine on another machine",
        ),
        (
            {"sandbox": "url", "sandbox_url": "postgresql://postgres@127.0.0.1/postgres"},
            {},
            "restore.sandbox: 'url' does not apply to a pgBackRest stanza",
        ),
    ],
)
def test_sandbox_settings_a_stanza_cannot_use_are_config_errors(
    restore: dict[str, Any], settings: dict[str, Any], message: str
) -> None:
    from opsverify.kinds.backups.model import BackupCheck

    with pytest.raises(ValueError, match=message):
        BackupCheck.model_validate({"pgbackrest": {"stanza": STANZA, **settings}, "restore": restore})


def test_the_mounts_are_the_config_and_the_posix_repositories_it_names(tmp_path: Path) -> None:
    from opsverify.drills.stanza_mounts import Mount, stanza_mounts

    (tmp_path / "repo1").mkdir()
    (tmp_path / "repo3").mkdir()
    config = tmp_path / "pgbackrest.conf"
    config.write_text(
        f"[global]\nrepo1-path=/nowhere\nrepo2-type=s3\nrepo2-path=/bucket\n"
        f"[{STANZA}]\nrepo1-path={tmp_path}/repo1\n[other]\nrepo1-path=/elsewhere\n"
    )
    found = stanza_mounts(STANZA, str(config), None, {"PGBACKREST_REPO3_PATH": f"{tmp_path}/repo3"})
    assert found.mounts == (
        Mount(str(config), str(config), "config"),
        Mount(f"{tmp_path}/repo1", f"{tmp_path}/repo1", "repository 1"),
        Mount(f"{tmp_path}/repo3", f"{tmp_path}/repo3", "repository 3"),
    )
    assert found.network == ("repo2 (s3)",)


def test_a_repository_that_is_not_a_folder_here_is_named_with_the_fix(tmp_path: Path) -> None:
    from opsverify.drills.stanza_mounts import MountProblem, stanza_mounts

    config = tmp_path / "pgbackrest.conf"
    config.write_text("[global]\nrepo1-path=/srv/no-such-repo\n")
    with pytest.raises(MountProblem) as raised:
        stanza_mounts(STANZA, str(config), 1, {})
    assert str(raised.value) == (
        f"the pgBackRest repository /srv/no-such-repo (repo1-path in {config}) is not a folder on this machine: "
        "the docker sandbox bind-mounts it into the container, so the Docker engine must run on the machine "
        "holding the repository (a posix repository), or use the local sandbox (restore.sandbox: local)"
    )
    with pytest.raises(MountProblem, match=r"pgbackrest.config /srv/none.conf is not a file on this machine"):
        stanza_mounts(STANZA, "/srv/none.conf", None, {})
