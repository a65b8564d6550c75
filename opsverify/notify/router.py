"""Routing: which message, if any, each route of a target sends for this run (at most one per route)."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsverify.config.notify import NotifyConfig, Route
from opsverify.config.types import TIERS
from opsverify.notify.message import Message, MessageStatus
from opsverify.notify.policy import ALERTING, FAILING_REACHED, Decision
from opsverify.report.summary import CheckResult


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
