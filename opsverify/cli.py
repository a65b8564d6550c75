"""`opsverify validate | demo | report | schedule`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from opsverify import __version__
from opsverify.config.secrets import redact
from opsverify.config.target import DEFAULT_TARGETS_DIR, list_targets, load_target
from opsverify.config.types import TIERS
from opsverify.config.yamlsource import TargetError
from opsverify.kinds import KINDS


def cmd_validate(args: argparse.Namespace) -> int:
    """Load a target, print its checks by kind and tier (secrets masked)."""
    targets_dir = Path(args.targets_dir)
    if not args.target:
        names = list_targets(targets_dir)
        print(f"usage: opsverify validate TARGET  (targets in {targets_dir}/: {', '.join(names) or 'none'})")
        return 2
    status = 0
    for spec in args.target:
        try:
            target = load_target(spec, targets_dir)
        except TargetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        checks = target.all_checks()
        print(f"target {target.name} ({target.path}): {len(checks)} checks")
        for kind in KINDS.values():
            items = [c for c in checks if c.kind is kind]
            if not items:
                continue
            print(f"\n  {kind.name} — {kind.summary}")
            for check in items:
                where = _describe(check.entry)
                print(f"    {check.id:<40} [{', '.join(check.tiers)}] {redact(where)}")
        print("\n  by tier:")
        for tier in TIERS:
            count = sum(1 for c in checks if tier in c.tiers)
            if count:
                print(f"    {tier:<10} {count:>3}   pytest -m {tier} --target {spec}")
    return status


def _describe(entry: object) -> str:
    for attribute in ("url", "host", "path"):
        value = getattr(entry, attribute, None)
        if value:
            port = getattr(entry, "port", None) if attribute == "host" else None
            return f"{value}:{port}" if port else str(value)
    return ""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsverify", description="Executable operations guides: run checks with pytest --target NAME."
    )
    parser.add_argument("--version", action="version", version=f"opsverify {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = commands.add_parser(
        "validate", help="check a target file and list its checks by kind and tier"
    )
    validate.add_argument("target", nargs="*", help="target name (in targets/) or path")
    validate.add_argument("--targets-dir", default=str(DEFAULT_TARGETS_DIR))
    validate.set_defaults(handler=cmd_validate)

    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


# Each module exposes HELP, add_arguments(parser) and run(args) -> exit code; keep their imports light.
SUBCOMMANDS = {
    "demo": "opsverify.demo.cli",
    "report": "opsverify.report.cli",
    "schedule": "opsverify.scheduler",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
