"""The systemd unit and the docker compose service that run `opsverify schedule`."""

from __future__ import annotations

import configparser
import shlex
import signal
import subprocess
import sys
import time

import yaml

from opsverify.config.types import parse_duration
from opsverify.scaffold import scaffold_files
from tests.ci.conftest import CI, VENV_BIN, load, tool
from tests.conftest import REPO

UNIT = CI / "systemd" / "opsverify-scheduler.service"
COMPOSE = CI / "docker-compose.scheduler.yml"
GRACE = parse_duration(yaml.safe_load((CI / "schedule.yaml").read_text())["grace_period"])


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def test_systemd_analyze_verify_is_clean(tmp_path):
    # The unit as installed on a host, with the project folder and user of this machine.
    text = UNIT.read_text().replace("/opt/ops/.venv/bin/opsverify", str(VENV_BIN / "opsverify"))
    text = text.replace("/opt/ops", str(tmp_path)).replace("=opsverify\n", "=root\n")
    (tmp_path / "reports").mkdir()
    installed = tmp_path / "opsverify-scheduler.service"
    installed.write_text(text)
    result = subprocess.run(
        [tool("systemd-analyze"), "verify", str(installed)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert not result.stderr.strip(), "systemd-analyze warns about the unit"


def test_systemd_stop_settings_fit_the_schedule():
    service = unit()["Service"]
    assert service["KillMode"] == "mixed", "SIGTERM must reach the scheduler only, not the running checks"
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > GRACE + 5, "systemd must not kill before grace_period is over"
    assert service["RestartPreventExitStatus"] == "4"
    assert shlex.split(service["ExecStart"])[1:] == ["schedule", "--config", "ci/schedule.yaml"]


def test_the_units_command_runs_and_stops_cleanly_on_its_kill_signal(tmp_path):
    """ExecStart in WorkingDirectory, then KillSignal: the scheduler finishes and exits 0 (no restart)."""
    argv = shlex.split(unit()["Service"]["ExecStart"])
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "schedule.yaml").write_text(
        f"jobs:\n  beat: {{every: 1s, command: [{sys.executable}, -c, 'print(1)']}}\n"
    )
    process = subprocess.Popen(
        [str(VENV_BIN / "opsverify"), *argv[1:]],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = tmp_path / "reports" / "scheduler.jsonl"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (log.exists() and '"event": "run"' in log.read_text()):
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert '"event": "run"' in log.read_text()


def test_compose_service_matches_the_compose_spec_and_the_schedule():
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    service = load(COMPOSE)["services"]["opsverify-scheduler"]
    assert service["command"][-1].endswith("exec opsverify schedule --config ci/schedule.yaml")
    assert service["init"] is True
    assert service["stop_signal"] == "SIGTERM"
    assert parse_duration(service["stop_grace_period"]) > GRACE + 5
    assert service["restart"] == "unless-stopped"


def test_the_templates_have_one_source_the_package_that_init_copies():
    """The repository's ci/ is a link to opsverify/scaffold/ci, the folder `opsverify init` writes as ci/."""
    assert (REPO / "ci").is_symlink()
    assert (REPO / "ci").resolve() == (REPO / "opsverify" / "scaffold" / "ci").resolve()
    shipped = {f"ci/{p.relative_to(CI).as_posix()}" for p in CI.rglob("*") if p.is_file()}
    assert shipped == {relative for _, relative in scaffold_files() if relative.startswith("ci/")}


def test_ci_readme_describes_every_file():
    readme = (CI / "README.md").read_text()
    shipped = [p.relative_to(CI).as_posix() for p in CI.rglob("*") if p.is_file() and p.name != "README.md"]
    missing = [name for name in shipped if name not in readme]
    assert not missing, f"ci/README.md does not mention {missing}"
    assert (REPO / "docs" / "scheduler-and-ci.md").is_file()
