"""The README keeps up with the code: every target-file key, every `make` target and every relative link."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from opsverify.config.target import target_model

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def model_keys(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    """Every key a target file can hold: field aliases or names, through nested models, lists and dicts."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        keys |= nested_keys(field.annotation, seen)
    return keys


def nested_keys(annotation: object, seen: set[type]) -> set[str]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_keys(annotation, seen)
    return set().union(*(nested_keys(arg, seen) for arg in typing.get_args(annotation)))


def test_every_target_file_key_is_in_the_readme() -> None:
    keys = model_keys(target_model())
    assert len(keys) > 100, sorted(keys)  # the walk reached the nested models
    # `key` as inline code, or as the last part of a dotted path such as `expect.status`
    missing = sorted(k for k in keys if not re.search(rf"`(?:[\w\[\]*-]+\.)*{re.escape(k)}`", README))
    assert not missing, f"target-file keys not documented in README.md: {missing}"


def test_every_make_target_in_the_readme_exists() -> None:
    mentioned = set(re.findall(r"(?m)(?:`|^\s*(?:\$ )?)make ([a-z][\w-]*)", README))
    defined = set(re.findall(r"(?m)^([\w-]+):", (ROOT / "Makefile").read_text(encoding="utf-8")))
    assert {"demo", "test"} <= mentioned
    assert not mentioned - defined, f"README mentions make targets the Makefile lacks: {mentioned - defined}"


def test_every_relative_link_in_the_readme_exists() -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    relative = [link.split("#")[0] for link in links if not re.match(r"[a-z]+:|#", link)]
    assert relative, "expected links to docs/"
    broken = [link for link in relative if not (ROOT / link).exists()]
    assert not broken, f"README.md links to missing files: {broken}"
