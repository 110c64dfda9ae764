"""Candidate generation: per mention text, the KB concepts it may name, best first.

Enters: query texts (mention texts, abbreviations expanded) and the KB's aliases. Leaves:
per query a list of ``Candidate`` (one per concept, with the matched alias and per-stage
scores): character n-gram TF-IDF (``tfidf``), a sentence encoder over a faiss index
(``dense``), their fusion (``fusion``), and exact-hit priors learnt from training mentions
(``priors``). Both retrievers satisfy the ``Retriever`` protocol the pipeline is typed by.
scikit-learn, faiss and torch load only when a retriever is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.retrieve.dense import DenseRetriever, EncoderSpec, resolve_encoder
    from bel_core.retrieve.fusion import fuse, merge_best
    from bel_core.retrieve.priors import AliasExtension, annotate, exact_first
    from bel_core.retrieve.protocols import Exclusion, Retriever
    from bel_core.retrieve.tfidf import AliasTable, TfidfRetriever

__all__, __getattr__ = exports(
    __name__,
    {
        "dense": ("DenseRetriever", "EncoderSpec", "resolve_encoder"),
        "fusion": ("fuse", "merge_best"),
        "priors": ("AliasExtension", "annotate", "exact_first"),
        "protocols": ("Exclusion", "Retriever"),
        "tfidf": ("AliasTable", "TfidfRetriever"),
    },
)
