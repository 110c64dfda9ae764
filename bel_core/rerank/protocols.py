"""What the linker needs of a reranker: re-sort each mention's retrieved candidates, in context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.types import Candidate, Mention


class Reranker(Protocol):
    """Rescores retrieval candidates; ``version`` goes into the linker's ``model_version``."""

    @property
    def version(self) -> str: ...

    def rerank(
        self,
        items: Sequence[tuple[Mention, str]],
        candidates: Sequence[Sequence[Candidate]],
        kb: KnowledgeBase,
    ) -> list[list[Candidate]]:
        """Per ``(mention, context)``, its candidates re-sorted best first (copies with new scores)."""
        ...
