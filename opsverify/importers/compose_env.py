"""The variables of a compose file, for the imported target's `.env.example`: every `${VAR}` /
`${VAR:-default}` it references, the keys of its services' `env_file:` files and the names its `environment:`
passes through from the host. Non-secret values become the examples; secrets are always `change-me`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from opsverify.importers.draft import Draft
from opsverify.importers.source import YamlDocument, read_text

SECRET_NAME = re.compile(r"(?i)PASS(?:WORD|WD)?|SECRET|TOKEN|KEY|CREDENTIAL|AUTH|DSN|PRIVATE|SALT|COOKIE")
_REFERENCE = re.compile(
    r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)
_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}?")
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^@\s/]+@")


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


def safe_example(name: str, value: str) -> str:
    """A value fit for an .env.example: `change-me` for a secret's, a URL's password replaced."""
    if SECRET_NAME.search(name):
        return "change-me"
    return _URL_PASSWORD.sub(r"\1change-me@", value)


def environment(config: dict[str, Any]) -> dict[str, str]:
    """A service's `environment:` (list or mapping) as name -> value ("" for a name passed through)."""
    found = config.get("environment") or {}
    if isinstance(found, list):
        return {str(item).partition("=")[0]: str(item).partition("=")[2] for item in found}
    if isinstance(found, dict):
        return {str(k): "" if v is None else str(v) for k, v in found.items()}
    return {}


def example(value: str, env: dict[str, str]) -> str:
    """A compose value with its `${VAR}` references filled from --env-file (or their defaults)."""

    def fill(match: re.Match[str]) -> str:
        return env.get(match.group(1), match.group(2) or "")

    return _VAR.sub(fill, value) or "postgres"


def compose_variables(
    draft: Draft, file: Path, document: YamlDocument, env_file: Path | None
) -> dict[str, str]:
    """Add the compose file's variables to the draft's .env.example; returns the --env-file values."""
    env = read_env(env_file)
    for number, text in enumerate(document.text_lines, 1):
        if text.lstrip().startswith("#"):
            continue
        for match in _REFERENCE.finditer(text):
            name = match.group(1) or match.group(4)
            if not name:
                continue
            default = match.group(3) if match.group(2) in (":-", "-") else ""
            value = env.get(name, default or "")
            draft.var(name, safe_example(name, value), f"{file.name}:{number} uses it")
    services = document.data.get("services") or {}
    for service, config in services.items():
        if not isinstance(config, dict):
            continue
        for name, value in environment(config).items():
            if name and not value and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                line = document.line(("services", service, "environment"))
                draft.var(
                    name,
                    safe_example(name, env.get(name, "")),
                    f"{file.name}:{line}: service {service} passes it through",
                )
        for listed in _env_files(config):
            path = file.parent / listed
            if not path.is_file():
                draft.skip(
                    f"{file.name}: service {service} env_file {listed}: not found beside the compose file"
                )
                continue
            for name, value in read_env(path).items():
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                    draft.var(name, safe_example(name, value), f"from {listed} (service {service})")
    return env


def _env_files(config: dict[str, Any]) -> list[str]:
    listed = config.get("env_file") or []
    items = listed if isinstance(listed, list) else [listed]
    return [str(item.get("path")) if isinstance(item, dict) else str(item) for item in items if item]
