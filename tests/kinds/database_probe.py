"""What the probe tests of the SQL database kinds (postgres, mysql) share, against the same test database
(tests/probes/conftest.py, tests/mysql_server.py): a healthy entry, a wrong revision and queries out of bounds,
a long query running in another session and what the entry's own check says about it and about the
connections in use, and a refused port."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from opsverify.kinds.database_facts import ServerFacts


@contextlib.contextmanager
def running_meanwhile(query: Callable[[], None], cancel: Callable[[], None]) -> Iterator[None]:
    """`query` (a long one, in another session) runs in a thread for the block; `cancel` stops it after."""
    ready = threading.Event()

    def run() -> None:
        ready.set()
        query()

    thread = threading.Thread(target=run)
    thread.start()
    ready.wait()
    try:
        yield
    finally:
        cancel()
        thread.join()


def assert_healthy_database_passes(
    check: Callable[..., tuple[Any, ServerFacts]],
    problems: Callable[..., list[str]],
    url: str,
    revision: str,
    exists: object,
    **keys: Any,
) -> ServerFacts:
    """In the test database (`revision`, 3 pending jobs), an entry with every expectation met (and `keys`)
    passes its own check and each query's (`exists`: what the server's `select exists(...)` returns), and
    the facts hold what the probe saw."""
    __tracebackhide__ = True
    entry, facts = check(
        url,
        expect_revision={"sql": "select version_num from alembic_version", "equals": revision},
        max_connections_pct=100,
        max_query_seconds=60,
        queries={
            "pending-jobs": {
                "sql": "select count(*) from jobs where status = 'pending'",
                "equals": 3,
                "max": 10,
            },
            "has-jobs": {"sql": "select exists(select 1 from jobs)", "equals": exists},
        },
        **keys,
    )
    for rule in (None, *entry.queries):
        assert problems(entry, facts, rule) == [], facts.summary()
    assert facts.connected
    assert facts.read_only
    assert facts.revision is not None
    assert facts.revision.value == revision
    assert facts.queries["pending-jobs"].value == 3
    assert facts.connections is not None
    assert facts.connections >= 1
    assert facts.max_connections is not None
    assert facts.max_connections > 1
    return facts


def long_query_problem(
    check: Callable[..., tuple[Any, ServerFacts]],
    problems: Callable[..., list[str]],
    url: str,
    wait: float,
    query: str,
) -> tuple[str, int]:
    """`wait` seconds into the long query (`query`: its excerpt), the probe sees it, at least `int(wait)`
    seconds old, and the entry's own check (max_connections_pct 0.1, max_query_seconds 1) finds too many
    connections and the long query: that problem's text, and the query's session id."""
    __tracebackhide__ = True
    time.sleep(wait)
    entry, facts = check(url, max_query_seconds=1, max_connections_pct=0.1)
    assert facts.longest_query is not None
    assert facts.longest_query.seconds >= int(wait)
    assert facts.longest_query.query == query
    connections, longest = problems(entry, facts)
    assert connections.startswith("connections: expected <= 0.1%, got ")
    assert f"got {facts.connections} of max_connections {facts.max_connections} in use" in connections
    return longest, facts.longest_query.pid


def assert_refused_fails_every_check(
    check: Callable[..., tuple[Any, ServerFacts]],
    problems: Callable[..., list[str]],
    url: str,
    port: int,
    server: str,
) -> None:
    """Against a refused `port` (in `url`), the entry's own check and each named query's check fail with the
    connection's problem, which asks whether `server` runs."""
    __tracebackhide__ = True
    entry, facts = check(url, queries={"pending-jobs": {"sql": "select count(*) from jobs", "max": 10}})
    refused = (
        f"connection refused by 127.0.0.1:{port}/app (target unreachable: is {server} running and listening?)"
    )
    assert problems(entry, facts) == [refused]
    assert problems(entry, facts, "pending-jobs") == [refused]  # each query's check fails with the connection


def assert_wrong_revision_and_query_bounds_fail(
    check: Callable[..., tuple[Any, ServerFacts]], problems: Callable[..., list[str]], url: str
) -> None:
    """In the test database (revision 0086, 3 pending jobs, none done), a wrong revision fails the entry's
    own check, and each named query out of its bounds fails its own check, naming the bound and the SQL."""
    __tracebackhide__ = True
    entry, facts = check(
        url,
        expect_revision={"sql": "select version_num from alembic_version", "equals": "0087"},
        queries={
            "pending-jobs": {"sql": "select count(*) from jobs", "max": 2},
            "done-jobs": {"sql": "select count(*) from jobs where status = 'done'", "min": 1},
            "none": {"sql": "select id from jobs where false", "equals": 1},
            "text": {"sql": "select 'abc'", "min": 1},
        },
    )
    assert problems(entry, facts) == [
        'revision: expected "0087", got "0086" (select version_num from alembic_version)'
    ]
    assert {rule: problems(entry, facts, rule) for rule in entry.queries} == {
        "pending-jobs": ["query pending-jobs: expected <= 2, got 3 (select count(*) from jobs)"],
        "done-jobs": [
            "query done-jobs: expected >= 1, got 0 (select count(*) from jobs where status = 'done')"
        ],
        "none": ["query none: expected = 1, got no rows (select id from jobs where false)"],
        "text": ["query text: expected a number, got \"abc\" (select 'abc')"],
    }
