"""Logs probe: stream log files (plain, gzip, bzip2, xz) line by line and count the matching lines.

Files are never read whole; a rotated file last written before the window is skipped without opening it.
Only lines that can match are parsed (JSON, timestamps), so large logs with few errors scan quickly.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import io
import json
import lzma
import re
import time
import zlib
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

import docker
import docker.errors
import requests

from opsverify.connect import ConnectError, FileStat, connect
from opsverify.connect import glob as remote_glob
from opsverify.connect.docker import ChunkReader, engine_client, engine_name, short
from opsverify.expressions import lookup_path
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.logs.facts import LogLine, LogsFacts
from opsverify.kinds.logs.model import DEFAULT_TIME_FIELDS, LEVEL_RANKS, NUMERIC_LEVEL_RANKS

if TYPE_CHECKING:
    from opsverify.kinds.logs.model import LogsCheck

MAX_QUOTED_CHARS = 300
JSON_SAMPLE_LINES = 20  # first lines of each file parsed anyway, to notice a text log read as json
# A leading ISO 8601 timestamp (optionally in [ ]), a leading syslog one, or a common-log-format [...] one.
DEFAULT_TIME_REGEX = re.compile(
    r"^\[?(?P<iso>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)"
    r"|^(?P<syslog>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})"
    r"|\[(?P<clf>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]"
)


class TimestampReader:
    """Reads a line's timestamp: a regex capture (text) or a field (json), parsed to an aware UTC time."""

    def __init__(self, entry: LogsCheck, now: datetime) -> None:
        self.now = now
        self.time_format = entry.time_format
        self.zone: tzinfo = (
            datetime.now().astimezone().tzinfo or UTC
            if entry.timezone.lower() == "local"
            else ZoneInfo(entry.timezone)
        )
        self.regex = re.compile(entry.time_regex) if entry.time_regex else None
        self.fields = [entry.time_field] if entry.time_field else list(DEFAULT_TIME_FIELDS)
        self._cache: tuple[str, datetime | None] = ("", None)

    def raw_of_line(self, line: str) -> str | None:
        """The timestamp text at the start of a text line (not parsed yet: most lines never need it)."""
        if self.regex is not None:
            match = self.regex.search(line)
            if not match:
                return None
            return match["ts"] if "ts" in self.regex.groupindex else match.group(1)
        match = DEFAULT_TIME_REGEX.search(line, 0, 160)
        return match.group(match.lastgroup or 0) if match else None

    def of_document(self, document: dict[str, Any]) -> datetime | None:
        for name in self.fields:
            found, value = lookup_path(document, name)
            if found and value is not None and not isinstance(value, bool):
                return self.parse(value)
        return None

    def parse(self, value: Any) -> datetime | None:
        if isinstance(value, int | float):
            return _from_epoch(float(value))
        text = str(value).strip()
        if self._cache[0] == text:
            return self._cache[1]
        parsed = self._parse_text(text)
        self._cache = (text, parsed)
        return parsed

    def _parse_text(self, text: str) -> datetime | None:
        parsed: datetime | None = None
        try:
            if self.time_format:
                parsed = datetime.strptime(text, self.time_format)
            elif re.fullmatch(r"\d{9,19}(\.\d+)?", text):
                return _from_epoch(float(text))
            elif re.match(r"\d{4}-\d{2}-\d{2}", text):
                parsed = datetime.fromisoformat(text.replace(",", "."))
            elif re.match(r"\d{2}/[A-Z][a-z]{2}/\d{4}:", text):
                parsed = datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z")
            elif re.match(r"[A-Z][a-z]{2} [ \d]\d ", text):
                parsed = _syslog_time(text, self.now, self.zone)
        except ValueError:
            return None
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        return parsed.astimezone(UTC)


def _from_epoch(value: float) -> datetime | None:
    for scale in (1, 1e3, 1e6, 1e9):  # seconds, ms, µs, ns since 1970
        if value / scale < 1e10:
            return datetime.fromtimestamp(value / scale, UTC)
    return None


def _syslog_time(text: str, now: datetime, zone: tzinfo) -> datetime:
    """`Nov 23 06:25:55` has no year: this year, or last year when that would be in the future."""
    parsed = datetime.strptime(f"{now.year} {text}", "%Y %b %d %H:%M:%S").replace(tzinfo=zone)
    if parsed - now > timedelta(days=1):
        parsed = parsed.replace(year=now.year - 1)
    return parsed


class LineMatcher:
    """Decides whether a line counts: level (or above) and/or any of the patterns."""

    def __init__(self, entry: LogsCheck) -> None:
        self.json = entry.format == "json"
        self.level_field = entry.level_field
        self.patterns = [re.compile(p) for p in entry.patterns]
        self.threshold = LEVEL_RANKS[entry.level] if entry.level else None
        words = sorted(
            (name for name, rank in LEVEL_RANKS.items() if self.threshold and rank >= self.threshold),
            key=len,
            reverse=True,
        )
        alternatives = "|".join(words)
        # Cheap tests before anything is parsed: can this line possibly be of the level? Plain substring
        # tests on the upper-cased line (ERR covers ERROR, CRIT covers CRITICAL), and for JSON a numeric level.
        self.level_words = [w for w in words if not any(o != w and o in w for o in words)]
        key = re.escape(entry.level_field.split(".")[-1])
        self.numeric_level = re.compile(rf"\"{key}\"\s*:\s*\d") if words and self.json else None
        # Text logs: `ERROR` as a word, `[error]` (nginx, apache) or `level=error` (logfmt).
        self.text_level = (
            re.compile(
                rf"\b(?:{alternatives})\b|(?i:\[(?:{alternatives})\]|\blevel\s*[=:]\s*\"?(?:{alternatives})\b)"
            )
            if words
            else None
        )

    def possible(self, line: str) -> bool:
        if self.patterns and not any(p.search(line) for p in self.patterns):
            return False
        if not self.level_words:
            return True
        upper = line.upper()
        if any(word in upper for word in self.level_words):
            return True
        return self.numeric_level is not None and self.numeric_level.search(line) is not None

    def text_matches(self, line: str) -> bool:
        return self.text_level is None or self.text_level.search(line) is not None

    def document_matches(self, document: dict[str, Any]) -> bool:
        if self.threshold is None:
            return True
        found, value = lookup_path(document, self.level_field)
        if not found:
            return False
        if isinstance(value, int | float) and not isinstance(value, bool):
            rank = NUMERIC_LEVEL_RANKS.get(int(value // 10 * 10), 70 if value > 60 else 0)
        else:
            rank = LEVEL_RANKS.get(str(value).upper(), 0)
        return rank >= self.threshold


def probe(entry: LogsCheck, ctx: ProbeContext) -> LogsFacts:
    """Count the lines of `entry`'s files that match, within the window, keeping the first `show`."""
    started = time.perf_counter()
    facts = LogsFacts(globs=entry.globs)
    now = datetime.now(UTC)
    facts.window_start = now - timedelta(seconds=entry.since) if entry.since is not None else None
    if entry.source == "docker":
        _probe_docker(entry, facts, now)
        facts.elapsed_ms = (time.perf_counter() - started) * 1000
        return facts
    if entry.via is not None and not entry.via.is_local:
        _probe_remote(entry, ctx, facts, now)
        facts.elapsed_ms = (time.perf_counter() - started) * 1000
        return facts
    paths = find_files(entry.globs, ctx)
    if not paths and not entry.missing_ok:
        where = ", ".join(str(ctx.path(g)) for g in entry.globs)
        facts.error = f"no log file matches {where}"
    reader, matcher = TimestampReader(entry, now), LineMatcher(entry)
    for path in paths:
        try:
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            if facts.window_start is not None and modified < facts.window_start:
                facts.skipped.append(str(path))
                continue
            facts.files.append(str(path))
            with open_log(path) as stream:
                _scan(stream, str(path), modified, entry, facts, reader, matcher)
        except PermissionError:
            facts.unreadable[str(path)] = "permission denied (run the checks as a user that can read it)"
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            facts.unreadable[str(path)] = f"{type(exc).__name__}: {exc} (a damaged or truncated archive?)"
    facts.elapsed_ms = (time.perf_counter() - started) * 1000
    return facts


def _probe_remote(entry: LogsCheck, ctx: ProbeContext, facts: LogsFacts, now: datetime) -> None:
    """The same scan on another machine: files found by glob there and streamed (never copied whole)."""
    assert entry.via is not None
    where = entry.via.describe()
    reader, matcher = TimestampReader(entry, now), LineMatcher(entry)
    try:
        with connect(entry.via, ctx.base_dir) as machine:
            found: dict[str, FileStat] = {}
            for pattern in entry.globs:
                if "**" in pattern:
                    facts.error = f"`**` globs are not supported via {where}: name the folders ({pattern})"
                    return
                found.update((stat.path, stat) for stat in remote_glob(machine, pattern) if not stat.is_dir)
            files = sorted(found.values(), key=lambda stat: (stat.mtime, stat.path))
            if not files and not entry.missing_ok:
                facts.error = f"no log file matches {', '.join(entry.globs)} on {where}"
            for stat in files:
                name = f"{where}:{stat.path}"
                modified = datetime.fromtimestamp(stat.mtime, UTC)
                if facts.window_start is not None and modified < facts.window_start:
                    facts.skipped.append(name)
                    continue
                facts.files.append(name)
                try:
                    with machine.open(stat.path) as raw, decompressed(raw) as stream:
                        _scan(stream, name, modified, entry, facts, reader, matcher)
                except ConnectError as exc:
                    facts.unreadable[name] = str(exc)
                except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
                    facts.unreadable[name] = f"{type(exc).__name__}: {exc} (a damaged or truncated archive?)"
    except ConnectError as exc:
        facts.error = str(exc)


def _probe_docker(entry: LogsCheck, facts: LogsFacts, now: datetime) -> None:
    """`docker logs --since` of a container or of a compose service's containers, through the Engine API:
    stdout and stderr, streamed line by line."""
    reader, matcher = TimestampReader(entry, now), LineMatcher(entry)
    try:
        client = engine_client(entry.docker_host, 30)
    except ConnectError as exc:
        facts.error = str(exc)
        return
    engine = entry.docker_host or engine_name()
    try:
        if entry.container is not None:
            try:
                containers = [client.containers.get(entry.container)]
            except docker.errors.NotFound:
                facts.error = (
                    f"no container named {entry.container} on the Docker engine at {engine}; check the name "
                    "with `docker ps -a` (compose names it PROJECT-SERVICE-1), or give `project:` + `service:`"
                )
                return
        else:
            labels = [
                f"com.docker.compose.project={entry.project}",
                f"com.docker.compose.service={entry.service}",
            ]
            containers = client.containers.list(all=True, filters={"label": labels})
            if not containers:
                facts.error = (
                    f"no container of compose service {entry.service} in project {entry.project} on the Docker "
                    f"engine at {engine}: is it deployed (`docker compose ps`)?"
                )
                return
        since = int(facts.window_start.timestamp()) if facts.window_start is not None else None
        for container in sorted(containers, key=lambda c: c.name or ""):
            name = f"container {container.name}"
            facts.files.append(name)
            chunks = container.logs(stdout=True, stderr=True, stream=True, follow=False, since=since)
            with io.TextIOWrapper(
                io.BufferedReader(ChunkReader(iter(chunks))), encoding="utf-8", errors="replace"
            ) as stream:
                _scan(stream, name, now, entry, facts, reader, matcher)
    except (docker.errors.DockerException, requests.RequestException, ConnectError) as exc:
        facts.error = f"reading the logs from the Docker engine at {engine} failed: {short(exc)}"
    finally:
        client.close()


def decompressed(raw: IO[bytes]) -> IO[str]:
    """A text stream of a plain or compressed (gzip, bzip2, xz: told by magic bytes) binary stream."""
    buffered: Any = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(Any, raw))
    head = buffered.peek(6)[:6]
    binary: Any = buffered
    if head.startswith(b"\x1f\x8b"):
        binary = gzip.GzipFile(fileobj=buffered)
    elif head.startswith(b"BZh"):
        binary = bz2.BZ2File(buffered)
    elif head.startswith(b"\xfd7zXZ\x00"):
        binary = lzma.LZMAFile(buffered)  # noqa: SIM115 - returned open to the caller
    return io.TextIOWrapper(binary, encoding="utf-8", errors="replace")


def find_files(globs: list[str], ctx: ProbeContext) -> list[Path]:
    """Regular files matching any glob, oldest first (rotated files before the live one)."""
    found: dict[Path, float] = {}
    for pattern in globs:
        for name in glob.glob(str(ctx.path(pattern)), recursive=True):
            path = Path(name)
            try:
                if path.is_file():
                    found[path] = path.stat().st_mtime
            except OSError:
                continue
    return sorted(found, key=lambda p: (found[p], str(p)))


def open_log(path: Path) -> IO[str]:
    """A text stream of a plain or compressed (gzip, bzip2, xz: told by magic bytes) log file."""
    with path.open("rb") as raw:
        head = raw.read(6)
    if head.startswith(b"\x1f\x8b"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    if head.startswith(b"BZh"):
        return bz2.open(path, "rt", encoding="utf-8", errors="replace")
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def _scan(
    stream: IO[str],
    name: str,
    modified: datetime,
    entry: LogsCheck,
    facts: LogsFacts,
    reader: TimestampReader,
    matcher: LineMatcher,
) -> None:
    last_stamp: str | None = None  # text logs: a line without a timestamp belongs to the one above it
    is_json = entry.format == "json"
    track_time = not is_json and facts.window_start is not None
    for number, line in enumerate(stream, 1):
        facts.lines_read += 1
        if track_time:
            stamp = reader.raw_of_line(line)
            if stamp is not None:
                last_stamp = stamp
        sampled = is_json and number <= JSON_SAMPLE_LINES
        if not matcher.possible(line) and not sampled:
            continue
        when: datetime | None
        if is_json:
            document = _json_object(line, facts)
            if document is None or not matcher.possible(line) or not matcher.document_matches(document):
                continue
            when = reader.of_document(document)
        else:
            if not matcher.text_matches(line):
                continue
            when = reader.parse(last_stamp) if last_stamp is not None else None
        if facts.window_start is not None:
            if when is None:
                facts.untimed += 1
                when = modified
            if when < facts.window_start:
                continue
        facts.count += 1
        if len(facts.matches) < entry.show:
            text = line.rstrip("\r\n")
            if len(text) > MAX_QUOTED_CHARS:
                text = text[:MAX_QUOTED_CHARS] + " …"
            facts.matches.append(LogLine(name, number, text))


def _json_object(line: str, facts: LogsFacts) -> dict[str, Any] | None:
    text = line.strip()
    if not text:
        return None
    facts.json_checked += 1
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        facts.not_json += 1
        return None
    return document
