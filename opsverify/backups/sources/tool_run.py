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
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run `program args` with `env` added to this process's environment (secrets go there, never in argv)
    and no stdin (a tool must not wait on a prompt). SourceError when it cannot start or times out."""
    full_env = {**os.environ, **env}
    try:
        return subprocess.run(
            [program, *args],
            cwd=cwd,
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


def out_of_disk(text: str) -> bool:
    """Whether a tool's error text says the disk it wrote to is full (ENOSPC, or a quota)."""
    lowered = text.lower()
    return "no space left on device" in lowered or "disk quota exceeded" in lowered


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
    ok_codes: tuple[int, ...] = (0,)
    """Exit codes of a read that worked (borg: 1 means warnings only)."""

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
        cwd: Path | None = None,
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
            cwd,
        )

    @abstractmethod
    def _failure(self, stderr: bytes, what: str) -> str:
        """The tool's failure text as a sentence with the fix (secrets masked)."""

    @abstractmethod
    def snapshot_name(self, backup: BackupFile) -> str:
        """The snapshot (or archive) `backup` was listed in, as the tool's commands take it."""

    @abstractmethod
    def _dump_args(self, backup: BackupFile) -> builtins.list[str]:
        """The command that writes the one file `backup` to stdout."""

    @abstractmethod
    def _restore_args(self, backup: BackupFile, into: Path) -> tuple[builtins.list[str], Path]:
        """The command that restores the folder `path` of `backup`'s snapshot below `into` (run there), and
        the folder it lands in."""

    def fetch(self, backup: BackupFile, workdir: Path) -> Path:
        """The file `backup`, read out of its snapshot by the tool into `workdir`."""
        local = workdir / PurePosixPath(str(backup.path)).name
        what = f"reading {backup.path} of {self.snapshots[:-1]} {self.snapshot_name(backup)}"
        with local.open("wb") as out:
            done = self._run(self._dump_args(backup), what, stdout=out.fileno())
        full = self._out_of_disk(done.stderr, workdir, what)
        if full is None and done.returncode in self.ok_codes and local.stat().st_size < backup.size:
            full = self._short_read(
                local, backup, workdir, what
            )  # borg may stop writing a full disk silently
        if full is not None or done.returncode not in self.ok_codes:
            local.unlink(missing_ok=True)
            raise SourceError(full or self._failure(done.stderr, what))
        return local

    def _short_read(self, local: Path, backup: BackupFile, workdir: Path, what: str) -> str:
        written = local.stat().st_size
        if shutil.disk_usage(workdir).free < backup.size - written:
            return self._out_of_disk(b"no space left on device", workdir, what) or ""
        return (
            f"{self.place}: {what} stopped after {written} of {backup.size} bytes without an error: run the "
            "tool's deep check (`restic check --read-data`, `borg check --verify-data`)"
        )

    def restore_folder(self, backup: BackupFile, into: Path, timeout: float | None = None) -> Path:
        """Restore the folder `path` of the snapshot holding `backup` below the empty folder `into` (the
        caller removes it); the restored folder. SourceError naming the folder and the fix when the disk
        fills up (what was restored so far is removed at once)."""
        args, folder = self._restore_args(backup, into)
        what = f"restoring {self.entry.path} of {self.snapshots[:-1]} {self.snapshot_name(backup)}"
        done = self._run(args, what, timeout=timeout, stdout=subprocess.DEVNULL, cwd=into)
        full = self._out_of_disk(done.stderr, into, what)  # borg: exit code 1 (a "warning") when it is
        if full is not None:
            _empty(into)
            raise SourceError(full)
        if done.returncode not in self.ok_codes:
            raise SourceError(self._failure(done.stderr, what))
        if not folder.is_dir():
            raise SourceError(
                f"{self.place}: {self.snapshots[:-1]} {self.snapshot_name(backup)} has no folder "
                f"{self.entry.path}: is `path` the backed-up folder?"
            )
        return folder

    def _out_of_disk(self, stderr: bytes, folder: Path, what: str) -> str | None:
        if not out_of_disk(output_text(stderr)):
            return None
        return (
            f"{self.place}: {what} into {folder} ran out of disk space ({self.tool.program}: no space left on "
            "device): free space on that disk, or set the entry's `restore.tmp_dir` to a folder on a disk with "
            "room for the restored files (TMPDIR when unset); what was written there was removed"
        )

    def stat(self, backup: BackupFile) -> BackupFile | None:
        return backup  # a snapshot never changes

    @abstractmethod
    def check_repository(self) -> str | None:
        """What the tool's own check reports wrong (its text), or None when it finds no errors."""

    def inspect(self, backup: BackupFile) -> Inspection:
        """The tool's own check of the repository first; then the file's own read (none for a folder of
        files whose drill checks them, `restore.expect.files/min_count/sha256`, unless `format` is set)."""
        problem = self.check_repository()
        if problem is not None:
            return Inspection(
                self.entry.format if self.entry.format != "auto" else "unknown", defects=[problem]
            )
        restore = getattr(self.entry, "restore", None)
        if self.entry.format == "auto" and restore is not None and restore.expect.checks_files():
            return Inspection("files")
        return super().inspect(backup)


def _empty(folder: Path) -> None:
    """Remove what a failed restore left in `folder` (the folder itself stays: its owner removes it)."""
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
