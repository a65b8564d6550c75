"""The drill of a pgBackRest stanza: find the backup in `pgbackrest info`, `pgbackrest restore` it into a
throwaway data directory (a folder here, or a container's volume with `restore.sandbox: docker`), start
PostgreSQL on it, wait for recovery through the WAL archive (to its end, or
to `target_time`), then the drill verifies `expect` in `pgbackrest.database`. Steps: find, restore, start,
recovery (then verify and teardown, as every drill)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from opsverify.backups.sources import SourceError, open_source
from opsverify.backups.sources.pgbackrest import PGBACKREST, StanzaBackup
from opsverify.drills.docker import reap_docker_sandboxes
from opsverify.drills.local import reap_local_sandboxes
from opsverify.drills.stanza import StanzaCluster, StanzaRestore
from opsverify.drills.stanza_docker import StanzaContainer
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.kinds.restore.restored import DrillHooks, Restored
from opsverify.kinds.restore.teardown import Teardown, stop_sandbox
from opsverify.units import format_size

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck
    from opsverify.kinds.backups.tools_model import PgBackRestSettings


def restore_stanza(
    entry: BackupCheck, ctx: ProbeContext, facts: DrillFacts, hooks: DrillHooks, teardown: Teardown
) -> Restored | None:
    """The restored cluster's URL (its `database`), or None when a step failed (`facts` says why)."""
    settings, spec = entry.pgbackrest, entry.restore
    assert settings is not None
    assert spec is not None
    backup = _find(entry, ctx, facts, settings)
    if backup is None:
        return None
    cluster: StanzaCluster | StanzaContainer
    if spec.sandbox == "docker":
        assert spec.image is not None  # the config model requires it
        facts.reaped += reap_docker_sandboxes(docker_host=spec.docker_host)
        cluster = StanzaContainer(spec.image, spec.docker_host, backup.version)
        teardown.add("remove the restored cluster's container", lambda: stop_sandbox(cluster))
    else:
        facts.reaped += reap_local_sandboxes()
        if settings.work_dir:
            facts.reaped += reap_local_sandboxes(root=Path(settings.work_dir).expanduser())
        cluster = StanzaCluster(spec.server_bin, settings.work_dir, backup.version)
        teardown.add("stop the restored cluster and remove its folder", lambda: stop_sandbox(cluster))
    with facts.step("restore") as step:
        if isinstance(cluster, StanzaContainer):
            cluster.prepare(settings.stanza, settings.config, settings.repo)
            where = f"container {cluster.name} of {cluster.image} ({cluster.describe_mounts()})"
        else:
            cluster.prepare()
            where = str(cluster.workdir)
        facts.sandbox, facts.sandbox_detail = cluster.kind, f"pgBackRest restore in {where}"
        try:
            restore = _restore_settings(settings, backup, spec.restore_timeout())
        except SourceError as exc:
            facts.fail(str(exc))
            return None
        facts.restore = cluster.restore(restore, backup.size)
        step.detail = f"{facts.restore.command}, {backup.name}, {format_size(backup.size)}"
        if not facts.restore.ok:
            facts.fail(facts.restore.error or "restore failed")
            return None
    with facts.step("start") as step:
        cluster.start_server(settings.recovery_timeout)
        facts.sandbox_detail = cluster.describe()
        step.detail = facts.sandbox_detail
        if hooks.on_sandbox_ready is not None:
            hooks.on_sandbox_ready(cluster)
    with facts.step("recovery") as step:
        replayed = cluster.wait_for_recovery(settings.recovery_timeout)
        target = f"target_time {settings.target()}" if settings.target_time else "the end of the WAL archive"
        step.detail = f"recovered to {target}" + (f"; last transaction {replayed}" if replayed else "")
    facts.database = settings.database
    return Restored("postgres", url=cluster.url_of(settings.database))


def _find(
    entry: BackupCheck, ctx: ProbeContext, facts: DrillFacts, settings: PgBackRestSettings
) -> StanzaBackup | None:
    """The backup to restore: `set` when given (it must be in the stanza), else the newest."""
    with facts.step("find") as step:
        try:
            source = open_source(entry, ctx.base_dir)
        except SourceError as exc:
            facts.backup = BackupFacts(ctx.path(entry.path), entry.pattern, error=str(exc))
            step.ok = False
            return None
        backup = facts.backup = BackupFacts(source.location, entry.pattern, location=source.place)  # type: ignore[arg-type]
        try:
            with source:
                listing = source.list(entry.pattern, entry.ignore)
        except SourceError as exc:
            backup.error, step.ok = str(exc), False
            return None
        backup.files = listing.complete
        if backup.newest is None:
            step.ok = False
            return None
        stanza = [b for b in backup.files if isinstance(b, StanzaBackup)]
        picked = _pick(stanza, settings, facts)
        if picked is None:
            return None
        assert isinstance(picked, StanzaBackup)
        step.detail = picked.name
        facts.backup_url = f"pgbackrest:{settings.stanza}/{picked.label}"  # the evidence's `file`
        return picked


def _pick(
    backups: list[StanzaBackup], settings: PgBackRestSettings, facts: DrillFacts
) -> StanzaBackup | None:
    """`set`; else with `target_time` the newest backup that ended before it; else the newest."""
    if settings.set:
        chosen = [b for b in backups if b.label == settings.set]
        if not chosen:
            facts.fail(
                f"pgbackrest.set: no backup {settings.set!r} in stanza {settings.stanza} (its backups: "
                f"{', '.join(b.label for b in backups)}): choose one of them, or drop `set` to restore the newest"
            )
            return None
        return chosen[0]
    if settings.target_time is not None:
        target = settings.target_time.timestamp()
        before = [b for b in backups if b.mtime <= target]
        if not before:
            oldest = min(backups, key=lambda b: b.mtime)
            facts.fail(
                f"pgbackrest.target_time {settings.target()}: no backup of stanza {settings.stanza} ended "
                f"before it (the oldest, {oldest.label}, ended at {_utc(oldest.mtime)}): choose a later time"
            )
            return None
        return before[0]
    return backups[0]


def _utc(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S+00")


def _restore_settings(settings: PgBackRestSettings, backup: StanzaBackup, timeout: float) -> StanzaRestore:
    return StanzaRestore(
        PGBACKREST.resolve(settings.bin),
        settings.stanza,
        settings.config,
        settings.repo,
        backup.label,
        settings.target(),
        timeout,
        tuple(os.environ[name] for name in PGBACKREST.secret_env if os.environ.get(name)),
    )
