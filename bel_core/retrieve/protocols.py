"""What the linker needs of a candidate generator (the sparse and the dense stage both satisfy it)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from bel_core.types import Candidate

# Alias rows to hide from the index: row ids, or (alias, concept_id) pairs (the alias is
# normalised before matching). Calibration uses it to hold a synonym out of the dictionary.
Exclusion = Collection[int | tuple[str, str]]


class Retriever(Protocol):
    """A candidate generator: one ranked list of per-concept candidates per query.

    Attributes:
        name: the stage name candidates carry (``Candidate.stage``).
        version: identifies the ranking it produces; goes into ``model_version`` and cache keys.
    """

    name: str

    @property
    def version(self) -> str: ...

    def warm_up(self) -> None:
        """Load whatever the retriever loads lazily (a no-op for one that loads nothing lazily)."""
        ...

    def retrieve(self, queries: Sequence[str], k: int, exclude: Exclusion | None = None) -> list[list[Candidate]]:
        """Return, per query, at most ``k`` candidates, best first, one per concept."""
        ...
