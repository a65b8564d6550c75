"""Construction Codebook (guide 003): /health and its dependencies over HTTPS, the certificate, the §1.4
alerting rules (critical pages on-call, warnings go to e-mail and Slack), backups with RPO 24 h and the
monthly/quarterly restore measured against RTO 4 h."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backups.s3.motoserver import MotoS3
from tests.seeds.conftest import (
    SeedRunner,
    assert_all_pass,
    assert_fails_exactly,
    assert_healthy_run,
    assert_state_alerts,
    tiers_of,
)
from tests.seeds.replicas.codebook import Codebook

PAGE = ("critical-page-oncall", "pager")
WARN = {("warning-email-slack", "oncall-mail"), ("warning-email-slack", "ops-slack")}


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory, pg_url: str, moto_s3: MotoS3) -> Iterator[Codebook]:
    system = Codebook(tmp_path_factory.mktemp("codebook"), pg_url, moto_s3)
    yield system
    system.stop()


def test_every_tier_of_the_guide_has_checks(replica: Codebook) -> None:
    assert tiers_of(replica) == {"smoke", "daily", "weekly", "monthly", "quarterly", "dr"}


def test_healthy_replica_passes_every_tier(replica: Codebook, run_seed: SeedRunner) -> None:
    assert_healthy_run(replica, run_seed, set())


# state -> ({failed check: words}, {(route, channel)})
FAILURES = {
    "database_down": (
        {
            "http:health": ['checks.database: expected "healthy", got "unhealthy"', "503"],
            "postgres:main": ["refused"],
            "postgres:workload": ["refused"],
            "postgres:workload/job-queue-depth": ["refused"],
            "postgres:workload/token-quota-share": ["refused"],
        },
        {PAGE, *WARN},
    ),
    "pinecone_down": ({"http:health": ['checks.pinecone: expected "healthy", got "unhealthy"']}, {PAGE}),
    "llm_api_errors": (
        {
            "http:health": ["checks.llm_service"],
            "metrics:api-warning/llm-error-rate": ["llm-error-rate", "expected <= 0.1, got 0.2"],
            "logs:errors": ["LLM service unavailable"],
        },
        {PAGE, *WARN},
    ),
    "high_error_rate": (
        {
            "metrics:api-critical/error-rate": ["error-rate", "expected <= 0.05, got 0.06"],
            "metrics:api-warning/error-rate": ["error-rate", "expected <= 0.02, got 0.06"],
        },
        {PAGE, *WARN},
    ),
    "job_queue_backlog": (
        {"postgres:workload/job-queue-depth": ["job-queue-depth", "expected <= 100, got 162"]},
        WARN,
    ),
    "token_quota_near": (
        {"postgres:workload/token-quota-share": ["token-quota-share", "expected <= 0.8, got 0.92"]},
        WARN,
    ),
    "certificate_expiring": ({"tls:api-cert": ["expected at least 30 days"]}, WARN),
    "stale_backup": ({"backups:database": ["at most 24h old (max_age, the RPO gate)"]}, {PAGE}),
    "broken_backup": ({"backups:database": ["backup-"]}, {PAGE}),
}


@pytest.mark.parametrize("state", list(FAILURES))
def test_failure_state_fails_exactly_its_checks_and_pages_or_warns(
    replica: Codebook, run_seed: SeedRunner, state: str
) -> None:
    failed, routed = FAILURES[state]
    assert_state_alerts(
        replica, run_seed, state, failed, routed, "-m", "not dr and not monthly and not quarterly"
    )
    paged, warned = PAGE in routed, bool(WARN & routed)
    assert sorted(replica.receivers.hooks_called()) == ["pager"] * paged + ["slack"] * warned
    assert replica.receivers.mail_to() == ["oncall@codebook.test"] * warned


def test_disk_under_ten_percent_free_is_critical(replica: Codebook, run_seed: SeedRunner) -> None:
    failed = {"host:disk:/": ["expected at most 1%"]}
    assert_state_alerts(
        replica, run_seed, "healthy", failed, {PAGE}, "-m", "daily", env={"DISK_MAX_USED_PCT": "1"}
    )


def test_monthly_restore_is_measured_against_rto(replica: Codebook, run_seed: SeedRunner) -> None:
    replica.enter("healthy")
    run = run_seed(replica, "-m", "monthly")
    assert_all_pass(run, {"restore:database"})


def test_broken_backup_fails_the_quarterly_drill(replica: Codebook, run_seed: SeedRunner) -> None:
    replica.enter("broken_backup")
    run = run_seed(replica, "-m", "quarterly")
    assert_fails_exactly(run, {"restore:database": ["backup-"]})
