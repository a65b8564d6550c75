"""Each limit of the daily backup check at its edge: equal, one unit inside, one unit outside.

`max_age` and `retention.max_age` are "at most": a backup exactly that old passes, one second older fails.
`min_size`, `retention.min_count`, `min_files`, `min_items` are "at least": equal passes, one fewer fails.
`max_shrink_pct` / `max_growth_pct` are "at most": a change of exactly the limit passes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsverify.backups.files import BackupFile
from opsverify.backups.formats import Detected
from opsverify.backups.integrity import Inspection
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.verdict import judge
from opsverify.problem import Problem

NOW = 1_800_000_000.0
HOUR = 3600.0
FOLDER = Path("/var/backups/db")


def entry(**keys: Any) -> BackupCheck:
    return BackupCheck.model_validate({"path": str(FOLDER), "pattern": "backup_*.sql.gz", **keys})


def backup(name: str, age_seconds: float = HOUR, size: int = 2_000_000) -> BackupFile:
    return BackupFile(FOLDER / name, size, NOW - age_seconds)


def facts(*files: BackupFile, inspection: Inspection | None = None) -> BackupFacts:
    return BackupFacts(FOLDER, "backup_*.sql.gz", NOW, list(files), inspection=inspection)


def problems(check: BackupCheck, found: BackupFacts) -> list[Problem]:
    return judge(check, found).problems


@pytest.mark.parametrize(
    ("age", "fails"),
    [
        (26 * HOUR - 1, False),
        (26 * HOUR, False),
        (26 * HOUR + 1, True),
        (25 * HOUR, False),
        (27 * HOUR, True),
    ],
)
def test_max_age_is_at_most_the_limit(age: float, fails: bool) -> None:
    found = problems(entry(max_age="26h"), facts(backup("backup_1.sql.gz", age)))
    if fails:
        assert [(p.subject, p.expected) for p in found] == [
            ("newest backup backup_1.sql.gz", "at most 26h old (max_age, the RPO gate)")
        ]
    else:
        assert found == []


@pytest.mark.parametrize(("size", "fails"), [(999_999, True), (1_000_000, False), (1_000_001, False)])
def test_min_size_is_at_least_the_limit(size: int, fails: bool) -> None:
    found = problems(entry(min_size="1MB"), facts(backup("backup_1.sql.gz", size=size)))
    if fails:
        assert found == [
            Problem(
                "newest backup backup_1.sql.gz",
                "1000.0KB",
                "at least 1.0MB (min_size)",
                "the dump is smaller than any real one",
            )
        ]
    else:
        assert found == []


def history(newest_size: int, *earlier: int) -> BackupFacts:
    files = [backup("backup_9.sql.gz", size=newest_size)]
    files += [backup(f"backup_{i}.sql.gz", HOUR * (i + 2), size) for i, size in enumerate(earlier)]
    return facts(*files)


@pytest.mark.parametrize(
    ("size", "fails"), [(799, True), (800, False), (801, False), (790, True), (810, False)]
)
def test_max_shrink_pct_is_at_most_the_limit(size: int, fails: bool) -> None:
    """20 % of a 1000-byte median: 800 bytes is exactly 20 % smaller and passes; 799 fails."""
    found = problems(entry(max_shrink_pct=20), history(size, 1000, 1000, 1000))
    if fails:
        (problem,) = found
        assert problem.expected == "at most 20% smaller (max_shrink_pct)"
        assert problem.found.endswith("smaller than the median of the previous 3 backups (1.0KB)")
    else:
        assert found == []


@pytest.mark.parametrize(
    ("size", "fails"), [(1199, False), (1200, False), (1201, True), (1190, False), (1210, True)]
)
def test_max_growth_pct_is_at_most_the_limit(size: int, fails: bool) -> None:
    found = problems(entry(max_growth_pct=20), history(size, 1000))
    if fails:
        (problem,) = found
        assert problem.expected == "at most 20% larger (max_growth_pct)"
        assert problem.found.endswith("larger than the previous one backup_0.sql.gz (1.0KB)")
    else:
        assert found == []


def test_the_median_of_an_even_history_is_the_mean_of_the_middle_two() -> None:
    """Previous sizes 900 and 1100: the median is 1000, so 800 is exactly 20 % smaller and passes."""
    assert problems(entry(max_shrink_pct=20), history(800, 900, 1100)) == []
    assert len(problems(entry(max_shrink_pct=20), history(799, 900, 1100))) == 1


@pytest.mark.parametrize(("count", "fails"), [(2, True), (3, False), (4, False)])
def test_retention_min_count_is_at_least_the_limit(count: int, fails: bool) -> None:
    files = [backup(f"backup_{i}.sql.gz", HOUR * (i + 1)) for i in range(count)]
    found = problems(entry(retention={"min_count": 3}), facts(*files))
    if fails:
        assert found == [
            Problem(
                f"backups matching backup_*.sql.gz in {FOLDER}",
                str(count),
                "at least 3 (retention.min_count)",
                "older backups were deleted too early",
            )
        ]
    else:
        assert found == []


@pytest.mark.parametrize(
    ("age", "fails"), [(7 * 24 * HOUR - 1, False), (7 * 24 * HOUR, False), (7 * 24 * HOUR + 1, True)]
)
def test_retention_max_age_is_at_most_the_limit(age: float, fails: bool) -> None:
    found = problems(
        entry(retention={"max_age": "7d"}), facts(backup("backup_2.sql.gz"), backup("backup_1.sql.gz", age))
    )
    if fails:
        assert [(p.subject, p.expected, p.fix) for p in found] == [
            (
                "oldest backup backup_1.sql.gz",
                "at most 7d old (retention.max_age)",
                "old backups are not being pruned",
            )
        ]
    else:
        assert found == []


def tar(files: int) -> Inspection:
    return Inspection("tar-gz", Detected("tar", gzip=True), files=files, members=files)


@pytest.mark.parametrize(("files", "fails"), [(9, True), (10, False), (11, False)])
def test_min_files_is_at_least_the_limit(files: int, fails: bool) -> None:
    check = entry(pattern="*.tar.gz", min_files=10)
    found = problems(check, facts(backup("site.tar.gz"), inspection=tar(files)))
    if fails:
        assert found == [Problem("site.tar.gz", "9 files in the archive", "at least 10 files (min_files)")]
    else:
        assert found == []


def document(items: int | None) -> Inspection:
    return Inspection("json", Detected("json"), items=items)


@pytest.mark.parametrize(("items", "fails"), [(99, True), (100, False), (101, False)])
def test_min_items_is_at_least_the_limit(items: int, fails: bool) -> None:
    check = entry(pattern="*.json", min_items=100, items_path="$.users")
    found = problems(check, facts(backup("users.json"), inspection=document(items)))
    if fails:
        assert found == [
            Problem(
                "users.json", "99 items at $.users in the JSON document", "at least 100 items (min_items)"
            )
        ]
    else:
        assert found == []


def test_a_zero_or_one_byte_median_is_judged_without_dividing_by_zero() -> None:
    """Earlier backups of 0 bytes give no baseline (no division by zero); a 1-byte median is a baseline."""
    assert problems(entry(max_shrink_pct=20), history(100, 0, 0)) == []
    (problem,) = problems(entry(max_shrink_pct=20), history(0, 1, 1))
    assert problem.found == "0B, 100% smaller than the median of the previous 2 backups (1B)"


def mysql_dump(*databases: str) -> Inspection:
    detected = Detected("mysql-plain", gzip=True)
    return Inspection("mysql-plain-gz", detected, create_tables=1, inserts=1, databases=list(databases))


@pytest.mark.parametrize(
    ("databases", "found"),
    [(["crm", "audit"], "a dump of another database: crm, audit"),
     ([], "a dump of another database: no database named in the dump")],
)  # fmt: skip
def test_expect_database_names_what_the_dump_holds(databases: list[str], found: str) -> None:
    check = entry(pattern="*.sql.gz", expect_database="shop")
    (problem,) = problems(check, facts(backup("shop.sql.gz"), inspection=mysql_dump(*databases)))
    assert (problem.subject, problem.found) == ("shop.sql.gz", found)
    assert problems(check, facts(backup("shop.sql.gz"), inspection=mysql_dump("crm", "shop"))) == []


def test_a_json_document_without_items_has_zero_and_no_path_is_named_without_one() -> None:
    check = entry(pattern="*.json", min_items=1)
    assert problems(check, facts(backup("users.json"), inspection=document(None))) == [
        Problem("users.json", "0 items in the JSON document", "at least 1 item (min_items)")
    ]


@pytest.mark.parametrize(
    ("age", "fails"), [(30 * 24 * HOUR - 1, True), (30 * 24 * HOUR, False), (30 * 24 * HOUR + 1, False)]
)
def test_retention_min_age_is_at_least_the_limit(age: float, fails: bool) -> None:
    """The oldest backup must be at least `min_age` old: exactly 30 d passes, one second younger fails."""
    found = problems(
        entry(retention={"min_age": "30d"}), facts(backup("backup_2.sql.gz"), backup("backup_1.sql.gz", age))
    )
    if fails:
        assert [(p.subject, p.expected) for p in found] == [
            ("oldest backup backup_1.sql.gz", "at least 30d old (retention.min_age)")
        ]
    else:
        assert found == []


def daily(*gaps_hours: float) -> BackupFacts:
    """Backups, newest first, each `gap` hours older than the one before it."""
    ages = [HOUR]
    for gap in gaps_hours:
        ages.append(ages[-1] + gap * HOUR)
    return facts(*(backup(f"backup_{len(ages) - i}.sql.gz", age) for i, age in enumerate(ages)))


@pytest.mark.parametrize(
    ("gap", "fails"),
    [(25.0, False), (26.0 - 1 / 3600, False), (26.0, False), (26.0 + 1 / 3600, True), (27.0, True)],
)
def test_retention_max_gap_is_at_most_the_limit(gap: float, fails: bool) -> None:
    """Consecutive backups exactly `max_gap` apart pass; one second more fails."""
    found = problems(entry(retention={"max_gap": "26h"}), daily(24, gap, 24))
    if fails:
        (problem,) = found
        assert problem.expected == "consecutive backups at most 26h apart (retention.max_gap)"
        assert problem.found.startswith("1 gap wider than 26h, the widest ")
        assert problem.found.endswith("between backup_2.sql.gz and backup_3.sql.gz")
    else:
        assert found == []


def test_max_gap_names_three_gaps_and_counts_the_rest() -> None:
    (problem,) = problems(entry(retention={"max_gap": "1d"}), daily(30, 48, 30, 30))
    assert problem.found == (
        "4 gaps wider than 24h, the widest 2d: 30h between backup_4.sql.gz and backup_5.sql.gz; "
        "2d between backup_3.sql.gz and backup_4.sql.gz; 30h between backup_2.sql.gz and backup_3.sql.gz (+1 more)"
    )


def test_three_equal_gaps_are_all_named_without_a_count() -> None:
    (problem,) = problems(entry(retention={"max_gap": "1d"}), daily(30, 30, 30))
    assert problem == Problem(
        f"backups matching backup_*.sql.gz in {FOLDER}",
        "3 gaps wider than 24h, the widest 30h: 30h between backup_3.sql.gz and backup_4.sql.gz; "
        "30h between backup_2.sql.gz and backup_3.sql.gz; 30h between backup_1.sql.gz and backup_2.sql.gz",
        "consecutive backups at most 24h apart (retention.max_gap)",
        "backups are missing in between: did the job fail on those days, or were they deleted?",
    )


def test_min_age_looks_at_the_oldest_of_three_and_keeps_the_other_retention_problems() -> None:
    """The oldest backup is the last of the listing; a gap problem comes beside min_count's, not instead."""
    check = entry(retention={"min_count": 5, "min_age": "30d", "max_gap": "26h"})
    found = problems(check, daily(24, 48))
    assert found == [
        Problem(
            f"backups matching backup_*.sql.gz in {FOLDER}",
            "3",
            "at least 5 (retention.min_count)",
            "older backups were deleted too early",
        ),
        Problem(
            "oldest backup backup_1.sql.gz",
            "3d old",
            "at least 30d old (retention.min_age)",
            "older backups were deleted too early: check the pruning job or the lifecycle rule",
        ),
        Problem(
            f"backups matching backup_*.sql.gz in {FOLDER}",
            "1 gap wider than 26h, the widest 2d: 2d between backup_1.sql.gz and backup_2.sql.gz",
            "consecutive backups at most 26h apart (retention.max_gap)",
            "backups are missing in between: did the job fail on those days, or were they deleted?",
        ),
    ]
