"""The shared store on a real PostgreSQL: several runners, concurrent runs, a newer schema, an outage."""

from __future__ import annotations

import psycopg
import pytest

from opsverify.state.store import SCHEMA_VERSION, StateError, open_store
from tests.conftest import refused_port
from tests.notify.e2e import Service, target_yaml
from tests.state.conftest import finish, start_run
from tests.state.test_store import increment_concurrently

ROUTES = (
    "  routes:\n"
    "    - {match: {tiers: [smoke], status: failed}, to: [ops-slack]}\n"
    "  policy: {send_on_resolved: true}\n"
)


@pytest.fixture
def service(http_server) -> Service:
    return Service(http_server).install()


def test_two_runners_sharing_one_state_url_alert_once_and_resolve_once(
    service, state_pg_url, tmp_path
) -> None:
    target = tmp_path / "target.yaml"
    target.write_text(target_yaml(service.server.url, ROUTES) + f"state: {{url: '{state_pg_url}'}}\n")
    sent = []
    for runner, healthy in (("a", False), ("b", False), ("b", True), ("a", True)):
        service.healthy = healthy
        service.clear()
        code, output = finish(start_run(tmp_path / runner, target, "-m", "smoke"))
        assert code == (0 if healthy else 1), output
        sent.append([m["text"] for m in service.slack_messages()])
    assert sent == [
        ["[FAILED] shop-prod smoke: 1 of 2 checks failed"],
        [],  # the other runner knows it was sent
        ["[RESOLVED] shop-prod smoke: 1 check recovered, all 2 checks pass"],
        [],
    ]
    with psycopg.connect(state_pg_url) as db:
        runs = db.execute("select count(distinct run_id) from opsverify.results").fetchone()
    assert runs == (4,)


def test_concurrent_runs_send_one_message(service, state_pg_url, tmp_path) -> None:
    target = tmp_path / "target.yaml"
    target.write_text(target_yaml(service.server.url, ROUTES))
    env = {"OPSVERIFY_STATE_URL": state_pg_url}
    running = [start_run(tmp_path / f"runner-{i}", target, "-m", "smoke", env=env) for i in range(3)]
    assert [finish(p)[0] for p in running] == [1, 1, 1]
    assert [m["text"] for m in service.slack_messages()] == ["[FAILED] shop-prod smoke: 1 of 2 checks failed"]


def test_concurrent_processes_never_lose_an_update_postgres(state_pg_url, tmp_path) -> None:
    assert increment_concurrently(state_pg_url, tmp_path) == 60


def test_a_newer_schema_is_refused(state_pg_url, tmp_path) -> None:
    open_store(state_pg_url, tmp_path)
    with psycopg.connect(state_pg_url) as db:
        db.execute(
            "update opsverify.meta set value = %s where key = 'schema_version'", (str(SCHEMA_VERSION + 7),)
        )
    with pytest.raises(StateError, match=rf"schema version {SCHEMA_VERSION + 7}.*upgrade opsverify"):
        open_store(state_pg_url, tmp_path)


def test_unreachable_store_still_checks_and_sends_and_says_so(service, run_checks) -> None:
    url = f"postgresql://ops:store-pass-8d1c@127.0.0.1:{refused_port()}/ops"
    text = target_yaml(service.server.url, ROUTES) + f"state: {{url: '{url}'}}\n"
    for _ in range(2):
        service.clear()
        run = run_checks(text, "-m", "smoke")
        assert run.returncode == 1, run.output
        assert "http:api" in run.output
        assert len(service.slack_messages()) == 1  # without state every failure is sent again
        assert "cannot reach the state store" in run.output
        assert "notifications were sent without state" in run.output
        assert "store-pass-8d1c" not in run.output + run.files_text()


def test_a_state_url_that_is_not_postgresql_is_a_config_error(run_checks) -> None:
    run = run_checks("target: t\nhttp:\n  a: {url: 'http://127.0.0.1:9/'}\nstate: {url: 'mysql://db/ops'}\n")
    assert run.returncode == 4, run.output
    assert "state.url" in run.output
    assert "postgresql://" in run.output
