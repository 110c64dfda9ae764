"""Explanations: which words of the mention, its context and the candidate a score rests on.

Enters: a loaded reranker (a mention-candidate pair) or generator (one beam) and the texts.
Leaves: a ``Saliency`` with per-word attributions (captum Layer Integrated Gradients over the
input embeddings, word pieces merged to words) and its completeness delta, the payload the
saliency cache stores and the Review page's heat map shows. captum and torch load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.explain.saliency import Saliency, WordAttribution, explain_generation, explain_pair

__all__, __getattr__ = exports(
    __name__, {"saliency": ("Saliency", "WordAttribution", "explain_generation", "explain_pair")}
)
