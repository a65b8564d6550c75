"""`opsverify import compose|prometheus-rules|k8s|gatus FILE...` and `opsverify draft GUIDE.md`: a target
file and a `.env.example` beside it, from what a team already has. Deterministic: no network.

Exit codes: 0 written, 2 usage (no such file), 4 the input cannot be imported (not YAML, not that format,
nothing to convert); the message names the file and what is wrong.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from opsverify.importers.draft import Draft, ImportProblem, outputs

HELP = "write a target file from a compose file, Prometheus rules, Kubernetes probes or a Gatus config"
DRAFT_HELP = "write a draft target file from an operations guide in Markdown"

SOURCES = {
    "compose": "a docker-compose.yml: healthchecks, published ports, databases",
    "prometheus-rules": "Prometheus rules files (groups: / rules: / alert:)",
    "k8s": "Kubernetes manifests: liveness/readiness/startup probes of Deployments, StatefulSets, DaemonSets",
    "gatus": "a Gatus config: endpoints and their conditions",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        choices=list(SOURCES),
        help="what FILE is: " + "; ".join(f"{k}: {v}" for k, v in SOURCES.items()),
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--env-file", default=None, help="compose: a .env whose values fill ${VAR} examples")
    _common(parser)


def add_draft_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("guide", metavar="GUIDE.md")
    _common(parser)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", default=None, help="the target file to write (default targets/NAME.yaml)"
    )
    parser.add_argument("--target", default=None, help="the target's name (default: from the file name)")
    parser.add_argument(
        "--force", action="store_true", help="overwrite the target and its .env.example when they exist"
    )


def _target_name(args: argparse.Namespace, first: Path) -> str:
    if args.target:
        return str(args.target)
    if args.output:
        return Path(args.output).stem
    stem = (
        first.stem
        if first.stem not in ("docker-compose", "compose", "config", "alerts", "rules")
        else first.resolve().parent.name
    )
    return re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-") or "imported"


def _write(args: argparse.Namespace, build: Callable[[str], Draft], first: Path) -> int:
    target = _target_name(args, first)
    output = Path(args.output) if args.output else Path("targets") / f"{target}.yaml"
    existing = [path for path in outputs(output) if path.exists() or path.is_symlink()]
    if existing and not args.force:
        names = " and ".join(str(path) for path in existing)
        print(
            f"error: {names} exist{'s' if len(existing) == 1 else ''} already (edited by you?); nothing written. "
            "Pass -o NEW.yaml to write elsewhere, or --force to overwrite",
            file=sys.stderr,
        )
        return 2
    try:
        draft = build(target)
    except ImportProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    try:
        written, env_path = draft.write(output)
    except OSError as exc:
        print(
            f"error: cannot write {output}: {exc.strerror or exc}; pass -o to a folder you can write",
            file=sys.stderr,
        )
        return 2
    print(f"wrote {written} ({draft.entry_count()} entries) and {env_path} ({len(draft.env)} variables)")
    if draft.not_converted:
        print(f"  not converted: {len(draft.not_converted)} item(s), listed at the top of {written}")
    env_file = written.parent / f"{written.stem}.env"
    validate = f"opsverify validate {shlex.quote(str(written))}"
    if env_file.exists():
        print(f"  next: add the variables of {env_path} that {env_file} lacks, then `{validate}`")
    else:
        print("  next: set the variables, then validate:")
        print(f"    cp {shlex.quote(str(env_path))} {shlex.quote(str(env_file))} && {validate}")
    return 0


def _missing(paths: list[Path]) -> int:
    for path in paths:
        if not path.is_file():
            print(f"error: {path}: no such file", file=sys.stderr)
            return 2
    return 0


def run(args: argparse.Namespace) -> int:
    files = [Path(f) for f in args.files]
    if status := _missing(files + ([Path(args.env_file)] if args.env_file else [])):
        return status
    if args.source == "compose":
        from opsverify.importers.compose import import_compose

        if len(files) != 1:
            print("error: import compose takes one compose file", file=sys.stderr)
            return 2
        env_file = Path(args.env_file) if args.env_file else None
        return _write(args, lambda target: import_compose(files[0], target, env_file), files[0])
    if args.source == "prometheus-rules":
        from opsverify.importers.prometheus_rules import import_rules

        return _write(args, lambda target: import_rules(files, target), files[0])
    if args.source == "k8s":
        from opsverify.importers.k8s import import_k8s

        return _write(args, lambda target: import_k8s(files, target), files[0])
    from opsverify.importers.gatus import import_gatus

    return _write(args, lambda target: import_gatus(files, target), files[0])


def run_draft(args: argparse.Namespace) -> int:
    guide = Path(args.guide)
    if status := _missing([guide]):
        return status
    from opsverify.importers.guide import draft_guide

    return _write(args, lambda target: draft_guide(guide, target), guide)
