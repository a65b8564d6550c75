"""Shopfront (the MySQL seed system): an app on MariaDB with cron'd mysqldump backups. Healthy, every tier
passes and the drill restores last night's dump; each failure state (stale, truncated, schema-only, wrong
database, server down) fails exactly its checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.seeds.conftest import (
    SeedRunner,
    assert_all_pass,
    assert_fails_exactly,
    assert_no_secrets,
    check_ids,
)
from tests.seeds.replicas.shopfront import Shopfront


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory, mysql_url: str) -> Iterator[Shopfront]:
    system = Shopfront(tmp_path_factory.mktemp("shopfront"), mysql_url)
    yield system
    system.stop()


def test_healthy_replica_passes_every_tier(replica: Shopfront, run_seed: SeedRunner) -> None:
    replica.enter("healthy")
    run = run_seed(replica)
    assert_all_pass(run, check_ids(replica))
    assert "restore:db" in run.passed
    assert_no_secrets(run, replica, "DB_PASSWORD")


FAILURES = {
    "stale_backup": {"backups:db": ["at most 26h old (max_age"]},
    "truncated_backup": {"backups:db": ["gzip stream is truncated"]},
    "schema_only_backup": {"backups:db": ["schema-only dump", "mysqldump --no-data"]},
    "wrong_database": {"backups:db": ["a dump of another database: seed_blog_"]},
    "server_down": {
        "http:health": ["503"],
        "mysql:shop": ["connection refused"],
        "mysql:shop/pending-orders": ["connection refused"],
        "mysql:shop/products": ["connection refused"],
    },
}


@pytest.mark.parametrize("state", list(FAILURES))
def test_failure_state_fails_exactly_its_checks(replica: Shopfront, run_seed: SeedRunner, state: str) -> None:
    replica.enter(state)
    run = run_seed(replica, "-m", "not dr")
    assert_fails_exactly(run, FAILURES[state])
    assert_no_secrets(run, replica, "DB_PASSWORD")


def test_a_truncated_dump_fails_the_drill_before_any_sandbox(
    replica: Shopfront, run_seed: SeedRunner
) -> None:
    replica.enter("truncated_backup")
    run = run_seed(replica, "-m", "dr")
    assert_fails_exactly(run, {"restore:db": ["gzip stream is truncated"]})
