"""Reranking: re-sort each mention's retrieved candidates by a model that reads the mention in context.

Enters: ``(mention, context window)`` pairs with their retrieval candidates and the KB (names,
types). Leaves: the same candidates re-sorted, ``stage="reranker"``, with the cross-encoder
margin in ``stage_scores`` (which the final calibration reads). ``CrossEncoderReranker`` is
BASILISK's serialization over any 1- or 2-label sequence classifier; the pipeline holds it
by the ``Reranker`` protocol. torch loads only when a reranker is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.rerank.cross_encoder import CrossEncoderReranker, mention_context, resolve_model_dir
    from bel_core.rerank.protocols import Reranker

__all__, __getattr__ = exports(
    __name__,
    {
        "cross_encoder": ("CrossEncoderReranker", "mention_context", "resolve_model_dir"),
        "protocols": ("Reranker",),
    },
)
