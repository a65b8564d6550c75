"""What the pgBackRest drill's container must see of this machine: the stanza's config and its posix
repositories, bind-mounted read-only at the same paths (so the config's paths hold inside the container).

Only the config is read here (its `repoN-type` and `repoN-path`, as pgBackRest reads them: the stanza's
section over `[global]`, a command's section over both, and `PGBACKREST_REPOn_*` variables over the file);
the repository itself is left to pgBackRest. A repository in a bucket (s3, gcs, azure) or on an SFTP server
needs no mount: pgBackRest reaches it from inside the container with the config's settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CONFIG = Path("/etc/pgbackrest/pgbackrest.conf")
OLD_DEFAULT_CONFIG = Path("/etc/pgbackrest.conf")
DEFAULT_INCLUDE = Path("/etc/pgbackrest/conf.d")
DEFAULT_REPO_PATH = "/var/lib/pgbackrest"
NETWORK_TYPES = ("s3", "gcs", "azure", "sftp")
_REPO_KEY = re.compile(r"^repo(\d+)-(path|type)$")


class MountProblem(Exception):
    """The config or a repository cannot be given to the container; the message names it and the fix."""


@dataclass(frozen=True)
class Mount:
    """One path of this machine (`source`, symbolic links resolved), mounted read-only at `target`: the path
    as pgBackRest is given it."""

    source: str
    target: str
    what: str  # "config", "repository 1"

    @classmethod
    def of(cls, path: Path, what: str) -> Mount:
        return cls(str(path.resolve()), str(path.absolute()), what)


@dataclass(frozen=True)
class StanzaMounts:
    mounts: tuple[Mount, ...]
    repositories: tuple[str, ...]  # posix repository paths (the first is the one named in messages)
    network: tuple[str, ...]  # repositories reached over the network: "repo2 (s3)"


def _sections(text: str) -> dict[str, dict[str, str]]:
    """The config's sections and their keys (pgBackRest's ini: `[section]`, `key=value`, `#` comments)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
        elif current is not None and "=" in line:
            key, value = line.split("=", 1)
            current[key.strip()] = value.strip()
    return sections


def _config_files(config: str | None) -> tuple[list[Path], list[Mount]]:
    """The files pgBackRest reads (to parse) and what to mount: `config` alone when given (pgBackRest then
    reads no include folder), else its defaults (/etc/pgbackrest with conf.d, or /etc/pgbackrest.conf)."""
    if config:
        path = Path(config).expanduser()
        if not path.is_file():
            raise MountProblem(
                f"pgbackrest.config {path} is not a file on this machine: the docker sandbox mounts it into the "
                "container, so the Docker engine and the config must be on the machine running opsverify"
            )
        return [path], [Mount.of(path, "config")]
    if DEFAULT_CONFIG.is_file() or DEFAULT_INCLUDE.is_dir():
        files = [DEFAULT_CONFIG] if DEFAULT_CONFIG.is_file() else []
        if DEFAULT_INCLUDE.is_dir():
            files += sorted(DEFAULT_INCLUDE.glob("*.conf"))
        return files, [Mount.of(DEFAULT_CONFIG.parent, "config folder")]
    if OLD_DEFAULT_CONFIG.is_file():
        return [OLD_DEFAULT_CONFIG], [Mount.of(OLD_DEFAULT_CONFIG, "config")]
    return [], []


def stanza_mounts(
    stanza: str, config: str | None, repo: int | None, environ: Mapping[str, str] | None = None
) -> StanzaMounts:
    """The mounts of `stanza`'s config and repositories (only `repo` when given); MountProblem naming the
    key and the fix when a posix repository is not a folder here or none can be found."""
    environ = os.environ if environ is None else environ
    files, mounts = _config_files(config or environ.get("PGBACKREST_CONFIG"))
    settings: dict[int, dict[str, str]] = {}
    for path in files:
        try:
            sections = _sections(path.read_text(errors="replace"))
        except OSError as exc:
            raise MountProblem(
                f"cannot read the pgBackRest config {path} ({exc.strerror}): opsverify reads it to find the "
                "repository to mount into the container; make it readable by the user running opsverify"
            ) from None
        for name in ("global", "global:restore", stanza, f"{stanza}:restore"):  # later sections win
            for key, value in sections.get(name, {}).items():
                match = _REPO_KEY.match(key)
                if match:
                    settings.setdefault(int(match.group(1)), {})[match.group(2)] = value
    for key, value in environ.items():
        match = re.match(r"^PGBACKREST_REPO(\d+)_(PATH|TYPE)$", key)
        if match:
            settings.setdefault(int(match.group(1)), {})[match.group(2).lower()] = value
    settings.setdefault(1, {})
    chosen = [repo] if repo is not None else sorted(settings)
    repositories: list[str] = []
    network: list[str] = []
    for index in chosen:
        found = settings.get(index, {})
        kind = found.get("type", "posix")
        if kind in NETWORK_TYPES:
            network.append(f"repo{index} ({kind})")
            continue
        path = Path(found.get("path", DEFAULT_REPO_PATH))
        if not path.is_dir():
            if repo is None and len(chosen) > 1:
                continue  # another repository of the stanza may hold the backup
            origin = f"repo{index}-path in {files[0]}" if "path" in found and files else f"repo{index}-path"
            raise MountProblem(
                f"the pgBackRest repository {path} ({origin}) is not a folder on this machine: the docker "
                "sandbox bind-mounts it into the container, so the Docker engine must run on the machine "
                "holding the repository (a posix repository), or use the local sandbox (restore.sandbox: local)"
            )
        repositories.append(str(path.absolute()))
        mounts.append(Mount.of(path, f"repository {index}"))
    if not repositories and not network:
        raise MountProblem(
            f"no repository of stanza {stanza} is a folder on this machine (checked "
            f"{', '.join(f'repo{i}' for i in chosen)}): set pgbackrest.repo to the repository to restore from"
        )
    return StanzaMounts(tuple(mounts), tuple(repositories), tuple(network))
