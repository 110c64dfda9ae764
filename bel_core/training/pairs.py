"""Reranker training data from a gold corpus: gold mentions, document splits, hard-negative pairs.

Pairs use the reranker's serialization (``bel_core.rerank.cross_encoder``): the positive is the gold
concept (added even when retrieval missed it, so the model still learns it), negatives
are what the project's own retrievers rank highest among wrong concepts: the mistakes
the reranker exists to fix.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bel_core.errors import UnknownConceptError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.rerank.cross_encoder import mention_context, serialize_left, serialize_right
from bel_core.types import Candidate, Document, Mention

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GoldMention:
    """A mention with its context window and its gold concept ids (primary ids of the KB)."""

    mention: Mention
    context: str
    gold_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PairExample:
    """One (left, right) reranker pair with its 0/1 label and where it came from."""

    left: str
    right: str
    label: int
    doc_id: str
    concept_id: str


def _resolve(kb: KnowledgeBase, concept_id: str) -> str | None:
    """Primary id for an id as corpora write it; ``MESH:`` present or absent on either side."""
    cid = concept_id.strip()
    alternatives = [cid, cid.removeprefix("MESH:")] if cid.startswith("MESH:") else [cid, f"MESH:{cid}"]
    for option in alternatives:
        try:
            return kb.resolve_id(option)
        except UnknownConceptError:
            continue
    return None


def gold_mentions_from_pubtator(
    documents: Sequence[Document],
    mentions: Sequence[Mention],
    kb: KnowledgeBase,
    *,
    types: Collection[str] | None = None,
    max_context_chars: int = 256,
) -> list[GoldMention]:
    """Gold mentions of a parsed PubTator corpus whose ids the KB knows.

    Ids resolve through the KB (alt ids -> primary, ``MESH:`` prefix tolerated); ids the KB
    lacks are dropped, and a mention left with none is skipped. ``types`` keeps only
    mentions with those labels (PubTator's type column).
    """
    texts = {d.doc_id: d.text for d in documents}
    out: list[GoldMention] = []
    dropped = 0
    for m in mentions:
        if (types is not None and m.label not in types) or m.doc_id not in texts:
            continue
        ids = tuple(dict.fromkeys(r for r in (_resolve(kb, i) for i in m.annotated_ids) if r is not None))
        dropped += len(m.annotated_ids) > len(ids)
        if ids:
            out.append(
                GoldMention(m, mention_context(texts[m.doc_id], m.start, m.end, max_chars=max_context_chars), ids)
            )
    logger.info("%d gold mentions (%d had ids missing from %s)", len(out), dropped, kb.name)
    return out


def split_by_document(doc_ids: Sequence[str], dev_fraction: float, seed: int) -> tuple[set[str], set[str]]:
    """Deterministic (train, dev) split of document ids; input order and duplicates do not matter.

    At least one document goes to dev when ``dev_fraction > 0`` and there are two or more.
    """
    unique = sorted(set(doc_ids))
    random.Random(seed).shuffle(unique)
    n_dev = round(len(unique) * dev_fraction)
    if dev_fraction > 0 and len(unique) > 1:
        n_dev = min(max(n_dev, 1), len(unique) - 1)
    return set(unique[n_dev:]), set(unique[:n_dev])


def build_pairs(
    golds: Sequence[GoldMention],
    candidates: Sequence[Sequence[Candidate]],
    kb: KnowledgeBase,
    *,
    negatives_per_positive: int = 4,
    seed: int = 13,
) -> list[PairExample]:
    """Positive and hard-negative pairs per gold mention, shuffled with ``seed``.

    Per mention: one positive per gold concept, and ``negatives_per_positive`` negatives
    per positive, taken from its retrieved candidates that are not gold: the top-ranked
    ones, except that one in four is drawn at random from the rest of the list, so the
    model also sees easier negatives like those lower in the lists it will rerank.
    """
    if len(golds) != len(candidates):
        raise ValueError(f"{len(golds)} gold mentions but {len(candidates)} candidate lists")
    rng = random.Random(seed)

    def right(cid: str) -> str:
        concept = kb.get(cid)
        return serialize_right(concept.name, concept.types)

    pairs: list[PairExample] = []
    for gold, ranked in zip(golds, candidates, strict=True):
        left = serialize_left(gold.mention.text, gold.context)
        doc = gold.mention.doc_id
        pairs += [PairExample(left, right(cid), 1, doc, cid) for cid in gold.gold_ids]
        wrong = [
            c.concept_id for c in ranked if c.concept_id in kb and kb.resolve_id(c.concept_id) not in gold.gold_ids
        ]
        wrong = list(dict.fromkeys(kb.resolve_id(c) for c in wrong))
        n_neg = negatives_per_positive * len(gold.gold_ids)
        n_random = n_neg // 4
        chosen = wrong[: n_neg - n_random]
        rest = wrong[n_neg - n_random :]
        chosen += rng.sample(rest, min(n_random, len(rest)))
        pairs += [PairExample(left, right(cid), 0, doc, cid) for cid in chosen]
    rng.shuffle(pairs)
    return pairs
