"""`opsverify import compose` on the compose files written for it (tests/importers/compose_corpus/, in the shapes
public stacks use): each validates with its .env.example, none reaches a service at a guessed address, secrets
never leave the source, healthchecks become command checks in their containers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.importers.conftest import env_example, load_with_env_example, run_cli

CORPUS = Path(__file__).parent / "compose_corpus"
FILES = sorted(path.name for path in CORPUS.glob("*.yml"))
CANARIES = ("canary-compose-secret", "canary-docs-secret")


def imported(tmp_path: Path, compose: Path) -> tuple[dict[str, Any], Path]:
    output = tmp_path / "targets" / f"{compose.stem}.yaml"
    assert run_cli("import", "compose", str(compose), "-o", str(output)) == 0
    load_with_env_example(output)
    return yaml.safe_load(output.read_text(encoding="utf-8")), output


def published(compose: Path) -> set[tuple[str, int]]:
    """(address, host port) of every published port, read independently of the importer: the bound address,
    loopback for all interfaces; `${VAR:-8080}` by its default."""
    found: set[tuple[str, int]] = set()
    services = yaml.safe_load(compose.read_text(encoding="utf-8"))["services"]
    for config in services.values():
        for item in config.get("ports") or []:
            if isinstance(item, dict):
                found.add((item.get("host_ip") or "127.0.0.1", int(item["published"])))
                continue
            text = re.sub(r"\$\{\w+:-(\d+)\}", r"\1", str(item).split("/")[0])
            parts = re.findall(r"\[[^\]]+\]|[^:]+", text)
            if len(parts) >= 2:
                address = parts[0].strip("[]") if len(parts) == 3 else "127.0.0.1"
                found.add(("127.0.0.1" if address == "0.0.0.0" else address, int(parts[-2])))
    return found


def addresses(target: dict[str, Any], env: dict[str, str]) -> set[tuple[str, int]]:
    """(address, port) of every URL and tcp entry of a target, its ${VAR} filled from the .env.example."""
    text = yaml.safe_dump(_without_descriptions(target))
    filled = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), text)
    found = {
        (m.group(1).strip("[]"), int(m.group(2)))
        for m in re.finditer(r"://(?:[^@/\s]*@)?(\[[^\]]+\]|[\w.-]+):(\d+)", filled)
    }
    found |= {(str(e["host"]), int(e["port"])) for e in (target.get("tcp") or {}).values()}
    return found


def _without_descriptions(value: Any) -> Any:
    """What a check reaches from the runner: no quoted source line, no command run inside a container."""
    if isinstance(value, dict):
        inside = str(value.get("via", "")).startswith("docker://")
        return {
            k: _without_descriptions(v)
            for k, v in value.items()
            if k != "description" and not (inside and k == "run")
        }
    return [_without_descriptions(v) for v in value] if isinstance(value, list) else value


def read_example(output: Path) -> dict[str, str]:
    lines = env_example(output).read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_compose_corpus_has_at_least_15_files() -> None:
    assert len(FILES) >= 15


@pytest.mark.parametrize("name", FILES)
def test_no_compose_file_imports_to_a_guessed_address(tmp_path: Path, name: str) -> None:
    target, output = imported(tmp_path, CORPUS / name)
    env = read_example(output)
    for address, port in addresses(target, env):
        if address in ("127.0.0.1", "localhost", "::1", "0.0.0.0") or address.startswith("10."):
            assert (address, port) in published(CORPUS / name), (address, port)
    written = output.read_text(encoding="utf-8") + env_example(output).read_text(encoding="utf-8")
    assert not any(canary in written for canary in CANARIES)


def test_a_service_without_a_published_port_is_checked_in_its_container(tmp_path: Path) -> None:
    target, output = imported(tmp_path, CORPUS / "blog.yml")
    assert "mysql" not in target  # MySQL publishes no port: no URL at all
    ping = target["command"]["db-ping"]
    assert ping["via"] == "docker://compose/${COMPOSE_PROJECT}/db"
    assert "mysqladmin ping" in " ".join(ping["run"])
    assert "service db publishes no port" in output.read_text(encoding="utf-8")
    assert read_example(output)["COMPOSE_PROJECT"] == "compose_corpus"


def test_a_port_bound_to_one_address_keeps_it(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  web:\n    image: nginx\n    ports: ['10.0.0.5:8080:80', '127.0.0.1:9443:443']\n"
        "    healthcheck: {test: 'curl -f http://localhost/healthz'}\n"
    )
    target, output = imported(tmp_path, compose)
    assert target["http"]["web"]["url"] == "${WEB_URL}/healthz"
    assert read_example(output)["WEB_URL"] == "http://10.0.0.5:8080"
    assert target["tcp"]["web-443"] == {
        "description": "service web: compose.yaml:4: ports: 9443:443",
        "host": "127.0.0.1",
        "port": 9443,
    }


def test_a_healthcheck_command_runs_in_the_service_container(tmp_path: Path) -> None:
    target, _ = imported(tmp_path, CORPUS / "queue.yml")
    rabbit = target["command"]["rabbitmq-healthcheck"]
    assert rabbit["run"] == "rabbitmq-diagnostics -q ping"
    assert rabbit["shell"] is True
    assert rabbit["via"] == "docker://compose/${COMPOSE_PROJECT}/rabbitmq"
    assert rabbit["timeout"] == "30s"  # the healthcheck's own timeout
    assert "expect" not in rabbit  # exit code 0, the default
    worker = target["command"]["worker-healthcheck"]
    assert worker["run"] == ["python", "-c", "import sys; sys.exit(0)"]
    assert worker["timeout"] == "10s"
    githost, _ = imported(tmp_path / "g", CORPUS / "githost.yml")
    assert githost["http"]["server"]["url"] == "${SERVER_URL}/api/healthz"
    assert githost["command"]["db-ping"]["via"] == "docker://compose/${COMPOSE_PROJECT}/db"


def test_a_container_name_is_used_as_it_is(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  w:\n    image: x\n    container_name: my-worker\n    healthcheck: {test: [CMD, true]}\n"
    )
    target, _ = imported(tmp_path, compose)
    assert target["command"]["w-healthcheck"]["via"] == "docker://my-worker"


def test_compose_variables_give_the_env_example(tmp_path: Path) -> None:
    _, output = imported(tmp_path, CORPUS / "automation.yml")
    env = read_example(output)
    assert env["WEBHOOK_URL"] == "https://automation.example.com/"  # ${VAR:-default}
    assert env["TZ"] == "Europe/Berlin"
    assert env["POSTGRES_PASSWORD"] == "change-me"  # a secret never gets a value
    assert env["POSTGRES_USER"] == "automation"
    _, output = imported(tmp_path / "d", CORPUS / "documents.yml")
    env = read_example(output)
    assert env["DOCS_TIME_ZONE"] == "Europe/Vienna"  # from the service's env_file
    assert env["DOCS_SECRET_KEY"] == "change-me"
    _, output = imported(tmp_path / "c", CORPUS / "chat.yml")
    assert read_example(output)["POSTGRES_PASSWORD"] == "change-me"  # `environment: [POSTGRES_PASSWORD]`


def test_compose_dollar_escapes_stay_the_container_shells(tmp_path: Path) -> None:
    target, output = imported(tmp_path, CORPUS / "analytics.yml")
    loaded = load_with_env_example(output)
    assert target["command"]["db-healthcheck"]["run"] == "pg_isready -U $${POSTGRES_USER} -d $${POSTGRES_DB}"
    command = loaded.model.command["db-healthcheck"]  # type: ignore[attr-defined]
    assert command.run == "pg_isready -U ${POSTGRES_USER} -d ${POSTGRES_DB}"
