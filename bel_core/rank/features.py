"""Features of each retrieved candidate for the learning-to-rank stage.

Stage: between candidate generation (retrieval + priors, ``LinkingPipeline.retrieve``) and
the ranker. One row per candidate, computed from the candidate's ``stage_scores`` (as
``retrieve.priors.annotate`` leaves them), the KB (names, definition, hierarchy), the
mention's document (context words, what the document's other mentions retrieved) and the
curators' decisions in that document. Nothing here scores or sorts.

Every feature belongs to one group (``FEATURE_GROUPS``), so a benchmark can drop a group
and a curator-facing explanation can name it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.retrieve.priors import AliasExtension
from bel_core.text import normalize
from bel_core.types import Candidate, Decision, Document, Mention

EXACT = 1.0 - 1e-6  # a TF-IDF score this high means the normalised alias equals the query

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "retrieval": ("fused", "tfidf", "dense", "retrieval_rank", "gap_to_top"),
    "prior": ("exact", "prior_log", "prior_share", "text_seen", "alias_is_name", "concept_links", "word_concept"),
    "abbreviation": ("query_expanded", "mention_caps", "alias_caps"),
    "lexical": ("alias_jaccard", "name_jaccard", "head_match", "length_ratio"),
    "hierarchy": (
        "ancestors_in_list",
        "descendants_in_list",
        "parent_of_top",
        "child_of_top",
        "depth",
        "children_log",
    ),
    "document": ("doc_top_votes", "doc_list_votes", "doc_decided"),
    "type": ("mention_plural", "mention_tokens", "type_match"),
    "context": ("context_name_overlap", "context_definition_overlap"),
}
FEATURES: tuple[str, ...] = tuple(f for group in FEATURE_GROUPS.values() for f in group)
CONTEXT_CHARS = 300  # characters each side of the mention whose words count as its context

_WORD = re.compile(r"[^\W\d_]{3,}")
_STOP = frozenset(
    "the and with for from that this was were are has have had not but its their into which who than "
    "also been may can all other such these those both after before due type form".split()
)  # fmt: skip


@lru_cache(maxsize=1 << 16)  # names and mention texts recur across lists
def words(text: str) -> frozenset[str]:
    """Content words of ``text``: lower-cased, 3+ letters, common function words and plural ``s`` dropped."""
    return frozenset(w for w in map(_stem, _WORD.findall(text.casefold())) if w not in _STOP)


_normalize = lru_cache(maxsize=1 << 16)(normalize)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


@lru_cache(maxsize=1 << 16)
def _is_caps(text: str) -> bool:
    return any(c.isalpha() for c in text) and text == text.upper() and len(text) <= 10


class CorpusLexicon:
    """What a training corpus says about concepts beyond exact texts (from its link priors).

    ``concept_links``: how often the corpus linked anything to a concept (annotators' habits:
    NCBI-disease prefers "Breast Neoplasms" to the hereditary syndrome). ``word_concept``:
    P(concept | word) over the words of the training texts, which carries a seen text's
    evidence to unseen variants ("hereditary breast cancers").
    """

    def __init__(self, priors: AliasExtension | None) -> None:
        self.concept: Counter[str] = Counter()
        self.word: dict[str, Counter[str]] = {}
        for (text, cid), n in (priors.counts if priors else {}).items():
            self.concept[cid] += n
            for w in words(text):
                self.word.setdefault(w, Counter())[cid] += n

    def annotate(self, query: str, ranked: Sequence[Candidate]) -> list[Candidate]:
        """``ranked`` with ``concept_links`` and ``word_concept`` added to each ``stage_scores``."""
        counts = [self.word[w] for w in words(query) if w in self.word]
        totals = [sum(c.values()) for c in counts]
        out = []
        for c in ranked:
            share = sum(cnt.get(c.concept_id, 0) / t for cnt, t in zip(counts, totals, strict=True))
            extra = (("concept_links", math.log1p(self.concept.get(c.concept_id, 0))),
                     ("word_concept", share / len(counts) if counts else 0.0))  # fmt: skip
            out.append(replace(c, stage_scores=(*c.stage_scores, *extra)))
        return out


@dataclass(frozen=True, slots=True)
class RankQuery:
    """One mention to rank: its text as retrieved (short forms expanded) and its candidates.

    Attributes:
        mention: the mention.
        query: the text retrieval used (``LinkingPipeline.queries``).
        candidates: retrieval's best-first candidates with their ``stage_scores``.
    """

    mention: Mention
    query: str
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class DocumentEvidence:
    """What a document says about concepts, apart from the mention being ranked.

    Attributes:
        top_votes: normalised query -> concept ids ranked first for the document's *other*
            texts (counted once per mention), built by :func:`document_evidence`.
        list_votes: the same for "among the first five candidates".
        decided: concept id -> curator decisions in the document that linked it.
    """

    top_votes: Mapping[str, Counter[str]] = field(default_factory=dict)
    list_votes: Mapping[str, Counter[str]] = field(default_factory=dict)
    decided: Counter[str] = field(default_factory=Counter)


def document_evidence(queries: Sequence[RankQuery], decisions: Sequence[Decision] = ()) -> DocumentEvidence:
    """Per distinct query text of one document: votes of the mentions with a *different* text.

    Mentions with the same text share a candidate list, so counting them would only echo
    retrieval; other texts that retrieved the same concept are independent evidence.
    """
    top: dict[str, Counter[str]] = {}
    listed: dict[str, Counter[str]] = {}
    for q in queries:
        key = _normalize(q.query)
        top.setdefault(key, Counter()).update(c.concept_id for c in q.candidates[:1])
        listed.setdefault(key, Counter()).update(c.concept_id for c in q.candidates[:5])

    def others(votes: dict[str, Counter[str]]) -> dict[str, Counter[str]]:
        total: Counter[str] = sum(votes.values(), Counter())
        return {key: total - mine for key, mine in votes.items()}

    decided = Counter(cid for d in decisions if d.status.links_concept for cid in d.concept_ids)
    return DocumentEvidence(others(top), others(listed), decided)


@dataclass(frozen=True, slots=True)
class _ConceptFacts:
    name: str  # normalised preferred name
    head: str  # its last word, plural s dropped
    name_words: frozenset[str]
    all_words: frozenset[str]
    definition: frozenset[str]
    types: frozenset[str]
    depth: int
    children_log: float


class FeatureExtractor:
    """Turns ranked candidate lists into feature rows; KB-derived values are cached per concept.

    Args:
        kb: the KB the candidates come from (names, definitions, parents).
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._ancestors: dict[str, frozenset[str]] = {}
        self._depth: dict[str, int] = {}
        self._concepts: dict[str, _ConceptFacts] = {}

    def ancestors(self, concept_id: str) -> frozenset[str]:
        """Every concept above ``concept_id`` in the KB hierarchy (parents, their parents, ...)."""
        cached = self._ancestors.get(concept_id)
        if cached is not None:
            return cached
        seen: set[str] = set()
        stack = [concept_id]
        while stack:
            cid = stack.pop()
            concept = self.kb.get(cid) if cid in self.kb else None
            for parent in concept.parents if concept else ():
                if parent not in seen and parent in self.kb:
                    seen.add(parent)
                    stack.append(parent)
        self._ancestors[concept_id] = result = frozenset(seen)
        return result

    def depth(self, concept_id: str) -> int:
        """Shortest number of parent steps to a concept without parents (a root)."""
        if concept_id in self._depth:
            return self._depth[concept_id]
        frontier, level, seen = [concept_id], 0, {concept_id}
        while frontier and level < 64:
            nxt = []
            for cid in frontier:
                parents = [p for p in self.kb.get(cid).parents if p in self.kb]
                if not parents:
                    self._depth[concept_id] = level
                    return level
                nxt += [p for p in parents if p not in seen]
                seen.update(parents)
            frontier, level = nxt, level + 1
        self._depth[concept_id] = level
        return level

    def facts(self, concept_id: str) -> _ConceptFacts:
        """What the features need of a concept, computed once."""
        cached = self._concepts.get(concept_id)
        if cached is None:
            concept = self.kb.get(concept_id)
            name = _normalize(concept.name)
            cached = _ConceptFacts(
                name=name,
                head=_stem(name.rsplit(" ", 1)[-1]) if name else "",
                name_words=words(concept.name),
                all_words=frozenset().union(*(words(n) for n in concept.names)),
                definition=words(concept.definition or ""),
                types=frozenset(concept.types),
                depth=self.depth(concept_id),
                children_log=math.log1p(len(self.kb.children(concept_id))),
            )
            self._concepts[concept_id] = cached
        return cached

    def rows(self, item: RankQuery, document: Document | None, evidence: DocumentEvidence) -> np.ndarray:
        """One feature row per candidate of ``item`` (columns in ``FEATURES`` order)."""
        ranked = item.candidates
        if not ranked:
            return np.zeros((0, len(FEATURES)))
        scores = [dict(c.stage_scores) for c in ranked]
        fused = [s.get("fused", c.raw_score) for s, c in zip(scores, ranked, strict=True)]
        ids = [c.concept_id for c in ranked]
        ancestors = [self.ancestors(cid) for cid in ids]
        in_list = set(ids)
        below = Counter(a for anc in ancestors for a in anc & in_list)  # candidates under each candidate
        key = _normalize(item.query)
        seen_total = sum(s.get("prior", 0.0) for s in scores)  # training links of this text to any candidate
        query_words = words(item.query)
        mention = item.mention
        context = self._context_words(mention, document) - query_words
        top_votes = evidence.top_votes.get(key, Counter())
        list_votes = evidence.list_votes.get(key, Counter())
        head = _stem(key.rsplit(" ", 1)[-1])
        n_tokens = max(len(item.query.split()), 1)
        mention_key = _normalize(mention.text)
        plural = float(_stem(mention_key) != mention_key)
        expanded = float(key != mention_key)
        caps = float(_is_caps(mention.text))
        out = np.zeros((len(ranked), len(FEATURES)))
        for i, (c, s) in enumerate(zip(ranked, scores, strict=True)):
            facts = self.facts(c.concept_id)
            alias_words = words(c.matched_alias)
            prior = s.get("prior", 0.0)
            other_names = facts.all_words - query_words
            out[i] = (
                # retrieval
                fused[i], s.get("tfidf", 0.0), s.get("dense", 0.0), s.get("retrieval_rank", float(i)),
                fused[0] - fused[i],
                # prior
                float(s.get("tfidf", 0.0) >= EXACT), math.log1p(prior), prior / seen_total if seen_total else 0.0,
                float(seen_total > 0), float(_normalize(c.matched_alias) == facts.name),
                s.get("concept_links", 0.0), s.get("word_concept", 0.0),
                # abbreviation
                expanded, caps, float(_is_caps(c.matched_alias)),
                # lexical
                _jaccard(query_words, alias_words), _jaccard(query_words, facts.name_words), float(head == facts.head),
                len(item.query) / max(len(c.matched_alias), 1),
                # hierarchy
                len(ancestors[i] & in_list), below[c.concept_id],
                float(i > 0 and c.concept_id in ancestors[0]), float(i > 0 and ids[0] in ancestors[i]),
                facts.depth, facts.children_log,
                # document
                top_votes.get(c.concept_id, 0), list_votes.get(c.concept_id, 0), evidence.decided.get(c.concept_id, 0),
                # type
                plural, n_tokens, float(mention.label in facts.types),
                # context
                len(context & other_names) / max(len(other_names), 1),
                len(context & facts.definition) / math.sqrt(max(len(facts.definition), 1)),
            )  # fmt: skip
        return out

    def _context_words(self, mention: Mention, document: Document | None) -> frozenset[str]:
        if document is None:
            return frozenset()
        lo, hi = max(mention.start - CONTEXT_CHARS, 0), mention.end + CONTEXT_CHARS
        return words(document.text[lo : mention.start] + " " + document.text[mention.end : hi])


def feature_rows(
    extractor: FeatureExtractor,
    queries: Sequence[RankQuery],
    documents: Mapping[str, Document] | None = None,
    decisions: Sequence[Decision] = (),
) -> list[np.ndarray]:
    """Feature rows of every query's candidates (input order), with evidence gathered per document."""
    by_doc: dict[str, list[RankQuery]] = {}
    for q in queries:
        by_doc.setdefault(q.mention.doc_id, []).append(q)
    evidence = {
        doc_id: document_evidence(items, [d for d in decisions if d.doc_id == doc_id])
        for doc_id, items in by_doc.items()
    }
    docs = documents or {}
    return [extractor.rows(q, docs.get(q.mention.doc_id), evidence[q.mention.doc_id]) for q in queries]
