"""Notification state kept across runs: consecutive failures and when each check last alerted.

It lives in the state store (opsverify.state.store: SQLite under reports/state, or a shared PostgreSQL),
read and written under the store's lock for the whole of a run's notifying. It holds check ids, counts and
times only: no reasons, no URLs, nothing that could be a secret.
"""

from __future__ import annotations

from opsverify.state.model import CheckState, NotifyState

__all__ = ["CheckState", "NotifyState"]
