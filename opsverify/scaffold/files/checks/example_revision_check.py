"""Example of a hand-written check: the API's expected database revision against the database's.

This file does NOT run as it is: pytest collects only files named test_*.py. To use it, set HEALTH_ENTRY
and DATABASE_ENTRY below to the names in your target file, then rename it:

    git mv checks/example_revision_check.py checks/test_revision.py

It then runs beside opsverify's built-in checks in the tier of its marker (`opsverify run daily --target
prod`), and skips, saying what is missing, on a target without those entries.

Fixtures for hand-written checks:
  target  the loaded target file (`target.name`, `target.model.http["api-health"]`, `target.base_dir`)
  http    a requests session with a default 10 s timeout
  pg      `pg("main")` -> a read-only psycopg connection (statement_timeout set) to that postgres entry
"""

import pytest
import requests

from opsverify.redaction import redact

# An http entry whose JSON reports `expected_revision` (the revision its code was built for), and the
# postgres entry of the same deployment: change these to the names in your target file.
HEALTH_ENTRY = "api-health"
DATABASE_ENTRY = "main"
REVISION_SQL = "select version_num from alembic_version"


@pytest.mark.daily
def test_api_expects_the_database_revision(target, http, pg):
    """The API's /healthz names the migration its code expects; the database must be at that revision."""
    health = target.model.http.get(HEALTH_ENTRY)
    missing = [f"http entry {HEALTH_ENTRY!r}"] if health is None else []
    missing += [] if DATABASE_ENTRY in target.model.postgres else [f"postgres entry {DATABASE_ENTRY!r}"]
    if missing:
        pytest.skip(
            f"target {target.name} has no {' and no '.join(missing)} to cross-check "
            "(set HEALTH_ENTRY / DATABASE_ENTRY in checks/test_revision.py)"
        )
    expected, problem = fetch_expected_revision(http, health, target.base_dir)
    if problem:
        pytest.fail(redact(f"{health.url}: {problem}"), pytrace=False)  # never show a secret in a URL
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
