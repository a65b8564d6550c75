"""`opsverify import compose docker-compose.yml`: checks from a compose file's services.

Per service: an http check from a healthcheck that runs curl/wget on a URL (on the published host port when
there is one), a tcp check per published port, postgres / redis / mysql entries from their images (or a
`pg_isready` healthcheck), and a docker container-health entry; credentials as `${VAR}` references, never
literal. Kinds this opsverify does not have (tcp, docker, mysql before they land) are listed in the header.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from opsverify.importers.draft import Draft, ImportProblem, quote
from opsverify.importers.source import YamlDocument, load_documents, read_text
from opsverify.kinds import KINDS

_URL = re.compile(r"https?://[^\s'\"|;&)]+")
_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}?")


def optional_kind(draft: Draft, kind: str, name: str, entry: dict[str, Any], source: str) -> None:
    """Add an entry of a kind that may not exist in this opsverify; otherwise say so in the header."""
    if kind in KINDS:
        try:
            KINDS[kind].load_entry_model().model_validate(entry)
        except ValueError:
            draft.skip(f"{source}: a {kind} entry for {name} (this opsverify's {kind} kind takes other keys)")
            return
        draft.add(kind, name, entry)
    else:
        draft.skip(f"{source}: needs the {kind} kind, which this opsverify does not have yet")


def read_env(file: Path | None) -> dict[str, str]:
    if file is None:
        return {}
    values = {}
    for line in read_text(file).splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.removeprefix("export ").partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


def import_compose(file: Path, target: str, env_file: Path | None = None) -> Draft:
    documents = load_documents(file)
    document = documents[0] if len(documents) == 1 else None
    services = document.data.get("services") if document and isinstance(document.data, dict) else None
    if document is None or not isinstance(services, dict) or not services:
        raise ImportProblem(
            f"{file}: not a compose file: expected a YAML mapping with `services:` (each service with "
            "`image:` or `build:`); pass a docker-compose.yml / compose.yaml"
        )
    env = read_env(env_file)
    draft = Draft(target, file.name)
    for service, config in services.items():
        if not isinstance(config, dict):
            raise ImportProblem(
                f"{file}:{document.line(('services', service))}: service {service}: expected a mapping"
            )
        _service(draft, file.name, document, str(service), config, env)
    project = document.data.get("name") or file.resolve().parent.name
    optional_kind(
        draft,
        "docker",
        str(project),
        {
            "description": quote(
                file.name, 1, f"compose project {project}: every container running and healthy"
            ),
            "project": str(project),
        },
        f"{file.name}: container health of project {project}",
    )
    if not draft.entry_count():
        raise ImportProblem(
            f"{file}: no service with a healthcheck, a published port or a known image; nothing to import"
        )
    return draft


def _published(config: dict[str, Any]) -> dict[int, int]:
    """container port -> published host port."""
    result: dict[int, int] = {}
    for item in config.get("ports") or []:
        if isinstance(item, dict):
            if item.get("published") and item.get("target"):
                result[int(item["target"])] = int(str(item["published"]).split("-")[0])
            continue
        text = str(item).split("/")[0]
        parts = text.split(":")
        if len(parts) >= 2 and parts[-1].isdigit() and parts[-2].isdigit():
            result[int(parts[-1])] = int(parts[-2])
    return result


def _environment(config: dict[str, Any]) -> dict[str, str]:
    environment = config.get("environment") or {}
    if isinstance(environment, list):
        return dict(str(item).partition("=")[::2] for item in environment)
    return {str(k): "" if v is None else str(v) for k, v in environment.items()}


def _healthcheck_text(config: dict[str, Any]) -> str:
    test = (config.get("healthcheck") or {}).get("test")
    if isinstance(test, list):
        words = [str(word) for word in test]
        if words and words[0] in ("CMD", "CMD-SHELL"):
            words = words[1:]
        return " ".join(words)
    return str(test or "")


def _service(
    draft: Draft, name: str, document: YamlDocument, service: str, config: dict[str, Any], env: dict[str, str]
) -> None:
    ports = _published(config)
    image = str(config.get("image") or "")
    image_name = image.split("/")[-1].split(":")[0].split("@")[0]
    health = _healthcheck_text(config)
    health_path = ("services", service, "healthcheck", "test")
    image_path = ("services", service, "image")
    variables = _environment(config)
    upper = re.sub(r"[^A-Z0-9]", "_", service.upper())

    urls = _URL.findall(health) if re.search(r"\b(curl|wget)\b", health) else []
    for url in urls[:1]:
        match = re.match(r"https?://([^/:]+)(?::(\d+))?(/.*)?", url)
        if not match:
            continue
        container_port = int(match.group(2) or (443 if url.startswith("https") else 80))
        host_port = ports.get(container_port, container_port)
        base = draft.var(f"{upper}_URL", f"{url.split('://')[0]}://127.0.0.1:{host_port}")
        draft.add(
            "http",
            service,
            {
                "description": f"service {service}: "
                + quote(name, document.line(health_path), document.text(health_path)),
                "url": base + (match.group(3) or "/"),
            },
        )
    for container_port, host_port in ports.items():
        line = document.line(("services", service, "ports"))
        optional_kind(
            draft,
            "tcp",
            f"{service}-{container_port}",
            {
                "description": f"service {service}: "
                + quote(name, line, f"ports: {host_port}:{container_port}"),
                "host": "127.0.0.1",
                "port": host_port,
            },
            f"{name}:{line}: service {service} port {host_port}",
        )

    def port_of(default: int) -> int:
        return ports.get(default, default)

    if image_name in ("postgres", "postgis", "timescaledb") or "pg_isready" in health:
        user = draft.var("POSTGRES_USER", _example(variables.get("POSTGRES_USER", "postgres"), env))
        password = draft.var("POSTGRES_PASSWORD", "change-me")
        db = draft.var(
            "POSTGRES_DB",
            _example(variables.get("POSTGRES_DB", variables.get("POSTGRES_USER", "postgres")), env),
        )
        host = draft.var(f"{upper}_HOST", "127.0.0.1")
        port = draft.var(f"{upper}_PORT", str(port_of(5432)))
        path = health_path if "pg_isready" in health else image_path
        draft.add(
            "postgres",
            service,
            {
                "description": f"service {service}: " + quote(name, document.line(path), document.text(path)),
                "url": f"postgresql://{user}:{password}@{host}:{port}/{db}",
            },
        )
    elif image_name in ("redis", "valkey", "keydb") or "redis-cli" in health:
        url = draft.var(
            f"{upper}_URL" if f"{upper}_URL" not in draft.env else f"{upper}_REDIS_URL",
            f"redis://127.0.0.1:{port_of(6379)}/0",
        )
        draft.add(
            "redis",
            service,
            {
                "description": f"service {service}: "
                + quote(name, document.line(image_path), document.text(image_path)),
                "url": url,
            },
        )
    elif (image_name in ("mysql", "mariadb", "percona") or "mysqladmin" in health) and "mysql" not in KINDS:
        draft.skip(
            f"{name}:{document.line(image_path)}: service {service} ({image}): needs the mysql kind, which this opsverify does not have yet"
        )
    elif image_name in ("mysql", "mariadb", "percona") or "mysqladmin" in health:
        user = draft.var("MYSQL_USER", _example(variables.get("MYSQL_USER", "root"), env))
        password = draft.var("MYSQL_PASSWORD", "change-me")
        db = draft.var("MYSQL_DATABASE", _example(variables.get("MYSQL_DATABASE", "mysql"), env))
        optional_kind(
            draft,
            "mysql",
            service,
            {
                "description": f"service {service}: "
                + quote(name, document.line(image_path), document.text(image_path)),
                "url": f"mysql://{user}:{password}@127.0.0.1:{port_of(3306)}/{db}",
            },
            f"{name}:{document.line(image_path)}: service {service} ({image})",
        )
    elif health and not urls:
        draft.skip(
            f"{name}:{document.line(health_path)}: service {service} healthcheck `{_short(health)}`: a command run inside the container"
        )


def _example(value: str, env: dict[str, str]) -> str:
    """A compose value with its `${VAR}` references filled from --env-file (or their defaults)."""

    def fill(match: re.Match[str]) -> str:
        return env.get(match.group(1), match.group(2) or "")

    return _VAR.sub(fill, value) or "postgres"


def _short(text: str) -> str:
    return text if len(text) < 60 else text[:57] + "..."
