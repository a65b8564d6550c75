"""Helpers for scheduler tests: a project folder, and the scheduler started as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from opsverify.scheduler.load import load_schedule
from opsverify.scheduler.model import ScheduleError
from tests.conftest import REPO

PY = sys.executable


def py(code: str) -> str:
    """A `command:` list (as YAML flow) that runs `code` with this interpreter."""
    return json.dumps([PY, "-c", code])


@dataclass
class SchedulerProcess:
    """`opsverify schedule` running in a subprocess; read its JSON log, signal it, wait for it."""

    process: subprocess.Popen[str]
    project: Path
    stderr_path: Path

    @property
    def log(self) -> Path:
        return self.project / "reports" / "scheduler.jsonl"

    def records(self, event: str | None = None, job: str | None = None) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]
        return [
            r
            for r in lines
            if (event is None or r["event"] == event) and (job is None or r.get("job") == job)
        ]

    def wait_for(self, what: Callable[[], Any], timeout: float = 15, message: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = what()
            if result:
                return result
            if self.process.poll() is not None:
                pytest.fail(f"scheduler exited early ({self.process.returncode}):\n{self.stderr}")
            time.sleep(0.05)
        pytest.fail(
            f"timed out waiting for {message or what}; log:\n{self.records()}\nstderr:\n{self.stderr}"
        )

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 20) -> int:
        self.send(signum)
        return self.process.wait(timeout)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "targets").mkdir()
    return tmp_path


@pytest.fixture
def start_scheduler(project: Path) -> Iterator[Callable[..., SchedulerProcess]]:
    started: list[SchedulerProcess] = []

    def start(schedule_text: str, *args: str) -> SchedulerProcess:
        (project / "schedule.yaml").write_text(schedule_text)
        stderr_path = project / f"scheduler-{len(started)}.err"
        with open(stderr_path, "w") as stderr:
            process = subprocess.Popen(
                [PY, "-m", "opsverify.cli", "schedule", "--config", "schedule.yaml", *args],
                cwd=project,
                env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                text=True,
            )
        handle = SchedulerProcess(process, project, stderr_path)
        started.append(handle)
        return handle

    yield start
    for handle in started:
        if handle.process.poll() is None:
            handle.process.kill()
            handle.process.wait(10)


def run_cli(project: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`opsverify schedule ARGS` to completion (for --once and --list)."""
    return subprocess.run(
        [PY, "-m", "opsverify.cli", "schedule", "--config", "schedule.yaml", *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pid_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def error_of(project: Path, text: str) -> str:
    """The ScheduleError message of loading `text` as PROJECT/schedule.yaml."""
    path = project / "schedule.yaml"
    path.write_text(text)
    with pytest.raises(ScheduleError) as caught:
        load_schedule(path, cwd=project)
    return str(caught.value)
