"""Endpoints in a guide -> http checks: `curl` commands, `GET /path` lines, "the readiness endpoint `/ready`",
URLs in lists and tables; the expected status and body when the text states them ("returns 200 and `OK`"),
and an "Expected"/"Response" JSON block after one."""

from __future__ import annotations

import json
import re
from typing import Any

from opsverify.importers.guide.lines import Command, Line
from opsverify.importers.guide.state import State, add

HEALTHY_WORDS = {"ok", "healthy", "ready", "up", "connected", "pass", "passing", "available", "success"}
ENDPOINT_WORDS = re.compile(
    r"(?i)\b(endpoints?|health\w*|ready|readiness|live|liveness|status|ping|probes?|heartbeat|returns?|"
    r"answers?|responds?|url|GET|HEAD|monitors?|load balancer)\b"
)
_FILE_PATH = re.compile(
    r"^/(?:var|etc|opt|usr|home|tmp|mnt|data|backups?|root|dev|proc|run|lib|bin|sbin|media)(?:/|$)|"
    r"\.(?:sql|gz|tar|db|dump|log|conf|ini|ya?ml|json|sh|py|rb|zip|bak|env|txt|md)$"
)
_DOC_HOSTS = re.compile(
    r"(?i)^(?:github\.com|gitlab\.com|docs?\.|www\.|.*\.readthedocs\.io|hub\.docker\.com)"
)


def base_var(host: str) -> str:
    label = host.split(":")[0].split(".")[0]
    if label in ("localhost", "127", "0", "your-domain", "yourdomain", "example", "your", "host", "server"):
        return "BASE_URL"
    return f"{label}_URL"


def http_name(path: str, host: str) -> str:
    words = [
        w for w in re.split(r"[/?&=_.:-]+", path.split("?")[0]) if w and w not in ("api", "v1", "v2", "v4")
    ]
    name = "-".join(words[-2:]) or f"{host.split('.')[0]}-root"
    query = re.split(r"[=&]", path.split("?", 1)[1])[0] if "?" in path else ""
    return f"{name}-{query}" if query else name


def _secret_ref(state: State, text: str, name: str, example: str, literals: list[tuple[str, str]]) -> str:
    """A `$VAR` / `${VAR}` kept as a variable; a literal secret replaced by one (never copied, not even
    into the description: `literals` collects what to mask there)."""
    match = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", text.strip())
    reference = state.draft.var(match.group(1) if match else name, example)
    if not match and text.strip():
        literals.append((text.strip(), reference))
    return reference


def curl(state: State, command: Command, after: list[Line]) -> None:
    words = next((s for s in command.segments if s and s[0] in ("curl", "wget", "http")), None)
    if words is None:
        return
    url = next((w for w in words[1:] if re.match(r"https?://|\$\{?[A-Za-z_]\w*\}?/", w)), None)
    if url is None:
        return
    line = command.line
    literals: list[tuple[str, str]] = []
    entry: dict[str, Any] = {}
    method = "GET"
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
        elif word in ("-I", "--head", "--spider"):
            method = "HEAD"
    if method not in ("GET", "HEAD"):
        state.draft.skip(
            f"{state.file}:{line.number}: `curl -X {method} {url}`: changes the system; opsverify only reads"
        )
        return
    text = command.text
    for literal, reference in literals:
        text = text.replace(literal, reference)
    expected = expected_json(line, after)
    endpoint(state, line, url, text, method=method, extra=entry, json_expect=expected)


def endpoint(
    state: State,
    line: Line,
    url: str,
    text: str | None = None,
    *,
    method: str = "GET",
    extra: dict[str, Any] | None = None,
    json_expect: dict[str, Any] | None = None,
    after: list[Line] | None = None,
) -> None:
    """An http check of `url` (absolute, or a path on `${BASE_URL}`), once per URL."""
    url = url.rstrip(".,;:)")
    if m := re.match(
        r"\$\{?([A-Za-z_]\w*)\}?(/.*)", url
    ):  # `curl "$API_BASE_URL/health"`: the guide's variable
        origin, path, host = "$" + m.group(1), m.group(2), m.group(1).lower()
        base = state.draft.var(
            m.group(1), "http://127.0.0.1:8000", "the base URL the guide calls $" + m.group(1)
        )
    elif m := re.match(r"(https?://[^/?#\s]+)(.*)", url):
        origin, path = m.group(1), m.group(2) or "/"
        host = origin.split("://")[1]
        if _DOC_HOSTS.match(host):
            return
        if re.search(r"[$<>{}]", host):  # `https://<your-domain>/health`: a placeholder
            state.draft.assume(f"{state.file}:{line.number}: {origin}: a placeholder host, now ${{BASE_URL}}")
            base = state.draft.var(
                "BASE_URL", "https://app.example.com", f"the host the guide writes as {origin}"
            )
        else:
            base = state.draft.var(base_var(host), origin)
    elif url.startswith("/"):
        origin, path, host = "", url, "app"
        base = ""
    else:
        return
    path = re.sub(r"#.*$", "", path) or "/"
    key = origin + path
    if "<" in path or "{" in path or "$" in path or key in state.urls:
        return
    if not origin and any(known.endswith(path) for known in state.urls):
        return
    if path == "/metrics":
        if state.metrics_url is None:
            base = base or state.draft.var("BASE_URL", "http://127.0.0.1:8000")
            state.metrics_url, state.metrics_line = base + path, line
            state.metrics_auth = {"auth": extra["auth"]} if extra and "auth" in extra else {}
            state.urls[key] = "metrics"
        return
    if not base:
        base = state.draft.var("BASE_URL", "http://127.0.0.1:8000")
    entry: dict[str, Any] = {
        "url": base + path,
        **({"method": method} if method != "GET" else {}),
        **(extra or {}),
    }
    expect: dict[str, Any] = {}
    if json_expect:
        expect["json"] = json_expect
    stated = stated_response(line, after or [])
    if stated:
        expect.update(stated)
    if not json_expect and (pairs := json_pairs(line, after or [])):
        expect["json"] = pairs
    if expect:
        entry["expect"] = expect
    state.urls[key] = add(state, "http", http_name(path, host), entry, line, text)


def _continuation(line: Line, after: list[Line]) -> list[str]:
    """The prose right below a line that still speaks of it: up to a blank line, a new item or endpoint."""
    found: list[str] = []
    for other in after[:3]:
        text = other.text.strip()
        if (
            other.code is not None
            or not text
            or re.match(r"^(?:[-*+|]|\d+[.)])", text)
            or re.search(r"`/|https?://|\bGET\b", text)
        ):
            break
        found.append(text)
    return found


def stated_response(line: Line, after: list[Line]) -> dict[str, Any]:
    """ "returns 200 and `OK`", "answers `Healthy`", "`200`, body `ok`": the status and body a text states."""
    said = " ".join([line.text, *_continuation(line, after)])
    said = said[:400]
    expect: dict[str, Any] = {}
    m = re.search(
        r"(?i)\b(?:returns?|answers?|responds?|with|print|prints|expected|is)\b\W{0,3}`?([1-5]\d\d)\b", said
    )
    m = m or re.search(r"\|\s*`?([1-5]\d\d)`?\b", line.text)
    if m and m.group(1) != "200":
        expect["status"] = int(m.group(1))
    body = re.search(
        r"(?i)\b(?:body|answers?|returns?|responds?(?: with)?|prints?)\s+(?:`?[1-5]\d\d`?(?: OK)?,?\s+(?:and\s+)?)?"
        r"(?:the body\s+)?`([^`{}\[\]]{1,40})`",
        said,
    )
    if body and not re.fullmatch(r"[1-5]\d\d(?: [A-Za-z ]+)?|/\S*|\S+\.\S+|GET.*", body.group(1).strip()):
        expect["body_regex"] = re.escape(body.group(1).strip())
    return expect


def json_pairs(line: Line, after: list[Line]) -> dict[str, Any]:
    """ "JSON in which `installed` is `true` and `maintenance` is `false`" -> {installed: true, ...}."""
    said = " ".join([line.text, *_continuation(line, after)])
    if not re.search(r"(?i)\bjson\b", said):
        return {}
    values: dict[str, Any] = {}
    for key, value in re.findall(r"`([\w.]+)`\s+(?:is|=|==|equals)\s+`([^`]+)`", said):
        values[key] = {"true": True, "false": False}.get(value.lower(), value)
    return values


def prose_endpoints(state: State, line: Line, after: list[Line]) -> None:
    """Endpoints named in prose, lists and tables (not in code): `GET /path`, "`/ready`" beside an endpoint
    word, URLs of a list item or table row that look like health/status endpoints."""
    text = line.text
    if line.code is not None:
        for m in re.finditer(r"^\s*(?:GET|HEAD)\s+(\S+)", text):
            endpoint(state, line, m.group(1), after=after)
        return
    for m in re.finditer(r"\b(GET|HEAD)\b\W{0,4}`?((?:https?://[^\s`|]+)|/[^\s`|]*)`?", text):
        json_expect = expected_json(line, after)
        endpoint(state, line, m.group(2), text, method=m.group(1), after=after, json_expect=json_expect)
    if row := re.match(r"^\s*\|?\s*(GET|HEAD)\s*\|\s*`?(/[^\s`|]*)", text):
        endpoint(state, line, row.group(2), text, method=row.group(1), after=after)
    words = bool(ENDPOINT_WORDS.search(text) or ENDPOINT_WORDS.search(line.heading))
    listed = bool(re.match(r"^\s*(?:[-*+]|\d+[.)]|\|)", text))
    for m in re.finditer(r"`(/[^\s`]*)`", text):
        path = m.group(1)
        if words and not _FILE_PATH.search(path) and re.match(r"^/[\w./?=&%:-]*$", path):
            endpoint(state, line, path, text, after=after)
    for m in re.finditer(r"(?<![(\[<])(https?://[^\s`|<>)\]]+)", text):
        url = m.group(1)
        inline = f"`{url}`" in text
        path = re.sub(r"^https?://[^/]+", "", url)
        healthy = re.search(r"(?i)health|status|ping|ready|live|heartbeat|check|/-/", path)
        if (listed or inline) and healthy and (words or healthy) and f"]({url}" not in text:
            endpoint(state, line, url, text, after=after)


def expected_json(line: Line, after: list[Line]) -> dict[str, Any]:
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
        or not re.search(r"(?i)expect|response|returns|output|like", said)
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
