"""Routing: which message, if any, each route of a target sends for this run (at most one per route)."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsverify.config.notify import NotifyConfig, Route
from opsverify.config.types import TIERS
from opsverify.notify.message import Message, MessageStatus
from opsverify.notify.policy import ALERTING, FAILING_REACHED, Decision
from opsverify.results import CheckResult


@dataclass
class RunContext:
    """What every message of a run shares."""

    run_id: str
    duration: float
    tiers_run: tuple[str, ...]
    report_url: str | None = None


@dataclass
class RoutedMessage:
    """A route's message for this run and the check ids whose alert it carries (marked once delivered)."""

    index: int
    route: Route
    message: Message
    alert_ids: set[str] = field(default_factory=set)


def effective_tiers(result: CheckResult, tiers_run: tuple[str, ...]) -> tuple[str, ...]:
    """The tiers a check ran in: its tiers selected by -m (all of them without -m)."""
    selected = tuple(t for t in result.tiers if t in tiers_run)
    return selected or result.tiers


def in_scope(route: Route, result: CheckResult, tiers_run: tuple[str, ...]) -> bool:
    return route.match.covers(result.kind, result.name, effective_tiers(result, tiers_run), result.severity)


def _tier_label(route: Route, scoped: list[CheckResult], tiers_run: tuple[str, ...]) -> tuple[str, ...]:
    ran = {t for r in scoped for t in effective_tiers(r, tiers_run)}
    if route.match.tiers is not None:
        ran &= set(route.match.tiers)
    return tuple(t for t in TIERS if t in ran)


def route_messages(
    target: str,
    results: list[CheckResult],
    decisions: dict[str, Decision],
    notify: NotifyConfig,
    run: RunContext,
) -> list[RoutedMessage]:
    """One message per route whose match holds for this run, in route order."""
    routed: list[RoutedMessage] = []
    for index, route in enumerate(notify.routes):
        message = _route_message(target, route, index, results, decisions, notify, run)
        if message is not None:
            routed.append(message)
    return routed


def _route_message(
    target: str,
    route: Route,
    index: int,
    results: list[CheckResult],
    decisions: dict[str, Decision],
    notify: NotifyConfig,
    run: RunContext,
) -> RoutedMessage | None:
    scoped_all = [r for r in results if in_scope(route, r, run.tiers_run)]
    scoped = [r for r in scoped_all if r.status != "skipped"]
    if not scoped:
        return None
    statuses = set(route.match.status)
    failing = [r for r in scoped if r.failed]
    reached = [r for r in failing if decisions.get(r.id) in FAILING_REACHED]
    due = [r for r in reached if decisions.get(r.id) in ALERTING]
    resolved = [r for r in scoped if decisions.get(r.id) == "resolved"]
    if not ("resolved" in statuses or ("failed" in statuses and notify.policy.send_on_resolved)):
        resolved = []
    status: MessageStatus
    listed = failing if "completed" in statuses else reached
    if "failed" in statuses and due:
        status = "failed"
    elif resolved:
        status = "resolved"
    elif "passed" in statuses and not failing:
        status = "passed"
    elif "completed" in statuses:
        status = "completed"
    else:
        return None
    passed = sum(1 for r in scoped if r.status == "passed")
    message = Message(
        status=status,
        target=target,
        tiers=_tier_label(route, scoped, run.tiers_run),
        route=route.label(index),
        failures=listed,
        resolved=resolved,
        new=frozenset(r.id for r in due if decisions.get(r.id) == "new"),
        counts={
            "total": len(scoped),
            "passed": passed,
            "failed": len(failing),
            "skipped": len(scoped_all) - len(scoped),
        },
        run_id=run.run_id,
        duration=run.duration,
        report_url=run.report_url,
    )
    return RoutedMessage(index, route, message, {r.id for r in due} if status == "failed" else set())


@dataclass
class ChannelMessage:
    """What one channel receives this run: one message, whatever routes matched, and the alerts it carries."""

    channel: str
    message: Message
    alert_ids: set[str] = field(default_factory=set)
    routes: list[RoutedMessage] = field(default_factory=list)


_PRIORITY: dict[str, int] = {"failed": 0, "resolved": 1, "completed": 2, "passed": 3}


def _union(lists: list[list[CheckResult]]) -> list[CheckResult]:
    seen: dict[str, CheckResult] = {}
    for results in lists:
        for result in results:
            seen.setdefault(result.id, result)
    return list(seen.values())


def merge_message(messages: list[Message]) -> Message:
    """One message out of several routes' messages for the same channel: the most urgent status, every
    failure and every resolved check once, the tiers of all, the counts of the widest route."""
    ordered = sorted(messages, key=lambda m: _PRIORITY.get(m.status, 9))
    first = ordered[0]
    if len(messages) == 1:
        return first
    tiers = {t for m in messages for t in m.tiers}
    widest = max(messages, key=lambda m: m.counts.get("total", 0))
    failures = _union([m.failures for m in ordered])
    resolved = [r for r in _union([m.resolved for m in ordered]) if r.id not in {f.id for f in failures}]
    counts = dict(widest.counts)
    counts["failed"] = max(counts.get("failed", 0), len(failures))
    return Message(
        status=first.status,
        target=first.target,
        tiers=tuple(t for t in TIERS if t in tiers),
        route=" + ".join(m.route for m in messages),
        failures=failures,
        resolved=resolved,
        new=frozenset().union(*(m.new for m in messages)),
        counts=counts,
        run_id=first.run_id,
        duration=first.duration,
        report_url=first.report_url,
    )


def by_channel(routed: list[RoutedMessage]) -> list[ChannelMessage]:
    """One message per channel per run (in the order channels first appear in the routes)."""
    grouped: dict[str, list[RoutedMessage]] = {}
    for item in routed:
        for name in item.route.to:
            grouped.setdefault(name, [])
            if item not in grouped[name]:
                grouped[name].append(item)
    return [
        ChannelMessage(
            name,
            merge_message([item.message for item in items]),
            set().union(*(item.alert_ids for item in items)),
            items,
        )
        for name, items in grouped.items()
    ]
