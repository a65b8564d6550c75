"""A mysqldump in a bucket, restored from its GET: one read feeds the `mariadb` client, the dump's scan
(header, trailer, statements, databases) and sha256 (with the ETag's MD5); the object's checksum is judged
when the read ends, before the client sees the end of its input. A read that fails that check, a body cut
short, a broken gzip stream or a second database stops the client there, and the drill fails naming it
(the drill database, holding what was restored so far, is dropped at teardown)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from opsverify.backups.formats.mysql_plain import judge_mysql
from opsverify.backups.inspection import Inspection
from opsverify.backups.mysql_dump import MysqlDumpScanner
from opsverify.backups.stream import StreamResult
from opsverify.drills.mysql import OneDatabase, many_databases, restore_mysql
from opsverify.drills.restore import Progress
from opsverify.kinds.restore.one_read import integrity_step, read_path, read_verdict
from opsverify.kinds.restore.s3_source import Streamed, finish_streamed_check
from opsverify.units import format_size

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck
    from opsverify.kinds.restore.facts import DrillFacts
    from opsverify.kinds.restore.model import RestoreSpec


def restore_streamed_mysql(
    entry: BackupCheck,
    spec: RestoreSpec,
    facts: DrillFacts,
    url: str,
    streamed: Streamed,
    progress: Progress,
) -> bool:
    """The `restore` step (the object streamed into the client, checked on the way), then the `integrity`
    step judged on that read. True when both passed."""
    backup = facts.backup
    assert backup is not None
    newest = backup.newest
    assert newest is not None
    detected = streamed.detected
    scanner = MysqlDumpScanner()
    facts.one_pass = True
    inspection = backup.inspection = Inspection(detected.label, detected)
    read_started = time.monotonic()

    def judge_read(stream: StreamResult) -> str | None:
        judge_mysql(detected, stream, scanner, inspection)
        inspection.seconds = time.monotonic() - read_started
        finish_streamed_check(streamed, entry, backup, inspection)
        reason = read_verdict(entry, backup)
        if reason is None and len(inspection.databases) > 1:
            reason = many_databases(inspection.databases)
        return reason

    with facts.step("restore") as step:
        path = read_path(newest, streamed, facts)
        if path is None:
            return False
        facts.restore = restore_mysql(
            path,
            gzip=detected.gzip,
            database_url=url,
            client_bin=entry.client_bin,
            timeout=spec.restore_timeout(),
            progress=progress,
            inspectors=[scanner, OneDatabase(scanner)],
            hash_file=entry.checksum != "off",
            before_end=judge_read,
        )
        if not inspection.bytes_read:  # stopped before the end of the read (a second database)
            streamed.source.finish_stream(None)  # close the GET
            backup.inspection = None  # nothing was judged: the restore's error says why
        step.detail = (
            f"{facts.restore.program}, {format_size(facts.restore.bytes_streamed)}, checked in the same read"
        )
        step.ok = facts.restore.ok
    return integrity_step(entry, backup, inspection, facts)
