"""Target files that would take minutes to load (exponential aliases, tens of megabytes) are refused at once."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from opsverify.config.yamlsource import MAX_ALIAS_VALUES, MAX_TARGET_BYTES, TargetError, load_yaml
from tests.conftest import RunResult

# Eleven levels, each a list of nine aliases of the level before: 40 lines that expand to 9**11 values.
ALIAS_BOMB = "target: bomb\n" + "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    + [f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]" for level in range(1, 12)]
)
# The same with merge keys: each level merges the level before twice.
MERGE_BOMB = "target: bomb\n" + "\n".join(
    ["m0: &m0 {x: 1, y: 2}"]
    + [f"m{level}: &m{level} {{<<: [*m{level - 1}, *m{level - 1}]}}" for level in range(1, 40)]
)


def aliases_adding(values: int) -> str:
    """A file whose aliases add exactly `values` values: refs to a 1000-value list, then refs to a scalar."""
    full, rest = divmod(values, 1000)
    items = ", ".join(["x"] * 999)
    refs = ["*big"] * full + ["*one"] * rest
    return f"target: t\nbig: &big [{items}]\none: &one y\nrefs: [{', '.join(refs)}]\n"


def error_of(path: Path) -> str:
    with pytest.raises(TargetError) as raised:
        load_yaml(path)
    return str(raised.value)


@pytest.mark.parametrize("text", [ALIAS_BOMB, MERGE_BOMB], ids=["aliases", "merge-keys"])
def test_exponential_aliases_are_refused_with_the_limit_and_the_fix(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    message = error_of(path)
    assert message.startswith(
        f"{path}: YAML aliases expand this file beyond the limit of {MAX_ALIAS_VALUES:,}"
    )
    assert "write the repeated part out, or refer to an anchor from fewer places" in message


def test_aliases_at_the_limit_load_and_one_value_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(aliases_adding(MAX_ALIAS_VALUES))
    data, _ = load_yaml(path)
    assert len(data["refs"]) == MAX_ALIAS_VALUES // 1000
    path.write_text(aliases_adding(MAX_ALIAS_VALUES - 1))
    assert load_yaml(path)[0]["refs"][-1] == "y"
    path.write_text(aliases_adding(MAX_ALIAS_VALUES + 1))
    assert "beyond the limit of 100,000 values" in error_of(path)


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("target: t\nloop: &loop [1, *loop]\n")
    assert error_of(path) == (
        f"{path}:2: invalid YAML: an alias refers to the anchor it is inside of (a value that contains "
        "itself); refer to an anchor defined before and outside that value"
    )


def test_runaway_nesting_is_refused_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("target: t\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "values nested hundreds of levels deep" in error_of(path)  # libyaml's own depth limit
    # The pure-Python parser (a tab in the file) recurses: Python's default recursion limit stops it
    # (pytest-xdist workers may run with a higher one).
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        path.write_text("target: t\n#\ta tab: the pure-Python parser\nx: " + "[" * 1100 + "]" * 1100 + "\n")
        assert "values nested hundreds of levels deep" in error_of(path)
    finally:
        sys.setrecursionlimit(limit)


def padded(size: int) -> str:
    head = "target: t\n# "
    return head + "x" * (size - len(head) - 1) + "\n"


def test_a_file_at_the_size_limit_loads_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(padded(MAX_TARGET_BYTES))
    assert load_yaml(path)[0] == {"target": "t"}
    path.write_text(padded(MAX_TARGET_BYTES - 1))
    assert load_yaml(path)[0] == {"target": "t"}
    path.write_text(padded(MAX_TARGET_BYTES + 1))
    message = error_of(path)
    assert message.startswith(f"{path}: target file too large (4.0 MB; the limit is 4 MB")
    assert "Split it into several target files" in message


def test_a_run_stops_on_an_alias_bomb_and_on_a_huge_file_with_exit_4(
    run_checks: Callable[..., RunResult], tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    result = run_checks(bomb, timeout=120)
    assert result.returncode == 4, result.output
    assert f"{bomb}: YAML aliases expand this file beyond the limit" in result.output
    assert "Traceback" not in result.output
    huge = tmp_path / "huge.yaml"
    entry = "  e{}: {{url: 'http://127.0.0.1:9/{}', tiers: [smoke]}}\n"
    huge.write_text("target: huge\nhttp:\n" + "".join(entry.format(i, i) for i in range(500_000)))
    assert huge.stat().st_size > 25 * 1024 * 1024
    result = run_checks(huge, timeout=120)
    assert result.returncode == 4, result.output
    assert f"{huge}: target file too large" in result.output
    assert "Traceback" not in result.output
