"""Verify the restored copy against `restore.expect`; build and append the drill's evidence line."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opsverify.drills.evidence import append_record
from opsverify.drills.mysql import verify_mysql
from opsverify.drills.restore import count_files
from opsverify.drills.restored_files import check_restored_files
from opsverify.drills.verify import verify_postgres, verify_sqlite
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts, Verification
from opsverify.kinds.restore.production import compare_production
from opsverify.kinds.restore.restored import Restored
from opsverify.kinds.restore.verdict import drill_problems
from opsverify.problem import problem_lines

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck


def verify(restored: Restored, entry: BackupCheck, ctx: ProbeContext) -> Verification:
    """Check the restored copy against `restore.expect` (and production / compare_dir when asked)."""
    spec = entry.restore
    assert spec is not None
    expect = spec.expect
    if restored.kind == "postgres":
        assert restored.url is not None
        found = verify_postgres(restored.url, expect, spec.statement_timeout)
    elif restored.kind == "mysql":
        assert restored.url is not None
        found = verify_mysql(restored.url, expect, spec.statement_timeout)
        if expect.compare_to is not None:
            found.compare_error = (
                "compare_to counts rows of a postgres entry; it does not apply to a MySQL drill"
            )
            return found
    elif restored.kind == "sqlite":
        assert restored.path is not None
        found = verify_sqlite(restored.path, expect)
    elif expect.checks_files():  # a folder of a restic snapshot or Borg archive
        assert restored.path is not None
        found = check_restored_files(restored.path, expect)
    else:
        found = Verification(files=restored.files)
        if expect.tables or expect.min_rows or expect.queries or expect.freshness:
            found.error = (
                "expect.tables/min_rows/queries/freshness do not apply to a file archive; use compare_dir"
            )
    if expect.compare_to is not None and not found.error:
        compare_production(expect.compare_to, found, entry, ctx)
    if expect.compare_dir is not None and restored.kind == "files":
        folder = ctx.path(expect.compare_dir)
        found.compare_files = count_files(folder) if folder.is_dir() else None
    return found


def record_evidence(entry: BackupCheck, facts: DrillFacts) -> None:
    """Build the evidence line (verdict included) and append it to reports/drills.jsonl."""
    problems = [] if facts.interrupted else problem_lines(drill_problems(entry, facts))
    verdict = "interrupted" if facts.interrupted else ("failed" if problems else "passed")
    facts.record = evidence_record(
        entry, facts, verdict, problems if not facts.interrupted else [facts.error or ""]
    )
    try:
        facts.evidence_path = append_record(facts.record)
    except OSError as exc:
        facts.teardown_problems.append(f"could not write drill evidence: {exc}")


def evidence_record(
    entry: BackupCheck, facts: DrillFacts, verdict: str, problems: list[str]
) -> dict[str, Any]:
    backup = facts.backup
    newest = backup.newest if backup is not None else None
    inspection = backup.inspection if backup is not None else None
    spec = entry.restore
    found = facts.verification
    return {
        "time": datetime.fromtimestamp(facts.started_at, tz=UTC).isoformat(timespec="seconds"),
        "started": round(facts.started_at, 3),
        "host": socket.gethostname(),
        "target": facts.target,
        "entry": facts.entry,
        "file": facts.backup_url or (str(newest.path) if newest else None),
        "format": inspection.format if inspection else None,
        "size": newest.size if newest else None,
        "sha256": inspection.sha256 if inspection else None,
        "backup_time": datetime.fromtimestamp(newest.mtime, tz=UTC).isoformat(timespec="seconds")
        if newest
        else None,
        "backup_age_s": round(facts.started_at - newest.mtime, 1) if newest else None,
        "sandbox": facts.sandbox,
        "sandbox_detail": facts.sandbox_detail,
        "database": facts.database,
        "steps": facts.step_seconds(),
        "failed_step": next((s.name for s in facts.steps if not s.ok), None),
        "restore_bytes": facts.restore.bytes_streamed if facts.restore else None,
        "restore_program": facts.restore.program if facts.restore else None,
        "restore_client": (facts.restore.command or facts.restore.program) if facts.restore else None,
        "integrity_read": (
            ("beside the restore" if inspection and inspection.kind == "pg-custom" else "with the restore")
            if facts.one_pass
            else "before the sandbox"
        ),
        "tables_checked": len(found.tables),
        "rows_checked": found.rows_checked,
        "row_counts": found.row_counts,
        "data_lag_s": round(found.data_lag_s, 1) if found.data_lag_s is not None else None,
        "rpo_target_s": spec.expect.freshness.max_lag if spec and spec.expect.freshness else None,
        "rto_s": round(facts.rto_seconds, 3) if facts.verified else None,
        "rto_target_s": spec.rto if spec else None,
        "verdict": verdict,
        "problems": problems,
        "reaped": facts.reaped,
        "teardown_problems": facts.teardown_problems,
    }
