"""Real restic and Borg repositories made by the tests in their tmp folders, and ways to damage them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PASSWORD = "correct horse battery staple 24"


@dataclass
class ResticRepo:
    path: Path  # a folder, or an `s3:http://…` URL (as a Path only for the tests' convenience)
    source: Path  # the folder backed up: source/dumps/<files>
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        url = (
            str(self.path).replace("http:/", "http://", 1)
            if str(self.path).startswith("s3:")
            else str(self.path)
        )
        return {**os.environ, "RESTIC_REPOSITORY": url, "RESTIC_PASSWORD": PASSWORD, **self.extra_env}

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["restic", *args, "--no-cache"], env=self.env, capture_output=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    def backup(self, files: dict[str, bytes], *flags: str) -> None:
        folder = self.source / "dumps"
        if folder.exists():
            for old in folder.iterdir():
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in files.items():
            (folder / name).write_bytes(body)
        self.run("backup", "-q", "--host=db1", "--tag=nightly", *flags, str(self.source))

    def crash_leaving_a_lock(self) -> None:
        """A `restic backup` killed while it holds its lock (waiting for stdin), as a crashed run leaves it."""
        process = subprocess.Popen(
            ["restic", "backup", "--stdin", "--stdin-filename=x.sql", "--no-cache"],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            if any(lock.stat().st_size > 0 for lock in (self.path / "locks").iterdir()):
                break
            time.sleep(0.05)
        time.sleep(0.5)  # the lock file is written in place: let restic finish writing it
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        assert process.stdin is not None
        process.stdin.close()
        assert list((self.path / "locks").iterdir())

    def locks(self) -> list[str]:
        return sorted(p.name for p in (self.path / "locks").iterdir())

    def flip_a_byte_in_a_data_pack(self) -> Path:
        pack = max(
            (p for p in (self.path / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size
        )
        data = bytearray(pack.read_bytes())
        data[10] ^= 0xFF
        pack.chmod(0o644)
        pack.write_bytes(bytes(data))
        return pack


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary-files folder of this test only (for opsverify and the tools): must be empty at the end."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert sorted(p.name for p in folder.iterdir()) == [], "temporary files left behind"


@pytest.fixture(scope="session")
def restic_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One empty repository per test process (`restic init` derives its key with scrypt, seconds on a loaded
    machine); each test gets its own copy. opsverify runs restic with --no-cache, so copies sharing the
    repository id share nothing else."""
    path = tmp_path_factory.mktemp("restic-template") / "repo"
    ResticRepo(path, path.parent).run("init", "-q")
    return path


@pytest.fixture
def restic_repo(tmp_path: Path, restic_template: Path) -> ResticRepo:
    """A fresh, empty repository of this test only (a copy of the process's freshly initialised one)."""
    repo = ResticRepo(tmp_path / "restic-repo", tmp_path / "restic-srv")
    repo.source.mkdir()
    shutil.copytree(restic_template, repo.path)
    return repo


@dataclass
class BorgRepo:
    path: Path
    source: Path  # the folder archived: source/dumps/<files>

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "BORG_REPO": str(self.path), "BORG_PASSPHRASE": PASSWORD}

    def run(self, *args: str) -> str:
        done = subprocess.run(["borg", *args], env=self.env, capture_output=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    def create(self, archive: str, files: dict[str, bytes], *flags: str) -> None:
        folder = self.source / "dumps"
        if folder.exists():
            for old in folder.iterdir():
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in files.items():
            (folder / name).write_bytes(body)
        self.run("create", *flags, f"::{archive}", str(self.source))

    def holding_the_lock(self) -> subprocess.Popen[bytes]:
        """A running `borg create` (reading stdin, never closed) that holds the repository's lock."""
        process = subprocess.Popen(
            ["borg", "create", "::writing", "-"],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(400):
            if (self.path / "lock.exclusive").exists():
                break
            time.sleep(0.05)
        assert (self.path / "lock.exclusive").exists()
        return process

    def flip_a_byte_in_a_segment(self) -> Path:
        segment = max(
            (p for p in (self.path / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size
        )
        data = bytearray(segment.read_bytes())
        data[len(data) // 2] ^= 0xFF
        segment.chmod(0o644)
        segment.write_bytes(bytes(data))
        return segment


@pytest.fixture(scope="session")
def borg_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One empty repokey repository per test process; each test gets its own copy and its own BORG_BASE_DIR
    (so borg has never seen the copy's id there: no cache or security state is shared between tests)."""
    path = tmp_path_factory.mktemp("borg-template") / "repo"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BORG_BASE_DIR", str(path.parent / "borg-base"))
        BorgRepo(path, path.parent).run("init", "--encryption=repokey")
    return path


@pytest.fixture
def borg_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, borg_template: Path) -> BorgRepo:
    """A fresh, empty repokey-encrypted repository of this test only (a copy of the process's freshly
    initialised one); borg's own config and cache (BORG_BASE_DIR) in the test's folder."""
    monkeypatch.setenv("BORG_BASE_DIR", str(tmp_path / "borg-base"))
    repo = BorgRepo(tmp_path / "borg-repo", tmp_path / "borg-srv")
    repo.source.mkdir()
    shutil.copytree(borg_template, repo.path)
    return repo
