"""Start-up helpers (opsverify.pytest_plugin.startup): what they save must leave every result as it was."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import typing

import pytest

from opsverify.pytest_plugin import startup
from opsverify.pytest_plugin.startup import (
    YAML_NON_PRINTABLE,
    YAML_NON_PRINTABLE_RANGES,
    gc_paused,
    library_imports,
    seed_pattern,
)

EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))


def test_the_ranges_match_exactly_the_characters_of_the_library_pattern() -> None:
    text, ranges = YAML_NON_PRINTABLE, YAML_NON_PRINTABLE_RANGES
    expected = [m.start() for m in re.compile(text).finditer(EVERY_CHARACTER)]
    assert [m.start() for m in re.compile(ranges).finditer(EVERY_CHARACTER)] == expected
    assert len(expected) > 2000  # the controls and the surrogates, not an empty pattern


def test_the_texts_are_the_libraries_own() -> None:
    """A library that changed its pattern would compile its own (no harm), and this names it."""
    import yaml.reader

    assert yaml.reader.Reader.NON_PRINTABLE.pattern in (YAML_NON_PRINTABLE, YAML_NON_PRINTABLE_RANGES)


def test_pyyaml_loaded_after_the_seed_uses_the_ranges_and_still_refuses_a_control_character() -> None:
    script = (
        "from opsverify.pytest_plugin.startup import library_imports, YAML_NON_PRINTABLE_RANGES\n"
        "with library_imports():\n"
        "    import yaml\n"
        "assert yaml.reader.Reader.NON_PRINTABLE.pattern == YAML_NON_PRINTABLE_RANGES\n"
        "try:\n"
        "    yaml.load('key: a\\x07b', Loader=yaml.SafeLoader)\n"
        "except yaml.reader.ReaderError as exc:\n"
        "    print('refused', hex(exc.character))\n"
        "print(yaml.load('key: \\u00e9\\U0001f600', Loader=yaml.SafeLoader))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert completed.stdout.splitlines() == ["refused 0x7", "{'key': 'é😀'}"]


def test_a_pattern_compiled_already_stays() -> None:
    re.purge()
    compiled = re.compile(YAML_NON_PRINTABLE)
    seed_pattern(YAML_NON_PRINTABLE, YAML_NON_PRINTABLE_RANGES)
    try:
        assert re.compile(YAML_NON_PRINTABLE) is compiled
    finally:
        re.purge()


def test_forward_references_share_their_compiled_code_only_inside_the_block() -> None:
    assert "compile" not in vars(typing)
    with library_imports():
        first, second = typing.ForwardRef("dict[str, int]"), typing.ForwardRef("dict[str, int]")
        assert first.__forward_code__ is second.__forward_code__
        assert typing.get_type_hints(_Annotated) == {"value": dict[str, int]}
        with pytest.raises(SyntaxError, match="Forward reference must be an expression"):
            typing.ForwardRef("not an expression (")
    assert "compile" not in vars(typing)
    assert (
        typing.ForwardRef("list[int]").__forward_code__ is not typing.ForwardRef("list[int]").__forward_code__
    )


def test_the_block_restores_a_compile_of_typing_that_was_there() -> None:
    def own(*args: object) -> object:
        return compile(*args)  # type: ignore[call-overload]

    typing.compile = own  # type: ignore[attr-defined]
    try:
        with library_imports():
            assert typing.compile is startup._compile_text  # type: ignore[attr-defined]
        assert typing.compile is own  # type: ignore[attr-defined]
    finally:
        del typing.compile  # type: ignore[attr-defined]


def test_compile_with_more_arguments_is_compile_itself() -> None:
    code = startup._compile_text("1 + 1", "<x>", "eval", 0, dont_inherit=True)
    assert eval(code) == 2  # noqa: S307 - a constant
    assert startup._compile_text("1 + 2", "<x>", "eval") is startup._compile_text("1 + 2", "<x>", "eval")


def test_gc_paused_turns_the_collector_back_on_only_if_it_was_on() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


class _Annotated:
    value: dict[str, int]
