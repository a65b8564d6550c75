"""`opsverify validate | run | init | demo | report | schedule | import | draft`."""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from opsverify import __version__

if TYPE_CHECKING:
    from opsverify.config.target import LoadedTarget
    from opsverify.kinds import Kind


def cmd_validate(args: argparse.Namespace) -> int:
    """Load targets and print their checks by kind and tier (secrets masked): 0 valid, 1 invalid, 2 usage."""
    from opsverify.config.target import list_targets, load_target
    from opsverify.config.yamlsource import TargetError
    from opsverify.redaction import redact
    from opsverify.run import default_targets_dir

    targets_dir = Path(args.targets_dir or os.environ.get("OPSVERIFY_TARGETS_DIR") or default_targets_dir())
    specs = list(args.target) or [
        s.strip() for s in os.environ.get("OPSVERIFY_TARGET", "").split(",") if s.strip()
    ]
    if not specs:
        names = list_targets(targets_dir)
        print(
            f"usage: opsverify validate TARGET...  (a name in {targets_dir}/ or a path to a YAML file)\n"
            f"  targets in {targets_dir}/: {', '.join(names) or 'none'}",
            file=sys.stderr,
        )
        return 2
    status = 0
    for spec in specs:
        try:
            target = load_target(spec, targets_dir)
        except TargetError as exc:
            print(f"error: {redact(str(exc))}", file=sys.stderr)
            status = 1
            continue
        print_target(target, spec, args.targets_dir)
    return status


def print_target(target: LoadedTarget, spec: str, targets_dir: str | None = None) -> None:
    """The checks by kind (tiers, severity, where, thresholds), then the `opsverify run` command of each tier."""
    from opsverify.config.types import TIERS
    from opsverify.kinds import KINDS
    from opsverify.redaction import redact
    from opsverify.run import run_hint
    from opsverify.units import plural

    checks = target.all_checks()
    disabled = sum(1 for kind in KINDS.values() for _ in disabled_entries(target, kind))
    note = f", {disabled} disabled" if disabled else ""
    print(f"target {target.name} ({target.path}): valid, {plural(len(checks), 'check')}{note}")
    for kind in KINDS.values():
        items = [c for c in checks if c.kind is kind]
        if not items:
            continue
        print(f"\n  {kind.name}: {kind.summary}")
        for check in items:
            tiers = ", ".join(check.tiers)
            where = describe_entry(check.entry)
            enforced = ", ".join(check.kind.entry_thresholds(check.entry, check.rule))
            line = f"    {check.id:<36} [{tiers}] {check.severity:<8} {where}".rstrip()
            print(redact(f"{line}  {enforced}" if enforced else line))
    print("\n  by tier:")
    for tier in TIERS:
        count = sum(1 for c in checks if tier in c.tiers)
        if count:
            print(f"    {tier:<10} {count:>3}   {run_hint(tier, spec, targets_dir)}")
    print()


def describe_entry(entry: object) -> str:
    """Where a check looks: its URL, host:port or path (the caller masks secrets)."""
    for attribute in ("url", "host", "path"):
        value = getattr(entry, attribute, None)
        if value:
            port = getattr(entry, "port", None) if attribute == "host" else None
            return f"{value}:{port}" if port else str(value)
    return ""


def disabled_entries(target: LoadedTarget, kind: Kind) -> list[str]:
    section = target.section(kind.section)
    entries = dict(section.entries() if hasattr(section, "entries") else section or {})
    return [name for name, entry in entries.items() if getattr(entry, "enabled", True) is False]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; only `command`'s module is imported (for its arguments): the others are
    listed by their help line, so a command pays for its own imports, not for every command's."""
    parser = argparse.ArgumentParser(
        prog="opsverify", description="Executable operations guides: opsverify run TIER --target NAME."
    )
    parser.add_argument("--version", action="version", version=f"opsverify {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = commands.add_parser(
        "validate", help="check a target file and list its checks by kind and tier"
    )
    validate.add_argument(
        "target", nargs="*", help="target name (in targets/) or path; default $OPSVERIFY_TARGET"
    )
    validate.add_argument(
        "--targets-dir",
        default=None,
        help="folder of target names (default: $OPSVERIFY_TARGETS_DIR or targets)",
    )
    validate.set_defaults(handler=cmd_validate)

    for name, (module_name, help_line) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_line)
        if name == command:
            module = importlib.import_module(module_name)
            sub.description = module.__doc__
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    return parser


# Each module exposes HELP (the line here: tests/test_cli.py checks they agree), add_arguments(parser) and
# run(args) -> exit code; only the module of the command given is imported.
SUBCOMMANDS = {
    "run": ("opsverify.run", "run a tier of checks against targets, from any folder of the ops repository"),
    "init": (
        "opsverify.scaffold",
        "scaffold an ops repository: targets/example.yaml, checks/, pytest.ini, .gitignore, ci/ templates",
    ),
    "demo": (
        "opsverify.demo.cli",
        "run the embedded demo: a local EmailOps-like deployment checked by targets/demo.yaml",
    ),
    "report": ("opsverify.report.cli", "build the HTML report (Allure 3) from reports/allure-results"),
    "schedule": (
        "opsverify.scheduler",
        "run jobs from a schedule file (nightly drill, daily checklist, ...) as a long-running process",
    ),
    "import": (
        "opsverify.importers.cli",
        "write a target file from a compose file, Prometheus rules, Kubernetes probes or a Gatus config",
    ),
    "draft": (
        "opsverify.importers.draft_cli",
        "write a draft target file from an operations guide in Markdown",
    ),
    "silence": (
        "opsverify.state.silence",
        "silence a check's (or a pattern's) alerts for a while; --list, --clear",
    ),
    "history": ("opsverify.state.history", "the last runs of a check: status, duration, key figures"),
    "evidence": (
        "opsverify.evidence",
        "every restore drill of a target for auditors: an HTML page with RTO/RPO plots, or CSV / JSON",
    ),
    "state": (
        "opsverify.state.admin",
        "the state store: info (rows, oldest/newest, size), prune [--dry-run] [--vacuum]",
    ),
}


# Commands that pass what follows `--` on to pytest unparsed (`opsverify run smoke -- -n 4`), as `pytest_args`.
PASSTHROUGH = {"run"}


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """(the words before `--`, the words after it) for a PASSTHROUGH command; (argv, None) otherwise."""
    command = next((word for word in argv if not word.startswith("-")), None)
    if command not in PASSTHROUGH or "--" not in argv:
        return argv, None
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


def unrecognized(
    command: str | None, words: list[str], unknown: list[str], passthrough: list[str] | None
) -> str:
    """argparse's "unrecognized arguments" error; for `run`, with the command that passes them to pytest."""
    text = f"opsverify: error: unrecognized arguments: {shlex.join(unknown)}\n"
    if command in PASSTHROUGH:
        known, pending = list(words), list(unknown)
        for index in range(len(known) - 1, -1, -1):  # the unknown words, matched from the end
            if pending and known[index] == pending[-1]:
                pending.pop()
                del known[index]
        moved = shlex.join(["opsverify", *known, "--", *unknown, *(passthrough or [])])
        text += f"  pytest's own options go after --: {moved}\n"
    return text


CLOSED_PIPE_EXIT = 141  # as a shell reports a command that SIGPIPE stopped (128 + 13)


def main(argv: Sequence[str] | None = None) -> int:
    """Every command: its exit code; a reader that went away (`| head -1`) ends it quietly."""
    try:
        try:
            code = run_command(argv)
        finally:  # also after --help's exit: here, not at exit, where a closed pipe is only "ignored"
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        return closed_pipe()


def closed_pipe() -> int:
    """The pipe our output went to was closed: no traceback, no "Exception ignored" at exit (the Python docs'
    recipe: what is still buffered goes to /dev/null)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):  # a stream without a file descriptor (tests capture them)
            continue
    os.close(devnull)
    return CLOSED_PIPE_EXIT


def run_command(argv: Sequence[str] | None) -> int:
    words, passthrough = split_passthrough(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser(next((word for word in words if not word.startswith("-")), None))
    args, unknown = parser.parse_known_args(words)
    if unknown:
        parser.exit(2, unrecognized(args.command, words, unknown, passthrough))
    if passthrough is not None:
        args.pytest_args = passthrough
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
