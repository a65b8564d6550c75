"""Drill evidence in the state store, and `opsverify evidence`: the page in a real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from opsverify.cli import main
from opsverify.state.model import DrillRecord
from opsverify.state.store import DB_NAME, SqliteStore, StateStore, open_store
from tests.report.test_browser import CHROMIUM_FLAGS, chromium

CANARY = "s3cr3t-canary-7f3a"
DAY = 86400.0


def record(
    started: float, rto: float | None, lag: float | None, verdict: str = "passed", **more: Any
) -> dict[str, Any]:
    """A drill's evidence record as opsverify/kinds/restore/probe.py writes it."""
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(started)),
        "started": started,
        "host": "runner-1",
        "target": "prod",
        "entry": "db-nightly",
        "file": "/backups/backup_20261101_020000.sql.gz",
        "format": "pg-plain-gz",
        "size": 48_213_377,
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "backup_time": "2026-11-01T02:00:00+00:00",
        "backup_age_s": 3600.0,
        "sandbox": "url",
        "sandbox_detail": "PostgreSQL 16 at 127.0.0.1:5432",
        "database": "opsverify_drill_abc",
        "steps": {"find": 0.01, "integrity": 0.4, "sandbox": 0.2, "restore": 41.5, "verify": 1.2},
        "restore_program": "psql",
        "tables_checked": 3,
        "rows_checked": 3400,
        "row_counts": {"bookings": 3000, "clients": 400},
        "data_lag_s": lag,
        "rpo_target_s": 93600.0,
        "rto_s": rto,
        "rto_target_s": 14400.0,
        "verdict": verdict,
        "problems": [] if verdict == "passed" else ["RTO: expected at most 4h, got 5h"],
        **more,
    }


def fill(store: StateStore, now: float) -> list[DrillRecord]:
    """Five nightly drills of db-nightly over five days (the oldest 100 days ago), and one of files."""
    drills = [
        DrillRecord(f"run-{i}", "prod", "restore:db-nightly", started, record(started, rto, lag, verdict))
        for i, (started, rto, lag, verdict) in enumerate(
            [
                (now - 100 * DAY, 2400.0, 3000.0, "passed"),
                (now - 4 * DAY, 2520.0, 3100.0, "passed"),
                (now - 3 * DAY, 18000.0, 3300.0, "failed"),
                (now - 2 * DAY, 2710.0, 3500.0, "passed"),
                (now - 1 * DAY, 2833.5, 3725.0, "passed"),
            ]
        )
    ]
    drills.append(
        DrillRecord(
            "run-4",
            "prod",
            "restore:uploads",
            now - DAY + 5,
            record(now - DAY + 5, 12.0, None, entry="uploads", file="/b/uploads.tar.gz", rpo_target_s=None),
        )
    )
    for drill in drills:
        store.record_drills(drill.run_id, "prod", [drill])
    store.record_drills(
        "run-x", "staging", [DrillRecord("run-x", "staging", "restore:db", now, record(now, 1.0, 1.0))]
    )
    return drills


def check_store(store: StateStore) -> None:
    now = time.time()
    fill(store, now)
    everything = store.drills("prod")
    assert [d.started for d in everything] == sorted(d.started for d in everything)
    assert len(everything) == 6
    recent = store.drills("prod", since=now - 30 * DAY)
    assert len(recent) == 5
    assert recent[-2].record["rto_s"] == 2833.5
    assert recent[-2].record["steps"]["restore"] == 41.5
    # recorded twice in one run: the last one is kept
    again = DrillRecord("run-4", "prod", "restore:db-nightly", now - DAY, record(now - DAY, 99.0, 1.0))
    store.record_drills("run-4", "prod", [again])
    assert [d.record["rto_s"] for d in store.drills("prod", since=now - 1.5 * DAY)] == [99.0, 12.0]
    # secrets never reach the store
    leaky = record(now, 1.0, 1.0, sandbox_detail=f"postgresql://drill:{CANARY}@db:5432/x")
    store.record_drills("run-leak", "leak", [DrillRecord("run-leak", "leak", "restore:db", now, leaky)])
    (kept,) = store.drills("leak")
    assert CANARY not in json.dumps(kept.record)


def test_sqlite_store_keeps_drill_evidence(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    assert isinstance(store, SqliteStore)
    check_store(store)
    assert (tmp_path / DB_NAME).is_file()


def test_postgres_store_keeps_drill_evidence(state_pg_url: str, tmp_path: Path) -> None:
    check_store(open_store(state_pg_url, tmp_path))


TARGET = """target: prod
backups:
  db-nightly:
    path: {folder}
    restore: {{sandbox: url, sandbox_url: "postgresql://postgres@127.0.0.1:5432/postgres", rto: 4h}}
"""


def evidence(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, code: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "OPSVERIFY_REPORTS_DIR": str(tmp_path / "reports"),
        "OPSVERIFY_STATE_DIR": str(tmp_path / "reports" / "state"),
        **(env or {}),
    }
    environment.pop("OPSVERIFY_STATE_URL", None) if "OPSVERIFY_STATE_URL" not in (env or {}) else None
    program = ["-c", code] if code else ["-m", "opsverify"]
    return subprocess.run(
        [sys.executable, *program, "evidence", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def prod(tmp_path: Path) -> Path:
    path = tmp_path / "prod.yaml"
    path.write_text(TARGET.format(folder=tmp_path / "backups"))
    return path


def dom_of(page: Path, profile: Path) -> str:
    completed = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def visible(dom: str) -> str:
    text = re.sub(r"<(script|style)[\s\S]*?</\1>", " ", dom)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&"))


def test_evidence_page_renders_in_chromium_with_plots(prod: Path, tmp_path: Path) -> None:
    fill(open_store(None, tmp_path / "reports" / "state"), time.time())
    done = evidence(
        tmp_path, "--target", str(prod), "--since", "90d", "--output", str(tmp_path / "evidence.html")
    )
    assert done.returncode == 0, done.stderr
    assert "wrote " in done.stdout
    assert "5 drills of prod" in done.stdout
    page = tmp_path / "evidence.html"
    source = page.read_text()
    assert not re.findall(r'(?:src|href)="(?!#)([^"]+)"', source)  # loads nothing: no network, no files
    assert "<script" not in source
    dom = dom_of(page, tmp_path / "profile")
    text = visible(dom)
    assert "Restore drill evidence: prod" in text
    # the plots: matplotlib's SVG, inline, with the measured line and the target line and their labels
    plot = re.search(r'<div class="plot" id="plot-rto-restore:db-nightly">([\s\S]*?)</div>', dom)
    assert plot is not None, dom[:3000]
    assert "<svg" in plot.group(1)
    assert plot.group(1).count("<path") >= 5
    assert "target (4 hours)" in visible(plot.group(1))
    assert 'id="plot-rpo-restore:db-nightly"' in dom
    assert 'id="plot-rto-restore:uploads"' in dom
    assert 'id="rpo-restore:uploads"' in dom
    # the newest drill's figures, first in the table of every drill
    newest = re.search(r'<table id="drills">[\s\S]*?</tr>\s*(<tr>[\s\S]*?</tr>)', dom)
    assert newest is not None
    row = visible(newest.group(1))
    assert "restore:db-nightly" not in row  # the uploads drill is the newest (5 s later)
    rows = re.findall(r"<tr>[\s\S]*?</tr>", dom.split('<table id="drills">')[1])
    db_newest = visible(rows[2])
    assert "restore:db-nightly" in db_newest
    assert "47.2m of 4.0h" in db_newest  # RTO 2833.5 s against 4h
    assert "62.1m of 26.0h" in db_newest  # RPO 3725 s against 26h
    assert "integrity: 400ms restore: 41.5s sandbox" not in db_newest  # the steps in the order they ran
    assert "3400" in db_newest
    assert "48.2MB" in db_newest
    assert "9f86d081884c7d65" in db_newest
    assert "restore: 41.5s" in db_newest
    assert "psql" in db_newest
    assert "the 100-day-old drill" not in text
    assert len(rows) == 1 + 5
    assert re.search(r'class="failed">failed<', dom)
    # a screenshot shows something other than a blank page
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'p2'}",
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 20_000


def evidence_here(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`opsverify evidence ARGS` in this process (as `evidence` sets it up): for the refusals and the csv and
    json exports, where no separate process is the point and each would pay the interpreter's start-up."""
    monkeypatch.setenv("OPSVERIFY_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("OPSVERIFY_STATE_DIR", str(tmp_path / "reports" / "state"))
    monkeypatch.delenv("OPSVERIFY_STATE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    try:
        code = main(["evidence", *args])
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(["opsverify", "evidence", *args], code, captured.out, captured.err)


def test_evidence_csv_and_json(
    prod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def evidence(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return evidence_here(monkeypatch, capsys, tmp_path, *args)

    fill(open_store(None, tmp_path / "reports" / "state"), time.time())
    as_json = evidence(tmp_path, "--target", str(prod), "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads((tmp_path / "reports" / "evidence.json").read_text())
    assert data["target"] == "prod"
    assert len(data["drills"]) == 6
    newest = [d for d in data["drills"] if d["check"] == "restore:db-nightly"][-1]
    assert newest["rto_s"] == 2833.5
    assert newest["rto_target_s"] == 14400.0
    assert newest["rpo_s"] == 3725.0
    assert newest["backup_sha256"].startswith("9f86")
    as_csv = evidence(tmp_path, "--target", str(prod), "--output", str(tmp_path / "e.csv"))
    assert as_csv.returncode == 0, as_csv.stderr
    lines = (tmp_path / "e.csv").read_text().splitlines()
    assert lines[0].startswith("time,check,verdict,backup_file,backup_size,backup_sha256")
    assert len(lines) == 7
    assert "restore=41.5" in lines[-2]


def test_evidence_from_the_shared_postgres_store(prod: Path, tmp_path: Path, state_pg_url: str) -> None:
    fill(open_store(state_pg_url, tmp_path / "unused"), time.time())
    done = evidence(tmp_path, "--target", str(prod), env={"OPSVERIFY_STATE_URL": state_pg_url})
    assert done.returncode == 0, done.stderr
    assert "6 drills of prod" in done.stdout
    assert "47.2m of 4.0h" in (tmp_path / "reports" / "evidence.html").read_text()


def test_evidence_bad_input(
    prod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def evidence(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return evidence_here(monkeypatch, capsys, tmp_path, *args)

    unknown = evidence(tmp_path, "--target", "nope", "--targets-dir", str(tmp_path))
    assert unknown.returncode == 4
    assert "nope" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    empty = evidence(tmp_path, "--target", str(prod))
    assert empty.returncode == 1
    assert "no restore drills of prod" in empty.stderr
    assert "restore:db-nightly" in empty.stderr
    assert "nothing was written" in empty.stderr
    assert not (tmp_path / "reports" / "evidence.html").exists()
    bad_since = evidence(tmp_path, "--target", str(prod), "--since", "ninety days")
    assert bad_since.returncode == 2
    assert "--since 'ninety days'" in bad_since.stderr
    assert "90d" in bad_since.stderr
    bad_format = evidence(tmp_path, "--target", str(prod), "--format", "pdf")
    assert bad_format.returncode == 2
    assert "html, csv, json" in bad_format.stderr
    fill(open_store(None, tmp_path / "reports" / "state"), time.time())
    old = evidence(tmp_path, "--target", str(prod), "--since", "1h")
    assert old.returncode == 1
    assert "in the last 1h" in old.stderr
    unwritable = evidence(
        tmp_path, "--target", str(prod), "--output", str(tmp_path / "missing" / "dir" / "e.html")
    )
    assert unwritable.returncode == 1
    assert "cannot write" in unwritable.stderr
    assert "--output" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr


BLOCK_MATPLOTLIB = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("blocked")
sys.meta_path.insert(0, Block())
from opsverify.cli import main
sys.argv[0] = "opsverify"
raise SystemExit(main(sys.argv[1:]))
"""


def test_evidence_without_matplotlib_names_the_extra(prod: Path, tmp_path: Path) -> None:
    fill(open_store(None, tmp_path / "reports" / "state"), time.time())
    done = evidence(tmp_path, "--target", str(prod), code=BLOCK_MATPLOTLIB)
    assert done.returncode == 1
    assert "pip install 'opsverify[evidence]'" in done.stderr
    assert "Traceback" not in done.stderr
    as_json = evidence(tmp_path, "--target", str(prod), "--format", "json", code=BLOCK_MATPLOTLIB)
    assert as_json.returncode == 0, as_json.stderr
