"""Start-up: the wall time of a one-check smoke run (`pytest -m smoke`, one `http` entry answering at once).

Measured in the same run against two baselines: an *empty run* (the same command against a target without
entries: pytest start-up, plugin loading, collection; exit code 5) and bare pytest (`pytest --co` of an empty
folder with opsverify's plugin off, `-p no:opsverify`). The issue's goal: the one-check run <= 0.6 s wall.
Also prints which of the kinds' modules the one-check run imported (only the http kind's should be there).

    python -m bench startup [--repeat 9]
    python -m bench startup -- --installed /tmp/v/bin/python --repeat 9   # issue 25: installed wheel, x bare
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.concurrency import run_gate_usage, slow_server, warm_up, write_target

_IMPORTED = """
import sys
sys.argv = ["pytest", *sys.argv[1:]]
try:
    import pytest
    pytest.main(sys.argv[1:])
finally:
    names = sorted(m for m in sys.modules if m.startswith(("opsverify.kinds.", "opsverify.notify")) or m in ("requests", "httpx", "aiohttp"))
    print("IMPORTED " + " ".join(names), file=sys.__stderr__)
"""


def bare_pytest(folder: Path) -> tuple[float, float]:
    """(wall, CPU seconds) of `pytest --co` in an empty folder with opsverify's plugin off."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:opsverify", "-q", "--co"]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime


def imported_modules(target: Path, reports: Path) -> list[str]:
    command = [sys.executable, "-c", _IMPORTED, "-p", "no:cacheprovider", "-q", "-m", "smoke"]
    command += [f"--target={target}", str(target)]
    environment = {**os.environ, "OPSVERIFY_REPORTS_DIR": str(reports)}
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    line = next((x for x in completed.stderr.splitlines() if x.startswith("IMPORTED ")), "IMPORTED ")
    return line.split()[1:]


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall, CPU seconds, exit code) of one command."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def installed(python: str, repeat: int) -> int:
    """Issue 25's measure: from an installed opsverify (`python` of its venv, e.g. one made from the built
    wheel), in a repository made by `opsverify init`: the one-check smoke run against bare pytest running one
    trivial test with the same reports (Allure results and JUnit written), `-p no:opsverify`."""
    with tempfile.TemporaryDirectory(prefix="opsverify-bench-") as tmp, slow_server(0.0) as url:
        repo = Path(tmp) / "ops"
        subprocess.run([python, "-m", "opsverify.cli", "init", str(repo)], check=True, capture_output=True)
        one = write_target(repo / "targets" / "one.yaml", url, 1)
        bare = repo / "bare"
        bare.mkdir()
        (bare / "test_one.py").write_text("def test_one():\n    pass\n")
        reports = repo / "reports"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPSVERIFY_")}
        gate = [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "smoke", f"--target={one}"]
        baseline = [python, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:opsverify", "-q", "bare"]
        baseline += [f"--alluredir={reports / 'bare-allure'}", "--clean-alluredir"]
        baseline += [f"--junitxml={reports / 'bare-junit.xml'}"]
        # untimed: pytest's rewritten-module caches are written once, as an operator's first run writes them
        # (PYTHONDONTWRITEBYTECODE=1 here would leave every timed run rewriting opsverify's ~75 modules)
        first = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        for command in (gate, baseline):
            subprocess.run(command, cwd=repo, env=first, capture_output=True, check=False)
        runs: dict[str, list[tuple[float, float]]] = {"bare": [], "one": []}
        for _ in range(repeat):
            for label, command, codes in (("bare", baseline, (0,)), ("one", gate, (0,))):
                wall, cpu, code = timed(command, repo, env)
                if code not in codes:
                    raise SystemExit(f"{label}: exit code {code}: {' '.join(command)}")
                runs[label].append((wall, cpu))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"start-up from {python}, median of {repeat} runs ({os.cpu_count()} CPUs, load average {load})")
    walls = {label: statistics.median(w for w, _ in pairs) for label, pairs in runs.items()}
    cpus = {label: statistics.median(c for _, c in pairs) for label, pairs in runs.items()}
    print(f"bare pytest, one test, Allure + JUnit: {walls['bare']:.3f}s wall, {cpus['bare']:.3f}s CPU")
    print(f"one-check smoke run:                   {walls['one']:.3f}s wall, {cpus['one']:.3f}s CPU")
    ratio = walls["one"] / walls["bare"]
    print(f"ratio (wall): {ratio:.2f}x, CPU: {cpus['one'] / cpus['bare']:.2f}x; goal <= 1.5x: ", end="")
    print("met" if ratio <= 1.5 else "MISSED")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench startup", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="runs of each (median is reported)")
    parser.add_argument(
        "--installed",
        metavar="PYTHON",
        help="issue 25's measure: the python of a venv with opsverify installed (from the built wheel), in an "
        "`opsverify init` repository, against bare pytest with the same reports",
    )
    args = parser.parse_args(argv)
    if args.installed:
        return installed(args.installed, args.repeat)
    with tempfile.TemporaryDirectory(prefix="opsverify-bench-") as tmp, slow_server(0.0) as url:
        folder = Path(tmp)
        reports = folder / "reports"
        bare_dir = folder / "bare"
        bare_dir.mkdir()
        one = write_target(folder / "one.yaml", url, 1)
        empty = write_target(folder / "empty.yaml", url, 0)
        warm_up(one, reports)
        bare: list[tuple[float, float]] = []
        empties: list[tuple[float, float]] = []
        ones: list[tuple[float, float]] = []
        for _ in range(args.repeat):  # interleaved, so the machine's load hits all three alike
            bare.append(bare_pytest(bare_dir))
            for path, times, codes in ((empty, empties, (5,)), (one, ones, (0,))):
                seconds, code, tail, _, cpu = run_gate_usage(path, reports)
                if code not in codes:
                    raise SystemExit(f"{path.name}: exit code {code}: {tail}")
                times.append((seconds, cpu))
        modules = imported_modules(one, reports)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"start-up, median of {args.repeat} runs ({os.cpu_count()} CPUs, load average {load})")
    figures = (("bare pytest (-p no:opsverify)", bare), ("empty run", empties), ("one-check smoke run", ones))
    print(f"{'':<32} {'wall':>8} {'min wall':>9} {'CPU':>8}")
    for label, pairs in figures:
        walls, cpus = [w for w, _ in pairs], [c for _, c in pairs]
        print(
            f"{label:<32} {statistics.median(walls):>7.3f}s {min(walls):>8.3f}s {statistics.median(cpus):>7.3f}s"
        )
    one_check = statistics.median(w for w, _ in ones)
    print(f"one-check run - empty run (wall): {one_check - statistics.median(w for w, _ in empties):.3f} s")
    print(f"kind/notify modules imported by the one-check run: {' '.join(modules) or '(none)'}")
    print(f"target (one-check smoke run <= 0.6 s): {'met' if one_check <= 0.6 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
