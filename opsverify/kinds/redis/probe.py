"""Redis probe: PING, and memory use from INFO when the entry asks for it."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote, urlsplit

import psutil
import redis

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.redis.facts import RedisFacts
from opsverify.kinds.redis.model import RedisCheck
from opsverify.redaction import MASK, redact


def probe(entry: RedisCheck, ctx: ProbeContext) -> RedisFacts:
    """PING the server (and read INFO); connection and protocol errors become `facts.error`."""
    facts = RedisFacts(where=describe_location(entry.url))
    extra: dict[str, Any] = {"password": entry.password} if entry.password is not None else {}
    try:
        client = redis.Redis.from_url(
            entry.url,
            socket_timeout=entry.timeout,
            socket_connect_timeout=entry.timeout,
            retry_on_timeout=False,
            **extra,
        )
    except (ValueError, redis.RedisError) as exc:
        facts.error = f"invalid Redis URL: {scrub(str(exc), entry)}; write redis://[:PASSWORD@]HOST:PORT/DB"
        return facts
    with client:
        try:
            started = time.perf_counter()
            reply = client.ping()
            facts.latency_ms = (time.perf_counter() - started) * 1000
        except redis.RedisError as exc:
            facts.error = describe_error(exc, entry, facts.where)
            return facts
        facts.pong, facts.reply = bool(reply), "PONG" if reply is True else str(reply)
        try:
            info: dict[str, Any] = client.info()
        except redis.RedisError as exc:
            facts.info_error = describe_error(exc, entry, facts.where)
            return facts
    facts.version, facts.role = str(info.get("redis_version", "")), str(info.get("role", ""))
    read_memory(info, facts)
    return facts


def read_memory(info: dict[str, Any], facts: RedisFacts) -> None:
    """used_memory against maxmemory; with no maxmemory, against the machine's total memory."""
    used, maxmemory = info.get("used_memory"), info.get("maxmemory")
    if not isinstance(used, int):
        facts.info_error = "INFO memory has no used_memory field"
        return
    facts.used_memory = used
    facts.maxmemory = maxmemory if isinstance(maxmemory, int) else 0
    if facts.maxmemory:
        facts.memory_limit, facts.memory_limit_source = facts.maxmemory, "maxmemory"
    elif isinstance(info.get("total_system_memory"), int) and info["total_system_memory"] > 0:
        facts.memory_limit = int(info["total_system_memory"])
        facts.memory_limit_source = "the Redis host's total memory: maxmemory is 0 (no limit)"
    else:
        facts.memory_limit = int(psutil.virtual_memory().total)
        facts.memory_limit_source = (
            "this machine's total memory (psutil): maxmemory is 0 (no limit) and Redis does not report "
            "total_system_memory"
        )
    facts.memory_pct = 100.0 * facts.used_memory / max(1, facts.memory_limit)


def describe_location(url: str) -> str:
    """host:port/db of a Redis URL, without credentials."""
    try:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return parts.path
        return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or '/0'}"
    except ValueError:
        return "(unparsable URL)"


def describe_error(exc: redis.RedisError, entry: RedisCheck, where: str) -> str:
    """One line an operator understands, with the fix; never the password."""
    text = scrub(str(exc), entry).rstrip(".")
    if isinstance(exc, redis.AuthenticationError) or "NOAUTH" in text or "WRONGPASS" in text:
        return f"authentication failed on {where}: {text}; check the password (redis://:PASSWORD@host)"
    if isinstance(exc, redis.exceptions.AuthenticationWrongNumberOfArgsError) or "AUTH" in text:
        return f"authentication failed on {where}: {text}; check the user and password of the URL"
    if isinstance(exc, redis.TimeoutError):
        return f"no reply from {where} within {entry.timeout:g}s (timeout)"
    if isinstance(exc, redis.ConnectionError):
        if "refused" in text.lower():
            return f"connection refused by {where} (target unreachable: is Redis running and listening?)"
        return f"connection to {where} failed: {text}"
    return f"{type(exc).__name__} from {where}: {text}"


def scrub(text: str, entry: RedisCheck) -> str:
    """Remove the entry's password from client messages."""
    try:
        password = urlsplit(entry.url).password or ""
    except ValueError:
        password = ""
    for secret in sorted({password, unquote(password), entry.password or ""}, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return redact(text)[:300]
