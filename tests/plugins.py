"""Installing a plugin for a test: a real distribution (dist-info with entry_points.txt) on sys.path, so
`importlib.metadata.entry_points` finds it exactly as it finds a pip-installed package."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def install_plugin(
    folder: Path, distribution: str, module: str, source: str, entry_points: dict[str, dict[str, str]]
) -> Path:
    """Write `module.py` and `<distribution>-0.1.dist-info` into `folder` (to be put on sys.path)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = folder / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n", encoding="utf-8"
    )
    lines = []
    for group, names in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {value}" for name, value in names.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """`plugin_path(distribution, module, source, entry_points)` installs a plugin for this test only; the
    registries' caches are cleared before and after so no other test sees it."""
    clear: list[Callable[[], None]] = []

    def install(
        distribution: str, module: str, source: str, entry_points: dict[str, dict[str, str]], *caches: object
    ) -> Path:
        folder = install_plugin(tmp_path / "site", distribution, module, source, entry_points)
        monkeypatch.syspath_prepend(str(folder))
        importlib.invalidate_caches()
        for cached in caches:
            clear.append(cached.cache_clear)  # type: ignore[attr-defined]
            cached.cache_clear()  # type: ignore[attr-defined]
        return folder

    yield install
    monkeypatch.undo()
    importlib.invalidate_caches()
    for name in [name for name in sys.modules if name.startswith("opsverify_test_plugin")]:
        del sys.modules[name]
    for reset in clear:
        reset()
