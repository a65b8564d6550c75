"""The restore drill: newest backup -> integrity -> sandbox -> restore -> verify -> teardown, timed and recorded.

Teardown (drop the drill database, stop the sandbox, remove temp folders) runs on failure, Ctrl-C and
SIGTERM; the evidence line goes to reports/drills.jsonl in every case.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from opsverify.backups.formats import Detected, FormatError, detect_format, get_format
from opsverify.backups.integrity import Inspection, judge_plain
from opsverify.backups.pg_archive import archive_dumped_from, archive_read_error
from opsverify.backups.pgtools import ToolMissing, client_tool, tool_version
from opsverify.backups.plain_sql import PlainSqlScanner, peek_dumped_from
from opsverify.backups.stream import StreamResult
from opsverify.drills.choose import make_sandboxes, start_sandbox
from opsverify.drills.docker import MysqlDockerSandbox, reap_docker_sandboxes
from opsverify.drills.evidence import append_record
from opsverify.drills.local import reap_local_sandboxes
from opsverify.drills.mysql import (
    MysqlDrillDatabase,
    MysqlLocalSandbox,
    MysqlSandbox,
    MysqlUrlSandbox,
    many_databases,
    reap_local_mysql_sandboxes,
    restore_mysql,
    verify_mysql,
)
from opsverify.drills.mysql import refuse_production as refuse_mysql_production
from opsverify.drills.restore import (
    RestoreResult,
    count_files,
    restore_archive,
    restore_files,
    restore_plain,
    restore_sqlite,
)
from opsverify.drills.sandbox import (
    DRILL_PREFIX,
    DrillDatabase,
    Sandbox,
    SandboxError,
    SandboxRefused,
    SandboxUnavailable,
    refuse_production,
)
from opsverify.drills.verify import count_production, verify_postgres, verify_sqlite
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.probe import check_newest, check_newest_toc, find, finish_check
from opsverify.kinds.backups.verdict import integrity_problems
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts, Verification
from opsverify.kinds.restore.one_read import integrity_step, read_path, read_verdict
from opsverify.kinds.restore.s3_source import Streamed, finish_streamed_check, local_source
from opsverify.kinds.restore.streamed_mysql import restore_streamed_mysql
from opsverify.kinds.restore.verdict import drill_problems
from opsverify.problem import problem_lines
from opsverify.units import format_size

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck
    from opsverify.kinds.restore.model import RestoreSpec

ONE_PASS_BYTES = 64 << 20  # below this, reading the file twice costs less than starting a sandbox for naught
_EXPECTED = (SandboxUnavailable, SandboxRefused, SandboxError, ToolMissing, OSError)
RestoredKind = Literal["postgres", "mysql", "sqlite", "files"]


class DrillInterrupted(BaseException):
    """SIGTERM arrived during a drill: unwind (tearing the sandbox down), then terminate as asked."""


@dataclass
class DrillHooks:
    """Callbacks for tests and tooling: restore progress (bytes streamed so far) and the started sandbox."""

    on_sandbox_ready: Callable[[Sandbox], None] | None = None
    on_restore_progress: Callable[[Sandbox | None, int], None] | None = None


@dataclass
class Restored:
    """The restored copy, while the sandbox is up: a database URL, an SQLite file or an extracted folder."""

    kind: RestoredKind
    url: str | None = None
    path: Path | None = None
    files: int | None = None


class Teardown:
    """Undo actions, run last-in first-out; each failure is reported, none stops the others."""

    def __init__(self) -> None:
        self._actions: list[tuple[str, Callable[[], str | None]]] = []

    def add(self, what: str, action: Callable[[], str | None]) -> None:
        self._actions.append((what, action))

    def __bool__(self) -> bool:
        return bool(self._actions)

    def run(self) -> list[str]:
        problems = []
        while self._actions:
            what, action = self._actions.pop()
            try:
                problem = action()
            except Exception as exc:  # noqa: BLE001 - teardown must reach every resource
                problem = f"{what}: {exc}"
            if problem:
                problems.append(problem)
        return problems


def probe(entry: BackupCheck, ctx: ProbeContext, hooks: DrillHooks | None = None) -> DrillFacts:
    """Run the drill of `entry` and record its evidence. Ctrl-C and SIGTERM tear down, record, then stop."""
    facts = DrillFacts(ctx.target_name, ctx.entry_name)
    clock = time.monotonic()
    try:
        with _sigterm_interrupts(), restored_backup(entry, ctx, facts, hooks or DrillHooks()) as restored:
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
def _sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM into an exception for the drill's duration so teardown runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    received: list[int] = []

    def interrupt(signum: int, _frame: object) -> None:
        if not received:  # the first SIGTERM unwinds; repeats must not cut the teardown short
            received.append(signum)
            raise DrillInterrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
            source = local_source(
                entry, facts, ctx.base_dir, teardown.add
            )  # a bucket's newest object: downloaded first
            if isinstance(source, Streamed) and source.detected.format == "mysql-plain":
                assert entry.restore is not None
                restored = _restore_mysql(
                    entry, entry.restore, ctx, facts, hooks or DrillHooks(), teardown, source
                )
            elif isinstance(source, Streamed):
                assert entry.restore is not None
                restored = _restore_postgres(
                    entry, entry.restore, ctx, facts, hooks or DrillHooks(), teardown, source.detected, source
                )
            elif source is not None:
                restored = _prepare(source, ctx, facts, hooks or DrillHooks(), teardown)
        except _EXPECTED as exc:
            facts.fail(str(exc))
        yield restored
    finally:
        if teardown:
            with facts.step("teardown"):
                facts.teardown_problems = teardown.run()


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
        return _restore_postgres(entry, spec, ctx, facts, hooks, teardown, one_pass)
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
        return _restore_postgres(entry, spec, ctx, facts, hooks, teardown)
    if restore == "mysql":
        return _restore_mysql(entry, spec, ctx, facts, hooks, teardown)
    if restore in ("sqlite", "files"):
        workdir = Path(tempfile.mkdtemp(prefix=DRILL_PREFIX))
        teardown.add("remove the restored copy", lambda: _remove(workdir))
        return _restore_local_copy(restore == "sqlite", backup, workdir, facts)
    facts.fail(
        f"a {inspection.format} backup cannot be restored by a drill (restore: supports PostgreSQL and MySQL "
        "dumps, SQLite databases and tar archives); keep the daily integrity check and remove `restore:`"
    )
    return None


def production_entries(ctx: ProbeContext, section_name: str = "postgres") -> dict[str, str]:
    """name -> URL of the target's postgres (or mysql) entries (empty when the probe runs without the target)."""
    target = ctx.target
    section = target.section(section_name) if target is not None else None
    if not section:
        return {}
    return {
        name: str(getattr(item, "url", ""))
        for name, item in dict(section).items()
        if getattr(item, "url", None)
    }


def _one_pass_format(entry: BackupCheck, backup: BackupFacts) -> Detected | None:
    """A plain pg_dump of ONE_PASS_BYTES or more is checked in the read that restores it, a custom archive
    that large beside its restore (see `_restore_postgres`); a smaller backup, or another format, is checked
    whole before any sandbox starts."""
    newest = backup.newest
    if newest is None or newest.is_dir or newest.size < ONE_PASS_BYTES:
        return None
    try:
        detected = detect_format(newest, entry.format)
    except (FormatError, OSError):
        return None  # the integrity step says why
    return detected if detected.format in ("pg-plain", "pg-custom") else None


def _restore_postgres(
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
            facts.reaped += reap_docker_sandboxes()
        candidates = make_sandboxes(
            spec.sandbox,
            sandbox_url=spec.sandbox_url,
            image=spec.image,
            server_bin=spec.server_bin,
            dumped_from=dumped_from,
        )
        sandbox, facts.sandbox_notes = start_sandbox(candidates, auto=spec.sandbox == "auto")
        teardown.add("stop the sandbox", lambda: _stop(sandbox))
        facts.sandbox, facts.sandbox_detail = sandbox.kind, sandbox.describe()
        refuse_production(sandbox.admin_url, production.items())
        database = DrillDatabase(sandbox)
        facts.database = database.name
        if not sandbox.disposable:
            teardown.add(f"drop {database.name}", database.drop)
        database.create()
        facts.reaped += database.reaped
        step.detail = facts.sandbox_detail
        if hooks.on_sandbox_ready is not None:
            hooks.on_sandbox_ready(sandbox)
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

    on_progress = hooks.on_restore_progress

    def progress(written: int) -> None:
        if on_progress is not None:
            on_progress(sandbox, written)

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


def _restore_mysql(
    entry: BackupCheck,
    spec: RestoreSpec,
    ctx: ProbeContext,
    facts: DrillFacts,
    hooks: DrillHooks,
    teardown: Teardown,
    streamed: Streamed | None = None,
) -> Restored | None:
    """A mysqldump restored into a drill database of a `url`, `local` or `docker` MariaDB/MySQL sandbox.
    `streamed`: a bucket's object, checked in the read that restores it (`restore_streamed_mysql`)."""
    backup = facts.backup
    assert backup is not None
    assert backup.newest is not None
    production = production_entries(ctx, "mysql")
    if streamed is not None:
        dumped_from = streamed.dumped_from
    else:
        assert backup.inspection is not None
        if len(backup.inspection.databases) > 1:
            facts.fail(many_databases(backup.inspection.databases))
            return None
        dumped_from = backup.inspection.dumped_from
    with facts.step("sandbox") as step:
        kind = spec.sandbox
        if kind == "auto":
            kind = "url" if spec.sandbox_url else "local"
        if kind == "docker":
            facts.reaped += reap_docker_sandboxes()
            sandbox: MysqlSandbox = MysqlDockerSandbox(dumped_from, spec.image)
        elif kind == "local":
            facts.reaped += reap_local_mysql_sandboxes()
            sandbox = MysqlLocalSandbox(spec.server_bin)
        else:
            assert spec.sandbox_url is not None
            refuse_mysql_production(spec.sandbox_url, production.items())
            sandbox = MysqlUrlSandbox(spec.sandbox_url)
        try:
            sandbox.start()
        except SandboxUnavailable:
            sandbox.stop()
            raise
        teardown.add("stop the sandbox", lambda: _stop(sandbox))
        facts.sandbox, facts.sandbox_detail = sandbox.kind, sandbox.describe()
        database = MysqlDrillDatabase(sandbox)
        facts.database = database.name
        if not sandbox.disposable:
            teardown.add(f"drop {database.name}", database.drop)
        database.create()
        facts.reaped += database.reaped
        step.detail = facts.sandbox_detail
        if hooks.on_sandbox_ready is not None:
            hooks.on_sandbox_ready(sandbox)
    on_progress = hooks.on_restore_progress

    def progress(written: int) -> None:
        if on_progress is not None:
            on_progress(sandbox, written)

    if streamed is not None:
        ok = restore_streamed_mysql(entry, spec, facts, database.url, streamed, progress)
        return Restored("mysql", url=database.url) if ok else None
    inspection = backup.inspection
    assert inspection is not None
    with facts.step("restore") as step:
        assert inspection.detected is not None
        facts.restore = restore_mysql(
            backup.newest.path,
            gzip=inspection.detected.gzip,
            database_url=database.url,
            client_bin=entry.client_bin,
            timeout=spec.restore_timeout(),
            progress=progress,
        )
        step.detail = f"{facts.restore.program}, {format_size(facts.restore.bytes_streamed)}"
        if not facts.restore.ok:
            facts.fail(facts.restore.error or "restore failed")
            return None
    return Restored("mysql", url=database.url)


def _run_restore(
    entry: BackupCheck, spec: RestoreSpec, backup: BackupFacts, url: str, sandbox: Sandbox, hooks: DrillHooks
) -> RestoreResult:
    newest, inspection = backup.newest, backup.inspection
    assert newest is not None
    assert inspection is not None
    assert inspection.detected is not None
    if inspection.detected.format == "pg-plain":
        on_progress = hooks.on_restore_progress

        def progress(written: int) -> None:
            if on_progress is not None:
                on_progress(sandbox, written)

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
    else:
        found = Verification(files=restored.files)
        if expect.tables or expect.min_rows or expect.queries or expect.freshness:
            found.error = (
                "expect.tables/min_rows/queries/freshness do not apply to a file archive; use compare_dir"
            )
    if expect.compare_to is not None and not found.error:
        _compare_production(expect.compare_to, found, entry, ctx)
    if expect.compare_dir is not None and restored.kind == "files":
        folder = ctx.path(expect.compare_dir)
        found.compare_files = count_files(folder) if folder.is_dir() else None
    return found


def _compare_production(name: str, found: Verification, entry: BackupCheck, ctx: ProbeContext) -> None:
    assert entry.restore is not None
    target = ctx.target
    section = dict(target.section("postgres") or {}) if target is not None else {}
    item = section.get(name)
    if item is None:
        known = ", ".join(section) or "none"
        found.compare_error = f"the target has no postgres entry {name!r} (postgres entries: {known})"
        return
    timeout = float(getattr(item, "statement_timeout", 30.0))
    count_production(str(item.url), entry.restore.expect.counted_tables(), timeout, found)


def _stop(sandbox: Sandbox) -> None:
    sandbox.stop()


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


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
