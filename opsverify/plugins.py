"""Loading what installed packages add to opsverify through entry points (a leaf).

Four groups, each read by one registry: `opsverify.kinds`, `opsverify.channels`,
`opsverify.backup_formats`, `opsverify.backup_sources`. A plugin that cannot be imported, or names
something of the wrong type, is reported in one line naming the entry point, the package and the fix;
opsverify never shows the plugin's traceback in its place.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points


class PluginError(Exception):
    """An installed plugin could not be loaded; the message names it, its package and what to do."""


def describe(entry_point: EntryPoint) -> str:
    """`'amqp' (opsverify_amqp.kind:KIND, package opsverify-amqp 0.1.0)`: how messages name a plugin."""
    dist = entry_point.dist
    package = f", package {dist.name} {dist.version}" if dist is not None else ""
    return f"{entry_point.name!r} ({entry_point.value}{package})"


def load_group(group: str) -> list[tuple[EntryPoint, object]]:
    """Every entry point of `group`, loaded, in a stable order (by name). Raises PluginError on the first
    that fails to import."""
    loaded = []
    for entry_point in sorted(entry_points(group=group), key=lambda ep: (ep.name, ep.value)):
        try:
            value = entry_point.load()
        except Exception as exc:  # noqa: BLE001 - any failure of a third-party import is reported by name
            raise PluginError(
                f"plugin {describe(entry_point)} in entry-point group {group} failed to load: "
                f"{type(exc).__name__}: {exc}; fix or upgrade that package, or uninstall it"
            ) from None
        loaded.append((entry_point, value))
    return loaded


def wrong_type(group: str, entry_point: EntryPoint, expected: str, value: object) -> PluginError:
    """The error for an entry point that loads but names something else than its group expects."""
    return PluginError(
        f"plugin {describe(entry_point)} in entry-point group {group}: expected {expected}, got "
        f"{type(value).__name__}; point the entry point at the package's {expected}"
    )
