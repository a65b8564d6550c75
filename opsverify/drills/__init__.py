"""Restore drills: sandboxes, restore runner, verification."""
