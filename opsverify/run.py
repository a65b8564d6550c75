"""Run a tier of checks against targets, from any folder of the ops repository.

ROOT, the ops repository, is the nearest folder upwards holding the pytest.ini that `opsverify init` wrote
or a targets/ folder (else the current folder). Target names are files in ROOT/targets; paths are taken
as given. The checks run with pytest, ROOT as its rootdir and ROOT's pytest settings; `--print` shows the
command. The exit code is pytest's: 0 every check passed, 1 a check failed, 4 a bad or unknown target,
5 the tier selected no checks.
"""

# pytest_command() is the one place the pytest command line is built: `opsverify run`, `opsverify
# schedule`, `opsverify validate`'s hints (through `opsverify run`), ci/deploy-gate.sh and the CI templates
# all come to it, so a check behaves the same in a terminal, the scheduler and CI.

from __future__ import annotations

import argparse
import difflib
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

HELP = "run a tier of checks against targets, from any folder of the ops repository"
OPS_MARKER = "# opsverify ops repository"  # first line of the pytest.ini that `opsverify init` writes
ALL_TIERS = "all"  # TIER that selects every check (no -m)
USAGE_EXIT = 4  # pytest's exit code for a usage error: an unknown target is one
_EXTENSIONS = (".yaml", ".yml")


def is_ops_root(folder: Path) -> bool:
    """A folder holding the pytest.ini that `opsverify init` wrote, or a targets/ folder."""
    return (folder / "targets").is_dir() or _first_line(folder / "pytest.ini").startswith(OPS_MARKER)


def _first_line(path: Path) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def search_root(start: Path) -> Path | None:
    """The nearest ops repository at or above `start`, or None."""
    start = Path(os.path.abspath(start))
    return next((folder for folder in (start, *start.parents) if is_ops_root(folder)), None)


def find_root(start: Path | None = None) -> Path:
    """The ops repository holding `start` (default: the current folder), else `start` itself."""
    start = Path(os.path.abspath(start or Path.cwd()))
    return search_root(start) or start


def pytest_config(root: Path) -> Path | None:
    """The pytest configuration file in `root`, in pytest's own order of preference, or None.

    Passed with -c: pytest otherwise looks for its configuration above the common folder of the paths on
    the command line, which for a target file outside the repository is not the repository.
    """
    for name in ("pytest.ini", ".pytest.ini"):
        if (root / name).is_file():
            return root / name
    sections = {"pyproject.toml": ("[tool.pytest]", "[tool.pytest.ini_options]"), "tox.ini": ("[pytest]",)}
    sections["setup.cfg"] = ("[tool:pytest]",)
    for name, headers in sections.items():
        path = root / name
        try:
            lines = {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}
        except (OSError, UnicodeDecodeError):
            continue
        if lines & set(headers):
            return path
    return None


def is_target_path(spec: str) -> bool:
    """`prod` is a name in the targets folder; `ops/prod.yaml` or `prod.yml` is a path (as load_target reads it)."""
    return "/" in spec or os.sep in spec or Path(spec).suffix in _EXTENSIONS


def targets_folder(given: str | Path | None, root: Path, cwd: Path | None = None) -> Path:
    """Where target names are looked up: `given` (--targets-dir), else $OPSVERIFY_TARGETS_DIR, else ROOT/targets.

    A relative folder is relative to `cwd` (default: the current folder).
    """
    chosen = given or os.environ.get("OPSVERIFY_TARGETS_DIR")
    if not chosen:
        return root / "targets"
    return Path(os.path.abspath((cwd or Path.cwd()) / Path(chosen).expanduser()))


def default_targets_dir(cwd: Path | None = None) -> Path:
    """ROOT/targets of the ops repository holding `cwd`; plain `targets` when that is cwd/targets."""
    base = Path(os.path.abspath(cwd or Path.cwd()))
    root = find_root(base)
    return Path("targets") if root == base else root / "targets"


def env_targets() -> list[str]:
    """$OPSVERIFY_TARGET: target names or paths, comma-separated."""
    return [spec.strip() for spec in os.environ.get("OPSVERIFY_TARGET", "").split(",") if spec.strip()]


def resolve_targets(
    specs: Sequence[str], targets_dir: Path, cwd: Path | None = None, *, require: bool = True
) -> list[Path]:
    """Each target as an absolute path: a name -> TARGETS_DIR/NAME.yaml (or .yml), a path -> made absolute.

    A target that names no file raises TargetError (the message lists the folder's targets and the fix),
    unless `require` is false: then a name becomes TARGETS_DIR/NAME.yaml, whether it exists or not.
    """
    from opsverify.config.target import list_targets, resolve_target_path
    from opsverify.config.yamlsource import TargetError

    base = cwd or Path.cwd()
    resolved: list[Path] = []
    for spec in specs:
        candidate = str(base / Path(spec).expanduser()) if is_target_path(spec) else spec
        try:
            path = resolve_target_path(candidate, targets_dir)
        except TargetError as exc:
            if require:
                known = list_targets(targets_dir)
                guess = difflib.get_close_matches(Path(spec).stem, known, n=1)
                hint = f"; did you mean {guess[0]!r}?" if guess else ""
                raise TargetError(f"{exc}{hint}") from None
            path = Path(candidate) if is_target_path(spec) else targets_dir / f"{spec}.yaml"
        resolved.append(Path(os.path.abspath(path)))
    return resolved


def pytest_command(
    tiers: str,
    targets: Sequence[str],
    *,
    cwd: Path | None = None,
    root: Path | None = None,
    targets_dir: Path | None = None,
    extra: Sequence[str] = (),
    python: str | None = None,
    require_targets: bool = True,
) -> list[str]:
    """The pytest command line that runs `tiers` against `targets`, whatever the current folder.

    `python -m pytest --rootdir=ROOT [-c ROOT/pytest.ini] [-m TIERS] --target=ABS... [ROOT/checks] ABS...
    EXTRA`:

    - tiers: a marker expression (`smoke`, `"smoke or daily"`, `"daily and not dr"`), or `all` for no -m;
    - targets: names (looked up in `targets_dir`, default $OPSVERIFY_TARGETS_DIR or ROOT/targets) or paths
      (relative to `cwd`), passed as absolute paths; an unknown one raises TargetError (see
      resolve_targets for `require_targets`);
    - root: the ops repository; default: the one holding `cwd`, else the one holding the first target
      file, else `cwd`. Its checks/ folder holds the hand-written checks;
    - `--target=PATH` with `=`: pytest settles its rootdir and configuration before plugins add their
      options, so it would take a separate PATH for a test path (pytest#1435); the rootdir and the config
      file are pinned anyway;
    - each target file is also a path to collect: the plugin collects its entries as the built-in checks,
      and pytest collects nothing else it was not given (no walk of the current folder);
    - extra: more pytest arguments, last and unchanged; python: default this interpreter.
    """
    base = Path(os.path.abspath(cwd or Path.cwd()))
    found = Path(os.path.abspath(root)) if root else search_root(base)
    folder = targets_dir if targets_dir is not None else targets_folder(None, found or base, base)
    paths = resolve_targets(targets, folder, base, require=require_targets)
    # Run from outside any ops repository (`opsverify run smoke --target=/srv/ops/targets/prod.yaml`): the
    # repository is the target file's, so its checks and settings apply.
    root = found or (search_root(paths[0].parent) if paths else None) or base
    command = [python or sys.executable, "-m", "pytest", f"--rootdir={root}"]
    config = pytest_config(root)
    if config:
        command += ["-c", str(config)]
    tiers = tiers.strip()
    if tiers and tiers != ALL_TIERS:
        command += ["-m", tiers]
    command += [f"--target={path}" for path in paths]
    if (root / "checks").is_dir():
        command.append(str(root / "checks"))
    command += [str(path) for path in paths]
    return command + list(extra)


def run_hint(tier: str, spec: str, targets_dir: str | Path | None = None) -> str:
    """`opsverify run daily --target prod`: what `opsverify validate` suggests for each tier.

    A target name looked up in a folder given with --targets-dir gets that folder too.
    """
    words = ["opsverify", "run", tier, "--target", spec]
    if targets_dir and not is_target_path(spec):
        words.append(f"--targets-dir={targets_dir}")
    return shlex.join(words)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define this subcommand's options."""
    parser.add_argument(
        "tier",
        metavar="TIER",
        help="smoke, daily, weekly, monthly, quarterly, dr, a marker expression ('smoke or daily'), or all",
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME|PATH",
        help="a target name (a file in ROOT/targets) or a path to a YAML file; repeat for several "
        "(default: $OPSVERIFY_TARGET, comma-separated)",
    )
    parser.add_argument(
        "--targets-dir",
        default=None,
        metavar="DIR",
        help="folder target names are looked up in (default: $OPSVERIFY_TARGETS_DIR or ROOT/targets)",
    )
    parser.add_argument(
        "--print",
        dest="print_only",
        action="store_true",
        help="print the pytest command instead of running it",
    )
    parser.set_defaults(pytest_args=[])
    parser.usage = "%(prog)s TIER [--target NAME|PATH ...] [--targets-dir DIR] [--print] [-- PYTEST ARGS ...]"
    parser.epilog = (
        "Arguments after -- go to pytest unchanged, e.g. opsverify run smoke --target prod -- -n 4 -k api"
    )


def run(args: argparse.Namespace) -> int:
    """Build the pytest command; print it (--print) or replace this process by it (its exit code is ours)."""
    from opsverify.config.target import list_targets
    from opsverify.config.yamlsource import TargetError
    from opsverify.redaction import redact

    cwd = Path(os.path.abspath(Path.cwd()))
    folder = targets_folder(args.targets_dir, find_root(cwd), cwd)
    specs = list(args.target) or env_targets()
    if not specs:
        known = list_targets(folder)
        listed = ", ".join(known) if known else "none"
        example = known[0] if known else "prod"
        print(
            f"error: no target: pass --target NAME (a file in {folder}/) or --target PATH/TO/FILE.yaml, "
            f"or set OPSVERIFY_TARGET\n  targets in {folder}/: {listed}\n"
            f"  example: opsverify run {shlex.quote(args.tier)} --target {example}",
            file=sys.stderr,
        )
        return USAGE_EXIT
    if not args.tier.strip():
        print("error: TIER is empty: give smoke, daily, ..., a marker expression, or all", file=sys.stderr)
        return USAGE_EXIT
    try:
        command = pytest_command(args.tier, specs, cwd=cwd, targets_dir=folder, extra=args.pytest_args)
    except TargetError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return USAGE_EXIT
    if args.print_only:
        print(shlex.join(command))
        return 0
    print(f"opsverify run: {shlex.join(command)}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    # exec, not a child process: signals (Ctrl-C, a CI runner's SIGTERM) reach pytest itself, which then
    # cleans up (a restore drill drops its sandbox database) and exits with its own code.
    os.execv(command[0], command)  # noqa: S606 (no shell: the words are passed as they are)
