"""`opsverify draft`: backups that a guide keeps in S3 become backups entries over the bucket prefix."""

from __future__ import annotations

from pathlib import Path

from opsverify.importers.guide import draft_guide
from tests.importers.conftest import load_with_env_example

GUIDE = """\
# Backups

```bash
pg_dump -Fc -f /var/backups/app_$(date +%Y%m%d).dump app
aws s3 cp /var/backups/app_$(date +%Y%m%d).dump s3://acme-backups/db/ --storage-class STANDARD_IA
aws s3 sync /srv/app/uploads/ s3://acme-files/uploads/ --delete
aws s3 cp s3://acme-backups/db/app_20250101.dump /tmp/restore.dump
```

- Daily automatic backups (retained 14 days, stored in S3)

```python
s3.put_object(
    Bucket="acme-exports",
    Key=f"exports/orders-{stamp}.json",
)
```
"""


def test_s3_uploads_and_statements_become_bucket_entries(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(GUIDE)
    draft = draft_guide(guide, "acme")
    backups = draft.sections["backups"]
    by_path = {entry["path"]: entry for entry in backups.values()}
    cp = by_path["s3://acme-backups/db/"]
    assert (cp["pattern"], cp["format"]) == ("app_*.dump", "pg-custom")
    assert cp["description"].startswith("guide.md:5: aws s3 cp")
    sync = by_path["s3://acme-files/uploads/"]
    assert sync["pattern"] == "*"
    assert sync["read_newest"] is False
    assert sync["s3"]["recursive"] is True
    assert sync["retention"] == {"min_count": 1}
    stored = by_path["s3://${S3_BACKUP_BUCKET}/"]
    assert (stored["pattern"], stored["format"], stored["max_age"]) == ("app_*.dump", "pg-custom", "26h")
    assert stored["retention"] == {"min_age": "13d", "max_age": "16d", "max_gap": "26h"}
    export = by_path["s3://acme-exports/exports/"]
    assert (export["pattern"], export["format"]) == ("orders-*.json", "json")
    assert not any("/tmp/restore" in str(entry) for entry in backups.values())  # a download is no backup
    assert sum(1 for entry in backups.values() if str(entry["path"]).startswith("s3://")) == 4
    # the draft validates with its .env.example
    output = tmp_path / "target.yaml"
    draft.write(output)
    load_with_env_example(output)
