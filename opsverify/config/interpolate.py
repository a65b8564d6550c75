"""`${VAR}`, `${VAR:-default}` and `$$` in target files, `env_file` parsing and `*_file` secret references."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsverify.config.yamlsource import KeyPath, SourceMap, TargetError, format_path
from opsverify.redaction import (
    SECRETS,
    add_url_credentials,
    is_secret_env_name,
    is_secret_header,
    is_secret_key,
)

_TOKEN = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|\$\{(?P<bad>[^}]*)\}?"
)
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*?)\s*$")


@dataclass
class Environment:
    """Variables visible to a target: the process environment over the target's env_file.

    `public`: names the target lists in `public_env` (never secret); `secret`: names in `secret_env` (always).
    """

    values: Mapping[str, str]
    public: frozenset[str] = frozenset()
    used: set[str] = field(default_factory=set)
    secret: frozenset[str] = frozenset()

    def is_secret(self, name: str) -> bool:
        return name in self.secret or (is_secret_env_name(name) and name not in self.public)


def read_env_file(path: Path, where: str = "") -> dict[str, str]:
    """Parse a docker-compose style .env file (KEY=value, optional quotes, # comments).

    `where` is the `file:line` of the target's `env_file:` key, named when the file is missing.
    """
    values: dict[str, str] = {}
    prefix = f"{where}: env_file: " if where else ""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise TargetError(
            f"{prefix}file {path} not found; create it or fix `env_file:` (relative to the target file)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"{prefix}cannot read {path}: {exc}") from None
    for number, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(raw)
        if not match:
            first_word = re.split(r"[\s=:]", raw.strip(), maxsplit=1)[0][:40]
            raise TargetError(
                f"{path}:{number}: expected KEY=value (KEY of letters, digits and _), got a line starting "
                f"with {first_word!r}; fix that line or comment it out with #"
            )
        value = match["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[match["key"]] = value
    return values


def interpolate_string(text: str, env: Environment, where: str) -> str:
    """Expand ${VAR}, ${VAR:-default} and $$ in one scalar; register the values of secret variables."""

    def expand(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match["bad"] is not None:
            raise TargetError(
                f"{where}: malformed reference {match.group(0)!r}; write ${{NAME}} or ${{NAME:-default}} "
                "(NAME of letters, digits and _), or $$ for a literal $"
            )
        name = match["name"]
        if match["default"] is not None and "${" in match["default"]:
            raise TargetError(
                f"{where}: malformed reference {match.group(0)!r}: a default cannot contain another "
                f"${{...}}; write a literal default, e.g. ${{{name}:-http://127.0.0.1:8080}}"
            )
        value = env.values.get(name)
        if value is None or (value == "" and match["default"] is not None):
            if match["default"] is not None:
                return match["default"]
            raise TargetError(
                f"{where}: environment variable {name} is not set; export it, add it to the env_file, "
                f"or give a default with ${{{name}:-default}}"
            )
        env.used.add(name)
        if env.is_secret(name):
            SECRETS.add(value)
        return value

    return _TOKEN.sub(expand, text)


def resolve(data: Any, path: KeyPath, source: SourceMap, env: Environment, base_dir: Path) -> Any:
    """Interpolate every string, read `*_file` secret references and register secret-named values."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            child = (*path, key)
            if child == ("env_file",):  # already resolved, against the process environment only
                out[key] = value
                continue
            if key.endswith("_file") and path != () and isinstance(value, str):
                plain = key[: -len("_file")]
                if plain in data:
                    raise TargetError(
                        f"{source.where(child)}: {format_path(child)}: both {plain!r} and {key!r} are set; "
                        "keep one of them"
                    )
                file_value = interpolate_string(value, env, f"{source.where(child)}: {format_path(child)}")
                out[plain] = _read_secret_file(
                    base_dir / Path(file_value).expanduser(), source.where(child), child
                )
                source.lines.setdefault((*path, plain), source.lines.get(child, 0))
                continue
            resolved = resolve(value, child, source, env, base_dir)
            if (is_secret_key(key) or _is_secret_header(path, key)) and isinstance(resolved, str | int):
                SECRETS.add(resolved)
            out[key] = resolved
        return out
    if isinstance(data, list):
        return [resolve(v, (*path, i), source, env, base_dir) for i, v in enumerate(data)]
    if isinstance(data, str):
        value = (
            interpolate_string(data, env, f"{source.where(path)}: {format_path(path)}")
            if "$" in data
            else data
        )
        add_url_credentials(value)
        return value
    return data


def _is_secret_header(path: KeyPath, name: str) -> bool:
    """A request header that carries a credential (`headers: {Cookie: ...}`; not `expect.headers`' regexes)."""
    return bool(path) and path[-1] == "headers" and "expect" not in path and is_secret_header(name)


def _read_secret_file(file: Path, where: str, path: KeyPath) -> str:
    try:
        value = file.read_text(encoding="utf-8").rstrip("\r\n")
    except FileNotFoundError:
        raise TargetError(
            f"{where}: {format_path(path)}: {'secret ' if is_secret_key(str(path[-1])[:-5]) else ''}file {file} "
            "not found; create it or fix the path "
            "(relative paths are relative to the target file)"
        ) from None
    except OSError as exc:
        raise TargetError(f"{where}: {format_path(path)}: cannot read secret file {file}: {exc}") from None
    SECRETS.add(value)
    return value


def process_environment() -> dict[str, str]:
    return dict(os.environ)
