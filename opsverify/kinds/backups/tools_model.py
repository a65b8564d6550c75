"""Config model of the backup tools' blocks of a `backups:` entry: `restic:`, `borg:` (their repositories are
the backup source; `path` and `pattern` then name the file inside a snapshot or archive)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, field_validator

from opsverify.backups.sources.borg import BorgRepo
from opsverify.backups.sources.pgbackrest import PgBackRestRepo
from opsverify.backups.sources.restic import SUBSET, ResticRepo
from opsverify.config.types import Duration, StrictModel
from opsverify.redaction import redact


class ResticSettings(StrictModel):
    """`restic:` — a restic repository whose snapshots hold the backups."""

    repository: str = Field(description="a folder, sftp:…, rest:…, or s3:http(s)://HOST/BUCKET/PREFIX")
    password: str = Field(description="${RESTIC_PASSWORD}: a secret, given to restic only in its environment")
    host: str | None = Field(default=None, description="only snapshots of this host")
    tags: list[str] = Field(default_factory=list, description="only snapshots having all these tags")
    paths: list[str] = Field(
        default_factory=list, description="only snapshots of exactly these backed-up paths"
    )
    read_data_subset: str | None = Field(
        default=None,
        description="deep check: n/t, cycle/T (part day%T+1 of T: all data every T days), 10%, or all",
    )
    bin: str | None = Field(default=None, description="the restic program (default: restic on PATH)")
    timeout: Duration = Field(default=600.0, gt=0, description="each listing or dump")
    check_timeout: Duration = Field(default=3600.0, gt=0, description="`restic check`")

    @field_validator("read_data_subset")
    @classmethod
    def _subset(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = SUBSET.match(value)
        parts = re.match(r"^(\d+)/(\d+)$", value)
        bad_part = parts is not None and not 1 <= int(parts.group(1)) <= int(parts.group(2))
        if match is None or bad_part or value == "cycle/0":
            raise ValueError(
                f"expected n/t with 1 <= n <= t (e.g. 1/7), cycle/T (e.g. cycle/7: all data every 7 days), "
                f"a percentage (e.g. 10%) or all, got {value!r}"
            )
        return value

    def repo(self, env: dict[str, str] | None = None) -> ResticRepo:
        return ResticRepo(
            self.repository,
            self.password,
            self.host,
            tuple(self.tags),
            tuple(self.paths),
            self.read_data_subset,
            self.bin,
            self.timeout,
            self.check_timeout,
            tuple(sorted((env or {}).items())),
        )


class BorgSettings(StrictModel):
    """`borg:` — a Borg repository whose archives hold the backups."""

    repository: str = Field(description="a folder or ssh://user@host/path")
    passphrase: str = Field(description="${BORG_PASSPHRASE}: a secret, given to borg only in its environment")
    prefix: str = Field(default="", description="only archives whose name starts with this")
    check: Literal["repository-only", "full", "verify-data"] = Field(
        default="full",
        description="borg check tier: repository-only (segments' CRCs), full (+ archives), verify-data (+ data)",
    )
    bin: str | None = Field(default=None, description="the borg program (default: borg on PATH)")
    timeout: Duration = Field(default=600.0, gt=0, description="each listing or extract")
    check_timeout: Duration = Field(default=3600.0, gt=0, description="`borg check`")
    lock_wait: Duration = Field(
        default=5.0, ge=0, description="how long borg waits for a lock (whole seconds)"
    )

    def repo(self) -> BorgRepo:
        return BorgRepo(
            self.repository,
            self.passphrase,
            self.prefix,
            self.check,
            self.bin,
            self.timeout,
            self.check_timeout,
            self.lock_wait,
        )


class PgBackRestAges(StrictModel):
    """`pgbackrest.max_age`: the newest backup of each type at most this old (the entry's `max_age`: any)."""

    full: Duration | None = Field(default=None, gt=0)
    diff: Duration | None = Field(default=None, gt=0, description="a newer full backup counts too")
    incr: Duration | None = Field(default=None, gt=0, description="a newer full backup counts too")


class PgBackRestSettings(StrictModel):
    """`pgbackrest:` — a pgBackRest stanza whose backups are checked."""

    stanza: str
    config: str | None = Field(default=None, description="pgbackrest.conf (default: pgbackrest's own)")
    repo: int | None = Field(default=None, ge=1, le=256, description="which repository (repoN) to read")
    verify: bool = Field(default=True, description="run `pgbackrest verify` (reads every file)")
    max_age: PgBackRestAges = Field(default_factory=PgBackRestAges)
    bin: str | None = Field(default=None, description="the pgbackrest program (default: on PATH)")
    timeout: Duration = Field(default=120.0, gt=0, description="`pgbackrest info`")
    verify_timeout: Duration = Field(default=3600.0, gt=0, description="`pgbackrest verify`")
    set: str | None = Field(
        default=None, description="the drill: restore this backup label (default: newest)"
    )
    target_time: datetime | None = Field(
        default=None, description="the drill: point-in-time recovery to this time (with its zone)"
    )
    database: str = Field(default="postgres", description="the drill: the database `restore.expect` checks")
    work_dir: str | None = Field(
        default=None, description="the drill: where the throwaway data directory goes (default: TMPDIR)"
    )
    recovery_timeout: Duration = Field(
        default=3600.0,
        gt=0,
        description="the drill: starting the server and recovery through the WAL archive",
    )
    live_url: str | None = Field(
        default=None,
        description="the live database (${VARS} for a password): archive lag, `pgbackrest check`",
    )
    check: bool = Field(default=True, description="with live_url: run `pgbackrest check`")
    check_timeout: Duration = Field(default=300.0, gt=0, description="`pgbackrest check`")
    max_archive_lag: Duration = Field(
        default=3600.0, gt=0, description="with live_url: the last archived segment at most this long ago"
    )

    @field_validator("live_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                f"expected a postgresql://USER@HOST:PORT/DB URL of the live database, got {redact(value)!r}"
            )
        return value

    @field_validator("target_time", mode="before")
    @classmethod
    def _short_zone(cls, value: object) -> object:
        """pgBackRest's and PostgreSQL's `+00` form of a zone, as ISO's `+00:00`."""
        if isinstance(value, str) and re.search(r"[+-]\d\d$", value.strip()):
            return f"{value.strip()}:00"
        return value

    @field_validator("target_time")
    @classmethod
    def _zoned(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(
                f"expected a time with its zone, e.g. {value.isoformat(sep=' ')}+00:00 (UTC), got "
                f"{value.isoformat(sep=' ')} without one"
            )
        return value

    def target(self) -> str | None:
        """`target_time` as pgbackrest's --target (UTC)."""
        if self.target_time is None:
            return None
        return self.target_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")

    def repo_settings(self) -> PgBackRestRepo:
        ages = tuple((kind, limit) for kind, limit in self.max_age.model_dump().items() if limit is not None)
        return PgBackRestRepo(
            self.stanza,
            self.config,
            self.repo,
            self.verify,
            ages,
            self.bin,
            self.timeout,
            self.verify_timeout,
            live_url=self.live_url,
            check=self.check,
            check_timeout=self.check_timeout,
            max_archive_lag=self.max_archive_lag,
        )
