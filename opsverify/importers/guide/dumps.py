"""Every dump in a guide -> a backups entry: pg_dump, pg_dumpall, mysqldump / mariadb-dump, sqlite3 .backup,
tar -c, an application's own dump/export command. The file pattern comes from the output file (dates,
`$(date ...)`, backticks, `{placeholder}` / `<placeholder>` -> `*`, a worked example that follows fills a
placeholder name), the format from the flags and pipes (`-Fc`, `--format=`, `-Z`, `| gzip`), the folder is the
stated one or `${BACKUP_DIR}`; a cron schedule gives the tier and the newest backup's maximum age."""

from __future__ import annotations

import re
from typing import Any

from opsverify.importers.guide.lines import Command, Line
from opsverify.importers.guide.state import State, add, short

DATE = re.compile(
    r"\$\([^()]*(?:\([^()]*\)[^()]*)*\)|`[^`]*`|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{[^{}]*\}|<[^<>]*>|"
    r"YYYY[-_]?MM[-_]?DD(?:[-_T]?HH[-:]?MM(?:[-:]?SS)?)?|%[A-Za-z]|"
    r"\d{4}-\d{2}-\d{2}(?:[T_-]\d{2}[:-]?\d{2}(?:[:-]?\d{2})?)?|\d{8}(?:[_T-]?\d{4,6})?|\d{10,14}"
)
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|<[^<>]*>")
SCHEDULES = {
    "hourly": ("2h", None),
    "daily": ("26h", "daily"),
    "weekly": ("8d", "weekly"),
    "monthly": ("32d", "monthly"),
}
PG_FORMATS = {"c": "pg-custom", "custom": "pg-custom", "d": "pg-directory", "directory": "pg-directory",
              "t": "auto", "tar": "auto", "p": "pg-plain", "plain": "pg-plain"}  # fmt: skip
EXPORT_WORDS = {"dump", "export", "backup", "create-backup", "snapshot"}
OUTPUT_OPTIONS = (
    "-f",
    "--file",
    "-o",
    "--output",
    "--out",
    "--output-file",
    "--dir",
    "--result-file",
    "-r",
    "--archive",
)


def option(words: list[str], *names: str) -> str | None:
    """The value of `-f X`, `-fX`, `--file=X`, `--file X` (the last one given)."""
    found = None
    for index, word in enumerate(words):
        for name in names:
            if word == name and index + 1 < len(words):
                found = words[index + 1]
            elif name.startswith("--") and word.startswith(name + "="):
                found = word[len(name) + 1 :]
            elif len(name) == 2 and not name.startswith("--") and word.startswith(name) and len(word) > 2:
                found = word[2:]
    return found


def compressed(command: Command, target: str) -> bool:
    piped = any(segment[0] in ("gzip", "pigz") for segment in command.segments[1:] if segment)
    return piped or target.endswith((".gz", ".tgz"))


def dump_of(command: Command) -> tuple[str, str] | None:
    """(output file, backups format) of a dump command, or None when it is not one."""
    first = command.segments[0]
    program = command.program()
    if program in ("pg_dump", "pg_dumpall"):
        target = option(first, "-f", "--file") or command.out
        if target is None:
            return None
        fmt = PG_FORMATS.get((option(first, "-F", "--format") or "p").lower(), "auto")
        level = option(first, "-Z", "--compress")
        if fmt == "pg-plain" and (
            compressed(command, target) or (level and not level.startswith(("0", "none")))
        ):
            fmt = "pg-plain-gz"
        return target, fmt
    if program in ("mysqldump", "mariadb-dump"):
        target = option(first, "-r", "--result-file") or command.out
        if target is None:
            return None
        return target, "mysql-plain-gz" if compressed(command, target) else "mysql-plain"
    if program == "sqlite3" and len(first) >= 3 and first[2].lstrip().startswith(".backup"):
        target = first[2].strip().removeprefix(".backup").strip().strip("'\"") or (
            first[3] if len(first) > 3 else ""
        )
        return (target, "sqlite") if target else None
    if program == "sqlite3" and len(first) >= 3 and re.match(r"(?i)PRAGMA integrity_check", first[2]):
        return first[1], "sqlite"  # the live database's integrity, checked on a copy
    if program in ("tar", "bsdtar", "gtar") and len(first) > 1:
        return _tar_create(command)
    if program not in ("gzip", "cp", "rsync", "scp", "mv", "psql", "mysql", "pg_restore") and (
        EXPORT_WORDS & set(first[1:4])
        or any(w.endswith(":export") or w.endswith(":backup") for w in first[1:4])
    ):
        target = option(first, *OUTPUT_OPTIONS) or command.out
        if target is None:
            return None
        extension = target.rsplit(".", 1)[-1].lower() if "." in target.rsplit("/", 1)[-1] else ""
        return target, {"json": "json", "tar": "tar", "tgz": "tar", "db": "sqlite"}.get(extension, "auto")
    return None


def tar_mode(words: list[str]) -> tuple[str, str | None] | None:
    """("c" or "x", the archive) of a tar command: `-czf F`, `czf F`, `-C DIR -xzf F`, `--create --file=F`."""
    mode, archive, index = None, None, 1
    while index < len(words):
        word = words[index]
        if word in ("-C", "--directory", "-T", "--files-from", "-X", "--exclude-from"):
            index += 2
            continue
        if word in ("--create", "--extract", "-c", "-x"):
            mode = mode or word.lstrip("-")[0]
        elif word.startswith("--file="):
            archive = word.split("=", 1)[1]
        elif word in ("-f", "--file") and index + 1 < len(words):
            archive = words[index + 1]
            index += 1
        elif (
            re.fullmatch(r"-?[A-Za-z]+", word)
            and (index == 1 or word.startswith("-"))
            and not word.startswith("--")
        ):
            letters = word.lstrip("-")
            if ("c" in letters) != ("x" in letters):
                mode = mode or ("c" if "c" in letters else "x")
            if letters.endswith("f") and index + 1 < len(words):
                archive = words[index + 1]
                index += 1
        index += 1
    return (mode, archive) if mode else None


def _tar_create(command: Command) -> tuple[str, str] | None:
    found = tar_mode(command.segments[0])
    if found is None or found[0] != "c" or not found[1] or found[1] == "-":
        return None
    return found[1], "tar"


def pattern_of(target: str, after: list[Line]) -> str:
    """`/srv/backups/app_$(date +%F).sql.gz` -> `app_*.sql.gz`; a `<name>.sql` placeholder filled from the worked
    example that follows (`e.g. app-2024-05-01.sql` -> `app-*.sql`)."""
    name = target.strip("\"'").rstrip("/").rsplit("/", 1)[-1]
    pattern = re.sub(r"\*+", "*", DATE.sub("*", name))
    if _PLACEHOLDER.search(name) or pattern.startswith("*."):
        suffix = pattern.rsplit("*", 1)[-1]
        prefix = pattern.split("*", 1)[0]
        for line in after[:6]:
            for candidate in re.findall(r"[\w.-]*\d[\w.-]*", line.text):
                example = re.sub(r"\*+", "*", DATE.sub("*", candidate))
                if (
                    "*" in example
                    and example.endswith(suffix)
                    and example.startswith(prefix)
                    and len(example) > len(pattern)
                ):
                    return example
    return pattern


def backup(state: State, command: Command, after: list[Line]) -> None:
    found = dump_of(command)
    if found is None and command.program() in (
        "pg_dump",
        "pg_dumpall",
        "mysqldump",
        "mariadb-dump",
        "mongodump",
    ):
        if not command.cron:
            state.draft.skip(
                f"{state.file}:{command.line.number}: `{short(command.text)}`: a dump without an output file "
                "(to stdout or a tool's own folder): nothing to watch"
            )
        return
    if found is None:
        if command.program() == "gzip" and (
            m := re.search(r"(\S+\.sql)\b", " ".join(command.segments[0][1:]))
        ):
            _gzip_after(state, m.group(1))
        return
    target, fmt = found
    if command.via and command.via[0] == "run":  # `docker run -v HOST:/out IMAGE tar czf /out/...`
        target = target.rsplit("/", 1)[-1]
    entry_name = record_backup(state, command.line, target, fmt, after, command.text)
    if entry_name is None:
        state.draft.skip(
            f"{state.file}:{command.line.number}: `{short(command.text)}`: no file name to watch"
        )
    elif command.cron:
        schedule(state, entry_name, command.cron)


def record_backup(
    state: State, line: Line, target: str, fmt: str, after: list[Line], text: str | None = None
) -> str | None:
    """A backups entry for `target` (once per pattern); returns its name."""
    pattern = pattern_of(target, after)
    if not pattern or pattern == "*" or "/" in pattern:
        return None
    entries = state.draft.sections.get("backups", {})
    for name in state.backups:
        if entries[name]["pattern"] == pattern:
            return name
    folder = target.strip("\"'").rstrip("/").rpartition("/")[0]
    if folder.startswith("/") and not DATE.search(folder):
        path = folder
    else:
        path = state.draft.var(
            "BACKUP_DIR",
            "/var/backups",
            "the folder the guide's backups are written to"
            + (f" ({folder}/ where they run)" if folder else ""),
        )
    entry: dict[str, Any] = {"path": path, "pattern": pattern, "format": fmt}
    stem = re.sub(r"[*_.-]+", "-", pattern.split(".")[0]).strip("-") or fmt
    name = add(state, "backups", stem, entry, line, text)
    state.backups.append(name)
    return name


def schedule_kind(cron: str) -> str | None:
    """hourly, daily, weekly or monthly: how often a cron schedule runs (None when it is not clear)."""
    fields = cron.split()
    kind = cron.lstrip("@") if cron.startswith("@") else None
    if kind in ("midnight",):
        kind = "daily"
    if kind is None and len(fields) == 5:
        _, hour, day, month, weekday = fields
        if hour == "*" or hour.startswith("*/"):
            kind = "hourly"
        elif day == month == weekday == "*":
            kind = "daily"
        elif day == month == "*":
            kind = "weekly"
        elif month == "*":
            kind = "monthly"
    return kind if kind in SCHEDULES else None


def schedule(state: State, name: str, cron: str) -> None:
    """A cron schedule: the backups' tier and the newest one's maximum age."""
    kind = schedule_kind(cron)
    if kind is None:
        return
    max_age, tier = SCHEDULES[kind]
    entry = state.draft.sections["backups"][name]
    entry.setdefault("max_age", max_age)
    if tier and not entry.get("tiers"):
        entry["tiers"] = [tier]
    state.cron_daily |= kind == "daily"


def cron_line(state: State, command: Command) -> None:
    """A crontab line that runs a script: its schedule holds for the backups, its `>> FILE.log` is checked."""
    line = command.line
    state.cron_daily |= command.cron in ("@daily", "@midnight") or (
        len(command.cron.split()) == 5 and command.cron.split()[2:5] == ["*", "*", "*"]
        if command.cron
        else False
    )
    if command.out and command.out.endswith(".log"):
        folder, _, name = command.out.rpartition("/")
        backup = "backup" in command.text.lower()
        path = state.draft.var("BACKUP_LOG_DIR" if backup else "CRON_LOG_DIR", folder or "/var/log")
        entry = {"path": f"{path}/{name}", "since": "26h", "patterns": [r"(?i)\berror\b", r"(?i)\bfailed\b"]}
        add(state, "logs", f"{name.split('.')[0]}-cron-output", entry, line)
    if dump_of(command) is None and re.search(r"backup", command.text, re.IGNORECASE):
        state.draft.assume(
            f"{state.file}:{line.number}: cron line `{short(command.text)}`: the schedule sets the backups' "
            "max_age; the script's output is not known"
        )


def _gzip_after(state: State, dumped: str) -> None:
    """`gzip backup_*.sql` after a pg_dump: that backup is compressed."""
    for name in state.backups:
        entry = state.draft.sections["backups"][name]
        if entry["format"] in ("pg-plain", "mysql-plain"):
            entry["format"] += "-gz"
            entry["pattern"] += ".gz"
            return
