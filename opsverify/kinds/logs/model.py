"""Config model of `logs:` entries: count error-level or pattern-matching lines in log files over a window.

`level: ERROR` means "ERROR or more severe" (ERROR, CRITICAL, FATAL, ALERT, EMERGENCY, PANIC).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from opsverify.config.types import CheckEntry, Duration
from opsverify.connect.via import ViaKey
from opsverify.units import bound, format_duration, limits, plural

# Severity ranks of level names (syslog and logging-library spellings); more severe is higher.
LEVEL_RANKS: dict[str, int] = {
    "TRACE": 5,
    "DEBUG": 10,
    "INFO": 20,
    "NOTICE": 25,
    "WARN": 30,
    "WARNING": 30,
    "ERR": 40,
    "ERROR": 40,
    "CRIT": 50,
    "CRITICAL": 50,
    "FATAL": 50,
    "ALERT": 60,
    "EMERG": 70,
    "EMERGENCY": 70,
    "PANIC": 70,
}
# Numeric levels of pino/bunyan JSON logs (10 trace … 60 fatal) -> the ranks above.
NUMERIC_LEVEL_RANKS: dict[int, int] = {10: 5, 20: 10, 30: 20, 40: 30, 50: 40, 60: 50}
DEFAULT_TIME_FIELDS = ("ts", "timestamp", "time", "@timestamp", "datetime", "asctime")


def _span(seconds: float) -> str:
    """A window as it was probably written: 24h, 7d, 90m; other values as format_duration gives them."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= max(size, 172800 if unit == "d" else 0) and seconds % size == 0:
            return f"{seconds / size:.0f}{unit}"
    return format_duration(seconds)


def _compiles(pattern: str, what: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression in {what} {pattern!r}: {exc}") from None


class LogsCheck(CheckEntry):
    """Log files (a glob, rotated and compressed ones included) and how many matching lines are allowed."""

    path: str | list[str] | None = Field(
        default=None, description="glob(s), relative to the target file; `app.log*`"
    )
    source: Literal["file", "docker"] = Field(
        default="file", description="log files, or a container's output"
    )
    container: str | None = Field(default=None, description="source docker: the container's name or id")
    project: str | None = Field(default=None, description="source docker: the compose project of `service`")
    service: str | None = Field(default=None, description="source docker: the compose service (all replicas)")
    docker_host: str | None = Field(
        default=None, description="source docker: the engine (default DOCKER_HOST)"
    )
    via: ViaKey | None = Field(
        default=None, description="the machine the files are on: local, ssh://…, docker://…"
    )
    format: Literal["json", "text"] = "text"
    since: Duration | None = Field(default=None, description="only lines newer than this (24h); all if unset")
    level: str | None = Field(default=None, description="count lines of this level or more severe")
    patterns: list[str] = Field(default_factory=list, description="regexes; a line counts if any matches")
    max: int | None = Field(default=None, ge=0, description="most matching lines allowed (default 0)")
    min: int | None = Field(default=None, ge=0, description="fewest matching lines required")
    level_field: str = Field(default="level", description="json: dotted path of the level")
    time_field: str | None = Field(default=None, description="json: dotted path of the timestamp")
    time_regex: str | None = Field(default=None, description="text: regex capturing the timestamp")
    time_format: str | None = Field(default=None, description="strptime format of the captured timestamp")
    timezone: str = Field(default="UTC", description="zone of timestamps without an offset: a name or local")
    missing_ok: bool = Field(default=False, description="no file matching `path` passes")
    show: int = Field(default=20, ge=0, le=1000, description="matching lines quoted in a failure")

    @field_validator("path")
    @classmethod
    def _paths_given(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value is not None and (not value or (isinstance(value, list) and not all(value))):
            raise ValueError("expected a file glob like /var/log/app/*.log* (or a list of them)")
        return value

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in LEVEL_RANKS:
            raise ValueError(f"unknown level {value!r}; use one of {', '.join(LEVEL_RANKS)}")
        return value.upper() if value is not None else None

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            _compiles(pattern, "patterns:")
        return value

    @field_validator("time_regex")
    @classmethod
    def _time_regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            _compiles(value, "time_regex:")
            if re.compile(value).groups == 0:
                raise ValueError(
                    f"time_regex {value!r} captures nothing; put the timestamp in a group, e.g. "
                    r"'^(\S+ \S+)' or a named group (?P<ts>...)"
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        if value.lower() != "local":
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {value!r}; use a name like UTC or Europe/Berlin, or local"
                ) from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_max(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("max") is None and data.get("min") is None:
            return {**data, "max": 0}
        return data

    @model_validator(mode="after")
    def _source_keys(self) -> LogsCheck:
        docker_keys = [
            k for k in ("container", "project", "service", "docker_host") if getattr(self, k) is not None
        ]
        if self.source == "file":
            if self.path is None:
                raise ValueError(
                    "give `path:` (a file glob like /var/log/app/*.log*), or `source: docker` with `container:` "
                    "or `project:` + `service:`"
                )
            if docker_keys:
                raise ValueError(
                    f"`{docker_keys[0]}` is for `source: docker`; add it, or remove `{docker_keys[0]}`"
                )
            return self
        if self.path is not None or self.via is not None:
            raise ValueError(
                "`source: docker` reads the container's output: remove `path`/`via` (or use source: file)"
            )
        if (self.container is None) == (self.service is None):
            raise ValueError(
                "`source: docker` needs `container:` (a name) or `service:` (with `project:`), one of them"
            )
        if self.service is not None and self.project is None:
            raise ValueError("`service:` needs `project:` (the compose project it belongs to)")
        return self

    @model_validator(mode="after")
    def _format_keys(self) -> LogsCheck:
        if self.format == "json" and self.time_regex is not None:
            raise ValueError("`time_regex` is for format: text; for json logs give `time_field`")
        if self.format == "text" and self.time_field is not None:
            raise ValueError("`time_field` is for format: json; for text logs give `time_regex`")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max}); no count can pass")
        return self

    @property
    def globs(self) -> list[str]:
        if self.source == "docker":
            return [f"docker logs {self.container or f'{self.project}/{self.service}'}"]
        return [self.path] if isinstance(self.path, str) else list(self.path or [])

    def what(self, count: int) -> str:
        """What is counted, with the count: `3 lines of level ERROR or above matching /timeout/`."""
        parts = [plural(count, "line")]
        if self.level:
            parts.append(f"of level {self.level} or above")
        if self.patterns:
            parts.append("matching " + " or ".join(f"/{p}/" for p in self.patterns))
        return " ".join(parts)

    def window(self, start: datetime | None) -> str:
        """The window counted in, given its start (UTC): `in the last 24h (since 2026-01-01 12:00:00Z)`."""
        if self.since is None or start is None:
            return "in the whole output" if self.source == "docker" else "in the whole files"
        return f"in the last {_span(self.since)} (since {start:%Y-%m-%d %H:%M:%S}Z)"

    def thresholds(self) -> list[str]:
        """`<= 3 lines of level >= ERROR matching /timeout/ in 24h`, for `validate`."""
        counted = ["lines"]
        if self.level:
            counted.append(f"of level {bound('min', self.level)}")
        if self.patterns:
            counted.append("matching " + " or ".join(f"/{p}/" for p in self.patterns))
        window = f"in {_span(self.since)}" if self.since is not None else "in the whole files"
        bounds = "no" if self.max == 0 and self.min is None else limits(at_most=self.max, at_least=self.min)
        parts = [f"{bounds} {' '.join(counted)} {window}"]
        return parts + (["no file is ok"] if self.missing_ok else [])
