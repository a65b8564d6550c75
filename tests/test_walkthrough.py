"""The README's walkthrough as a new user runs it: the built wheel in a fresh venv, an empty folder, then
`opsverify init`, `validate`, `run smoke`, `report` (a real npm install of Allure 3, the report opened in
headless Chromium), `import compose` and `draft`.

The venv holds the wheel alone; the wheel's dependencies are the test venv's (linked in beside it, opsverify
itself left out), so the test needs no package index and proves that what `opsverify` uses is in the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import LocalHTTPServer, json_response
from tests.report.test_browser import served_text
from tests.shared import opsverify_wheel


@dataclass(frozen=True)
class Installed:
    """A fresh venv holding only the built wheel."""

    bin: Path
    site_packages: Path


def linked_dependencies(folder: Path) -> Path:
    """A folder linking every installed distribution of the test venv except opsverify itself."""
    folder.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.startswith(("opsverify", "__editable__", "_opsverify")) or entry.suffix == ".pth":
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    folder = tmp_path_factory.mktemp("wheel")
    wheel = opsverify_wheel(tmp_path_factory)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", str(python)]
    done = subprocess.run(
        [*install, "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    site_packages = Path(purelib)
    (site_packages / "zz-test-dependencies.pth").write_text(f"{linked_dependencies(folder / 'deps')}\n")
    return Installed(venv / "bin", site_packages)


@pytest.fixture
def site() -> Iterator[LocalHTTPServer]:
    server = LocalHTTPServer().start()
    server.routes["/healthz"] = json_response({"status": "ok"})
    yield server
    server.stop()


COMPOSE = """\
services:
  web:
    image: nginx:1.27
    ports: ["{port}:80"]
    healthcheck:
      test: ["CMD", "curl", "-fsS", "http://localhost/healthz"]
      timeout: 3s
"""

GUIDE = """\
# Operations

## Health checks

Every morning:

```bash
curl -fsS http://127.0.0.1:{port}/healthz
```

Alert when disk usage is above 85 %.
"""


def test_the_readme_walkthrough_from_the_wheel_in_an_empty_folder(
    installed: Installed, site: LocalHTTPServer, pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OPSVERIFY_", "PYTHON"))}
    environment |= {
        "PATH": f"{installed.bin}{os.pathsep}{os.environ['PATH']}",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),  # nothing installed yet: a real npm install of Allure
        "PYTHONDONTWRITEBYTECODE": "1",
        "API_URL": site.url,
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
    }

    def opsverify(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
        completed = subprocess.run(
            ["opsverify", *args],
            cwd=cwd,
            env={**environment, **(env or {})},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        output = completed.stdout + completed.stderr
        assert completed.returncode == 0, f"opsverify {' '.join(args)}: exit {completed.returncode}\n{output}"
        assert "Traceback" not in output, output
        return output

    where = subprocess.run(
        [str(installed.bin / "python"), "-c", "import opsverify; print(opsverify.__file__)"],
        env=environment,
        cwd=home,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.site_packages), where  # the wheel, not the repository

    opsverify("init", "ops", cwd=home)
    ops = home / "ops"
    assert (ops / "targets" / "example.yaml").is_file()
    assert "valid, 4 checks" in opsverify("validate", "example", cwd=ops)
    ran = opsverify("run", "smoke", "--target", "example", cwd=ops)
    assert "target example [smoke]: 3 checks: 3 passed, 0 failed" in ran

    built = opsverify("report", cwd=ops)
    cache = tmp_path / "cache" / "opsverify"
    assert "installing the Allure report CLI (allure@3." in built
    assert f"report: {ops / 'reports' / 'allure-report' / 'index.html'}" in built
    (allure,) = cache.glob("allure-*")
    assert (allure / "node_modules" / "allure" / "cli.js").is_file()
    report = ops / "reports" / "allure-report"
    overview = served_text(report, "", tmp_path / "profile")
    assert "opsverify · example" in overview
    assert "Passed 3" in overview
    results = json.loads((report / "test-results.json").read_text())["byId"]
    for check in ("http:api-health", "postgres:main", "redis:cache"):
        test_id = next(key for key, value in results.items() if value["name"] == check)
        page = served_text(report, f"#{test_id}", tmp_path / "profile")
        assert check in page
        assert "Passed" in page

    (ops / "docker-compose.yml").write_text(COMPOSE.format(port=site.port))
    (ops / "OPERATIONS.md").write_text(GUIDE.format(port=site.port))
    # each followed by the next step it prints, run as printed (copy the env example, then validate)
    imported = opsverify("import", "compose", "docker-compose.yml", "-o", "targets/prod.yaml", cwd=ops)
    assert "target prod (targets/prod.yaml): valid" in printed_next_step(imported, ops, environment)
    drafted = opsverify("draft", "OPERATIONS.md", cwd=ops)
    assert "target operations (targets/operations.yaml): valid" in printed_next_step(
        drafted, ops, environment
    )


def printed_next_step(output: str, cwd: Path, environment: dict[str, str]) -> str:
    """Run the command line import/draft printed as the next step (it validates the written target)."""
    (command,) = [line.strip() for line in output.splitlines() if "opsverify validate" in line]
    completed = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, (
        f"{command}: exit {completed.returncode}\n{completed.stdout}{completed.stderr}"
    )
    return completed.stdout
