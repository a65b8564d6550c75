"""One run as a process: SIGKILL after SIGTERM is ignored, output files and their pruning."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from opsverify.scheduler import runner
from opsverify.scheduler.load import load_schedule
from opsverify.scheduler.locks import JobLock
from opsverify.scheduler.runner import prune_outputs, start_run
from tests.scheduler.conftest import pid_alive, py


def test_a_run_that_ignores_sigterm_is_killed(project, monkeypatch):
    monkeypatch.setattr(runner, "KILL_AFTER_TERM", 0.5)
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(30)"
    (project / "schedule.yaml").write_text(
        f"jobs:\n  stubborn: {{every: 1h, timeout: 0.5s, command: {py(code)}}}\n"
    )
    schedule = load_schedule(project / "schedule.yaml", cwd=project)
    lock = JobLock(schedule.state_dir / "locks" / "stubborn.lock")
    assert lock.acquire()
    run = start_run(schedule, schedule.jobs["stubborn"], lock, "once", None)
    deadline = time.monotonic() + 10
    record = None
    while record is None and time.monotonic() < deadline:
        record = run.poll()
        time.sleep(0.05)
    assert record is not None, "the run was not killed"
    assert record["timed_out"] is True
    assert record["exit_code"] == -9
    assert not pid_alive(run.process.pid)
    assert lock.fd is None, "the lock is released once the run has ended"
    assert "up" in Path(record["output"]).read_text()


def test_output_files_are_unique_and_pruned(tmp_path):
    folder = tmp_path / "job"
    started = runner.utc_now()
    first = runner._output_file(folder, started)
    second = runner._output_file(folder, started)
    assert first != second
    assert second.name.endswith("-1.log")
    for index in range(5):
        path = folder / f"old-{index}.log"
        path.write_text("x")
        os.utime(path, (1000 + index, 1000 + index))
    prune_outputs(folder, keep=3)
    assert sorted(p.name for p in folder.iterdir()) == sorted([first.name, second.name, "old-4.log"])


@pytest.mark.parametrize(
    ("code", "status"), [(0, "passed"), (1, "failed"), (4, "usage-error"), (5, "no-tests")]
)
def test_pytest_exit_codes_become_statuses(code, status):
    assert runner.PYTEST_STATUS[code] == status
