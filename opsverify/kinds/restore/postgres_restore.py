"""A PostgreSQL dump restored into a drill database: the sandbox, then pg_restore or psql; a large dump is
checked in the same read that restores it (plain) or beside it (custom archive)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from typing import TYPE_CHECKING

from opsverify.backups.formats import Detected
from opsverify.backups.integrity import Inspection, judge_plain
from opsverify.backups.pg_archive import archive_dumped_from, archive_read_error
from opsverify.backups.pgtools import ToolMissing, client_tool, tool_version
from opsverify.backups.plain_sql import PlainSqlScanner, peek_dumped_from
from opsverify.backups.stream import StreamResult
from opsverify.drills.choose import make_sandboxes, start_sandbox
from opsverify.drills.docker import reap_docker_sandboxes
from opsverify.drills.local import reap_local_sandboxes
from opsverify.drills.restore import RestoreResult, restore_archive, restore_plain
from opsverify.drills.sandbox import DrillDatabase, Sandbox, refuse_production
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.probe import check_newest_toc, finish_check
from opsverify.kinds.backups.verdict import integrity_problems
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.kinds.restore.one_read import integrity_step, read_path, read_verdict
from opsverify.kinds.restore.production import production_entries
from opsverify.kinds.restore.restored import DrillHooks, Restored, open_drill_database
from opsverify.kinds.restore.s3_source import Streamed, finish_streamed_check
from opsverify.kinds.restore.teardown import Teardown, stop_sandbox
from opsverify.units import format_size

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck
    from opsverify.kinds.restore.model import RestoreSpec


def restore_postgres_dump(
    entry: BackupCheck,
    spec: RestoreSpec,
    ctx: ProbeContext,
    facts: DrillFacts,
    hooks: DrillHooks,
    teardown: Teardown,
    one_pass: Detected | None = None,
    streamed: Streamed | None = None,
) -> Restored | None:
    """Sandbox, then restore. `one_pass`: the backup was not read yet; the restore's read also checks it
    (checksum, gzip stream, header, trailer, statements) and commits only when it passes, then the
    integrity step judges what that read found. `streamed`: that read is of a bucket's object."""
    backup = facts.backup
    assert backup is not None
    assert backup.newest is not None
    if streamed is not None:
        dumped_from = streamed.dumped_from
    elif one_pass is not None and one_pass.format == "pg-custom":
        dumped_from = archive_dumped_from(backup.newest.path, entry.client_bin)
    elif one_pass is not None:
        dumped_from = peek_dumped_from(backup.newest.path, gzip=one_pass.gzip)
    else:
        assert backup.inspection is not None
        dumped_from = backup.inspection.dumped_from
    production = production_entries(ctx)
    with facts.step("sandbox") as step:
        if spec.sandbox_url and spec.sandbox in ("url", "auto"):
            refuse_production(spec.sandbox_url, production.items())
        if spec.sandbox in ("auto", "local"):
            facts.reaped += reap_local_sandboxes()
        if spec.sandbox in ("auto", "docker"):
            facts.reaped += reap_docker_sandboxes(docker_host=spec.docker_host)
        candidates = make_sandboxes(
            spec.sandbox,
            sandbox_url=spec.sandbox_url,
            image=spec.image,
            server_bin=spec.server_bin,
            dumped_from=dumped_from,
            docker_host=spec.docker_host,
        )
        sandbox, facts.sandbox_notes = start_sandbox(candidates, auto=spec.sandbox == "auto")
        teardown.add("stop the sandbox", lambda: stop_sandbox(sandbox))
        facts.sandbox, facts.sandbox_detail = sandbox.kind, sandbox.describe()
        refuse_production(sandbox.admin_url, production.items())
        database = DrillDatabase(sandbox)
        open_drill_database(database, sandbox, facts, teardown, step, hooks)
    if one_pass is not None and one_pass.format == "pg-custom":
        return _restore_archive_beside_check(entry, spec, facts, database.url)
    if one_pass is not None:
        return _restore_plain_one_pass(entry, spec, facts, hooks, sandbox, database.url, one_pass, streamed)
    with facts.step("restore") as step:
        facts.restore = _run_restore(entry, spec, backup, database.url, sandbox, hooks)
        step.detail = f"{facts.restore.program}, {format_size(facts.restore.bytes_streamed)}"
        if not facts.restore.ok:
            facts.fail(facts.restore.error or "restore failed")
            return None
    return Restored("postgres", url=database.url)


def _restore_archive_beside_check(
    entry: BackupCheck, spec: RestoreSpec, facts: DrillFacts, url: str
) -> Restored | None:
    """A custom archive: pg_restore --jobs reads the file itself (it needs to seek). Beside it, the file is
    hashed and its table of contents read (`check_newest_toc`); a problem found there stops pg_restore,
    fails the drill and the sandbox is dropped. The data blocks are read once, by the restore: when it
    cannot read one (truncated, corrupt), that is the integrity step's failure, not a database error."""
    backup = facts.backup
    assert backup is not None
    newest = backup.newest
    assert newest is not None
    facts.one_pass = True
    found: list[str] = []
    checks: list[threading.Thread] = []

    def check(process: subprocess.Popen[bytes]) -> None:
        try:
            check_newest_toc(entry, backup)
            problems = integrity_problems(entry, backup)
            reason = backup.changed_during_check or (problems[0].text if problems else None)
        except Exception as exc:  # noqa: BLE001 (the drill must report it, not lose it in a thread)
            reason = f"the integrity check stopped on an unexpected error: {type(exc).__name__}: {exc}"
        if reason:
            found.append(reason)
            if process.poll() is None:
                process.kill()

    def started(process: subprocess.Popen[bytes]) -> None:
        thread = threading.Thread(
            target=check, args=(process,), name="opsverify-drill-integrity", daemon=True
        )
        thread.start()
        checks.append(thread)

    with facts.step("restore") as step:
        try:
            facts.restore = restore_archive(
                newest.path,
                database_url=url,
                client_bin=entry.client_bin,
                jobs=spec.jobs or os.cpu_count() or 1,
                no_owner=spec.no_owner,
                timeout=spec.restore_timeout(),
                started_hook=started,
            )
        finally:
            for thread in checks:
                thread.join()
        if found and not facts.restore.ok:
            facts.restore.error = f"restore stopped: the backup failed its integrity check: {found[0]}"
        elif not facts.restore.ok and backup.inspection is not None and not facts.restore.timed_out:
            unreadable = archive_read_error(facts.restore.log, _pg_restore_version(entry.client_bin))
            if unreadable is not None:
                backup.inspection.defects.append(unreadable)
                found.append(f"{newest.name}: {unreadable}")
        elif facts.restore.ok and backup.inspection is not None:
            backup.inspection.trailer = True  # the restore read every data block to the end of the archive
        step.detail = (
            f"{facts.restore.command}, {format_size(facts.restore.bytes_streamed)}, integrity read beside it"
        )
        step.ok = facts.restore.ok and not found
    with facts.step("integrity") as step:
        step.detail = "read beside the restore"
        if found or backup.inspection is None:
            step.ok = False
            if backup.inspection is None or not integrity_problems(entry, backup):
                facts.fail(found[0] if found else "the integrity check did not run")
            return None
    if not facts.restore.ok:
        facts.fail(facts.restore.error or "restore failed")
        return None
    return Restored("postgres", url=url)


def _pg_restore_version(client_bin: str | None) -> str:
    try:
        return tool_version(client_tool("pg_restore", client_bin))
    except ToolMissing:
        return ""


def _restore_plain_one_pass(
    entry: BackupCheck,
    spec: RestoreSpec,
    facts: DrillFacts,
    hooks: DrillHooks,
    sandbox: Sandbox,
    url: str,
    detected: Detected,
    streamed: Streamed | None = None,
) -> Restored | None:
    """One read of the file: sha256 (second thread), inflate, the integrity scan and psql, side by side.

    psql's single transaction commits only after the whole read passed the integrity check; a broken
    stream (or a checksum mismatch, a missing trailer, a file changed meanwhile) kills psql first, the
    restore fails uncommitted and the integrity step names the problem. `streamed`: the read is a bucket
    object's GET (its sidecar, ChecksumSHA256 or ETag checked; a body cut short stops psql the same way).
    """
    backup = facts.backup
    assert backup is not None
    newest = backup.newest
    assert newest is not None
    scanner = PlainSqlScanner()
    facts.one_pass = True
    inspection = backup.inspection = Inspection(detected.label, detected)
    read_started = time.monotonic()

    def judge_read(stream: StreamResult) -> str | None:
        judge_plain(detected, stream, scanner, inspection)
        inspection.seconds = time.monotonic() - read_started
        if streamed is None:
            finish_check(entry, backup)
        else:
            finish_streamed_check(streamed, entry, backup, inspection)
        return read_verdict(entry, backup)

    progress = hooks.progress_of(sandbox)

    with facts.step("restore") as step:
        path = read_path(newest, streamed, facts)
        if path is None:
            return None
        facts.restore = restore_plain(
            path,
            gzip=detected.gzip,
            database_url=url,
            client_bin=entry.client_bin,
            timeout=spec.restore_timeout(),
            progress=progress,
            inspectors=[scanner],
            hash_file=entry.checksum != "off",
            before_commit=judge_read,
        )
        step.detail = (
            f"{facts.restore.command}, {format_size(facts.restore.bytes_streamed)}, checked in the same read"
        )
        step.ok = facts.restore.ok
    return Restored("postgres", url=url) if integrity_step(entry, backup, inspection, facts) else None


def _run_restore(
    entry: BackupCheck, spec: RestoreSpec, backup: BackupFacts, url: str, sandbox: Sandbox, hooks: DrillHooks
) -> RestoreResult:
    newest, inspection = backup.newest, backup.inspection
    assert newest is not None
    assert inspection is not None
    assert inspection.detected is not None
    if inspection.detected.format == "pg-plain":
        progress = hooks.progress_of(sandbox)

        return restore_plain(
            newest.path,
            gzip=inspection.detected.gzip,
            database_url=url,
            client_bin=entry.client_bin,
            timeout=spec.restore_timeout(),
            progress=progress,
        )
    return restore_archive(
        newest.path,
        database_url=url,
        client_bin=entry.client_bin,
        jobs=spec.jobs or os.cpu_count() or 1,
        no_owner=spec.no_owner,
        timeout=spec.restore_timeout(),
    )
