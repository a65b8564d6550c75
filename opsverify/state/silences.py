"""Silences: `opsverify silence CHECK_ID|PATTERN --for 2h --reason deploy`, kept in the state store.

A silence covers the checks of one target whose id matches its pattern (shell wildcards, `http:*`); it
expires by itself. A silenced failure still fails the run; it only sends nothing.
"""

from __future__ import annotations

import fnmatch
import secrets
import time
from dataclasses import dataclass

from opsverify.redaction import redact
from opsverify.state.store import StateStore


@dataclass(frozen=True)
class Silence:
    id: str
    target: str
    pattern: str
    until: float
    reason: str
    created: float

    def covers(self, target: str, check_id: str) -> bool:
        return target == self.target and pattern_covers(self.pattern, check_id)

    def label(self) -> str:
        until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.until))
        return f"silenced until {until}" + (f" ({self.reason})" if self.reason else "")


def pattern_covers(pattern: str, check_id: str) -> bool:
    """`http:api`, `http:*`, or an entry (`postgres:main`) for each of its rules (`postgres:main/slow`)."""
    return fnmatch.fnmatchcase(check_id, pattern) or check_id.split("/", 1)[0] == pattern


def add_silence(store: StateStore, target: str, pattern: str, seconds: float, reason: str) -> Silence:
    store.ensure_schema()
    now = time.time()
    silence = Silence(secrets.token_hex(4), target, pattern, now + seconds, redact(reason)[:300], now)
    with store.transaction() as cur:
        cur.execute(
            store.sql(
                f"INSERT INTO {store.table('silences')} (id, target, pattern, ends, reason, created) "
                "VALUES (?, ?, ?, ?, ?, ?)"
            ),
            (silence.id, silence.target, silence.pattern, silence.until, silence.reason, silence.created),
        )
    return silence


def active_silences(store: StateStore, target: str | None = None, now: float | None = None) -> list[Silence]:
    """The silences that have not expired (of one target, or all), soonest to expire first."""
    store.ensure_schema()
    moment = time.time() if now is None else now
    where, params = "ends > ?", list[object]([moment])
    if target is not None:
        where, params = where + " AND target = ?", [*params, target]
    with store.transaction() as cur:
        cur.execute(
            store.sql(
                f"SELECT id, target, pattern, ends, reason, created FROM {store.table('silences')} "
                f"WHERE {where} ORDER BY ends"
            ),
            params,
        )
        rows = cur.fetchall()
    return [Silence(str(r[0]), str(r[1]), str(r[2]), float(r[3]), str(r[4]), float(r[5])) for r in rows]


def clear_silences(store: StateStore, target: str, pattern: str | None = None) -> int:
    """End the target's silences (those with this pattern or id, or all); how many were ended."""
    store.ensure_schema()
    where, params = "target = ?", list[object]([target])
    if pattern is not None:
        where, params = where + " AND (pattern = ? OR id = ?)", [*params, pattern, pattern]
    with store.transaction() as cur:
        cur.execute(store.sql(f"SELECT count(*) FROM {store.table('silences')} WHERE {where}"), params)
        count = int(cur.fetchone()[0])
        cur.execute(store.sql(f"DELETE FROM {store.table('silences')} WHERE {where}"), params)
    return count


def silence_for(silences: list[Silence], target: str, check_id: str) -> Silence | None:
    return next((s for s in silences if s.covers(target, check_id)), None)
