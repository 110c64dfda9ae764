"""How the linker ranks: ``LinkOptions``, with the one set of defaults and its manifest JSON.

A model directory records the options its models were trained with (``manifest.json``'s
``linker`` block, written by ``bel train`` through :meth:`LinkOptions.to_json`); the builder
reads them back with :meth:`LinkOptions.from_json`. The same block also says how to load the
reranker (``rerank``, ``reranker_max_length``, ``reranker_batch_size``, ``quantize``), which
are not ranking options and stay outside this class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from bel_core.linking.memory import MemoryConfig

RERANKER_BATCH_SIZE = 64  # (mention, candidate) pairs per reranker forward pass at link time


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """How ``link`` uses documents, priors and the reranker (a model directory records them).

    Attributes:
        abbreviations: with documents, query a short form defined in the document by its
            long form (``long``), by both keeping each concept's better score (``both``), or not.
        exact_first: exact alias hits first, ordered by training link counts. Off by default:
            the embedded default (no model directory, no priors) links without it, and every
            manifest ``bel train`` has written records it explicitly (on), so this one default
            reproduces both. (The old hand parser fell back to on for a missing key, which only
            hand-written manifests ever reached.)
        rerank_depth: retrieval candidates the reranker sees per mention.
        prior_over_reranker: after reranking, exact hits that training linked the text to
            go back to the top (needs ``exact_first``).
        context_chars: characters of document text around a mention given to the reranker.
        memory: document-consistency rules, or None to switch them off.
        top_k: candidates kept per mention.
        dense_weight: weight of the dense scores in the fused score (``retrieve.fusion``).
    """

    abbreviations: Literal["off", "long", "both"] = "long"
    exact_first: bool = False
    rerank_depth: int = 16
    prior_over_reranker: bool = False
    context_chars: int = 256
    memory: MemoryConfig | None = field(default_factory=MemoryConfig)
    top_k: int = 10
    dense_weight: float = 0.5

    def to_json(self) -> dict[str, Any]:
        """Every option as plain JSON (``memory`` as an object, or null when off)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], base: LinkOptions | None = None) -> LinkOptions:
        """Options from :meth:`to_json` output; a missing key keeps ``base``'s value (default: the defaults).

        Keys that are not options (the reranker's loading keys) are ignored.
        """
        given: dict[str, Any] = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        for name, kind in _KINDS.items():
            if name in given:
                given[name] = kind(given[name])
        if given.get("memory") is not None:
            given["memory"] = MemoryConfig(**given["memory"])
        return replace(base or cls(), **given)


_KINDS: dict[str, type] = {
    "exact_first": bool,
    "prior_over_reranker": bool,
    "rerank_depth": int,
    "context_chars": int,
    "top_k": int,
    "dense_weight": float,
}
