"""BIMCalc (guide 000): database, logs, the 2 AM backup and its restore, and the guide's three alert
triggers routed as it says: ingestion failure -> e-mail + Slack, high-risk item -> Slack, checklist
complete -> e-mail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.docker_engine import DockerEngine
from tests.seeds.conftest import (
    SeedRunner,
    assert_fails_exactly,
    assert_healthy_run,
    assert_no_secrets,
    assert_state_alerts,
    tiers_of,
)
from tests.seeds.replicas.bimcalc import BIMCalc

CHECKLIST_MAIL = ("checklist-complete", "admin-mail")


@pytest.fixture(scope="module")
def replica(
    tmp_path_factory: pytest.TempPathFactory, pg_url: str, docker_engine: DockerEngine
) -> Iterator[BIMCalc]:
    system = BIMCalc(tmp_path_factory.mktemp("bimcalc"), pg_url, docker_engine)
    yield system
    system.stop()


def test_every_tier_of_the_guide_has_checks(replica: BIMCalc) -> None:
    assert tiers_of(replica) == {"smoke", "daily", "dr"}


def test_healthy_replica_passes_every_tier_and_mails_the_completed_checklist(
    replica: BIMCalc, run_seed: SeedRunner
) -> None:
    assert_healthy_run(replica, run_seed, {CHECKLIST_MAIL})
    assert replica.receivers.mail_to() == ["admin@bimcalc.test"]
    assert replica.receivers.hooks_called() == []


# state -> ({failed check: words in its message}, {(route, channel) notified})
FAILURES = {
    "database_down": (
        {
            "postgres:db": ["refused"],
            "postgres:high-risk-items": ["refused"],
            "postgres:high-risk-items/high-risk": ["refused"],
        },
        {("high-risk-item", "ops-slack"), CHECKLIST_MAIL},
    ),
    "ingestion_failed": (
        {
            "logs:web-errors": ["1 line of level ERROR", "schedule_rev7.csv"],
            "logs:ingestion-failures": ["Permission denied: '/tmp/bimcalc-upload-7f3a.csv'"],
        },
        # one message per channel per run: the failure and the checklist reach admin-mail as one mail
        {("ingestion-failure + checklist-complete", "admin-mail"), ("ingestion-failure", "ops-slack")},
    ),
    "high_risk_item": (
        {"postgres:high-risk-items/high-risk": ["query high-risk: expected <= 0, got 1"]},
        {("high-risk-item", "ops-slack"), CHECKLIST_MAIL},
    ),
    "alerts_not_sent": (
        {
            "logs:web-errors": ["2 lines of level ERROR"],
            "logs:alert-delivery": ["Failed to send email", "Slack notification failed"],
        },
        {CHECKLIST_MAIL},
    ),
    "backup_failed": (
        {
            "backups:db": ["at most 26h old (max_age"],
            "logs:backup-log": ["pg_dump: error: connection to server failed"],
        },
        {CHECKLIST_MAIL},
    ),
    "broken_backup": ({"backups:db": ["bimcalc_backup_"]}, {CHECKLIST_MAIL}),
    "web_container_down": ({"docker:stack": ["-web-1: expected running, got exited"]}, {CHECKLIST_MAIL}),
}


@pytest.mark.parametrize("state", list(FAILURES))
def test_failure_state_fails_exactly_its_checks_and_alerts_as_the_guide_says(
    replica: BIMCalc, run_seed: SeedRunner, state: str
) -> None:
    failed, routed = FAILURES[state]
    run = assert_state_alerts(replica, run_seed, state, failed, routed, "-m", "not dr")
    assert_no_secrets(run, replica, "SMTP_PASSWORD", "SLACK_WEBHOOK_URL")
    slack = [route for route, channel in routed if channel == "ops-slack"]
    assert replica.receivers.hooks_called() == ["slack"] * len(slack)
    assert sorted(replica.receivers.mail_to()) == ["admin@bimcalc.test"] * (len(routed) - len(slack))


def test_broken_backup_fails_the_restore_drill(replica: BIMCalc, run_seed: SeedRunner) -> None:
    replica.enter("broken_backup")
    run = run_seed(replica, "-m", "dr")
    assert_fails_exactly(run, {"restore:db": ["bimcalc_backup_"]})
