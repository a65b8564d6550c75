"""`opsverify import compose docker-compose.yml`: checks from a compose file's services, on the addresses they
are really reachable at.

Per service: a healthcheck that calls curl/wget on a published port -> an http check on that host port (an
address the port is bound to, `127.0.0.1:8080:80`, is kept); any other healthcheck -> a `command` check in the
service's container (`via: docker://compose/PROJECT/SERVICE`, found by compose's labels; exit code 0, the healthcheck's own timeout); a tcp check
per published port; postgres / redis / mysql entries from their images on the published port, or, without one,
the server's own ping (`pg_isready`, `mariadb-admin ping`, `redis-cli ping`) in its container -- never a guessed
address. `${VAR:-default}`, `environment:` and `env_file:` give the `.env.example`; secrets stay `change-me`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsverify.importers.compose_env import compose_variables, environment, example
from opsverify.importers.draft import LITERAL_DOLLAR, Draft, ImportProblem, quote
from opsverify.importers.source import YamlDocument, load_documents
from opsverify.kinds import KINDS

_EXAMPLE_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URL = re.compile(r"https?://[^\s'\"|;&)]+")
ALL_INTERFACES = ("0.0.0.0", "::")  # noqa: S104 - read from the compose file, never bound here
SERVERS = {
    "postgres": ("postgres", "postgis", "timescaledb", "pgvector"),
    "mysql": ("mysql", "mariadb", "percona"),
    "redis": ("redis", "valkey", "keydb", "redis-stack-server"),
}


@dataclass(frozen=True)
class Port:
    host_ip: str | None  # the address it is bound to, when the compose file names one
    published: int
    target: int

    @property
    def address(self) -> str:
        """Where the runner reaches it: the bound address, or loopback for all interfaces."""
        return self.host_ip if self.host_ip and self.host_ip not in ALL_INTERFACES else "127.0.0.1"

    @property
    def url_host(self) -> str:
        return f"[{self.address}]" if ":" in self.address else self.address


@dataclass
class Service:
    name: str
    config: dict[str, Any]
    document: YamlDocument
    file: str
    project: str

    def line(self, *path: str | int) -> int | None:
        return self.document.line(("services", self.name, *path))

    def quote(self, *path: str | int) -> str:
        where = ("services", self.name, *path)
        return f"service {self.name}: " + quote(
            self.file, self.document.line(where), self.document.text(where)
        )


def optional_kind(draft: Draft, kind: str, name: str, entry: dict[str, Any], source: str) -> None:
    """Add an entry of a kind that may not exist in this opsverify; otherwise say so in the header."""
    if kind in KINDS:
        try:
            KINDS[kind].load_entry_model().model_validate(_with_examples(entry, draft.env))
        except ValueError as exc:
            reason = str(exc).splitlines()[-1].strip()[:120]
            draft.skip(f"{source}: no {kind} entry for {name}: it would not validate ({reason})")
            return
        draft.add(kind, name, entry)
    else:
        draft.skip(f"{source}: needs the {kind} kind, which this opsverify does not have yet")


def _with_examples(value: Any, env: dict[str, str]) -> Any:
    """The entry as it validates with the .env.example: each `${VAR}` of the draft replaced by its example."""
    if isinstance(value, dict):
        return {key: _with_examples(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_examples(item, env) for item in value]
    if isinstance(value, str):
        return _EXAMPLE_REFERENCE.sub(lambda m: env.get(m.group(1), m.group(0)), value)
    return value


def import_compose(file: Path, target: str, env_file: Path | None = None) -> Draft:
    documents = load_documents(file)
    document = documents[0] if len(documents) == 1 else None
    services = document.data.get("services") if document and isinstance(document.data, dict) else None
    if document is None or not isinstance(services, dict) or not services:
        raise ImportProblem(
            f"{file}: not a compose file: expected a YAML mapping with `services:` (each service with "
            "`image:` or `build:`); pass a docker-compose.yml / compose.yaml"
        )
    draft = Draft(target, file.name)
    env = compose_variables(draft, file, document, env_file)
    compose_names = set(draft.env)
    project = _project(document.data.get("name") or file.resolve().parent.name)
    for name, config in services.items():
        if not isinstance(config, dict):
            raise ImportProblem(
                f"{file}:{document.line(('services', name))}: service {name}: expected a mapping"
            )
        _service(draft, Service(str(name), config, document, file.name, project), env, compose_names)
    optional_kind(
        draft,
        "docker",
        project,
        {
            "description": quote(
                file.name, 1, f"compose project {project}: every container running and healthy"
            ),
            "project": project,
        },
        f"{file.name}: container health of project {project}",
    )
    if not draft.entry_count():
        raise ImportProblem(
            f"{file}: no service with a healthcheck, a published port or a known image; nothing to import"
        )
    return draft


def _project(name: Any) -> str:
    """The compose project name as compose normalises it (lower case; letters, digits, `-`, `_`)."""
    return re.sub(r"[^a-z0-9_-]", "", str(name).lower()) or "app"


def published_ports(config: dict[str, Any], env: dict[str, str]) -> list[Port]:
    """The ports published on the host with a fixed number (`${PORT:-8080}:80` from --env-file or its default; a
    bare `8000` gets a random host port: not listed)."""
    result: list[Port] = []
    for item in config.get("ports") or []:
        if isinstance(item, dict):
            published = _filled(str(item.get("published") or ""), env)
            target_port = str(item.get("target") or "")
            if published and target_port.isdigit() and published.split("-")[0].isdigit():
                host_ip = _filled(str(item["host_ip"]), env) if item.get("host_ip") else None
                result.append(Port(host_ip or None, int(published.split("-")[0]), int(target_port)))
            continue
        text = _filled(str(item).split("/")[0], env)
        if m := re.fullmatch(r"(?:\[([^\]]+)\]:|([\d.]+):)?(\d+)(?:-\d+)?:(\d+)(?:-\d+)?", text):
            result.append(Port(m.group(1) or m.group(2), int(m.group(3)), int(m.group(4))))
    return result


def _filled(text: str, env: dict[str, str]) -> str:
    """`${VAR:-default}` -> the --env-file value or the default; a reference with neither stays (unusable)."""
    return re.sub(
        r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}",
        lambda m: env.get(m.group(1), m.group(2) if m.group(2) is not None else m.group(0)),
        text,
    )


def healthcheck_test(config: dict[str, Any]) -> tuple[list[str] | str | None, str]:
    """(the healthcheck as argv or a shell string, its text) -- None when there is none or it is disabled."""
    health = config.get("healthcheck") or {}
    test = health.get("test") if isinstance(health, dict) else None
    if not test or (isinstance(health, dict) and health.get("disable")) or test == ["NONE"]:
        return None, ""
    if isinstance(test, list):
        words = [_compose_text(str(word)) for word in test]
        if words and words[0] == "CMD":
            return words[1:], " ".join(words[1:])
        shell = " ".join(words[1:] if words and words[0] == "CMD-SHELL" else words)
        return shell, shell
    return _compose_text(str(test)), _compose_text(str(test))


def _compose_text(text: str) -> str:
    """A healthcheck as the target writes it: compose's `$$` (a `$` for the container's shell) kept literal,
    `${VAR:-default}` (compose fills it from the host's environment) a `${VAR}` of the target's env_file."""
    text = text.replace("$$", LITERAL_DOLLAR)
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+][^}]*)?\}", r"${\1}", text)


def duration(value: Any) -> str:
    """A compose duration (`10s`, `1m30s`, `500ms`) as seconds for `timeout:`; compose's default is 30s."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", str(value or "30s"))
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 0.000001}
    seconds = sum(float(number) * scale[unit] for number, unit in parts)
    return f"{seconds:g}s" if seconds > 0 else "30s"


def container_via(draft: Draft, service: Service) -> str:
    """`docker://` the service's container: its `container_name`, else the running container that compose's
    labels name (`docker://compose/PROJECT/SERVICE`: the container's name differs by compose version and replica)."""
    if service.config.get("container_name"):
        return f"docker://{service.config['container_name']}"
    project = draft.var(
        "COMPOSE_PROJECT",
        service.project,
        "the compose project (`docker compose ls`); its service containers are found by their compose labels",
    )
    return f"docker://compose/{project}/{service.name}"


def command_check(
    draft: Draft, service: Service, name: str, run: list[str] | str, source: str, timeout: str
) -> None:
    entry: dict[str, Any] = {"description": source, "run": run}
    if isinstance(run, str):
        entry["shell"] = True
    entry.update({"via": container_via(draft, service), "timeout": timeout})
    optional_kind(draft, "command", name, entry, source)


def _service(draft: Draft, service: Service, env: dict[str, str], compose_names: set[str]) -> None:
    config = service.config
    ports = published_ports(config, env)
    by_target = {port.target: port for port in ports}
    image = str(config.get("image") or "")
    image_name = image.split("/")[-1].split(":")[0].split("@")[0]
    run, health = healthcheck_test(config)
    timeout = duration((config.get("healthcheck") or {}).get("timeout"))
    upper = re.sub(r"[^A-Z0-9]", "_", service.name.upper())
    server = next((kind for kind, images in SERVERS.items() if image_name in images), None)
    server = server or ("postgres" if "pg_isready" in health else "redis" if "redis-cli" in health else None)
    server = server or ("mysql" if re.search(r"mysqladmin|mariadb-admin|healthcheck\.sh", health) else None)

    url = next(iter(_URL.findall(health)), None) if re.search(r"\b(curl|wget)\b", health) else None
    http_port = None
    if url and (match := re.match(r"https?://([^/:]+)(?::(\d+))?(/[^\s]*)?", url)):
        http_port = by_target.get(int(match.group(2) or (443 if url.startswith("https") else 80)))
        if http_port is not None:
            name = f"{upper}_URL" if f"{upper}_URL" not in compose_names else f"{upper}_BASE_URL"
            base = draft.var(name, f"{url.split('://')[0]}://{http_port.url_host}:{http_port.published}")
            draft.add(
                "http",
                service.name,
                {"description": service.quote("healthcheck", "test"), "url": base + (match.group(3) or "/")},
            )
    if run is not None and http_port is None:
        command_check(
            draft, service, f"{service.name}-healthcheck", run, service.quote("healthcheck", "test"), timeout
        )
    served = {http_port.target if http_port else None}
    served.add({"postgres": 5432, "mysql": 3306, "redis": 6379}.get(server or ""))
    for port in ports:
        if port.target in served:
            continue  # the http check or the server's entry reaches it
        optional_kind(
            draft,
            "tcp",
            f"{service.name}-{port.target}",
            {
                "description": f"service {service.name}: "
                + quote(service.file, service.line("ports"), f"ports: {port.published}:{port.target}"),
                "host": port.address,
                "port": port.published,
            },
            f"{service.file}:{service.line('ports')}: service {service.name} port {port.published}",
        )
    if server is not None:
        _server(draft, service, server, by_target, env, run is not None, timeout)


def _server(
    draft: Draft,
    service: Service,
    kind: str,
    ports: dict[int, Port],
    env: dict[str, str],
    has_health: bool,
    timeout: str,
) -> None:
    """A database or cache: its entry on the published port, or its own ping inside its container."""
    variables = environment(service.config)
    default_port = {"postgres": 5432, "mysql": 3306, "redis": 6379}[kind]
    port = ports.get(default_port)
    upper = re.sub(r"[^A-Z0-9]", "_", service.name.upper())
    source = service.quote("image")
    if port is None:
        if not has_health:
            ping: list[str] = {
                "postgres": ["pg_isready", "-U", example(variables.get("POSTGRES_USER", "postgres"), env)],
                "mysql": ["sh", "-c", "mariadb-admin ping --silent 2>/dev/null || mysqladmin ping --silent"],
                "redis": ["redis-cli", "ping"],
            }[kind]
            command_check(draft, service, f"{service.name}-ping", ping, source, "10s")
        draft.skip(
            f"{service.file}:{service.line('image')}: service {service.name} publishes no port: checked inside its "
            f"container; for a {kind} entry (queries, connections) publish the port or reach it from the runner "
            f"and write its URL yourself"
        )
        return
    host = draft.var(
        f"{upper}_HOST", port.url_host, f"service {service.name}: the address its published port is bound to"
    )
    number = draft.var(f"{upper}_PORT", str(port.published))
    if kind == "postgres":
        user = draft.var("POSTGRES_USER", example(variables.get("POSTGRES_USER", "postgres"), env))
        password = draft.var("POSTGRES_PASSWORD", "change-me")
        database = variables.get("POSTGRES_DB", variables.get("POSTGRES_USER", "postgres"))
        db = draft.var("POSTGRES_DB", example(database, env))
        entry = {"description": source, "url": f"postgresql://{user}:{password}@{host}:{number}/{db}"}
    elif kind == "mysql":
        user = draft.var(
            "MYSQL_USER", example(variables.get("MYSQL_USER", variables.get("MARIADB_USER", "root")), env)
        )
        password = draft.var("MYSQL_PASSWORD", "change-me")
        db = draft.var(
            "MYSQL_DATABASE",
            example(variables.get("MYSQL_DATABASE", variables.get("MARIADB_DATABASE", "mysql")), env),
        )
        entry = {"description": source, "url": f"mysql://{user}:{password}@{host}:{number}/{db}"}
    else:
        entry = {"description": source, "url": f"redis://{host}:{number}/0"}
    optional_kind(
        draft, kind, service.name, entry, f"{service.file}:{service.line('image')}: service {service.name}"
    )
