"""The run-end plugin's notify steps: gates (blocked, silenced, maintenance), one message per channel per
route, the `pytest_opsverify_check_failed` / `_run_finished` hooks, heartbeat pings."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import pytest

from opsverify.config.target import LoadedTarget
from opsverify.problem import Problem
from opsverify.redaction import redact
from opsverify.results import RunSummary
from opsverify.state.store import StateError, StateStore

if TYPE_CHECKING:
    from opsverify.notify.delivery import DeliveryRecord
    from opsverify.notify.dispatch import NotifyOptions, NotifyOutcome
    from opsverify.notify.gates import Gate
    from opsverify.notify.heartbeat import Event
    from opsverify.pytest_plugin.run_end_state import Stores


def gate_failures(
    target: LoadedTarget, summary: RunSummary, store: StateStore | None, problems: list[str]
) -> dict[str, Gate]:
    """Failures that send nothing (blocked by a dependency, silenced, in a maintenance window), noted."""
    results = summary.of_target(target.name)
    if not any(result.failed for result in results):
        return {}  # gates hold back failures only: nothing to look up (no silences read, no windows)
    from opsverify.notify.gates import gates
    from opsverify.state.silences import Silence, active_silences, silence_for

    silences: list[Silence] = []
    if store is not None:
        try:
            silences = active_silences(store, target.name)
        except StateError as exc:
            problems.append(f"reading the silences of {target.name}: {redact(str(exc))}")
    notify = target.model.notify
    gated = gates(
        results,
        lambda check_id: s.label() if (s := silence_for(silences, target.name, check_id)) else None,
        notify.maintenance if notify is not None else [],
        time.time(),
    )
    for result in results:
        if result.id in gated:
            result.note = gated[result.id].note
    return gated


def notify_run(
    target: LoadedTarget,
    summary: RunSummary,
    ran: tuple[str, ...],
    store: StateStore | None,
    gated: dict[str, Gate],
    options: NotifyOptions,
    problems: list[str],
) -> NotifyOutcome | None:
    """The target's routes applied to its results: what was sent (None when it has no routes or failed)."""
    notify = target.model.notify
    if notify is None or not notify.routes:
        return None
    from opsverify.notify.dispatch import notify_target
    from opsverify.notify.router import RunContext

    run = RunContext(
        run_id=summary.run_id,
        duration=summary.duration,
        tiers_run=ran,
        report_url=notify.report_url or summary.report_url,
    )
    results = summary.of_target(target.name)
    try:
        try:
            return notify_target(target.name, notify, results, run, store, options, gated)
        except StateError as exc:  # the store failed under the lock: send without state
            problems.append(
                f"state store for {target.name}: {redact(str(exc))}; notifications were sent without "
                "state (duplicates possible)"
            )
            return notify_target(target.name, notify, results, run, None, options, gated)
    except Exception as exc:  # noqa: BLE001 (a notifier bug must not change any verdict)
        problems.append(f"notifications for {target.name} failed: {type(exc).__name__}: {redact(str(exc))}")
        return None


def hook_timeout() -> float:
    """Seconds each opsverify hook implementation may take: $OPSVERIFY_HOOK_TIMEOUT, else 30."""
    try:
        return max(0.1, float(os.environ.get("OPSVERIFY_HOOK_TIMEOUT", "30")))
    except ValueError:
        return 30.0


def call_run_hooks(
    config: pytest.Config,
    summary: RunSummary,
    stores: Stores,
    decisions: dict[str, str],
    options: NotifyOptions,
    problems: list[str],
) -> None:
    """opsverify_check_failed per failure, then opsverify_run_finished: each implementation time-limited."""
    on_failure = config.hook.pytest_opsverify_check_failed.get_hookimpls()
    on_finish = config.hook.pytest_opsverify_run_finished.get_hookimpls()
    if not (on_failure or on_finish) or options.dry_run or not options.enabled:
        return
    limit = hook_timeout()
    for result in summary.failures:
        key = f"{result.target}/{result.id}"
        gate = stores.get(result.target, (None, {}))[1].get(result.id)
        decision = decisions.get(key) or (gate.decision if gate else "unrouted")
        decisions.setdefault(key, decision)
        found = [Problem.from_json(p) for p in result.problems]
        for impl in on_failure:
            _call_hook(impl, limit, problems, check=result, problems=found, decision=decision)
    for impl in on_finish:
        _call_hook(impl, limit, problems, summary=summary, decisions=dict(decisions))


def _call_hook(impl: Any, limit: float, noted: list[str], **kwargs: Any) -> None:
    from opsverify.notify.timebox import call_limited

    wanted = {name: value for name, value in kwargs.items() if name in impl.argnames}
    error = call_limited(impl.function, limit, **wanted)
    if error is not None:
        where = getattr(impl.plugin, "__file__", None) or impl.plugin_name
        noted.append(f"hook {impl.function.__name__} ({where}): {error}")


def heartbeat(
    target: LoadedTarget, event: Event, body: str, switches: tuple[bool, bool]
) -> DeliveryRecord | None:
    """Ping the target's heartbeat URL for `event` (start, success, fail); switches: (enabled, dry run)."""
    notify = target.model.notify
    if notify is None or notify.heartbeat is None:
        return None
    from opsverify.notify.delivery import DeliveryRecord

    enabled, dry_run = switches
    if dry_run:
        return DeliveryRecord("heartbeat", target.name, f"heartbeat/{event}", "heartbeat", "dry-run")
    if not enabled:
        return None
    from opsverify.notify.heartbeat import ping

    return ping(notify.heartbeat, event, target.name, redact(body))


def ping_body(summary: RunSummary, target: str) -> str:
    results = summary.of_target(target)
    counts = summary.counts(results)
    lines = [f"{target}: {counts['passed']} passed, {counts['failed']} failed, run {summary.run_id}"]
    lines += [f"FAILED {r.id}: {r.reason}" for r in results if r.failed]
    return "\n".join(lines)
