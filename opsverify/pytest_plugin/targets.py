"""`--target` and friends: which target files a run checks, loaded once per process, and the probe pool.

The ops repository's root is the folder of pytest's config file when there is one (the `pytest.ini` that
`opsverify init` writes), else the folder pytest was started in; target names are looked up in its
`targets/` folder and reports are written to its `reports/` folder.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
from pathlib import Path

import pytest

from opsverify.pytest_plugin.startup import library_imports

# pydantic, PyYAML and the target model's modules: long-lived objects; their imports' repeated work (startup.py)
with library_imports():
    from opsverify.config.target import LoadedTarget, list_targets, load_target
    from opsverify.config.types import TIERS
    from opsverify.config.yamlsource import TargetError
    from opsverify.pytest_plugin.pool import ProbePool

TARGETS = pytest.StashKey[list[LoadedTarget]]()
POOL = pytest.StashKey[ProbePool]()

DEFAULT_PROBE_WORKERS = 128
DEFAULT_LOOP_PROBE_WORKERS = 1000
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
        help="target file: a name in targets/ or a path to a YAML file (write --target=PATH); repeat for "
        "several targets (default: $OPSVERIFY_TARGET, comma-separated)",
    )
    group.addoption(
        "--targets-dir",
        dest="opsverify_targets_dir",
        default=None,
        metavar="DIR",
        help="folder target names are looked up in (default: $OPSVERIFY_TARGETS_DIR or <ops root>/targets)",
    )
    group.addoption(
        "--probe-workers",
        dest="opsverify_probe_workers",
        type=int,
        default=None,
        metavar="N",
        help="live probes run at once (default: the target's settings.concurrency, 128)",
    )


def ops_root(config: pytest.Config) -> Path:
    """The ops repository: the folder of pytest's config file, else the folder pytest was started in."""
    return config.inipath.parent if config.inipath else config.invocation_params.dir


def targets_dir(config: pytest.Config) -> Path:
    given = config.getoption("opsverify_targets_dir") or os.environ.get("OPSVERIFY_TARGETS_DIR")
    return Path(given) if given else ops_root(config) / "targets"


def target_specs(config: pytest.Config) -> list[str]:
    specs: list[str] = list(config.getoption("opsverify_targets") or [])
    if not specs:
        specs = [s.strip() for s in os.environ.get("OPSVERIFY_TARGET", "").split(",") if s.strip()]
    return specs


def loaded_targets(config: pytest.Config) -> list[LoadedTarget]:
    return config.stash.get(TARGETS, [])


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    known = set(registered_markers(config))
    for tier in TIERS:
        if tier not in known:
            config.addinivalue_line("markers", f"{tier}: {TIER_HELP[tier]}")
    # `verify: false` on an http entry is the operator's explicit choice; urllib3 warns on every such request.
    # (pytest imports urllib3 to read this filter when the first test or collection starts: here instead,
    # with the collector paused and the imports' repeated work saved, as for the target model's modules.)
    with library_imports():
        import urllib3.exceptions  # noqa: F401
    config.addinivalue_line("filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning")
    ensure_loaded(config)
    config.stash[POOL] = ProbePool(probe_workers(config), loop_probe_workers(config))


def ensure_loaded(config: pytest.Config) -> list[LoadedTarget]:
    """The run's targets, loaded by the first plugin that needs them (a bad file stops the run: exit 4)."""
    if TARGETS not in config.stash:
        # the target model and its validation: objects that live as long as the run (startup.py)
        with library_imports():
            config.stash[TARGETS] = [] if config.option.help else load_targets(config)
    return config.stash[TARGETS]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """A tier that is no marker (`-m smok`) is a usage error (exit 4), before anything is collected or probed.

    Here, once every plugin and conftest.py registered its markers in its pytest_configure.
    """
    config = session.config
    if not loaded_targets(config) or hasattr(config, "workerinput"):
        return
    known = [*TIERS, *registered_markers(config)]
    for word in marker_words(config.option.markexpr or ""):
        if word not in known:
            guess = difflib.get_close_matches(word, [*TIERS, *known], n=1)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            raise pytest.UsageError(
                f"unknown tier {word!r}{hint}: the tiers are {', '.join(TIERS)}; a marker of your own checks "
                "is registered under `markers` in pytest.ini"
            )


def registered_markers(config: pytest.Config) -> list[str]:
    """The names of the markers pytest knows: `name: help` or `name(args): help` lines."""
    return [line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")]


def marker_words(expression: str) -> list[str]:
    """The marker names in a -m expression (`smoke and not dr`, `(smoke or daily)`, `flaky(reruns=2)`)."""
    without_arguments = re.sub(r"(?<=[\w\]])\([^)]*\)", " ", expression)
    words = re.findall(r"[\w:+\-.\[\]]+", without_arguments)
    return [word for word in words if word not in ("and", "or", "not")]


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(POOL, None)
    if pool is not None:
        pool.shutdown()


def given_probe_workers(config: pytest.Config) -> int | None:
    """--probe-workers, else $OPSVERIFY_PROBE_WORKERS, else None."""
    option = config.getoption("opsverify_probe_workers")
    given = str(option) if option is not None else os.environ.get("OPSVERIFY_PROBE_WORKERS", "")
    if not given:
        return None
    if not given.isdigit() or int(given) < 1:
        raise pytest.UsageError(f"probe workers: expected a positive whole number, got {given!r}")
    return int(given)


def probe_workers(config: pytest.Config) -> int:
    """Probes holding a thread at once: --probe-workers, $OPSVERIFY_PROBE_WORKERS, the smallest
    settings.concurrency, else 128."""
    given = given_probe_workers(config)
    if given is not None:
        return given
    return min((t.model.settings.concurrency for t in config.stash[TARGETS]), default=DEFAULT_PROBE_WORKERS)


def loop_probe_workers(config: pytest.Config) -> int:
    """HTTP probes in flight at once on the run's event loop: --probe-workers, $OPSVERIFY_PROBE_WORKERS, the
    smallest settings.http_concurrency, else 1000."""
    given = given_probe_workers(config)
    if given is not None:
        return given
    settings = [t.model.settings.http_concurrency for t in config.stash[TARGETS]]
    return min(settings, default=DEFAULT_LOOP_PROBE_WORKERS)


def load_targets(config: pytest.Config) -> list[LoadedTarget]:
    """Load every --target (or $OPSVERIFY_TARGET) once; any problem is a usage error (exit code 4)."""
    specs = target_specs(config)
    if specs:
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
    """Refuse a run whose pytest configuration was lost to `--target PATH` (pytest#1435, #8846).

    pytest settles its rootdir and config file before plugins add their options, so in `--target PATH`
    (with a space) it reads PATH as a test path. When that makes it miss the config file of the folder the
    run was started in, the ops repository's settings are silently dropped: say so, with the fix.
    """
    if config.option.rootdir or config.option.inifilename:
        return
    args = [str(a) for a in config.invocation_params.args]
    spaced = [
        (option, value)
        for option, value in itertools.pairwise(args)
        if option in PATH_OPTIONS and Path(value).expanduser().exists()
    ]
    if not spaced:
        return
    option, value = spaced[0]
    started = config.invocation_params.dir
    if config.args_source == pytest.Config.ArgsSource.INVOCATION_DIR and not started.is_relative_to(
        config.rootpath
    ):
        # `cd /tmp && pytest --target /srv/ops/targets/prod.yaml`: the rootdir is the target's repository,
        # and with no test path pytest would collect every test file under /tmp: stop before the walk.
        raise pytest.UsageError(
            f"{option} {value}: pytest read this path as a test path while it looked for its configuration, "
            f"so it would collect every test file under {started} (outside {config.rootpath}).\n"
            f"  write {option}={value} (with '='), set {PATH_OPTIONS[option]}, "
            f"or run `opsverify run TIER {option} {value}`"
        )
    expected = find_config_file(started)
    if expected is None or expected == config.inipath:
        return
    raise pytest.UsageError(
        f"{option} {value}: pytest read this path as a test path while it looked for its configuration, "
        f"and so did not use {expected}.\n"
        f"  write {option}={value} (with '='), set {PATH_OPTIONS[option]}, "
        f"or run `opsverify run TIER {option} {value}`"
    )


def find_config_file(start: Path) -> Path | None:
    """The pytest config file pytest would find from `start` upwards with no paths given (as documented)."""
    for folder in (start, *start.parents):
        for name in ("pytest.ini", ".pytest.ini"):
            if (folder / name).is_file():
                return folder / name
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_pytest_table(pyproject):
            return pyproject
        for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
            if (folder / name).is_file() and _has_ini_section(folder / name, section):
                return folder / name
    return None


def _has_pytest_table(path: Path) -> bool:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return "ini_options" in data.get("tool", {}).get("pytest", {})


def _has_ini_section(path: Path, section: str) -> bool:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error):
        return False
    return parser.has_section(section)


def no_target_message(config: pytest.Config) -> str:
    directory = targets_dir(config)
    names = list_targets(directory)
    listed = ", ".join(names) if names else "(none yet: `opsverify init` writes an example)"
    example = names[0] if names else "prod"
    return (
        "no target given: pass --target NAME (a file in targets/) or --target=PATH/TO/FILE.yaml, "
        f"or set OPSVERIFY_TARGET.\n  targets in {directory}: {listed}\n"
        f"  example: opsverify run smoke --target {example}"
    )
