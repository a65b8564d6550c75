"""Backups in a pgBackRest repository (`pgbackrest:` of a backups entry): the stanza's backups are the backups.

Freshness, sizes and retention come from `pgbackrest info --output=json` (every full, diff and incr backup,
newest first; `max_age` per type in the block), integrity from the stanza's status, its WAL archive
covering the newest backup, and `pgbackrest verify` (which reads and checks every file of the repository).
opsverify runs pgbackrest as the user running it; the repository must be readable by that user.
"""

from __future__ import annotations

import builtins
import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from opsverify.backups.files import BackupFile, Listing
from opsverify.backups.inspection import Inspection
from opsverify.backups.sources.base import BackupEntry, BackupSource, SourceError
from opsverify.backups.sources.pgbackrest_live import archive_lag_problem, read_live_wal
from opsverify.backups.sources.tool_run import Tool, error_lines, output_text, run_tool
from opsverify.units import human_duration

PGBACKREST = Tool("pgbackrest", "pgbackrest", ("PGBACKREST_REPO1_CIPHER_PASS",))
LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ P\d+ +\w+: ")
STATUS_FIXES = {
    1: "the stanza does not exist in the repository: is `stanza` right? (`pgbackrest stanza-create` makes it)",
    2: "the stanza has no backups: run `pgbackrest --stanza=STANZA --type=full backup`",
    3: "the stanza's data is missing in the repository: run `pgbackrest stanza-upgrade` or recreate the stanza",
    4: "the repositories hold different database versions: check the stanza on each repository",
    5: "the database does not match the repository: check `pg1-path` and the stanza",
    6: "a backup or expire is running on the stanza: check again when it has finished",
}


@dataclass(frozen=True)
class PgBackRestRepo:
    """The `pgbackrest:` block as the source uses it (built by the config model's `repo()`)."""

    stanza: str
    config: str | None = None
    repo: int | None = None
    verify: bool = True
    max_age: tuple[tuple[str, float], ...] = ()
    bin: str | None = None
    timeout: float = 120.0
    verify_timeout: float = 3600.0
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    live_url: str | None = field(default=None, repr=False)
    check: bool = True
    check_timeout: float = 300.0
    max_archive_lag: float = 3600.0


@dataclass(frozen=True)
class StanzaBackup(BackupFile):
    """One backup of the stanza: `path` is its label, `mtime` when it stopped, `size` the database's size."""

    type: str = "full"
    archive_stop: str = ""
    version: str = ""  # the PostgreSQL major version backed up (15)

    @property
    def label(self) -> str:
        return PurePosixPath(str(self.path)).name

    @property
    def name(self) -> str:
        return f"{self.type} backup {self.label}"


class PgBackRestSource(BackupSource):
    """A pgBackRest stanza in its repository (as its `pgbackrest.conf` describes it)."""

    name = "pgbackrest"
    block = "pgbackrest"

    def __init__(self, entry: BackupEntry, base_dir: Path) -> None:
        super().__init__(entry, base_dir)
        self.repo: PgBackRestRepo = getattr(entry, "pgbackrest").repo_settings()  # noqa: B009 - the source's key
        where = f" ({self.repo.config})" if self.repo.config else ""
        self.place = f"pgBackRest stanza {self.repo.stanza}{where}"
        self.location = PurePosixPath(self.repo.stanza)
        self._program: str | None = None
        self._info: dict[str, Any] = {}

    def describe(self) -> str:
        return self.place or f"pgBackRest stanza {self.repo.stanza}"

    def _run(
        self, command: str, what: str, timeout: float | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        if self._program is None:
            self._program = PGBACKREST.resolve(self.repo.bin)
        level = "info" if command == "verify" else "warn"  # verify reports its findings at info, exit code 0
        args = [f"--stanza={self.repo.stanza}", f"--log-level-console={level}", "--log-level-file=off"]
        if self.repo.config:
            args.append(f"--config={self.repo.config}")
        if self.repo.repo is not None:
            args.append(f"--repo={self.repo.repo}")
        env = dict(self.repo.env)
        if command == "info":
            args.append("--output=json")
        return run_tool(PGBACKREST, self._program, [command, *args], env, timeout or self.repo.timeout, what)

    def _failure(self, done: subprocess.CompletedProcess[bytes], what: str) -> str:
        text = output_text(done.stderr + b"\n" + done.stdout, [v for _k, v in self.repo.env])
        if "unable to open missing file" in text and self.repo.config and self.repo.config in text:
            return f"{self.place}: the config file {self.repo.config} does not exist: is `config` right?"
        return f"{self.place}: pgbackrest failed while {what}: {error_lines(text)}"

    def list(self, pattern: str, ignore: builtins.list[str]) -> Listing:
        done = self._run("info", "reading the stanza's info")
        if done.returncode != 0:
            raise SourceError(self._failure(done, "reading the stanza's info"))
        try:
            stanzas = json.loads(done.stdout)
        except ValueError:
            raise SourceError(f"{self.place}: `pgbackrest info --output=json` did not answer JSON") from None
        stanza = next((s for s in stanzas if isinstance(s, dict) and s.get("name") == self.repo.stanza), {})
        self._info = stanza
        status = stanza.get("status", {})
        code = int(status.get("code", 99))
        if code not in (0, 2):
            fix = STATUS_FIXES.get(code, "see `pgbackrest info` for the stanza")
            raise SourceError(f"{self.place}: pgbackrest says {status.get('message', 'error')!r}: {fix}")
        listing = Listing(cast(Path, self.location), pattern)
        versions = {db.get("id"): str(db.get("version", "")) for db in stanza.get("db", [])}
        for backup in stanza.get("backup", []):
            stamp = backup.get("timestamp", {})
            listing.complete.append(
                StanzaBackup(
                    cast(Path, PurePosixPath(str(backup.get("label", "")))),
                    int(backup.get("info", {}).get("size", 0)),
                    float(stamp.get("stop", stamp.get("start", 0))),
                    type=str(backup.get("type", "full")),
                    archive_stop=str((backup.get("archive") or {}).get("stop") or ""),
                    version=versions.get((backup.get("database") or {}).get("id"), ""),
                )
            )
        listing.complete.sort(key=lambda b: (b.mtime, str(b.path)), reverse=True)
        return listing

    def stat(self, backup: BackupFile) -> BackupFile | None:
        return backup

    def open(self, backup: BackupFile) -> IO[bytes]:
        raise SourceError(
            "a pgBackRest backup is a data directory: its drill is `pgbackrest restore` (restore: of the entry)"
        )

    def inspect(self, backup: BackupFile) -> Inspection:
        """The stanza's own problems: backups marked in error, per-type ages, the WAL archive, `verify`."""
        started = time.monotonic()
        inspection = Inspection("pgbackrest", bytes_read=backup.size)
        inspection.defects += self._type_ages()
        inspection.defects += self._archive_problems(backup)
        if self.repo.live_url:
            inspection.defects += self._live_problems()
        if self.repo.verify:
            problem = self.verify()
            if problem is not None:
                inspection.defects.append(problem)
        inspection.seconds = time.monotonic() - started
        return inspection

    def _type_ages(self) -> builtins.list[str]:
        now, problems = time.time(), []
        backups = self._info.get("backup", [])
        for kind, limit in self.repo.max_age:
            stops = [float(b.get("timestamp", {}).get("stop", 0)) for b in backups if b.get("type") == kind]
            if kind in ("diff", "incr"):  # a newer full backup also makes a diff/incr unnecessary
                stops += [
                    float(b.get("timestamp", {}).get("stop", 0)) for b in backups if b.get("type") == "full"
                ]
            if not stops:
                problems.append(
                    f"no {kind} backup in the stanza: expected one at most {human_duration(limit)} old"
                )
                continue
            age = now - max(stops)
            if age > limit:
                problems.append(
                    f"newest {kind} backup: expected at most {human_duration(limit)} old "
                    f"(pgbackrest.max_age.{kind}), got {human_duration(age)} old"
                )
        return problems

    def _archive_problems(self, backup: BackupFile) -> builtins.list[str]:
        archives = self._info.get("archive", [])
        newest_wal = max((str(a.get("max") or "") for a in archives), default="")
        stop = backup.archive_stop if isinstance(backup, StanzaBackup) else ""
        if not newest_wal:
            return ["the WAL archive is empty: the backup cannot be made consistent; check `archive_command`"]
        if stop and newest_wal < stop:
            return [
                f"the WAL archive ends at {newest_wal}, before the backup's last segment {stop}: archiving "
                "stopped; check `archive_command` and the PostgreSQL log"
            ]
        return []

    def _live_problems(self) -> builtins.list[str]:
        """Against the live database: the archive lag, then `pgbackrest check` (archive_command works, the
        stanza's config matches the database)."""
        assert self.repo.live_url is not None
        problems = []
        live = read_live_wal(self.repo.live_url, self.repo.timeout)
        newest_wal = max((str(a.get("max") or "") for a in self._info.get("archive", [])), default="")
        if isinstance(live, str):
            problems.append(live)
        elif newest_wal:
            lag = archive_lag_problem(newest_wal, live, self.repo.max_archive_lag)
            if lag is not None:
                problems.append(lag)
        if self.repo.check:
            done = self._run("check", "checking the stanza", timeout=self.repo.check_timeout)
            if done.returncode != 0:
                text = output_text(done.stderr + b"\n" + done.stdout, [v for _k, v in self.repo.env])
                problems.append(
                    f"pgbackrest check of stanza {self.repo.stanza} failed: {error_lines(LOG_PREFIX.sub('', text))}; "
                    "archive_command must push WAL to this repository and the stanza's pg1-path/port must be "
                    "this database's (run `pgbackrest --stanza=STANZA check` to see it)"
                )
        return problems

    def verify(self) -> str | None:
        """What `pgbackrest verify` reports wrong (its own lines), or None."""
        done = self._run("verify", "verifying the repository", timeout=self.repo.verify_timeout)
        text = output_text(done.stdout + b"\n" + done.stderr, [v for _k, v in self.repo.env])
        findings = [
            LOG_PREFIX.sub("", line).strip()
            for line in text.splitlines()
            if re.search(r"invalid|missing|ERROR|status: error", line)
        ]
        if done.returncode == 0 and not findings:
            return None
        shown = "; ".join(findings[:4]) or error_lines(text)
        return (
            f"pgbackrest verify of stanza {self.repo.stanza} found errors: {shown}; "
            "take a new full backup, and find what damaged the repository"
        )
