"""The check kinds: one package per kind (model, facts, probe, verdict).

The table of kinds, built-in and from plugins (entry-point group `opsverify.kinds`), is the kind registry
`opsverify.config.kinds`; it is re-exported here.
"""

from __future__ import annotations

from opsverify.config.kinds import BUILT_IN, KINDS, Kind, KindRegistry, sections

__all__ = ["BUILT_IN", "KINDS", "Kind", "KindRegistry", "sections"]
