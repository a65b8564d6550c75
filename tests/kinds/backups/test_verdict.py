"""The backups verdict from constructed facts (no files read): each problem it can produce, and a pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsverify.backups.checksum import ChecksumResult
from opsverify.backups.files import BackupFile, Skipped
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


def backup(name: str, age_hours: float = 1.0, size: int = 2_000_000) -> BackupFile:
    return BackupFile(FOLDER / name, size, NOW - age_hours * HOUR)


def good_dump() -> Inspection:
    return Inspection("pg-plain-gz", Detected("pg-plain", gzip=True), create_tables=4, copies=4)


def facts(*files: BackupFile, inspection: Inspection | None = None, **keys: Any) -> BackupFacts:
    return BackupFacts(FOLDER, "backup_*.sql.gz", NOW, list(files), inspection=inspection, **keys)


def texts(problems: list[Problem]) -> list[str]:
    return [problem.text for problem in problems]


def test_fresh_intact_backup_passes_with_its_evidence() -> None:
    judgement = judge(
        entry(max_age="26h", min_size="1MB"), facts(backup("backup_2.sql.gz"), inspection=good_dump())
    )
    assert judgement.problems == []
    assert judgement.passed
    assert judgement.evidence.startswith(f"folder {FOLDER}, pattern backup_*.sql.gz: 1 backup")


def test_probe_error_is_the_only_problem_and_shows_no_evidence() -> None:
    error = f"backup folder {FOLDER} does not exist: is the backup volume mounted, and is `path` right?"
    judgement = judge(entry(max_age="26h"), facts(error=error))
    assert judgement.problems == [Problem("", error)]
    assert judgement.evidence == ""


def test_no_backup_says_what_the_folder_holds() -> None:
    judgement = judge(entry(), facts(other_names=["notes.txt"]))
    (problem,) = texts(judgement.problems)
    assert problem.startswith(f"no backup in {FOLDER} matches backup_*.sql.gz (it holds 1 other entry")
    assert judgement.evidence == ""  # no "0 backups" under it


def test_stale_newest_backup_is_the_rpo_gate() -> None:
    stale = facts(
        backup("backup_1.sql.gz", age_hours=31.2), in_progress=[Skipped("backup_2.sql.gz.tmp", "*.tmp")]
    )
    (problem,) = judge(entry(max_age="26h"), stale).problems
    assert problem == Problem(
        "newest backup backup_1.sql.gz",
        "31.2h old; ignored as incomplete: backup_2.sql.gz.tmp (*.tmp)",
        "at most 26h old (max_age, the RPO gate)",
        "is the backup job running? check its schedule and log",
    )


def test_too_small() -> None:
    (problem,) = texts(judge(entry(min_size="1MB"), facts(backup("backup_1.sql.gz", size=3_400))).problems)
    assert problem == (
        "newest backup backup_1.sql.gz: expected at least 1.0MB (min_size), got 3.4KB; "
        "the dump is smaller than any real one"
    )


def test_shrunk_against_the_previous_backup() -> None:
    shrunk = facts(backup("backup_2.sql.gz", 1, size=400_000), backup("backup_1.sql.gz", 25, size=2_000_000))
    (problem,) = texts(judge(entry(), shrunk).problems)
    assert problem == (
        "newest backup backup_2.sql.gz: expected at most 50% smaller (max_shrink_pct), got 400.0KB, 80% "
        "smaller than the previous one backup_1.sql.gz (2.0MB); was data deleted, or was the dump cut short?"
    )
    assert judge(entry(max_shrink_pct=100), shrunk).problems == []


def test_shrink_and_growth_against_the_median_of_the_last_backups() -> None:
    sizes = [
        1_000_000,
        2_000_000,
        2_100_000,
        1_900_000,
        2_050_000,
        9_000_000,
        8_000_000,
    ]  # previous, newest first
    history = [backup(f"backup_{9 - i}.sql.gz", 25 * (i + 1), size=size) for i, size in enumerate(sizes)]

    def with_newest(size: int) -> BackupFacts:
        return facts(backup("backup_10.sql.gz", 1, size=size), *history)

    # the previous backup alone (1MB) would call 0.9MB fine; the median of the last 5 (2.0MB) does not
    (problem,) = texts(judge(entry(), with_newest(900_000)).problems)
    assert problem == (
        "newest backup backup_10.sql.gz: expected at most 50% smaller (max_shrink_pct), got 900.0KB, 55% "
        "smaller than the median of the previous 5 backups (2.0MB); was data deleted, or was the dump cut short?"
    )
    assert judge(entry(), with_newest(1_100_000)).problems == []
    # size_history: 7 takes the two old 8-9MB backups in: the median is 2.05MB
    (problem,) = texts(judge(entry(size_history=7, max_shrink_pct=40), with_newest(1_100_000)).problems)
    assert "46.3% smaller than the median of the previous 7 backups (2.0MB)" in problem
    # growth: off by default, then against the same median
    assert judge(entry(), with_newest(6_000_000)).problems == []
    (problem,) = texts(judge(entry(max_growth_pct=100), with_newest(6_000_000)).problems)
    assert problem == (
        "newest backup backup_10.sql.gz: expected at most 100% larger (max_growth_pct), got 6.0MB, 200% larger "
        "than the median of the previous 5 backups (2.0MB); did the dump pick up another database, "
        "duplicated data or a debug table?"
    )
    assert judge(entry(max_growth_pct=250), with_newest(6_000_000)).problems == []
    # one backup only: nothing to compare with
    assert judge(entry(max_growth_pct=1), facts(backup("backup_1.sql.gz", 1, size=5))).problems == []


def test_retention_count_and_pruning() -> None:
    kept = facts(backup("backup_2.sql.gz", 1), backup("backup_1.sql.gz", 50))
    problems = texts(judge(entry(retention={"min_count": 7, "max_age": "36h"}), kept).problems)
    assert problems == [
        f"backups matching backup_*.sql.gz in {FOLDER}: expected at least 7 (retention.min_count), got 2; "
        "older backups were deleted too early",
        "oldest backup backup_1.sql.gz: expected at most 36h old (retention.max_age), got 2.1d old; "
        "old backups are not being pruned",
    ]


def test_changed_while_read() -> None:
    changed = "newest backup backup_1.sql.gz changed while it was being checked (1.0KB -> 2.0KB)"
    result = facts(backup("backup_1.sql.gz"), changed_during_check=changed)
    assert judge(entry(), result).problems == [Problem("", changed)]


def test_format_defects_name_the_file() -> None:
    broken = Inspection("pg-plain-gz", Detected("pg-plain", gzip=True), defects=["gzip stream is truncated"])
    (problem,) = texts(judge(entry(), facts(backup("backup_1.sql.gz"), inspection=broken)).problems)
    assert problem == "backup_1.sql.gz: gzip stream is truncated"


def test_schema_only_dump() -> None:
    schema = Inspection("pg-plain", Detected("pg-plain"), create_tables=4)
    result = facts(backup("backup_1.sql"), inspection=schema)
    (problem,) = texts(judge(entry(), result).problems)
    assert problem == (
        "backup_1.sql: schema-only dump: 4 CREATE TABLE but no COPY or INSERT data (made with pg_dump "
        "--schema-only?); dump the data too, or set allow_schema_only: true"
    )
    assert judge(entry(allow_schema_only=True), result).problems == []


def test_archive_with_too_few_files() -> None:
    archive = Inspection("tar (gzip)", Detected("tar", gzip=True), files=5)
    (problem,) = texts(
        judge(entry(min_files=10), facts(backup("uploads.tar.gz"), inspection=archive)).problems
    )
    assert problem == "uploads.tar.gz: expected at least 10 files (min_files), got 5 files in the archive"


def test_json_document_with_too_few_items() -> None:
    document = Inspection("json", Detected("json"), items=20)
    result = facts(backup("export.json"), inspection=document)
    (problem,) = texts(judge(entry(min_items=100, items_path="vectors"), result).problems)
    assert (
        problem
        == "export.json: expected at least 100 items (min_items), got 20 items at vectors in the JSON document"
    )


@pytest.mark.parametrize(
    ("checksum", "required", "expected"),
    [
        (
            ChecksumResult(None),
            "required",
            "backup_1.sql.gz: checksum: required, but there is no .sha256 sidecar",
        ),
        (
            ChecksumResult(FOLDER / "backup_1.sql.gz.sha256", {"": "a" * 64}, {"": "b" * 64}),
            "auto",
            "backup_1.sql.gz: sha256 mismatch: backup_1.sql.gz.sha256 says aaaaaaaaaaaaaaaa…",
        ),
    ],
)
def test_checksum_problems(checksum: ChecksumResult, required: str, expected: str) -> None:
    result = facts(backup("backup_1.sql.gz"), inspection=good_dump(), checksum=checksum)
    (problem,) = texts(judge(entry(checksum=required), result).problems)
    assert problem.startswith(expected)


def test_several_problems_keep_their_order() -> None:
    result = facts(backup("backup_1.sql.gz", age_hours=30, size=10), inspection=good_dump())
    problems = judge(entry(max_age="26h", min_size="1KB"), result).problems
    assert [p.expected for p in problems] == [
        "at most 26h old (max_age, the RPO gate)",
        "at least 1.0KB (min_size)",
    ]
