"""EmailOps (guide 002): the SQLite index, JSON logs with `ts`, the machine's memory and disk, monthly
backups (tar + sqlite3 .backup), log rotation, the quarterly DR drill — failures mailed to support."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.docker_engine import DockerEngine
from tests.seeds.conftest import (
    SeedRunner,
    assert_all_pass,
    assert_fails_exactly,
    assert_healthy_run,
    assert_state_alerts,
    check_ids,
    tiers_of,
)
from tests.seeds.replicas.emailops import EmailOps

SUPPORT = ("alerting-rules", "support-mail")


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory, docker_engine: DockerEngine) -> Iterator[EmailOps]:
    system = EmailOps(tmp_path_factory.mktemp("emailops"), docker_engine)
    yield system
    system.stop()


def test_every_tier_of_the_guide_has_checks(replica: EmailOps) -> None:
    assert tiers_of(replica) == {"smoke", "daily", "weekly", "monthly", "quarterly", "dr"}


def test_healthy_replica_passes_every_tier_and_mails_nobody(replica: EmailOps, run_seed: SeedRunner) -> None:
    assert_healthy_run(replica, run_seed, set())
    assert replica.receivers.mail_to() == []


def test_quarterly_drill_restores_both_backups(replica: EmailOps, run_seed: SeedRunner) -> None:
    replica.enter("healthy")
    run = run_seed(replica, "-m", "quarterly")
    assert_all_pass(run, {"restore:index-backup", "restore:data-archive"})


FAILURES = {
    "application_errors": {
        "logs:app-errors": ["4 lines of level ERROR", "LLM request failed"],
        "logs:startup-errors": ["4 lines of level ERROR"],
    },
    "corrupted_index": {"backups:index-integrity": ["emailops.db"]},
    "stale_backup": {
        "backups:index-backup": ["at most 32d old (max_age"],
        "backups:data-archive": ["at most 32d old (max_age"],
    },
    "broken_backup": {"backups:index-backup": ["emailops-backup.db"]},
    "old_logs_kept": {"backups:log-rotation": ["retention.max_age", "not being pruned"]},
}


@pytest.mark.parametrize("state", list(FAILURES))
def test_failure_state_fails_exactly_its_checks_and_mails_support(
    replica: EmailOps, run_seed: SeedRunner, state: str
) -> None:
    assert_state_alerts(
        replica, run_seed, state, FAILURES[state], {SUPPORT}, "-m", "not dr and not quarterly"
    )
    (mail,) = replica.receivers.mailbox.messages
    assert mail["To"] == "support@emailops.test"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    for check in FAILURES[state]:
        assert check.split(":", 1)[1] in body.get_content()


@pytest.mark.parametrize(
    ("variable", "check"), [("DISK_MAX_USED_PCT", "host:disk:/"), ("MEMORY_MAX_USED_PCT", "host:memory")]
)
def test_resource_alert_rules(replica: EmailOps, run_seed: SeedRunner, variable: str, check: str) -> None:
    """Disk > 85 % and memory > 90 % come from ${VAR:-default}: at 1 %, this machine is over them."""
    replica.enter("healthy")
    run = run_seed(replica, "-m", "daily", env={variable: "1"})
    assert_fails_exactly(run, {check: ["expected at most 1%"]})


def test_container_unhealthy_for_more_than_the_alert_rule(replica: EmailOps, run_seed: SeedRunner) -> None:
    """ "Container unhealthy for > 5 minutes": a few seconds of unhealthy are tolerated; past the limit
    (here shortened to 1 ms with its ${VAR}) docker:stack fails and support is mailed."""
    replica.enter("container_unhealthy")
    assert_all_pass(run_seed(replica, "-m", "smoke"), check_ids(replica, "smoke"))
    replica.receivers.clear()
    run = run_seed(replica, "-m", "smoke", env={"CONTAINER_UNHEALTHY_MAX": "1ms"})
    assert_fails_exactly(
        run, {"docker:stack": ["-app-1: expected healthy, or unhealthy for at most", "health check failed"]}
    )
    assert run.routed() == {SUPPORT}


def test_container_memory_alert_rule(replica: EmailOps, run_seed: SeedRunner) -> None:
    """ "Memory usage > 90%" per container: at 0.0001 % of its limit the app container is over it."""
    replica.enter("healthy")
    run = run_seed(replica, "-m", "smoke", env={"CONTAINER_MEMORY_MAX_PCT": "0.0001"})
    assert_fails_exactly(run, {"docker:stack": ["memory: expected at most 0.0001%"]})


def test_broken_backup_fails_the_dr_drill(replica: EmailOps, run_seed: SeedRunner) -> None:
    replica.enter("broken_backup")
    run = run_seed(replica, "-m", "dr")
    assert_fails_exactly(run, {"restore:index-backup": ["emailops-backup.db"]})
