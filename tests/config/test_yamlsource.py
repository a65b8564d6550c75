"""YAML loading keeps the line of every key and refuses duplicate keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsverify.config.yamlsource import Sexagesimal, TargetError, format_path, load_yaml


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


def test_a_written_key_overrides_a_merged_one(tmp_path: Path) -> None:
    """YAML's merge rule: a key written in the mapping wins over the same key merged in (not a duplicate)."""
    path = tmp_path / "t.yaml"
    path.write_text("base: &d {a: 1, b: 2}\nx: {<<: *d, b: 3}\ny:\n  b: 4\n  <<: *d\nz: *d\n")
    data, source = load_yaml(path)
    assert data["x"] == {"a": 1, "b": 3}
    assert data["y"] == {"a": 1, "b": 4}  # written before or after `<<`, the written key wins
    assert data["z"] == data["base"] == {"a": 1, "b": 2}  # the anchor itself is left as written
    assert source.lines[("x", "b")] == 2
    assert source.lines[("x", "a")] == 1  # a merged key: the line of the anchor's key


def test_of_several_merged_mappings_the_earlier_wins(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "one: &one {a: 1, b: 1}\ntwo: &two {b: 2, c: 2}\nx: {<<: [*one, *two]}\ny: {<<: [*two, *one], c: 9}\n"
        "chain: &chain {<<: *one, a: 5}\nz: {<<: *chain, b: 7}\n"
    )
    data, _ = load_yaml(path)
    assert data["x"] == {"a": 1, "b": 1, "c": 2}
    assert data["y"] == {"a": 1, "b": 2, "c": 9}
    assert data["chain"] == {"a": 5, "b": 1}
    assert data["z"] == {"a": 5, "b": 7}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "base: &d {a: 1}\nx:\n  <<: *d\n  b: 1\n  b: 2\n",
            r"t\.yaml:5: x\.b: duplicate key \(first defined on line 4\)",
        ),
        ("x:\n  <<: {a: 1, a: 2}\n", r"t\.yaml:2: x\.a: duplicate key \(first defined on line 2\)"),
    ],
    ids=["beside-a-merge", "inside-a-merged-mapping"],
)
def test_a_key_written_twice_is_still_a_duplicate(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(TargetError, match=expected):
        load_yaml(path)


def test_a_merge_of_a_non_mapping_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("s: &s text\nx:\n  <<: *s\n")
    with pytest.raises(TargetError, match=r"t\.yaml:1: x: `<<` \(a YAML merge key\) takes a mapping"):
        load_yaml(path)


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


def test_an_unquoted_base_60_number_keeps_its_text(tmp_path: Path) -> None:
    """YAML 1.1 reads `26:00` as 1560: the loader keeps the text (and the number) so nothing takes 1560 silently."""
    path = tmp_path / "t.yaml"
    path.write_text("max_age: 26:00\nsince: 1:30.5\nquoted: '26:00'\nplain: 30\nclock: 09:00\n9:30: key\n")
    data, _ = load_yaml(path)
    assert isinstance(data["max_age"], Sexagesimal)
    assert (data["max_age"], data["max_age"].number) == ("26:00", 1560)
    assert (data["since"], data["since"].number) == ("1:30.5", 90.5)
    assert not isinstance(data["quoted"], Sexagesimal)
    assert data["plain"] == 30
    assert isinstance(data["plain"], int)
    assert data["clock"] == "09:00"  # not a number in YAML 1.1 (leading zero): a plain string
    assert data["9:30"] == "key"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "target: x\nhttp:\n  api:\n\turl: http://x\n",
            "t.yaml:4: invalid YAML: line 4 is indented with a tab; YAML indentation must be spaces: "
            "replace the tab with spaces",
        ),
        (
            "target: x\nhttp:\n  api:\n    url: http://x\n  \ttimeout: 5s\n",
            "t.yaml:5: invalid YAML: line 5 is indented with a tab",
        ),
        (
            "target:\tx\n",
            "t.yaml:1: invalid YAML: a tab at column 8 of line 1 where YAML needs a space",
        ),
    ],
)
def test_a_tab_is_named_as_such(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(TargetError) as caught:
        load_yaml(path)
    assert expected in str(caught.value)
