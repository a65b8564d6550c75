"""Keep every core busy while a command runs: the proof that timing-sensitive tests hold on a loaded machine.

    python -m tests.tools.stress [--workers N] [--runs 5] -- .venv/bin/python -m pytest tests/report/test_durations.py -q

starts N busy-looping processes (default: one per core), runs the command `--runs` times in a row (stopping at
the first failure), then stops the busy processes. Each busy process also ends by itself after `--limit`
seconds (default 1800), so an interrupted run leaves nothing spinning. Exit status: the command's.
`make stress STRESS_TESTS="tests/report/test_durations.py ..."` runs it with the timing-sensitive files.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time


def spin(limit: float) -> None:
    """Busy-loop until `limit` seconds have passed (or the parent stops us)."""
    deadline = time.monotonic() + limit
    count = 0
    while time.monotonic() < deadline:
        for _ in range(100_000):
            count += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="busy processes (cores)")
    parser.add_argument("--runs", type=int, default=5, help="times the command must pass in a row")
    parser.add_argument("--limit", type=float, default=1800.0, help="seconds after which a busy process ends")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    workers = [
        multiprocessing.Process(target=spin, args=(args.limit,), daemon=True) for _ in range(args.workers)
    ]
    for worker in workers:
        worker.start()
    status = 0
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            status = subprocess.run(command, check=False).returncode
            load = os.getloadavg()[0]
            print(
                f"stress: run {run}/{args.runs} with {args.workers} busy processes: exit {status} "
                f"in {time.monotonic() - started:.0f}s (load average {load:.1f})",
                flush=True,
            )
            if status != 0:
                break
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(timeout=10)
    return status


if __name__ == "__main__":
    sys.exit(main())
