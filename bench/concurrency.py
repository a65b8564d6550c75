"""Smoke-gate concurrency: 100 HTTP endpoints that each take 300 ms, run as `pytest -m smoke`.

Measures each run's wall time less an empty run's (pytest start-up and collection, no checks), and
reports it as a multiple of the slowest endpoint's latency. The targets (issue 15): 100 endpoints <= 3x,
1000 endpoints <= 5x with the default settings (a serial run, --probe-workers 1, is about 100x). Also measured under pytest-xdist, and
without allure-pytest, to separate the cost of writing 100 Allure results from the probes' own time.

    python -m bench concurrency [--endpoints 100] [--latency-ms 300] [--repeat 3] [--no-serial]
    python -m bench concurrency -- --endpoints 1000 --workers 1 2 4 --no-floor   # xdist scaling vs -n 0
    python -m bench concurrency -- --endpoints 1 --workers 2 --no-floor --hand-written 20   # 20 slow checks of yours
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float) -> None:
    """HTTP/1.1 with keep-alive: every GET answers `{"ok": true, "path": ...}` after `latency` seconds."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            await asyncio.sleep(latency)
            body = json.dumps({"ok": True, "path": path}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            if b"connection: close" in head.lower():
                break
    except (asyncio.IncompleteReadError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


@contextmanager
def slow_server(latency: float) -> Iterator[str]:
    """An asyncio server in its own thread: 1000 connections at once cost it one event loop, not 1000
    threads, so it answers them all in about `latency` (measured by `server_alone`)."""
    loop = asyncio.new_event_loop()
    ready: queue.Queue[int] = queue.Queue()

    async def serve() -> None:
        server = await asyncio.start_server(lambda r, w: _handle(r, w, latency), "127.0.0.1", 0, backlog=4096)
        ready.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    task = loop.create_task(serve())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{ready.get(timeout=10)}"
    finally:

        async def stop() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def write_target(path: Path, base_url: str, endpoints: int) -> Path:
    lines = [f"target: bench-{endpoints}", "http:" if endpoints else "http: {}"]
    lines += [
        f"  ep-{i:04d}: {{url: '{base_url}/ep/{i}', expect: {{json: {{ok: true}}}}, tiers: [smoke]}}"
        for i in range(endpoints)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_hand_written(folder: Path, count: int, seconds: float, compute: bool) -> Path:
    """`count` hand-written smoke checks, each waiting (or computing) `seconds`: a check of your own that calls
    a slow service, or works on what it fetched."""
    body = (
        f"    end = time.thread_time() + {seconds}\n    while time.thread_time() < end:\n        pass\n"
        if compute
        else f"    time.sleep({seconds})\n"
    )
    module = folder / "test_hand_written.py"
    module.write_text(
        "import time\n\nimport pytest\n\n\n"
        f"@pytest.mark.smoke\n@pytest.mark.parametrize('i', range({count}))\ndef test_slow(i):\n{body}"
    )
    return module


def run_gate(target: Path, reports: Path, *extra: str) -> tuple[float, int, str]:
    """One `pytest -m smoke` run like an operator's: (wall seconds, exit code, last line or all output)."""
    seconds, code, tail, _ = run_gate_rss(target, reports, *extra)
    return seconds, code, tail


def run_gate_rss(target: Path, reports: Path, *extra: str) -> tuple[float, int, str, float]:
    """`run_gate` plus the pytest process's peak RSS in MB (from wait4's rusage of that one child)."""
    seconds, code, tail, rss, _ = run_gate_usage(target, reports, *extra)
    return seconds, code, tail, rss


def run_gate_usage(target: Path, reports: Path, *extra: str) -> tuple[float, int, str, float, float]:
    """`run_gate_rss` plus the CPU seconds (user + system) the pytest process used: on a machine busy with
    other jobs, wall time stretches with the load; CPU time much less so."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "smoke"]
    command += [f"--target={target}", str(target), *extra]  # as installed: the plugin collects the target
    environment = {**os.environ, "OPSVERIFY_REPORTS_DIR": str(reports), "PYTHONDONTWRITEBYTECODE": "1"}
    environment.pop("OPSVERIFY_TARGET", None)
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode(errors="replace")
    tail = output if code not in (0, 5) else (output.strip().splitlines() or [""])[-1]
    return seconds, code, tail, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def warm_up(target: Path, reports: Path, *extra: str) -> None:
    """One untimed run that may write bytecode: pytest caches the assertion-rewritten plugin modules it loads
    (`__pycache__/*-pytest-*.pyc`) on a run's first start, as an operator's first run after installing does;
    the timed runs (PYTHONDONTWRITEBYTECODE=1, so they leave nothing behind) then read those caches. Without
    it, a fresh clone pays the rewrite (~0.08 s) in every timed run."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "smoke"]
    environment = {**os.environ, "OPSVERIFY_REPORTS_DIR": str(reports)}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment.pop("OPSVERIFY_TARGET", None)
    subprocess.run(
        [*command, f"--target={target}", str(target), *extra],
        capture_output=True,
        env=environment,
        check=False,
    )


_CLIENT = """
import asyncio, sys, time
host, port, endpoints = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

async def one(index):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /ep/{index} HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n".encode())
    await writer.drain()
    await asyncio.wait_for(reader.read(), timeout=30)
    writer.close()

async def main():
    started = time.monotonic()
    results = await asyncio.gather(*(one(i) for i in range(endpoints)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    print(time.monotonic() - started, len(errors), errors[:1])

asyncio.run(main())
"""


def server_alone(url: str, endpoints: int) -> float:
    """Wall seconds for the bench server to answer `endpoints` requests sent all at once by an asyncio
    client in another process (as pytest is): what the server alone costs, so it is known not to be the
    bottleneck."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    command = [sys.executable, "-c", _CLIENT, parts.hostname or "127.0.0.1", str(parts.port), str(endpoints)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split(maxsplit=2)
    if output[1] != "0":
        raise SystemExit(f"the bench server failed {output[1]} of {endpoints} requests: {output[2]}")
    return float(output[0])


def floor_run(folder: Path, tests: int) -> float:
    """Wall seconds of pytest alone running `tests` trivial tests (none: an empty run, exit code 5) with the
    same reports as the gate (Allure results, JUnit XML): pytest's own cost per item, the floor under
    any plugin that makes each check a pytest item."""
    module = folder / f"test_floor_{tests}.py"
    if tests:
        module.write_text(
            f"import pytest\n\n\n@pytest.mark.parametrize('i', range({tests}))\ndef test_trivial(i):\n    pass\n"
        )
    else:
        module.write_text("")
    reports = folder / "floor-reports"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(module)]
    command += [
        f"--alluredir={reports / 'allure-results'}",
        "--clean-alluredir",
        f"--junitxml={reports / 'junit.xml'}",
    ]
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    environment.pop("OPSVERIFY_TARGET", None)
    started = time.monotonic()
    code = subprocess.run(command, capture_output=True, env=environment, cwd=folder).returncode
    if code not in (0, 5):
        raise SystemExit(f"the floor run failed with exit code {code}")
    return time.monotonic() - started


def measure(target: Path, empty: Path, reports: Path, repeat: int, *extra: str) -> tuple[float, float, float]:
    """Median wall times (empty run, full run) over `repeat` interleaved pairs, and the full runs' peak
    RSS in MB (the largest); a failing run aborts."""
    empties, fulls, peak = [], [], 0.0
    for _ in range(repeat):
        for path, times in ((empty, empties), (target, fulls)):
            seconds, code, tail, rss = run_gate_rss(path, reports, *extra)
            if code not in (0, 5):
                raise SystemExit(f"run {' '.join(extra) or '(default)'} failed with exit code {code}: {tail}")
            times.append(seconds)
            if path is target:
                peak = max(peak, rss)
    return statistics.median(empties), statistics.median(fulls), peak


def xdist_scaling(
    target: Path, reports: Path, configurations: list[tuple[str, tuple[str, ...]]], repeat: int
) -> int:
    """Wall and CPU time (the pytest process and its workers) of the whole gate for each `-n`, runs of the
    configurations interleaved, medians; each as a multiple of `-n 0` (issue 25: `-n 2` <= 0.8x)."""
    walls: dict[str, list[float]] = {label: [] for label, _ in configurations}
    cpus: dict[str, list[float]] = {label: [] for label, _ in configurations}
    for _ in range(repeat):
        for label, extra in configurations:
            seconds, code, tail, _, cpu = run_gate_usage(target, reports, *extra)
            if code != 0:
                raise SystemExit(f"run {label} failed with exit code {code}: {tail}")
            walls[label].append(seconds)
            cpus[label].append(cpu)
    base = statistics.median(walls[configurations[0][0]])
    print(f"{'configuration':<12} {'wall':>8} {'x -n 0':>7} {'CPU':>8}  runs")
    for label, _ in configurations:
        wall = statistics.median(walls[label])
        runs = ", ".join(f"{w:.2f}" for w in walls[label])
        print(
            f"{label:<12} {wall:>7.2f}s {wall / base:>6.2f}x {statistics.median(cpus[label]):>7.2f}s  {runs}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench concurrency", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (median is reported)")
    parser.add_argument(
        "--no-serial", action="store_true", help="skip the serial baseline (endpoints x latency)"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the pytest-alone floor (trivial tests)")
    parser.add_argument(
        "--only-default", action="store_true", help="only the default configuration (no xdist, no variants)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        metavar="N",
        help="only the xdist scaling: the default run (-n 0) and `-n N` for each N, as multiples of -n 0",
    )
    parser.add_argument(
        "--pytest-args",
        default="",
        metavar="ARGS",
        help="more pytest arguments for every run of the xdist scaling, e.g. '--probe-workers 8' (a gate whose "
        "probes cannot all run at once)",
    )
    parser.add_argument(
        "--hand-written",
        type=int,
        default=0,
        metavar="N",
        help="with --workers: N hand-written smoke checks beside the gate, each taking --latency-ms (they run "
        "one after the other in the test loop: no pool runs them ahead)",
    )
    parser.add_argument(
        "--hand-written-cpu",
        action="store_true",
        help="the hand-written checks spend their time computing instead of waiting",
    )
    args = parser.parse_args(argv)
    latency = args.latency_ms / 1000

    with tempfile.TemporaryDirectory(prefix="opsverify-bench-") as tmp, slow_server(latency) as url:
        folder = Path(tmp)
        reports = folder / "reports"
        target = write_target(folder / "bench.yaml", url, args.endpoints)
        empty = write_target(folder / "empty.yaml", url, 0)
        one = write_target(folder / "one.yaml", url, 1)
        warm_up(one, reports)  # bytecode and pytest's rewritten modules, as an installed opsverify has them
        warm_up(one, reports, "-n", "1")  # and what an xdist worker imports besides
        configurations: list[tuple[str, tuple[str, ...]]] = [
            ("concurrent (default pool)", ()),
            ("concurrent, no Allure results", ("-p", "no:allure_pytest")),
            ("concurrent, -n 2", ("-n", "2")),
            ("concurrent, -n auto", ("-n", "auto")),
        ]
        if args.only_default:
            configurations = configurations[:1]
        if not args.no_serial and not args.only_default:
            configurations.append(("serial (--probe-workers 1)", ("--probe-workers", "1")))
        if args.workers:
            more = tuple(args.pytest_args.split())
            if args.hand_written:
                module = write_hand_written(folder, args.hand_written, latency, args.hand_written_cpu)
                more = (*more, str(module))
            configurations = [("-n 0", ("-n", "0", *more))]
            configurations += [(f"-n {n}", ("-n", str(n), *more)) for n in args.workers]
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"{args.endpoints} endpoints x {args.latency_ms:.0f} ms, median of {args.repeat} runs", end="")
        print(f" ({os.cpu_count()} CPUs, load average {load})", flush=True)
        if args.workers and (args.pytest_args or args.hand_written):
            kind = "computing" if args.hand_written_cpu else "waiting"
            print(f"every run with: {args.pytest_args} {args.hand_written} hand-written checks {kind} each")
        alone = statistics.median(server_alone(url, args.endpoints) for _ in range(3))
        print(f"the server alone, {args.endpoints} requests at once: {alone:.2f} s ({alone / latency:.1f}x)")
        if not args.no_floor:
            empties, fulls = [], []
            for _ in range(args.repeat):
                empties.append(floor_run(folder, 0))
                fulls.append(floor_run(folder, args.endpoints))
            extra = statistics.median(fulls) - statistics.median(empties)
            print(
                f"pytest alone, {args.endpoints} trivial tests with Allure + JUnit results: "
                f"{statistics.median(fulls):.2f}s, empty {statistics.median(empties):.2f}s, "
                f"{extra:.2f}s beyond it ({extra / latency:.1f}x the latency): the floor per item"
            )
        if args.workers:
            return xdist_scaling(target, reports, configurations, args.repeat)
        header = f"{'configuration':<30} {'empty run':>10} {'run':>8} {'run - empty':>12} {'x slowest':>10}"
        print(f"{header} {'peak RSS':>9}")
        ratios = {}
        for label, extra in configurations:
            repeat = 1 if "--probe-workers" in extra else args.repeat
            baseline, seconds, peak = measure(target, empty, reports, repeat, *extra)
            ratios[label] = (seconds - baseline) / latency
            print(
                f"{label:<30} {baseline:>9.2f}s {seconds:>7.2f}s {seconds - baseline:>11.2f}s "
                f"{ratios[label]:>9.1f}x {peak:>6.0f} MB",
                flush=True,
            )
    worst = max(ratio for label, ratio in ratios.items() if "serial" not in label)
    goal = 3.0 if args.endpoints <= 100 else 5.0  # issue 15: 100 endpoints <= 3x, 1000 endpoints <= 5x
    print(
        f"target (every concurrent configuration <= {goal:g}x the slowest latency): "
        f"{'met' if worst <= goal else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
