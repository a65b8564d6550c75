"""The steps of a drill whose restore's read also checks the backup (a large plain dump here, a bucket's
object): what the restore reads, the verdict on that read before the client sees the end of its input, and
the `integrity` step judged on it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from opsverify.backups.inspection import Inspection
from opsverify.backups.sources import SourceError
from opsverify.kinds.backups.verdict import integrity_problems

if TYPE_CHECKING:
    from opsverify.backups.files import BackupFile
    from opsverify.kinds.backups.facts import BackupFacts
    from opsverify.kinds.backups.model import BackupCheck
    from opsverify.kinds.restore.facts import DrillFacts
    from opsverify.kinds.restore.s3_source import Streamed


def read_path(newest: BackupFile, streamed: Streamed | None, facts: DrillFacts) -> Path | None:
    """What the restore reads: the file, or the object's GET (None when it could not be opened: `facts`
    says why)."""
    if streamed is None:
        return newest.path
    try:
        return streamed.source.stream(newest)[0]
    except SourceError as exc:
        facts.fail(str(exc))
        return None


def read_verdict(entry: BackupCheck, backup: BackupFacts) -> str | None:
    """Why the read that is being restored must not be kept (it changed or was cut short, or the backup
    failed its integrity check), or None."""
    if backup.changed_during_check:
        return backup.changed_during_check
    problems = integrity_problems(entry, backup)
    return f"the backup failed its integrity check: {problems[0].text}" if problems else None


def integrity_step(
    entry: BackupCheck, backup: BackupFacts, inspection: Inspection, facts: DrillFacts
) -> bool:
    """The `integrity` step, judged on the restore's read, then the restore's own outcome: True when both
    passed (else `facts` and the steps say why)."""
    with facts.step("integrity") as step:
        step.detail = "judged on the restore's read"
        if not inspection.bytes_read:
            step.ok = False  # the read did not reach its end: the restore says why
        elif integrity_problems(entry, backup) or backup.changed_during_check:
            step.ok = False
            return False
    assert facts.restore is not None
    if not facts.restore.ok:
        facts.fail(facts.restore.error or "restore failed")
        return False
    return True
