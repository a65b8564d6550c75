"""YAML loading keeps the line of every key and refuses duplicate keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsverify.config.yamlsource import TargetError, format_path, load_yaml


def test_lines_of_keys_and_list_items(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("# comment\ntarget: x\nhttp:\n  api:\n    tiers:\n      - smoke\n      - daily\n")
    data, source = load_yaml(path)
    assert data == {"target": "x", "http": {"api": {"tiers": ["smoke", "daily"]}}}
    assert source.lines[("target",)] == 2
    assert source.lines[("http", "api", "tiers")] == 5
    assert source.lines[("http", "api", "tiers", 1)] == 7
    assert source.where(("http", "api", "url")) == f"{path}:4"  # a missing key: its parent's line


def test_merge_keys_are_resolved(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("base: &base {timeout: 5s}\nhttp:\n  api: {<<: *base, url: 'http://x'}\n")
    data, _ = load_yaml(path)
    assert data["http"]["api"] == {"timeout": "5s", "url": "http://x"}


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("target: x\ntarget: y\n")
    with pytest.raises(TargetError, match=r"t\.yaml:2: target: duplicate key \(first defined on line 1\)"):
        load_yaml(path)


def test_an_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("# nothing yet\n")
    data, source = load_yaml(path)
    assert data == {}
    assert source.where(("target",)) == f"{path}:1"


def test_format_path() -> None:
    assert format_path(("http", "api", "tiers", 1)) == "http.api.tiers[1]"
    assert format_path(()) == "(top level)"
