"""Notify one target's run: update the policy state, route the results, deliver (or preview) the messages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opsverify.config.notify import NotifyConfig
from opsverify.notify.base import Channel
from opsverify.notify.delivery import DeliveryRecord, Sleep, deliver_all
from opsverify.notify.gates import Gate
from opsverify.notify.policy import decide, decide_without_state, mark_alerted
from opsverify.notify.registry import create_channel
from opsverify.notify.router import ChannelMessage, RunContext, by_channel, route_messages
from opsverify.results import CheckResult
from opsverify.state.model import NotifyState
from opsverify.state.store import StateStore


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
    decisions: dict[str, str] = field(default_factory=dict)  # check id -> what the policy and gates decided


def notify_target(
    target: str,
    notify: NotifyConfig,
    results: list[CheckResult],
    run: RunContext,
    store: StateStore | None,
    options: NotifyOptions,
    gated: dict[str, Gate] | None = None,
) -> NotifyOutcome:
    """Decide, route and send for one target under the store's lock. A dry run leaves the state untouched.

    Without a store (it is unreachable) every failure is sent and nothing is remembered.
    """
    outcome = NotifyOutcome()
    channels = {name: create_channel(name, config) for name, config in notify.channels.items()}
    problems = {name: channel.validate() for name, channel in channels.items()}
    now = time.time()
    with _state(store, target, write=not options.dry_run) as state:
        decisions = (
            decide(results, state, notify.policy, now) if store is not None else decide_without_state(results)
        )
        for check_id, gate in (gated or {}).items():
            if check_id in decisions:
                decisions[check_id] = gate.decision
        outcome.decisions = dict(decisions)
        routed = by_channel(route_messages(target, results, decisions, notify, run))
        if options.dry_run:
            for item in routed:
                channel = channels[item.channel]
                outcome.records.append(_record(target, item, channel, "dry-run"))
                outcome.previews.append(
                    f"--- {item.message.route} -> {item.channel} ({channel.type_name}) ---\n"
                    + channel.preview(item.message)
                )
            return outcome
        if not options.enabled:
            outcome.records += [_record(target, item, channels[item.channel], "disabled") for item in routed]
            return outcome
        jobs: list[tuple[Channel[Any], Any, str, str]] = []
        owners: list[ChannelMessage] = []
        for item in routed:
            if problems[item.channel]:
                outcome.records.append(
                    _record(target, item, channels[item.channel], "failed", "; ".join(problems[item.channel]))
                )
                continue
            jobs.append((channels[item.channel], item.message, target, item.message.route))
            owners.append(item)
        records = deliver_all(jobs, options.sleep)
        outcome.records += records
        for owner, record in zip(owners, records, strict=True):
            if record.status == "sent":
                mark_alerted(state, owner.alert_ids, now)
    return outcome


@contextmanager
def _state(store: StateStore | None, target: str, write: bool) -> Iterator[NotifyState]:
    if store is None:
        yield NotifyState()
    else:
        with store.notify_state(target, write=write) as state:
            yield state


def _record(
    target: str, item: ChannelMessage, channel: Channel[Any], status: str, error: str | None = None
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
        event=item.message.event,
    )
