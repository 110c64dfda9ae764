"""Document-level consistency: what a document already settled informs its later mentions.

Stage: after ranking and calibration, per document (LongBEL's memory, made explicit and
inspectable). Mentions are visited in text order; a mention whose *key* (normalised text
with defined abbreviations expanded and plural ``s`` dropped, so ``DM``, ``myotonic
dystrophy`` and ``Myotonic dystrophies`` share one) matches

- a curator decision anywhere in the document, or
- an earlier machine link with calibrated probability >= ``threshold``

gets that concept moved (or inserted) to rank 1 when the remembered link is more
probable than its own top candidate. Optionally (``related``) a weaker rule covers
strings that end in the same head noun and whose words all occur in the remembered one
(``cancer`` after ``breast cancer``): the concept moves up only if already a candidate.
This module does not retrieve or calibrate; it reorders what it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bel_core.linking.abbrev import abbreviation_map, expand
from bel_core.text import normalize
from bel_core.types import Candidate, Decision, Document, LinkResult, Mention

# A curator's link on the same string in the same document: not certain (the string may
# name two things in one abstract), but far more reliable than any machine score.
DECISION_PROBABILITY = 0.97
_PUNCT = re.compile(r"[^\w\s]")


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    """Which memory rules apply.

    Attributes:
        threshold: calibrated probability an earlier link needs to inform later mentions.
        links: use earlier confident machine links.
        decisions: use curator decisions in the same document.
        related: also use the weaker head-noun rule.
    """

    threshold: float = 0.9
    links: bool = True
    decisions: bool = True
    related: bool = False


@dataclass(frozen=True, slots=True)
class _Memory:
    concept_id: str
    name: str
    probability: float
    source: str  # "decision" or "link"
    words: frozenset[str]


def mention_key(text: str, abbreviations: Mapping[str, str]) -> str:
    """Normalised text, abbreviations expanded, punctuation dropped, plural ``s`` stripped per word."""
    words = _PUNCT.sub(" ", normalize(expand(text, abbreviations))).split()
    return " ".join(_singular(w) for w in words)


def _singular(word: str) -> str:
    """Crude English singular: ``dystrophies`` -> ``dystrophy``, ``tumours`` -> ``tumour``; ``glass`` stays."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _promote(result: LinkResult, memory: _Memory, insert: bool) -> LinkResult:
    """``memory``'s concept at rank 1 with its probability; unchanged if absent and not ``insert``."""
    found = [c for c in result.candidates if c.concept_id == memory.concept_id]
    if not found and not insert:
        return result
    base = found[0] if found else Candidate(memory.concept_id, memory.name, memory.name, "memory", 0.0)
    own = base.calibrated_score or 0.0
    moved = replace(
        base,
        calibrated_score=max(own, memory.probability),
        stage_scores=(*base.stage_scores, (f"memory:{memory.source}", memory.probability)),
    )
    rest = tuple(c for c in result.candidates if c.concept_id != memory.concept_id)
    return replace(result, candidates=(moved, *rest))


def _related(key: str, remembered: Mapping[str, _Memory]) -> _Memory | None:
    """A remembered string with the same head noun that contains all of ``key``'s words."""
    words = key.split()
    if not words:
        return None
    for other, memory in remembered.items():
        if other != key and other.split()[-1] == words[-1] and set(words) <= memory.words:
            return memory
    return None


def apply_memory(
    results: Sequence[LinkResult],
    *,
    abbreviations: Mapping[str, str],
    decisions: Sequence[tuple[Decision, str]] = (),
    name_of: Callable[[str], str] = str,
    config: MemoryConfig = MemoryConfig(),
) -> list[LinkResult]:
    """Apply the memory rules to one document's link results.

    Args:
        results: link results of mentions of one document (any order; returned in the same order).
        abbreviations: the document's short form -> long form map.
        decisions: curator decisions in the document with the decided span's text.
        name_of: concept id -> preferred name (for concepts inserted from decisions).
        config: which rules apply.

    Returns:
        The results, with remembered concepts promoted where the rules say so.
    """
    decided: dict[str, _Memory] = {}
    if config.decisions:
        for decision, text in decisions:
            if decision.status.links_concept:
                key = mention_key(text, abbreviations)
                cid = decision.concept_ids[0]
                decided[key] = _Memory(cid, name_of(cid), DECISION_PROBABILITY, "decision", frozenset(key.split()))
    decided_spans = {d.mention_key for d, _ in decisions}
    linked: dict[str, _Memory] = {}
    out = list(results)
    for i in sorted(range(len(out)), key=lambda j: (out[j].mention.start, out[j].mention.end)):
        result = out[i]
        if result.mention.key in decided_spans:
            continue  # a decided mention keeps the machine's own answer (the decision is stored apart)
        key = mention_key(result.mention.text, abbreviations)
        own = (result.top.calibrated_score or 0.0) if result.top else 0.0
        memory = decided.get(key) or (linked.get(key) if config.links else None)
        if memory and memory.probability > own and (result.top is None or result.top.concept_id != memory.concept_id):
            result = out[i] = _promote(result, memory, insert=True)
        elif config.related and (weak := _related(key, {**linked, **decided})) and weak.probability > own:
            result = out[i] = _promote(result, weak, insert=False)
        top = result.top
        if top and (top.calibrated_score or 0.0) >= config.threshold and key not in linked:
            linked[key] = _Memory(
                top.concept_id, top.name, top.calibrated_score or 0.0, "link", frozenset(key.split())
            )
    return out


def remember(
    results: Sequence[LinkResult],
    documents: Mapping[str, Document],
    decisions: Sequence[Decision],
    abbreviations: Mapping[str, Mapping[str, str]],
    config: MemoryConfig,
    name_of: Callable[[str], str],
) -> list[LinkResult]:
    """:func:`apply_memory` per document over results from many documents (input order kept).

    Args:
        results: link results, any documents, any order.
        documents: doc id -> document (results of other documents pass through unchanged).
        decisions: curator decisions, any documents.
        abbreviations: doc id -> that document's short form -> long form map.
        config: which rules apply.
        name_of: concept id -> preferred name.
    """
    out = list(results)
    by_doc: dict[str, list[int]] = {}
    for i, r in enumerate(out):
        by_doc.setdefault(r.mention.doc_id, []).append(i)
    for doc_id, rows in by_doc.items():
        doc = documents.get(doc_id)
        if doc is None:
            continue
        decided = [(d, doc.text[d.start : d.end]) for d in decisions if d.doc_id == doc_id]
        updated = apply_memory(
            [out[i] for i in rows],
            abbreviations=abbreviations.get(doc_id, {}),
            decisions=decided,
            name_of=name_of,
            config=config,
        )
        for i, r in zip(rows, updated, strict=True):
            out[i] = r
    return out


def suggestions_from_decision(
    document_mentions: Sequence[Mention], decision: Decision, *, document: Document | None = None
) -> list[tuple[Mention, str]]:
    """Other mentions of the document that a curator's link should propagate to, as suggestions.

    Mentions match when their keys (see :func:`mention_key`) are equal; with ``document``,
    short forms defined in its text match their long forms. A decision that links no
    concept suggests nothing.

    Args:
        document_mentions: the mentions of the decided mention's document.
        decision: the curator's decision (ACCEPTED or CORRECTED carry concept ids).
        document: the document, to resolve its abbreviations (optional).

    Returns:
        ``(mention, concept_id)`` per other matching mention and decided concept id, in text order.
    """
    if not decision.status.links_concept:
        return []
    abbreviations = abbreviation_map(document.text) if document else {}
    decided = [m for m in document_mentions if m.key == decision.mention_key]
    text = decided[0].text if decided else (document.text[decision.start : decision.end] if document else "")
    key = mention_key(text, abbreviations)
    others = sorted(
        (m for m in document_mentions if m.key != decision.mention_key and m.doc_id == decision.doc_id),
        key=lambda m: (m.start, m.end),
    )
    return [
        (m, cid) for m in others if key and mention_key(m.text, abbreviations) == key for cid in decision.concept_ids
    ]
