"""`opsverify draft`: backups kept in S3-compatible storage become backups entries over the bucket prefix.

Three forms in a guide: `aws s3 cp|mv FILE s3://bucket/prefix/` (the file's name, dates as `*`, is the
pattern), `aws s3 sync DIR s3://bucket/prefix/` (a synced folder: its listing only — newest age, object
count), an SDK upload (`putObject({Bucket: 'b', Key: `name-${Date.now()}.json`})`), and a statement that
backups are "stored in S3" (the guide's latest backup pattern, its schedule and retention, in a bucket to
fill in). Kept apart from the `guide` package, which calls `draft_s3_backups` with its own way of adding an entry.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from opsverify.importers.draft import Draft


class GuideLine(Protocol):
    number: int
    text: str


AddBackup = Callable[[str, dict[str, Any], Any], str]
"""(name, entry, line) -> the name used: adds a backups entry quoting its line."""

_AWS = re.compile(r"\baws\s+s3\s+(cp|mv|sync)\s+(.+)")
_URL = re.compile(r"^s3://([^/\s]+)/?(\S*)$")
_BUCKET = re.compile(r"\bBucket\s*[:=]\s*['\"]([^'\"]+)['\"]")
_KEY = re.compile(r"\bKey\s*[:=]\s*f?[`'\"]([^`'\"]+)[`'\"]")
_STORED = re.compile(
    r"\b(?:stored|kept|copied|uploaded|synced|archived)\s+(?:in|to)\s+(?:AWS\s+|Amazon\s+)?S3\b", re.I
)
_RETAINED = re.compile(r"\bretained\s+(\d+)\s+days?\b", re.I)
_DATES = re.compile(r"\$?\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_]+|\d{8}(?:[_-]?\d{4,6})?|YYYYMMDD(?:_HHMMSS)?")
FORMATS = (
    (".sql.gz", "pg-plain-gz"),
    (".sql", "pg-plain"),
    (".dump", "pg-custom"),
    (".tar.gz", "tar"),
    (".tgz", "tar"),
    (".tar", "tar"),
    (".json", "json"),
    (".db", "sqlite"),
    (".sqlite", "sqlite"),
)
_EVERY = {"daily": ("26h", "26h", 1), "weekly": ("8d", "8d", 7), "monthly": ("32d", "32d", 31)}


def draft_s3_backups(lines: Sequence[GuideLine], draft: Draft, add: AddBackup, backups: list[str]) -> None:
    """Add a backups entry for each S3 upload the guide shows or states (see the module's docstring)."""
    for index, line in enumerate(lines):
        if m := _AWS.search(line.text):
            _aws(draft, add, line, m.group(1), m.group(2))
        elif "putObject" in line.text or "put_object" in line.text or "upload_file" in line.text:
            _sdk_upload(draft, add, line, " ".join(other.text for other in lines[index : index + 8]))
        elif _STORED.search(line.text) and "s3://" not in line.text:
            _stored(draft, add, line, backups)


def _s3(draft: Draft) -> dict[str, Any]:
    return {"region": draft.var("AWS_REGION", "us-east-1")}


def _aws(draft: Draft, add: AddBackup, line: GuideLine, verb: str, rest: str) -> None:
    command = re.sub(r"\$\([^)]*\)", "${DATE}", rest.split("|")[0].split(";")[0])
    try:
        words = [w for w in shlex.split(command) if not w.startswith("-")]
    except ValueError:
        return
    if len(words) < 2 or words[0].startswith("s3://"):
        return  # a download (s3:// first), or no destination
    target = next((m for w in words[1:] if (m := _URL.match(w))), None)
    if target is None:
        return
    bucket, key = target.group(1), target.group(2)
    source = words[0]
    if verb == "sync":
        prefix = key if not key or key.endswith("/") else key + "/"
        entry = {
            "path": f"s3://{bucket}/{prefix}",
            "pattern": "*",
            "read_newest": False,
            "max_shrink_pct": 100,
            "retention": {"min_count": 1},
            "s3": {**_s3(draft), "recursive": True},
        }
        add(prefix.strip("/").split("/")[-1] or bucket, entry, line)
        return
    name = source.rstrip("/").rsplit("/", 1)[-1]
    if key and not key.endswith("/"):
        key, _, name = key.rpartition("/")
        key = f"{key}/" if key else ""
    pattern = _DATES.sub("*", name)
    add(
        _stem(pattern),
        {"path": f"s3://{bucket}/{key}", "pattern": pattern, "format": _format(pattern), "s3": _s3(draft)},
        line,
    )


def _sdk_upload(draft: Draft, add: AddBackup, line: GuideLine, text: str) -> None:
    bucket, key = _BUCKET.search(text), _KEY.search(text)
    if bucket is None or key is None:
        return
    prefix, _, name = key.group(1).rpartition("/")
    pattern = _DATES.sub("*", name)
    entry = {
        "path": f"s3://{bucket.group(1)}/{prefix + '/' if prefix else ''}",
        "pattern": pattern,
        "format": _format(pattern),
        "s3": _s3(draft),
    }
    add(_stem(pattern), entry, line)


def _stored(draft: Draft, add: AddBackup, line: GuideLine, backups: list[str]) -> None:
    """ "Weekly manual backups (retained 90 days, stored in S3)": the guide's latest backup, in a bucket."""
    known = draft.sections.get("backups", {})
    local = next((known[name] for name in reversed(backups) if name in known), None)
    entry: dict[str, Any] = {
        "path": "s3://" + draft.var("S3_BACKUP_BUCKET", "my-backups") + "/",
        "pattern": local["pattern"] if local else "*",
        "format": local["format"] if local else "auto",
        "s3": _s3(draft),
    }
    every = next((word for word in _EVERY if re.search(rf"\b{word}\b", line.text, re.I)), None)
    if every is not None:
        max_age, gap, days = _EVERY[every]
        entry["max_age"] = max_age
        if m := _RETAINED.search(line.text):
            kept = int(m.group(1))
            entry["retention"] = {
                "min_age": f"{max(kept - days, 1)}d",
                "max_age": f"{kept + days + 1}d",
                "max_gap": gap,
            }
    add(f"{every or 's3'}-s3", entry, line)


def _format(pattern: str) -> str:
    lowered = pattern.lower()
    return next((fmt for suffix, fmt in FORMATS if lowered.endswith(suffix)), "auto")


def _stem(pattern: str) -> str:
    return re.sub(r"[*_.-]+", "-", pattern.split(".")[0]).strip("-") or "s3-backup"
