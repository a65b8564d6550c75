"""pgBackRest stanzas as a backup source: `info --output=json` freshness per type, the WAL archive covering the
newest backup, `pgbackrest verify`, and every failure a sentence with the fix. A real stanza, damaged on purpose."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from opsverify.kinds.backups.model import BackupCheck
from tests.backups.s3.helpers import run_check
from tests.backups.tools.stanza import STANZA, Stanza


def entry(config: Path, **settings: Any) -> BackupCheck:
    keys = settings.pop("keys", {})
    return BackupCheck.model_validate(
        {"max_age": "1d", **keys, "pgbackrest": {"stanza": STANZA, "config": str(config), **settings}}
    )


def info(config: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["pgbackrest", f"--config={config}", f"--stanza={STANZA}", "info", "--output=json"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    stanzas: list[dict[str, Any]] = json.loads(done.stdout)
    return stanzas[0]


def test_full_and_incremental_backups_listed_verified_and_passing(
    stanza: Stanza, tmp_path: Path, private_tmp: Path
) -> None:
    config = stanza.copy(tmp_path)
    facts, problems = run_check(entry(config, max_age={"full": "1d", "incr": "1d"}))
    assert problems == [], facts.error
    assert [f.name.split(" backup ")[0] for f in facts.files] == ["incr", "full"]
    assert facts.newest is not None
    labels = [b["label"] for b in info(config)["backup"]]
    assert facts.newest.name == f"incr backup {labels[1]}"
    assert facts.inspection is not None
    assert facts.inspection.format == "pgbackrest"
    assert facts.inspection.defects == []


def test_a_type_older_than_its_max_age_fails(stanza: Stanza, tmp_path: Path, private_tmp: Path) -> None:
    config = stanza.copy(tmp_path)
    _facts, problems = run_check(entry(config, verify=False, max_age={"full": "1s"}))
    assert len(problems) == 1
    assert ": newest full backup: expected at most 1s old (pgbackrest.max_age.full), got " in problems[0]


def test_stanza_without_backups_fails_closed(stanza: Stanza, tmp_path: Path, private_tmp: Path) -> None:
    config = stanza.copy(tmp_path, empty=True)
    facts, problems = run_check(entry(config))
    assert facts.newest is None
    assert len(problems) == 1
    assert "no backup" in problems[0]


def test_missing_stanza_is_named(stanza: Stanza, tmp_path: Path, private_tmp: Path) -> None:
    config = stanza.copy(tmp_path)
    facts, _problems = run_check(
        BackupCheck.model_validate({"pgbackrest": {"stanza": "nope", "config": str(config)}})
    )
    assert facts.error == (
        f"pgBackRest stanza nope ({config}): pgbackrest says 'missing stanza path': the stanza does not exist in "
        "the repository: is `stanza` right? (`pgbackrest stanza-create` makes it)"
    )


def test_missing_config_file_is_named(tmp_path: Path, private_tmp: Path) -> None:
    config = tmp_path / "nowhere.conf"
    facts, _problems = run_check(entry(config))
    assert (
        facts.error
        == f"pgBackRest stanza main ({config}): the config file {config} does not exist: is `config` right?"
    )


def test_not_installed_names_the_package(tmp_path: Path, private_tmp: Path) -> None:
    facts, _problems = run_check(entry(tmp_path / "x.conf", bin="/nonexistent/pgbackrest"))
    assert facts.error == (
        "pgbackrest is not installed (no `/nonexistent/pgbackrest` on PATH): install the Debian package "
        "pgbackrest (`apt-get install pgbackrest`), or set `bin` to its path"
    )


def test_damaged_backup_file_is_caught_by_verify_not_info(
    stanza: Stanza, tmp_path: Path, private_tmp: Path
) -> None:
    config = stanza.copy(tmp_path)
    full = info(config)["backup"][0]["label"]
    damaged = max(
        (p for p in (tmp_path / "repo" / "backup" / STANZA / full / "pg_data").rglob("*") if p.is_file()),
        key=lambda p: p.stat().st_size,
    )
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    _facts, quick = run_check(entry(config, verify=False))
    assert quick == []  # the listing alone sees nothing wrong
    _facts, problems = run_check(entry(config))
    assert len(problems) == 1
    assert f"pgbackrest verify of stanza {STANZA} found errors: " in problems[0]
    assert "invalid checksum '" in problems[0]  # pgbackrest's own finding, the damaged file named
    assert "take a new full backup" in problems[0]


def test_wal_archive_ending_before_the_newest_backup_is_a_gap(
    stanza: Stanza, tmp_path: Path, private_tmp: Path
) -> None:
    config = stanza.copy(tmp_path)
    stop = info(config)["backup"][-1]["archive"]["stop"]
    for segment in (tmp_path / "repo" / "archive" / STANZA).rglob(f"{stop[:24]}*"):
        segment.unlink()
    newest = info(config)["archive"][0]["max"]
    assert newest < stop
    _facts, problems = run_check(entry(config, verify=False))
    assert problems == [
        f"incr backup {info(config)['backup'][-1]['label']}: the WAL archive ends at {newest}, before the backup's "
        f"last segment {stop}: archiving stopped; check `archive_command` and the PostgreSQL log"
    ]
