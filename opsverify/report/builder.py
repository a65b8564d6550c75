"""Build the HTML report with the Allure 3 CLI from npm (no Java), installed on first use.

The CLI version is pinned in allure/package.json (+ package-lock.json) and allure/allurerc.mjs is its
configuration, shipped in the package; the CLI is installed into the user's cache (or
$OPSVERIFY_ALLURE_HOME) on first use. History is one JSONL file kept across runs, so trends (pass rate, durations) show: one
entry per run, however often its report is built (each entry is tagged with the run's id).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from opsverify.report.allure_files import RUN_ID_PROPERTY, read_environment_properties
from opsverify.report.store_history import HISTORY_RUN_FIELD, read_points

ALLURE_PACKAGE = "allure"
ALLURE_VERSION = "3.18.0"  # equal to allure/package.json (tests/report/test_builder.py checks)
INSTALL_TIMEOUT = 900.0
GENERATE_TIMEOUT = 900.0
# package.json, package-lock.json and allurerc.mjs, shipped in the wheel (package data)
ALLURE_DATA = Path(__file__).resolve().parent / "allure"
ALLURE_FILES = ("package.json", "package-lock.json", "allurerc.mjs")
# HISTORY_RUN_FIELD ("opsverifyRunId") is added to each history entry (Allure keeps unknown fields)


class ReportError(Exception):
    """The report could not be built; the message says why and what to do."""


@dataclass(frozen=True)
class AllureHome:
    """The folder holding package.json, package-lock.json, allurerc.mjs and (once installed) node_modules."""

    path: Path

    @property
    def cli(self) -> Path:
        return self.path / "node_modules" / ALLURE_PACKAGE / "cli.js"

    @property
    def config(self) -> Path:
        return self.path / "allurerc.mjs"

    def pinned_version(self) -> str:
        data = json.loads((self.path / "package.json").read_text(encoding="utf-8"))
        return str(data["dependencies"][ALLURE_PACKAGE])


def default_home() -> Path:
    """The user's cache: $XDG_CACHE_HOME/opsverify/allure-<version> (default ~/.cache/...)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "opsverify" / f"allure-{ALLURE_VERSION}"


def allure_home() -> AllureHome:
    """Where the Allure CLI is installed: $OPSVERIFY_ALLURE_HOME, else the user's cache (default_home).

    The folder is made ready from the files opsverify ships: a given folder keeps the files it has (its
    own pin or configuration) and gets the missing ones; the cache always holds opsverify's own.
    """
    given = os.environ.get("OPSVERIFY_ALLURE_HOME")
    home = AllureHome(Path(given).expanduser() if given else default_home())
    hint = (
        "set OPSVERIFY_ALLURE_HOME to a writable folder"
        if not given
        else "choose another folder for OPSVERIFY_ALLURE_HOME (or unset it to use the user cache)"
    )
    try:
        home.path.mkdir(parents=True, exist_ok=True)
        own_pin = bool(given) and (home.path / "package.json").exists()
        for name in ALLURE_FILES:
            shipped = (ALLURE_DATA / name).read_bytes()
            path = home.path / name
            if path.is_dir():
                raise ReportError(
                    f"{path} is a folder, not a file: remove it and run `opsverify report` again"
                )
            if given and (path.exists() or (own_pin and name == "package-lock.json")):
                continue  # the user's own files in a folder they chose (their pin: npm install, no lock)
            if not path.is_file() or path.read_bytes() != shipped:
                path.write_bytes(shipped)
    except OSError as exc:
        where = exc.filename or home.path
        raise ReportError(
            f"cannot prepare the Allure CLI's folder {home.path} ({where}: {exc.strerror}); {hint}"
        ) from None
    return home


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ReportError(
            f"`{name}` not found on PATH: the HTML report needs Node.js 18+ with npm "
            "(Debian/Ubuntu: `apt-get install nodejs npm`); the results themselves are already written"
        )
    return found


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the folder itself (flock on its descriptor): no lock file is left anywhere."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing the last descriptor releases the lock


def _node_message(text: str) -> str:
    """The one line that says what went wrong in a Node or npm error output (no stack, no source excerpt)."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)  # colours, should a CLI ignore NO_COLOR
    lines = [line.strip() for line in plain.splitlines() if line.strip()]
    npm = [line for line in lines if line.startswith(("npm error", "npm ERR!"))]
    if npm:
        words = [line.removeprefix("npm error").removeprefix("npm ERR!").strip() for line in npm]
        return "; ".join(word for word in words[:3] if word)
    for line in lines:
        if re.match(r"^[A-Za-z ]*(Error|Exception)( \[[A-Z0-9_]+\])?: ", line):  # "Syntax Error: ..."
            return line
    meaningful = [line for line in lines if not line.startswith(("at ", "Node.js v", "^", "file://"))]
    return meaningful[-1] if meaningful else "no output"


def ensure_allure(home: AllureHome, log: Callable[[str], None] = print) -> Path:
    """Install the pinned Allure CLI into home/node_modules if it is not there yet; return its cli.js."""
    if home.cli.is_file():
        return home.cli
    npm = _tool("npm")
    with _folder_lock(home.path):
        if home.cli.is_file():  # another process installed it while we waited
            return home.cli
        locked = (home.path / "package-lock.json").is_file()
        command = [npm, "ci" if locked else "install", "--no-audit", "--no-fund", "--prefer-offline"]
        log(
            f"installing the Allure report CLI ({ALLURE_PACKAGE}@{home.pinned_version()}, npm) into "
            f"{home.path}: first use only, this takes a minute ..."
        )
        try:
            completed = subprocess.run(
                command,
                cwd=home.path,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ReportError(
                f"`npm {' '.join(command[1:])}` in {home.path} took over {INSTALL_TIMEOUT:.0f}s: check that "
                "the npm registry is reachable (`npm ping`), then run `opsverify report` again"
            ) from None
        if completed.returncode != 0 or not home.cli.is_file():
            why = _node_message(completed.stderr or completed.stdout)
            raise ReportError(
                f"installing the Allure CLI failed (`npm {command[1]}` exit {completed.returncode} in "
                f"{home.path}): {why}; check that the npm registry is reachable (`npm ping`), then run "
                "`opsverify report` again"
            )
    return home.cli


def report_name(results: Path) -> str:
    """ "opsverify · <target>" from the results' environment.properties."""
    target = read_environment_properties(results).get("target", "").strip()
    return f"opsverify · {target}" if target else "opsverify"


def run_key(results: Path) -> str:
    """The run the results come from: its run id (environment.properties `run.id`, as in summary.json).

    Results written before opsverify recorded it are named by their result files (new ones every run).
    """
    run_id = read_environment_properties(results).get(RUN_ID_PROPERTY, "").strip()
    if run_id:
        return run_id
    names = "\n".join(sorted(path.name for path in results.glob("*-result.json")))
    return "results-" + hashlib.sha256(names.encode()).hexdigest()[:16]


def _entry_run(line: str) -> str | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    run = entry.get(HISTORY_RUN_FIELD) if isinstance(entry, dict) else None
    return run if isinstance(run, str) else None


def read_history(history: Path) -> list[str]:
    """The history's entries (JSON lines, empty lines left out); [] while there is no history yet."""
    try:
        text = history.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ReportError(f"cannot read the report history {history}: {exc.strerror}") from None
    return [line for line in text.splitlines() if line.strip()]


def history_runs(history: Path) -> list[str | None]:
    """The run id of every history entry, oldest first (None for entries without one)."""
    return [_entry_run(line) for line in read_history(history)]


def _record_run(history: Path, entries: list[str], working: Path, run: str) -> None:
    """Append the entry Allure added to `working` to `history`, tagged with the run's id."""
    added = read_history(working)
    if not added:
        return  # Allure wrote no entry (history off in the configuration): nothing to record
    try:
        entry = json.loads(added[-1])
    except ValueError:
        raise ReportError(f"the Allure CLI wrote an unreadable history entry to {working}") from None
    entry[HISTORY_RUN_FIELD] = run
    text = "".join(f"{line}\n" for line in [*entries, json.dumps(entry, ensure_ascii=False)])
    partial = history.with_name(f".{history.stem}.partial{history.suffix}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, history)


def _with_store_history(entries: list[str], results: Path, run: str) -> list[str]:
    """`entries` and the state store's earlier runs the run wrote beside its results (those `entries` lack),
    oldest first: the trends survive a CI runner that lost the history file."""
    have = {_entry_run(line) for line in entries} | {run}
    added = [line for line in read_points(results) if _entry_run(line) not in have]
    if not added:
        return entries

    def timestamp(line: str) -> float:
        try:
            value = json.loads(line).get("timestamp")
        except (ValueError, AttributeError):
            return 0.0
        return float(value) if isinstance(value, int | float) else 0.0

    return sorted([*entries, *added], key=timestamp)


def prepare_output(output: Path) -> None:
    """Empty the output folder of an earlier report; refuse a non-empty folder that is not a report."""
    if output.exists() and any(output.iterdir()):
        if not (output / "index.html").is_file():
            raise ReportError(
                f"{output} is not empty and holds no earlier report (no index.html); choose another --output"
            )
        shutil.rmtree(output)
    output.mkdir(parents=True, exist_ok=True)


def build_report(
    results: Path,
    output: Path,
    history: Path,
    single_file: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Generate the report; returns its index.html. The run joins `history` once, however often it is built."""
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise ReportError(
            f"no test results in {results}: run the checks first (`pytest -m smoke --target NAME` writes "
            "them to reports/allure-results), or pass --results DIR"
        )
    home = allure_home()
    node = _tool("node")
    cli = ensure_allure(home, log)
    prepare_output(output)
    history.parent.mkdir(parents=True, exist_ok=True)
    run = run_key(results)
    with _folder_lock(history.parent), tempfile.TemporaryDirectory(prefix="opsverify-history-") as scratch:
        entries = read_history(history)
        # Allure reads the earlier runs from this copy and appends the one it builds; this run's own
        # entry (from an earlier build) stays out, so the trends never show the run twice.
        working = Path(scratch) / "allure-history.jsonl"
        earlier = [line for line in entries if _entry_run(line) != run]
        working.write_text(
            "".join(f"{line}\n" for line in _with_store_history(earlier, results, run)), encoding="utf-8"
        )
        index = _generate(node, cli, home, results, output, working, single_file)
        if run not in map(_entry_run, entries):
            _record_run(history, entries, working, run)
    return index


def _generate(
    node: str, cli: Path, home: AllureHome, results: Path, output: Path, history: Path, single_file: bool
) -> Path:
    environment = {
        **os.environ,
        "OPSVERIFY_ALLURE_RESULTS": str(results.resolve()),
        "OPSVERIFY_ALLURE_OUTPUT": str(output.resolve()),
        "OPSVERIFY_ALLURE_HISTORY": str(history.resolve()),
        "OPSVERIFY_SINGLE_FILE": "1" if single_file else "0",
        "OPSVERIFY_REPORT_NAME": report_name(results),
        "NO_COLOR": "1",
    }
    command = [node, str(cli), "generate", str(results.resolve()), "--config", str(home.config)]
    command += ["--output", str(output.resolve())]
    try:
        completed = subprocess.run(
            command,
            cwd=home.path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=GENERATE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ReportError(
            f"allure generate took over {GENERATE_TIMEOUT:.0f}s on {results}: a results folder of that "
            "size needs a run split by tier or target"
        ) from None
    index = output / "index.html"
    if completed.returncode != 0 or not index.is_file():
        why = _node_message(completed.stderr or completed.stdout)
        raise ReportError(
            f"allure generate failed (exit {completed.returncode}): {why}; check {home.config} "
            f"(opsverify's own is {ALLURE_DATA / 'allurerc.mjs'}), or delete {home.path} so that "
            "`opsverify report` sets it up again"
        )
    return index
