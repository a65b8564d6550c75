"""Maintenance windows: the model and the clock live in `opsverify.config.maintenance` (the target file
declares them); notify applies them at the end of a run."""

from __future__ import annotations

from opsverify.config.maintenance import MaintenanceWindow, open_window, parse_cron, weekly_to_cron

__all__ = ["MaintenanceWindow", "open_window", "parse_cron", "weekly_to_cron"]
