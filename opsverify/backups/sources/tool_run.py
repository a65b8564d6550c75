"""Running a backup tool's CLI (restic, borg, pgbackrest): secrets only in its environment, a timeout on every
call, and the tool's own failure text turned into a SourceError naming the fix."""

from __future__ import annotations

import builtins
import os
import shutil
import subprocess
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from opsverify.backups.files import BackupFile
from opsverify.backups.inspection import Inspection
from opsverify.backups.sources.base import BackupEntry, BackupSource, SourceError


@dataclass(frozen=True)
class Tool:
    """One backup tool: its program, the Debian package that has it, and its secrets' variables."""

    program: str
    package: str
    secret_env: tuple[str, ...] = ()

    def resolve(self, configured: str | None) -> str:
        """The program's path; SourceError naming the package when it is not installed."""
        wanted = configured or self.program
        found = shutil.which(wanted)
        if found is None:
            raise SourceError(
                f"{self.program} is not installed (no `{wanted}` on PATH): install the Debian package "
                f"{self.package} (`apt-get install {self.package}`), or set `bin` to its path"
            )
        return found


def run_tool(
    tool: Tool,
    program: str,
    args: Sequence[str],
    env: Mapping[str, str],
    timeout: float,
    what: str,
    stdout: int | None = subprocess.PIPE,
) -> subprocess.CompletedProcess[bytes]:
    """Run `program args` with `env` added to this process's environment (secrets go there, never in argv)
    and no stdin (a tool must not wait on a prompt). SourceError when it cannot start or times out."""
    full_env = {**os.environ, **env}
    try:
        return subprocess.run(
            [program, *args],
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SourceError(
            f"{tool.program} {args[0] if args else ''} ({what}) did not finish within {timeout:g}s: "
            "raise `timeout` of the entry, or check that the repository answers"
        ) from None
    except OSError as exc:
        raise SourceError(f"{tool.program} could not be started ({exc.strerror}): is `bin` right?") from None


def output_text(data: bytes, secrets: Sequence[str] = ()) -> str:
    """A tool's output as text with every secret value masked (they never reach a message)."""
    text = data.decode("utf-8", errors="replace").strip()
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def error_lines(text: str, limit: int = 4) -> str:
    """The lines of a tool's output that say what went wrong (at most `limit`), joined for one message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    wanted = [
        line
        for line in lines
        if any(word in line.lower() for word in ("error", "fatal", "fail", "invalid", "does not", "missing"))
    ]
    return "; ".join((wanted or lines)[:limit]) or "no output"


class ToolRepo(Protocol):
    """What `ToolSource` reads of a tool's repository settings (`ResticRepo`, `BorgRepo`)."""

    @property
    def repository(self) -> str: ...
    @property
    def bin(self) -> str | None: ...
    @property
    def timeout(self) -> float: ...


class ToolSource(BackupSource):
    """A repository of snapshots kept by a backup tool (restic, borg): the backup read is a file inside the
    newest snapshot under `path`, read by the tool into a local file; integrity is the tool's own check first."""

    tool: Tool
    snapshots = "snapshots"
    """What the tool calls its snapshots, for messages (`archives` for borg)."""

    def __init__(self, entry: BackupEntry, base_dir: Path, repo: ToolRepo) -> None:
        super().__init__(entry, base_dir)
        self.tool_repo = repo
        self.place = f"{self.tool.program} repository {repo.repository}"
        self.location = PurePosixPath(entry.path)
        self._program: str | None = None

    def describe(self) -> str:
        return f"folder {self.entry.path} in the {self.snapshots} of {self.place}"

    @abstractmethod
    def _env(self) -> dict[str, str]:
        """The tool's environment: its repository and secret variables (never its command line)."""

    def _arguments(self, args: builtins.list[str]) -> builtins.list[str]:
        """The command line of one call (a tool adds its own options)."""
        return args

    def _run(
        self,
        args: builtins.list[str],
        what: str,
        timeout: float | None = None,
        stdout: int | None = subprocess.PIPE,
    ) -> subprocess.CompletedProcess[bytes]:
        if self._program is None:
            self._program = self.tool.resolve(self.tool_repo.bin)
        return run_tool(
            self.tool,
            self._program,
            self._arguments(args),
            self._env(),
            timeout or self.tool_repo.timeout,
            what,
            stdout,
        )

    def stat(self, backup: BackupFile) -> BackupFile | None:
        return backup  # a snapshot never changes

    @abstractmethod
    def check_repository(self) -> str | None:
        """What the tool's own check reports wrong (its text), or None when it finds no errors."""

    def inspect(self, backup: BackupFile) -> Inspection:
        """The tool's own check of the repository first; then the file's own read."""
        problem = self.check_repository()
        if problem is not None:
            return Inspection(
                self.entry.format if self.entry.format != "auto" else "unknown", defects=[problem]
            )
        return super().inspect(backup)
