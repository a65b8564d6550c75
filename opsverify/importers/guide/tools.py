"""Backup tools in a guide -> backups entries over their repositories: `restic backup|restore|dump|snapshots|
check`, `borg create|extract|list|check`, `pgbackrest --stanza=S backup|restore|check|info`, also in cron lines
and with the repository and secrets set before them (`export RESTIC_REPOSITORY=...`, `BORG_REPO=... borg ...`).

The repository is the stated one (a `${VAR}` when it is not stated, or holds a password); passwords and
passphrases are always `${VARS}`, never a value from the guide; a cron schedule gives the tier and max_age
(of the backup type, for pgBackRest). A restore command makes the entry's drill: a folder restored from a
snapshot checks its files, a dump piped into psql/mysql restores into a sandbox."""

from __future__ import annotations

import re
from typing import Any

from opsverify.importers.guide.drills import SANDBOXES
from opsverify.importers.guide.dumps import DATE, SCHEDULES, pattern_of, schedule_kind
from opsverify.importers.guide.lines import Command, Line
from opsverify.importers.guide.state import State, add, short
from opsverify.importers.guide_s3 import FORMATS

TOOLS = ("restic", "borg", "pgbackrest")
_SETTING = re.compile(
    r"\b(RESTIC_REPOSITORY|RESTIC_PASSWORD_FILE|RESTIC_PASSWORD_COMMAND|RESTIC_PASSWORD|BORG_REPO|"
    r"BORG_PASSPHRASE|BORG_PASSCOMMAND|PGBACKREST_STANZA|PGBACKREST_CONFIG)=(\"[^\"]*\"|'[^']*'|[^\s;&|]*)"
)
_WITH_VALUE = {
    "-r", "--repo", "--repository-file", "-p", "--password-file", "--password-command", "--cache-dir",
    "--tag", "--host", "-H", "--target", "-t", "--include", "-i", "--exclude", "-e", "--iexclude",
    "--exclude-file", "--files-from", "--stdin-filename", "--stdin-name", "--path", "-o", "--option",
    "--limit-upload", "--limit-download", "--read-data-subset", "--time", "--parent", "--compression",
    "--keep-last", "--keep-hourly", "--keep-daily", "--keep-weekly", "--keep-monthly", "--keep-yearly",
    "--keep-within", "--keep-tag", "--group-by", "--stanza", "--config", "--type", "--repo-path",
    "--lock-wait", "--remote-path", "--rsh", "--comment", "--glob-archives", "-a", "--prefix",
    "--exclude-from", "--pattern", "--patterns-from", "--strip-components", "--chunker-params", "-C",
    "--log-level-console", "--process-max", "--target-time", "--set", "--pg1-path",
}  # fmt: skip
_DB_CLIENTS = {"psql": "pg", "pg_restore": "pg", "mysql": "mysql", "mariadb": "mysql"}
_PRODUCERS = {"pg_dump": "pg-plain", "pg_dumpall": "pg-plain", "mysqldump": "mysql-plain", "mariadb-dump": "mysql-plain"}  # fmt: skip
_SECRET_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
_SECRET_TEXT = re.compile(
    r"(://[^/@\s:]+:)[^/@\s]+(@)|\b((?:RESTIC_PASSWORD|BORG_PASSPHRASE|AWS_SECRET_ACCESS_KEY)=)(\"[^\"]*\"|'[^']*'|\S+)"
)


def masked(text: str) -> str:
    """A command as an entry quotes it: a password in a URL or a secret variable's value as `***`."""
    return _SECRET_TEXT.sub(
        lambda m: f"{m.group(1)}***{m.group(2)}" if m.group(1) else f"{m.group(3)}***", text
    )


def scan_settings(state: State, lines: list[Line]) -> None:
    """Remember the tools' variables as the guide sets them (`export RESTIC_REPOSITORY=...`, an env file)."""
    for line in lines:
        if line.code is None and "`" not in line.text:
            continue
        for match in _SETTING.finditer(line.text):
            state.tool_env.setdefault(match.group(1), match.group(2).strip("\"'"))


def tool_of(command: Command) -> tuple[str, list[str], int] | None:
    """(tool, its words, its segment) of a command running restic, borg or pgbackrest, or None."""
    for index, segment in enumerate(command.segments):
        if segment and command.program(index) in TOOLS:
            return command.program(index), segment, index
    return None


def command(state: State, found: Command, after: list[Line]) -> None:
    """A backup tool's command: its repository's backups entry, what the command says about it."""
    tool, words, index = tool_of(found) or ("", [], 0)
    options, positional = _parse(words[1:])
    action = positional[0] if positional else ""
    if tool == "pgbackrest":
        _pgbackrest(state, found, options, action)
        return
    repository = _repository(state, tool, options, positional)
    if tool == "restic" and action == "backup":
        paths = positional[1:] or ["/"]
        name = _entry(
            state, found, tool, repository, options, _backed_up(found, index, options, paths), after
        )
    elif (tool, action) == ("borg", "create"):
        paths = positional[2:] or ["/"]
        name = _entry(
            state, found, tool, repository, options, _backed_up(found, index, options, paths), after
        )
        archive = positional[1].split("::", 1)[-1] if len(positional) > 1 else ""
        prefix = re.split(r"[{$`]", DATE.split(archive)[0] if DATE.search(archive) else archive)[0]
        if prefix and prefix != archive:
            state.draft.sections["backups"][name]["borg"].setdefault("prefix", prefix)
    elif (tool, action) in (("restic", "restore"), ("restic", "dump"), ("borg", "extract")):
        _drill(state, found, tool, repository, options, positional, index, after)
        return
    elif action in ("snapshots", "list", "check", "ls", "info"):
        name = _existing(state, tool, repository) or _entry(
            state, found, tool, repository, options, ("/", "*", "auto"), after
        )
        _check_tier(state.draft.sections["backups"][name][tool], tool, action, options)
    else:
        return
    if found.cron:
        _schedule(state, name, found.cron, "max_age")


def finish(state: State) -> None:
    """The guide's RTO on every tool drill."""
    entries = state.draft.sections.get("backups", {})
    for name in state.tool_backups.values():
        drill = entries[name].get("restore")
        if drill is not None and state.rto:
            drill.setdefault("rto", state.rto)


def _parse(words: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    positional: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word.startswith("-") and word != "-":
            key, _, value = word.partition("=")
            if not value and key in _WITH_VALUE and index + 1 < len(words):
                value = words[index + 1]
                index += 1
            options[key] = value or "true"
        else:
            positional.append(word)
        index += 1
    return options, positional


def _repository(state: State, tool: str, options: dict[str, str], positional: list[str]) -> str:
    """The repository as the entry writes it: the stated one, else a ${VAR} (also for one holding a secret)."""
    variable = "RESTIC_REPOSITORY" if tool == "restic" else "BORG_REPO"
    stated = options.get("-r") or options.get("--repo")
    if tool == "borg" and len(positional) > 1 and "::" in positional[1]:
        stated = positional[1].split("::", 1)[0] or None
    stated = stated or state.tool_env.get(variable)
    if stated and (reference := re.fullmatch(r"\$\{?([A-Za-z_]\w*)\}?", stated)):
        variable, stated = reference.group(1), None
    if not stated or _SECRET_URL.search(stated) or "$" in stated or "`" in stated:
        where = "a folder, sftp:, rest: or s3:URL" if tool == "restic" else "a folder or ssh://user@host/path"
        return state.draft.var(variable, f"/srv/{tool}-repo", f"the {tool} repository ({where})")
    return stated


def _secrets(state: State, tool: str, repository: str) -> dict[str, Any]:
    if tool == "restic":
        where = state.tool_env.get("RESTIC_PASSWORD_FILE") or state.tool_env.get("RESTIC_PASSWORD_COMMAND")
        note = f" (the guide reads it from {where}: put its content here)" if where else ""
        block: dict[str, Any] = {
            "repository": repository,
            "password": state.draft.var(
                "RESTIC_PASSWORD", "change-me", f"the restic repository's password{note}"
            ),
        }
        return block
    where = state.tool_env.get("BORG_PASSCOMMAND")
    note = f" (the guide gets it from `{where}`)" if where else ""
    return {
        "repository": repository,
        "passphrase": state.draft.var(
            "BORG_PASSPHRASE", "change-me", f"the Borg repository's passphrase{note}"
        ),
    }


def _backed_up(found: Command, index: int, options: dict[str, str], paths: list[str]) -> tuple[str, str, str]:
    """(folder, pattern, format) of what a backup command stores: a dump piped in, a dump file, or a folder."""
    stdin = "--stdin" in options or paths == ["-"]
    if stdin:
        name = options.get("--stdin-filename") or options.get("--stdin-name") or "stdin"
        producer = next(
            (_PRODUCERS[p] for p in (found.program(i) for i in range(index)) if p in _PRODUCERS), "auto"
        )
        piped_gzip = any(found.program(i) in ("gzip", "pigz") for i in range(index))
        fmt = _format_of(name) if producer == "auto" or "." in name else producer
        return "/", pattern_of(name, []), fmt + ("-gz" if piped_gzip and fmt in _PRODUCERS.values() else "")
    first = paths[0].rstrip("/") or "/"
    last = first.rsplit("/", 1)[-1]
    if ("." in last.strip(".") and _format_of(last) != "auto") or DATE.search(last):
        folder = first.rpartition("/")[0] or "/"
        return folder, pattern_of(first, []), _format_of(last)
    return first, "*", "auto"


def _format_of(name: str) -> str:
    return next((fmt for suffix, fmt in FORMATS if name.lower().endswith(suffix)), "auto")


def _existing(state: State, tool: str, repository: str, path: str | None = None) -> str | None:
    names = [n for (t, r, _p), n in state.tool_backups.items() if (t, r) == (tool, repository)]
    same = [n for key, n in state.tool_backups.items() if key == (tool, repository, path)]
    return (same or names)[0] if same or names else None


def _entry(
    state: State,
    found: Command,
    tool: str,
    repository: str,
    options: dict[str, str],
    stored: tuple[str, str, str],
    after: list[Line],
) -> str:
    """The backups entry of (tool, repository, folder): made once, quoting the first command that names it."""
    folder, pattern, fmt = stored
    key = (tool, repository, folder)
    if key in state.tool_backups:
        return state.tool_backups[key]
    block = _secrets(state, tool, repository)
    if tool == "restic" and options.get("--host"):
        block["host"] = options["--host"]
    if tool == "restic" and options.get("--tag"):
        block["tags"] = options["--tag"].split(",")
    entry: dict[str, Any] = {"path": folder, "pattern": pattern}
    if fmt != "auto":
        entry["format"] = fmt
    entry[tool] = block
    if tool == "restic" and repository.startswith("s3:"):
        entry["s3"] = {
            "access_key_id": state.draft.var("AWS_ACCESS_KEY_ID", "change-me", "the bucket's access key"),
            "secret_access_key": state.draft.var("AWS_SECRET_ACCESS_KEY", "change-me"),
        }
    stem = folder.strip("/").rsplit("/", 1)[-1] or ("db" if fmt != "auto" else "repository")
    name = add(state, "backups", f"{tool}-{stem}", entry, found.line, masked(found.text))
    state.tool_backups[key] = name
    if fmt == "auto":
        state.draft.assume(
            f"{state.file}:{found.line.number}: `{short(masked(found.text))}`: the check reads the newest file matching "
            f"`pattern` directly in {folder} of the newest snapshot: set `pattern` and `format` to a file it "
            "can verify (a dump), or give the entry a `restore.expect` of files"
        )
    return name


def _schedule(state: State, name: str, cron: str, key: str) -> None:
    """The tier and max_age of a schedule whose longest gap is clear (not `1-5`: Friday to Monday is 3 days)."""
    fields = cron.split()
    kind = schedule_kind(cron) if len(fields) != 5 or not re.search(r"[-,/]", fields[4]) else None
    if kind is None:
        return
    max_age, tier = SCHEDULES[kind]
    entry = state.draft.sections["backups"][name]
    if key == "max_age":
        entry.setdefault("max_age", max_age)
    else:  # a pgBackRest backup type's own limit
        entry["pgbackrest"].setdefault("max_age", {}).setdefault(key, max_age)
    if tier and not entry.get("tiers"):
        entry["tiers"] = [tier]


def _check_tier(block: dict[str, Any], tool: str, action: str, options: dict[str, str]) -> None:
    if action != "check":
        return
    if tool == "restic" and "--read-data-subset" in options:
        block.setdefault("read_data_subset", options["--read-data-subset"])
    elif tool == "restic" and "--read-data" in options:
        block.setdefault("read_data_subset", "all")
    elif tool == "borg" and "--verify-data" in options:
        block.setdefault("check", "verify-data")
    elif tool == "borg" and "--repository-only" in options:
        block.setdefault("check", "repository-only")


def _drill(
    state: State,
    found: Command,
    tool: str,
    repository: str,
    options: dict[str, str],
    positional: list[str],
    index: int,
    after: list[Line],
) -> None:
    """`restic restore|dump`, `borg extract`: a dump piped into a database client is a database drill; a
    folder restored from a snapshot is a drill of its files."""
    client = next((_DB_CLIENTS[p] for p in (found.program(i) for i in range(index + 1, len(found.segments))) if p in _DB_CLIENTS), None)  # fmt: skip
    action = positional[0]
    inside = positional[2:] if action == "dump" or tool == "borg" else [options.get("--include", "/")]
    target = inside[0] if inside else "/"
    if tool == "borg" and target != "/":
        target = "/" + target.lstrip("/")
    stored = _backed_up(found, index, {}, [target])
    if client is not None and stored[2] == "auto":
        stored = (stored[0], stored[1], "pg-plain" if client == "pg" else "mysql-plain")
    name = _existing(state, tool, repository, stored[0]) if client is None else None
    name = name or _entry(state, found, tool, repository, options, stored, after)
    entry = state.draft.sections["backups"][name]
    drill = entry.setdefault("restore", {})
    if client is not None or str(entry.get("format", "auto")).startswith(("pg-", "mysql-")):
        variable, example, server = SANDBOXES[
            client or ("mysql" if entry["format"].startswith("mysql") else "pg")
        ]
        drill.setdefault("sandbox", "url")
        drill.setdefault(
            "sandbox_url",
            state.draft.var(
                variable,
                example,
                f"admin URL of a SEPARATE scratch {server} server for the restore drill, never production",
            ),
        )
    else:
        drill.setdefault("expect", {}).setdefault("min_count", 1)
        state.draft.assume(
            f"{state.file}:{found.line.number}: `{short(masked(found.text))}`: the drill restores {entry['path']} and "
            "expects at least 1 file: list the files it must hold (`files`, `sha256`) and their number"
        )
    entry["description"] += (
        f"; restore drill from {state.file}:{found.line.number}: {short(masked(found.text), 100)}"
    )


def _pgbackrest(state: State, found: Command, options: dict[str, str], action: str) -> None:
    stanza = options.get("--stanza") or state.tool_env.get("PGBACKREST_STANZA")
    if not stanza or "$" in stanza:
        stanza = state.draft.var("PGBACKREST_STANZA", "main", "the pgBackRest stanza")
    key = ("pgbackrest", stanza, "")
    if action not in ("backup", "restore", "check", "info", "verify"):
        return
    name = state.tool_backups.get(key)
    if name is None:
        block: dict[str, Any] = {"stanza": stanza}
        config = options.get("--config") or state.tool_env.get("PGBACKREST_CONFIG")
        if config and "$" not in config:
            block["config"] = config
        if options.get("--repo", "").isdigit():
            block["repo"] = int(options["--repo"])
        name = add(
            state, "backups", f"pgbackrest-{stanza}", {"pgbackrest": block}, found.line, masked(found.text)
        )
        state.tool_backups[key] = name
    if action == "restore":  # the stanza's drill: pgbackrest restore into a throwaway cluster here
        entry = state.draft.sections["backups"][name]
        entry.setdefault("restore", {"sandbox": "local"})
        entry["description"] += (
            f"; restore drill from {state.file}:{found.line.number}: {short(masked(found.text), 100)}"
        )
        state.draft.assume(
            f"{state.file}:{found.line.number}: `{short(masked(found.text))}`: the drill restores the newest backup "
            "into a throwaway cluster on this machine (as the postgres user) and checks nothing in it yet: add "
            "`restore.expect` (tables, rows, freshness)"
        )
    if action == "backup" and found.cron:
        kind = options.get("--type", "incr")
        _schedule(state, name, found.cron, kind if kind in ("full", "diff") else "max_age")
