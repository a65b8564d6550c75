"""Config model of the `notify:` section: channels, routes, policy, heartbeat and the state folder.

CHANNEL_TYPES is the one table of channel types: a new channel = a settings model here, a row in the
table, and a module in opsverify/notify/ with the sender class the row names.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional

from pydantic import BeforeValidator, Field, ValidationInfo, create_model, field_validator, model_validator

from opsverify.config.channel_settings import (
    AppriseSettings,
    ChannelSettings,
    EmailSettings,
    PythonSettings,
    SlackSettings,
    WebhookSettings,
    http_url,
    one_or_many,
    register_secret_url,
)
from opsverify.config.maintenance import MaintenanceWindow
from opsverify.config.types import Duration, Severity, StrictModel, Tier
from opsverify.plugins import PluginError, describe, load_group, wrong_type
from opsverify.redaction import SECRETS

__all__ = [
    "CHANNEL_TYPES",
    "AppriseSettings",
    "ChannelConfig",
    "ChannelSettings",
    "ChannelType",
    "EmailSettings",
    "Heartbeat",
    "NotifyConfig",
    "Policy",
    "PythonSettings",
    "Route",
    "RouteMatch",
    "SlackSettings",
    "WebhookSettings",
    "forget_channel_plugins",
    "load_channel_plugins",
    "needs_channel_plugins",
]

RouteStatus = Literal["failed", "passed", "completed", "resolved"]
ROUTE_STATUSES: tuple[RouteStatus, ...] = ("failed", "passed", "completed", "resolved")


@dataclass(frozen=True)
class ChannelType:
    """A row of the channel table: its settings model, its sender ("module:Class") and what it is."""

    name: str
    settings: type[ChannelSettings]
    sender: str
    summary: str


CHANNEL_TYPES: dict[str, ChannelType] = {
    row.name: row
    for row in (
        ChannelType(
            "slack",
            SlackSettings,
            "opsverify.notify.slack:SlackChannel",
            "Slack incoming webhook: Block Kit message with one section per failed check",
        ),
        ChannelType(
            "email",
            EmailSettings,
            "opsverify.notify.email:EmailChannel",
            "SMTP (STARTTLS or SSL, login): multipart text + HTML summary",
        ),
        ChannelType(
            "webhook",
            WebhookSettings,
            "opsverify.notify.webhook:WebhookChannel",
            "JSON POST of the run summary, optional headers and HMAC signature",
        ),
        ChannelType(
            "apprise",
            AppriseSettings,
            "opsverify.notify.apprise:AppriseChannel",
            "any Apprise URL: Teams, PagerDuty, Discord, Telegram and the rest (optional extra)",
        ),
        ChannelType(
            "python",
            PythonSettings,
            "opsverify.notify.python:PythonChannel",
            "a Python function of yours (package.module:function) called with the message, time-limited",
        ),
    )
}


class ChannelBase(StrictModel):
    """One channel: exactly one key naming its type, e.g. `ops-slack: {slack: {webhook_url: ...}}`."""

    @model_validator(mode="after")
    def _exactly_one_type(self) -> ChannelBase:
        given = [name for name in CHANNEL_TYPES if getattr(self, name, None) is not None]
        if len(given) != 1:
            found = f"got {', '.join(given)}" if given else "got none"
            raise ValueError(
                f"a channel has exactly one type key ({', '.join(CHANNEL_TYPES)}), {found}; "
                "write e.g. `ops-slack: {slack: {webhook_url: ...}}`"
            )
        return self

    @property
    def type_name(self) -> str:
        return next(name for name in CHANNEL_TYPES if getattr(self, name, None) is not None)

    @property
    def settings(self) -> ChannelSettings:
        value = getattr(self, self.type_name)
        assert isinstance(value, ChannelSettings)
        return value


def _channel_model() -> type[ChannelBase]:
    fields: dict[str, Any] = {
        name: (Optional[row.settings], None)  # noqa: UP045 (a runtime type built from the table)
        for name, row in CHANNEL_TYPES.items()
    }
    return create_model("ChannelConfig", __base__=ChannelBase, **fields)


if TYPE_CHECKING:
    ChannelConfig = ChannelBase
else:
    ChannelConfig = _channel_model()

CHANNEL_GROUP = "opsverify.channels"
BUILT_IN_CHANNELS = frozenset(CHANNEL_TYPES)
_plugins: dict[str, bool] = {"loaded": False}


def load_channel_plugins() -> bool:
    """Add the channel types of installed packages (entry-point group `opsverify.channels`, each naming a
    `ChannelType`) to CHANNEL_TYPES, once; True when the models were rebuilt with them. Raises PluginError
    naming a plugin that fails to load."""
    if _plugins["loaded"]:
        return False
    _plugins["loaded"] = True
    added = False
    for entry_point, value in load_group(CHANNEL_GROUP):
        if not isinstance(value, ChannelType):
            raise wrong_type(CHANNEL_GROUP, entry_point, "ChannelType", value)
        if value.name in CHANNEL_TYPES:
            raise PluginError(
                f"plugin {describe(entry_point)} in entry-point group {CHANNEL_GROUP}: channel type "
                f"{value.name!r} is already defined; give the plugin's channel type another name"
            )
        CHANNEL_TYPES[value.name] = value
        added = True
    if added:
        NotifyConfig.model_fields["channels"].annotation = dict[str, _channel_model()]  # type: ignore[assignment,misc]
        NotifyConfig.model_rebuild(force=True)
    return added


def forget_channel_plugins() -> None:
    """Back to the built-in channel types (tests that install a plugin for one test)."""
    for name in [name for name in CHANNEL_TYPES if name not in BUILT_IN_CHANNELS]:
        del CHANNEL_TYPES[name]
    if _plugins["loaded"]:
        NotifyConfig.model_fields["channels"].annotation = dict[str, ChannelConfig]
        NotifyConfig.model_rebuild(force=True)
    _plugins["loaded"] = False


def needs_channel_plugins(notify: object) -> bool:
    """Whether a raw `notify:` section names a channel type no built-in has (a plugin's, or a typo)."""
    channels = notify.get("channels") if isinstance(notify, dict) else None
    if not isinstance(channels, dict):
        return False
    return any(
        isinstance(channel, dict) and any(key not in CHANNEL_TYPES for key in channel)
        for channel in channels.values()
    )


class RouteMatch(StrictModel):
    """Which checks and outcomes a route is for; every given key must match (unset keys match all)."""

    tiers: list[Tier] | None = None
    status: Annotated[list[RouteStatus], BeforeValidator(one_or_many)] = Field(
        default_factory=lambda: list[RouteStatus](["failed"]), min_length=1
    )
    severity: Annotated[list[Severity], BeforeValidator(one_or_many)] | None = None
    kinds: Annotated[list[str], BeforeValidator(one_or_many)] | None = None
    checks: Annotated[list[str], BeforeValidator(one_or_many)] | None = Field(
        default=None, description="check names or kind:name, shell wildcards allowed (api-*)"
    )

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, value: list[str] | None) -> list[str] | None:
        from opsverify.config.kinds import KINDS

        for kind in value or []:
            if kind not in KINDS and kind != "custom":
                guess = difflib.get_close_matches(kind, list(KINDS), n=1)
                hint = f"did you mean {guess[0]!r}?" if guess else f"known kinds: {', '.join(KINDS)}"
                raise ValueError(f"unknown check kind {kind!r} ({hint})")
        return value

    def covers(self, kind: str, name: str, tiers: tuple[str, ...], severity: str) -> bool:
        """Does a check of this kind/name/tiers/severity fall under this route (ignoring status)?"""
        if self.tiers is not None and not set(self.tiers) & set(tiers):
            return False
        if self.severity is not None and severity not in self.severity:
            return False
        if self.kinds is not None and kind not in self.kinds:
            return False
        if self.checks is not None:
            # A rule's check (`api/error-ratio`) falls under its entry's name too (`api`, `metrics:api`).
            names = {name, name.partition("/")[0]}
            return any(
                fnmatch.fnmatchcase(candidate, pattern) or fnmatch.fnmatchcase(f"{kind}:{candidate}", pattern)
                for pattern in self.checks
                for candidate in names
            )
        return True


class Route(StrictModel):
    """`{match: {...}, to: [channel, ...]}`: one message per run to each channel when the match holds."""

    name: str | None = None
    match: RouteMatch = Field(default_factory=RouteMatch)
    to: Annotated[list[str], BeforeValidator(one_or_many)] = Field(min_length=1)

    def label(self, index: int) -> str:
        return self.name or f"routes[{index}]"


class Policy(StrictModel):
    """When a failing check alerts, repeats and resolves (kept across runs in the state file)."""

    failure_threshold: int | str = Field(
        default=1, description="N consecutive failing runs, or 'N of M': N of the last M runs failed"
    )
    send_on_resolved: bool = True
    remind_every: Duration | None = Field(default=None, gt=0)

    @field_validator("failure_threshold")
    @classmethod
    def _threshold(cls, value: int | str) -> int | str:
        parse_threshold(value)
        return value

    @property
    def threshold(self) -> tuple[int, int | None]:
        """(N, M): alert when N of the last M runs failed; M None: N consecutive failing runs."""
        return parse_threshold(self.failure_threshold)


def parse_threshold(value: int | str) -> tuple[int, int | None]:
    if isinstance(value, int) or str(value).strip().isdigit():
        count = int(value)
        if not 1 <= count <= 1000:
            raise ValueError(f"expected 1 to 1000 consecutive failing runs, got {count}")
        return count, None
    match = re.fullmatch(r"\s*(\d+)\s+of\s+(\d+)\s*", str(value))
    if match is None or not 1 <= int(match[1]) <= int(match[2]) <= 1000:
        raise ValueError(
            f"expected a number of consecutive failing runs (3) or 'N of M' with 1 <= N <= M <= 1000 "
            f"(3 of 5: alert when 3 of the last 5 runs failed), got {value!r}"
        )
    return int(match[1]), int(match[2])


class Heartbeat(StrictModel):
    """Healthchecks.io-style pings: URL/start when the run starts, URL on success, URL/fail on failure."""

    url: str
    timeout: Duration = Field(default=10.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        return http_url(value)


class NotifyConfig(StrictModel):
    """The `notify:` section of a target file."""

    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    policy: Policy = Field(default_factory=Policy)
    heartbeat: Heartbeat | None = None
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, description="recurring windows during which failures send nothing"
    )
    state: str | None = Field(
        default=None, description="folder of the state file (relative to the target file)"
    )
    report_url: str | None = Field(default=None, description="link to the HTML report shown in messages")

    @field_validator("routes")
    @classmethod
    def _routes_name_channels(cls, routes: list[Route], info: ValidationInfo) -> list[Route]:
        channels = info.data.get("channels") or {}
        for index, route in enumerate(routes):
            for name in route.to:
                if name not in channels:
                    guess = difflib.get_close_matches(name, list(channels), n=1)
                    known = ", ".join(channels) or "none defined"
                    hint = f"did you mean {guess[0]!r}?" if guess else f"channels: {known}"
                    raise ValueError(
                        f"routes[{index}].to: unknown channel {name!r} ({hint}); "
                        "define it under notify.channels or fix the name"
                    )
        return routes

    @model_validator(mode="after")
    def _register_secrets(self) -> NotifyConfig:
        for channel in self.channels.values():
            for value in channel.settings.secret_values():
                register_secret_url(value) if "://" in value else SECRETS.add(value)
        if self.heartbeat is not None:
            register_secret_url(self.heartbeat.url)
        return self
