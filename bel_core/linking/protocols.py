"""What callers need of a linker: the protocols the store, the CLI and the pages hold linkers by.

``MentionLinker`` is the one linking protocol: the retrieve-rerank pipeline and the
generative linker both satisfy it, and the store records either's runs through it.
``Linker`` adds what curation needs besides (detection, KB search, concept lookup).
Nothing here imports a model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from bel_core.types import Concept, Decision, Document, LinkResult, Mention


class MentionLinker(Protocol):
    """Links mentions: one ``LinkResult`` per mention, in input order."""

    @property
    def model_version(self) -> str: ...  # read-only: the linker derives it from its parts

    def link(
        self,
        mentions: Sequence[Mention],
        *,
        documents: Mapping[str, Document] | None = None,
        decisions: Sequence[Decision] = (),
    ) -> list[LinkResult]: ...


class Linker(MentionLinker, Protocol):
    """What the storage and UI layers need from the primary linker (duck-typed, no model imports)."""

    kb_version: str

    def detect(self, document: Document) -> list[Mention]: ...
    def search_kb(self, query: str, limit: int = 20, types: Sequence[str] | None = None) -> list[Concept]: ...
    def concept(self, concept_id: str) -> Concept: ...
