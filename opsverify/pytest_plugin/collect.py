"""The target file's entries as pytest items: one `CheckTest` per check, collected by the plugin itself.

Like Tavern collects YAML tests, an installed opsverify needs no test modules: each loaded target becomes a
`TargetFile` node under the session (or where the target file is given as a path to collect), and each check
of it an item with id `<kind>:<name>[/<rule>]` and the marks of its tiers. Hand-written checks in the user's
`checks/` folder are collected by pytest as usual, beside them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from opsverify.config.target import CheckItem, LoadedTarget
from opsverify.config.types import TIERS
from opsverify.problem import Judgement, failure_text
from opsverify.pytest_plugin.progress import WaitNotice
from opsverify.pytest_plugin.targets import POOL, loaded_targets
from opsverify.redaction import redact


class CheckFailed(AssertionError):
    """A check's verdict found problems (shown as the problems and evidence, never as a traceback)."""

    def __init__(self, judgement: Judgement) -> None:
        super().__init__("; ".join(problem.text for problem in judgement.problems))
        self.judgement = judgement


class TargetFile(pytest.File):
    """A loaded target file; its children are its checks."""

    target: LoadedTarget

    @classmethod
    def from_target(
        cls, parent: pytest.Collector, target: LoadedTarget, path: Path | None = None
    ) -> TargetFile:
        """`path`: where pytest found the file (a link keeps its own path, so pytest matches it to the argument)."""
        path = path or target.path.resolve()
        node: TargetFile = cls.from_parent(parent, path=path, nodeid=node_path(parent.config, path))
        node.target = target
        return node

    def collect(self) -> Iterator[CheckTest]:
        for check in self.target.all_checks():
            yield CheckTest.from_parent(self, name=check.id, check=check)


def node_path(config: pytest.Config, path: Path) -> str:
    """The target file's part of the test ids: relative to the rootdir or the current folder, else absolute."""
    for base in (config.rootpath, config.invocation_params.dir):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.as_posix()


class CheckTest(pytest.Item):
    """One check of a target: its probe's facts (from the pool), judged by its kind's verdict."""

    def __init__(self, *, check: CheckItem, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.facts: Any = None
        self.judgement: Judgement | None = None
        for tier in check.tiers:
            self.add_marker(tier)
        self.keywords[check.kind.name] = True

    def runtest(self) -> None:
        pool = self.config.stash[POOL]
        notice = WaitNotice(self.config, pool, self.check)
        facts = pool.result(self.check, watch=notice)
        notice.finished(facts)
        self.facts = facts
        judge = self.check.kind.load_verdict()
        self.judgement = judge(self.check.entry, facts, self.check.rule)
        self.ihook.pytest_opsverify_judged(item=self, facts=facts, judgement=self.judgement)
        if self.judgement.problems:
            raise CheckFailed(self.judgement)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CheckFailed):
            judgement = excinfo.value.judgement
            text = failure_text(
                self.display_id, self.check.target.name, judgement.problems, judgement.evidence
            )
            return FailureRepr(text, redact("; ".join(problem.text for problem in judgement.problems)))
        if show_traceback(self.config):
            return super().repr_failure(excinfo, style)
        return short_error(self.display_id, excinfo, "a bug in opsverify: please report it")

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        return self.path, None, self.display_id

    @property
    def display_id(self) -> str:
        """`http:api` — with several targets in the run, `prod/http:api`."""
        return self.check.key if len(loaded_targets(self.config)) > 1 else self.check.id


@dataclass(frozen=True)
class CrashLine:
    message: str


class FailureRepr:
    """A failed check as pytest shows it: the whole text in the report, its problems in one line in the short
    summary and as JUnit's failure message (a plain string would be repeated whole in CI's short summary)."""

    def __init__(self, text: str, summary: str) -> None:
        self.text = text
        self.reprcrash = CrashLine(summary)

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """On the xdist controller a check's failure arrives as plain text: give it back its one-line summary."""
    problems = getattr(report, "opsverify_problems", None)
    if report.failed and problems and isinstance(report.longrepr, str):
        summary = "; ".join(str(problem.get("text", "")) for problem in problems)
        report.longrepr = FailureRepr(report.longrepr, summary)  # type: ignore[assignment]


def show_traceback(config: pytest.Config) -> bool:
    """Tracebacks only when asked for: -v, or an explicit --tb style other than auto."""
    return config.option.verbose > 0 or config.option.tbstyle not in ("auto", None)


def short_error(where: str, excinfo: pytest.ExceptionInfo[BaseException], note: str = "") -> str:
    """An uncaught exception as one readable line (redacted), with how to see the traceback."""
    error = excinfo.value
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    line = f"{where}: {type(error).__name__}" + (f": {message}" if message else "")
    hint = "run with -v or --tb=short for the traceback"
    return redact(f"{line}\n  ({note}; {hint})" if note else f"{line}\n  ({hint})")


# --- collection ----------------------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> TargetFile | None:
    """A target file named as a path to collect (`pytest --target=prod.yaml prod.yaml`) is collected there."""
    for target in targets_given_as_paths(parent.config):
        if file_path.resolve() == target.path.resolve():
            return TargetFile.from_target(parent, target, file_path)
    return None


def targets_given_as_paths(config: pytest.Config) -> list[LoadedTarget]:
    """The loaded targets whose file is also one of pytest's path arguments."""
    given = {(config.invocation_params.dir / arg.split("::")[0]).resolve() for arg in config.args}
    return [t for t in loaded_targets(config) if t.path.resolve() in given]


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """Add every other loaded target to the session's top-level nodes (so no test module is needed)."""
    report = yield
    if isinstance(collector, pytest.Session) and report.passed:
        as_paths = targets_given_as_paths(collector.config)
        for target in loaded_targets(collector.config):
            if target not in as_paths:
                report.result.append(TargetFile.from_target(collector, target))
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Without a target the run summary is not written: say here why nothing was checked (exit code 5)."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and not loaded_targets(config):
        reason = empty_run_reason(config)
        terminalreporter.write_line(f"opsverify: no checks selected: {reason}", yellow=True, bold=True)


def empty_run_reason(config: pytest.Config) -> str:
    """Why nothing was selected, in the user's terms: tiers, -k, or no target."""
    from opsverify.pytest_plugin.targets import no_target_message

    targets = loaded_targets(config)
    if not targets:
        return no_target_message(config)
    markexpr = config.option.markexpr or ""
    keyword = config.option.keyword or ""
    reasons = []
    for target in targets:
        checks = target.all_checks()
        tiers = sorted({t for c in checks for t in c.tiers}, key=TIERS.index)
        if not checks:
            reasons.append(
                f"target {target.name} ({target.path}) has no checks: add entries under http:, postgres:, "
                "backups:, ... (see `opsverify validate`)"
            )
        elif markexpr and not keyword:
            reasons.append(
                f"target {target.name} has no checks in tier {markexpr}; its tiers are {', '.join(tiers)}"
            )
        elif keyword:
            listed = ", ".join(c.id for c in checks[:8]) + (", ..." if len(checks) > 8 else "")
            scope = f" in tier {markexpr}" if markexpr else ""
            reasons.append(
                f"no check of target {target.name}{scope} matches -k {keyword!r}; its checks: {listed}"
            )
        else:
            reasons.append(f"target {target.name}: every check was deselected")
    return "; ".join(reasons)


# --- hand-written checks ---------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A hand-written check's uncaught exception shows as its message; the traceback only under -v/--tb."""
    report = yield
    excinfo = call.excinfo
    if (
        report.failed
        and excinfo is not None
        and not isinstance(item, CheckTest)
        and not show_traceback(item.config)
        and not isinstance(excinfo.value, AssertionError | pytest.fail.Exception)
        and isinstance(excinfo.value, Exception)
    ):
        report.longrepr = short_error(item.nodeid, excinfo)
    return report


# --- probes run ahead of their tests ---------------------------------------------------------------------


# the last entry of this worker's queue when it was last read (see worker_queue)
QUEUE_END = pytest.StashKey[object]()
_UNSEEN = object()


def checks_of(items: list[pytest.Item]) -> list[CheckItem]:
    return [item.check for item in items if isinstance(item, CheckTest)]


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Start every selected live probe before the first test runs (not on xdist workers: see below)."""
    if session.config.option.collectonly or hasattr(session.config, "workerinput"):
        return
    session.config.stash[POOL].prefetch(checks_of(session.items))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """On an xdist worker, start the probes of the tests queued for this worker (it learns them in batches)."""
    config = item.config
    if not hasattr(config, "workerinput"):
        return
    pool = config.stash[POOL]
    pending = worker_queue(item.session)
    if pending is None:
        # Nothing new queued since the last look: this test was queued then, and its probe started with the
        # rest (one prefetch per batch, not one per test); the next one too, unless it arrived since.
        later = checks_of([nextitem] if nextitem else [])
        if later and later[0].kind.live and not pool.started(later[0]):
            pool.prefetch(later)
        return
    queued = [item, *([nextitem] if nextitem else []), *pending]
    pool.prefetch(checks_of(queued))


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under `-n` without `--dist`, queue every test up front (work stealing) rather than in small batches.

    A worker starts the probes of the tests it has been sent; xdist's default `load` mode sends a few at a
    time, so a gate would wait for one probe round per batch. Pass `--dist load` to keep that mode.
    """
    if not loaded_targets(config) or config.getoption("dist") != "load" or dist_chosen(config):
        return None
    scheduling = importlib.import_module("xdist.scheduler")  # xdist has no type information
    return scheduling.WorkStealingScheduling(config, log)


def dist_chosen(config: pytest.Config) -> bool:
    """Whether the user chose an xdist mode (command line, PYTEST_ADDOPTS or the ini file's addopts)."""
    args = [*map(str, config.invocation_params.args), *config.getini("addopts")]
    args += os.environ.get("PYTEST_ADDOPTS", "").split()
    return any(arg in ("--dist", "-d", "--distload") or arg.startswith("--dist=") for arg in args)


def worker_queue(session: pytest.Session) -> list[pytest.Item] | None:
    """The items xdist has sent to this worker and not yet started (its WorkerInteractor's `torun`); None
    when nothing was added since the last look (xdist appends what it sends; the worker takes from the front,
    a steal from the back), so a worker does not walk its whole queue again before every test."""
    for plugin in session.config.pluginmanager.get_plugins():
        queue = getattr(plugin, "torun", None)
        if type(plugin).__name__ == "WorkerInteractor" and queue is not None:
            with queue.lock() as pending:
                last = pending[-1] if pending else None
                if session.stash.get(QUEUE_END, _UNSEEN) == last:
                    return None
                session.stash[QUEUE_END] = last
                indices = [i for i in pending if isinstance(i, int)]
            return [session.items[i] for i in indices if i < len(session.items)]
    return []
