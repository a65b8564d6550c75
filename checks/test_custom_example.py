"""Example: checks of your own, next to the built-in ones. Copy this file to checks/test_<topic>.py and edit.

Fixtures (fixtures/core.py) for hand-written checks:
  target  the loaded target file (`target.name`, `target.model.http["api-health"]`, ...)
  http    a requests session with a default 10 s timeout
  pg      `pg("main")` -> a read-only psycopg connection (statement_timeout set) to that postgres entry

Two patterns are shown:
  1. one test per entry of a kind: `@pytest.mark.opsverify_kind("postgres")` gives the test a `check`
     (its entry, name and tiers as marks) for every postgres entry of the target, and no test at all
     for a target without one;
  2. a check that needs particular entries by name: it skips, naming what is missing, on targets that
     do not have them.
"""

import pytest
import requests

from opsverify.config.secrets import redact
from opsverify.verdict import explain

# The entries pattern 2 cross-checks: change these to the names in your target file.
# HEALTH_ENTRY: an http entry whose JSON reports `expected_revision` (like CleanWithSnapshot's /healthz);
# DATABASE_ENTRY: the postgres entry of the same deployment.
HEALTH_ENTRY = "api-health"
DATABASE_ENTRY = "main"
REVISION_SQL = "select version_num from alembic_version"


@pytest.mark.opsverify_kind("postgres")
def test_no_invalid_indexes(check, pg):
    """A failed CREATE INDEX CONCURRENTLY leaves an invalid index: updated on every write, never used."""
    rows = (
        pg(check.name)
        .execute("select indexrelid::regclass::text from pg_index where not indisvalid order by 1")
        .fetchall()
    )
    if rows:
        names = ", ".join(name for (name,) in rows)
        problem = f"invalid indexes: {names}; rebuild them with `REINDEX INDEX CONCURRENTLY <name>`"
        pytest.fail(explain(check, [problem]), pytrace=False)


@pytest.mark.daily
def test_api_expects_the_database_revision(target, http, pg):
    """The API's /healthz names the migration its code expects; the database must be at that revision."""
    health = target.model.http.get(HEALTH_ENTRY)
    missing = [f"http entry {HEALTH_ENTRY!r}"] if health is None else []
    missing += [] if DATABASE_ENTRY in target.model.postgres else [f"postgres entry {DATABASE_ENTRY!r}"]
    if missing:
        pytest.skip(
            f"target {target.name} has no {' and no '.join(missing)} to cross-check "
            "(set HEALTH_ENTRY / DATABASE_ENTRY in checks/test_custom_example.py)"
        )
    expected, problem = fetch_expected_revision(http, health, target.base_dir)
    if problem:
        pytest.fail(redact(f"{health.url}: {problem}"), pytrace=False)  # redact as opsverify does
    row = pg(DATABASE_ENTRY).execute(REVISION_SQL).fetchone()
    actual = row[0] if row else None
    if actual != expected:
        pytest.fail(
            f"the API expects revision {expected!r}, the database is at {actual!r} ({REVISION_SQL}); "
            "run the migrations (`alembic upgrade head`) or roll the API back",
            pytrace=False,
        )


def fetch_expected_revision(http, health, base_dir):
    """GET the http entry's URL with its auth and TLS settings: (expected_revision, None) or (None, problem)."""
    verify = health.verify if isinstance(health.verify, bool) else str(base_dir / health.verify)
    auth, headers = None, {}
    if health.auth and health.auth.bearer:
        headers["Authorization"] = f"Bearer {health.auth.bearer}"
    elif health.auth and health.auth.basic:
        auth = (health.auth.basic.username, health.auth.basic.password)
    try:
        response = http.get(health.url, headers=headers, auth=auth, verify=verify, timeout=health.timeout)
    except requests.RequestException as exc:
        return None, f"no response ({exc})"
    try:
        return response.json()["expected_revision"], None
    except (ValueError, KeyError, TypeError):
        return (
            None,
            f"{response.status_code}: expected JSON with `expected_revision`, got {response.text[:200]!r}",
        )
