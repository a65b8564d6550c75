"""YAML loading that remembers where every key came from, so errors can name file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]

# Limits no real target file reaches (a 1000-check target is ~100 KB and a few thousand values): they stop a
# file of tens of megabytes, or aliases that expand exponentially ("billion laughs"), before it costs minutes.
MAX_TARGET_BYTES = 4 * 1024 * 1024
MAX_ALIAS_VALUES = 100_000  # values that aliases (*name, <<: *name) add to the file as written


class TargetError(Exception):
    """A target file (or something it refers to) is unusable. The message is complete and user-facing."""


_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"


class Sexagesimal(str):
    """An unquoted `26:00`, kept as the text written. YAML 1.1 reads it as the base-60 number 1560 (`number`).

    A duration or time field refuses it and says what YAML made of it; a string field gets the text the user
    wrote; a number field refuses it as not a number. Nothing takes the base-60 value silently.
    """

    number: int | float

    def __new__(cls, text: str, number: int | float) -> Sexagesimal:
        value = super().__new__(cls, text)
        value.number = number
        return value

    def __getnewargs__(self) -> tuple[str, int | float]:  # type: ignore[override]
        return str(self), self.number


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
        text = _read_bounded(file)
    except FileNotFoundError:
        raise TargetError(f"{file}: target file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"{file}: cannot read target file: {exc}") from None
    # libyaml parses a target of 1000 entries ~50x faster; it accepts some tabs PyYAML refuses (and the
    # messages below name), so a text with a tab, or one libyaml rejects, goes through PyYAML's parser.
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None and "\t" not in text:
        source = SourceMap(file)
        loader = fast(text)
        try:
            node = loader.get_single_node()
            if node is None:
                source.lines[()] = 1
                return {}, source
            if "*" in text:  # an alias is written `*name`: without one there is nothing to expand
                check_alias_expansion(node, file)
            return _convert(loader, node, (), source), source
        except RecursionError:
            raise TargetError(_too_deep(file)) from None
        except yaml.YAMLError as exc:
            if "maximum nesting depth" in str(exc):  # the pure-Python parser would recurse for seconds
                raise TargetError(_too_deep(file)) from None
            # else the pure-Python parser below reports the problem with its own (tested) wording
        finally:
            loader.dispose()
    source = SourceMap(file)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            source.lines[()] = 1  # an empty file: problems are reported at its first line
            return {}, source
        if "*" in text:
            check_alias_expansion(node, file)
        return _convert(loader, node, (), source), source
    except RecursionError:
        raise TargetError(_too_deep(file)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        tab = _tab_problem(text, exc)
        if tab:
            raise TargetError(f"{file}{line}: invalid YAML: {tab}") from None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise TargetError(
            f"{file}{line}: invalid YAML: {problem}; fix the syntax on that line or the one before it "
            "(indentation, a missing ':' or closing bracket, an unquoted value starting with a special character)"
        ) from None
    except yaml.YAMLError as exc:
        raise TargetError(f"{file}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _read_bounded(file: Path) -> str:
    """The file's text, refused (TargetError) when it is larger than MAX_TARGET_BYTES, before reading it all."""
    with file.open("rb") as stream:
        data = stream.read(MAX_TARGET_BYTES + 1)
    if len(data) > MAX_TARGET_BYTES:
        size = max(file.stat().st_size, len(data))
        raise TargetError(
            f"{file}: target file too large ({size / 1048576:.1f} MB; the limit is "
            f"{MAX_TARGET_BYTES // 1048576} MB, far more than a target of thousands of checks needs): is it the "
            "right file? Split it into several target files (--target a --target b), or move data out of it"
        )
    return data.decode("utf-8")


def _too_deep(file: Path) -> str:
    return (
        f"{file}: invalid YAML: values nested hundreds of levels deep; a target file needs a few "
        "levels: check the file for unclosed or runaway brackets"
    )


def check_alias_expansion(root: yaml.Node, file: Path) -> None:
    """Refuse aliases that expand beyond MAX_ALIAS_VALUES values, or that refer to themselves.

    Counts the values the document would have once every alias is expanded, in one pass over the nodes as
    written (each node's expanded size is computed once), so a file of 40 lines that would expand to a
    billion values is refused at once instead of being expanded.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            line = node.start_mark.line + 1
            raise TargetError(
                f"{file}:{line}: invalid YAML: an alias refers to the anchor it is inside of (a value that "
                "contains itself); refer to an anchor defined before and outside that value"
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    written = len(sizes)
    expanded = sizes[id(root)]
    if expanded - written > MAX_ALIAS_VALUES:
        raise TargetError(
            f"{file}: YAML aliases expand this file beyond the limit of {MAX_ALIAS_VALUES:,} values "
            f"({written:,} values as written, {expanded:,} once the aliases (*name) are expanded): aliases that "
            "repeat aliases multiply; write the repeated part out, or refer to an anchor from fewer places"
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _tab_problem(text: str, exc: yaml.MarkedYAMLError) -> str | None:
    """The message for a tab where YAML wants spaces (PyYAML: "found character '\\t' that cannot start any token")."""
    mark = exc.problem_mark
    if mark is None or "'\\t'" not in (exc.problem or ""):
        return None
    start = max(text.rfind("\n", 0, mark.index), text.rfind("\r", 0, mark.index)) + 1
    if text[start : mark.index].strip(" \t") == "":
        return (
            f"line {mark.line + 1} is indented with a tab; YAML indentation must be spaces: "
            "replace the tab with spaces"
        )
    return (
        f"a tab at column {mark.column + 1} of line {mark.line + 1} where YAML needs a space (after `key:` "
        "or `-`, and in indentation); replace the tab with a space"
    )


def _scalar(loader: Any, node: yaml.Node) -> Any:
    """A scalar's value, except that an unquoted base-60 number (`26:00`, `1:30.5`) stays Sexagesimal text."""
    if node.tag == _STR_TAG and type(node) is yaml.ScalarNode:
        # What SafeConstructor.construct_yaml_str returns, without construct_object's dispatch: most values
        # are strings (a 1000-entry target loads in ~38 ms instead of ~49 ms).
        return node.value
    value = loader.construct_object(node, deep=True)
    if (
        isinstance(node, yaml.ScalarNode)
        and not node.style  # plain: None from the pure-Python parser, "" from libyaml
        and node.tag in (_INT_TAG, _FLOAT_TAG)
        and ":" in node.value
        and isinstance(value, int | float)
    ):
        return Sexagesimal(node.value, value)
    return value


_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"  # a key written `=`: PyYAML's flatten_mapping reads it as the text "="

Members = dict[str, tuple[yaml.Node, yaml.Node]]


def _members(loader: Any, node: yaml.MappingNode, path: KeyPath, source: SourceMap) -> Members:
    """A mapping's (key node, value node) by key, its merge keys (`<<: *base`) applied as YAML says: a key
    written in the mapping overrides a merged one; of several merged mappings (`<<: [*a, *b]`) the earlier
    wins. A key written twice in one mapping is refused. The nodes are left as written (an anchored mapping
    merged in several places is read the same way each time)."""
    merged: Members = {}
    written: Members = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for merge_source in sources:
                if not isinstance(merge_source, yaml.MappingNode):
                    raise TargetError(
                        f"{source.file}:{merge_source.start_mark.line + 1}: {format_path(path)}: `<<` (a YAML "
                        "merge key) takes a mapping or a list of mappings, e.g. `<<: *defaults` where "
                        "`defaults: &defaults {timeout: 5s}`; merge a mapping, or write the key out"
                    )
                for key, pair in _members(loader, merge_source, path, source).items():
                    merged.setdefault(key, pair)
            continue
        key = _key(loader, key_node, path, source)
        if key in written:
            raise TargetError(
                f"{source.file}:{key_node.start_mark.line + 1}: {format_path((*path, key))}: duplicate key "
                f"(first defined on line {written[key][0].start_mark.line + 1}); remove one of them"
            )
        written[key] = (key_node, value_node)
    return {**merged, **written}


def _key(loader: Any, key_node: yaml.Node, path: KeyPath, source: SourceMap) -> str:
    if key_node.tag == _VALUE_TAG:
        return str(key_node.value)
    key = _scalar(loader, key_node)
    if not isinstance(key, str | int | float | bool) or key is None:
        raise TargetError(
            f"{source.file}:{key_node.start_mark.line + 1}: {format_path(path)}: "
            "keys must be plain strings; write the key as text (quote it if needed)"
        )
    return str(key)


def _convert(loader: Any, node: yaml.Node, path: KeyPath, source: SourceMap) -> Any:
    source.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key, (key_node, value_node) in _members(loader, node, path, source).items():
            child = (*path, key)
            source.lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(loader, value_node, child, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, item, (*path, i), source) for i, item in enumerate(node.value)]
    return _scalar(loader, node)
