"""`state:` of a target: where the store is (`url`) and how long it keeps the target's rows (`retention`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from opsverify.config.types import Duration, StrictModel
from opsverify.redaction import SECRETS, redact


class RetentionConfig(StrictModel):
    """`state.retention:` how long the store keeps the target's rows (docs/state.md, "Retention")."""

    results: Duration = Field(default=90 * 86400.0, gt=0, description="check results of runs (default 90d)")
    drills: Duration = Field(
        default=400 * 86400.0, gt=0, description="restore drills' evidence (default 400d: a year for audits)"
    )


class StateConfig(StrictModel):
    """`state:` where the results and notification state are kept (default: SQLite under reports/state)."""

    url: str | None = Field(
        default=None,
        description="postgresql://... shared by every runner of the target (else $OPSVERIFY_STATE_URL)",
    )
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres") or (
            not parts.hostname and "host=" not in parts.query
        ):
            raise ValueError(
                f"expected a PostgreSQL URL such as postgresql://user:password@host:5432/ops, got "
                f"{redact(value)!r}; leave `state` out for the SQLite file under reports/state"
            )
        if parts.password:
            SECRETS.add(parts.password)
        return value
