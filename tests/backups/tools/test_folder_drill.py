"""The drill of a folder of files in a restic snapshot or Borg archive: restored by the tool into a temporary
folder, checked against `files`, `min_count` and `sha256`, removed afterwards (also when the disk fills up).
Real repositories; every test asserts nothing is left behind."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from opsverify.config.target import load_target
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.kinds.restore.probe import probe
from opsverify.kinds.restore.verdict import judge
from tests.backups.tools.repos import PASSWORD, BorgRepo, ResticRepo
from tests.backups.tools.test_tool_folders import small_disk  # noqa: F401 - a real 2 MB tmpfs
from tests.conftest import REPO, RunResult

FILES = {"a.txt": b"alpha\n", "b.txt": b"beta\n", "c.pdf": b"%PDF-1.4 c\n"}
A_SHA = hashlib.sha256(b"alpha\n").hexdigest()


def back_up(kind: str, restic_repo: ResticRepo, borg_repo: BorgRepo, files: dict[str, bytes]) -> Path:
    """One snapshot (archive) of source/dumps holding `files`; the folder's path."""
    if kind == "restic":
        restic_repo.backup(files)
        return restic_repo.source / "dumps"
    borg_repo.create("files-1", files)
    return borg_repo.source / "dumps"


@pytest.fixture(scope="module")
def files_snapshot(tmp_path_factory: pytest.TempPathFactory, restic_template: Path) -> ResticRepo:
    """One restic snapshot of FILES for the module's tests that only restore it (a drill never writes to the
    repository): backed up once, not once per test."""
    work = tmp_path_factory.mktemp("files-snapshot")
    repo = ResticRepo(work / "restic-repo", work / "restic-srv")
    repo.source.mkdir()
    shutil.copytree(restic_template, repo.path)
    repo.backup(FILES)
    return repo


def restic_block(repo: ResticRepo) -> dict[str, Any]:
    return {"restic": {"repository": str(repo.path), "password": PASSWORD}}


def block(kind: str, restic_repo: ResticRepo, borg_repo: BorgRepo) -> dict[str, Any]:
    if kind == "restic":
        return restic_block(restic_repo)
    return {"borg": {"repository": str(borg_repo.path), "passphrase": PASSWORD}}


def drill(
    tmp_path: Path, folder: Path, tool: dict[str, Any], expect: dict[str, Any], **restore: Any
) -> tuple[DrillFacts, list[str]]:
    document = {
        "target": "prod",
        "backups": {"files": {"path": str(folder), **tool, "restore": {"expect": expect, **restore}}},
    }
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(document))
    target = load_target(str(path))
    entry = target.model.backups["files"]  # type: ignore[attr-defined]
    facts = probe(entry, ProbeContext(target.name, target.base_dir, target=target, entry_name="files"))
    return facts, [problem.text for problem in judge(entry, facts).problems]


@pytest.mark.parametrize("kind", ["restic", "borg"])
def test_the_folder_is_restored_checked_and_removed(
    kind: str, restic_repo: ResticRepo, borg_repo: BorgRepo, tmp_path: Path, private_tmp: Path
) -> None:
    folder = back_up(kind, restic_repo, borg_repo, FILES)
    expect = {"files": ["a.txt", "*.pdf"], "min_count": 3, "sha256": {"a.txt": A_SHA}}
    facts, problems = drill(tmp_path, folder, block(kind, restic_repo, borg_repo), expect, rto="1h")
    assert problems == [], facts.evidence()
    assert [s.name for s in facts.steps] == ["find", "integrity", "restore", "verify", "teardown"]
    assert facts.steps[2].detail == f"{folder}: 3 files"
    assert facts.verification.files == 3
    assert facts.verified
    assert facts.record["verdict"] == "passed"
    # private_tmp: the restored folder is gone


@pytest.mark.parametrize("kind", ["restic", "borg"])
def test_missing_files_a_wrong_digest_and_too_few_files_name_the_file(
    kind: str, restic_repo: ResticRepo, borg_repo: BorgRepo, tmp_path: Path, private_tmp: Path
) -> None:
    folder = back_up(kind, restic_repo, borg_repo, FILES)
    expect = {"files": ["a.txt", "logo.png"], "min_count": 4, "sha256": {"b.txt": A_SHA}}
    facts, problems = drill(tmp_path, folder, block(kind, restic_repo, borg_repo), expect)
    assert [p.split(":")[0] for p in problems] == ["file logo.png", "restored folder", "file b.txt"]
    assert "3 files" in problems[1]
    assert "at least 4 files (min_count)" in problems[1]
    assert f"sha256 {A_SHA} (expect.sha256)" in problems[2]
    assert facts.record["verdict"] == "failed"


@pytest.mark.parametrize(("minimum", "fails"), [(2, False), (3, False), (4, True)])
def test_min_count_at_the_limit_with_a_real_snapshot(
    minimum: int, fails: bool, files_snapshot: ResticRepo, tmp_path: Path, private_tmp: Path
) -> None:
    folder = files_snapshot.source / "dumps"  # 3 files
    _, problems = drill(tmp_path, folder, restic_block(files_snapshot), {"min_count": minimum})
    assert bool(problems) is fails, problems


@pytest.mark.parametrize("kind", ["restic", "borg"])
def test_a_restore_that_fills_the_disk_fails_with_the_fix_and_leaves_nothing(
    kind: str,
    restic_repo: ResticRepo,
    borg_repo: BorgRepo,
    tmp_path: Path,
    private_tmp: Path,
    small_disk: Path,  # noqa: F811 - the fixture imported above
) -> None:
    big = {f"part-{n}.bin": os.urandom(900_000) for n in range(3)}  # 2.7 MB, incompressible: not on 2 MB
    folder = back_up(kind, restic_repo, borg_repo, big)
    facts, problems = drill(
        tmp_path, folder, block(kind, restic_repo, borg_repo), {"min_count": 3}, tmp_dir=str(small_disk)
    )
    (problem,) = problems
    assert f"into {small_disk}/opsverify_drill_restore_" in problem
    assert f"ran out of disk space ({kind}: no space left on device)" in problem
    assert "set the entry's `restore.tmp_dir` to a folder on a disk with room" in problem
    assert PASSWORD not in problem
    assert list(small_disk.iterdir()) == []  # the teardown removed the temporary folder
    assert facts.teardown_problems == []


def test_a_tmp_dir_that_is_not_a_folder_is_named(
    files_snapshot: ResticRepo, tmp_path: Path, private_tmp: Path
) -> None:
    folder = files_snapshot.source / "dumps"
    _, problems = drill(tmp_path, folder, restic_block(files_snapshot), {"min_count": 1}, tmp_dir="nowhere")
    assert problems == [
        f"restore.tmp_dir {tmp_path / 'nowhere'} is not a folder: create it, or point `tmp_dir` at one"
    ]


def test_a_bad_key_exits_4_naming_it(run_checks: Callable[..., RunResult], restic_repo: ResticRepo) -> None:
    result = run_checks(
        f"""target: prod
backups:
  files:
    path: /srv/files
    restic: {{repository: {restic_repo.path}, password: "${{RESTIC_PASSWORD}}"}}
    restore:
      expect: {{sha256: {{a.txt: not-a-digest}}}}
""",
        "-m",
        "dr",
        env={"RESTIC_PASSWORD": PASSWORD},
    )
    assert result.returncode == 4, result.output
    assert "backups.files.restore.expect.sha256: sha256.a.txt: expected 64 hex digits" in result.output
    assert "Traceback" not in result.output


WRAPPER = """#!/bin/sh
# restic, except that `restore` says where it restores and then hangs there (a slow restore to interrupt)
if [ "$1" = restore ]; then
  echo "$3" > "{marker}"
  exec sleep 4242
fi
exec restic "$@"
"""
SCRIPT = """
import sys
import yaml
from pathlib import Path
from opsverify.config.target import load_target
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.probe import probe

target = load_target(sys.argv[1])
entry = target.model.backups["files"]
probe(entry, ProbeContext(target.name, target.base_dir, target=target, entry_name="files"))
print("NOT INTERRUPTED", flush=True)
"""


def test_sigterm_mid_restore_removes_the_folder_and_stops_the_tool(
    files_snapshot: ResticRepo, tmp_path: Path, private_tmp: Path
) -> None:
    restic_repo = files_snapshot
    folder = restic_repo.source / "dumps"
    marker = tmp_path / "restoring"
    wrapper = tmp_path / "restic-slow"
    wrapper.write_text(WRAPPER.format(marker=marker))
    wrapper.chmod(0o755)
    tool = {"restic": {"repository": str(restic_repo.path), "password": PASSWORD, "bin": str(wrapper)}}
    document = {
        "target": "prod",
        "backups": {"files": {"path": str(folder), **tool, "restore": {"expect": {"min_count": 1}}}},
    }
    target = tmp_path / "target.yaml"
    target.write_text(yaml.safe_dump(document))
    script = tmp_path / "drill.py"
    script.write_text(SCRIPT)
    reports = tmp_path / "reports"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "OPSVERIFY_REPORTS_DIR": str(reports),
        "TMPDIR": str(private_tmp),
    }
    process = subprocess.Popen(
        [sys.executable, str(script), str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    for _ in range(1200):
        if marker.exists() and marker.read_text().strip():
            break
        time.sleep(0.05)
    workdir = marker.read_text().strip().removeprefix("--target=")
    assert Path(workdir).is_dir()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGTERM, err
    assert "NOT INTERRUPTED" not in out
    assert not Path(workdir).exists()  # torn down; private_tmp checks nothing else is left
    assert [
        p for p in psutil.process_iter(["cmdline"]) if str(wrapper) in " ".join(p.info["cmdline"] or [])
    ] == []
    record = [line for line in (reports / "drills.jsonl").read_text().splitlines() if line]
    assert '"verdict": "interrupted"' in record[0]
