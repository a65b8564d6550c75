"""`opsverify draft GUIDE.md`: on a guide written for the test, and on the five seed guides (validates with
its .env.example; covers >= 70 % of the hand-written examples/seeds targets, the figures in docs/import.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.importers.conftest import GUIDES, env_example, load_with_env_example, run_cli
from tests.importers.seed_coverage import ROOT, SEEDS, coverage, table

GUIDE = """\
# Shop operations

## Health

```bash
curl -fsS -u "$ADMIN_USER:$ADMIN_PASSWORD" https://shop.example.com/api/health
```

Expected response:

```json
{"status": "ok", "database": {"connected": true}, "version": "1.2.3"}
```

```bash
curl -H "Authorization: Bearer s3cr3t-token" https://shop.example.com/admin/queue
```

## Alerts

- Disk usage >85%
- Memory usage > 90%
- SSL certificate expiring within 14 days

```yaml
- alert: PostgresDown
  expr: up{job="postgres"} == 0
  labels: {severity: critical}
```

## Backups

```bash
0 3 * * * pg_dump -U shop shop | gzip > /srv/backups/shop_$(date +%Y%m%d_%H%M%S).sql.gz
tar czf /srv/backups/uploads-$(date +%Y%m%d).tar.gz /srv/uploads
```

## Restore

Restore the newest dump into a scratch database. RTO: 2 hours. RPO: 24 hours.

## Maintenance

### Weekly

- [ ] Check the backups
"""


def drafted(tmp_path: Path, guide: Path) -> tuple[dict, str, Path]:  # type: ignore[type-arg]
    output = tmp_path / "out" / f"{guide.stem}.yaml"
    assert run_cli("draft", str(guide), "-o", str(output)) == 0
    load_with_env_example(output)
    return yaml.safe_load(output.read_text()), output.read_text(), output


def test_a_guide_becomes_checks(tmp_path: Path) -> None:
    guide = tmp_path / "shop.md"
    guide.write_text(GUIDE)
    target, text, output = drafted(tmp_path, guide)
    health = target["http"]["health"]
    assert health["url"] == "${SHOP_URL}/api/health"
    assert health["auth"] == {"basic": {"username": "${ADMIN_USER}", "password": "${ADMIN_PASSWORD}"}}
    assert health["expect"] == {"json": {"status": "ok", "database.connected": True}}
    assert health["description"].startswith("shop.md:6: curl -fsS -u")
    assert target["http"]["admin-queue"]["auth"] == {"bearer": "${API_TOKEN}"}
    assert "s3cr3t-token" not in text  # a literal secret becomes a variable
    env = env_example(output).read_text()
    assert "s3cr3t-token" not in env
    assert "API_TOKEN=change-me\n" in env
    assert target["host"]["disk"][0]["max_used_pct"] == 85
    assert target["host"]["memory"]["max_used_pct"] == 90
    assert target["tls"]["certificate"]["min_days_left"] == 14
    assert target["prometheus"]["alerts"]["rules"]["postgres-down"]["expr"] == 'up{job="postgres"} == 0'
    dump = target["backups"]["shop"]
    assert dump["pattern"] == "shop_*.sql.gz"
    assert dump["format"] == "pg-plain-gz"
    assert dump["max_age"] == "24h"  # the RPO
    assert dump["restore"]["rto"] == "2h"
    assert dump["tiers"] == ["daily", "weekly"]  # the daily cron line, then the weekly checklist
    assert target["backups"]["uploads"]["pattern"] == "uploads-*.tar.gz"


def test_a_guide_with_nothing_to_convert_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    guide = tmp_path / "empty.md"
    guide.write_text("# Notes\n\nNothing operational here.\n")
    assert run_cli("draft", str(guide), "-o", str(tmp_path / "t.yaml")) == 4
    err = capsys.readouterr().err
    assert f"error: {guide}: nothing to convert" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("seed", SEEDS)
def test_each_seed_guide_drafts_a_valid_target(tmp_path: Path, seed: str) -> None:
    target, text, _ = drafted(tmp_path, GUIDES / f"{seed}.md")
    assert text.startswith(f"# Imported by opsverify from {seed}.md.")
    for section, entries in target.items():
        if section in ("target", "env_file", "host"):
            continue
        for name, entry in entries.items():
            assert entry["description"].startswith(f"{seed}.md:"), (section, name)
    covered, total, missing = coverage(seed, tmp_path)
    assert covered / total >= 0.7, (seed, missing)


def test_the_coverage_figures_in_docs_are_current() -> None:
    assert table() in (ROOT / "docs" / "import.md").read_text()
