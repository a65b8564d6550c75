"""Running a seed system's target file against its replica, and reading which checks failed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from opsverify.config.interpolate import read_env_file
from opsverify.config.target import load_target
from opsverify.kinds import KINDS
from tests.backups.s3.motoserver import moto_s3  # noqa: F401 - the codebook and cleanwithsnapshot buckets
from tests.conftest import RunResult
from tests.seeds.replicas.base import Replica
from tests.seeds.replicas.database import require_tools

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "seeds"
# Replicas are healthy and quick to answer: no need to wait for a deployment to come up.
TEST_ENV = {"READY_TIMEOUT": "0s"}


def target_file(system: str) -> Path:
    return EXAMPLES / f"{system}.yaml"


@dataclass
class SeedRun:
    """One `pytest checks --target examples/seeds/<system>.yaml` run and its per-check outcome."""

    result: RunResult
    outcomes: dict[str, str]  # check id (kind:name) -> passed | failed | skipped
    others: dict[str, str]  # hand-written tests that also live in checks/ (not from the target file)
    deliveries: list[dict[str, Any]]  # reports/notifications.jsonl: one record per (route, channel)

    def routed(self) -> set[tuple[str, str]]:
        """(route, channel) pairs whose message was delivered in this run."""
        return {
            (str(d.get("route")), str(d["channel"]))
            for d in self.deliveries
            if d.get("kind", "message") == "message" and d.get("status") == "sent"
        }

    @property
    def failed(self) -> set[str]:
        return {check for check, outcome in self.outcomes.items() if outcome == "failed"}

    @property
    def passed(self) -> set[str]:
        return {check for check, outcome in self.outcomes.items() if outcome == "passed"}

    def message(self, check: str) -> str:
        """The failure text pytest printed for one check (the block starting `<check> failed on target`)."""
        output = self.result.output
        start = output.find(f"{check} failed on target")
        assert start >= 0, f"no failure message for {check} in:\n{output[-4000:]}"
        end = output.find("\n_", start)
        return output[start : end if end > 0 else None]


def read_junit(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(built-in checks by id `kind:name`, any other test in checks/ by its pytest name) -> outcome."""
    builtin: dict[str, str] = {}
    others: dict[str, str] = {}
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 (the JUnit file our own run wrote)
        name = case.get("name", "")
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        kind = name.partition(":")[0]
        if kind in KINDS and ":" in name:
            builtin[name] = outcome
        else:
            others[name] = outcome
    return builtin, others


SeedRunner = Callable[..., SeedRun]


@pytest.fixture
def run_seed(run_checks: Callable[..., RunResult], tmp_path: Path) -> SeedRunner:
    """`run_seed(replica, "-m", "daily", env={...})`: run its target file with the replica's variables."""
    runs = iter(range(1000))

    def run(replica: Replica, *args: str, env: dict[str, str] | None = None) -> SeedRun:
        # every value of the example env file (production hosts) is replaced: tests talk to 127.0.0.1 only
        example = EXAMPLES / f"{replica.name}.env"
        unset = set(read_env_file(example)) - set(replica.env) if example.exists() else set()
        assert not unset, f"{replica.name} replica leaves {sorted(unset)} at their {example.name} values"
        junit = tmp_path / f"junit-{next(runs)}.xml"
        result = run_checks(
            target_file(replica.name),
            f"--junitxml={junit}",
            *args,
            env={**TEST_ENV, **replica.env, **(env or {})},
        )
        assert junit.exists(), (
            f"the run wrote no JUnit report (exit {result.returncode}):\n{result.output[-4000:]}"
        )
        journal = result.reports / "notifications.jsonl"
        deliveries = (
            [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
            if journal.exists()
            else []
        )
        return SeedRun(result, *read_junit(junit), deliveries)

    return run


def check_ids(replica: Replica, tier: str | None = None) -> set[str]:
    """Every enabled check of the replica's target file (optionally of one tier), loaded in-process."""
    target = load_target(str(target_file(replica.name)), environ={**TEST_ENV, **replica.env})
    return {c.id for c in target.all_checks() if tier is None or tier in c.tiers}


def severities(replica: Replica) -> dict[str, str]:
    """check id -> severity, as the target file gives it."""
    target = load_target(str(target_file(replica.name)), environ={**TEST_ENV, **replica.env})
    return {c.id: c.severity for c in target.all_checks()}


def tiers_of(replica: Replica) -> set[str]:
    target = load_target(str(target_file(replica.name)), environ={**TEST_ENV, **replica.env})
    return {tier for check in target.all_checks() for tier in check.tiers}


@pytest.fixture(scope="session", autouse=True)
def _backup_tools() -> None:
    require_tools("pg_dump", "psql", "sqlite3", "tar")


def assert_fails_exactly(run: SeedRun, expected: dict[str, list[str]]) -> None:
    """The run failed exactly the `expected` checks, each with a message holding the given words."""
    __tracebackhide__ = True
    output = run.result.output
    assert run.result.returncode == 1, f"exit {run.result.returncode}, expected 1:\n{output[-6000:]}"
    assert run.failed == set(expected), (
        f"failed {sorted(run.failed)}, expected {sorted(expected)}:\n{output[-8000:]}"
    )
    for check, words in expected.items():
        message = run.message(check)
        for word in words:
            assert word in message, f"{check}: {word!r} is not in its message:\n{message}"


def assert_all_pass(run: SeedRun, expected: set[str]) -> None:
    __tracebackhide__ = True
    output = run.result.output
    assert run.result.returncode == 0, f"exit {run.result.returncode}:\n{output[-8000:]}"
    assert run.passed == expected, f"passed {sorted(run.passed)}, expected {sorted(expected)}"
    assert "failed" not in run.others.values(), output[-4000:]


def assert_no_secrets(run: SeedRun, replica: Replica, *names: str) -> None:
    """The values of these variables appear nowhere: not in the output, not in any report file."""
    __tracebackhide__ = True
    written = run.result.output + run.result.files_text()
    for name in names:
        assert replica.env[name] not in written, f"the value of {name} leaked into the output or reports"


def run_in_state(
    replica: Replica, run_seed: SeedRunner, state: str, *args: str, env: dict[str, str] | None = None
) -> SeedRun:
    """The replica in `state` (`healthy` or a failure state), its notification receivers cleared (a replica
    with `receivers`), then a run of its target file with `args`."""
    replica.enter(state)
    replica.receivers.clear()
    return run_seed(replica, *args, env=env)


def assert_healthy_run(replica: Replica, run_seed: SeedRunner, routed: set[tuple[str, str]]) -> SeedRun:
    """Healthy, every tier: every check of the target file passes, and exactly `routed` (route, channel)
    pairs get a message."""
    __tracebackhide__ = True
    run = run_in_state(replica, run_seed, "healthy")
    assert_all_pass(run, check_ids(replica))
    assert run.routed() == routed
    return run


def assert_state_alerts(
    replica: Replica,
    run_seed: SeedRunner,
    state: str,
    failed: dict[str, list[str]],
    routed: set[tuple[str, str]],
    *args: str,
    env: dict[str, str] | None = None,
) -> SeedRun:
    """In `state`, a run with `args` fails exactly the `failed` checks (each message holding its words), and
    exactly `routed` (route, channel) pairs get a message."""
    __tracebackhide__ = True
    run = run_in_state(replica, run_seed, state, *args, env=env)
    assert_fails_exactly(run, failed)
    assert run.routed() == routed, run.deliveries
    return run
