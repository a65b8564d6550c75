"""Config model of `http:` entries and the expectations they state about a response."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from opsverify.config.types import CheckEntry, Duration, StrictModel, TlsVerify, empty_dict, empty_list
from opsverify.redaction import SECRETS
from opsverify.units import bound, human_duration

if TYPE_CHECKING:
    from opsverify.expressions import Condition


def _status_codes(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [value]
    codes: list[int] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str) or not str(item).isdigit():
            raise ValueError(f"expected an integer or a list of integers, got {value!r}")
        code = int(item)
        if not 100 <= code <= 599:
            raise ValueError(f"expected HTTP status codes between 100 and 599, got {code}")
        codes.append(code)
    if not codes:
        raise ValueError("expected at least one status code")
    return codes


StatusCodes = Annotated[list[int], BeforeValidator(_status_codes)]


class BasicAuth(StrictModel):
    username: str
    password: str

    @model_validator(mode="after")
    def _register_header_value(self) -> BasicAuth:
        # The Authorization header carries base64(username:password); a server that echoes it must not leak it.
        SECRETS.add(base64.b64encode(f"{self.username}:{self.password}".encode()).decode())
        return self


class HttpAuth(StrictModel):
    bearer: str | None = None
    basic: BasicAuth | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> HttpAuth:
        if (self.bearer is None) == (self.basic is None):
            raise ValueError("give exactly one of `bearer: TOKEN` or `basic: {username: ..., password: ...}`")
        return self


class HttpExpect(StrictModel):
    status: StatusCodes = Field(default_factory=lambda: [200])
    json_: dict[str, Any] | None = Field(default=None, alias="json")
    conditions: list[str] = Field(default_factory=empty_list)
    body_regex: str | None = None
    body_not_regex: str | None = None
    headers: dict[str, str] = Field(
        default_factory=empty_dict, description="header -> regex the value must match"
    )
    max_latency_ms: float | None = Field(default=None, gt=0)

    @field_validator("conditions")
    @classmethod
    def _conditions_parse(cls, value: list[str]) -> list[str]:
        if not value:
            return value
        from opsverify.expressions import compile_condition  # JMESPath: only for a check with conditions

        for text in value:
            compile_condition(text)  # raises ValueError with the reason
        return value

    @field_validator("body_regex", "body_not_regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    def compiled_conditions(self) -> list[Condition]:
        if not self.conditions:
            return []
        from opsverify.expressions import compile_condition

        return [compile_condition(text) for text in self.conditions]


class HttpCheck(CheckEntry):
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=empty_dict)
    body: str | None = None
    json_body: Any = None
    auth: HttpAuth | None = None
    expect: HttpExpect = Field(default_factory=HttpExpect)
    timeout: Duration = 10.0
    samples: int = Field(default=1, ge=1, le=1000)
    retries: int = Field(default=0, ge=0, le=20)
    retry_delay: Duration = 1.0
    wait_until_ready: Duration | None = None
    poll_interval: Duration = 2.0
    verify: TlsVerify = True
    follow_redirects: bool = True
    max_body_bytes: int = Field(default=5_000_000, ge=1024)

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> HttpCheck:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give `body` or `json_body`, not both")
        return self

    def thresholds(self) -> list[str]:
        """`status 200`, `json status=ok`, `p95 <= 500 ms` …: what a response must show, for `validate`."""
        expect = self.expect
        parts = [f"status {'/'.join(str(code) for code in expect.status)}"]
        if expect.max_latency_ms is not None:
            label = "p95" if self.samples > 1 else "latency"
            parts.append(f"{label} {bound('max', expect.max_latency_ms, ' ms')}")
        for path, wanted in (expect.json_ or {}).items():
            parts.append(f"json {path}={wanted if isinstance(wanted, str) else json.dumps(wanted)}")
        parts += [f"json {text}" for text in expect.conditions]
        if expect.body_regex:
            parts.append(f"body ~ /{expect.body_regex}/")
        if expect.body_not_regex:
            parts.append(f"body !~ /{expect.body_not_regex}/")
        parts += [f"header {name} ~ /{pattern}/" for name, pattern in expect.headers.items()]
        if self.wait_until_ready is not None:
            parts.append(f"ready within {human_duration(self.wait_until_ready)}")
        return parts
