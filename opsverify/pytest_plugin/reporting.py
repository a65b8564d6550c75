"""pytest hooks for the reports (on every process, xdist workers included): default Allure results and
JUnit paths under reports/, Allure labels and `user_properties` at collection, Allure steps and a redacted
facts attachment per check, and a check's duration including its probe's. The writing is `opsverify.report`'s;
the end of the run (summary.json, state, notifications) is the run-end plugin's (`run_end.py`)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from opsverify.config.types import TIERS
from opsverify.paths import reports_dir
from opsverify.problem import Judgement
from opsverify.pytest_plugin.collect import CheckTest
from opsverify.pytest_plugin.run_end_report import ALLURE_FROM_WORKERS
from opsverify.pytest_plugin.targets import POOL, ensure_loaded, loaded_targets, ops_root, target_specs
from opsverify.report.allure_check import (
    allure_results_dir,
    drill_record_of,
    include_probe_in_allure,
    record_check,
)
from opsverify.report.labels import CUSTOM_KIND, DEPENDS_ON_PROPERTY, CheckIdentity, allure_marks
from opsverify.state.figures import figures_of

EMPTY_RESULTS = pytest.StashKey[Path]()  # the default results folder, emptied as the session starts


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Default Allure results and JUnit paths under reports/ (the run-end plugin registers its recorder next).

    Only once the targets loaded: a run stopped by a bad target file leaves the previous run's results for
    `opsverify report`.
    """
    if not ensure_loaded(config):
        return
    reports = reports_dir(ops_root(config))
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        # xdist workers parse the command line themselves: they pick the same default folder here.
        results = reports / "allure-results"
        if not config.option.collectonly and not is_worker(config):
            config.stash[EMPTY_RESULTS] = results  # at the session's start (pytest_sessionstart)
        config.option.allure_report_dir = str(results)
    allure_plugin = config.pluginmanager.get_plugin("allure_pytest")
    if (
        allure_plugin is not None
        and hasattr(allure_plugin, "AllureFileLogger")
        and not config.option.collectonly
    ):
        from opsverify.report.allure_writer import install

        config.add_cleanup(install(allure_plugin))  # results written by a thread, redacted as written
    if is_worker(config):
        return
    if hasattr(config.option, "xmlpath") and not config.option.xmlpath and not config.option.collectonly:
        reports.mkdir(parents=True, exist_ok=True)
        config.option.xmlpath = str(reports / "junit.xml")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Empty the default Allure results folder: one run per folder (the history is kept by `opsverify
    report`). Not before: a run that stops at a bad target file or an unknown tier (its checks in
    pytest_configure and a `tryfirst` pytest_sessionstart) leaves the last run's results to report."""
    results = session.config.stash.get(EMPTY_RESULTS, None)
    if results is not None:
        shutil.rmtree(results, ignore_errors=True)
        results.mkdir(parents=True, exist_ok=True)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the Allure files still waiting in this process before anything reads the folder (an xdist
    worker: before it tells the controller it has finished)."""
    results_dir = allure_results_dir(session.config)
    if results_dir is not None and "opsverify.report.allure_writer" in sys.modules:
        from opsverify.report.allure_writer import loggers_for

        loggers = loggers_for(results_dir)
        for logger in loggers:
            logger.flush()
        if is_worker(session.config):
            # The controller's run end needs not read and redact these files again: they were redacted as
            # written here, and their results are the Allure history's current points (see run_end.py).
            # One JSON text, not nested values: execnet serialises a nested structure value by value in Python
            # (1000 results: ~0.4 s on the worker and as much on the controller); JSON does it in C.
            session.config.workeroutput[ALLURE_FROM_WORKERS_KEY] = json.dumps(  # type: ignore[attr-defined]
                {
                    "written": sorted(name for logger in loggers for name in logger.written),
                    "results": [result for logger in loggers for result in logger.results],
                }
            )


ALLURE_FROM_WORKERS_KEY = "opsverify_allure"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """On the xdist controller: keep what a finished worker wrote to the Allure results (its `workeroutput`)."""
    output = getattr(node, "workeroutput", {}).get(ALLURE_FROM_WORKERS_KEY)
    if isinstance(output, str):
        output = json.loads(output)
    if output:
        node.config.stash.setdefault(ALLURE_FROM_WORKERS, []).append(output)


def identity_of(item: pytest.Item, default_target: str) -> CheckIdentity:
    """The identity of a collected test: from its target entry, or (hand-written tests) its markers."""
    if isinstance(item, CheckTest):
        check = item.check
        name = f"{check.name}/{check.rule}" if check.rule is not None else check.name
        return CheckIdentity(check.target.name, check.kind.name, name, check.tiers, check.severity)
    tiers = tuple(t for t in TIERS if item.get_closest_marker(t) is not None)
    return CheckIdentity(default_target, CUSTOM_KIND, item.name, tiers, "normal")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Label every test with its identity (Allure labels + user_properties for the controller)."""
    if not target_specs(config):
        return
    targets = loaded_targets(config)
    default_target = targets[0].name if targets else ""
    with_allure = allure_results_dir(config) is not None
    for item in items:
        identity = identity_of(item, default_target)
        item.user_properties.extend(identity.properties())
        if isinstance(item, CheckTest) and getattr(item.check.entry, "depends_on", None):
            item.user_properties.append((DEPENDS_ON_PROPERTY, ",".join(item.check.entry.depends_on)))
        if with_allure:
            for mark in allure_marks(identity):
                item.add_marker(mark)
    if with_allure and "opsverify.report.allure_writer" in sys.modules:
        from opsverify.report.allure_writer import loggers_for

        results_dir = allure_results_dir(config)
        assert results_dir is not None
        for logger in loggers_for(results_dir):
            logger.expect(2 * len(items))  # a result and an attachment per test


@pytest.hookimpl(optionalhook=True)
def pytest_opsverify_judged(item: pytest.Item, facts: Any, judgement: Judgement) -> None:
    """Allure: the check id as title, a `probe` step (redacted facts, one sub-step per phase), a `verify` step."""
    if not isinstance(item, CheckTest) or allure_results_dir(item.config) is None:
        return
    check = item.check
    record_check(item.config, item.display_id, check.key, check.id, check.kind.name, facts, judgement)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Any:
    """A check's duration includes its probe's: JUnit, summary.json, --durations and Allure alike.

    Live probes run in the pool ahead of the tests, so a test finds its facts ready or waits only for the
    rest of its probe: its call would show 2 ms for a check whose endpoint took 4.6 s. The call phase gains
    the part of the probe's run it did not wait for (a drill runs in the call: its test lasts its RTO).
    """
    report: pytest.TestReport = yield
    if not isinstance(item, CheckTest) or report.when != "call":
        return report
    if item.judgement is not None:
        # Structured problems travel with the report (also from xdist workers) to summary.json and channels.
        report.opsverify_problems = [p.as_json() for p in item.judgement.problems]  # type: ignore[attr-defined]
        report.opsverify_figures = figures_of(item.facts)  # type: ignore[attr-defined]
        drill = drill_record_of(item.facts)
        if drill is not None:
            report.opsverify_drill = drill  # type: ignore[attr-defined]
    pool = item.config.stash.get(POOL, None)
    taken = pool.take_timing(item.check) if pool is not None else None
    if taken is not None:
        before_call = max(0.0, taken.seconds - taken.waited)  # the waited part is in the call already
        report.duration += before_call
        include_probe_in_allure(item, item.check.id, before_call)
    return report
