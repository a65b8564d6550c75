"""Build the HTML report with the Allure 3 CLI from npm (no Java), installed on first use.

The CLI version is pinned in reports/package.json (+ package-lock.json); reports/allurerc.mjs is its
configuration. History is one JSONL file kept across runs, so trends (pass rate, durations) show.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ALLURE_PACKAGE = "allure"
ALLURE_VERSION = "3.18.0"  # equal to reports/package.json (tests/report/test_builder.py checks)
INSTALL_TIMEOUT = 900.0
GENERATE_TIMEOUT = 900.0
PROJECT_HOME = Path(__file__).resolve().parent.parent.parent / "reports"


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


def allure_home() -> AllureHome:
    """$OPSVERIFY_ALLURE_HOME, else the project's reports/ folder (next to the opsverify package)."""
    given = os.environ.get("OPSVERIFY_ALLURE_HOME")
    home = AllureHome(Path(given) if given else PROJECT_HOME)
    if not (home.path / "package.json").is_file():
        raise ReportError(
            f"{home.path / 'package.json'} not found: run from the opsverify project (it pins the Allure "
            "CLI in reports/package.json) or set OPSVERIFY_ALLURE_HOME to a folder with that file"
        )
    return home


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ReportError(
            f"`{name}` not found on PATH: the HTML report needs Node.js 18+ with npm "
            "(Debian/Ubuntu: `apt-get install nodejs npm`); the results themselves are already written"
        )
    return found


def ensure_allure(home: AllureHome, log: Callable[[str], None] = print) -> Path:
    """Install the pinned Allure CLI into home/node_modules if it is not there yet; return its cli.js."""
    if home.cli.is_file():
        return home.cli
    npm = _tool("npm")
    # The lock lives outside the project so that no stray file appears in reports/.
    digest = hashlib.sha256(str(home.path.resolve()).encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"opsverify-allure-install-{digest}.lock"
    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if home.cli.is_file():  # another process installed it while we waited
            return home.cli
        locked = (home.path / "package-lock.json").is_file()
        command = [npm, "ci" if locked else "install", "--no-audit", "--no-fund", "--prefer-offline"]
        log(
            f"installing the Allure report CLI ({ALLURE_PACKAGE}@{home.pinned_version()}) into {home.path} ..."
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
                f"`{' '.join(command[1:])}` in {home.path} took over {INSTALL_TIMEOUT:.0f}s"
            ) from None
        if completed.returncode != 0 or not home.cli.is_file():
            tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
            raise ReportError(
                f"installing the Allure CLI failed (npm exit {completed.returncode}) in {home.path}:\n{tail}\n"
                "check that the npm registry is reachable, then run `opsverify report` again"
            )
    return home.cli


def report_name(results: Path) -> str:
    """ "opsverify · <target>" from the results' environment.properties."""
    try:
        for line in (results / "environment.properties").read_text(encoding="utf-8").splitlines():
            if line.startswith("target="):
                return f"opsverify · {line.partition('=')[2].strip()}"
    except OSError:
        pass
    return "opsverify"


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
    """Generate the report; returns its index.html."""
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
        raise ReportError(f"allure generate took over {GENERATE_TIMEOUT:.0f}s") from None
    index = output / "index.html"
    if completed.returncode != 0 or not index.is_file():
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
        raise ReportError(f"allure generate failed (exit {completed.returncode}):\n{tail}")
    return index
