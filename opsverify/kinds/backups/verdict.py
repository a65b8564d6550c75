"""The daily backup verdict: what about the backups contradicts the entry (freshness, size, retention, integrity).

`integrity_problems` (format, contents, checksum of the newest backup) is shared with the restore drill.
"""

from __future__ import annotations

from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.model import BackupCheck
from opsverify.problem import Judgement, Problem
from opsverify.units import format_size, human_duration, plural


def judge(entry: BackupCheck, facts: BackupFacts, rule: str | None = None) -> Judgement:
    """Problems with the backups of `entry`; the evidence (the folder's listing) when a backup was found."""
    problems = backup_problems(entry, facts)
    found = facts.error is None and facts.newest is not None
    # No backup found: the problem already says so (and what the folder holds); no "0 backups" below it.
    return Judgement(problems, facts.evidence() if found else "")


def backup_problems(entry: BackupCheck, facts: BackupFacts) -> list[Problem]:
    """Everything the daily check enforces, in the order an operator fixes it."""
    if facts.error:
        return [Problem("", facts.error)]
    newest = facts.newest
    if newest is None:
        return [Problem("", facts.describe_empty())]
    subject = f"newest backup {newest.name}"
    problems: list[Problem] = []
    age = facts.checked_at - newest.mtime
    if entry.max_age is not None and age > entry.max_age:
        problems.append(
            Problem(
                subject,
                f"{human_duration(age)} old{facts.in_progress_note()}",
                f"at most {human_duration(entry.max_age)} old (max_age, the RPO gate)",
                "is the backup job running? check its schedule and log",
            )
        )
    if entry.min_size is not None and newest.size < entry.min_size:
        problems.append(
            Problem(
                subject,
                format_size(newest.size),
                f"at least {format_size(entry.min_size)} (min_size)",
                "the dump is smaller than any real one",
            )
        )
    problems += _size_change_problems(entry, facts, subject)
    problems += _retention_problems(entry, facts)
    if facts.changed_during_check:
        problems.append(Problem("", facts.changed_during_check))
    problems += integrity_problems(entry, facts)
    return problems


def _size_change_problems(entry: BackupCheck, facts: BackupFacts, subject: str) -> list[Problem]:
    """max_shrink_pct / max_growth_pct: the newest backup's size against the median of the previous ones.

    The baseline is the folder's own files (the `size_history` backups before the newest), not the state
    store: each backup counts once whatever how often the check ran, it needs no state (a fresh CI runner
    has the same answer), and it judges the files as they are now.
    """
    newest = facts.newest
    baseline = facts.size_baseline(entry.size_history)
    if newest is None or baseline is None or baseline[0] <= 0:
        return []
    median, earlier = baseline
    if len(earlier) == 1:
        against = f"the previous one {earlier[0].name} ({format_size(median)})"
    else:
        against = f"the median of the previous {len(earlier)} backups ({format_size(median)})"
    change = 100.0 * (newest.size - median) / median
    if -change > entry.max_shrink_pct:
        return [
            Problem(
                subject,
                f"{format_size(newest.size)}, {_percent(-change)} smaller than {against}",
                f"at most {entry.max_shrink_pct:g}% smaller (max_shrink_pct)",
                "was data deleted, or was the dump cut short?",
            )
        ]
    if entry.max_growth_pct is not None and change > entry.max_growth_pct:
        return [
            Problem(
                subject,
                f"{format_size(newest.size)}, {_percent(change)} larger than {against}",
                f"at most {entry.max_growth_pct:g}% larger (max_growth_pct)",
                "did the dump pick up another database, duplicated data or a debug table?",
            )
        ]
    return []


def _percent(value: float) -> str:
    """`35%`, `20.1%`: one decimal where it shows that a change just over a whole-percent limit is over it."""
    return f"{value:.1f}".removesuffix(".0") + "%"


def _retention_problems(entry: BackupCheck, facts: BackupFacts) -> list[Problem]:
    retention = entry.retention
    if retention is None:
        return []
    problems = []
    count = len(facts.files)
    if retention.min_count is not None and count < retention.min_count:
        problems.append(
            Problem(
                f"backups matching {entry.pattern} in {entry.path}",
                str(count),
                f"at least {retention.min_count} (retention.min_count)",
                "older backups were deleted too early",
            )
        )
    oldest = facts.files[-1] if facts.files else None
    if oldest is not None and retention.max_age is not None:
        age = facts.checked_at - oldest.mtime
        if age > retention.max_age:
            problems.append(
                Problem(
                    f"oldest backup {oldest.name}",
                    f"{human_duration(age)} old",
                    f"at most {human_duration(retention.max_age)} old (retention.max_age)",
                    "old backups are not being pruned",
                )
            )
    if oldest is not None and retention.min_age is not None:
        age = facts.checked_at - oldest.mtime
        if age < retention.min_age:
            problems.append(
                Problem(
                    f"oldest backup {oldest.name}",
                    f"{human_duration(age)} old",
                    f"at least {human_duration(retention.min_age)} old (retention.min_age)",
                    "older backups were deleted too early: check the pruning job or the lifecycle rule",
                )
            )
    if retention.max_gap is not None:
        problems += _gap_problems(facts, retention.max_gap)
    return problems


def _gap_problems(facts: BackupFacts, max_gap: float) -> list[Problem]:
    """retention.max_gap: consecutive backups (by modification time) at most `max_gap` apart."""
    gaps = [
        (newer.mtime - older.mtime, older, newer)
        for newer, older in zip(facts.files, facts.files[1:], strict=False)
        if newer.mtime - older.mtime > max_gap
    ]
    if not gaps:
        return []
    widest = max(gaps, key=lambda gap: gap[0])
    shown = "; ".join(
        f"{human_duration(gap)} between {old.name} and {new.name}" for gap, old, new in gaps[:3]
    )
    more = f" (+{len(gaps) - 3} more)" if len(gaps) > 3 else ""
    return [
        Problem(
            f"backups matching {facts.pattern} in {facts.place}",
            f"{plural(len(gaps), 'gap')} wider than {human_duration(max_gap)}, the widest "
            f"{human_duration(widest[0])}: {shown}{more}",
            f"consecutive backups at most {human_duration(max_gap)} apart (retention.max_gap)",
            "backups are missing in between: did the job fail on those days, or were they deleted?",
        )
    ]


def integrity_problems(entry: BackupCheck, facts: BackupFacts) -> list[Problem]:
    """Format, contents and checksum problems of the newest backup (the daily check and the drill)."""
    inspection, newest = facts.inspection, facts.newest
    if inspection is None or newest is None:
        return []
    name = newest.name
    problems = [Problem(name, defect) for defect in inspection.defects]
    if not inspection.defects:
        problems += _content_problems(entry, facts, name)
    if facts.checksum is not None:
        problems += [
            Problem(name, problem)
            for problem in facts.checksum.problems(required=entry.checksum == "required")
        ]
    return problems


def _content_problems(entry: BackupCheck, facts: BackupFacts, name: str) -> list[Problem]:
    inspection = facts.inspection
    assert inspection is not None
    problems = []
    mysql = inspection.kind == "mysql-plain"
    if inspection.is_sql and not entry.allow_schema_only and inspection.data_sections == 0:
        how = (
            "INSERT data (made with mysqldump --no-data?)"
            if mysql
            else "COPY or INSERT data (made with pg_dump --schema-only?)"
        )
        problems.append(
            Problem(
                name,
                f"schema-only dump: {inspection.create_tables} CREATE TABLE but no {how}",
                fix="dump the data too, or set allow_schema_only: true",
            )
        )
    if mysql and entry.expect_database is not None and entry.expect_database not in inspection.databases:
        found = ", ".join(inspection.databases) or "no database named in the dump"
        problems.append(
            Problem(
                name,
                f"a dump of another database: {found}",
                f"a dump of {entry.expect_database} (expect_database)",
                fix="the backup job dumps the wrong database: check the database name in its command",
            )
        )
    if inspection.kind == "tar" and entry.min_files is not None and inspection.files < entry.min_files:
        problems.append(
            Problem(
                name,
                f"{plural(inspection.files, 'file')} in the archive",
                f"at least {plural(entry.min_files, 'file')} (min_files)",
            )
        )
    items = inspection.items or 0
    if inspection.format == "json" and entry.min_items is not None and items < entry.min_items:
        where = f" at {entry.items_path}" if entry.items_path else ""
        problems.append(
            Problem(
                name,
                f"{plural(items, 'item')}{where} in the JSON document",
                f"at least {plural(entry.min_items, 'item')} (min_items)",
            )
        )
    return problems
