"""Locating the PostgreSQL client programs (pg_restore, psql) and reading their error output."""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


class ToolMissing(Exception):
    """A PostgreSQL program is not installed where it was looked for; the message says how to fix it."""


def client_tool(name: str, client_bin: str | None = None) -> str:
    """Path of `name` (pg_restore, psql) in `client_bin` or on PATH."""
    if client_bin:
        candidate = Path(client_bin).expanduser() / name
        if candidate.is_file():
            return str(candidate)
        raise ToolMissing(
            f"{name} not found in client_bin {client_bin}; point client_bin at the folder holding it"
        )
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(
            f"{name} not found on PATH; install the PostgreSQL client (apt-get install postgresql-client) "
            "or set client_bin to the folder holding it"
        )
    return found


def tool_version(path: str) -> str:
    """`pg_restore (PostgreSQL) 15.20` -> `15.20` (empty when it cannot be run)."""
    try:
        completed = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    words = completed.stdout.split()
    return words[-1] if words else ""


@dataclass
class ErrorLog:
    """stderr of a pg program: the first error lines kept in full, the rest counted, the tail kept."""

    first_lines: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    lines: int = 0
    keep_first: int = 20
    keep_tail: int = 20

    def add(self, line: str) -> None:
        self.lines += 1
        if len(self.first_lines) < self.keep_first:
            self.first_lines.append(line)
        else:
            self.tail = [*self.tail[-(self.keep_tail - 1) :], line]

    def errors(self, limit: int = 5) -> list[str]:
        """The first lines that report an error (ERROR:, FATAL:, error:), with their DETAIL/LINE context."""
        picked: list[str] = []
        lines = self.first_lines + self.tail
        for index, line in enumerate(lines):
            if any(marker in line for marker in ("ERROR:", "FATAL:", "error:", "PANIC:")):
                picked.append(line)
                picked += [
                    following
                    for following in lines[index + 1 : index + 3]
                    if following.lstrip().startswith(("DETAIL:", "LINE ", "HINT:", "Command was:"))
                ]
            if len(picked) >= limit:
                break
        return picked[:limit] or lines[:limit]

    def text(self) -> str:
        skipped = self.lines - len(self.first_lines) - len(self.tail)
        middle = [f"... ({skipped} more lines) ..."] if skipped > 0 else []
        return "\n".join([*self.first_lines, *middle, *self.tail])


def collect_lines(stream: IO[bytes], log: ErrorLog) -> threading.Thread:
    """Read `stream` line by line into `log` on a thread (so a chatty program never blocks on a full pipe)."""

    def run() -> None:
        for raw in stream:
            log.add(raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    thread = threading.Thread(target=run, name="opsverify-stderr", daemon=True)
    thread.start()
    return thread
