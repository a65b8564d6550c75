"""Build the HTML report from the Allure results of the last run(s): `opsverify report [--single-file]`.

Uses the Allure 3 CLI from npm (pinned in the package, installed into the user's cache on first use; no
Java) and keeps the history across runs so trends show (one entry per run, however often it is built).
The single-file report goes to its own folder, beside the multi-file one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from opsverify.paths import reports_dir

HELP = "build the HTML report (Allure 3) from reports/allure-results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define this subcommand's options."""
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        metavar="DIR",
        help="Allure results (default: reports/allure-results)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="DIR",
        help="report folder (default: reports/allure-report; with --single-file: "
        "reports/allure-report-single)",
    )
    parser.add_argument(
        "--history",
        type=Path,
        default=None,
        metavar="FILE",
        help="history kept across runs for trends (default: reports/allure-history.jsonl)",
    )
    parser.add_argument(
        "--single-file",
        action="store_true",
        help="one self-contained index.html (to attach to an e-mail), in reports/allure-report-single/ "
        "unless --output says otherwise; the multi-file report stays as it is",
    )


def run(args: argparse.Namespace) -> int:
    from opsverify.report.builder import ReportError, build_report

    reports = reports_dir()
    results = args.results or reports / "allure-results"
    output = args.output or reports / ("allure-report-single" if args.single_file else "allure-report")
    history = args.history or reports / "allure-history.jsonl"
    try:
        index = build_report(results, output, history, single_file=args.single_file)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    kind = "single-file report" if args.single_file else "report"
    print(f"{kind}: {index}")
    if not args.single_file:
        print(
            "  open it through a web server, e.g. `python -m http.server -d "
            f"{output}` (file:// cannot load its data)"
        )
    return 0
