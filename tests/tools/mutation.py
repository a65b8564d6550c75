"""`make mutation`: mutmut over the modules that decide pass or fail, one module at a time, then the score.

The modules and the unit tests that judge them are `[tool.mutmut]` in pyproject.toml (`only_mutate`,
`pytest_add_cli_args_test_selection`). mutmut runs, for each mutant, only the tests that cover the mutated
function; one child process at a time (`--max-children`, default 1) keeps the shared machine usable.

    python -m tests.tools.mutation                 # every module, then the table
    python -m tests.tools.mutation --survivors     # re-run only the mutants that survived last time
    python -m tests.tools.mutation --report        # the table of the last run, nothing run
    python -m tests.tools.mutation --only opsverify.comparison

Not part of `make test` (a full run takes about an hour on two cores). The score and every surviving mutant,
with why it is harmless, are in docs/testing.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MUTMUT = [sys.executable, "-m", "mutmut"]
KILLED = {"killed", "timeout", "caught by type check"}  # a timeout is a mutant the tests stopped
RERUN = {"survived", "no tests"}  # what `--survivors` runs again (after tests were added)


def results() -> dict[str, str]:
    """Every mutant's name and status from mutmut's last runs (`not checked` when never run)."""
    out = subprocess.run(
        [*MUTMUT, "results", "--all", "true"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    statuses = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            statuses[name] = status.strip()
    return statuses


def module_of(mutant: str) -> str:
    """`opsverify.comparison.x_compare__mutmut_5` -> `opsverify.comparison`."""
    return mutant.split("__mutmut_")[0].rsplit(".", 1)[0]


def modules() -> list[str]:
    """The mutated modules (generating the mutants first when there are none yet); the backup readers last,
    as their tests read real dumps and are the slowest."""
    found = {module_of(name) for name in results()}
    if not found:
        subprocess.run([*MUTMUT, "run", "--max-children", "1", "no-such-mutant"], cwd=REPO, check=False)
        found = {module_of(name) for name in results()}
    return sorted(found, key=lambda module: (module.startswith("opsverify.backups."), module))


def run(names: list[str], children: int) -> None:
    if names:
        subprocess.run([*MUTMUT, "run", "--max-children", str(children), *names], cwd=REPO, check=False)


def table(statuses: dict[str, str]) -> str:
    per_module: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in statuses.items():
        per_module[module_of(name)][status] += 1
    lines = ["| module | mutants | killed | survived | other | score |", "|---|---:|---:|---:|---:|---:|"]
    total: Counter[str] = Counter()
    for module, counts in sorted(per_module.items()):
        total.update(counts)
        lines.append(_row(module, counts))
    lines.append(_row("**all**", total))
    return "\n".join(lines)


def _row(label: str, counts: Counter[str]) -> str:
    mutants = sum(counts.values())
    killed = sum(counts[s] for s in KILLED)
    survived = counts["survived"]
    other = mutants - killed - survived
    score = f"{100.0 * killed / mutants:.1f} %" if mutants else "-"
    return f"| {label} | {mutants} | {killed} | {survived} | {other} | {score} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--survivors", action="store_true", help="re-run only the mutants that survived (or had no test)"
    )
    parser.add_argument("--report", action="store_true", help="print the last run's table, run nothing")
    parser.add_argument("--only", action="append", default=[], help="a module (dotted name) to run")
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--goal", type=float, default=90.0, help="exit 1 below this score (percent)")
    args = parser.parse_args(argv)
    if not args.report:
        for module in args.only or modules():
            if args.survivors:
                survivors = [n for n, s in results().items() if s in RERUN and module_of(n) == module]
                run(survivors, args.max_children)
            else:
                run([f"{module}.*"], args.max_children)
    statuses = results()
    print(table(statuses))
    for name, status in sorted(statuses.items()):
        if status not in KILLED:
            print(f"{status}: {name}")
    killed = sum(1 for s in statuses.values() if s in KILLED)
    score = 100.0 * killed / len(statuses) if statuses else 0.0
    print(f"mutation score {score:.1f} % ({killed} of {len(statuses)} killed); goal {args.goal:g} %")
    return 0 if score >= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
