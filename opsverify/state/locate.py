"""Which store a target uses: its `state.url`, else $OPSVERIFY_STATE_URL, else SQLite in its state folder."""

from __future__ import annotations

from pathlib import Path

from opsverify.config.target import LoadedTarget
from opsverify.paths import state_dir
from opsverify.state.retention import Retention, prune_after_run
from opsverify.state.store import StateStore, open_store, state_url


def target_state_dir(target: LoadedTarget, root: Path | None = None) -> Path:
    notify = target.model.notify
    configured = str(target.base_dir / notify.state) if notify is not None and notify.state else None
    return state_dir(root, configured)


def target_state_url(target: LoadedTarget) -> str | None:
    return state_url(target.model.state.url if target.model.state is not None else None)


def store_of(target: LoadedTarget, root: Path | None = None) -> StateStore:
    """Open the target's store (raises StateError / StateUnavailable)."""
    return open_store(target_state_url(target), target_state_dir(target, root))


def target_retention(target: LoadedTarget) -> Retention:
    """The target's `state.retention` (90 days of results, 400 of drills when it says nothing)."""
    if target.model.state is None:
        return Retention()
    configured = target.model.state.retention
    return Retention(results=configured.results, drills=configured.drills)


def prune_target_after_run(store: StateStore, target: LoadedTarget) -> list[str]:
    """The run-end's retention step: one bounded batch of the target's rows past retention; problems said."""
    return prune_after_run(store, target.name, target_retention(target))
