"""Fixtures for hand-written checks in your ops repository's checks/ folder (registered by the plugin).

target            the loaded target file (`target.name`, `target.model.http["api-health"]`, ...)
http              a requests session with a default 10 s timeout (opsverify.httpclient's session type)
pg                `pg("main")` -> a read-only psycopg connection (statement_timeout set) to that postgres entry
latest_backup     `latest_backup("db-nightly")` -> the newest complete backup of that backups entry, from any
                  backup source (folder, SSH, S3, restic, borg, pgBackRest): `.open()` streams it,
                  `.download()` gives a local file (a temporary copy, removed when the test ends)
sandbox_postgres  `sandbox_postgres("db-nightly")` -> that entry's newest backup restored into a throwaway
                  database (dropped when the test ends):

  @pytest.mark.dr
  def test_invoices_balance(sandbox_postgres):
      db = sandbox_postgres("db-nightly")
      assert db.execute("select sum(amount) from ledger").fetchone()[0] == 0
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

from opsverify.config.target import LoadedTarget
from opsverify.kinds.base import ProbeContext
from opsverify.pytest_plugin.targets import loaded_targets, no_target_message
from opsverify.redaction import redact

if TYPE_CHECKING:
    import requests

    from opsverify.pytest_plugin.latest_backup import LatestBackup

DEFAULT_HTTP_TIMEOUT = 10.0  # the `http` fixture's timeout for a call that gives none


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> LoadedTarget:
    """The target of this run (the first one when several are given)."""
    targets = loaded_targets(pytestconfig)
    if not targets:
        raise pytest.UsageError(no_target_message(pytestconfig))
    return targets[0]


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A requests session with a default timeout, for checks of your own endpoints: the probes' session type
    (the environment's proxies and CA bundle, `.netrc`, credentials masked in output), with requests' own
    user agent."""
    from opsverify.httpclient import HttpSettings

    with HttpSettings(user_agent=None, timeout=DEFAULT_HTTP_TIMEOUT).session() as session:
        yield session


@pytest.fixture
def pg(target: LoadedTarget) -> Iterator[Callable[..., Any]]:
    """`pg("main")` -> a read-only psycopg connection to the target's postgres entry of that name."""
    from opsverify.kinds.postgres.probe import connect_readonly

    opened: list[Any] = []

    def connect(name: str | None = None) -> Any:
        entries = target.model.postgres  # type: ignore[attr-defined]
        if not entries:
            pytest.fail(f"target {target.name} has no postgres entries", pytrace=False)
        key = name or next(iter(entries))
        if key not in entries:
            pytest.fail(
                f"target {target.name} has no postgres entry {key!r}; it has {', '.join(entries)}",
                pytrace=False,
            )
        connection = connect_readonly(entries[key])
        opened.append(connection)
        return connection

    yield connect
    for connection in opened:
        connection.close()


def _entry(target: LoadedTarget, name: str | None, need_restore: bool = False) -> tuple[str, Any]:
    entries = dict(target.section("backups") or {})
    if not entries:
        pytest.fail(f"target {target.name} has no backups entries", pytrace=False)
    if need_restore:
        entries = {key: value for key, value in entries.items() if value.restore is not None}
        if not entries:
            pytest.fail(f"target {target.name} has no backups entry with a restore: block", pytrace=False)
    key = name or next(iter(entries))
    if key not in entries:
        pytest.fail(
            f"target {target.name} has no backups entry {key!r}{' with restore:' if need_restore else ''}; "
            f"it has {', '.join(entries)}",
            pytrace=False,
        )
    return key, entries[key]


def _context(target: LoadedTarget, name: str) -> ProbeContext:
    return ProbeContext(target.name, target.base_dir, target=target, entry_name=name)


@pytest.fixture
def latest_backup(target: LoadedTarget) -> Iterator[Callable[..., LatestBackup]]:
    """`latest_backup("db-nightly")` -> the newest complete backup of that entry, from whichever source holds
    it (a folder, SSH, a bucket, a restic/borg/pgBackRest repository); fails the test when there is none.
    `.open()` streams it, `.download()` gives a local file; both are cleaned up when the test ends."""
    from opsverify.pytest_plugin.latest_backup import newest_backup

    with ExitStack() as stack:

        def newest(name: str | None = None) -> LatestBackup:
            key, entry = _entry(target, name)
            return newest_backup(key, entry, target.base_dir, stack)

        yield newest


@pytest.fixture
def sandbox_postgres(target: LoadedTarget) -> Iterator[Callable[..., Any]]:
    """`sandbox_postgres("db-nightly")` -> a psycopg connection to that entry's newest backup, restored.

    The restore runs like the drill's (sandbox, integrity, restore); the database is dropped and the
    sandbox stopped when the test ends. The connection is read-write: it is a throwaway copy.
    """
    import psycopg

    from opsverify.kinds.restore.facts import DrillFacts
    from opsverify.kinds.restore.probe import restored_backup
    from opsverify.kinds.restore.verdict import drill_problems
    from opsverify.problem import problem_lines

    with ExitStack() as stack:

        def restore(name: str | None = None) -> Any:
            key, entry = _entry(target, name, need_restore=True)
            context = _context(target, key)
            facts = DrillFacts(target.name, key)
            restored = stack.enter_context(restored_backup(entry, context, facts))
            if restored is None or restored.kind != "postgres" or restored.url is None:
                problems = problem_lines(drill_problems(entry, facts)) or [
                    "the backup is not a PostgreSQL dump"
                ]
                pytest.fail(redact(f"restore of backups:{key} failed: " + "; ".join(problems)), pytrace=False)
            connection = psycopg.connect(restored.url, autocommit=True, connect_timeout=10)
            stack.callback(connection.close)
            return connection

        yield restore
