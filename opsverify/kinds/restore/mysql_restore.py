"""A mysqldump restored into a drill database of a `url`, `local` or `docker` MariaDB/MySQL sandbox: from a
file here, or streamed from a bucket's object (`streamed_mysql`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsverify.drills.docker import MysqlDockerSandbox, reap_docker_sandboxes
from opsverify.drills.mysql import MysqlDrillDatabase, many_databases, restore_mysql
from opsverify.drills.mysql_sandbox import (
    MysqlLocalSandbox,
    MysqlSandbox,
    MysqlUrlSandbox,
    reap_local_mysql_sandboxes,
)
from opsverify.drills.mysql_sandbox import refuse_production as refuse_mysql_production
from opsverify.drills.sandbox import SandboxUnavailable
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.kinds.restore.production import production_entries
from opsverify.kinds.restore.restored import DrillHooks, Restored, open_drill_database
from opsverify.kinds.restore.s3_source import Streamed
from opsverify.kinds.restore.streamed_mysql import restore_streamed_mysql
from opsverify.kinds.restore.teardown import Teardown, stop_sandbox
from opsverify.units import format_size

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck
    from opsverify.kinds.restore.model import RestoreSpec


def restore_mysql_dump(
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
            facts.reaped += reap_docker_sandboxes(docker_host=spec.docker_host)
            sandbox: MysqlSandbox = MysqlDockerSandbox(dumped_from, spec.image, spec.docker_host)
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
        teardown.add("stop the sandbox", lambda: stop_sandbox(sandbox))
        facts.sandbox, facts.sandbox_detail = sandbox.kind, sandbox.describe()
        database = MysqlDrillDatabase(sandbox)
        open_drill_database(database, sandbox, facts, teardown, step, hooks)
    progress = hooks.progress_of(sandbox)

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
