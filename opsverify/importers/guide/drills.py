"""Every restore procedure in a guide -> a restore drill on its backups entry: `psql db < file`, `gunzip -c file |
psql`, `pg_restore -d db file`, `mysql db < file` (also through `docker compose exec -T`); the engine from the
client, the tables to expect when the text after it names them; `tar -x` of an archive -> its backups entry
checks the archive's members. A "Restore" section or an RTO without a command drills the first database dump."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from opsverify.importers.guide.dumps import pattern_of, record_backup, tar_mode
from opsverify.importers.guide.lines import Command, Line
from opsverify.importers.guide.state import State

READERS = {"cat", "gunzip", "zcat", "gzip", "pv", "bzcat", "xzcat", "pigz"}
PG_CLIENTS = {"psql", "pg_restore"}
MYSQL_CLIENTS = {"mysql", "mariadb"}
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?$")
_TABLE_WORDS = re.compile(r"(?i)\b(tables?|rows?|populated|empty|hold|back|exists?|count|records?)\b")
SANDBOXES = {
    "pg": ("DRILL_ADMIN_URL", "postgresql://postgres:change-me@127.0.0.1:55432/postgres", "PostgreSQL"),
    "mysql": ("DRILL_MYSQL_ADMIN_URL", "mysql://root:change-me@127.0.0.1:33306/", "MySQL/MariaDB"),
}


def restore_of(command: Command) -> tuple[str, str] | None:
    """(backup file, engine) of a restore command, or None."""
    clients = [
        i
        for i, segment in enumerate(command.segments)
        if segment and segment[0] in PG_CLIENTS | MYSQL_CLIENTS
    ]
    if not clients:
        return None
    index = clients[-1]
    client = command.segments[index]
    engine = "pg" if client[0] in PG_CLIENTS else "mysql"
    source = command.into
    if index > 0 and command.segments[0] and command.segments[0][0] in READERS:
        files = [w for w in command.segments[0][1:] if not w.startswith("-")]
        source = files[0] if files else source
    if client[0] == "pg_restore" and source is None:
        positional = [w for w in client[1:] if not w.startswith("-")]
        options_with_values = {
            "-d",
            "--dbname",
            "-U",
            "--username",
            "-h",
            "--host",
            "-p",
            "--port",
            "-j",
            "--jobs",
            "-n",
            "-t",
            "-f",
        }
        values = {client[i + 1] for i, w in enumerate(client[:-1]) if w in options_with_values}
        positional = [w for w in positional if w not in values]
        source = positional[-1] if positional else None
    if client[0] == "psql" and source is None:
        source = _option(client, "-f", "--file")
    if (
        source is None
        or source.startswith("-")
        or not re.search(r"\d|\.(sql|dump|gz|bak|backup)\b|\*", source)
    ):
        return None
    return source, engine


def _option(words: list[str], short: str, long: str) -> str | None:
    for index, word in enumerate(words):
        if word in (short, long) and index + 1 < len(words):
            return words[index + 1]
        if word.startswith(long + "="):
            return word[len(long) + 1 :]
    return None


def _format_for(source: str, engine: str, client: str) -> str:
    if engine == "mysql":
        return "mysql-plain-gz" if source.endswith(".gz") else "mysql-plain"
    if source.endswith(".gz"):
        return "pg-plain-gz"
    if client == "pg_restore":
        return "pg-custom" if "." in source.rsplit("/", 1)[-1] else "pg-directory"
    return "pg-plain"


def restore(state: State, command: Command, after: list[Line]) -> None:
    """A restore command: the drill of the backups entry it restores (created from the file when the guide
    never showed the dump)."""
    if command.program() in ("tar", "bsdtar", "gtar"):
        _tar_extract(state, command, after)
        return
    found = restore_of(command)
    if found is None:
        _restore_script(state, command, after)
        return
    source, engine = found
    client = next(s[0] for s in command.segments if s and s[0] in PG_CLIENTS | MYSQL_CLIENTS)
    name = _entry_for(state, source, engine, after)
    if name is None:
        name = record_backup(
            state, command.line, source, _format_for(source, engine, client), after, command.text
        )
    if name is None:
        return
    state.restores.append((name, command.line))
    entry = state.draft.sections["backups"][name]
    drill = entry.setdefault("restore", {})
    variable, example, server = SANDBOXES[engine]
    drill.setdefault("sandbox", "url")
    drill.setdefault(
        "sandbox_url",
        state.draft.var(
            variable,
            example,
            f"admin URL of a SEPARATE scratch {server} server for the restore drill, never production: the "
            "drill creates a throwaway database there, restores the newest backup into it and drops it",
        ),
    )
    tables = _tables_named(command.line, after)
    if tables:
        drill.setdefault("expect", {}).setdefault("tables", tables)
    entry["description"] += (
        f"; restore drill from {state.file}:{command.line.number}: {' '.join(command.text.split())[:100]}"
    )


def _entry_for(state: State, source: str, engine: str, after: list[Line]) -> str | None:
    entries = state.draft.sections.get("backups", {})
    pattern = pattern_of(source, after)
    kinds = ("pg",) if engine == "pg" else ("mysql",)
    same = [n for n in state.backups if entries[n]["pattern"] == pattern]
    if same:
        return same[0]
    name = source.strip("\"'").rsplit("/", 1)[-1]
    for candidate in state.backups:
        entry = entries[candidate]
        if fnmatch.fnmatch(name, entry["pattern"]) and str(entry["format"]).startswith((*kinds, "auto")):
            return candidate
    return None


def _tables_named(line: Line, after: list[Line]) -> list[str]:
    """Tables the text right after a restore names (`the \\`orders\\` table is back`, `SELECT count(*) FROM x`)."""
    tables: list[str] = []
    for other in after[:12]:
        if other.heading != line.heading:
            break
        text = other.text
        candidates: list[str] = []
        if other.code is None and _TABLE_WORDS.search(text):
            candidates += [w for w in re.findall(r"`([^`\s]+)`", text)]
        candidates += re.findall(r"(?i)\bfrom\s+([A-Za-z_][\w.]*)", text)
        for word in candidates:
            if _TABLE.match(word) and word not in tables and word.lower() not in ("select", "from", "null"):
                tables.append(word)
    return tables[:10]


_DATED_DUMP = re.compile(r"\S*(?:\d{8}|YYYYMMDD|\d{4}-\d{2}-\d{2})\S*\.(?:sql(?:\.gz)?|dump|tar\.gz|db)$")
_BY_EXTENSION = {"gz": "pg-plain-gz", "sql": "pg-plain", "dump": "pg-custom", "db": "sqlite"}


def _restore_script(state: State, command: Command, after: list[Line]) -> None:
    """`./restore.sh backups/db_20240101.sql.gz`, `backup.sh --restore FILE`: the backups that script restores
    (the drill comes from the guide's restore section)."""
    words = command.segments[0]
    if not ("restore" in command.program() or "--restore" in words):
        return
    for word in words[1:]:
        if _DATED_DUMP.match(word):
            fmt = "tar" if word.endswith(".tar.gz") else _BY_EXTENSION.get(word.rsplit(".", 1)[-1], "auto")
            record_backup(state, command.line, word, fmt, after, command.text)
            return


def _tar_extract(state: State, command: Command, after: list[Line]) -> None:
    found = tar_mode(command.segments[0])
    if found is None or found[0] != "x" or not found[1] or found[1] == "-":
        return
    name = record_backup(state, command.line, found[1], "tar", after, command.text)
    if name is not None:
        state.draft.sections["backups"][name].setdefault("min_files", 1)


def finish(state: State) -> None:
    """RPO -> the first database backup's max_age (a daily cron: 26h); a "Restore" section or an RTO without a
    restore command -> a drill on the first database dump; the RTO on every drill."""
    backups: dict[str, Any] = state.draft.sections.get("backups", {})
    databases = [
        n for n in state.backups if str(backups[n]["format"]).startswith(("pg-", "mysql-", "sqlite"))
    ]
    for name in state.backups:
        entry = backups[name]
        if state.rpo and name == (databases or state.backups)[0]:
            entry["max_age"] = state.rpo
        elif state.cron_daily and str(entry["format"]).startswith("pg") and "max_age" not in entry:
            entry["max_age"] = "26h"
    drilled = [n for n in state.backups if "restore" in backups[n]]
    if not drilled and databases and (state.restore_line is not None or state.rto is not None):
        entry = backups[databases[0]]
        drill: dict[str, Any] = {}
        engine = "mysql" if str(entry["format"]).startswith("mysql") else "pg"
        if not str(entry["format"]).startswith("sqlite"):
            variable, example, server = SANDBOXES[engine]
            comment = (
                f"admin URL of a SEPARATE scratch {server} server for the restore drill, never production: the "
                "drill creates a throwaway database there, restores the newest backup into it and drops it"
            )
            drill = {"sandbox": "url", "sandbox_url": state.draft.var(variable, example, comment)}
        entry["restore"] = drill
        drilled = [databases[0]]
        if state.restore_line is not None:
            line = state.restore_line
            entry["description"] += f"; restore drill from {state.file}:{line.number} ({line.heading})"
    for name in drilled:
        if state.rto:
            backups[name]["restore"]["rto"] = state.rto
