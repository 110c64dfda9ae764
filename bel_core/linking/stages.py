"""The parts a ``LinkingPipeline`` runs, injected as one record, each typed by a small protocol.

spaCy's seams, without a registry: whoever builds a pipeline (``linking.builder``, training,
tests) passes any object that satisfies the stage's protocol. The retriever, reranker and
calibrator protocols live with their stages (``retrieve.protocols``, ``rerank.protocols``,
``calibrate.lists``); the detector's and the KB search's are here. Nothing here imports a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bel_core.types import Document, Mention

if TYPE_CHECKING:
    from bel_core.calibrate.lists import ListCalibrator
    from bel_core.kb.knowledge_base import KnowledgeBase
    from bel_core.rerank.protocols import Reranker
    from bel_core.retrieve.priors import AliasExtension
    from bel_core.retrieve.protocols import Retriever


class Detector(Protocol):
    """Finds the mentions to link in a document."""

    def detect(self, document: Document) -> list[Mention]: ...


class KBSearch(Protocol):
    """Concept ids for a curator's query, best first (the disk-backed index of a large KB)."""

    def search(self, query: str, *, limit: int = 20, types: Sequence[str] | None = None) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Stages:
    """The parts a ``LinkingPipeline`` runs.

    Attributes:
        kb: the knowledge base that is indexed (the base KB, or it extended with training aliases).
        tfidf: the sparse retriever (always present: it also gives exact alias hits).
        detector: finds mentions in a document.
        dense: the dense retriever, fused with the sparse one, or None.
        reranker: re-sorts retrieval candidates in context, or None.
        calibrator: turns final lists into probabilities, or None (uncalibrated).
        priors: training link counts for exact-first ordering and calibration features, or None.
        search_index: the disk-backed KB search for large KBs, or None (in-memory search).
    """

    kb: KnowledgeBase
    tfidf: Retriever
    detector: Detector
    dense: Retriever | None = None
    reranker: Reranker | None = None
    calibrator: ListCalibrator | None = None
    priors: AliasExtension | None = None
    search_index: KBSearch | None = None
