"""Backups in a restic repository (`restic:` of a backups entry): the snapshots are the backups.

A snapshot counts when it matches the entry's `host`, `tags` and `paths`; the backup read in it is the newest
file under `path` (a folder inside the snapshot) matching `pattern`, e.g. the night's pg_dump. Freshness and
retention come from `restic snapshots --json`, the file from `restic ls --json`, the read (and the drill's
copy) from `restic dump`, integrity from `restic check` (with `--read-data-subset` for the deep tier). The
password reaches restic only as RESTIC_PASSWORD; opsverify never removes a lock (`restic unlock` is yours).
"""

from __future__ import annotations

import builtins
import datetime as dt
import fnmatch
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from opsverify.backups.files import BackupFile, Listing, Skipped
from opsverify.backups.sources.base import BackupEntry, SourceError
from opsverify.backups.sources.s3_access import S3Access
from opsverify.backups.sources.tool_run import Tool, ToolSource, error_lines, output_text

RESTIC = Tool("restic", "restic", ("RESTIC_PASSWORD",))
SUBSET = re.compile(r"^(?:(\d+)/(\d+)|cycle/([1-9]\d*)|\d+(?:\.\d+)?%|all)$")


@dataclass(frozen=True)
class ResticRepo:
    """The `restic:` block as the source uses it (built by the config model's `repo()`)."""

    repository: str
    password: str
    host: str | None = None
    tags: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    read_data_subset: str | None = None
    bin: str | None = None
    timeout: float = 600.0
    check_timeout: float = 3600.0
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """More environment for restic: the `s3:` credentials of a repository in a bucket."""


def subset_argument(subset: str | None, day_of_year: int) -> list[str]:
    """`restic check` arguments for a `read_data_subset` value: `cycle/7` reads part (day % 7) + 1 of 7 today,
    so the whole repository is read over 7 days; `n/t` and `x%` are restic's own; `all` reads everything."""
    if subset is None:
        return []
    match = SUBSET.match(subset)
    if match is None:
        raise SourceError(
            f"restic.read_data_subset {subset!r}: expected n/t (e.g. 1/7), cycle/T (e.g. cycle/7), "
            "a percentage (e.g. 10%) or all"
        )
    if subset == "all":
        return ["--read-data"]
    if match.group(3) is not None:
        total = int(match.group(3))
        return [f"--read-data-subset={day_of_year % total + 1}/{total}"]
    return [f"--read-data-subset={subset}"]


@dataclass(frozen=True)
class SnapshotFile(BackupFile):
    """A file inside a restic snapshot: `path` is its path in the snapshot, `mtime` the snapshot's time."""

    snapshot: str = ""

    @property
    def name(self) -> str:
        return f"{PurePosixPath(str(self.path)).name} (snapshot {self.snapshot[:8]})"


class ResticSource(ToolSource):
    """A restic repository: a folder, `sftp:`, `rest:` or `s3:` URL (with the entry's `s3:` credentials)."""

    name = "restic"
    block = "restic"
    tool = RESTIC

    def __init__(self, entry: BackupEntry, base_dir: Path) -> None:
        s3 = getattr(entry, "s3", None)
        env = _s3_env(s3.access()) if s3 is not None else {}
        self.repo: ResticRepo = getattr(entry, "restic").repo(env)  # noqa: B009 - the block is the source's key
        super().__init__(entry, base_dir, self.repo)

    def _env(self) -> dict[str, str]:
        env = {"RESTIC_REPOSITORY": self.repo.repository, "RESTIC_PASSWORD": self.repo.password}
        env.update(dict(self.repo.env))
        return env

    def _arguments(self, args: builtins.list[str]) -> builtins.list[str]:
        return [*args, "--no-cache"]

    def _json(self, args: builtins.list[str], what: str) -> Any:
        done = self._run([*args, "--json"], what)
        if done.returncode != 0:
            raise SourceError(self._failure(done.stderr, what))
        try:
            return json.loads(done.stdout or b"null")
        except ValueError:  # `restic ls --json`: one document per line
            try:
                return [
                    json.loads(line) for line in done.stdout.splitlines() if line.strip().startswith(b"{")
                ]
            except ValueError:
                raise SourceError(f"{self.place}: restic did not answer JSON while {what}") from None

    def _failure(self, stderr: bytes, what: str) -> str:
        """restic's failure text as a sentence with the fix (the password masked, never shown)."""
        text = output_text(stderr, [self.repo.password])
        place = self.place
        if "wrong password" in text:
            return (
                f"{place}: wrong password (restic: no key found for it): set the repository's password in "
                "the variable given to `password` (e.g. RESTIC_PASSWORD)"
            )
        if "unable to open config file" in text or "Is there a repository" in text:
            return f"{place} does not exist (no config file there): is `repository` right? (`restic init` makes one)"
        lock = re.search(r"repository is already locked (?:exclusively )?by (PID \d+ on \S+)", text)
        if lock:
            created = re.search(r"lock was created at ([^\n(]+)", text)
            when = f", created {created.group(1).strip()}" if created else ""
            return (
                f"{place} is locked by {lock.group(1)}{when}: a restic run is still going or crashed and left its "
                "lock; when none is running, remove it with `restic unlock` (opsverify never removes locks)"
            )
        return f"{place}: restic failed while {what}: {error_lines(text)}"

    def list(self, pattern: str, ignore: list[str]) -> Listing:
        snapshots = self._snapshots()
        listing = Listing(cast(Path, self.location), pattern)
        size_history = getattr(self.entry, "size_history", 5)
        for index, snapshot in enumerate(snapshots):
            when = _snapshot_time(snapshot)
            sid = str(snapshot.get("id", ""))
            if index > size_history:  # only the newest ones' sizes are compared; the rest count and age
                listing.complete.append(SnapshotFile(cast(Path, self.location), 0, when, snapshot=sid))
                continue
            found = self._newest_file(sid, pattern, ignore, listing)
            if found is None:
                listing.other_names.append(
                    f"snapshot {sid[:8]} (no file matching {pattern} in {self.entry.path})"
                )
                continue
            listing.complete.append(SnapshotFile(cast(Path, found[0]), found[1], when, snapshot=sid))
        for lock in self._locks():
            listing.in_progress.append(
                Skipped(
                    f"lock {lock[:8]}", "a restic run in progress, or a crashed one's lock (`restic unlock`)"
                )
            )
        return listing

    def _snapshots(self) -> builtins.list[dict[str, Any]]:
        args = ["snapshots"]
        repo = self.repo
        if repo.host:
            args.append(f"--host={repo.host}")
        if repo.tags:
            args.append(f"--tag={','.join(repo.tags)}")
        args += [f"--path={path}" for path in repo.paths]
        found = self._json(args, "listing snapshots") or []
        snapshots = [s for s in found if isinstance(s, dict)]
        snapshots.sort(key=lambda s: (str(s.get("time", "")), str(s.get("id", ""))), reverse=True)
        return snapshots

    def _newest_file(
        self, snapshot: str, pattern: str, ignore: builtins.list[str], listing: Listing
    ) -> tuple[PurePosixPath, int] | None:
        folder = PurePosixPath("/") / self.entry.path.strip("/")
        nodes = self._json(["ls", snapshot, str(folder)], f"listing snapshot {snapshot[:8]}")
        best: tuple[str, PurePosixPath, int] | None = None
        for node in nodes if isinstance(nodes, list) else []:
            if node.get("struct_type") != "node" or node.get("type") != "file":
                continue
            path = PurePosixPath(str(node.get("path", "")))
            if path.parent != folder or not fnmatch.fnmatch(path.name, pattern):
                continue
            if any(fnmatch.fnmatch(path.name, glob) for glob in ignore):
                continue
            key = (str(node.get("mtime", "")), path, int(node.get("size", 0)))
            if best is None or key[:2] > best[:2]:
                best = key
        return None if best is None else (best[1], best[2])

    def _locks(self) -> builtins.list[str]:
        done = self._run(["list", "locks", "--no-lock"], "listing locks")
        if done.returncode != 0:
            return []
        return [line.strip() for line in output_text(done.stdout).splitlines() if line.strip()]

    def open(self, backup: BackupFile) -> IO[bytes]:
        raise SourceError("restic snapshots are read with `fetch` (restic dump into a temporary folder)")

    def snapshot_name(self, backup: BackupFile) -> str:
        return _snapshot_of(backup)[:8]

    def _dump_args(self, backup: BackupFile) -> builtins.list[str]:
        return ["dump", _snapshot_of(backup), str(backup.path)]

    def _restore_args(self, backup: BackupFile, into: Path) -> tuple[builtins.list[str], Path]:
        folder = "/" + self.entry.path.strip("/")
        args = ["restore", _snapshot_of(backup), f"--target={into}", f"--include={folder}"]
        return args, into / folder.lstrip("/")

    def check_repository(self, day_of_year: int | None = None) -> str | None:
        """What `restic check` reports wrong (its own text), or None when it finds no errors."""
        today = day_of_year if day_of_year is not None else dt.date.today().timetuple().tm_yday
        args = ["check", *subset_argument(self.repo.read_data_subset, today)]
        started = time.monotonic()
        done = self._run(args, "checking the repository", timeout=self.repo.check_timeout)
        if done.returncode == 0:
            return None
        out = output_text(done.stdout + b"\n" + done.stderr, [self.repo.password])
        if "wrong password" in out or "already locked" in out or "unable to open config" in out:
            return self._failure(done.stderr, "checking the repository")
        return (
            f"restic check of {self.repo.repository} found errors ({time.monotonic() - started:.0f}s, "
            f"{' '.join(args)}): {error_lines(out)}; run `restic check --read-data` and repair or replace "
            "the damaged packs (`restic repair`/`rebuild-index`), then take a new backup"
        )


def _s3_env(access: S3Access) -> dict[str, str]:
    """restic's variables for a repository in a bucket, from the entry's `s3:` settings."""
    pairs = {
        "AWS_ACCESS_KEY_ID": access.access_key_id,
        "AWS_SECRET_ACCESS_KEY": access.secret_access_key,
        "AWS_SESSION_TOKEN": access.session_token,
        "AWS_DEFAULT_REGION": access.region,
        "AWS_PROFILE": access.profile,
    }
    return {key: value for key, value in pairs.items() if value}


def _snapshot_time(snapshot: dict[str, Any]) -> float:
    text = str(snapshot.get("time", ""))
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if match is None:
        raise SourceError(f"restic snapshot {snapshot.get('id', '?')}: unexpected time {text!r}")
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    fraction = (match.group(2) or ".0")[:7]
    return dt.datetime.fromisoformat(f"{match.group(1)}{fraction}{zone}").timestamp()


def _snapshot_of(backup: BackupFile) -> str:
    if not isinstance(backup, SnapshotFile) or not backup.snapshot:
        raise SourceError(f"{backup.name} was not listed from a restic repository")
    return backup.snapshot
