"""`opsverify draft GUIDE.md`: a draft target from an operations guide in Markdown.

Read line by line, deterministic: `curl` commands become http checks (`-u` basic auth, a bearer header, each
secret a `${VAR}`; an "Expected" JSON block after one becomes `expect.json`); thresholds in prose and lists
(disk, memory, CPU, response time, error rate, certificate expiry) become host / tls / prometheus entries;
Prometheus alert YAML blocks become rules; backup commands (pg_dump, mysqldump, tar, gzip, sqlite3 .backup,
cron lines) become backups entries with patterns from `$(date +...)`; a "Restore" section a restore drill;
RTO/RPO statements `rto` / `max_age`; Daily/Weekly/Monthly/Quarterly checklists tiers. Each entry quotes the
guide's line; what was not converted is listed at the top with the reason.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from opsverify.importers.draft import Draft, ImportProblem, quote, slug
from opsverify.importers.guide_s3 import draft_s3_backups
from opsverify.importers.prometheus_rules import alert_rule_entry
from opsverify.importers.source import read_text
from opsverify.kinds import KINDS

TIER_WORDS = {"daily": "daily", "weekly": "weekly", "monthly": "monthly", "quarterly": "quarterly"}
HEALTHY_WORDS = {"ok", "healthy", "ready", "up", "connected", "pass", "passing", "available", "success"}
_CURL_URL = re.compile(r"""(https?://[^\s'"\\]+)""")
_TARGET = r"((?:\$\([^)]*\)|[^\s;|&<>])+)"
_DATE = re.compile(r"\$\(date[^)]*\)|\$\{?(?:TIMESTAMP|DATE|NOW)\}?|YYYYMMDD(?:_HHMMSS)?|<[a-z_]+>")
_DURATION_WORDS = {"minute": "m", "minutes": "m", "hour": "h", "hours": "h", "day": "d", "days": "d"}


@dataclass
class Line:
    number: int
    text: str
    heading: str  # the innermost heading above it
    headings: tuple[str, ...]
    code: str | None  # the code block's language ("" for none) when inside one


@dataclass
class State:
    draft: Draft
    file: str
    tiers_of: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)  # url -> entry name
    backups: list[str] = field(default_factory=list)
    rto: str | None = None
    rpo: str | None = None
    restore_line: Line | None = None
    cron_daily: bool = False
    metrics_url: str | None = None
    metrics_line: Line | None = None
    metrics_auth: dict[str, Any] = field(default_factory=dict)
    metrics_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    metric_names: list[tuple[str, bool, Line]] = field(default_factory=list)
    label: str | None = None


def parse_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    headings: list[str] = []
    code: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("```"):
            code = stripped[3:].strip().lower() if code is None else None
            continue
        if code is None and (match := re.match(r"^(#{1,6})\s+(.*)$", stripped)):
            level = len(match.group(1))
            headings = [
                *headings[: level - 1],
                *[""] * max(0, level - 1 - len(headings)),
                match.group(2).strip(),
            ]
            continue
        lines.append(Line(number, raw, next((h for h in reversed(headings) if h), ""), tuple(headings), code))
    return lines


def draft_guide(file: Path, target: str) -> Draft:
    text = read_text(file)
    if "\x00" in text:
        raise ImportProblem(f"{file}: not a text file; pass an operations guide in Markdown")
    state = State(Draft(target, file.name), file.name)
    lines = parse_lines(text)
    _commands(state, _joined(lines))
    draft_s3_backups(
        _joined(lines), state.draft, lambda n, e, ln: _add(state, "backups", n, e, ln), state.backups
    )
    _alert_blocks(state, lines)
    for line in lines:
        _prose(state, line)
    _finish_metrics(state)
    _containers(state, lines)
    _restore(state)
    _checklists(state, lines)
    if not state.draft.entry_count():
        raise ImportProblem(
            f'{file}: nothing to convert: no curl command, backup command, threshold ("Disk usage >85%"), '
            "alert rule or certificate expiry found; is this an operations guide?"
        )
    return state.draft


def _joined(lines: list[Line]) -> list[Line]:
    """Shell lines with their `\\` continuations joined (quoting the first line)."""
    out: list[Line] = []
    pending: Line | None = None
    for line in lines:
        text = line.text.rstrip()
        if pending is not None:
            pending = Line(
                pending.number,
                pending.text + " " + text.strip().rstrip("\\").strip(),
                pending.heading,
                pending.headings,
                pending.code,
            )
        else:
            pending = Line(line.number, text.rstrip("\\").rstrip(), line.heading, line.headings, line.code)
        if not text.endswith("\\"):
            out.append(pending)
            pending = None
    if pending is not None:
        out.append(pending)
    return out


def _tier(line: Line) -> list[str] | None:
    for heading in reversed(line.headings):
        for word, tier in TIER_WORDS.items():
            if re.search(rf"\b{word}\b", heading, re.IGNORECASE):
                return [tier]
    return None


def _add(state: State, section: str, name: str, entry: dict[str, Any], line: Line) -> str:
    entry = {"description": quote(state.file, line.number, line.text.strip().lstrip("-*> ").strip()), **entry}
    tiers = _tier(line)
    if tiers:
        entry["tiers"] = tiers
    return state.draft.add(section, name, entry)


# --- commands in code blocks and inline -------------------------------------------------------------------


def _commands(state: State, lines: list[Line]) -> None:
    for index, line in enumerate(lines):
        for command in _shell_commands(line):
            words = _split(command)
            if not words:
                continue
            if "curl" in words:
                _curl(state, line, words[words.index("curl") :], lines[index + 1 :])
            elif re.match(r"^(@\w+|[\d*/,-]+\s+[\d*/,-]+\s+[\d*/,-]+\s+[\d*/,-]+\s+[\d*/,-]+)\s", command):
                state.cron_daily |= _cron_daily(command)
                if m := re.search(r">>\s*(\S+\.log)\b", command):
                    _cron_log(state, line, m.group(1), "backup" in command)
                if re.search(r"backup", command, re.IGNORECASE):
                    state.draft.skip(
                        f"{state.file}:{line.number}: cron line `{_short(command)}`: the schedule sets the backups' max_age; the script's output is not known"
                    )
            if re.search(r"\b(pg_dump|mysqldump|tar|gzip|sqlite3|restore|gunzip|zcat)\b", command):
                _backup(state, line, command)
            if re.search(r"\bpsql\b|\bpg_dump\b|\bpg_isready\b", command):
                _postgres(state, line)
            if m := re.search(
                r"\bdocker[- ]compose\b.*?\blogs\b(?:\s+-\w+)*\s+([a-z][\w-]*)(?:\s*\|\s*grep\s+(-i\s+)?(.+))?",
                command,
            ):
                _logs(state, line, m.group(1), m.group(3), bool(m.group(2)), lines[index + 1 : index + 4])
            _host_command(state, line, command)
            if m := re.match(r"^(GET|HEAD)\s+(/\S*)$", command):
                _http_path(state, line, m.group(2))


def _shell_commands(line: Line) -> list[str]:
    if line.code is not None:
        if line.code not in ("", "bash", "sh", "shell", "console", "zsh", "http"):
            return []
        text = line.text.strip().removeprefix("$ ").strip()
        return [] if text.startswith("#") else [text]
    return [
        m.group(1)
        for m in re.finditer(
            r"`((?:curl|pg_dump|mysqldump|sqlite3|tar|docker[- ]compose|GET|HEAD)\s[^`]+)`", line.text
        )
    ]


def _split(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()


def _var_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "", text.lstrip("$").strip("{}")).upper()


def _secret_ref(state: State, text: str, name: str, example: str, literals: list[tuple[str, str]]) -> str:
    """A `$VAR` / `${VAR}` kept as a variable; a literal secret replaced by one (never copied, not even
    into the description: `literals` collects what to mask there)."""
    match = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", text.strip())
    reference = state.draft.var(match.group(1) if match else name, example)
    if not match and text.strip():
        literals.append((text.strip(), reference))
    return reference


def _base_var(host: str) -> str:
    label = host.split(":")[0].split(".")[0]
    if label in ("localhost", "127", "0", "your-domain", "yourdomain", "example"):
        return "APP_URL"
    return f"{label}_URL"


def _curl(state: State, line: Line, words: list[str], after: list[Line]) -> None:
    url = next((w for w in words[1:] if re.match(r"https?://", w)), None)
    if url is None:
        return
    url = url.rstrip(".,;")
    match = re.match(r"(https?://[^/?#]+)(.*)", url)
    if match is None:
        return
    origin, rest = match.groups()
    path = rest or "/"
    host = origin.split("://")[1]
    if re.search(r"\$", host):
        return
    key = f"{origin}{path}"
    method = "GET"
    literals: list[tuple[str, str]] = []
    entry: dict[str, Any] = {}
    for position, word in enumerate(words):
        nxt = words[position + 1] if position + 1 < len(words) else ""
        if word in ("-u", "--user") and ":" in nxt:
            user, _, password = nxt.partition(":")
            entry["auth"] = {
                "basic": {
                    "username": _secret_ref(state, user, "API_USERNAME", "admin", literals),
                    "password": _secret_ref(state, password, "API_PASSWORD", "change-me", literals),
                }
            }
        elif word in ("-H", "--header") and re.match(r"(?i)authorization:\s*bearer\s+", nxt):
            token = re.sub(r"(?i)authorization:\s*bearer\s+", "", nxt)
            entry["auth"] = {"bearer": _secret_ref(state, token, "API_TOKEN", "change-me", literals)}
        elif word in ("-X", "--request") and nxt.upper() in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
            method = nxt.upper()
        elif word in ("-I", "--head"):
            method = "HEAD"
    if method not in ("GET", "HEAD"):
        state.draft.skip(
            f"{state.file}:{line.number}: `curl -X {method} {url}`: changes the system; opsverify only reads"
        )
        return
    if key in state.urls:
        return
    base = state.draft.var(_base_var(host), origin)
    entry = {"url": base + path, **({"method": method} if method != "GET" else {}), **entry}
    expected = _expected_json(line, after)
    if expected:
        entry["expect"] = {"json": expected}
    for literal, reference in literals:
        line = Line(
            line.number, line.text.replace(literal, reference), line.heading, line.headings, line.code
        )
    if path == "/metrics" and state.metrics_url is None:
        state.metrics_url, state.metrics_line = entry["url"], line
        state.metrics_auth = {"auth": entry["auth"]} if "auth" in entry else {}
        state.urls[key] = "metrics"
        return
    state.urls[key] = _add(state, "http", _http_name(path, host), entry, line)


def _http_name(path: str, host: str) -> str:
    words = [w for w in re.split(r"[/?&=_.-]+", path.split("?")[0]) if w and w not in ("api", "v1", "v2")]
    return "-".join(words[-2:]) or f"{host.split('.')[0]}-root"


def _expected_json(line: Line, after: list[Line]) -> dict[str, Any]:
    """The JSON of an "Expected"/"Response" block right after a curl, flattened to the values that say
    healthy (booleans and words like "ok"); values that change (versions, times) are left out."""
    index, previous = 0, line.number
    while (
        index < len(after)
        and line.code is not None
        and after[index].code is not None
        and after[index].number == previous + 1
    ):
        previous = after[index].number
        index += 1
    prose: list[str] = []
    while index < len(after) and after[index].code is None and len(prose) < 4:
        prose.append(after[index].text)
        index += 1
    said = " ".join(prose) + (" response" if not prose else "")
    if (
        index >= len(after)
        or after[index].code not in ("json", "")
        or not re.search(r"(?i)expect|response|returns|output", said)
    ):
        return {}
    block, previous = [], after[index].number - 1
    while index < len(after) and after[index].code is not None and after[index].number == previous + 1:
        block.append(after[index].text)
        previous = after[index].number
        index += 1
    try:
        document = json.loads("\n".join(block))
    except ValueError:
        return {}
    flat: dict[str, Any] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, bool) or (isinstance(value, str) and value.lower() in HEALTHY_WORDS):
            flat[path] = value

    walk(document, "")
    return flat


def _cron_daily(command: str) -> bool:
    fields = command.split()
    return command.startswith("@daily") or (len(fields) > 5 and fields[2:5] == ["*", "*", "*"])


def _backup(state: State, line: Line, command: str) -> None:
    target = None
    fmt = None
    if m := re.search(r"\bpg_dump\b.*?>\s*" + _TARGET, command):
        target, fmt = m.group(1), "pg-plain"
        if "| gzip" in command or target.endswith(".gz"):
            fmt = "pg-plain-gz"
    elif m := re.search(r"\bpg_dump\b.*?(?:-f|--file[= ])\s*" + _TARGET, command):
        target, fmt = m.group(1), "pg-custom" if re.search(r"-F\s*c|--format[= ]c", command) else "pg-plain"
    elif m := re.search(r"\bmysqldump\b.*?>\s*" + _TARGET, command):
        target, fmt = m.group(1), "gzip" if m.group(1).endswith(".gz") else "auto"
    elif m := re.search(r"\btar\s+-?[a-z]*c[a-z]*f\s+" + _TARGET, command):
        target, fmt = m.group(1), "tar"
    elif m := re.search(r"\bsqlite3\s+\S+\s+[\"']\.backup\s+([^\"']+)[\"']", command):
        target, fmt = m.group(1).strip(), "sqlite"
    elif m := re.search(r"\bsqlite3\s+(\S+)\s+[\"']PRAGMA integrity_check", command, re.IGNORECASE):
        target, fmt = m.group(1).strip(), "sqlite"  # the live database's integrity, checked on a copy
    elif m := re.search(
        r"(?:restore\S*|--restore|gunzip -c|zcat|psql\b.*<)\s+(\S*(?:\d{8}|YYYYMMDD)\S*\.(?:sql(?:\.gz)?|dump|tar\.gz|db))",
        command,
    ):
        target = m.group(1)
        fmt = {"gz": "pg-plain-gz", "sql": "pg-plain", "dump": "pg-custom", "db": "sqlite"}.get(
            target.rsplit(".", 1)[-1], "auto"
        )
        if target.endswith(".tar.gz"):
            fmt = "tar"
    elif m := re.search(r"\bgzip\s+(?:-\w+\s+)*(\S+\.sql\S*)", command):
        target, fmt = m.group(1) + ".gz", "pg-plain-gz"
        for name in state.backups:  # `gzip backup_*.sql` after a pg_dump: that backup is compressed
            dumped = state.draft.sections["backups"][name]
            if dumped["format"] == "pg-plain":
                dumped["format"] = "pg-plain-gz"
                dumped["pattern"] += ".gz"
                return
    if target is None or fmt is None:
        return
    target = target.strip("\"'")
    folder, _, name = target.rpartition("/")
    pattern = _DATE.sub("*", name)
    pattern = re.sub(r"\$\{?[A-Za-z_]+\}?", "*", pattern)
    pattern = re.sub(r"\d{8}(?:[_-]?\d{4,6})?", "*", pattern)
    existing = state.draft.sections.get("backups", {})
    if (
        "*" not in pattern
        and any(existing[b]["format"] == fmt for b in state.backups)
        and "integrity" not in command.lower()
    ):
        return  # a one-off `> backup.sql` beside the dated backups
    if any(
        state.draft.sections.get("backups", {}).get(b, {}).get("pattern") == pattern for b in state.backups
    ):
        return
    example = folder if folder.startswith("/") else "/var/backups"
    path = state.draft.var("BACKUP_DIR", example)
    entry: dict[str, Any] = {"path": path, "pattern": pattern, "format": fmt}
    stem = re.sub(r"[*_.-]+", "-", pattern.split(".")[0]).strip("-") or fmt
    state.backups.append(_add(state, "backups", stem, entry, line))


def _cron_log(state: State, line: Line, log: str, backup: bool) -> None:
    """A cron line's `>> FILE.log`: that output must show no errors since the last run."""
    folder, _, name = log.rpartition("/")
    path = state.draft.var("BACKUP_LOG_DIR" if backup else "CRON_LOG_DIR", folder or "/var/log")
    entry = {"path": f"{path}/{name}", "since": "26h", "patterns": [r"(?i)\berror\b", r"(?i)\bfailed\b"]}
    _add(state, "logs", f"{name.split('.')[0]}-cron-output", entry, line)


def _host_command(state: State, line: Line, command: str) -> None:
    """`df -h` / `free -h` in a checklist: the machine's disk / memory, at a usual limit (said in the header)."""
    kinds = _host_kinds(state.draft)
    if re.match(r"^df\b", command) and "disk" not in kinds:
        _host(state, "disk", {"path": state.draft.var("DISK_PATH", "/"), "max_used_pct": 85.0}, line)
        state.draft.skip(
            f"{state.file}:{line.number}: `{command}` states no limit; host.disk assumes 85 % used"
        )
    if re.match(r"^free\b", command) and "memory" not in kinds:
        _host(state, "memory", {"max_used_pct": 90.0}, line)
        state.draft.skip(
            f"{state.file}:{line.number}: `{command}` states no limit; host.memory assumes 90 % used"
        )


def _postgres(state: State, line: Line) -> None:
    if "postgres" not in state.draft.sections:
        url = state.draft.var("DATABASE_URL", "postgresql://postgres:change-me@127.0.0.1:5432/postgres")
        _add(state, "postgres", "main", {"url": url}, line)


ERROR_WORDS = re.compile(r"(?i)error|fail|exception|denied|fatal|panic|timeout|slow|critical")


def _logs(
    state: State, line: Line, service: str, grep: str | None, ignore_case: bool, after: list[Line]
) -> None:
    """`docker compose logs SERVICE | grep PATTERN` (a pattern that means trouble), or `logs SERVICE` followed
    by "Look for ERROR", as a logs entry on that service's log file (its path a variable)."""
    pattern = None
    if grep:
        pattern = grep.strip().strip("'\"")
        pattern = re.sub(r"^-E\s+", "", pattern).strip("'\"")
        if not ERROR_WORDS.search(pattern):
            return
        pattern = ("(?i)" if ignore_case else "") + re.escape(pattern).replace("\\ ", " ")
    elif any(re.search(r"(?i)look for.*\bERROR\b", a.text) for a in after):
        pattern = r"\bERROR\b"
    if pattern is None:
        return
    entries = state.draft.sections.get("logs", {})
    if any(e.get("patterns") == [pattern] and service in e["path"].lower() for e in entries.values()):
        return
    path = state.draft.var(f"{service}_LOG_PATH", f"/var/log/{service}/{service}.log")
    _add(
        state,
        "logs",
        f"{service}-{slug(pattern) or 'errors'}",
        {"path": path + "*", "since": "24h", "patterns": [pattern]},
        line,
    )


COMPOSE_SERVICE = re.compile(
    r"\bdocker[- ]compose\s+(?:logs|exec|ps|restart|stop|start|top|stats|up)\b(?:\s+-[-\w]+)*\s+([a-z][\w-]*)"
)


def _containers(state: State, lines: list[Line]) -> None:
    """`docker compose logs app`, `docker compose exec app ...`: a `docker` entry for the compose project with
    every service the guide names (running, healthy, restarts), when the docker kind is installed."""
    found: dict[str, Line] = {}
    for line in lines:
        for command in _shell_commands(line):
            if match := COMPOSE_SERVICE.search(command):
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
    _add(state, "docker", "stack", {"project": project, "services": sorted(found)}, first)


def _http_path(state: State, line: Line, path: str) -> None:
    if path == "/metrics":
        if state.metrics_url is None:
            state.metrics_url = state.draft.var("APP_URL", "http://127.0.0.1:8000") + path
            state.metrics_line = line
        return
    key = f"APP{path}"
    if key in state.urls or any(u.endswith(path) for u in state.urls):
        return
    base = state.draft.var("APP_URL", "http://127.0.0.1:8000")
    state.urls[key] = _add(state, "http", _http_name(path, "app"), {"url": base + path}, line)


# --- alert rules in YAML blocks ---------------------------------------------------------------------------


def _alert_blocks(state: State, lines: list[Line]) -> None:
    blocks: list[list[Line]] = []
    current: list[Line] = []
    for line in lines:
        if line.code is not None and line.code in ("yaml", "yml", ""):
            if current and line.number != current[-1].number + 1:
                blocks.append(current)
                current = []
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    for block in blocks:
        text = "\n".join(line.text for line in block)
        if not re.search(r"^\s*-?\s*alert:", text, re.MULTILINE) or "expr:" not in text:
            continue
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            state.draft.skip(
                f"{state.file}:{block[0].number}: an alert rule block that is not valid YAML ({str(exc).splitlines()[0]})"
            )
            continue
        rules = _rules_in(document)
        by_severity: dict[str, dict[str, Any]] = {}
        for rule in rules:
            if "alert" not in rule or "expr" not in rule:
                continue
            severity = str((rule.get("labels") or {}).get("severity") or "alerts")
            number = next(
                (
                    n.number
                    for n in block
                    if re.search(rf"alert:\s*{re.escape(str(rule['alert']))}\b", n.text)
                ),
                block[0].number,
            )
            entries = by_severity.setdefault(severity, {})
            entries[slug(str(rule["alert"]))] = alert_rule_entry(
                rule, quote(state.file, number, f"alert: {rule['alert']}")
            )
        for severity, entries in by_severity.items():
            url = state.draft.var("PROMETHEUS_URL", "http://127.0.0.1:9090")
            name = slug(re.sub(r"^[\d.\s]+", "", block[0].heading)) or "alerts"
            name = name if len(by_severity) == 1 else f"{name}-{severity}"
            extra = {"severity": "critical"} if severity == "critical" else {}
            _add(state, "prometheus", name, {"url": url, "rules": entries, **extra}, block[0])


def _rules_in(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, list):
        return [r for r in document if isinstance(r, dict)]
    if isinstance(document, dict):
        if "groups" in document and isinstance(document["groups"], list):
            return [
                r
                for g in document["groups"]
                if isinstance(g, dict)
                for r in g.get("rules") or []
                if isinstance(r, dict)
            ]
        if "rules" in document and isinstance(document["rules"], list):
            return [r for r in document["rules"] if isinstance(r, dict)]
        if "alert" in document:
            return [document]
    return []


# --- thresholds and statements in prose -------------------------------------------------------------------

_PERCENT = r"(?:>|above|over|exceeds?|exceeding|greater than|more than)\s*(\d+(?:\.\d+)?)\s*%"


def _prose(state: State, line: Line) -> None:
    text = line.text
    lower = text.lower()
    draft = state.draft
    if re.search(r"redis health|redis-cli", lower) and "redis" not in draft.sections:
        _add(state, "redis", "cache", {"url": draft.var("REDIS_URL", "redis://127.0.0.1:6379/0")}, line)
    if line.code is not None:
        return
    if m := re.match(r"^\s*\*\*(.+?):?\*\*:?\s*$", text):
        state.label = m.group(1).strip()
    elif text.strip() and not text.strip().startswith(("-", "*", "|")):
        state.label = None  # a label ("**Critical Alerts:**") holds for the list right below it
    if m := re.match(r"^\s*[-*]\s+`([a-z_:][a-z0-9_:]*)`\s*[-–:]\s*(.*)$", text):
        state.metric_names.append((m.group(1), "histogram" in m.group(2).lower(), line))
    if (
        m := re.search(r"disk(?: space| usage)?[^%\n]{0,20}?" + _PERCENT, lower)
    ) and "disk" not in _host_kinds(draft):
        _host(state, "disk", {"path": draft.var("DISK_PATH", "/"), "max_used_pct": float(m.group(1))}, line)
    elif (m := re.search(r"disk[^%\n]{0,30}?<\s*(\d+)\s*%\s*free", lower)) and "disk" not in _host_kinds(
        draft
    ):
        _host(
            state,
            "disk",
            {"path": draft.var("DISK_PATH", "/"), "max_used_pct": 100 - float(m.group(1))},
            line,
        )
    if (m := re.search(r"memory(?: usage)?[^%\n]{0,20}?" + _PERCENT, lower)) and "memory" not in _host_kinds(
        draft
    ):
        _host(state, "memory", {"max_used_pct": float(m.group(1))}, line)
    if (m := re.search(r"cpu(?: usage)?[^%\n]{0,20}?" + _PERCENT, lower)) and "cpu" not in _host_kinds(draft):
        _host(state, "cpu", {"max_used_pct": float(m.group(1))}, line)
    m = re.search(r"(?:ssl|tls)?\s*certificate[s]? expir\w*\s*(?:within|in|<)\s*(\d+)\s*days", lower)
    if m and "tls" not in draft.sections:
        host = draft.var("API_HOST", "example.com")
        _add(state, "tls", "certificate", {"host": host, "port": 443, "min_days_left": int(m.group(1))}, line)
    if (m := re.search(r"(?i)check (?:the )?logs for\s+(.*)", text)) and (
        quoted := re.findall(r'"([^"]+)"', m.group(1))
    ):
        path = draft.var("APP_LOG_PATH", "/var/log/app/app.log")
        name = slug(state.label or quoted[0]) or "log-patterns"
        _add(
            state,
            "logs",
            name,
            {"path": path + "*", "since": "24h", "patterns": [re.escape(q) for q in quoted]},
            line,
        )
    if "tls" not in draft.sections and (
        re.search(r"certbot renew|verify ssl certificate", lower)
        or (re.search(r"(?i)\b(ssl|tls) certificate", line.heading) and text.strip())
    ):
        host = draft.var("API_HOST", "example.com")
        _add(state, "tls", "certificate", {"host": host, "port": 443, "min_days_left": 30}, line)
        draft.skip(
            f"{state.file}:{line.number}: the guide names no expiry limit; tls.min_days_left 30 "
            "(certbot renews 30 days ahead)"
        )
    if re.search(r"redis health|redis-cli", lower) and "redis" not in draft.sections:
        _add(state, "redis", "cache", {"url": draft.var("REDIS_URL", "redis://127.0.0.1:6379/0")}, line)
    for resource in ("disk", "memory", "cpu"):
        m = re.search(resource + r"(?: usage)?\**:?\**\s*<\s*(\d+(?:\.\d+)?)\s*%", lower)
        if m and "free" not in lower[m.end() : m.end() + 6] and resource not in _host_kinds(draft):
            keys: dict[str, Any] = {"max_used_pct": float(m.group(1))}
            if resource == "disk":
                keys = {"path": draft.var("DISK_PATH", "/"), **keys}
            _host(state, resource, keys, line)
    m = re.search(r"error rate\s*" + _PERCENT, lower)
    subject = re.sub(r"[-*`|#\s]+", " ", lower[: m.start()]).strip() if m else ""
    if m and subject:  # "LLM API error rate > 10%": the error rate of something the guide has no metric for
        draft.skip(
            f'{state.file}:{line.number}: "{line.text.strip().lstrip("-* ")}": no metric for the {subject} error rate'
        )
    elif m and state.metrics_url:
        ratio = ['http_requests_total{status=~"5.."}', "http_requests_total"]
        _metrics_rule(state, line, "error-rate", {"ratio": ratio, "max": float(m.group(1)) / 100})
    elif m:
        _prometheus_rule(
            state,
            line,
            f"error-rate-{m.group(1)}pct",
            f'sum(rate(http_requests_total{{status=~"5.."}}[5m])) / sum(rate(http_requests_total[5m])) > {float(m.group(1)) / 100:g}',
        )
    if m := re.search(
        r"(?:response time|latency)[^\n]{0,20}?>\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds|s|seconds?)\b", lower
    ):
        seconds = float(m.group(1)) / (1000 if m.group(2).startswith("m") else 1)
        if state.metrics_url:
            rule = {"quantile": 0.95, "histogram": "http_request_duration_seconds", "max": seconds}
            _metrics_rule(state, line, "p95-seconds", rule)
            return
        _prometheus_rule(
            state,
            line,
            f"p95-over-{seconds:g}s",
            f"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > {seconds:g}",
        )
    if m := re.search(r"\brto\b[^:\n]*[:=]?\**\s*\**\s*(\d+)\s*(minutes?|hours?|days?)", lower):
        state.rto = state.rto or f"{m.group(1)}{_DURATION_WORDS[m.group(2)]}"
    if m := re.search(r"\brpo\b[^:\n]*[:=]?\**\s*\**\s*(\d+)\s*(minutes?|hours?|days?)", lower):
        state.rpo = state.rpo or f"{m.group(1)}{_DURATION_WORDS[m.group(2)]}"
    if re.search(r"\brestore\b", line.heading, re.IGNORECASE) and state.restore_line is None:
        state.restore_line = line
    if re.search(r"\b(pg_isready|DATABASE_URL)\b", text) and "postgres" not in draft.sections:
        url = draft.var("DATABASE_URL", "postgresql://postgres:change-me@127.0.0.1:5432/postgres")
        _add(state, "postgres", "main", {"url": url}, line)
    if re.search(r"redis-cli\b.*\bping\b|\bREDIS_URL\b", text) and "redis" not in draft.sections:
        _add(state, "redis", "cache", {"url": draft.var("REDIS_URL", "redis://127.0.0.1:6379/0")}, line)
    if re.search(r"\b(look for|grep)\b.*\bERROR\b", text) and "logs" not in draft.sections:
        path = draft.var("APP_LOG_PATH", "/var/log/app/app.log")
        _add(state, "logs", "errors", {"path": path + "*", "since": "24h", "patterns": [r"\bERROR\b"]}, line)


def _metrics_rule(state: State, line: Line, name: str, rule: dict[str, Any]) -> None:
    """A threshold on the app's /metrics, in an entry per label of the guide ("Critical Alerts", "Warning")."""
    group = slug(state.label or line.heading) or "thresholds"
    entry = state.metrics_groups.setdefault(group, {"line": line, "rules": {}})
    rule = {**rule, "description": quote(state.file, line.number, line.text.strip().lstrip("-*> ").strip())}
    entry["rules"].setdefault(name, rule)


def _finish_metrics(state: State) -> None:
    """The /metrics endpoint: an entry per group of thresholds; without thresholds, the key metrics it
    names must be exported; with neither, it stays a plain http check."""
    if not state.metrics_url or state.metrics_line is None:
        return
    base = {"url": state.metrics_url, **state.metrics_auth}
    if state.metrics_groups:
        for group, found in state.metrics_groups.items():
            severity = {"severity": "critical"} if "critical" in group else {}
            _add(state, "metrics", group, {**base, "rules": found["rules"], **severity}, found["line"])
        state.draft.skip(
            "metrics: the guide states thresholds, not metric names; the rules assume http_requests_total "
            "and http_request_duration_seconds: adjust them to yours"
        )
        return
    rules: dict[str, Any] = {}
    for name, histogram, _ in state.metric_names:
        rules[slug(name)] = {"metric": f"{name}_count" if histogram else name, "min": 0}
    if rules:
        _add(state, "metrics", "app", {**base, "rules": rules}, state.metrics_line)
    else:
        _add(state, "http", "metrics", base, state.metrics_line)


def _host_kinds(draft: Draft) -> set[str]:
    return set(draft.sections.get("host", {}))


def _host(state: State, kind: str, entry: dict[str, Any], line: Line) -> None:
    entry = {"description": quote(state.file, line.number, line.text.strip().lstrip("-*> ").strip()), **entry}
    if tiers := _tier(line):
        entry["tiers"] = tiers
    host = state.draft.sections.setdefault("host", {})
    host[kind] = [entry] if kind == "disk" else entry


def _prometheus_rule(state: State, line: Line, name: str, expr: str) -> None:
    draft = state.draft
    entries = draft.sections.setdefault("prometheus", {})
    entry = entries.get("thresholds")
    if entry is None:
        url = draft.var("PROMETHEUS_URL", "http://127.0.0.1:9090")
        entry = entries["thresholds"] = {
            "description": quote(
                state.file,
                line.number,
                "thresholds stated in the guide (metric names assumed: "
                "http_requests_total, http_request_duration_seconds)",
            ),
            "url": url,
            "rules": {},
        }
        draft.skip(
            "prometheus:thresholds: the guide states thresholds, not metrics; the rules assume the usual "
            "http_requests_total / http_request_duration_seconds names: adjust `expr` to yours"
        )
    if name not in entry["rules"]:
        entry["rules"][name] = {
            "expr": expr,
            "alert": True,
            "description": quote(state.file, line.number, line.text.strip().lstrip("-*> ").strip()),
        }


# --- restore drill and checklists -------------------------------------------------------------------------


def _restore(state: State) -> None:
    backups = state.draft.sections.get("backups", {})
    databases = [
        n for n in state.backups if backups[n]["format"] in ("pg-plain", "pg-plain-gz", "pg-custom", "sqlite")
    ]
    for name in state.backups:
        entry = backups[name]
        if state.rpo and name == (databases or state.backups)[0]:
            entry["max_age"] = state.rpo
        elif state.cron_daily and entry["format"].startswith("pg"):
            entry["max_age"] = "26h"
    if not databases:
        return
    if state.restore_line is None and state.rto is None:
        return
    entry = backups[databases[0]]
    restore: dict[str, Any] = {}
    if entry["format"].startswith("pg"):
        restore = {
            "sandbox": "url",
            "sandbox_url": state.draft.var(
                "DRILL_ADMIN_URL", "postgresql://postgres:change-me@127.0.0.1:5432/postgres"
            ),
        }
    if state.rto:
        restore["rto"] = state.rto
    entry["restore"] = restore
    if state.restore_line is not None:
        entry["description"] += (
            f"; restore drill from {state.file}:{state.restore_line.number} ({state.restore_line.heading})"
        )


def _checklists(state: State, lines: list[Line]) -> None:
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
        tier = _tier(line)
        if line.code is not None or tier is None or not re.match(r"^\s*[-*]|\s*\d+\.", line.text):
            continue
        for word, (section, key) in words.items():
            if not re.search(rf"\b{word}", line.text, re.IGNORECASE):
                continue
            entries = state.draft.sections.get(section, {})
            targets = [entries[key]] if key and key in entries else ([] if key else list(entries.values()))
            for target in targets:
                for item in target if isinstance(target, list) else [target]:
                    tiers = item.setdefault("tiers", [])
                    if not tiers:
                        item["tiers"] = tiers = []
                    if tier[0] not in tiers:
                        tiers.append(tier[0])


def _short(text: str) -> str:
    return text if len(text) < 70 else text[:67] + "..."
