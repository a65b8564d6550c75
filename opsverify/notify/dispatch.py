"""Notify one target's run: update the policy state, route the results, deliver (or preview) the messages."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsverify.config.notify import NotifyConfig
from opsverify.notify.base import Channel
from opsverify.notify.delivery import DeliveryRecord, Sleep, deliver_all
from opsverify.notify.policy import decide, mark_alerted
from opsverify.notify.registry import create_channel
from opsverify.notify.router import RoutedMessage, RunContext, route_messages
from opsverify.notify.state import locked_state, save_state
from opsverify.report.summary import CheckResult


@dataclass
class NotifyOptions:
    """`--no-notify` / OPSVERIFY_NOTIFY=0 (enabled=False) and `--notify-dry-run`."""

    enabled: bool = True
    dry_run: bool = False
    sleep: Sleep = time.sleep


@dataclass
class NotifyOutcome:
    """What happened: one record per (route, channel), and the rendered messages of a dry run."""

    records: list[DeliveryRecord] = field(default_factory=list)
    previews: list[str] = field(default_factory=list)


def notify_target(
    target: str,
    notify: NotifyConfig,
    results: list[CheckResult],
    run: RunContext,
    state_path: Path,
    options: NotifyOptions,
) -> NotifyOutcome:
    """Decide, route and send for one target. A dry run leaves the state file untouched."""
    outcome = NotifyOutcome()
    channels = {name: create_channel(name, config) for name, config in notify.channels.items()}
    problems = {name: channel.validate() for name, channel in channels.items()}
    now = time.time()
    with locked_state(state_path) as state:
        decisions = decide(results, state, notify.policy, now)
        routed = route_messages(target, results, decisions, notify, run)
        if options.dry_run:
            for item in routed:
                for name in item.route.to:
                    outcome.records.append(_record(target, item, channels[name], "dry-run"))
                    outcome.previews.append(
                        f"--- {item.message.route} -> {name} ({channels[name].type_name}) ---\n"
                        + channels[name].preview(item.message)
                    )
            return outcome
        if not options.enabled:
            outcome.records += [
                _record(target, item, channels[name], "disabled") for item in routed for name in item.route.to
            ]
            save_state(state)
            return outcome
        jobs: list[tuple[Channel[Any], Any, str, str]] = []
        owners: list[RoutedMessage] = []
        for item in routed:
            for name in item.route.to:
                if problems[name]:
                    outcome.records.append(
                        _record(target, item, channels[name], "failed", "; ".join(problems[name]))
                    )
                    continue
                jobs.append((channels[name], item.message, target, item.message.route))
                owners.append(item)
        records = deliver_all(jobs, options.sleep)
        outcome.records += records
        delivered = {
            id(owner) for owner, record in zip(owners, records, strict=True) if record.status == "sent"
        }
        for item in routed:
            if id(item) in delivered:
                mark_alerted(state, item.alert_ids, now)
        save_state(state)
    return outcome


def _record(
    target: str, item: RoutedMessage, channel: Channel[Any], status: str, error: str | None = None
) -> DeliveryRecord:
    return DeliveryRecord(
        kind="message",
        target=target,
        channel=channel.name,
        type=channel.type_name,
        status=status,
        error=error,
        route=item.message.route,
        subject=item.message.headline,
        time=time.time(),
    )
