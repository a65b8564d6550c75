"""The layout the code promises: no import cycles, one folder per kind in the one table, each documented."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from opsverify.kinds import KINDS

PACKAGE = Path(__file__).resolve().parent.parent / "opsverify"
KIND_FILES = ("model.py", "facts.py", "probe.py", "verdict.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported(tree: ast.AST, known: dict[str, Path]) -> Iterator[str]:
    """Every opsverify module a file imports anywhere: top level, in functions, under TYPE_CHECKING."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module not in known:
                continue
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            found = [name for name in submodules if name in known]
            yield from found or [node.module]
            if found and len(found) < len(submodules):
                yield node.module


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {other for other in imported(tree, known) if other != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    sys.setrecursionlimit(10_000)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_opsverify_has_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles (counting function-local and TYPE_CHECKING imports):\n" + "\n".join(
        " <-> ".join(group) for group in found
    )


def test_facts_are_leaves_and_models_know_no_probe() -> None:
    """facts <- verdict <- probe: a kind's facts import nothing of the kind; its model no facts/probe/verdict."""
    graph = import_graph()
    wrong = []
    for folder in sorted(p for p in (PACKAGE / "kinds").iterdir() if (p / "__init__.py").exists()):
        package = f"opsverify.kinds.{folder.name}"
        facts = graph.get(f"{package}.facts", set())
        model = graph.get(f"{package}.model", set())
        wrong += [f"{package}.facts imports {m}" for m in facts if m.startswith(f"{package}.")]
        wrong += [
            f"{package}.model imports {m}"
            for m in model
            if m.startswith("opsverify.kinds.") and m.rsplit(".", 1)[-1] in ("facts", "probe", "verdict")
        ]
    assert not wrong, "\n".join(wrong)


def test_every_kind_folder_is_in_the_table_and_has_its_four_modules() -> None:
    folders = {p.name for p in (PACKAGE / "kinds").iterdir() if (p / "__init__.py").exists()}
    packages = {kind.probe.partition(":")[0].rsplit(".", 1)[0].rsplit(".", 1)[-1] for kind in KINDS.values()}
    assert folders == packages, f"kind folders {sorted(folders)} vs the table's {sorted(packages)}"
    missing = [
        f"{f}/{name}"
        for f in sorted(folders)
        for name in KIND_FILES
        if not (PACKAGE / "kinds" / f / name).exists()
    ]
    assert not missing, f"missing modules: {missing}"


def test_every_kind_loads_its_model_probe_and_verdict() -> None:
    for kind in KINDS.values():
        assert kind.load_entry_model()
        assert callable(kind.load_probe())
        assert callable(kind.load_verdict())


def test_every_kind_is_documented() -> None:
    docs = "\n".join(p.read_text(encoding="utf-8") for p in (PACKAGE.parent / "docs").glob("*.md"))
    undocumented = [name for name in KINDS if f"`{name}`" not in docs and f"{name}:" not in docs]
    assert not undocumented, f"kinds not described in docs/: {undocumented}"


def folder_of(module: str) -> str:
    """`backups` for opsverify.backups.formats.tar; `results` for the top-level module opsverify.results."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def folder_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    folders: dict[str, set[str]] = {}
    for module, others in graph.items():
        edges = folders.setdefault(folder_of(module), set())
        edges |= {folder_of(other) for other in others if folder_of(other) != folder_of(module)}
    return folders


def test_no_two_folders_depend_on_each_other() -> None:
    """Every strongly connected group of the folder graph is a single folder (modules inside may import
    each other one way, see above)."""
    found = cycles(folder_graph(import_graph()))
    assert not found, "folders importing each other (in a loop):\n" + "\n".join(
        " <-> ".join(g) for g in found
    )


def layers() -> list[set[str]]:
    """The `## Layers` list of CONTRIBUTING.md, bottom first."""
    text = (PACKAGE.parent / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    found: list[set[str]] = []
    for line in section.splitlines():
        if re.match(r"^\d+\. ", line):
            found.append(set())
        if found and re.match(r"^(\d+\. |   )", line):
            found[-1] |= set(re.findall(r"`([A-Za-z_]+)`", line))
    return found


def test_imports_follow_the_layers_written_in_contributing() -> None:
    order = layers()
    level = {name: index for index, names in enumerate(order) for name in names}
    graph = import_graph()
    folders = folder_graph(graph)
    unplaced = sorted(set(folders) - set(level))
    assert not unplaced, f"place these in CONTRIBUTING.md's ## Layers: {unplaced}"
    wrong = sorted(
        f"{folder} (layer {level[folder] + 1}) imports {other} (layer {level[other] + 1})"
        for folder, others in folders.items()
        for other in others
        if level[other] >= level[folder]
    )
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_the_layer_check_finds_an_upward_import() -> None:
    assert folder_graph({"opsverify.config.target": {"opsverify.kinds.http.model"}}) == {"config": {"kinds"}}
    level = {name: index for index, names in enumerate(layers()) for name in names}
    assert level["kinds"] > level["config"]  # so config -> kinds is reported as upward


MAX_MODULE_LINES = 400  # no module of opsverify/ longer (STYLE.md, CONTRIBUTING.md)
# Modules over the limit today, each being split on its own branch. This list only shrinks: a module leaves
# it when its split is merged (the test below fails while a listed module is already short enough), and no
# module joins it; split a long module instead.
LONG_MODULES_BEING_SPLIT: set[str] = set()  # kinds/restore/probe.py (s24a) and drills/mysql.py (s23): split


def module_lines() -> dict[str, int]:
    """Lines of every module of opsverify/, by its path below opsverify/ (`kinds/http/probe.py`)."""
    return {
        path.relative_to(PACKAGE).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }


def module_length_problems(lines: dict[str, int], allowed: set[str], limit: int) -> list[str]:
    """Modules over `limit` lines that are not in `allowed`, and entries of `allowed` that can leave it."""
    found = [
        f"opsverify/{name} has {count} lines, over {limit}: split it along a seam of its own"
        for name, count in sorted(lines.items())
        if count > limit and name not in allowed
    ]
    found += [
        f"opsverify/{name} is split ({lines[name]} lines, limit {limit}): remove it from LONG_MODULES_BEING_SPLIT"
        if name in lines
        else f"opsverify/{name} does not exist: remove it from LONG_MODULES_BEING_SPLIT"
        for name in sorted(allowed)
        if lines.get(name, 0) <= limit
    ]
    return found


def test_no_module_is_over_the_line_limit() -> None:
    problems = module_length_problems(module_lines(), LONG_MODULES_BEING_SPLIT, MAX_MODULE_LINES)
    assert not problems, "\n".join(problems)


def test_the_line_limit_is_checked_at_the_limit() -> None:
    assert module_length_problems({"a.py": 399, "b.py": 400}, set(), 400) == []
    assert module_length_problems({"a.py": 401}, set(), 400) == [
        "opsverify/a.py has 401 lines, over 400: split it along a seam of its own"
    ]
    assert module_length_problems({"a.py": 401}, {"a.py"}, 400) == []


def test_the_list_of_long_modules_only_shrinks() -> None:
    assert module_length_problems({"a.py": 400, "b.py": 401}, {"a.py", "b.py", "gone.py"}, 400) == [
        "opsverify/a.py is split (400 lines, limit 400): remove it from LONG_MODULES_BEING_SPLIT",
        "opsverify/gone.py does not exist: remove it from LONG_MODULES_BEING_SPLIT",
    ]
