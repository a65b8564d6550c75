"""The forms operations guides write things in, each read by `opsverify draft`: dump formats and file patterns,
restores as drills, endpoints without curl, requirements and an application's check commands (issue 21, 26)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsverify.importers.guide import draft_guide
from tests.importers.conftest import GUIDES, env_example, load_with_env_example, run_cli
from tests.importers.corpus_score import CORPUS, guides


def drafted(tmp_path: Path, text: str) -> tuple[dict[str, Any], dict[str, str], str]:
    guide = tmp_path / "GUIDE.md"
    guide.write_text(text, encoding="utf-8")
    output = tmp_path / "targets" / "t.yaml"
    assert run_cli("draft", str(guide), "-o", str(output)) == 0
    load_with_env_example(output)
    example = env_example(output).read_text(encoding="utf-8")
    env = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    return yaml.safe_load(output.read_text(encoding="utf-8")), env, example


def only_backup(target: dict[str, Any]) -> dict[str, Any]:
    (entry,) = target["backups"].values()
    return dict(entry)


@pytest.mark.parametrize(
    ("command", "pattern", "fmt"),
    [
        ("pg_dump -Fc shop > /srv/b/shop.dump", "shop.dump", "pg-custom"),
        ("pg_dump -F c -f /srv/b/shop_$(date +%F).dump shop", "shop_*.dump", "pg-custom"),
        (
            "pg_dump --format=custom --file=/srv/b/shop-`date +%Y%m%d`.backup shop",
            "shop-*.backup",
            "pg-custom",
        ),
        ("pg_dump --format=directory -j 4 -f /srv/b/shop-$(date +%s) shop", "shop-*", "pg-directory"),
        ("pg_dump -Fd -f /srv/b/shop_dir_{date} shop", "shop_dir_*", "pg-directory"),
        ("pg_dump -Fp shop > /srv/b/shop-$(date +%F).sql", "shop-*.sql", "pg-plain"),
        ("pg_dump -Z 6 shop > /srv/b/shop-$(date +%F).sql.gz", "shop-*.sql.gz", "pg-plain-gz"),
        ("pg_dump --compress=9 shop > /srv/b/shop.sql.gz", "shop.sql.gz", "pg-plain-gz"),
        ("pg_dump -Z0 shop > /srv/b/shop.sql", "shop.sql", "pg-plain"),
        ("pg_dump shop | gzip -9 > /srv/b/shop_${TIMESTAMP}.sql.gz", "shop_*.sql.gz", "pg-plain-gz"),
        (
            "pg_dumpall -U postgres | gzip > /srv/b/all-$(date +%Y-%m-%d).sql.gz",
            "all-*.sql.gz",
            "pg-plain-gz",
        ),
        ("mysqldump --single-transaction shop > /srv/b/shop-$(date +%F).sql", "shop-*.sql", "mysql-plain"),
        ("mariadb-dump shop | gzip > /srv/b/shop_<date>.sql.gz", "shop_*.sql.gz", "mysql-plain-gz"),
        ("mysqldump shop -r /srv/b/shop-2024-01-31.sql", "shop-*.sql", "mysql-plain"),
        (
            "docker compose exec -T db pg_dump -U shop -Fc shop > /srv/b/shop_20240131.dump",
            "shop_*.dump",
            "pg-custom",
        ),
        (
            "kubectl exec -n shop db-0 -- pg_dump -U shop shop > /srv/b/shop-$(date +%F).sql",
            "shop-*.sql",
            "pg-plain",
        ),
        ("sudo -u postgres pg_dump -Fc shop -f /srv/b/shop.dump", "shop.dump", "pg-custom"),
        ("sudo -iu postgres pg_dump -Fc -f /srv/b/shop-$(date +%F).dump shop", "shop-*.dump", "pg-custom"),
        ("sudo tar -C /srv -czf /srv/b/files-$(date +%F).tar.gz files", "files-*.tar.gz", "tar"),
        ("sqlite3 /srv/app.db \".backup '/srv/b/app-$(date +%F).db'\"", "app-*.db", "sqlite"),
        ("tar -czf /srv/b/files_$(date +%F).tar.gz /srv/files", "files_*.tar.gz", "tar"),
        ("tar --create --gzip --file=/srv/b/files-$(date +%F).tgz /srv/files", "files-*.tgz", "tar"),
        ("./app export --output /srv/b/export-$(date +%F).json", "export-*.json", "json"),
    ],
)
def test_each_dump_form_is_a_backups_entry_with_its_format(
    tmp_path: Path, command: str, pattern: str, fmt: str
) -> None:
    target, _, _ = drafted(tmp_path, f"# Backups\n\n```bash\n{command}\n```\n")
    entry = only_backup(target)
    assert (entry["pattern"], entry["format"]) == (pattern, fmt)
    assert entry["path"] == "/srv/b"  # the folder the guide states


def test_a_placeholder_name_is_filled_from_the_worked_example(tmp_path: Path) -> None:
    text = (
        "## Backup\n\n```\npg_dump -U app app > <backup-name>.sql\n```\n\nfor example `app-2024-05-01.sql`.\n"
    )
    target, env, _ = drafted(tmp_path, text)
    assert only_backup(target)["pattern"] == "app-*.sql"
    assert only_backup(target)["path"] == "${BACKUP_DIR}"  # no folder stated
    assert env["BACKUP_DIR"] == "/var/backups"


def test_a_guide_with_only_a_dump_and_its_restore_gets_a_backup_and_a_drill(tmp_path: Path) -> None:
    text = (
        "## Backup\n\n    docker compose exec -T db pg_dump -U app app > app.sql\n\n"
        "## Restore\n\n    docker compose exec -T db psql -U app app < app.sql\n\n"
        "The `users` and `orders` tables are back afterwards.\n"
    )
    target, env, example = drafted(tmp_path, text)
    entry = only_backup(target)
    assert (entry["pattern"], entry["format"]) == ("app.sql", "pg-plain")
    assert entry["restore"]["sandbox_url"] == "${DRILL_ADMIN_URL}"
    assert entry["restore"]["expect"]["tables"] == ["users", "orders"]
    assert env["DRILL_ADMIN_URL"] != env.get("DATABASE_URL")  # a separate scratch server
    assert re.search(r"# .*SEPARATE scratch PostgreSQL server.*never production.*\nDRILL_ADMIN_URL=", example)


@pytest.mark.parametrize(
    ("restore", "pattern", "fmt", "variable"),
    [
        (
            "gunzip -c /b/app-2024-01-01.sql.gz | psql -U app app",
            "app-*.sql.gz",
            "pg-plain-gz",
            "DRILL_ADMIN_URL",
        ),
        (
            "zcat /b/app-2024-01-01.sql.gz | mysql app",
            "app-*.sql.gz",
            "mysql-plain-gz",
            "DRILL_MYSQL_ADMIN_URL",
        ),
        ("mysql -u app -p app < /b/app_20240101.sql", "app_*.sql", "mysql-plain", "DRILL_MYSQL_ADMIN_URL"),
        ("pg_restore --clean -d app /b/app-20240101.dump", "app-*.dump", "pg-custom", "DRILL_ADMIN_URL"),
        (
            "cat /b/app-2024-01-01.sql | docker compose exec -T db psql -U app",
            "app-*.sql",
            "pg-plain",
            "DRILL_ADMIN_URL",
        ),
    ],
)
def test_each_restore_form_is_a_drill(
    tmp_path: Path, restore: str, pattern: str, fmt: str, variable: str
) -> None:
    target, _, _ = drafted(tmp_path, f"# Restore\n\n```sh\n{restore}\n```\n")
    entry = only_backup(target)
    assert (entry["pattern"], entry["format"]) == (pattern, fmt)
    assert entry["restore"] == {"sandbox": "url", "sandbox_url": "${" + variable + "}"}


def test_tar_extract_checks_the_archive_members(tmp_path: Path) -> None:
    target, _, _ = drafted(tmp_path, "# Restore\n\n    tar -xzf /b/files-2024-01-01.tar.gz -C /\n")
    assert only_backup(target)["min_files"] == 1


ENDPOINTS = """\
# Health

The application answers `GET /healthz` with 200.
The readiness endpoint `/ready` checks the database; `/ready?verbose=1` lists each dependency.

| Method | Path | Meaning |
|---|---|---|
| GET | `/live` | process up |

- https://status.example.com/api/ping
- See the [docs](https://docs.example.com/health) and `/var/www/app/health` on disk.

`https://app.example.com/heartbeat` returns 200 and `OK`.
The maintenance page `/maintenance` responds with 503.
"""


def test_endpoints_without_curl_become_http_checks(tmp_path: Path) -> None:
    target, env, _ = drafted(tmp_path, ENDPOINTS)
    urls = {entry["url"]: entry.get("expect") for entry in target["http"].values()}
    assert urls == {
        "${BASE_URL}/healthz": None,
        "${BASE_URL}/ready": None,
        "${BASE_URL}/ready?verbose=1": None,
        "${BASE_URL}/live": None,
        "${STATUS_URL}/api/ping": None,
        "${APP_URL}/heartbeat": {"body_regex": "OK"},
        "${BASE_URL}/maintenance": {"status": 503},
    }
    assert env["STATUS_URL"] == "https://status.example.com"


def test_a_base_url_variable_or_placeholder_host_is_a_base(tmp_path: Path) -> None:
    text = (
        '# Health\n\n```bash\ncurl "$API_BASE_URL/health"\ncurl -fsS https://<your-domain>/api/ready\n```\n\n'
        "- Status: https://{host}:8443/status\n"
    )
    target, env, _ = drafted(tmp_path, text)
    assert [entry["url"] for entry in target["http"].values()] == [
        "${API_BASE_URL}/health",
        "${BASE_URL}/api/ready",
        "${BASE_URL}/status",
    ]
    assert env["API_BASE_URL"] == "http://127.0.0.1:8000"
    assert env["BASE_URL"] == "https://app.example.com"


def test_requirements_and_check_commands(tmp_path: Path) -> None:
    text = (
        "## Requirements\n\n- PostgreSQL 13 or newer\n- MySQL 8.0+\n\n"
        "## Checks\n\n```console\n$ docker compose exec web python manage.py check --deploy\n"
        "$ sudo -u app ./bin/app doctor\n# bundle exec rake app:check\n$ ./bin/app maintenance --on\n```\n"
    )
    target, env, _ = drafted(tmp_path, text)
    assert target["postgres"]["main"]["queries"]["version"]["min"] == 130000
    assert target["mysql"]["main"]["queries"]["version"]["min"] == 80000
    commands = {name: (entry["run"], entry["via"]) for name, entry in target["command"].items()}
    assert commands == {
        "manage-py-check": (["python", "manage.py", "check", "--deploy"], "docker://${WEB_CONTAINER}"),
        "app-doctor": (["sudo", "-u", "app", "./bin/app", "doctor"], "${APP_VIA}"),
        "rake-app-check": (["bundle", "exec", "rake", "app:check"], "${APP_VIA}"),
    }  # `maintenance --on` changes the system: not a check
    assert env["APP_VIA"] == "local"


@pytest.mark.parametrize("guide", [*(CORPUS / f"{g}.md" for g in guides()), *sorted(GUIDES.glob("[!R]*.md"))])
def test_the_header_never_lists_a_converted_line_as_not_converted(guide: Path) -> None:
    draft = draft_guide(guide, "t")
    quoted = set(re.findall(rf"{re.escape(guide.name)}:(\d+):", yaml.safe_dump(draft.sections)))
    for note in draft.not_converted:
        if m := re.match(rf"{re.escape(guide.name)}:(\d+):", note):
            assert m.group(1) not in quoted, note
