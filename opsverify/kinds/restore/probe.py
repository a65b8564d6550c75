"""The restore drill: newest backup -> integrity -> sandbox -> restore -> verify -> teardown, timed and recorded.

Teardown (drop the drill database, stop the sandbox, remove temp folders) runs on failure, Ctrl-C and
SIGTERM; the evidence line goes to reports/drills.jsonl in every case.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from opsverify.backups.formats import Detected, FormatError, detect_format, get_format
from opsverify.backups.pgtools import ToolMissing
from opsverify.drills.restore import restore_files, restore_sqlite
from opsverify.drills.sandbox import DRILL_PREFIX, SandboxError, SandboxRefused, SandboxUnavailable
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.probe import check_newest, find
from opsverify.kinds.backups.verdict import integrity_problems
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.kinds.restore.mysql_restore import restore_mysql_dump
from opsverify.kinds.restore.postgres_restore import restore_postgres_dump
from opsverify.kinds.restore.restored import DrillHooks, Restored
from opsverify.kinds.restore.s3_source import Streamed, local_source
from opsverify.kinds.restore.stanza_drill import restore_stanza
from opsverify.kinds.restore.teardown import DrillInterrupted, Teardown, remove_folder, sigterm_interrupts
from opsverify.kinds.restore.tool_folder import restore_tool_folder, restores_a_folder
from opsverify.kinds.restore.verdict import drill_problems
from opsverify.kinds.restore.verification import record_evidence, verify

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck

ONE_PASS_BYTES = 64 << 20  # below this, reading the file twice costs less than starting a sandbox for naught
_EXPECTED = (SandboxUnavailable, SandboxRefused, SandboxError, ToolMissing, OSError)


def probe(entry: BackupCheck, ctx: ProbeContext, hooks: DrillHooks | None = None) -> DrillFacts:
    """Run the drill of `entry` and record its evidence. Ctrl-C and SIGTERM tear down, record, then stop."""
    facts = DrillFacts(ctx.target_name, ctx.entry_name)
    clock = time.monotonic()
    try:
        with sigterm_interrupts(), restored_backup(entry, ctx, facts, hooks or DrillHooks()) as restored:
            if restored is not None:
                with facts.step("verify") as step:
                    facts.verification = verify(restored, entry, ctx)
                    step.ok = not drill_problems(entry, facts)
                facts.verified = True
                facts.rto_seconds = time.monotonic() - clock
    except (DrillInterrupted, KeyboardInterrupt) as exc:
        facts.interrupted = True
        facts.error = f"drill interrupted ({'SIGTERM' if isinstance(exc, DrillInterrupted) else 'Ctrl-C'}); the sandbox was torn down"
        record_evidence(entry, facts)
        if isinstance(exc, DrillInterrupted):
            os.kill(os.getpid(), signal.SIGTERM)  # the default action now: terminate as the sender asked
            raise KeyboardInterrupt from None
        raise
    except Exception as exc:
        facts.error = f"the drill stopped on an unexpected error: {type(exc).__name__}: {exc}"
        record_evidence(entry, facts)
        raise
    record_evidence(entry, facts)
    return facts


@contextmanager
def restored_backup(
    entry: BackupCheck, ctx: ProbeContext, facts: DrillFacts, hooks: DrillHooks | None = None
) -> Iterator[Restored | None]:
    """Find, check and restore the newest backup; yield the restored copy (None when a step failed).

    On leaving, the drill database is dropped, the sandbox stopped and temp folders removed.
    """
    teardown = Teardown()
    try:
        restored = None
        try:
            if entry.pgbackrest is not None:  # a stanza: pgbackrest restore and a cluster started on it
                restored = restore_stanza(entry, ctx, facts, hooks or DrillHooks(), teardown)
            elif restores_a_folder(entry):  # a folder of a restic snapshot / Borg archive, restored as it is
                restored = restore_tool_folder(entry, facts, ctx.base_dir, teardown.add)
            else:
                restored = _restore_backup_file(entry, ctx, facts, hooks or DrillHooks(), teardown)
        except _EXPECTED as exc:
            facts.fail(str(exc))
        yield restored
    finally:
        if teardown:
            with facts.step("teardown"):
                facts.teardown_problems = teardown.run()


def _restore_backup_file(
    entry: BackupCheck, ctx: ProbeContext, facts: DrillFacts, hooks: DrillHooks, teardown: Teardown
) -> Restored | None:
    """A dump, database file or archive: here, or a copy of a bucket's object (or one streamed from it)."""
    source = local_source(
        entry, facts, ctx.base_dir, teardown.add
    )  # a bucket's newest object: downloaded first
    if isinstance(source, Streamed) and source.detected.format == "mysql-plain":
        assert entry.restore is not None
        return restore_mysql_dump(entry, entry.restore, ctx, facts, hooks, teardown, source)
    if isinstance(source, Streamed):
        assert entry.restore is not None
        return restore_postgres_dump(
            entry, entry.restore, ctx, facts, hooks, teardown, source.detected, source
        )
    if source is not None:
        return _prepare(source, ctx, facts, hooks, teardown)
    return None


def _prepare(
    entry: BackupCheck, ctx: ProbeContext, facts: DrillFacts, hooks: DrillHooks, teardown: Teardown
) -> Restored | None:
    spec = entry.restore
    assert spec is not None, "restore drills run for entries with a restore: block"
    with facts.step("find") as step:
        backup = facts.backup = find(entry, ctx)
        if backup.error or backup.newest is None:
            step.ok = False
            return None
        step.detail = backup.newest.name
    one_pass = _one_pass_format(entry, backup)
    if one_pass is not None:
        return restore_postgres_dump(entry, spec, ctx, facts, hooks, teardown, one_pass)
    with facts.step("integrity") as step:
        check_newest(entry, backup)
        if integrity_problems(entry, backup) or backup.changed_during_check:
            step.ok = False
            return None
    inspection = backup.inspection
    assert inspection is not None
    assert inspection.detected is not None
    assert backup.newest is not None
    fmt = get_format(inspection.detected.format)
    restore = fmt.restore if fmt is not None else None
    if restore == "postgres":
        return restore_postgres_dump(entry, spec, ctx, facts, hooks, teardown)
    if restore == "mysql":
        return restore_mysql_dump(entry, spec, ctx, facts, hooks, teardown)
    if restore in ("sqlite", "files"):
        workdir = Path(tempfile.mkdtemp(prefix=DRILL_PREFIX))
        teardown.add("remove the restored copy", lambda: remove_folder(workdir))
        return _restore_local_copy(restore == "sqlite", backup, workdir, facts)
    facts.fail(
        f"a {inspection.format} backup cannot be restored by a drill (restore: supports PostgreSQL and MySQL "
        "dumps, SQLite databases and tar archives); keep the daily integrity check and remove `restore:`"
    )
    return None


def _one_pass_format(entry: BackupCheck, backup: BackupFacts) -> Detected | None:
    """A plain pg_dump of ONE_PASS_BYTES or more is checked in the read that restores it, a custom archive
    that large beside its restore (see `restore_postgres_dump`); a smaller backup, or another format, is checked
    whole before any sandbox starts."""
    newest = backup.newest
    if newest is None or newest.is_dir or newest.size < ONE_PASS_BYTES:
        return None
    try:
        detected = detect_format(newest, entry.format)
    except (FormatError, OSError):
        return None  # the integrity step says why
    return detected if detected.format in ("pg-plain", "pg-custom") else None


def _restore_local_copy(
    sqlite: bool, backup: BackupFacts, workdir: Path, facts: DrillFacts
) -> Restored | None:
    newest, inspection = backup.newest, backup.inspection
    assert newest is not None
    assert inspection is not None
    assert inspection.detected is not None
    facts.sandbox, facts.sandbox_detail = "files", f"temporary folder {workdir}"
    with facts.step("restore") as step:
        if sqlite:
            facts.restore, read = restore_sqlite(newest.path, gzip=inspection.detected.gzip, workdir=workdir)
            restored = Restored("sqlite", path=read.copy)
        else:
            target = workdir / "files"
            target.mkdir()
            facts.restore, files = restore_files(newest.path, workdir=target)
            restored = Restored("files", path=target, files=files)
        step.detail = facts.restore.program
        if not facts.restore.ok:
            facts.fail(facts.restore.error or "restore failed")
            return None
    return restored
