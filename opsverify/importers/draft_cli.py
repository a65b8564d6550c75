"""`opsverify draft GUIDE.md`: a draft target file from an operations guide in Markdown (curl commands,
thresholds, alert rules, backup commands, restore sections, RTO/RPO, checklists) and a `.env.example`."""

from __future__ import annotations

from opsverify.importers.cli import DRAFT_HELP as HELP
from opsverify.importers.cli import add_draft_arguments as add_arguments
from opsverify.importers.cli import run_draft as run

__all__ = ["HELP", "add_arguments", "run"]
