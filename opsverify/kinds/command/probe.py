"""command probe: run the entry's command on its machine with a timeout; never judges the output."""

from __future__ import annotations

from opsverify.connect import ConnectError, connect
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.command.facts import CommandFacts
from opsverify.kinds.command.model import CommandCheck


def probe(entry: CommandCheck, ctx: ProbeContext) -> CommandFacts:
    """Unreachable machines and commands that cannot start become `facts.error`."""
    where = entry.via.describe() if entry.via is not None else "this machine"
    facts = CommandFacts(where=where, command=entry.display())
    try:
        with connect(entry.via, ctx.base_dir) as machine:
            result = machine.run(entry.command(), entry.timeout)
    except ConnectError as exc:
        facts.error = str(exc)
        return facts
    facts.exit_code, facts.seconds = result.exit_code, result.seconds
    facts.timed_out, facts.truncated = result.timed_out, result.truncated
    facts.stdout, facts.stderr = result.text("stdout"), result.text("stderr")
    return facts
