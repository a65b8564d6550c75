"""pytest hooks for reports and notifications (loaded by opsverify.pytest_plugin).

On every process: Allure labels and `user_properties` at collection, Allure steps and a redacted facts
attachment per check. On the controller only (never on a pytest-xdist worker): results are collected from
`pytest_runtest_logreport`, and at the end summary.json, notifications (one message per route), heartbeat
pings, notifications.jsonl, Allure environment/categories/executor files and a redaction pass.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from opsverify.config.target import LoadedTarget
from opsverify.config.types import TIERS
from opsverify.kinds.base import HasPhases, Phase
from opsverify.paths import reports_dir, state_dir
from opsverify.problem import Judgement, Problem
from opsverify.pytest_plugin.collect import CheckTest, empty_run_reason
from opsverify.pytest_plugin.interrupt import interrupted_by
from opsverify.pytest_plugin.targets import POOL, ensure_loaded, loaded_targets, ops_root, target_specs
from opsverify.redaction import redact
from opsverify.report.allure_files import (
    annotate_results,
    ci_executor,
    redact_junit,
    redact_results_dir,
    run_environment,
    write_results_metadata,
)
from opsverify.report.labels import CUSTOM_KIND, CheckIdentity, allure_marks, identity_of
from opsverify.report.store_history import STORE_HISTORY_RUNS, history_points, read_results, write_points
from opsverify.report.summary import CheckResult, RunSummary, split_failure_text, write_json
from opsverify.report.terminal import summary_lines
from opsverify.state.figures import figures_of
from opsverify.state.locate import prune_target_after_run
from opsverify.state.model import DrillRecord, StoredResult
from opsverify.state.silences import Silence, active_silences, silence_for
from opsverify.state.store import StateError, StateStore, open_store, state_url
from opsverify.state.trends import rto_warnings
from opsverify.units import format_duration

if TYPE_CHECKING:  # the notify modules load only when a target has notify: (start-up time)
    from opsverify.notify.delivery import DeliveryRecord
    from opsverify.notify.dispatch import NotifyOptions
    from opsverify.notify.gates import Gate
    from opsverify.notify.heartbeat import Event
    from opsverify.report.allure_steps import OpenResult

RECORDER = pytest.StashKey["RunRecorder"]()
EMPTY_RESULTS = pytest.StashKey[Path]()  # the default results folder, emptied as the session starts
ATTACHMENT_NAMES = {"http": "HTTP response", "postgres": "query results", "restore": "restore log"}
ATTACHMENT_LIMIT = 200_000
OFF_VALUES = {"0", "false", "no", "off"}
DEPENDS_ON_PROPERTY = "opsverify_depends_on"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opsverify", "opsverify: operational checks against a target")
    group.addoption(
        "--no-notify",
        action="store_true",
        default=False,
        dest="opsverify_no_notify",
        help="send no notifications or heartbeat pings (also: OPSVERIFY_NOTIFY=0); state is still kept",
    )
    group.addoption(
        "--notify-dry-run",
        action="store_true",
        default=False,
        dest="opsverify_notify_dry_run",
        help="print the notifications that would be sent instead of sending them (state untouched)",
    )


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def allure_results_dir(config: pytest.Config) -> Path | None:
    given = getattr(config.option, "allure_report_dir", None)
    return Path(given) if given else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Default Allure results and JUnit paths under reports/, and the controller's recorder.

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
    recorder = RunRecorder(config, reports)
    config.stash[RECORDER] = recorder
    config.pluginmanager.register(recorder, "opsverify-run-recorder")


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

        for logger in loggers_for(results_dir):
            logger.flush()


def command_line_run(config: pytest.Config) -> bool:
    """A run of checks started from the command line: the process ends with it. Not a run started from
    Python (pytest.main, pytester): that process goes on."""
    return bool(target_specs(config)) and config.invocation_params.args == tuple(sys.argv[1:])


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Before the tests of a command-line run, `gc.freeze()` the objects of start-up and collection (modules,
    models, items): every full collection from here on (the collector's own, pytest's at the end) walks only
    what the tests make. Not in a run started from Python: frozen objects are never freed."""
    if command_line_run(session.config):
        import gc

        gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """At the end of a command-line run, spare the interpreter's exit a full garbage collection of every
    object the run made (~0.3 s after 1000 checks): `gc.freeze()` moves them out of the collector's sight,
    and the process ends next."""
    if command_line_run(config):
        import gc

        gc.freeze()


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
    import allure
    from allure_commons.types import AttachmentType

    from opsverify.report.allure_steps import OpenResult

    check = item.check
    # allure-pytest ships no type hints. The parameter shows the check's key (target/id).
    allure.dynamic.title(item.display_id)  # type: ignore[no-untyped-call]
    allure.dynamic.parameter("check", check.key)
    result = OpenResult.of(item.config)
    if result is None:
        return
    probe = result.step(result.result, f"probe {check.id}")
    try:
        text = facts_text(facts)
    except Exception as exc:  # noqa: BLE001 (a report detail must never change the check's verdict)
        text = json.dumps({"facts": redact(f"not shown: {type(exc).__name__}: {exc}")})
    result.attach(
        probe, ATTACHMENT_NAMES.get(check.kind.name, f"{check.kind.name} facts"), text, AttachmentType.JSON
    )
    phase_steps(result, probe, facts)
    if judgement.evidence:
        result.attach(result.result, "evidence", redact(judgement.evidence), AttachmentType.TEXT)
    extra_attachments(facts)
    problems = judgement.problems
    failure = redact("; ".join(p.text for p in problems)) if problems else None
    result.step(result.result, f"verify {check.id} against the target file", failure)


def extra_attachments(facts: Any) -> None:
    """Drills: one step per drill step, the restore log and the evidence record."""
    import allure

    for step in getattr(facts, "steps", None) or []:
        title = f"{step.name}: {format_duration(step.seconds)}{'' if step.ok else ' (failed)'}"
        with allure.step(redact(f"{title} — {step.detail}" if step.detail else title)):
            pass
    restore_log = getattr(facts, "restore_log", None)
    if callable(restore_log) and restore_log():
        allure.attach(redact(restore_log()), name="restore log", attachment_type=allure.attachment_type.TEXT)
    record = getattr(facts, "record", None)
    if record:
        allure.attach(
            redact(json.dumps(record, indent=2, default=str)),
            name="drill evidence",
            attachment_type=allure.attachment_type.JSON,
        )


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


def drill_record_of(facts: Any) -> dict[str, Any] | None:
    """A drill's evidence record as plain JSON data (it travels from xdist workers), or None."""
    record = getattr(facts, "record", None)
    if not isinstance(record, dict) or not record or "rto_target_s" not in record:
        return None
    try:
        data = json.loads(json.dumps(record, default=str))
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def include_probe_in_allure(item: pytest.Item, check_id: str, seconds: float) -> None:
    """Start the Allure result (and its `probe` step) `seconds` earlier: when the probe began, before the call.

    allure-pytest times a test by its call phase and writes the result when the test's protocol ends;
    until then the result is the listener's last scheduled one. Start and stop are epoch milliseconds.
    """
    if allure_results_dir(item.config) is None:
        return
    from opsverify.report.allure_steps import open_result

    result = open_result(item.config)
    if result is None or getattr(result, "start", None) is None:
        return
    result.start -= round(seconds * 1000)
    for step in getattr(result, "steps", None) or []:
        if step.name == f"probe {check_id}":
            step.start = result.start
            break


def phase_steps(result: OpenResult, probe: Any, facts: object) -> None:
    """One Allure step per phase of the probe (inside the `probe` step), failed where the phase failed.

    Probes run in threads ahead of the tests and never touch Allure; the phases are read from their facts
    here. A failed phase carries its detail as the message, without a made-up traceback.
    """
    if not isinstance(facts, HasPhases):
        return
    try:
        phases = facts.phases()
    except Exception as exc:  # noqa: BLE001 (a report detail must never change the check's verdict)
        phases = [Phase("list the probe's phases", False, f"{type(exc).__name__}: {exc}")]
    for phase in phases:
        failure = None if phase.ok else redact(phase.detail or f"{phase.name} failed")
        result.step(probe, redact(phase.title()), failure)


def facts_text(facts: object) -> str:
    """A probe's facts as JSON (dataclasses field by field, anything else as text), redacted string by string
    for an Allure attachment (masking the JSON text instead could cut a JSON string at an `Authorization: ...`
    value). Text that is too long is cut after it is masked, so no part of a secret survives at the cut."""
    if dataclasses.is_dataclass(facts) and not isinstance(facts, type):
        from opsverify.report.allure_steps import redacted_json

        text = redacted_json(facts)
    else:
        text = json.dumps({"facts": redact(repr(facts))}, indent=2, ensure_ascii=False)
    if len(text) > ATTACHMENT_LIMIT:
        text = text[:ATTACHMENT_LIMIT] + f"\n… ({len(text) - ATTACHMENT_LIMIT} more characters)"
    return text


def tiers_run(config: pytest.Config) -> tuple[str, ...]:
    """The tiers the -m expression selects (every tier without -m)."""
    markexpr = getattr(config.option, "markexpr", "")
    if not markexpr:
        return TIERS
    from _pytest.mark.expression import Expression

    try:
        expression = Expression.compile(markexpr)
    except SyntaxError:
        return TIERS
    return tuple(tier for tier in TIERS if expression.evaluate(lambda name, /, _t=tier, **kwargs: name == _t))


def hook_timeout() -> float:
    """Seconds each opsverify hook implementation may take: $OPSVERIFY_HOOK_TIMEOUT, else 30."""
    try:
        return max(0.1, float(os.environ.get("OPSVERIFY_HOOK_TIMEOUT", "30")))
    except ValueError:
        return 30.0


def _started(record: dict[str, Any], default: float) -> float:
    """When a drill started: its record's `started` (the run's start when it has none)."""
    started = record.get("started")
    if isinstance(started, int | float) and not isinstance(started, bool):
        return float(started)
    return default


def make_run_id() -> str:
    given = os.environ.get("OPSVERIFY_RUN_ID")
    if given:
        return given
    if os.environ.get("GITHUB_RUN_ID"):
        return f"gh-{os.environ['GITHUB_RUN_ID']}-{os.environ.get('GITHUB_RUN_ATTEMPT', '1')}"
    if os.environ.get("CI_JOB_ID"):
        return f"gl-{os.environ['CI_JOB_ID']}"
    return time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)


class RunRecorder:
    """The controller's view of the run: results from every worker, and everything written at the end."""

    def __init__(self, config: pytest.Config, reports: Path) -> None:
        self.config = config
        self.reports = reports
        self.started = time.time()
        self.run_id = make_run_id()
        self.results: dict[str, CheckResult] = {}
        self.records: list[DeliveryRecord] = []
        self.previews: list[str] = []
        self.problems: list[str] = []
        self.written: list[Path] = []
        self.summary: RunSummary | None = None
        self.decisions: dict[str, str] = {}  # "target/check id" -> the notification decision
        self.drills: dict[str, dict[str, Any]] = {}  # nodeid -> the drill's evidence record
        self.finished: set[str] = set()  # nodeids whose teardown was reported (an interrupted one has none)

    # --- options -----------------------------------------------------------------------------------------

    @property
    def options(self) -> NotifyOptions:
        from opsverify.notify.dispatch import NotifyOptions

        enabled, dry_run = self.notify_switches()
        return NotifyOptions(enabled=enabled, dry_run=dry_run)

    def notify_switches(self) -> tuple[bool, bool]:
        """(enabled, dry run) of notifications, without importing the notify modules."""
        off = self.config.getoption("opsverify_no_notify") or (
            os.environ.get("OPSVERIFY_NOTIFY", "1").strip().lower() in OFF_VALUES
        )
        return not off, bool(self.config.getoption("opsverify_notify_dry_run"))

    @property
    def runs_checks(self) -> bool:
        return not self.config.option.collectonly

    def targets(self) -> list[LoadedTarget]:
        return loaded_targets(self.config)

    # --- hooks -------------------------------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.started = time.time()
        if self.runs_checks:
            for target in self.targets():
                self._heartbeat(target, "start")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        identity = CheckIdentity.from_properties(report.user_properties)
        if identity is None:
            targets = self.targets()
            name = report.nodeid.rsplit("::", 1)[-1]
            tiers = tuple(t for t in TIERS if t in report.keywords)
            identity = CheckIdentity(targets[0].name if targets else "", CUSTOM_KIND, name, tiers, "normal")
        result = self.results.get(report.nodeid)
        if result is None:
            result = CheckResult(
                identity.target,
                identity.kind,
                identity.name,
                identity.tiers,
                identity.severity,
                status="skipped",
                nodeid=report.nodeid,
            )
            self.results[report.nodeid] = result
        result.duration += report.duration
        if report.when == "teardown":
            self.finished.add(report.nodeid)
        depends = dict(report.user_properties).get(DEPENDS_ON_PROPERTY)
        if isinstance(depends, str) and depends:
            result.depends_on = tuple(depends.split(","))
        figures = getattr(report, "opsverify_figures", None)
        if isinstance(figures, dict):
            result.figures.update(figures)
        drill = getattr(report, "opsverify_drill", None)
        if isinstance(drill, dict):
            self.drills[report.nodeid] = drill
        if report.failed:
            if not result.failed:
                problems = getattr(report, "opsverify_problems", None) or []
                reason, details = split_failure_text(report.longreprtext)
                if problems:
                    reason = "; ".join(str(p.get("text", "")) for p in problems)
                elif report.when != "call":
                    reason = f"error in {report.when}: {reason}"
                result.status, result.reason, result.details = "failed", reason, details
                result.problems = [dict(p) for p in problems]
        elif report.when == "call" and report.passed and result.status == "skipped":
            result.status = "passed"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int | pytest.ExitCode) -> None:
        try:
            self._finish(int(exitstatus))
        except Exception as exc:  # noqa: BLE001 (reporting must never change the run's verdict)
            self.problems.append(f"writing reports failed: {type(exc).__name__}: {redact(str(exc))}")

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if self.summary is None or not self.runs_checks:
            return
        terminalreporter.write_sep("=", "opsverify summary")
        note = None
        enabled, dry_run = self.notify_switches()
        if dry_run:
            note = "dry run (--notify-dry-run): nothing was sent"
        elif not enabled:
            note = "off (--no-notify or OPSVERIFY_NOTIFY=0): nothing was sent"
        for line in summary_lines(self.summary, self.records, self.problems, self.written, note):
            terminalreporter.write_line(line.text, **line.markup)
        for preview in self.previews:
            terminalreporter.write_line(redact(preview))

    # --- the end of the run ------------------------------------------------------------------------------

    def _finish(self, exitstatus: int) -> None:
        targets = self.targets()
        ran = tiers_run(self.config)
        interrupted = interrupted_by(self.config)
        results = sorted(
            (r for r in self.results.values() if not interrupted or r.nodeid in self.finished),
            key=lambda r: (r.target, r.kind, r.name, r.nodeid),
        )
        present = {t for r in results for t in r.tiers}
        summary = RunSummary(
            run_id=self.run_id,
            started=self.started,
            finished=time.time(),
            targets=[t.name for t in targets],
            tiers=[t for t in ran if t in present] if present else list(ran),
            results=results,
            exit_status=exitstatus,
            report_url=os.environ.get("OPSVERIFY_REPORT_URL") or (ci_executor() or {}).get("buildUrl"),
            empty_reason=None if results or interrupted else empty_run_reason(self.config),
            interrupted=interrupted,
        )
        self.summary = summary
        stores: dict[str, tuple[StateStore | None, dict[str, Gate]]] = {}
        if self.runs_checks:
            for target in targets:
                store = self._store(target, summary)
                self._warnings(target, summary, store)
                stores[target.name] = (store, self._gates(target, summary, store))
        write_json(self.reports / "summary.json", summary.as_json())
        self.written.append(self.reports / "summary.json")
        if self.runs_checks:
            for target in targets:
                store, gated = stores[target.name]
                self._notify(target, summary, ran, store, gated)
            self._hooks(summary, stores)
            for target in targets:
                failed = any(r.failed for r in summary.of_target(target.name))
                ok = exitstatus in (0, 1) and not failed and summary.of_target(target.name)
                self._heartbeat(target, "success" if ok else "fail", self._ping_body(summary, target.name))
            journal = self.reports / "notifications.jsonl"
            if self.records:
                from opsverify.notify.delivery import append_journal

                append_journal(journal, [r for r in self.records if r.status != "dry-run"])
            if journal.exists():
                self.written.append(journal)
        xmlpath = getattr(self.config.option, "xmlpath", None)
        if xmlpath and Path(xmlpath).is_file():
            redact_junit(Path(xmlpath))
            self.written.append(Path(xmlpath))
        results_dir = allure_results_dir(self.config)
        if results_dir is not None and self.runs_checks:
            write_results_metadata(
                results_dir,
                run_environment(
                    summary.targets,
                    [str(t.path) for t in targets],
                    summary.tiers,
                    ops_root(self.config),
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
                self.problems += [f"writing Allure results: {redact(error)}" for error in logger.errors[:1]]
            annotate_results(
                results_dir,
                {f"{r.target}/{r.id}": r.warnings for r in summary.results if r.warnings},
                {
                    f"{name}/{check_id}": (gate.decision, gate.note)
                    for name, (_, gated) in stores.items()
                    for check_id, gate in gated.items()
                },
                since=self.started - 2,
            )
            self._store_history(results_dir, summary, stores, current, written)
            redact_results_dir(results_dir, since=self.started - 2, skip=written)
            self.written.append(results_dir)

    def _store(self, target: LoadedTarget, summary: RunSummary) -> StateStore | None:
        """Open the target's state store and keep this run's results in it; None (said why) when it fails."""
        notify = target.model.notify
        configured = str(target.base_dir / notify.state) if notify is not None and notify.state else None
        directory = state_dir(ops_root(self.config), configured)
        url = state_url(target.model.state.url if target.model.state is not None else None)
        try:
            store = open_store(url, directory)
            store.record_results(
                summary.run_id,
                target.name,
                [
                    StoredResult(
                        summary.run_id,
                        target.name,
                        r.id,
                        r.status,
                        r.duration,
                        summary.finished,
                        r.reason,
                        r.figures,
                    )
                    for r in summary.of_target(target.name)
                ],
            )
            store.record_drills(
                summary.run_id,
                target.name,
                [
                    DrillRecord(summary.run_id, target.name, r.id, _started(record, summary.started), record)
                    for r in summary.of_target(target.name)
                    if (record := self.drills.get(r.nodeid)) is not None
                ],
            )
        except StateError as exc:
            routes = notify is not None and bool(notify.routes)
            self.problems.append(
                f"state store for {target.name}: {redact(str(exc))}; the checks ran and their verdicts stand"
                + ("; notifications were sent without state (duplicates possible)" if routes else "")
            )
            return None
        self.problems += prune_target_after_run(store, target)
        return store

    def _store_history(
        self,
        results_dir: Path,
        summary: RunSummary,
        stores: dict[str, tuple[StateStore | None, dict[str, Gate]]],
        current: list[dict[str, Any]],
        written: set[str],
    ) -> None:
        """The earlier runs in the store as Allure history points beside the results (for `opsverify report`).
        `current`: this process's results, kept by the writer (`written`: their file names); the folder is
        read only for the others (xdist workers')."""
        stored: list[StoredResult] = []
        for name, (store, _) in stores.items():
            if store is None:
                continue
            try:
                stored += store.recent_results(
                    name,
                    STORE_HISTORY_RUNS,
                    exclude_run=summary.run_id,
                    figures=False,
                    checks=[r.id for r in summary.of_target(name)],
                )
            except StateError as exc:
                self.problems.append(f"reading the history of {name} for the report: {redact(str(exc))}")
        current = current + read_results(results_dir, since=self.started - 2, skip=written)
        write_points(
            results_dir, history_points(current, stored, f"opsverify · {', '.join(summary.targets)}")
        )

    def _warnings(self, target: LoadedTarget, summary: RunSummary, store: StateStore | None) -> None:
        """Drills whose RTO nears its target or rose run after run (from the store's earlier runs)."""
        backups = target.section("backups") or {}
        for result in summary.of_target(target.name):
            entry = backups.get(result.name) if result.kind == "restore" else None
            spec = getattr(entry, "restore", None)
            if spec is None or "rto_s" not in result.figures:
                continue
            earlier: list[float] = []
            if store is not None and spec.rto_trend_runs > 0:
                try:
                    rows = store.history(target.name, result.id, spec.rto_trend_runs + 1)
                except StateError as exc:
                    self.problems.append(f"reading the history of {result.id}: {redact(str(exc))}")
                    rows = []
                earlier = [
                    r.figures["rto_s"] for r in rows if r.run_id != summary.run_id and "rto_s" in r.figures
                ]
            result.warnings = rto_warnings(
                result.figures["rto_s"], spec.rto, spec.rto_warn_pct, earlier, spec.rto_trend_runs
            )

    def _hooks(
        self, summary: RunSummary, stores: dict[str, tuple[StateStore | None, dict[str, Gate]]]
    ) -> None:
        """opsverify_check_failed per failure, then opsverify_run_finished: each implementation time-limited."""
        on_failure = self.config.hook.pytest_opsverify_check_failed.get_hookimpls()
        on_finish = self.config.hook.pytest_opsverify_run_finished.get_hookimpls()
        if not (on_failure or on_finish) or self.options.dry_run or not self.options.enabled:
            return
        limit = hook_timeout()
        for result in summary.failures:
            key = f"{result.target}/{result.id}"
            gate = stores.get(result.target, (None, {}))[1].get(result.id)
            decision = self.decisions.get(key) or (gate.decision if gate else "unrouted")
            self.decisions.setdefault(key, decision)
            problems = [Problem.from_json(p) for p in result.problems]
            for impl in on_failure:
                self._call_hook(impl, limit, check=result, problems=problems, decision=decision)
        for impl in on_finish:
            self._call_hook(impl, limit, summary=summary, decisions=dict(self.decisions))

    def _call_hook(self, impl: Any, limit: float, **kwargs: Any) -> None:
        from opsverify.notify.timebox import call_limited

        wanted = {name: value for name, value in kwargs.items() if name in impl.argnames}
        error = call_limited(impl.function, limit, **wanted)
        if error is not None:
            where = getattr(impl.plugin, "__file__", None) or impl.plugin_name
            self.problems.append(f"hook {impl.function.__name__} ({where}): {error}")

    def _gates(self, target: LoadedTarget, summary: RunSummary, store: StateStore | None) -> dict[str, Gate]:
        """Failures that send nothing (blocked by a dependency, silenced, in a maintenance window), noted."""
        from opsverify.notify.gates import gates

        silences: list[Silence] = []
        if store is not None:
            try:
                silences = active_silences(store, target.name)
            except StateError as exc:
                self.problems.append(f"reading the silences of {target.name}: {redact(str(exc))}")
        notify = target.model.notify
        results = summary.of_target(target.name)
        gated = gates(
            results,
            lambda check_id: s.label() if (s := silence_for(silences, target.name, check_id)) else None,
            notify.maintenance if notify is not None else [],
            time.time(),
        )
        for result in results:
            if result.id in gated:
                result.note = gated[result.id].note
        return gated

    def _notify(
        self,
        target: LoadedTarget,
        summary: RunSummary,
        ran: tuple[str, ...],
        store: StateStore | None,
        gated: dict[str, Gate],
    ) -> None:
        notify = target.model.notify
        if notify is None or not notify.routes:
            return
        from opsverify.notify.dispatch import notify_target
        from opsverify.notify.router import RunContext

        run = RunContext(
            run_id=summary.run_id,
            duration=summary.duration,
            tiers_run=ran,
            report_url=notify.report_url or summary.report_url,
        )
        results = summary.of_target(target.name)
        try:
            try:
                outcome = notify_target(target.name, notify, results, run, store, self.options, gated)
            except StateError as exc:  # the store failed under the lock: send without state
                self.problems.append(
                    f"state store for {target.name}: {redact(str(exc))}; notifications were sent without "
                    "state (duplicates possible)"
                )
                outcome = notify_target(target.name, notify, results, run, None, self.options, gated)
        except Exception as exc:  # noqa: BLE001 (a notifier bug must not change any verdict)
            self.problems.append(
                f"notifications for {target.name} failed: {type(exc).__name__}: {redact(str(exc))}"
            )
            return
        self.records += outcome.records
        self.previews += outcome.previews
        self.decisions.update({f"{target.name}/{key}": value for key, value in outcome.decisions.items()})

    def _heartbeat(self, target: LoadedTarget, event: Event, body: str = "") -> None:
        notify = target.model.notify
        if notify is None or notify.heartbeat is None:
            return
        from opsverify.notify.delivery import DeliveryRecord

        options = self.options
        if options.dry_run:
            self.records.append(
                DeliveryRecord("heartbeat", target.name, f"heartbeat/{event}", "heartbeat", "dry-run")
            )
            return
        if not options.enabled:
            return
        from opsverify.notify.heartbeat import ping

        self.records.append(ping(notify.heartbeat, event, target.name, redact(body)))

    @staticmethod
    def _ping_body(summary: RunSummary, target: str) -> str:
        results = summary.of_target(target)
        counts = summary.counts(results)
        lines = [f"{target}: {counts['passed']} passed, {counts['failed']} failed, run {summary.run_id}"]
        lines += [f"FAILED {r.id}: {r.reason}" for r in results if r.failed]
        return "\n".join(lines)
