"""Layering rules that keep the architecture honest: the engine knows no UI and no database."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = {"streamlit", "sqlalchemy", "alembic", "db", "pages"}
FORBIDDEN_IN_DB = {"streamlit", "torch", "transformers", "sentence_transformers", "faiss", "pages"}


def _imported_roots(package: str) -> dict[str, set[str]]:
    """Top-level module names imported anywhere in a package's source, per file."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / package).rglob("*.py")):
        roots: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots.add(node.module.split(".")[0])
        found[str(path.relative_to(REPO))] = roots
    return found


def test_bel_core_source_never_imports_ui_or_database():
    imports = _imported_roots("bel_core").items()
    offenders = {f: sorted(r & FORBIDDEN_IN_CORE) for f, r in imports if r & FORBIDDEN_IN_CORE}
    assert offenders == {}


def test_db_source_never_imports_models_or_ui():
    offenders = {f: sorted(r & FORBIDDEN_IN_DB) for f, r in _imported_roots("db").items() if r & FORBIDDEN_IN_DB}
    assert offenders == {}


def test_importing_every_bel_core_module_loads_no_streamlit_or_sqlalchemy():
    modules = [f"bel_core.{p.stem}" for p in sorted((REPO / "bel_core").glob("*.py")) if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'sqlalchemy', 'alembic'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_top_level_layout_matches_the_design_card():
    for name in ("pyproject.toml", "app.py", "pages", "bel_core", "db", "tests", "sample_data", "README.md"):
        assert (REPO / name).exists(), name
