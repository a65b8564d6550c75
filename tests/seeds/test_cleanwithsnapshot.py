"""CleanWithSnapshot (guide 001): the target file passes on the healthy replica in every tier, and each
troubleshooting state of the guide fails exactly the checks that should catch it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backups.s3.motoserver import MotoS3
from tests.docker_engine import DockerEngine
from tests.seeds.conftest import (
    SeedRunner,
    assert_all_pass,
    assert_fails_exactly,
    assert_no_secrets,
    check_ids,
    tiers_of,
)
from tests.seeds.replicas.cleanwithsnapshot import CleanWithSnapshot


@pytest.fixture(scope="module")
def replica(
    tmp_path_factory: pytest.TempPathFactory,
    pg_url: str,
    redis_url: str,
    docker_engine: DockerEngine,
    moto_s3: MotoS3,
) -> Iterator[CleanWithSnapshot]:
    root = tmp_path_factory.mktemp("cleanwithsnapshot")
    system = CleanWithSnapshot(root, pg_url, redis_url, docker_engine, moto_s3)
    yield system
    system.stop()


def test_every_tier_of_the_guide_has_checks(replica: CleanWithSnapshot) -> None:
    assert tiers_of(replica) == {"smoke", "daily", "weekly", "monthly", "dr"}


def test_healthy_replica_passes_every_tier(replica: CleanWithSnapshot, run_seed: SeedRunner) -> None:
    replica.enter("healthy")
    assert_all_pass(run_seed(replica), check_ids(replica))


def test_smoke_gate_is_the_deploy_step(replica: CleanWithSnapshot, run_seed: SeedRunner) -> None:
    replica.enter("healthy")
    run = run_seed(replica, "-m", "smoke")
    assert_all_pass(run, check_ids(replica, "smoke"))
    assert run.passed == {
        "http:api-health",
        "http:web-root",
        "http:web-health",
        "http:dlq",
        "postgres:main",
        "postgres:main/migration-heads",
        "redis:cache",
        "docker:stack",
    }


# state -> {failed check: words the operator must see in its message}
FAILURES = {
    "migrations_out_of_sync": {
        "http:api-health": ["migrations_current", "0085"],
        "postgres:main": ['expected "0086", got "0085"'],
    },
    "multiple_migration_heads": {
        "http:api-health": ["migrations_current"],
        "postgres:main": ["0086,0086b"],
        "postgres:main/migration-heads": ["query migration-heads: expected <= 1, got 2"],
    },
    "database_down": {
        "http:api-health": ["503", "db_connected"],
        "http:dlq": ["503"],
        "postgres:main": ["refused"],
        "postgres:main/migration-heads": ["refused"],
    },
    "dlq_not_empty": {"http:dlq": ["outbox_dead_count", "expected 0, got 2", "export_dead_count"]},
    "high_error_rate": {
        "metrics:api/error-ratio": ["error-ratio", "0.06"],
        "logs:api-errors": ["3 lines of level ERROR", "psycopg.OperationalError"],
    },
    "slow_queries": {"logs:slow-queries": ["3 lines", "duration: 12042.0 ms"]},
    "stale_backup": {"backups:db-nightly": ["at most 26h old (max_age"]},
    "broken_backup": {"backups:db-nightly": ["backup_"]},
    "container_unhealthy": {
        "docker:stack": ["-api-1: expected healthy, got unhealthy", "health check failed"]
    },
    "container_down": {"docker:stack": ["-redis-1: expected running, got exited"]},
}


@pytest.mark.parametrize("state", list(FAILURES))
def test_failure_state_fails_exactly_its_checks(
    replica: CleanWithSnapshot, run_seed: SeedRunner, state: str
) -> None:
    replica.enter(state)
    run = run_seed(replica, "-m", "not dr")
    assert_fails_exactly(run, FAILURES[state])
    assert_no_secrets(run, replica, "ADMIN_BASIC_PASSWORD", "METRICS_TOKEN")


def test_disk_over_threshold(replica: CleanWithSnapshot, run_seed: SeedRunner) -> None:
    """The threshold is ${DISK_MAX_USED_PCT:-85}: lowered to 1 %, any real disk is over it."""
    replica.enter("healthy")
    run = run_seed(replica, "-m", "daily", env={"DISK_MAX_USED_PCT": "1"})
    assert_fails_exactly(run, {"host:disk:/": ["expected at most 1%"]})


def test_broken_backup_fails_the_restore_drill(replica: CleanWithSnapshot, run_seed: SeedRunner) -> None:
    replica.enter("broken_backup")
    run = run_seed(replica, "-m", "dr")
    assert_fails_exactly(run, {"restore:db-nightly": ["backup_"]})
