"""The state store: every check result of every run, and the notification state, in one database.

SQLite (`reports/state/opsverify.db`, WAL mode) by default; PostgreSQL, in a schema of its own, when the
target says `state: {url: postgresql://...}` or OPSVERIFY_STATE_URL is set, so several runners share it.
"""
