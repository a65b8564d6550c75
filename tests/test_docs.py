"""The README keeps up with the code: every target-file key, every `make` target and every relative link."""

from __future__ import annotations

import os
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


# --- every relative link and every path of this repository that a document names exists ------------------

USER_FOLDERS = {"targets", "checks", "fixtures", "reports"}  # also the user's own files (targets/prod.yaml)
GUIDE_COPIES = ROOT / "tests" / "importers" / "guides"  # copies of operations guides: other projects' paths
PATH_SPAN = re.compile(r"[\w.-]+(?:/[\w.*-]+)*/?")


def documents() -> list[Path]:
    """Every Markdown file of the repository but the changelog (history) and the guide copies."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        here = Path(folder)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if not name.startswith(".")
            and name not in ("node_modules", "__pycache__", "build", "dist")
            and not (
                here == ROOT and name in ("changes", "reports", "mutants")
            )  # mutants: `make mutation`'s copy
        )
        for name in sorted(files):
            if not name.endswith(".md") or name == "CHANGELOG.md":
                continue
            if here == GUIDE_COPIES and name != "README.md":
                continue
            found.append(here / name)
    return found


def prose(path: Path) -> str:
    """The text without fenced code blocks (commands and file contents of examples)."""
    return re.sub(r"(?ms)^\s*```.*?^\s*```", "", path.read_text(encoding="utf-8"))


def source_folders() -> set[str]:
    """Top-level folders of this repository's own sources."""
    top = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")}
    return top - USER_FOLDERS - {"build", "dist"}


def engine_module(span: str) -> bool:
    """`report/session.py`: a module named by its path inside the engine package."""
    first = span.split("/")[0]
    return span.endswith(".py") and (ROOT / "opsverify" / first / "__init__.py").is_file()


def exists(path: Path, span: str) -> bool:
    """`span` names something relative to the repository, the document's folder or the engine package."""
    for base in (ROOT, path.parent, ROOT / "opsverify"):
        if "*" in span and any(base.glob(span)):
            return True
        if (base / span).exists():
            return True
    return False


def named_paths(path: Path) -> list[str]:
    """The `code spans` of a document that are relative paths: `docs/reports.md`, `opsverify/report/`."""
    spans = re.findall(r"`([^`\s]+)`", prose(path))
    return [
        span
        for span in spans
        if "/" in span and PATH_SPAN.fullmatch(span) and not span.startswith((".", "__pycache__"))
    ]


def developer_doc(path: Path) -> bool:
    """Documents about this repository itself (its tests, benchmarks, contributing): every path is ours."""
    relative = path.relative_to(ROOT)
    return relative.parts[0] in ("tests", "bench") or relative.name == "CONTRIBUTING.md"


def test_every_relative_link_of_every_document_exists() -> None:
    broken = []
    for path in documents():
        for link in re.findall(r"\]\(([^)\s]+)\)", prose(path)):
            target = link.split("#")[0]
            if target and not re.match(r"[a-z]+:", target) and not (path.parent / target).exists():
                broken.append(f"{path.relative_to(ROOT)}: {link}")
    assert len(documents()) > 15
    assert not broken, "links to missing files:\n" + "\n".join(broken)


def test_every_path_of_the_repository_a_document_names_exists() -> None:
    """`opsverify/kinds.py` after a move, a `shared/` folder of another project: caught here."""
    ours = source_folders()
    missing = []
    for path in documents():
        for span in named_paths(path):
            ours_by_name = span.split("/")[0] in ours or engine_module(span)
            if (ours_by_name or developer_doc(path)) and not exists(path, span):
                missing.append(f"{path.relative_to(ROOT)}: `{span}`")
    assert not missing, "documents name paths that do not exist:\n" + "\n".join(missing)


def test_the_readme_lists_the_debian_packages_make_system_deps_installs() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    tools = re.search(r"(?ms)^SYSTEM_TOOLS \?= (.*?)\n\n", makefile)
    assert tools is not None
    packages = {pair.split(":")[1] for pair in tools[1].replace("\\", " ").split()}
    paragraph = re.search(r"(?s)`make system-deps`, which installs.*?;\n", README)
    assert paragraph is not None
    named = set(re.findall(r"`([\w.+-]+)`", paragraph[0])) - {"apt-get", "sudo", "via"}
    assert named == packages
    (help_line,) = [line for line in makefile.splitlines() if '@echo "make system-deps' in line]
    assert "$(SYSTEM_PACKAGES)" in help_line  # `make help` lists the same packages
