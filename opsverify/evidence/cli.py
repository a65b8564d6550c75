"""The command: read the target's drills from the state store, write the page (or CSV / JSON)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from opsverify.config.types import parse_duration
from opsverify.paths import reports_dir
from opsverify.redaction import redact
from opsverify.state.cli import add_target_arguments, open_target
from opsverify.state.store import StateError

HELP = "every restore drill of a target for auditors: an HTML page with RTO/RPO plots, or CSV / JSON"
FORMATS = ("html", "csv", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    parser.add_argument(
        "--since", default=None, help="only the drills of this last period, e.g. 90d (default: all)"
    )
    parser.add_argument(
        "--output", default=None, help="file to write (default: reports/evidence.html, .csv or .json)"
    )
    parser.add_argument("--format", default=None, help="html (default), csv or json")


def _error(message: str, code: int) -> int:
    print(f"error: {redact(message)}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    fmt = (args.format or "").lower() or (
        Path(args.output).suffix.lstrip(".").lower()
        if args.output and Path(args.output).suffix.lstrip(".").lower() in FORMATS
        else "html"
    )
    if fmt not in FORMATS:
        return _error(f"--format {args.format!r} is not one of html, csv, json", 2)
    since: float | None = None
    if args.since is not None:
        try:
            seconds = parse_duration(args.since)
        except ValueError as exc:
            return _error(f"--since {args.since!r}: {exc}; write e.g. 30d or 90d", 2)
        if seconds <= 0:
            return _error(f"--since {args.since!r} must be longer than 0, e.g. 90d", 2)
        since = time.time() - seconds
    opened = open_target(args)
    if isinstance(opened, int):
        return opened
    target, store = opened
    try:
        drills = store.drills(target.name, since)
    except StateError as exc:
        return _error(str(exc), 1)
    if not drills:
        entries = [
            f"restore:{name}"
            for name, entry in (target.section("backups") or {}).items()
            if getattr(entry, "restore", None) is not None
        ]
        configured = (
            f"its drills: {', '.join(entries)}; run them with `opsverify run dr --target {args.target or target.name}`"
            if entries
            else "its target file has no backups entry with restore:, so it has no drills to run"
        )
        window = f" in the last {args.since}" if args.since else ""
        print(
            f"error: no restore drills of {target.name}{window} in the state store {store.where} "
            f"({configured}); nothing was written",
            file=sys.stderr,
        )
        return 1
    output = Path(args.output) if args.output else reports_dir() / f"evidence.{fmt}"
    try:
        if fmt == "html":
            from opsverify.evidence.page import render
            from opsverify.evidence.plots import PlottingMissing

            try:
                text = render(target.name, drills, store.where, since)
            except PlottingMissing as exc:
                return _error(str(exc), 1)
        elif fmt == "csv":
            from opsverify.evidence.rows import as_csv

            text = as_csv(drills)
        else:
            from opsverify.evidence.rows import as_json

            text = as_json(target.name, drills)
        if args.output is None:
            output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _error(f"cannot write {output}: {reason}; give a writable path with --output", 1)
    checks = sorted({d.check_id for d in drills})
    print(
        f"wrote {output}: {len(drills)} drill{'s' if len(drills) != 1 else ''} of {target.name} ({', '.join(checks)})"
    )
    return 0
