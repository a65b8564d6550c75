"""The end of a run, on the controller only (never on a pytest-xdist worker): the run-end plugin.

It collects every check's result (`opsverify.results`) from `pytest_runtest_logreport`, then hands the
run's results to the peers, in this order:

1. state (`run_end_state`): the results and drill evidence kept in the state store; RTO warnings from the
   store's history;
2. notify gates (`run_end_notify.gate_failures`): failures blocked by a dependency, silenced or in a
   maintenance window get their note (shown in summary.json and the report);
3. report (`run_end_report`): summary.json;
4. notify (`run_end_notify`): one message per channel per route, then the `pytest_opsverify_*` hooks,
   then heartbeat pings, then notifications.jsonl;
5. report (`run_end_report`): the JUnit file redacted; the Allure environment, categories, annotations,
   history from the store, and a redaction pass over the results folder;
6. the terminal summary (`pytest_terminal_summary`).

No step's failure changes a verdict: each is noted in the terminal summary and the run goes on.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from opsverify.config.target import LoadedTarget
from opsverify.config.types import TIERS
from opsverify.paths import reports_dir
from opsverify.pytest_plugin import run_end_notify, run_end_report, run_end_state
from opsverify.pytest_plugin.collect import empty_run_reason
from opsverify.pytest_plugin.interrupt import interrupted_by
from opsverify.pytest_plugin.targets import ensure_loaded, loaded_targets, ops_root, target_specs
from opsverify.redaction import redact
from opsverify.report.allure_check import allure_results_dir
from opsverify.report.allure_files import ci_executor
from opsverify.report.labels import CUSTOM_KIND, DEPENDS_ON_PROPERTY, CheckIdentity
from opsverify.report.summary import split_failure_text
from opsverify.report.terminal import summary_lines
from opsverify.results import CheckResult, RunSummary

if TYPE_CHECKING:
    from opsverify.notify.delivery import DeliveryRecord
    from opsverify.notify.dispatch import NotifyOptions
    from opsverify.notify.heartbeat import Event

RECORDER = pytest.StashKey["RunRecorder"]()
OFF_VALUES = {"0", "false", "no", "off"}


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


def pytest_configure(config: pytest.Config) -> None:
    """The controller's recorder (never on an xdist worker), after the reporting plugin set the report paths
    (its `pytest_configure` is tryfirst), once the targets loaded."""
    if not ensure_loaded(config) or hasattr(config, "workerinput"):
        return
    register_recorder(config, reports_dir(ops_root(config)))


def register_recorder(config: pytest.Config, reports: Path) -> None:
    """Start recording the run's results."""
    recorder = RunRecorder(config, reports)
    config.stash[RECORDER] = recorder
    config.pluginmanager.register(recorder, "opsverify-run-recorder")


def command_line_run(config: pytest.Config) -> bool:
    """A run of checks started from the command line, or a pytest-xdist worker of any run: the process ends
    with it. Not a run started from Python (pytest.main, pytester): that process goes on."""
    if not target_specs(config):
        return False
    return hasattr(config, "workerinput") or config.invocation_params.args == tuple(sys.argv[1:])


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

    # --- the end of the run, in the order of the module's docstring --------------------------------------

    def _finish(self, exitstatus: int) -> None:
        targets = self.targets()
        ran = tiers_run(self.config)
        summary = self.summary = self._summary(targets, ran, exitstatus)
        stores: run_end_state.Stores = {}
        if self.runs_checks:
            for target in targets:
                store = run_end_state.record_run(
                    target, summary, self.drills, ops_root(self.config), self.problems
                )
                run_end_state.rto_warnings_of(target, summary, store, self.problems)
                stores[target.name] = (
                    store,
                    run_end_notify.gate_failures(target, summary, store, self.problems),
                )
        self.written.append(run_end_report.write_summary(self.reports, summary))
        if self.runs_checks:
            self._notify_all(targets, summary, ran, stores, exitstatus)
        self.written += run_end_report.redact_junit_file(self.config)
        results_dir = allure_results_dir(self.config)
        if results_dir is not None and self.runs_checks:
            run_end_report.finish_allure(
                self.config, results_dir, targets, summary, stores, self.started, self.problems
            )
            self.written.append(results_dir)

    def _summary(self, targets: list[LoadedTarget], ran: tuple[str, ...], exitstatus: int) -> RunSummary:
        interrupted = interrupted_by(self.config)
        results = sorted(
            (r for r in self.results.values() if not interrupted or r.nodeid in self.finished),
            key=lambda r: (r.target, r.kind, r.name, r.nodeid),
        )
        present = {t for r in results for t in r.tiers}
        return RunSummary(
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

    def _notify_all(
        self,
        targets: list[LoadedTarget],
        summary: RunSummary,
        ran: tuple[str, ...],
        stores: run_end_state.Stores,
        exitstatus: int,
    ) -> None:
        """Channels per target, then the hooks, then heartbeat pings, then the notifications journal."""
        for target in targets:
            store, gated = stores[target.name]
            if target.model.notify is None or not target.model.notify.routes:
                continue  # nothing to route: the notify modules stay unloaded (start-up of a short run)
            sent = run_end_notify.notify_run(target, summary, ran, store, gated, self.options, self.problems)
            if sent is not None:
                self.records += sent.records
                self.previews += sent.previews
                self.decisions.update(
                    {f"{target.name}/{key}": value for key, value in sent.decisions.items()}
                )
        hook = self.config.hook
        if (
            hook.pytest_opsverify_check_failed.get_hookimpls()
            or hook.pytest_opsverify_run_finished.get_hookimpls()
        ):
            run_end_notify.call_run_hooks(
                self.config, summary, stores, self.decisions, self.options, self.problems
            )
        for target in targets:
            failed = any(r.failed for r in summary.of_target(target.name))
            ok = exitstatus in (0, 1) and not failed and summary.of_target(target.name)
            body = run_end_notify.ping_body(summary, target.name)
            self._heartbeat(target, "success" if ok else "fail", body)
        journal = self.reports / "notifications.jsonl"
        if self.records:
            from opsverify.notify.delivery import append_journal

            append_journal(journal, [r for r in self.records if r.status != "dry-run"])
        if journal.exists():
            self.written.append(journal)

    def _heartbeat(self, target: LoadedTarget, event: Event, body: str = "") -> None:
        record = run_end_notify.heartbeat(target, event, body, self.notify_switches())
        if record is not None:
            self.records.append(record)
