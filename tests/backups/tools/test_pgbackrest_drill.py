"""The pgBackRest drill against a live stanza: `pgbackrest restore` into a throwaway data directory, PostgreSQL
started on it, recovery through the WAL archive (to its end, or to a target_time), the drill's `expect`, and
a teardown that leaves no process, data directory or temporary folder behind."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsverify.config.target import load_target
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.kinds.restore.probe import DrillHooks, probe
from opsverify.kinds.restore.verdict import judge
from tests.backups.tools.live_stanza import LiveStanza
from tests.backups.tools.stanza import STANZA
from tests.conftest import RunResult
from tests.drills.helpers import evidence_lines

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.xdist_group("pgbackrest-live")

EXPECT: dict[str, Any] = {
    "tables": ["events"],
    "min_rows": {"events": 5},
    "queries": {"after": {"sql": "select count(*) from events where note = 'after'", "equals": 2}},
    "freshness": {"sql": "select max(at) from events", "max_lag": "1h"},
}


@pytest.fixture
def work_dir() -> Iterator[Path]:
    """The drill's work_dir: a folder the postgres user can enter (pytest's tmp_path is root's alone); it
    must be empty after every drill, and no server of it may run."""
    folder = Path(tempfile.mkdtemp(prefix="ovt-pgbr-"))
    folder.chmod(0o755)
    yield folder
    left = sorted(p.name for p in folder.iterdir())
    servers = _servers_in(folder)
    shutil.rmtree(folder, ignore_errors=True)
    assert left == [], "drill folders left behind"
    assert servers == [], "drill servers left running"


def _servers_in(folder: Path) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(folder) in command and "postgres" in command:
                found.append(f"{entry.name}: {command}")
    return found


def drill(
    tmp_path: Path, live: LiveStanza, work_dir: Path, hooks: DrillHooks | None = None, **settings: Any
) -> tuple[DrillFacts, list[str]]:
    restore = settings.pop("restore", {"expect": EXPECT})
    document = {
        "target": "prod",
        "backups": {
            "db": {
                "pgbackrest": {
                    "stanza": STANZA,
                    "config": str(live.config),
                    "work_dir": str(work_dir),
                    **settings,
                },
                "restore": restore,
            }
        },
    }
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(document))
    target = load_target(str(path))
    entry = target.model.backups["db"]  # type: ignore[attr-defined]
    facts = probe(entry, ProbeContext(target.name, target.base_dir, target=target, entry_name="db"), hooks)
    return facts, [problem.text for problem in judge(entry, facts).problems]


def test_drill_restores_the_newest_backup_to_the_end_of_the_archive(
    live_stanza: LiveStanza, tmp_path: Path, work_dir: Path, reports: Path
) -> None:
    facts, problems = drill(tmp_path, live_stanza, work_dir)
    assert problems == [], facts.evidence()
    assert [s.name for s in facts.steps] == ["find", "restore", "start", "recovery", "verify", "teardown"]
    assert facts.verification.row_counts == {"events": 5}  # the rows after the backup came from the archive
    assert facts.steps[3].detail.startswith("recovered to the end of the WAL archive")
    record = evidence_lines(reports)[-1]
    assert record["verdict"] == "passed"
    assert set(record["steps"]) == {"find", "restore", "start", "recovery", "verify", "teardown"}
    assert record["restore_program"] == "pgbackrest"
    assert record["file"].startswith(f"pgbackrest:{STANZA}/")
    assert record["file"].endswith("F")
    assert record["rto_s"] is not None


def test_target_time_recovers_to_that_point(live_stanza: LiveStanza, tmp_path: Path, work_dir: Path) -> None:
    expect = {"tables": ["events"], "queries": {"n": {"sql": "select count(*) from events", "equals": 3}}}
    facts, problems = drill(
        tmp_path, live_stanza, work_dir, target_time=live_stanza.middle, restore={"expect": expect}
    )
    assert problems == [], facts.evidence()
    assert facts.verification.queries == {"n": 3}  # the 'after' rows were written after target_time
    assert facts.restore is not None
    assert f"--type=time --target='{live_stanza.middle}'" in facts.restore.command


def test_a_failing_query_fails_the_drill_and_tears_down_and_reaps_a_killed_drills_folder(
    live_stanza: LiveStanza, tmp_path: Path, work_dir: Path
) -> None:
    killed = work_dir / "opsverify_drill_killed"  # a drill killed (SIGKILL) two days ago left its folder
    (killed / "data").mkdir(parents=True)
    two_days_ago = time.time() - 2 * 86400
    os.utime(killed, (two_days_ago, two_days_ago))
    expect = {"tables": ["events", "missing_table"]}
    facts, problems = drill(tmp_path, live_stanza, work_dir, restore={"expect": expect})
    assert len(problems) == 1
    assert "missing_table" in problems[0]
    assert facts.steps[-1].name == "teardown"
    assert facts.teardown_problems == []
    assert "opsverify_drill_killed" in facts.reaped
    assert not killed.exists()


def test_unknown_set_is_named_with_the_stanzas_labels(
    live_stanza: LiveStanza, tmp_path: Path, work_dir: Path
) -> None:
    _facts, problems = drill(tmp_path, live_stanza, work_dir, set="20200101-000000F")
    assert len(problems) == 1
    assert problems[0].startswith(
        f"pgbackrest.set: no backup '20200101-000000F' in stanza {STANZA} (its backups: "
    )
    assert "drop `set` to restore the newest" in problems[0]


def test_target_time_before_every_backup_is_named(
    live_stanza: LiveStanza, tmp_path: Path, work_dir: Path
) -> None:
    _facts, problems = drill(tmp_path, live_stanza, work_dir, target_time="2001-01-01 00:00:00+00:00")
    assert len(problems) == 1
    assert problems[0].startswith(
        f"pgbackrest.target_time 2001-01-01 00:00:00+00: no backup of stanza {STANZA}"
    )
    assert problems[0].endswith("choose a later time")


def test_target_time_without_a_zone_is_a_config_error(tmp_path: Path) -> None:
    from opsverify.kinds.backups.model import BackupCheck

    with pytest.raises(
        ValueError, match=r"target_time\n.*expected a time with its zone, e.g. 2026-01-02 03:04:05\+00:00"
    ):
        BackupCheck.model_validate(
            {"pgbackrest": {"stanza": STANZA, "target_time": "2026-01-02 03:04:05"}, "restore": {}}
        )


def test_running_out_of_disk_names_the_folder_and_the_fix(
    live_stanza: LiveStanza, tmp_path: Path, work_dir: Path
) -> None:
    small = work_dir / "small"
    small.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(small)], check=True, timeout=30
    )
    # pgBackRest retries a failed write twice, the second time after job-retry-interval (15 s by default):
    # the drill's failure is the same without the wait
    config = tmp_path / "pgbackrest.conf"
    config.write_text(
        live_stanza.config.read_text().replace("[global]\n", "[global]\njob-retry-interval=0\n", 1)
    )
    try:
        facts, problems = drill(tmp_path, dataclasses.replace(live_stanza, config=config), small)
        left = sorted(p.name for p in small.iterdir())
    finally:
        subprocess.run(["umount", str(small)], check=True, timeout=30)
        small.rmdir()
    assert left == []
    assert len(problems) == 1, facts.evidence()
    assert problems[0].startswith(f"the restore ran out of disk space in {small} (")
    assert problems[0].endswith(
        "free space there, or set pgbackrest.work_dir to a folder on a filesystem with room for it"
    )


SCRIPT = """
import sys, time
from pathlib import Path
from opsverify.config.target import load_target
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.probe import DrillHooks, probe

target = load_target(sys.argv[1])
entry = target.model.backups["db"]

def started(sandbox):
    print("STARTED", sandbox.workdir, flush=True)
    time.sleep(60)

probe(entry, ProbeContext(target.name, target.base_dir, target=target, entry_name="db"), DrillHooks(started))
print("NOT INTERRUPTED", flush=True)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_tears_the_restored_cluster_down(
    live_stanza: LiveStanza, tmp_path: Path, work_dir: Path, reports: Path, sig: signal.Signals
) -> None:
    document = {
        "target": "prod",
        "backups": {
            "db": {
                "pgbackrest": {
                    "stanza": STANZA,
                    "config": str(live_stanza.config),
                    "work_dir": str(work_dir),
                },
                "restore": {"expect": EXPECT},
            }
        },
    }
    (tmp_path / "target.yaml").write_text(yaml.safe_dump(document))
    (tmp_path / "drill.py").write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPSVERIFY_REPORTS_DIR": str(reports)}
    process = subprocess.Popen(
        [sys.executable, str(tmp_path / "drill.py"), str(tmp_path / "target.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("STARTED"), process.communicate(timeout=60)
    workdir = Path(line.split(maxsplit=1)[1].strip())
    assert workdir.parent == work_dir
    process.send_signal(sig)
    out, err = process.communicate(timeout=120)
    assert process.returncode == -sig, err
    assert "NOT INTERRUPTED" not in out
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "interrupted"
    assert record["problems"] == [
        f"drill interrupted ({'SIGTERM' if sig == signal.SIGTERM else 'Ctrl-C'}); the sandbox was torn down"
    ]
    assert record["teardown_problems"] == []
    assert not workdir.exists()  # and the work_dir fixture finds no server of it


def test_daily_and_drill_run_as_an_operator_runs_them_without_showing_secrets(
    run_checks: Callable[..., RunResult], live_stanza: LiveStanza, tmp_path: Path, work_dir: Path
) -> None:
    """`pytest -m "daily or dr"`: the check (live_url's password from a ${VAR}) and the drill pass; neither
    the password nor PGBACKREST_REPO1_CIPHER_PASS appears in the output, the reports or the state."""
    password, cipher = "canary-live-pw-24", "canary-cipher-pass-24"
    live_url = f"postgresql://postgres:${{LIVE_PW}}@127.0.0.1:{live_stanza.port}/postgres"
    result = run_checks(
        f"""target: prod
backups:
  db:
    pgbackrest:
      stanza: {STANZA}
      config: {live_stanza.config}
      verify: false
      live_url: "{live_url}"
      work_dir: {work_dir}
    restore:
      expect: {{tables: [events], min_rows: {{events: 5}}}}
""",
        "-m",
        "daily or dr",
        "-rA",
        env={"LIVE_PW": password, "PGBACKREST_REPO1_CIPHER_PASS": cipher},
        timeout=600,
    )
    assert result.returncode == 0, result.output
    assert "2 passed" in result.output
    written = result.output + "\n".join(
        p.read_text(errors="replace") for p in (tmp_path / "reports").rglob("*") if p.is_file()
    )
    assert password not in written
    assert cipher not in written


def test_target_time_past_the_archives_end_is_named_with_the_fix(
    live_stanza: LiveStanza, tmp_path: Path, work_dir: Path
) -> None:
    facts, problems = drill(tmp_path, live_stanza, work_dir, target_time="2099-01-01 00:00:00+00")
    assert len(problems) == 1, facts.evidence()
    assert "the WAL archive ends before pgbackrest.target_time: choose an earlier time" in problems[0]
    assert facts.teardown_problems == []
