"""The public API for plugins: what a package that adds a check kind, a notification channel, a backup format
or a backup source imports from opsverify. Everything else is internal and may change between releases.

A kind (entry-point group `opsverify.kinds`, naming a `Kind`):

    model.py    class AmqpQueueCheck(CheckEntry): the entry's keys (pydantic; unknown keys are errors)
    facts.py    @dataclass AmqpFacts: what the probe saw (plain data; `phases()` for report steps)
    probe.py    def probe(entry, ctx: ProbeContext) -> AmqpFacts: reads the real system, every call timed
                out; expected failures (refused, timeout, denied) become a fact, never an exception
    verdict.py  def judge(entry, facts, rule=None) -> Judgement: the `Problem`s (subject, found, expected,
                fix) and evidence; no problems means passed
    __init__.py KIND = Kind(name, section, "pkg.model:Entry", "pkg.probe:probe", default_tiers, summary)

A probe that works on another machine takes a `via: ViaKey | None` key in its model and opens it with
`connect(entry.via, ctx.base_dir)` (local, ssh://, docker://). Secrets read from the target file are masked
in every output once registered with `SECRETS.add(value)` (`${VAR}` values are registered already); text
a plugin builds from outside data goes through `redact` before it is shown. An HTTP call goes through
`HttpSettings(headers=..., bearer=...).session()` (opsverify's user agent, the environment's proxies and CA
bundle, credentials masked), as the built-in probes' do. A limit is written with
`bound("max", 1000, " messages")` (`<= 1000 messages`), in problems and in `thresholds()` alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opsverify.backups.formats.base import BackupFormat, ReadOptions
from opsverify.backups.inspection import Detected, Inspection
from opsverify.backups.sources.base import BackupEntry, BackupSource, SourceError
from opsverify.config.channel_settings import ChannelSettings
from opsverify.config.kinds import Kind
from opsverify.config.notify import ChannelType
from opsverify.config.types import CheckEntry, Duration, Severity, StrictModel, Tier
from opsverify.connect import CommandResult, ConnectError, Connection, ViaKey, connect
from opsverify.httpclient import HttpSettings
from opsverify.kinds.base import Phase, ProbeContext
from opsverify.plugins import PluginError
from opsverify.problem import Judgement, Problem
from opsverify.redaction import SECRETS, redact
from opsverify.results import CheckResult, RunSummary
from opsverify.units import bound

__all__ = [
    "SECRETS",
    "BackupEntry",
    "BackupFormat",
    "BackupSource",
    "ChannelSettings",
    "ChannelType",
    "CheckEntry",
    "CheckResult",
    "CommandResult",
    "ConnectError",
    "Connection",
    "Detected",
    "Duration",
    "HttpSettings",
    "Inspection",
    "Judgement",
    "Kind",
    "Phase",
    "PluginError",
    "ProbeContext",
    "Problem",
    "ReadOptions",
    "RunSummary",
    "Severity",
    "SourceError",
    "StrictModel",
    "Tier",
    "Verdict",
    "ViaKey",
    "bound",
    "connect",
    "redact",
]

Verdict = Callable[[Any, Any, "str | None"], Judgement]
"""`judge(entry, facts, rule=None) -> Judgement`: what a kind's verdict module exports as `judge`."""
