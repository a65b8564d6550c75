"""The state file: remembered due times survive restarts, a damaged file never blocks the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

from opsverify.scheduler.state import StateStore


def test_updates_keep_other_jobs_and_are_read_back(tmp_path):
    store = StateStore(tmp_path)
    due = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    store.update("drill", fingerprint="every day at 02:00 (Europe/Berlin)", next_due=due)
    store.update("probe", fingerprint="every 30s", next_due=due)
    store.update("drill", last_exit_code=1)
    assert store.remembered_due("drill", "every day at 02:00 (Europe/Berlin)") == due
    assert store.job("drill")["last_exit_code"] == 1
    assert store.remembered_due("probe", "every 1m") is None, "a different timing forgets the due time"
    assert store.remembered_due("nobody", "every 30s") is None
    assert not list(tmp_path.glob(".*.tmp")), "writes go through a temporary file that is renamed"


def test_a_damaged_or_odd_state_file_is_ignored(tmp_path):
    store = StateStore(tmp_path)
    store.path.write_text("{not json")
    assert store.load() == {}
    store.path.write_text('{"drill": {"fingerprint": "f", "next_due": "2026-01-01T02:00:00"}, "x": 3}')
    assert store.remembered_due("drill", "f") is None, "a due time without a zone is not trusted"
    assert list(store.load()) == ["drill"]
    store.update("drill", fingerprint="f", next_due=datetime(2026, 1, 1, tzinfo=UTC))
    assert store.remembered_due("drill", "f") == datetime(2026, 1, 1, tzinfo=UTC)
