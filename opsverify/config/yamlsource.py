"""YAML loading that remembers where every key came from, so errors can name file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


class TargetError(Exception):
    """A target file (or something it refers to) is unusable. The message is complete and user-facing."""


@dataclass
class SourceMap:
    """Line numbers (1-based) for key paths of one YAML document."""

    file: Path
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """Line of the deepest known prefix of `path`."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def where(self, path: KeyPath) -> str:
        line = self.line_of(path)
        return f"{self.file}:{line}" if line else str(self.file)


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def load_yaml(file: Path) -> tuple[Any, SourceMap]:
    """Parse `file`; return plain Python data and the line of every key. Duplicate keys are errors."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TargetError(f"{file}: target file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"{file}: cannot read target file: {exc}") from None
    source = SourceMap(file)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            source.lines[()] = 1  # an empty file: problems are reported at its first line
            return {}, source
        return _convert(loader, node, (), source), source
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise TargetError(
            f"{file}{line}: invalid YAML: {problem}; fix the syntax on that line or the one before it "
            "(indentation, a missing ':' or closing bracket, an unquoted value starting with a special character)"
        ) from None
    except yaml.YAMLError as exc:
        raise TargetError(f"{file}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _convert(loader: yaml.SafeLoader, node: yaml.Node, path: KeyPath, source: SourceMap) -> Any:
    source.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<: *anchor)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise TargetError(
                    f"{source.file}:{key_node.start_mark.line + 1}: {format_path(path)}: "
                    "keys must be plain strings; write the key as text (quote it if needed)"
                )
            key = str(key)
            child = (*path, key)
            if key in result:
                raise TargetError(
                    f"{source.file}:{key_node.start_mark.line + 1}: {format_path(child)}: duplicate key "
                    f"(first defined on line {source.lines.get(child)}); remove one of them"
                )
            source.lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(loader, value_node, child, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, item, (*path, i), source) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
