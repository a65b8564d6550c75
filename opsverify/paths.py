"""Where opsverify writes: reports/ (results, JUnit, summaries, drill history) and its state."""

from __future__ import annotations

import os
from pathlib import Path


def reports_dir(root: Path | None = None) -> Path:
    """$OPSVERIFY_REPORTS_DIR, else <root>/reports (root: the pytest rootdir or the current directory)."""
    given = os.environ.get("OPSVERIFY_REPORTS_DIR")
    return Path(given) if given else (root or Path.cwd()) / "reports"


def state_dir(root: Path | None = None, configured: str | None = None) -> Path:
    """Notification state: the target's `notify.state`, else $OPSVERIFY_STATE_DIR, else reports/state."""
    if configured:
        return Path(configured)
    given = os.environ.get("OPSVERIFY_STATE_DIR")
    return Path(given) if given else reports_dir(root) / "state"
