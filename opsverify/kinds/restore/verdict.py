"""The restore drill's verdict: integrity, restore errors, what the restored data holds (`expect`), the RTO.

Query expectations are judged by the one comparator (`opsverify.comparison.compare`), as live postgres
queries are.
"""

from __future__ import annotations

from opsverify.comparison import compare
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.verdict import backup_problems, integrity_problems
from opsverify.kinds.restore.facts import DrillFacts, Verification
from opsverify.kinds.restore.model import RestoreExpect
from opsverify.problem import Judgement, Problem
from opsverify.units import human_duration, plural


def judge(entry: BackupCheck, facts: DrillFacts, rule: str | None = None) -> Judgement:
    """Problems with the drill of `entry`; its evidence (backup, sandbox, steps, restore log) on failure."""
    return Judgement(drill_problems(entry, facts), facts.evidence())


def drill_problems(entry: BackupCheck, facts: DrillFacts) -> list[Problem]:
    """No backup: why; a broken backup or a failed step: that; else the verification and the RTO."""
    backup = facts.backup
    if backup is not None and (backup.error or backup.newest is None):
        return backup_problems(entry, backup)
    problems = []
    if backup is not None and backup.changed_during_check:
        problems.append(
            Problem("", backup.changed_during_check)
        )  # first: what the read found follows from it
    problems += integrity_problems(entry, backup) if backup is not None else []
    if facts.error:
        problems.append(Problem("", facts.error))
    if problems:
        return problems
    spec = entry.restore
    assert spec is not None, "restore drills run for entries with a restore: block"
    problems += verification_problems(spec.expect, facts.verification)
    if spec.rto is not None and facts.rto_seconds > spec.rto:
        slowest = max(facts.steps, key=lambda s: s.seconds).name if facts.steps else "?"
        problems.append(
            Problem(
                "drill",
                f"{human_duration(facts.rto_seconds)} from start to verified (slowest step: {slowest})",
                f"at most {human_duration(spec.rto)} (rto)",
            )
        )
    return problems


def verification_problems(
    expect: RestoreExpect, found: Verification, compare_label: str = "production"
) -> list[Problem]:
    """What about the restored data contradicts `expect`."""
    if found.error:
        return [Problem("", found.error)]
    problems = []
    missing = [table for table, present in found.tables.items() if not present]
    if missing:
        problems.append(
            Problem(
                "restored database",
                f"lacks expected table{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                fix="is this a dump of the right database?",
            )
        )
    for table, minimum in expect.min_rows.items():
        count = found.row_counts.get(table)
        if count is not None and count < minimum:
            problems.append(
                Problem(
                    f"table {table}",
                    f"{plural(count, 'row')} after the restore",
                    f"at least {plural(minimum, 'row')} (min_rows)",
                )
            )
    for name, query in expect.queries.items():
        problems += compare(
            f"query {name}",
            query,
            found.queries.get(name),
            found=name in found.queries,
            error=found.query_errors.get(name),
        )
    problems += _freshness_problems(expect, found)
    problems += _comparison_problems(expect, found, compare_label)
    problems += _file_problems(expect, found)
    return problems


def _file_problems(expect: RestoreExpect, found: Verification) -> list[Problem]:
    """The restored folder against `files`, `min_count` and `sha256`, each problem naming the file."""
    problems = [
        Problem(
            f"file {pattern}",
            "not in the restored folder",
            "present (expect.files)",
            "is `path` the backed-up folder, and does the backup include it (excludes)?",
        )
        for pattern in found.missing_files
    ]
    if expect.min_count is not None and found.files is not None and found.files < expect.min_count:
        problems.append(
            Problem(
                "restored folder",
                plural(found.files, "file"),
                f"at least {plural(expect.min_count, 'file')} (min_count)",
                "the snapshot holds fewer files than expected: check the backup's paths and excludes",
            )
        )
    for path, wanted in expect.sha256.items():
        digest = found.file_sha256.get(path)
        if path not in found.file_sha256:
            continue
        if digest is None:
            problems.append(Problem(f"file {path}", "not in the restored folder", "present (expect.sha256)"))
        elif digest != wanted:
            problems.append(
                Problem(
                    f"file {path}",
                    f"sha256 {digest}",
                    f"sha256 {wanted} (expect.sha256)",
                    "the file in the backup differs from the recorded one: a changed source file, or a "
                    "damaged snapshot (run the tool's deep check)",
                )
            )
    return problems


def _freshness_problems(expect: RestoreExpect, found: Verification) -> list[Problem]:
    freshness = expect.freshness
    if freshness is None:
        return []
    if found.freshness_error:
        return [Problem("freshness", found.freshness_error)]
    if found.data_lag_s is None or found.data_lag_s <= freshness.max_lag:
        return []
    newest = found.newest_row.isoformat(timespec="seconds") if found.newest_row else "?"
    return [
        Problem(
            "freshness",
            f"{human_duration(found.data_lag_s)} old ({newest})",
            f"newest row at most {human_duration(freshness.max_lag)} old (max_lag)",
            "restoring this backup would lose that much data (RPO)",
        )
    ]


def _comparison_problems(expect: RestoreExpect, found: Verification, label: str) -> list[Problem]:
    problems = []
    tolerance = expect.count_tolerance_pct
    within = f"within {tolerance:g}% (count_tolerance_pct)"
    if expect.compare_to is not None:
        if found.compare_error:
            problems.append(Problem(f"compare_to {expect.compare_to}", found.compare_error))
        for table, live in found.production_counts.items():
            restored = found.row_counts.get(table)
            if restored is None:
                continue
            diff = 100.0 * abs(live - restored) / max(live, 1)
            if diff > tolerance:
                problems.append(
                    Problem(
                        f"table {table}",
                        f"{plural(restored, 'row')} restored vs {live} in {label} ({expect.compare_to}), "
                        f"{diff:.1f}% apart",
                        within,
                    )
                )
    if expect.compare_dir is not None and found.files is not None:
        if found.compare_files is None:
            problems.append(Problem(f"compare_dir {expect.compare_dir}", "does not exist or cannot be read"))
        else:
            diff = 100.0 * abs(found.compare_files - found.files) / max(found.compare_files, 1)
            if diff > tolerance:
                problems.append(
                    Problem(
                        "restored archive",
                        f"{plural(found.files, 'file')} vs {found.compare_files} in {expect.compare_dir}, "
                        f"{diff:.1f}% apart",
                        within,
                    )
                )
    return problems
