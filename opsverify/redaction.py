"""Secrets registry: what is secret, registered once, and masked in everything opsverify writes.

Secret (the rule, documented in docs/target-file.md): the value of an environment variable whose name says
secret (`is_secret_env_name`) or that the target lists in `secret_env`, every `*_file` value, the value of a
secret-named key (`is_secret_key`), a password or token in a URL's userinfo, the values of Authorization,
Cookie and API-key headers. Everything else -- hosts, ports, paths, other variables -- stays readable, so a
failure says where it happened.

`redact()` is applied to everything opsverify writes (terminal, JUnit, Allure, notifications, state files).
The registry is process-wide on purpose: each process (controller or xdist worker) loads the same targets
and registers the same values, and redaction must reach code that never sees the target object.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote

MASK = "***"
MIN_SECRET_LENGTH = 3  # shorter values ("1", "on") would mask unrelated text and protect nothing
CACHED_LENGTH, CACHE_SIZE = 200, 8192  # redacted forms kept for texts up to 200 characters, 8192 of them

# Key names whose literal values are secrets even when written into the target file directly.
SECRET_KEY = re.compile(
    r"(^|_)(password|passwd|pass|passphrase|token|bearer|secret|api_key|apikey|hmac_key|webhook_url|dsn"
    r"|private_key|identity|credentials?|cookie|access_key|access_key_id)$",
    re.IGNORECASE,
)
# Environment variables whose name says secret: one of these words between underscores (DB_PASS, SSH_KEY,
# SENTRY_DSN) or one of the long ones anywhere in the name (GITHUBTOKEN, DBPASSWORD).
_SECRET_ENV_NAME = re.compile(
    r"PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|CREDENTIAL|APIKEY"  # anywhere in the name
    r"|(^|_)(PASS|PWD|KEYS?|CREDS|AUTH|DSN|PRIVATE|COOKIE|HMAC|WEBHOOK)(_|$)",  # a word of the name
    re.IGNORECASE,
)
_NOT_SECRET_ENV = frozenset({"PWD", "OLDPWD"})  # the shell's working directories
# Request and response headers whose values are credentials.
SECRET_HEADER = re.compile(
    r"^((proxy-)?authorization|(set-)?cookie|x-api-key|api-key|apikey|x-auth-token|x-access-token"
    r"|.*(token|secret|password|session).*)$",
    re.IGNORECASE,
)
# user:password@ in any URL-like string.
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s/]+)(?P<at>@)")
# A token alone as an http(s) URL's userinfo (https://TOKEN@host/); a database URL's user name stays readable.
_URL_TOKEN = re.compile(r"(?i)(?P<head>\b(https?|wss?)://)(?P<token>[^:/@\s]+)(?P<at>@)")
_AUTH_HEADER = re.compile(
    r"(?i)(?P<head>\b((proxy-)?authorization|x-api-key|api-key|x-auth-token)[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<val>[^\r\n,;\"']+)"
)
_COOKIE_HEADER = re.compile(r"(?i)(?P<head>\b(set-)?cookie[\"']?\s*:\s*[\"']?)(?P<val>[^\r\n\"']+)")


class SecretRegistry:
    """A set of secret strings; `redact` masks every occurrence (and its URL-encoded forms)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        # Short texts recur (report field names, labels, statuses): their redacted form, for as long as the
        # set of secrets stays the same (`_generation` counts its changes).
        self._cache: dict[str, str] = {}
        self._generation = 0

    def add(self, value: object) -> None:
        if not isinstance(value, str):
            value = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        forms = {value, value.strip(), quote(value, safe=""), quote_plus(value)}
        with self._lock:
            before = len(self._values)
            self._values.update(f for f in forms if len(f) >= MIN_SECRET_LENGTH)
            if len(self._values) != before:
                self._pattern = None
                self._generation += 1
                self._cache.clear()

    def add_all(self, values: Iterable[object]) -> None:
        for value in values:
            self.add(value)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None
            self._generation += 1
            self._cache.clear()

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # Longest first so a secret containing another is masked whole.
                alternatives = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))
            return self._pattern

    def redact(self, text: str) -> str:
        """Mask registered secrets, URL passwords and Authorization header values in `text`."""
        if not text:
            return text
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        generation = self._generation
        pattern = self._compiled()
        cleaned = pattern.sub(MASK, text) if pattern is not None else text
        if "://" in cleaned:
            cleaned = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['at']}", cleaned)
            cleaned = _URL_TOKEN.sub(lambda m: f"{m['head']}{MASK}{m['at']}", cleaned)
        cleaned = _AUTH_HEADER.sub(lambda m: f"{m['head']}{MASK}", cleaned)
        cleaned = _COOKIE_HEADER.sub(lambda m: f"{m['head']}{MASK}", cleaned)
        if len(text) <= CACHED_LENGTH:
            with self._lock:
                if generation == self._generation:  # no secret was added meanwhile
                    if len(self._cache) >= CACHE_SIZE:
                        self._cache.clear()
                    self._cache[text] = cleaned
        return cleaned


SECRETS = SecretRegistry()


def redact(text: str) -> str:
    """Mask every known secret in `text` (module-level shortcut for the process-wide registry)."""
    return SECRETS.redact(text)


def redact_data(value: object) -> object:
    """Redact every string inside a JSON-like structure."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


def is_secret_key(key: str) -> bool:
    """A key of the target file whose value is a secret even when written literally (`password`, `token`)."""
    return bool(SECRET_KEY.search(key))


def is_secret_env_name(name: str) -> bool:
    """An environment variable whose name says its value is secret (DB_PASSWORD, API_KEY, SENTRY_DSN)."""
    if name.upper() in _NOT_SECRET_ENV:
        return False
    return bool(_SECRET_ENV_NAME.search(name))


def is_secret_header(name: str) -> bool:
    """A header whose value is a credential (Authorization, Cookie, X-Api-Key, X-Session-Id)."""
    return bool(SECRET_HEADER.match(name.strip()))


def add_url_credentials(text: str) -> None:
    """Register the passwords (and an http URL's lone token) in the userinfo of the URLs in `text`."""
    if "://" not in text or "@" not in text:
        return
    for match in _URL_PASSWORD.finditer(text):
        SECRETS.add_all([match["pw"], unquote(match["pw"])])
    for match in _URL_TOKEN.finditer(text):
        SECRETS.add_all([match["token"], unquote(match["token"])])
