"""retention.max_gap and retention.min_age, at the limit, just inside and just outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsverify.backups.files import BackupFile
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.verdict import backup_problems

NOW, DAY = 1_800_000_000.0, 86_400.0


def facts(ages_days: list[float]) -> BackupFacts:
    files = [BackupFile(Path(f"/b/backup-{i}.sql"), 100, NOW - age * DAY) for i, age in enumerate(ages_days)]
    return BackupFacts(Path("/b"), "backup-*.sql", checked_at=NOW, files=files)


def problems(retention: dict[str, str], ages: list[float]) -> list[str]:
    entry = BackupCheck.model_validate({"path": "/b", "retention": retention, "max_shrink_pct": 100})
    return [problem.text for problem in backup_problems(entry, facts(ages))]


@pytest.mark.parametrize(("gap", "failing"), [(7.0, False), (8.0, False), (8.001, True)])
def test_max_gap(gap: float, failing: bool) -> None:
    found = problems({"max_gap": "8d"}, [1, 1 + gap, 8 + gap])  # the second gap is 7 days
    assert bool(found) is failing
    if failing:
        assert found[0].startswith(
            "backups matching backup-*.sql in /b: expected consecutive backups at most 8d apart"
        )
        assert "1 gap wider than 8d, the widest 8d: 8d between backup-1.sql and backup-0.sql" in found[0]


@pytest.mark.parametrize(("oldest", "failing"), [(84.0, False), (83.0, False), (82.99, True)])
def test_min_age(oldest: float, failing: bool) -> None:
    found = problems({"min_age": "83d"}, [1, oldest])
    assert bool(found) is failing
    if failing:
        assert found[0].startswith(
            "oldest backup backup-1.sql: expected at least 83d old (retention.min_age)"
        )


def test_gaps_listed_widest_named() -> None:
    (found,) = problems({"max_gap": "8d"}, [1, 10, 20, 40, 50])
    assert "4 gaps wider than 8d, the widest 20d:" in found
    assert found.count(" between ") == 3  # the first three, then how many more
    assert "(+1 more)" in found
