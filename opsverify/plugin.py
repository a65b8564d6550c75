"""The pytest plugin: `--target`, tiers as markers, one test per target entry, probes run concurrently."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsverify.config.target import CheckItem, LoadedTarget, list_targets, load_target
from opsverify.config.types import TIERS
from opsverify.config.yamlsource import TargetError
from opsverify.kinds import KINDS
from opsverify.scheduler_pool import ProbePool

TARGETS = pytest.StashKey[list[LoadedTarget]]()
POOL = pytest.StashKey[ProbePool]()
NEEDS_TARGET = pytest.StashKey[bool]()

DEFAULT_PROBE_WORKERS = 32
TIER_HELP = {
    "smoke": "post-deploy gate: fast checks that the deployment is up and serving",
    "daily": "the daily checklist",
    "weekly": "the weekly checklist",
    "monthly": "the monthly checklist",
    "quarterly": "the quarterly checklist",
    "dr": "disaster-recovery drills (restore the newest backup into a throwaway database)",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opsverify", "opsverify: operational checks against a target")
    group.addoption(
        "--target",
        action="append",
        default=[],
        dest="opsverify_targets",
        metavar="NAME|PATH",
        help="target file: a name in targets/ or a path to a YAML file; repeat for several targets "
        "(default: $OPSVERIFY_TARGET, comma-separated)",
    )
    group.addoption(
        "--targets-dir",
        dest="opsverify_targets_dir",
        default=None,
        metavar="DIR",
        help="folder target names are looked up in (default: $OPSVERIFY_TARGETS_DIR or <rootdir>/targets)",
    )
    group.addoption(
        "--probe-workers",
        dest="opsverify_probe_workers",
        type=int,
        default=None,
        metavar="N",
        help="live probes run at once (default: the target's settings.concurrency, 32)",
    )


def targets_dir(config: pytest.Config) -> Path:
    given = config.getoption("opsverify_targets_dir") or os.environ.get("OPSVERIFY_TARGETS_DIR")
    return Path(given) if given else config.rootpath / "targets"


def target_specs(config: pytest.Config) -> list[str]:
    specs: list[str] = list(config.getoption("opsverify_targets") or [])
    if not specs:
        specs = [s.strip() for s in os.environ.get("OPSVERIFY_TARGET", "").split(",") if s.strip()]
    return specs


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for tier in TIERS:
        config.addinivalue_line("markers", f"{tier}: {TIER_HELP[tier]}")
    config.addinivalue_line("markers", "opsverify_kind(kind): one test per target entry of this check kind")
    loaded: list[LoadedTarget] = []
    for spec in target_specs(config):
        try:
            target = load_target(spec, targets_dir(config))
        except TargetError as exc:
            raise pytest.UsageError(str(exc)) from None
        if any(t.name == target.name for t in loaded):
            raise pytest.UsageError(f"{target.path}: target {target.name!r} is given twice; pass it once")
        loaded.append(target)
    config.stash[TARGETS] = loaded
    workers = config.getoption("opsverify_probe_workers") or int(
        os.environ.get("OPSVERIFY_PROBE_WORKERS", 0) or 0
    )
    if not workers:
        workers = min((t.model.settings.concurrency for t in loaded), default=DEFAULT_PROBE_WORKERS)
    config.stash[POOL] = ProbePool(max(1, workers))


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(POOL, None)
    if pool is not None:
        pool.shutdown()


def loaded_targets(config: pytest.Config) -> list[LoadedTarget]:
    return config.stash.get(TARGETS, [])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("opsverify_kind")
    if marker is None:
        return
    kind_name = marker.args[0]
    if kind_name not in KINDS:
        raise ValueError(f"opsverify_kind({kind_name!r}): unknown kind; known kinds: {', '.join(KINDS)}")
    targets = loaded_targets(metafunc.config)
    if not targets:
        metafunc.config.stash[NEEDS_TARGET] = True
    several = len(targets) > 1
    params = []
    for target in targets:
        for check in target.checks(KINDS[kind_name]):
            marks = [getattr(pytest.mark, tier) for tier in check.tiers]
            params.append(pytest.param(check, id=check.key if several else check.id, marks=marks))
    metafunc.parametrize("check", params)


def no_target_message(config: pytest.Config) -> str:
    directory = targets_dir(config)
    names = list_targets(directory)
    listed = ", ".join(names) if names else "(none yet: copy targets/demo.yaml to start one)"
    example = names[0] if names else "prod"
    return (
        "no target given: pass --target NAME (a file in targets/) or --target PATH/TO/FILE.yaml, "
        f"or set OPSVERIFY_TARGET.\n  targets in {directory}: {listed}\n"
        f"  example: pytest -m smoke --target {example}"
    )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if config.stash.get(NEEDS_TARGET, False) and not loaded_targets(config):
        raise pytest.UsageError(no_target_message(config))
    # A kind the target has no entries of yields pytest's "empty parameter set" placeholder: drop it quietly.
    placeholders = [
        item for item in items if item.get_closest_marker("opsverify_kind") and check_of(item) is None
    ]
    if placeholders:
        items[:] = [item for item in items if item not in placeholders]


def check_of(item: pytest.Item) -> CheckItem | None:
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get("check") if callspec else None
    return value if isinstance(value, CheckItem) else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Start every selected live probe before the first test runs (not on xdist workers: see below)."""
    if session.config.option.collectonly or hasattr(session.config, "workerinput"):
        return
    session.config.stash[POOL].prefetch([c for c in map(check_of, session.items) if c is not None])


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """On an xdist worker, start the probes of the tests queued for this worker (it learns them in batches)."""
    config = item.config
    if not hasattr(config, "workerinput"):
        return
    pool = config.stash[POOL]
    queued = [item, *_worker_queue(item.session, config)]
    pool.prefetch([c for c in map(check_of, queued) if c is not None])


def _worker_queue(session: pytest.Session, config: pytest.Config) -> Iterator[pytest.Item]:
    for plugin in config.pluginmanager.get_plugins():
        queue = getattr(plugin, "torun", None)
        if type(plugin).__name__ == "WorkerInteractor" and queue is not None:
            with queue.lock() as pending:
                indices = [i for i in pending if isinstance(i, int)]
            yield from (session.items[i] for i in indices if i < len(session.items))
            return


@pytest.fixture
def facts(request: pytest.FixtureRequest, check: CheckItem) -> Any:
    """What the probe of this test's check observed (started early, collected here)."""
    return request.config.stash[POOL].result(check)
