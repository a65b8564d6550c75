"""Dried Fruits Inventory (guide 004): every daily checklist item, the guide's Prometheus alert rules
against a real Prometheus, and each troubleshooting state failing exactly the checks that catch it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.seeds.conftest import (
    SeedRunner,
    assert_all_pass,
    assert_fails_exactly,
    check_ids,
    severities,
    tiers_of,
)
from tests.seeds.replicas.driedfruits import DriedFruits


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory, pg_url: str, redis_url: str) -> Iterator[DriedFruits]:
    system = DriedFruits(tmp_path_factory.mktemp("driedfruits"), pg_url, redis_url)
    yield system
    system.stop()


def test_every_tier_of_the_guide_has_checks(replica: DriedFruits) -> None:
    assert tiers_of(replica) == {"smoke", "daily", "monthly", "dr"}


def test_healthy_replica_passes_every_tier(replica: DriedFruits, run_seed: SeedRunner) -> None:
    replica.enter("healthy")
    assert_all_pass(run_seed(replica), check_ids(replica))


FAILURES = {
    "database_down": {
        "http:health-database": ["503", "/api/v1/health/database"],
        "postgres:main": ["refused"],
        "postgres:main/active-connections": ["refused"],
        "prometheus:critical-alerts/database-connection-failed": [
            "database-connection-failed",
            'job="postgres"',
        ],
    },
    "redis_down": {"http:health-redis": ["503"], "redis:cache": ["refused"]},
    "high_cpu": {
        "prometheus:warning-alerts/high-cpu-usage": ["high-cpu-usage"],
        "prometheus:key-metrics/cpu-pct": ["cpu-pct: expected <= 70, got 9"],
        "prometheus:capacity/cpu-week": ["cpu-week"],
    },
    "memory_leak": {
        "prometheus:warning-alerts/high-memory-usage": ["high-memory-usage"],
        "prometheus:key-metrics/memory-pct": ["memory-pct: expected <= 80, got 91"],
        "prometheus:capacity/memory-week": ["memory-week"],
    },
    "slow_responses": {
        "prometheus:warning-alerts/high-response-time": ["high-response-time"],
        "prometheus:key-metrics/p95-seconds": ["p95-seconds", "expected <= 0.5"],
    },
    "high_error_rate": {
        "prometheus:key-metrics/error-ratio": ["error-ratio", "expected <= 0.01, got 0.05"],
        "logs:api-errors": ["3 lines", "QueuePool limit"],
    },
    "low_stock": {"prometheus:inventory/low-stock-alerts": ["low-stock-alerts", "expected <= 0, got 1"]},
    "failed_logins": {"logs:failed-logins": ["43 lines", "expected at most 20", "admin@example.com"]},
    "certificate_expiring": {"tls:nginx-cert": ["30"]},
    "backup_missed": {
        "backups:database": ["at most 26h old (max_age"],
        "backups:uploads": ["at most 26h old (max_age"],
    },
    "broken_backup": {"backups:database": ["db_backup_"]},
    "old_backups_not_cleaned": {
        "backups:database": ["retention.max_age", "not being pruned"],
        "backups:uploads": ["retention.max_age"],
    },
}


@pytest.mark.parametrize("state", list(FAILURES))
def test_failure_state_fails_exactly_its_checks(
    replica: DriedFruits, run_seed: SeedRunner, state: str
) -> None:
    replica.enter(state)
    replica.receivers.clear()
    run = run_seed(replica, "-m", "not dr")
    assert_fails_exactly(run, FAILURES[state])
    # critical alerts to the on-call webhook, warnings to the ops mailbox
    levels = {severities(replica)[check] for check in FAILURES[state]}
    expected = {("critical", "oncall")} if "critical" in levels else set()
    expected |= {("warning", "ops-mail")} if "normal" in levels else set()
    assert run.routed() == expected, run.deliveries
    assert replica.receivers.hooks_called() == ["oncall"] * ("critical" in levels)
    assert replica.receivers.mail_to() == ["ops@driedfruits.test"] * ("normal" in levels)


def test_disk_over_threshold(replica: DriedFruits, run_seed: SeedRunner) -> None:
    """Disk Usage < 85 % comes from ${DISK_MAX_USED_PCT:-85}: at 1 %, any real disk is over it."""
    replica.enter("healthy")
    run = run_seed(replica, "-m", "daily", env={"DISK_MAX_USED_PCT": "1"})
    assert_fails_exactly(run, {"host:disk:/": ["expected at most 1%"]})


def test_broken_backup_fails_the_restore_drill(replica: DriedFruits, run_seed: SeedRunner) -> None:
    replica.enter("broken_backup")
    run = run_seed(replica, "-m", "dr")
    assert_fails_exactly(run, {"restore:database": ["db_backup_"]})
