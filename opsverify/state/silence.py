"""Silence alerts: `opsverify silence http:api --for 2h --reason deploy --target prod`; `--list`, `--clear`.

A silenced failure still fails the run but sends nothing, and shows as silenced in the terminal and
summary.json; silences live in the state store and expire by themselves.
"""

from opsverify.state.cli import silence_arguments as add_arguments
from opsverify.state.cli import silence_run as run

HELP = "silence a check's (or a pattern's) alerts for a while; --list, --clear"
__all__ = ["HELP", "add_arguments", "run"]
