"""`opsverify draft GUIDE.md`: a draft target from an operations guide in Markdown.

Read line by line, deterministic. One module per thing a guide states: `lines` (code blocks of every form and
the commands in them), `endpoints` (curl, `GET /path`, endpoints in prose and tables), `dumps` (every dump a
backups entry), `tools` (restic, Borg and pgBackRest repositories), `drills` (every restore a drill),
`thresholds` (limits in prose, RTO/RPO), `alerts` (alert rule blocks), `services` (databases, version
requirements, an application's check commands, logs, checklists). Each entry quotes the guide's line; what was not converted is listed at the top with the reason.
"""

from __future__ import annotations

from pathlib import Path

from opsverify.importers.draft import Draft, ImportProblem
from opsverify.importers.guide import drills, dumps, endpoints, services, thresholds, tools
from opsverify.importers.guide.alerts import alert_blocks
from opsverify.importers.guide.lines import Command, Line, commands, joined, parse_lines
from opsverify.importers.guide.state import State, add
from opsverify.importers.guide_s3 import draft_s3_backups
from opsverify.importers.source import read_text

__all__ = ["draft_guide", "parse_lines"]


def draft_guide(file: Path, target: str) -> Draft:
    text = read_text(file)
    if "\x00" in text:
        raise ImportProblem(f"{file}: not a text file; pass an operations guide in Markdown")
    state = State(Draft(target, file.name), file.name)
    lines = parse_lines(text)
    shell = joined(lines)
    tools.scan_settings(state, shell)
    for index, line in enumerate(shell):
        after = shell[index + 1 :]
        for command in commands(line):
            _command(state, command, after)
        endpoints.prose_endpoints(state, line, after)
    draft_s3_backups(shell, state.draft, lambda n, e, ln: add(state, "backups", n, e, ln), state.backups)
    alert_blocks(state, lines)
    for line in lines:
        thresholds.prose(state, line)
        services.requirements(state, line)
    thresholds.finish_metrics(state)
    services.containers(state, shell)
    drills.finish(state)
    tools.finish(state)
    services.checklists(state, lines)
    if not state.draft.entry_count():
        raise ImportProblem(
            f"{file}: nothing to convert: no curl command or endpoint, dump or restore command, threshold "
            '("Disk usage >85%"), alert rule or certificate expiry found; is this an operations guide?'
        )
    return state.draft


def _command(state: State, command: Command, after: list[Line]) -> None:
    program = command.program()
    if tools.tool_of(command) is not None:
        tools.command(state, command, after)
        return
    if any(segment and segment[0] in ("curl", "wget") for segment in command.segments):
        endpoints.curl(state, command, after)
        return
    if program in ("GET", "HEAD"):
        return  # `GET /path`: an endpoint (endpoints.prose_endpoints)
    if command.cron is not None:
        dumps.cron_line(state, command)
    dumps.backup(state, command, after)
    drills.restore(state, command, after)
    services.from_command(state, command, after)
