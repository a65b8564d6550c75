"""Reading the importers' YAML inputs with the line of every key (descriptions quote their source line)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from opsverify.importers.draft import ImportProblem

Path_ = tuple[str | int, ...]


@dataclass
class YamlDocument:
    data: Any
    lines: dict[Path_, int]
    text_lines: list[str]

    def line(self, path: Path_) -> int | None:
        for end in range(len(path), -1, -1):
            if (found := self.lines.get(tuple(path[:end]))) is not None:
                return found
        return None

    def text(self, path: Path_) -> str:
        """The source line of `path`, stripped (what a description quotes)."""
        line = self.line(path)
        return self.text_lines[line - 1].strip() if line and line <= len(self.text_lines) else ""


def read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportProblem(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportProblem(f"{file}: cannot read it: {exc}") from None


def load_documents(file: Path) -> list[YamlDocument]:
    """Every YAML document of `file` (multi-document files too), with key lines; not YAML: ImportProblem."""
    text = read_text(file)
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        datas = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else str(file)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ImportProblem(
            f"{where}: not valid YAML ({problem}); fix the file or pass the right one"
        ) from None
    text_lines = text.splitlines()
    documents = []
    for node, data in zip(nodes, datas, strict=True):
        lines: dict[Path_, int] = {}
        if node is not None:
            _walk(node, (), lines)
        documents.append(YamlDocument(data, lines, text_lines))
    return [document for document in documents if document.data is not None]


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)
