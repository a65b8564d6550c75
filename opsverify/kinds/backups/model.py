"""Config model of `backups:` entries: the daily integrity check, and the `restore:` drill (tier dr).

The drill's block is `opsverify.kinds.restore.model.RestoreSpec` (the restore kind reads this section too).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from opsverify.backups.format_names import BUILT_IN_DECLARED
from opsverify.backups.sources.s3_access import S3Access, S3Location, is_s3_url, parse_s3_url
from opsverify.config.types import ByteSize, CheckEntry, Duration, StrictModel
from opsverify.connect.via import ViaKey
from opsverify.kinds.backups.tools_model import BorgSettings, PgBackRestSettings, ResticSettings
from opsverify.kinds.restore.model import RestoreSpec
from opsverify.units import bound, format_size, human_duration, plural

IN_PROGRESS_PATTERNS = ["*.tmp", "*.partial", "*.part", "*.inprogress", "*.incomplete"]


class Retention(StrictModel):
    """How many backups are kept and how old the oldest may be (pruning works, the disk does not fill)."""

    min_count: int | None = Field(default=None, ge=1)
    max_age: Duration | None = Field(default=None, gt=0)
    min_age: Duration | None = Field(
        default=None, gt=0, description="the oldest kept backup at least this old (kept long enough)"
    )
    max_gap: Duration | None = Field(
        default=None, gt=0, description="no missing backup in between: consecutive backups at most this apart"
    )


class S3Settings(StrictModel):
    """`s3:` of a backups entry whose `path` is s3://bucket/prefix/: endpoint, region and credentials."""

    endpoint_url: str | None = Field(
        default=None, description="MinIO, Ceph RGW, R2, B2, Wasabi, GCS: their URL"
    )
    region: str | None = None
    profile: str | None = Field(default=None, description="a profile of ~/.aws/config")
    access_key_id: str | None = Field(default=None, description="${VAR}: a secret, masked in every output")
    secret_access_key: str | None = Field(default=None, description="${VAR}: a secret")
    session_token: str | None = Field(default=None, description="${VAR}: a secret (temporary credentials)")
    addressing_style: Literal["auto", "virtual", "path"] = "auto"
    timeout: Duration = Field(default=30.0, gt=0, description="connect and read timeout of each request")
    retries: int = Field(default=2, ge=0, le=10, description="retries of a failed request")
    recursive: bool = Field(
        default=False, description="list the keys under deeper 'folders' too (a synced tree, not one level)"
    )

    @model_validator(mode="after")
    def _key_pair(self) -> S3Settings:
        if bool(self.access_key_id) != bool(self.secret_access_key):
            raise ValueError(
                "set both access_key_id and secret_access_key (as ${VARS}), or neither to use the AWS "
                "credential chain (environment, profile, instance role)"
            )
        if self.session_token and not self.access_key_id:
            raise ValueError("session_token goes with access_key_id and secret_access_key")
        if self.endpoint_url and not self.endpoint_url.startswith(("http://", "https://")):
            raise ValueError(
                f"endpoint_url: expected http://HOST:PORT or https://HOST, got {self.endpoint_url!r}"
            )
        return self

    def access(self) -> S3Access:
        return S3Access(
            self.endpoint_url,
            self.region,
            self.profile,
            self.access_key_id,
            self.secret_access_key,
            self.session_token,
            self.addressing_style,
            self.timeout,
            self.retries,
            self.recursive,
        )


class BackupCheck(CheckEntry):
    path: str = Field(description="directory holding the backups, or s3://bucket/prefix/")
    s3: S3Settings | None = Field(default=None, description="path s3://…: endpoint, region, credentials")
    restic: ResticSettings | None = Field(
        default=None, description="a restic repository: `path`/`pattern` name the file in its snapshots"
    )
    borg: BorgSettings | None = Field(
        default=None, description="a Borg repository: `path`/`pattern` name the file in its archives"
    )
    pgbackrest: PgBackRestSettings | None = Field(
        default=None, description="a pgBackRest stanza: its backups, WAL archive and `verify`"
    )
    allow_archived: bool = Field(
        default=False, description="s3: a newest object in GLACIER/DEEP_ARCHIVE: check only its listing"
    )
    read_newest: bool = Field(
        default=True,
        description="s3: false checks only the listing (ages, sizes, counts), e.g. a synced folder of uploads",
    )
    via: ViaKey | None = Field(
        default=None, description="the machine holding them: local, ssh://…, docker://…"
    )
    verify_timeout: Duration = Field(
        default=600.0, gt=0, description="via: each verifying command run there (gzip -t, sha256sum)"
    )
    pattern: str = Field(default="*", description="glob of backup names in `path`")
    format: str = Field(default="auto", description="auto, or a format: pg-plain, pg-plain-gz, pg-custom, …")
    max_age: Duration | None = Field(default=None, gt=0, description="RPO gate: the newest backup's age")
    min_size: ByteSize | None = None
    max_shrink_pct: float = Field(
        default=50.0,
        ge=0,
        le=100,
        description="newest vs the median size of the previous `size_history` backups",
    )
    max_growth_pct: float | None = Field(
        default=None, gt=0, description="the same, for growth (off by default)"
    )
    size_history: int = Field(
        default=5, ge=1, le=100, description="how many previous backups in the folder the median is taken of"
    )
    retention: Retention | None = None
    checksum: Literal["auto", "required", "off"] = "auto"
    min_files: int | None = Field(default=None, ge=0, description="tar: members the archive must hold")
    min_items: int | None = Field(default=None, ge=0, description="json: items the document must hold")
    items_path: str | None = Field(default=None, description="json: dotted path of the counted list/object")
    allow_schema_only: bool = False
    expect_database: str | None = Field(
        default=None,
        description="mysql-plain: the database the dump must be of (header `Database:` or `USE`)",
    )
    ignore: list[str] = Field(default_factory=lambda: list(IN_PROGRESS_PATTERNS))
    settle: Duration = Field(default=2.0, ge=0, description="watch a just-modified newest file this long")
    client_bin: str | None = Field(default=None, description="directory with pg_restore and psql")
    restore: RestoreSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _stanza_is_the_path(cls, data: object) -> object:
        """A pgBackRest entry needs no `path`: its backups are the stanza's (named `pgbackrest:STANZA`)."""
        if isinstance(data, dict) and "path" not in data and isinstance(data.get("pgbackrest"), dict):
            return {**data, "path": f"pgbackrest:{data['pgbackrest'].get('stanza', '')}"}
        return data

    @model_validator(mode="after")
    def _pgbackrest_drill_sandbox(self) -> BackupCheck:
        """A stanza's drill starts its own server: here (local) or in a container of `restore.image`."""
        if self.pgbackrest is None or self.restore is None:
            return self
        sandbox = self.restore.sandbox
        if sandbox == "url":
            raise ValueError(
                "restore.sandbox: 'url' does not apply to a pgBackRest stanza: its drill restores a data "
                "directory and starts its own PostgreSQL on it; drop `sandbox` (local), or set it to docker"
            )
        if sandbox == "docker" and not self.restore.image:
            raise ValueError(
                "restore.sandbox: docker for a pgBackRest stanza needs restore.image: an image with the "
                "backup's PostgreSQL and pgbackrest (e.g. one built FROM postgres:15 with `apt-get install -y "
                "pgbackrest`; the official postgres image has no pgbackrest)"
            )
        host = urlsplit(self.restore.docker_host).hostname if self.restore.docker_host else None
        if sandbox == "docker" and host not in (None, "localhost", "127.0.0.1", "::1"):
            raise ValueError(
                f"restore.docker_host {self.restore.docker_host} is an engine on another machine: a pgBackRest "
                "drill's container mounts this machine's repository and config, and its restored server takes "
                "logins without a password on 127.0.0.1: use this machine's engine (unix:///var/run/docker.sock)"
            )
        if sandbox == "docker" and self.pgbackrest.work_dir:
            raise ValueError(
                "pgbackrest.work_dir is where the local sandbox restores; with restore.sandbox: docker the data "
                "directory is a volume of the container: drop work_dir, or use sandbox: local"
            )
        return self

    @model_validator(mode="after")
    def _folder_drill_of_a_tool(self) -> BackupCheck:
        """`restore.expect.files/min_count/sha256` restore the folder `path` of a restic snapshot or Borg archive."""
        expect = self.restore.expect if self.restore is not None else None
        if expect is None or not expect.checks_files():
            return self
        if self.restic is None and self.borg is None:
            raise ValueError(
                "restore.expect.files/min_count/sha256 check the folder `path` restored from a restic snapshot or "
                "a Borg archive: add `restic:` or `borg:` to this entry, or drop them (a tar archive's drill "
                "compares its file count with compare_dir)"
            )
        keys = expect.database_keys()
        if keys:
            raise ValueError(
                f"restore.expect.{keys[0]} checks a restored database, but files/min_count/sha256 make this "
                "drill restore the folder `path` and check its files: keep one kind of expectation per entry "
                "(a second entry can drill the dump)"
            )
        return self

    @field_validator("format")
    @classmethod
    def _format_known(cls, value: str) -> str:
        """One of the registry's formats (built-in or a plugin's), reported as pydantic reports a Literal."""
        if value == "auto" or value in BUILT_IN_DECLARED:
            return value
        from opsverify.backups.formats.registry import declared_formats

        known = ["auto", *declared_formats()]
        if value not in known:
            expected = ", ".join(repr(name) for name in known[:-1]) + f" or {known[-1]!r}"
            raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})
        return value

    @field_validator("checksum", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        """YAML reads an unquoted `off` as false (and `on` as true)."""
        if value is False:
            return "off"
        return "auto" if value is True else value

    @field_validator("pattern")
    @classmethod
    def _pattern_is_a_name(cls, value: str) -> str:
        if "/" in value:
            raise ValueError(
                f"expected a file-name glob like backup_*.sql.gz (put the folder in `path`), got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _s3_path(self) -> BackupCheck:
        if not is_s3_url(self.path):
            if self.s3 is not None and self.restic is not None and self.restic.repository.startswith("s3:"):
                return self  # the credentials of a restic repository in a bucket
            if self.s3 is not None or self.allow_archived or not self.read_newest:
                key = (
                    "s3"
                    if self.s3 is not None
                    else "allow_archived"
                    if self.allow_archived
                    else "read_newest"
                )
                raise ValueError(
                    f"`{key}` is for a bucket: write `path` as s3://BUCKET/PREFIX/, or drop `{key}`"
                )
            return self
        parse_s3_url(self.path)
        if self.via is not None:
            raise ValueError(f"`path` {self.path} is a bucket, read over the S3 API: drop `via`")
        if self.format == "pg-directory" and self.s3 is not None and self.s3.recursive:
            raise ValueError(
                "`s3.recursive` does not apply to format pg-directory: each folder under the prefix is one "
                "backup (pg_dump -Fd, then aws s3 sync); drop `recursive`"
            )
        return self

    def location_and_access(self) -> tuple[S3Location, S3Access]:
        """For an s3:// path: the bucket prefix and how to reach it."""
        return parse_s3_url(self.path), (self.s3 or S3Settings()).access()

    @model_validator(mode="after")
    def _restore_is_local(self) -> BackupCheck:
        if self.via is not None and not self.via.is_local and self.restore is not None:
            raise ValueError(
                f"`restore` drills read the backup on this machine, but `via` is {self.via.describe()}: "
                "mount or copy the backups here for the drill, or drop `via` from this entry"
            )
        return self

    def thresholds(self) -> list[str]:
        """What the daily backup check enforces (freshness, size, retention, contents), for `validate`."""
        parts = [] if self.format == "auto" else [f"format {self.format}"]
        if self.max_age is not None:
            parts.append(f"newest {bound('max', human_duration(self.max_age))} old")
        if self.min_size is not None:
            parts.append(f"size {bound('min', format_size(self.min_size))}")
        if self.max_shrink_pct < 100:
            parts.append(
                f"shrink {bound('max', self.max_shrink_pct, '%')} (median of last {self.size_history})"
            )
        if self.max_growth_pct is not None:
            parts.append(
                f"growth {bound('max', self.max_growth_pct, '%')} (median of last {self.size_history})"
            )
        retention = self.retention
        if retention is not None and retention.min_count is not None:
            parts.append(f"{bound('min', plural(retention.min_count, 'backup'))} kept")
        if retention is not None and retention.max_age is not None:
            parts.append(f"oldest {bound('max', human_duration(retention.max_age))} old")
        if retention is not None and retention.min_age is not None:
            parts.append(f"oldest {bound('min', human_duration(retention.min_age))} old")
        if retention is not None and retention.max_gap is not None:
            parts.append(f"gaps {bound('max', human_duration(retention.max_gap))}")
        if self.allow_archived:
            parts.append("archived newest: listing only")
        if not self.read_newest:
            parts.append("listing only")
        if self.min_files is not None:
            parts.append(f"{bound('min', plural(self.min_files, 'file'))} in the archive")
        if self.min_items is not None:
            where = f" at {self.items_path}" if self.items_path else ""
            parts.append(f"{bound('min', plural(self.min_items, 'item'))}{where}")
        if self.checksum != "auto":
            parts.append(f"checksum {self.checksum}")
        return parts
