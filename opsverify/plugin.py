"""The pytest plugin: `--target`, tiers as markers, one test per target entry, probes run concurrently."""

from __future__ import annotations

import importlib
import inspect
import itertools
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

# Reports and notifications (Allure labels, summary.json, JUnit default, routing, heartbeat) live there.
pytest_plugins = ["opsverify.report.session"]

TARGETS = pytest.StashKey[list[LoadedTarget]]()
POOL = pytest.StashKey[ProbePool]()
NEEDS_TARGET = pytest.StashKey[bool]()
WORKER_USAGE_ERROR = pytest.StashKey[str]()  # a usage error an xdist worker found, reported by the controller

DEFAULT_PROBE_WORKERS = 128
PATH_OPTIONS = {"--target": "OPSVERIFY_TARGET", "--targets-dir": "OPSVERIFY_TARGETS_DIR"}
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
        help="live probes run at once (default: the target's settings.concurrency, 128)",
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
    known = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    for tier in TIERS:
        if tier not in known:
            config.addinivalue_line("markers", f"{tier}: {TIER_HELP[tier]}")
    if "opsverify_kind" not in known:
        config.addinivalue_line(
            "markers", "opsverify_kind(kind): one test per target entry of this check kind"
        )
    config.stash[TARGETS] = [] if config.option.help else load_targets(config)
    config.stash[POOL] = ProbePool(probe_workers(config))


def probe_workers(config: pytest.Config) -> int:
    """--probe-workers, else $OPSVERIFY_PROBE_WORKERS, else the smallest settings.concurrency, else 128."""
    option = config.getoption("opsverify_probe_workers")
    given = str(option) if option is not None else os.environ.get("OPSVERIFY_PROBE_WORKERS", "")
    if given:
        if not given.isdigit() or int(given) < 1:
            raise pytest.UsageError(f"probe workers: expected a positive whole number, got {given!r}")
        return int(given)
    return min((t.model.settings.concurrency for t in config.stash[TARGETS]), default=DEFAULT_PROBE_WORKERS)


def load_targets(config: pytest.Config) -> list[LoadedTarget]:
    """Load every --target (or $OPSVERIFY_TARGET) once; any problem is a usage error (exit code 4)."""
    specs = target_specs(config)
    check_rootdir(config)
    loaded: list[LoadedTarget] = []
    for spec in specs:
        try:
            target = load_target(spec, targets_dir(config))
        except TargetError as exc:
            raise pytest.UsageError(str(exc)) from None
        for other in loaded:
            if other.path.resolve() == target.path.resolve():
                raise pytest.UsageError(f"{target.path}: target given twice ({spec!r}); pass it once")
            if other.name == target.name:
                raise pytest.UsageError(
                    f"{target.path}: target name {target.name!r} is also the name of {other.path}; "
                    "test ids and reports need distinct names: change `target:` in one of them"
                )
        loaded.append(target)
    return loaded


def check_rootdir(config: pytest.Config) -> None:
    """Refuse a run whose rootdir pytest derived from our option's path value (pytest issue #1435).

    pytest finds its rootdir and config file before plugins add their options, so in `--target PATH`
    it reads PATH as a test path; outside the project that silently drops the project's pytest settings.
    """
    if config.option.rootdir or config.option.inifilename:
        return
    args = [str(a) for a in config.invocation_params.args]
    spaced = [i for i, (option, value) in enumerate(itertools.pairwise(args)) if option in PATH_OPTIONS]
    spaced = [i for i in spaced if Path(args[i + 1]).exists()]
    if not spaced:
        return
    without = [a for i, a in enumerate(args) if i not in spaced and i - 1 not in spaced]
    expected = setup_without_paths(config, without)
    if expected is None or expected == (config.rootpath, config.inipath):
        return
    option, value = args[spaced[0]], args[spaced[0] + 1]
    raise pytest.UsageError(
        f"{option} {value}: pytest read this path as a test path while it looked for its "
        f"configuration, and so picked rootdir {config.rootpath} instead of {expected[0]}.\n"
        f"  write {option}={value} (with '='), set {PATH_OPTIONS[option]}, or add --rootdir=."
    )


def setup_without_paths(config: pytest.Config, args: list[str]) -> tuple[Path, Path | None] | None:
    """(rootdir, config file) pytest would have chosen for `args`; None if pytest's internals differ."""
    try:
        from _pytest.config.findpaths import determine_setup

        namespace = config._parser.parse_known_args(args)
        rootpath, inipath, *_ = determine_setup(
            inifile=None,
            override_ini=namespace.override_ini,
            args=namespace.file_or_dir,
            rootdir_cmd_arg=None,
            invocation_dir=config.invocation_params.dir,
        )
    except Exception:  # noqa: BLE001 - a private pytest API; without it the check is skipped, never fatal
        return None
    return rootpath, inipath


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(POOL, None)
    if pool is not None:
        pool.shutdown()


def loaded_targets(config: pytest.Config) -> list[LoadedTarget]:
    return config.stash.get(TARGETS, [])


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Collector, name: str, obj: object
) -> list[pytest.Item] | None:
    """A check kind none of the targets has entries of yields no test (not an empty parameter set)."""
    targets = loaded_targets(collector.config)
    if not targets or not inspect.isfunction(obj):
        return None
    marks = [m for m in getattr(obj, "pytestmark", []) if m.name == "opsverify_kind"]
    marker = marks[0] if marks else collector.get_closest_marker("opsverify_kind")
    if marker is None or marker.args[0] not in KINDS:
        return None
    kind = KINDS[marker.args[0]]
    return None if any(target.checks(kind) for target in targets) else []


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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if config.stash.get(NEEDS_TARGET, False) and not loaded_targets(config):
        if not hasattr(config, "workerinput"):
            raise pytest.UsageError(no_target_message(config))
        # An xdist worker cannot end the run with a usage error: hand the message to the controller.
        config.workeroutput["opsverify_usage_error"] = no_target_message(config)  # type: ignore[attr-defined]
        items.clear()
        return
    # A kind the target has no entries of yields pytest's "empty parameter set" placeholder: drop it quietly.
    items[:] = [item for item in items if not item.get_closest_marker("opsverify_kind") or check_of(item)]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """On the xdist controller: keep a worker's usage error so the run ends with it (exit code 4)."""
    message = getattr(node, "workeroutput", {}).get("opsverify_usage_error")
    if message:
        node.config.stash[WORKER_USAGE_ERROR] = message


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    message = session.config.stash.get(WORKER_USAGE_ERROR, None)
    if message:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"ERROR: {message}", red=True)
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


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
    queued = [item, *([nextitem] if nextitem else []), *worker_queue(item.session)]
    config.stash[POOL].prefetch([c for c in map(check_of, queued) if c is not None])


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under `-n` without `--dist`, queue every test up front (work stealing) rather than in small batches.

    A worker starts the probes of the tests it has been sent; xdist's default `load` mode sends a few at a
    time, so a gate would wait for one probe round per batch. Pass `--dist load` to keep that mode.
    """
    if not loaded_targets(config) or config.getoption("dist") != "load" or dist_chosen(config):
        return None
    scheduling = importlib.import_module("xdist.scheduler")  # xdist has no type information
    return scheduling.WorkStealingScheduling(config, log)


def dist_chosen(config: pytest.Config) -> bool:
    """Whether the user chose an xdist mode (command line, PYTEST_ADDOPTS or the ini file's addopts)."""
    args = [*map(str, config.invocation_params.args), *config.getini("addopts")]
    args += os.environ.get("PYTEST_ADDOPTS", "").split()
    return any(arg in ("--dist", "-d", "--distload") or arg.startswith("--dist=") for arg in args)


def worker_queue(session: pytest.Session) -> Iterator[pytest.Item]:
    """The items xdist has sent to this worker and not yet started (its WorkerInteractor's `torun`)."""
    for plugin in session.config.pluginmanager.get_plugins():
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
