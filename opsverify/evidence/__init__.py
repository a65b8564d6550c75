"""`opsverify evidence --target prod`: every restore drill of a target, for auditors, from the state store.

One static HTML page (plots of RTO and RPO over time against their targets, drawn with matplotlib, and a
table of every drill), or the same drills as CSV or JSON.
"""

from opsverify.evidence.cli import HELP, add_arguments, run

__all__ = ["HELP", "add_arguments", "run"]
