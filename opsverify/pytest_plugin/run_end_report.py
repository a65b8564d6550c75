"""The run-end plugin's report steps: summary.json, the JUnit file redacted, and the Allure results finished
(environment, annotations, the store's earlier runs as history, a redaction pass over the folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsverify.config.target import LoadedTarget
from opsverify.pytest_plugin import run_end_state
from opsverify.pytest_plugin.targets import ops_root
from opsverify.redaction import redact
from opsverify.report.allure_files import (
    annotate_results,
    redact_junit,
    redact_results_dir,
    run_environment,
    write_results_metadata,
)
from opsverify.report.summary import write_json
from opsverify.results import RunSummary

# what the xdist workers wrote to the Allure results, redacted already: {"written": names, "results": [...]}
ALLURE_FROM_WORKERS = pytest.StashKey[list[dict[str, Any]]]()


def write_summary(reports: Path, summary: RunSummary) -> Path:
    """summary.json in the reports folder; its path."""
    path = reports / "summary.json"
    write_json(path, summary.as_json())
    return path


def redact_junit_file(config: pytest.Config) -> list[Path]:
    """The JUnit file of `--junitxml`, redacted in place; its path when there is one."""
    xmlpath = getattr(config.option, "xmlpath", None)
    if xmlpath and Path(xmlpath).is_file():
        redact_junit(Path(xmlpath))
        return [Path(xmlpath)]
    return []


def finish_allure(
    config: pytest.Config,
    results_dir: Path,
    targets: list[LoadedTarget],
    summary: RunSummary,
    stores: run_end_state.Stores,
    started: float,
    problems: list[str],
) -> None:
    """The run's environment and categories, this process's results flushed (and the workers' taken in),
    warnings and gate notes as annotations, history points from the store, then a redaction pass over
    what else the run wrote to `results_dir` since it started."""
    write_results_metadata(
        results_dir,
        run_environment(
            summary.targets,
            [str(t.path) for t in targets],
            summary.tiers,
            ops_root(config),
            run_id=summary.run_id,
        ),
    )
    from opsverify.report.allure_writer import loggers_for

    written: set[str] = set()
    current: list[dict[str, Any]] = []
    for logger in loggers_for(results_dir):
        logger.flush()
        written |= logger.written
        current += logger.results
        problems += [f"writing Allure results: {redact(error)}" for error in logger.errors[:1]]
    for output in config.stash.get(ALLURE_FROM_WORKERS, []):
        written.update(output["written"])
        current += output["results"]
    annotate_results(
        results_dir,
        {f"{r.target}/{r.id}": r.warnings for r in summary.results if r.warnings},
        {
            f"{name}/{check_id}": (gate.decision, gate.note)
            for name, (_, gated) in stores.items()
            for check_id, gate in gated.items()
        },
        since=started - 2,
    )
    run_end_state.store_history(results_dir, summary, stores, current, written, started - 2, problems)
    redact_results_dir(results_dir, since=started - 2, skip=written)
