"""`opsverify silence` and `opsverify history`: the state store from the command line."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import time
from pathlib import Path

from opsverify.config.target import LoadedTarget, load_target
from opsverify.config.types import parse_duration
from opsverify.config.yamlsource import TargetError
from opsverify.redaction import redact
from opsverify.state.locate import store_of
from opsverify.state.silences import Silence, active_silences, add_silence, clear_silences, pattern_covers
from opsverify.state.store import StateError, StateStore
from opsverify.units import format_duration

CONFIG_ERROR = 4
CUSTOM_KIND = "custom"  # the kind of a hand-written check's id (opsverify.report.labels.CUSTOM_KIND)


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target", default=None, help="target name (in targets/) or path; default $OPSVERIFY_TARGET"
    )
    parser.add_argument("--targets-dir", default=None, help="folder of target names (default: targets)")


def open_target(args: argparse.Namespace) -> tuple[LoadedTarget, StateStore] | int:
    from opsverify.run import default_targets_dir

    spec = args.target or os.environ.get("OPSVERIFY_TARGET", "").split(",")[0].strip()
    if not spec:
        print("error: name the target: --target NAME|PATH (or set OPSVERIFY_TARGET)", file=sys.stderr)
        return 2
    targets_dir = Path(args.targets_dir or os.environ.get("OPSVERIFY_TARGETS_DIR") or default_targets_dir())
    try:
        target = load_target(spec, targets_dir)
        return target, store_of(target)
    except TargetError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return CONFIG_ERROR
    except StateError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


def _silence_line(silence: Silence, now: float) -> str:
    left = format_duration(max(0.0, silence.until - now))
    reason = f"  {silence.reason}" if silence.reason else ""
    return f"  {silence.id}  {silence.pattern:<30} until {_when(silence.until)} ({left} left){reason}"


def silence_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pattern", nargs="?", help="check id (http:api) or pattern (http:*, postgres:main/*)")
    parser.add_argument("--for", dest="duration", default=None, help="how long, e.g. 30m, 2h, 1d")
    parser.add_argument("--reason", default="", help="why (shown in the terminal, summary.json, --list)")
    parser.add_argument("--list", action="store_true", help="list the silences in force")
    parser.add_argument("--clear", action="store_true", help="end the silence of PATTERN (or id), or all")
    add_target_arguments(parser)


def silence_run(args: argparse.Namespace) -> int:
    opened = open_target(args)
    if isinstance(opened, int):
        return opened
    target, store = opened
    now = time.time()
    try:
        if args.list:
            silences = active_silences(store, target.name, now)
            print(f"silences of {target.name} in {store.where}: {len(silences) or 'none'}")
            for silence in silences:
                print(_silence_line(silence, now))
            return 0
        if args.clear:
            count = clear_silences(store, target.name, args.pattern)
            print(f"cleared {count} silence{'s' if count != 1 else ''} of {target.name}")
            return 0
        if not args.pattern or not args.duration:
            print(
                "error: give a check id or pattern and how long: opsverify silence http:api --for 2h "
                '--reason "deploy" --target prod (or --list, --clear)',
                file=sys.stderr,
            )
            return 2
        try:
            seconds = parse_duration(args.duration)
        except ValueError as exc:
            print(f"error: --for {args.duration!r}: {exc}; write e.g. 30m, 2h or 1d", file=sys.stderr)
            return 2
        if seconds <= 0:
            print(f"error: --for {args.duration!r} must be longer than 0, e.g. 2h", file=sys.stderr)
            return 2
        unknown = unknown_pattern(target, args.pattern)
        if unknown:
            print(f"error: {unknown}", file=sys.stderr)
            return 2
        silence = add_silence(store, target.name, args.pattern, seconds, args.reason)
        print(f"silenced {silence.pattern} on {target.name} until {_when(silence.until)} (id {silence.id})")
        return 0
    except StateError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1


def unknown_pattern(target: LoadedTarget, pattern: str) -> str | None:
    """Why `pattern` silences nothing on `target` (no check of it matches), with the closest ids; None if
    it does. Hand-written checks (`custom:...`) are collected only by a run, so any pattern of them goes."""
    if pattern.startswith(f"{CUSTOM_KIND}:"):
        return None
    ids = [check.id for check in target.all_checks()]
    if any(pattern_covers(pattern, check_id) for check_id in ids):
        return None
    guess = difflib.get_close_matches(pattern, ids, n=1, cutoff=0.5)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    listed = ", ".join(ids[:12]) + (", ..." if len(ids) > 12 else "") if ids else "none"
    return (
        f"{pattern!r} matches no check of target {target.name}{hint}; its checks: {listed} "
        "(`opsverify validate` lists them; a pattern: http:*)"
    )


def history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("check", help="check id, e.g. http:api or backups:db-nightly")
    parser.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    add_target_arguments(parser)


def history_run(args: argparse.Namespace) -> int:
    opened = open_target(args)
    if isinstance(opened, int):
        return opened
    target, store = opened
    try:
        rows = store.history(target.name, args.check, max(1, args.limit))
    except StateError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1
    if not rows:
        print(f"no runs of {args.check} on {target.name} in {store.where}")
        return 1
    print(f"{args.check} on {target.name}: the last {len(rows)} runs, newest first")
    for row in rows:
        figures = "  ".join(f"{k}={v:g}" for k, v in sorted(row.figures.items()))
        line = f"  {_when(row.finished)}  {row.status:<7} {format_duration(row.duration):>8}  {figures}"
        if row.reason and row.status == "failed":
            line += f"  {row.reason[:120]}"
        print(redact(line.rstrip()))
    return 0
