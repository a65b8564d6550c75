"""`opsverify import compose|prometheus-rules|k8s|gatus` on the tests' files: what each becomes, that the
result validates with its .env.example, that it is deterministic, and that bad input exits 2/4 clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from opsverify.kinds import KINDS
from tests.importers.conftest import FILES, env_example, load_with_env_example, run_cli


def imported(tmp_path: Path, source: str, *files: str) -> tuple[dict, str, Path]:  # type: ignore[type-arg]
    output = tmp_path / "out" / "t.yaml"
    assert run_cli("import", source, *[str(FILES / f) for f in files], "-o", str(output)) == 0
    text = output.read_text()
    load_with_env_example(output)  # validates with the variables it introduced
    return yaml.safe_load(text), text, output


def test_compose(tmp_path: Path) -> None:
    target, text, output = imported(tmp_path, "compose", "docker-compose.yml")
    assert target["env_file"] == "t.env"
    assert target["http"]["api"]["url"] == "${API_URL}/healthz"
    assert target["http"]["web"]["url"] == "${WEB_URL}/"
    assert target["http"]["api"]["description"].startswith("service api: docker-compose.yml:10: test:")
    assert target["postgres"]["db"]["url"] == (
        "postgresql://${POSTGRES_USER}:${POSTGRES_PASSWORD}@${DB_HOST}:${DB_PORT}/${POSTGRES_DB}"
    )
    assert target["redis"]["cache"]["url"] == "redis://${CACHE_HOST}:${CACHE_PORT}/0"
    env = env_example(output).read_text()
    assert "API_URL=http://127.0.0.1:8080\n" in env  # the published host port, not the container's
    assert "WEB_URL=http://127.0.0.1:8081\n" in env
    assert "DB_PORT=15432\n" in env
    assert "CACHE_PORT=16379\n" in env
    assert "POSTGRES_PASSWORD=change-me\n" in env  # never a literal secret
    worker = target["command"]["worker-healthcheck"]  # a healthcheck that runs a command: in its container
    assert worker["run"] == ["python", "-m", "worker.healthcheck"]
    assert worker["via"] == "docker://compose/${COMPOSE_PROJECT}/worker"
    assert "COMPOSE_PROJECT=shop\n" in env
    assert "mysql" not in target  # legacy-db publishes no port: never 127.0.0.1:3306
    assert target["command"]["legacy-db-ping"]["via"] == "docker://compose/${COMPOSE_PROJECT}/legacy-db"
    assert "service legacy-db publishes no port" in text
    assert "tcp" not in target  # every published port has its http, postgres or redis entry
    assert target["docker"]["shop"]["project"] == "shop"


def test_prometheus_rules(tmp_path: Path) -> None:
    target, text, _ = imported(tmp_path, "prometheus-rules", "alerts.yml")
    availability = target["prometheus"]["availability"]
    assert availability["url"] == "${PROMETHEUS_URL}"
    assert availability["rules"]["PostgresDown"] == {
        "expr": 'up{job="postgres"} == 0',
        "alert": True,
        "description": "alerts.yml:5: alert: PostgresDown",
        "severity": "critical",
        "summary": "PostgreSQL is unreachable",
        "for": "2m",
    }
    assert list(target["prometheus"]["latency"]["rules"]) == ["HighLatency", "HighLatency-2"]
    assert "recording rule job:http_requests:rate5m: it records a series, it does not alert" in text


def test_k8s(tmp_path: Path) -> None:
    target, text, _ = imported(tmp_path, "k8s", "k8s.yaml")
    assert target["http"]["api-liveness"]["url"] == "${API_URL}/healthz"
    assert target["http"]["api-readiness"]["headers"] == {"X-Probe": "kubelet"}
    assert "startupProbe exec `cat /tmp/started`: a command run inside the container" in text
    if "tcp" in KINDS:
        assert target["tcp"]["db-readiness"]["port"] == 5432
    else:
        assert "db readinessProbe tcpSocket: needs the tcp kind" in text


def test_gatus(tmp_path: Path) -> None:
    target, text, _ = imported(tmp_path, "gatus", "gatus.yaml")
    expect = target["http"]["api-health"]["expect"]
    assert expect["status"] == 200
    assert expect["max_latency_ms"] == 500
    assert expect["conditions"] == [
        "status == 'UP'",
        "checks.db == 'healthy'",
        "length(workers) > `0`",
        "matches(to_string(version), '^1\\..*$$')",  # a literal $ is written $$ in a target file
        "env == 'prod' || env == 'production'",
    ]
    assert target["tls"]["api-health-cert"]["min_days_left"] == 30
    assert target["tls"]["cert"] == {
        "description": "gatus.yaml:20: url: tls://example.com:443",
        "host": "example.com",
        "port": 443,
        "min_days_left": 2,
    }
    assert "condition `[DOMAIN_EXPIRATION] > 720h`: [DOMAIN_EXPIRATION] is not translated" in text
    assert "endpoint dns: '8.8.8.8' is not an http(s)/tcp/tls endpoint" in text


@pytest.mark.parametrize(
    ("source", "file"),
    [
        ("compose", "docker-compose.yml"),
        ("prometheus-rules", "alerts.yml"),
        ("k8s", "k8s.yaml"),
        ("gatus", "gatus.yaml"),
    ],
)
def test_the_same_input_gives_the_same_output(tmp_path: Path, source: str, file: str) -> None:
    first = imported(tmp_path / "a", source, file)
    second = imported(tmp_path / "b", source, file)
    assert first[1] == second[1]
    assert env_example(first[2]).read_text() == env_example(second[2]).read_text()


@pytest.mark.parametrize(
    ("source", "content", "message"),
    [
        ("compose", "services: [", "not valid YAML"),
        ("compose", "version: '3'\n", "not a compose file: expected a YAML mapping with `services:`"),
        ("prometheus-rules", "scrape_configs: []\n", "not a Prometheus rules file"),
        ("prometheus-rules", "groups: [{name: a, rules: [{record: x, expr: up}]}]\n", "no alerting rules"),
        ("k8s", "kind: Service\nmetadata: {name: a}\n", "no Deployment, StatefulSet or DaemonSet found"),
        ("gatus", "endpoints: {a: 1}\n", "not a Gatus config"),
    ],
)
def test_bad_input_exits_4_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, content: str, message: str
) -> None:
    bad = tmp_path / "input.yml"
    bad.write_text(content)
    assert run_cli("import", source, str(bad), "-o", str(tmp_path / "t.yaml")) == 4
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}")
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "t.yaml").exists()


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("import", "compose", str(tmp_path / "nope.yml")) == 2
    assert "nope.yml: no such file" in capsys.readouterr().err


def test_compose_env_file_fills_examples_but_never_secrets(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  db:\n    image: postgres:16\n    ports: ['5433:5432']\n"
        "    environment: {POSTGRES_USER: '${DB_USER:-app}', POSTGRES_DB: '${DB_NAME}', "
        "POSTGRES_PASSWORD: '${DB_PASSWORD}'}\n"
    )
    env_file = tmp_path / ".env"
    env_file.write_text("DB_NAME=orders\nDB_PASSWORD=hunter2-canary\n")
    output = tmp_path / "out" / "t.yaml"
    assert run_cli("import", "compose", str(compose), "--env-file", str(env_file), "-o", str(output)) == 0
    env = env_example(output).read_text()
    assert "POSTGRES_USER=app\n" in env  # the ${VAR:-default}
    assert "POSTGRES_DB=orders\n" in env  # from --env-file
    assert "DB_PORT=5433\n" in env
    assert "hunter2-canary" not in env + output.read_text()
    load_with_env_example(output)
