"""Layering rules that keep the architecture honest, read from the source (AST), every import counted.

Imports inside functions and under ``if TYPE_CHECKING:`` count too: a lazy import still
couples two modules, and a type-only cycle is still two modules that are one.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("bel_core", "db", "usecases", "cli", "pages")
STAGES = ("kb", "formats", "retrieve", "rerank", "rank", "calibrate", "generate", "linking", "runtime")
STAGES += ("explain", "training", "annotate")
# Engine stages that hold or train models: the storage layer knows data types, never these.
MODEL_STAGES = tuple(f"bel_core.{s}" for s in ("retrieve", "rerank", "rank", "calibrate", "generate", "linking"))
MODEL_STAGES += tuple(f"bel_core.{s}" for s in ("runtime", "explain", "training", "annotate"))
MODEL_LIBRARIES = ("torch", "transformers", "sentence_transformers", "faiss", "sklearn", "captum", "onnxruntime")

FORBIDDEN = {
    "bel_core": ("streamlit", "sqlalchemy", "alembic", "db", "usecases", "cli", "pages", "app"),
    "db": ("streamlit", "usecases", "cli", "pages", "app", *MODEL_LIBRARIES, *MODEL_STAGES),
    "usecases": ("streamlit", "pages", "cli", "app"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    """Every project module (the five packages and ``app.py``) by dotted name; migrations excluded."""
    found = {"app": REPO / "app.py"}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path) -> Iterator[str]:
    """Dotted names ``name`` imports, relative imports resolved; ``from m import x`` yields ``m.x`` and ``m``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _within(target: str, modules: dict[str, Path]) -> str | None:
    """The project module an imported name lives in (its longest dotted prefix that is one), or None."""
    parts = target.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (anywhere in its source)."""
    modules = _sources()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {_within(t, modules) for t in _imports(name, path)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _imported_names(package: str) -> dict[str, set[str]]:
    """Per file of ``package``: every dotted name it imports (absolute, relative resolved)."""
    modules = _sources()
    return {
        str(path.relative_to(REPO)): set(_imports(name, path))
        for name, path in modules.items()
        if name == package or name.startswith(f"{package}.")
    }


def _offenders(package: str) -> dict[str, list[str]]:
    banned = FORBIDDEN[package]
    out = {}
    for file, names in _imported_names(package).items():
        bad = sorted({n for n in names for b in banned if n == b or n.startswith(f"{b}.")})
        if bad:
            out[file] = bad
    return out


def test_no_import_cycle_anywhere():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_import_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    assert "bel_core.rerank.cross_encoder" in graph["bel_core.linking.builder"]  # imported inside a function
    assert "bel_core.linking.pipeline" in graph["bel_core.linking"]  # under TYPE_CHECKING
    assert "bel_core.types" in graph["bel_core.errors"]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_only_downwards(package):
    assert _offenders(package) == {}


def test_importing_every_bel_core_module_loads_no_streamlit_or_sqlalchemy():
    modules = sorted(m for m in _sources() if m.startswith("bel_core"))
    assert "bel_core.linking.pipeline" in modules and "bel_core.kb.knowledge_base" in modules  # subpackages too
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'sqlalchemy', 'alembic'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_importing_bel_core_and_its_stage_packages_loads_no_model_library():
    packages = ["bel_core", *(f"bel_core.{s}" for s in STAGES)]
    code = (
        "import importlib, sys\n"
        f"for m in {packages!r}: importlib.import_module(m)\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {MODEL_LIBRARIES!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_package_names_its_public_surface(stage):
    package = importlib.import_module(f"bel_core.{stage}")
    assert package.__doc__ and package.__all__
    for name in package.__all__:
        assert getattr(package, name) is not None, f"bel_core.{stage}.{name}"


def test_top_level_layout_matches_the_design_card():
    top = ("pyproject.toml", "README.md", "app.py", "pages", "cli", "usecases", "db", "bel_core")
    for name in (*top, "tests", "sample_data"):
        assert (REPO / name).exists(), name
    for stage in STAGES:
        assert (REPO / "bel_core" / stage / "__init__.py").is_file(), stage
