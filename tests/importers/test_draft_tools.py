"""`opsverify draft` on a guide that backs up with restic, Borg and pgBackRest: entries with their `restic:` /
`borg:` / `pgbackrest:` blocks, secrets only as ${VARS} (never a value the guide shows), max_age from clear cron
schedules, restore commands as drills; the written target loads and validates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.importers.conftest import env_example
from tests.importers.test_draft import drafted

GUIDE = """\
# Backups

## Settings

```bash
export RESTIC_REPOSITORY=s3:https://s3.eu-west-1.amazonaws.com/acme-backups/restic
export RESTIC_PASSWORD_FILE=/etc/restic/password
export RESTIC_PASSWORD=hunter2-literal
BORG_REPO=ssh://backup@nas.example.com/srv/borg
BORG_PASSPHRASE='very-secret-phrase'
```

## Nightly

```cron
0 3 * * * pg_dump -U app app | restic backup --stdin --stdin-filename app.sql --host db1 --tag nightly
30 3 * * * restic backup /srv/uploads
0 4 * * 0 borg create --stats ::uploads-{now:%Y-%m-%d} /srv/uploads
0 1 * * 0 pgbackrest --stanza=main --type=full backup
0 1 * * 1-6 pgbackrest --stanza=main --type=diff backup
```

Weekly deep check: `restic check --read-data-subset=1/7`, `borg check --verify-data`.

## Restore

RTO: 2 hours.

```bash
restic snapshots
restic -r /srv/restic-local restore latest --target /tmp/restore --include /srv/uploads
restic dump latest /app.sql | psql -d app_restore
borg extract ::uploads-2024-05-01 srv/uploads
pgbackrest --stanza=main --delta restore
```
"""


@pytest.fixture
def drafted_tools(tmp_path: Path) -> tuple[dict[str, Any], str, Path]:
    guide = tmp_path / "backups.md"
    guide.write_text(GUIDE)
    return drafted(tmp_path, guide)  # drafted() loads and validates it with its .env.example


def test_restic_backup_of_a_piped_dump_in_a_bucket(drafted_tools: tuple[dict[str, Any], str, Path]) -> None:
    backups = drafted_tools[0]["backups"]
    db = backups["restic-db"]
    assert (db["path"], db["pattern"], db["format"]) == ("/", "app.sql", "pg-plain")
    assert db["restic"] == {
        "repository": "s3:https://s3.eu-west-1.amazonaws.com/acme-backups/restic",
        "password": "${RESTIC_PASSWORD}",
        "host": "db1",
        "tags": ["nightly"],
        "read_data_subset": "1/7",
    }
    assert db["s3"] == {
        "access_key_id": "${AWS_ACCESS_KEY_ID}",
        "secret_access_key": "${AWS_SECRET_ACCESS_KEY}",
    }
    assert (db["max_age"], db["tiers"]) == ("26h", ["daily"])
    assert db["restore"] == {"sandbox": "url", "sandbox_url": "${DRILL_ADMIN_URL}", "rto": "2h"}
    assert db["description"].startswith("backups.md:16: pg_dump -U app app | restic backup --stdin")


def test_a_folder_backup_and_its_restore(drafted_tools: tuple[dict[str, Any], str, Path]) -> None:
    backups, text, _ = drafted_tools
    uploads = backups["backups"]["restic-uploads"]
    assert (uploads["path"], uploads["pattern"], uploads["max_age"]) == ("/srv/uploads", "*", "26h")
    local = backups["backups"][
        "restic-uploads-2"
    ]  # `restic -r /srv/restic-local restore ...`: another repository
    assert local["restic"]["repository"] == "/srv/restic-local"
    assert local["restore"] == {"expect": {"min_count": 1}, "rto": "2h"}
    assert "the drill restores /srv/uploads and expects at least 1 file" in text


def test_borg_create_in_a_weekly_cron_and_its_extract(
    drafted_tools: tuple[dict[str, Any], str, Path],
) -> None:
    borg = drafted_tools[0]["backups"]["borg-uploads"]
    assert borg["borg"] == {
        "repository": "ssh://backup@nas.example.com/srv/borg",
        "passphrase": "${BORG_PASSPHRASE}",
        "prefix": "uploads-",
        "check": "verify-data",
    }
    assert (borg["path"], borg["max_age"], borg["tiers"]) == ("/srv/uploads", "8d", ["weekly"])
    assert borg["restore"]["expect"] == {"min_count": 1}


def test_pgbackrest_backup_types_and_an_unclear_schedule(
    drafted_tools: tuple[dict[str, Any], str, Path],
) -> None:
    target, text, _ = drafted_tools
    stanza = target["backups"]["pgbackrest-main"]
    assert stanza["pgbackrest"] == {
        "stanza": "main",
        "max_age": {"full": "8d"},
    }  # `1-6`: no clear gap, no diff
    assert stanza["restore"] == {"sandbox": "local", "rto": "2h"}
    assert "pgbackrest --stanza=main --delta restore`: the drill restores the newest backup" in text


def test_secrets_are_variables_never_the_guides_values(
    drafted_tools: tuple[dict[str, Any], str, Path],
) -> None:
    _, text, output = drafted_tools
    example = env_example(output).read_text()
    for secret in ("hunter2-literal", "very-secret-phrase"):
        assert secret not in text
        assert secret not in example
    assert "RESTIC_PASSWORD=change-me" in example
    assert "BORG_PASSPHRASE=change-me" in example
    assert "/etc/restic/password: put its content here" in example


def test_a_repository_with_a_password_in_its_url_becomes_a_variable(tmp_path: Path) -> None:
    guide = tmp_path / "rest.md"
    guide.write_text(
        "# Backups\n\n```bash\nrestic -r rest:https://user:pa55word@backup.example.com/repo backup /srv/data\n```\n"
    )
    target, text, output = drafted(tmp_path, guide)
    assert target["backups"]["restic-data"]["restic"]["repository"] == "${RESTIC_REPOSITORY}"
    assert "pa55word" not in text + env_example(output).read_text()
