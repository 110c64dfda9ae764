"""Lazy re-exports for the stage packages' ``__init__``: the public names, imported on first use.

``from bel_core.linking import LinkingPipeline`` works, while ``import bel_core.linking.abbrev``
does not pay for scikit-learn, faiss or torch: a package's ``__init__`` names its surface
without importing the modules behind it (PEP 562 module ``__getattr__``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence


def exports(package: str, table: Mapping[str, Sequence[str]]) -> tuple[list[str], Callable[[str], object]]:
    """``(__all__, __getattr__)`` for ``package`` from ``{module: names}`` (modules relative to the package)."""
    where = {name: f"{package}.{module}" for module, names in table.items() for name in names}

    def getattr_(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return sorted(where), getattr_
