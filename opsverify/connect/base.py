"""What every way of reaching a machine offers: run a command with a timeout, read a file as a stream, stat,
list and glob. Expected failures (refused, unknown host key, auth) raise `ConnectError` with the fix."""

from __future__ import annotations

import fnmatch
import posixpath
import stat as statmod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Protocol

MAX_OUTPUT = 1 << 20  # bytes kept of a command's stdout and of its stderr


class ConnectError(Exception):
    """The machine could not be reached or refused the operation; the message names it and says the fix."""


@dataclass(frozen=True)
class CommandResult:
    """What a command did: its exit code (None when it timed out or was killed), its output (cut at
    MAX_OUTPUT bytes each) and how long it ran."""

    exit_code: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    timed_out: bool = False
    truncated: bool = False

    def text(self, which: str = "stdout") -> str:
        data = self.stdout if which == "stdout" else self.stderr
        return data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class FileStat:
    """One file or folder on the machine: its full path, size, modification time (epoch seconds)."""

    path: str
    size: int
    mtime: float
    is_dir: bool = False

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


class Connection(Protocol):
    """One machine reached one way. `where` names it for messages (never with a secret)."""

    where: str
    is_local: bool

    def run(self, command: Sequence[str] | str, timeout: float) -> CommandResult:
        """Run an argv list (quoted for the remote shell), or a shell string; kill it after `timeout`."""
        ...

    def open(self, path: str) -> IO[bytes]:
        """The file as a binary stream read on the machine (seekable where the backend can: local, SSH)."""
        ...

    def stat(self, path: str) -> FileStat | None:
        """The file's size and mtime; None when it does not exist."""
        ...

    def listdir(self, path: str) -> list[FileStat]:
        """The folder's entries; [] when it does not exist."""
        ...

    def close(self) -> None: ...


def glob(connection: Connection, pattern: str) -> list[FileStat]:
    """Files matching a shell pattern (`*`, `?`, `[...]` in any component; no `**`), sorted by path."""
    absolute = pattern.startswith("/")
    parts = [part for part in pattern.split("/") if part]
    found: list[FileStat] = []

    def walk(base: str, index: int) -> None:
        if index == len(parts):
            return
        part, last = parts[index], index == len(parts) - 1
        if not any(ch in part for ch in "*?["):
            path = posixpath.join(base, part) if base else part
            if last:
                entry = connection.stat(path)
                if entry is not None:
                    found.append(entry)
            else:
                walk(path, index + 1)
            return
        for entry in connection.listdir(base or "."):
            if not fnmatch.fnmatchcase(entry.name, part) or (
                entry.name.startswith(".") and not part.startswith(".")
            ):
                continue
            if last:
                found.append(entry)
            elif entry.is_dir:
                walk(entry.path, index + 1)

    walk("/" if absolute else "", 0)
    return sorted(found, key=lambda entry: entry.path)


def mode_is_dir(mode: int | None) -> bool:
    return mode is not None and statmod.S_ISDIR(mode)
