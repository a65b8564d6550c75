"""The services a guide runs: database and cache entries (from `psql`, `pg_isready`, `redis-cli`, a stated
version requirement -> a version query), an application's own check commands (`manage.py check`, `app doctor`,
`rake app:check`) -> `command` checks with a `via:` placeholder, `docker compose logs | grep` -> logs entries,
`df` / `free` -> host entries, the compose services it names -> a docker entry, checklists -> tiers."""

from __future__ import annotations

import re
import shlex
from typing import Any

from opsverify.importers.draft import slug
from opsverify.importers.guide.lines import Command, Line, commands
from opsverify.importers.guide.state import State, add, host, host_kinds, tier, var_name
from opsverify.kinds import KINDS

CHECK_WORDS = {"check", "doctor", "status", "health", "healthcheck", "sanity", "selfcheck", "self-check",
               "check-config", "checkconfig", "verify", "diagnose", "ping"}  # fmt: skip
NOT_APPS = {"systemctl", "service", "git", "docker", "docker-compose", "kubectl", "curl", "wget", "apt", "apt-get",
            "yum", "dnf", "brew", "pip", "certbot", "nginx", "tar", "gzip", "df", "free", "ls", "cat", "grep",
            "journalctl", "ps", "top", "redis-cli", "psql", "mysql", "mysqladmin", "pg_isready", "sqlite3", "restic",
            "borg", "rclone", "aws", "gsutil", "ufw", "crontab", "openssl", "dig", "ping"}  # fmt: skip
RUNNERS = {
    "bundle",
    "exec",
    "run",
    "python",
    "python3",
    "php",
    "node",
    "npx",
    "yarn",
    "npm",
    "poetry",
    "uv",
    "pipenv",
}
CHANGES = re.compile(r"(?i)(--on\b|--off\b|--fix\b|\bmigrate\b|maintenance|repair|upgrade|install|restart|\bstop\b|"
                     r"\bstart\b|create|delete|reset|--write|\bset\b|enable|disable)")  # fmt: skip
VERSIONS = {
    "postgres": (
        r"(?i)\b(?:PostgreSQL|Postgres)\s+\(?(\d+)(?:\.(\d+))?\s*(?:\+|or\s+(?:newer|later|higher|above|greater))",
        "select current_setting('server_version_num')::int",
    ),
    "mysql": (
        r"(?i)\b(?:MySQL|MariaDB)\s+\(?(\d+)(?:\.(\d+))?\s*(?:\+|or\s+(?:newer|later|higher|above|greater))",
        "select cast(substring_index(version(), '.', 1) as unsigned) * 10000"
        " + cast(substring_index(substring_index(version(), '.', 2), '.', -1) as unsigned) * 100",
    ),
}
ERROR_WORDS = re.compile(r"(?i)error|fail|exception|denied|fatal|panic|timeout|slow|critical")
COMPOSE_SERVICE = re.compile(
    r"\bdocker[- ]compose\s+(?:logs|exec|ps|restart|stop|start|top|stats|up)\b(?:\s+-[-\w]+)*\s+([a-z][\w-]*)"
)


def database(state: State, line: Line, kind: str) -> dict[str, Any]:
    """The guide's postgres / mysql / redis entry (`main`), added on first use."""
    entries = state.draft.sections.get(kind, {})
    if entries:
        return dict(next(iter(entries.values())))
    urls = {
        "postgres": ("DATABASE_URL", "postgresql://postgres:change-me@127.0.0.1:5432/postgres"),
        "mysql": ("MYSQL_URL", "mysql://root:change-me@127.0.0.1:3306/mysql"),
        "redis": ("REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
    variable, example = urls[kind]
    name = add(
        state, kind, "main" if kind != "redis" else "cache", {"url": state.draft.var(variable, example)}, line
    )
    return dict(state.draft.sections[kind][name])


def requirements(state: State, line: Line) -> None:
    """ "PostgreSQL 13 or newer", "MySQL 8.0+": the server's version as a query with that minimum."""
    if line.code is not None:
        return
    for kind, (pattern, sql) in VERSIONS.items():
        m = re.search(pattern, line.text)
        if m is None or kind not in KINDS:
            continue
        major, minor = int(m.group(1)), int(m.group(2) or 0)
        minimum = major * 10000 + minor * 100 if kind == "mysql" or major < 10 else major * 10000
        database(state, line, kind)
        entry = next(iter(state.draft.sections[kind].values()))
        queries = entry.setdefault("queries", {})
        queries.setdefault("version", {"sql": sql, "min": minimum})
    if re.search(r"(?i)\b(redis|valkey)\s+\d+(?:\.\d+)*\s*(?:\+|or\s+(?:newer|later))", line.text):
        database(state, line, "redis")


def from_command(state: State, command: Command, after: list[Line]) -> None:
    """What a command says about the services: a database in use, logs to watch, a check to run."""
    program = command.program()
    line = command.line
    if program in ("psql", "pg_isready") or (program in ("pg_dump", "pg_dumpall") and command.cron is None):
        database(state, line, "postgres")
    if program == "redis-cli" and "ping" in [w.lower() for w in command.segments[0]]:
        database(state, line, "redis")
    if program in ("docker", "docker-compose") and "logs" in command.segments[0]:
        _logs(state, command, after)
    if program == "df" and "disk" not in host_kinds(state.draft):
        host(state, "disk", {"path": state.draft.var("DISK_PATH", "/"), "max_used_pct": 85.0}, line)
        state.draft.assume(
            f"{state.file}:{line.number}: `{command.text}` states no limit; host.disk assumes 85 % used"
        )
    if program == "free" and "memory" not in host_kinds(state.draft):
        host(state, "memory", {"max_used_pct": 90.0}, line)
        state.draft.assume(
            f"{state.file}:{line.number}: `{command.text}` states no limit; host.memory assumes 90 % used"
        )
    management(state, command)


def management(state: State, command: Command) -> None:
    """An application's own check (`manage.py check`, `app doctor`, `rake forum:check`) -> a command check."""
    words = command.segments[0]
    program = command.program()
    if (
        len(command.segments) > 1
        or program in NOT_APPS
        or program.startswith(("pg_", "mysql"))
        or "command" not in KINDS
    ):
        return
    significant = words[1:6]
    checks = [
        w
        for w in significant
        if w.lower() in CHECK_WORDS or re.search(r":(?:check|health|status|doctor|verify)\b", w)
    ]
    if not checks or CHANGES.search(" ".join(words)) or command.out or command.into:
        return
    line = command.line
    if command.via and command.via[0] in ("compose", "docker"):
        container = command.via[1]
        if command.via[0] == "compose":
            project = slug(state.draft.target) or "app"
            reference = state.draft.var(
                f"{var_name(container)}_CONTAINER",
                f"{project}-{container}-1",
                f"the container of compose service {container} (compose names it PROJECT-{container}-1)",
            )
            via = f"docker://{reference}"
        else:
            via = f"docker://{container}"
        run: list[str] | str = words
    else:
        via = state.draft.var(
            "APP_VIA",
            "local",
            "where the application's commands run: local, ssh://user@host or docker://container",
        )
        try:
            run = shlex.split(command.text)
        except ValueError:
            return
        if command.via:  # kubectl exec: run as written
            run = command.text
    entry: dict[str, Any] = {"run": run, "via": via}
    if isinstance(run, str) or any(re.search(r"[$|&;<>*`]", w) for w in run):
        entry = {"run": run if isinstance(run, str) else command.text, "shell": True, "via": via}
    entry["timeout"] = "120s"
    base = [w for w in words[: words.index(checks[0]) + 1] if not w.startswith("-") and w not in RUNNERS]
    name = slug(" ".join(w.rsplit("/", 1)[-1] for w in base[-3:])) or "app-check"
    if any(e.get("run") == entry["run"] for e in state.draft.sections.get("command", {}).values()):
        return
    add(state, "command", name, entry, line, command.text)


def _logs(state: State, command: Command, after: list[Line]) -> None:
    """`docker compose logs SERVICE | grep PATTERN` (a pattern that means trouble), or `logs SERVICE` followed
    by "Look for ERROR", as a logs entry on that service's log file (its path a variable)."""
    text = command.text
    m = re.search(r"\blogs\b(?:\s+-[-\w=]+)*\s+([a-z][\w-]*)(?:\s*\|\s*grep\s+(-i\s+)?(.+))?", text)
    if m is None:
        return
    service, ignore_case, grep = m.group(1), bool(m.group(2)), m.group(3)
    pattern = None
    if grep:
        pattern = re.sub(r"^-E\s+", "", grep.strip().strip("'\"")).strip("'\"")
        if not ERROR_WORDS.search(pattern):
            return
        pattern = ("(?i)" if ignore_case else "") + re.escape(pattern).replace("\\ ", " ")
    elif any(re.search(r"(?i)look for.*\bERROR\b", a.text) for a in after[:3]):
        pattern = r"\bERROR\b"
    if pattern is None:
        return
    entries = state.draft.sections.get("logs", {})
    if any(e.get("patterns") == [pattern] and service in e["path"].lower() for e in entries.values()):
        return
    path = state.draft.var(f"{service}_LOG_PATH", f"/var/log/{service}/{service}.log")
    entry = {"path": path + "*", "since": "24h", "patterns": [pattern]}
    add(state, "logs", f"{service}-{slug(pattern) or 'errors'}", entry, command.line)


def containers(state: State, lines: list[Line]) -> None:
    """`docker compose logs app`, `docker compose exec app ...`: a `docker` entry for the compose project with
    every service the guide names (running, healthy, restarts), when the docker kind is installed."""
    found: dict[str, Line] = {}
    for line in lines:
        for command in commands(line):
            if match := COMPOSE_SERVICE.search(command.text):
                found.setdefault(match.group(1), line)
    if not found:
        return
    if "docker" not in KINDS:
        state.draft.skip(
            f"{state.file}: docker compose services {', '.join(sorted(found))}: needs the docker kind"
        )
        return
    first = min(found.values(), key=lambda line: line.number)
    project = state.draft.var("COMPOSE_PROJECT", slug(state.draft.target) or "app")
    add(state, "docker", "stack", {"project": project, "services": sorted(found)}, first)


def checklists(state: State, lines: list[Line]) -> None:
    """Items of Daily/Weekly/... checklists add their tier to the entries of the kind they name."""
    words = {
        "disk": ("host", "disk"),
        "backup": ("backups", None),
        "certificate": ("tls", None),
        "ssl": ("tls", None),
        "health": ("http", None),
        "log": ("logs", None),
        "memory": ("host", "memory"),
    }
    for line in lines:
        tiers = tier(line)
        if line.code is not None or tiers is None or not re.match(r"^\s*[-*]|\s*\d+\.", line.text):
            continue
        for word, (section, key) in words.items():
            if not re.search(rf"\b{word}", line.text, re.IGNORECASE):
                continue
            entries = state.draft.sections.get(section, {})
            targets = [entries[key]] if key and key in entries else ([] if key else list(entries.values()))
            for target in targets:
                for item in target if isinstance(target, list) else [target]:
                    if not item.get("tiers"):
                        item["tiers"] = []
                    if tiers[0] not in item["tiers"]:
                        item["tiers"].append(tiers[0])
