"""Counts read as English: `1 check`, `2 checks`, never `1 lines` or `file(s)` (one helper, `plural`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.host.facts import HostFacts
from opsverify.kinds.host.model import CpuCheck, LoadCheck
from opsverify.kinds.host.verdict import judge as judge_host
from opsverify.kinds.logs.model import LogsCheck
from opsverify.kinds.logs.probe import probe as probe_logs
from opsverify.kinds.logs.verdict import judge as judge_logs
from opsverify.kinds.tls.model import TlsCheck
from opsverify.report.summary import CheckResult, RunSummary
from opsverify.report.terminal import summary_lines
from opsverify.units import plural


@pytest.mark.parametrize(
    ("count", "word", "expected"),
    [
        (1, "check", "1 check"),
        (2, "check", "2 checks"),
        (0, "file", "0 files"),
        (1, "entry", "1 entry"),
        (3, "other entry", "3 other entries"),
        (2, "day", "2 days"),
        (2, "match", "2 matches"),
        (1, "series", "1 series"),
        (4, "series", "4 series"),
        (1.0, "observation", "1 observation"),
        (2.5, "day", "2.5 days"),
    ],
)
def test_plural(count: float, word: str, expected: str) -> None:
    assert plural(count, word) == expected


def test_one_matching_line_in_one_file_is_singular(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("2026-01-01T00:00:00Z ERROR boom\n")
    entry = LogsCheck.model_validate({"path": "app.log", "level": "ERROR"})
    facts = probe_logs(entry, ProbeContext("test", tmp_path))
    (problem,) = [p.text for p in judge_logs(entry, facts).problems]
    assert (
        problem
        == "matching lines: expected at most 0, got 1 line of level ERROR or above in the whole files in 1 file"
    )
    assert "scanned 1 file, 1 line in " in facts.evidence()
    assert "(s)" not in problem + facts.evidence()


def test_singular_counts_in_other_messages() -> None:
    tls = TlsCheck.model_validate({"host": "example.com", "min_days_left": 1})
    assert tls.thresholds() == [">= 1 day left"]
    busy = HostFacts("load", "load", load=3.4, cores=1, per_core=3.4)
    (load,) = [p.text for p in judge_host(LoadCheck(max_per_core=1), busy).problems]
    assert "per core on 1 core; see" in load
    (cpu,) = [
        p.text
        for p in judge_host(CpuCheck(max_used_pct=50), HostFacts("cpu", "cpu", used_pct=90, cores=1)).problems
    ]
    assert " on 1 core; see" in cpu
    backups = BackupCheck.model_validate({"path": "/b", "retention": {"min_count": 1}, "min_files": 1})
    assert ">= 1 backup kept" in backups.thresholds()
    assert ">= 1 file in the archive" in backups.thresholds()


def test_the_terminal_summary_of_one_check_is_singular() -> None:
    summary = RunSummary(run_id="r1", started=100.0, finished=100.1, targets=["api"], tiers=["smoke"])
    summary.results.append(CheckResult(target="api", kind="http", name="health"))
    (head,) = [line.text for line in summary_lines(summary, [], [], [])]
    assert head.startswith("target api [smoke]: 1 check: 1 passed, 0 failed")
