"""Running `pytest -m TIER --target FILE` as its own process while sampling its peak RSS (shared by benches)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil


def pytest_peak_rss(target: Path, tier: str, workdir: Path, cwd: Path | None = None) -> tuple[float, float]:
    """(peak RSS MB, wall seconds) of `pytest -m tier --target target`; RuntimeError with its output if it fails."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-m",
        tier,
        f"--target={target}",
    ]
    if cwd is None:
        command.append(str(target))
    env = {**os.environ, "OPSVERIFY_REPORTS_DIR": str(workdir / "reports")}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd
    )
    watched, peak, done = psutil.Process(process.pid), 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"`pytest -m {tier}` failed:\n{output}")
    return peak / 1e6, time.perf_counter() - started
