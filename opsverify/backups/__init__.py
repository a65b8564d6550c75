"""Backups: finding them, format inspectors, checksums."""
