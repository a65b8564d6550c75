"""Where target files are: `targets/<name>.yaml` by name, or any path to a YAML file."""

from __future__ import annotations

import os
from pathlib import Path

from opsverify.config.yamlsource import TargetError

DEFAULT_TARGETS_DIR = Path("targets")
_EXTENSIONS = (".yaml", ".yml")


def list_targets(targets_dir: Path = DEFAULT_TARGETS_DIR) -> list[str]:
    if not targets_dir.is_dir():
        return []
    return sorted(p.stem for p in targets_dir.iterdir() if p.suffix in _EXTENSIONS and p.is_file())


def resolve_target_path(spec: str, targets_dir: Path = DEFAULT_TARGETS_DIR) -> Path:
    """`prod` -> targets/prod.yaml; a path (with / or an extension) is taken as given."""
    candidate = Path(spec).expanduser()
    if candidate.suffix in _EXTENSIONS or os.sep in spec or "/" in spec:
        if candidate.is_file():
            return candidate
        raise TargetError(f"{candidate}: target file not found{_available(targets_dir)}")
    for extension in _EXTENSIONS:
        path = targets_dir / f"{spec}{extension}"
        if path.is_file():
            return path
    raise TargetError(
        f"target {spec!r} not found: no {targets_dir / (spec + '.yaml')}{_available(targets_dir)}; "
        "pass a target name from that folder or a path to a YAML file"
    )


def _available(targets_dir: Path) -> str:
    names = list_targets(targets_dir)
    return (
        f" (targets in {targets_dir}/: {', '.join(names)})" if names else f" ({targets_dir}/ has no targets)"
    )
