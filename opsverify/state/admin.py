"""`opsverify state info` and `opsverify state prune [--dry-run] [--vacuum]`: the state store for operators.

`info` shows the rows of each table with the oldest and newest, the store's size on disk and what is past
the target's retention; `prune` deletes what is past it (in short batches, beside running runs), `--dry-run`
only counts, `--vacuum` then gives a SQLite file's free space back to the disk (docs/state.md, "Retention").
"""

from __future__ import annotations

import argparse
import sys
import time

from opsverify.redaction import redact
from opsverify.state.base import StateError, StateStore
from opsverify.state.cli import add_target_arguments, open_target
from opsverify.state.info import store_size, table_info
from opsverify.state.locate import target_retention
from opsverify.state.retention import Pruned, Retention, past_retention, prune_all, vacuum_sqlite
from opsverify.units import format_size, human_duration

HELP = "the state store: info (rows, oldest/newest, size), prune [--dry-run] [--vacuum]"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="info|prune")
    info = actions.add_parser("info", help="rows per table, oldest and newest, size on disk, past retention")
    add_target_arguments(info)
    prune = actions.add_parser("prune", help="delete the target's rows past state.retention, in batches")
    prune.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")
    prune.add_argument(
        "--vacuum",
        action="store_true",
        help="then rewrite a SQLite file to give its free space back (locks it meanwhile)",
    )
    add_target_arguments(prune)


def _when(moment: float | None) -> str:
    return "-" if moment is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(moment))


def _counts(pruned: Pruned) -> str:
    return (
        f"{pruned.results} results ({pruned.runs} runs), {pruned.drills} drills, "
        f"{pruned.silences} expired silences"
    )


def _retention(retention: Retention) -> str:
    return f"results {human_duration(retention.results)}, drills {human_duration(retention.drills)}"


def _info(store: StateStore, target: str, retention: Retention) -> None:
    print(f"state store {store.where}")
    print(f"  {'table':<13} {'rows':>11}  {'oldest':<20}  {'newest':<20}  (by)")
    for table in table_info(store):
        print(
            f"  {table.name:<13} {table.rows:>11}  {_when(table.oldest):<20}  {_when(table.newest):<20}  "
            f"({table.column})"
        )
    sizes = dict(store_size(store))
    mode = sizes.pop("auto_vacuum", None)
    print("  size: " + ", ".join(f"{name} {format_size(size)}" for name, size in sizes.items()))
    if mode is not None and mode != 2:
        print(
            "  this file keeps the space of deleted rows: `opsverify state prune --vacuum` rewrites it once "
            "(incremental auto-vacuum from then on)"
        )
    print(f"retention of {target}: {_retention(retention)}")
    print(f"  past retention now: {_counts(past_retention(store, target, retention))}")


def run(args: argparse.Namespace) -> int:
    if args.action is None:
        print("error: say what to do: opsverify state info|prune --target NAME", file=sys.stderr)
        return 2
    opened = open_target(args)
    if isinstance(opened, int):
        return opened
    target, store = opened
    retention = target_retention(target)
    try:
        if args.action == "info":
            _info(store, target.name, retention)
            return 0
        if args.dry_run:
            pending = past_retention(store, target.name, retention)
            print(f"would delete from {store.where}: {_counts(pending)} ({_retention(retention)}); dry run")
            return 0
        pruned = prune_all(store, target.name, retention)
        print(f"deleted from {store.where}: {_counts(pruned)} ({_retention(retention)})")
        if args.vacuum:
            if vacuum_sqlite(store):
                print(f"vacuumed {store.where}: its free space is back on the disk")
            else:
                print("PostgreSQL reuses the space of deleted rows (autovacuum); nothing to vacuum here")
        return 0
    except StateError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1
