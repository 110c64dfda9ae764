"""The ranking stage: re-order retrieved candidates with the LambdaRank model, calibrated.

Stage: after candidate generation (retrieval, priors, abbreviation expansion), instead of
the list calibrator. ``rank`` takes the retrieved lists of a batch of mentions, groups
them by document (document-consistency features need the document's other mentions),
scores every candidate in one LightGBM call, and returns the lists best first with
``calibrated_score`` = P(candidate is right). ``explain`` gives one candidate's per-feature
contributions in words a curator reads. It does not retrieve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from bel_core.rank.features import FEATURE_GROUPS, FeatureExtractor, RankQuery, feature_rows
from bel_core.rank.model import LambdaRanker
from bel_core.types import Candidate, Decision, Document

STAGE = "rank"


class Ranker(Protocol):
    """What the pipeline needs from a ranking stage."""

    version: str

    def rank(
        self,
        queries: Sequence[RankQuery],
        *,
        documents: Mapping[str, Document] | None = None,
        decisions: Sequence[Decision] = (),
    ) -> list[list[Candidate]]: ...


@dataclass(frozen=True, slots=True)
class Reason:
    """One feature's part in a candidate's ranking score, worded for a curator.

    Attributes:
        feature: the feature's name (``FEATURES``).
        group: its group (``FEATURE_GROUPS``).
        value: the feature's value for this candidate.
        contribution: its additive share of the ranking score (LightGBM ``pred_contrib``);
            positive pushes the candidate up.
        text: plain words, e.g. "exact synonym", "linked 3 times elsewhere in this document".
    """

    feature: str
    group: str
    value: float
    contribution: float
    text: str


_GROUP_OF = {f: g for g, names in FEATURE_GROUPS.items() for f in names}


def _plural(n: float, one: str, many: str) -> str:
    return one if round(n) == 1 else many.format(n=int(round(n)))


def describe(feature: str, value: float, first: str | None) -> str:
    """Curator-readable wording of one feature value (plain text, never markup).

    ``first``: the name of retrieval's first candidate (hierarchy features relate to it).
    """
    top = first or "retrieval's first candidate"
    flag = value > 0.5
    words = {
        "fused": f"retrieval similarity {value:.2f}",
        "tfidf": f"spelling similarity {value:.2f}",
        "dense": f"meaning similarity {value:.2f}",
        "retrieval_rank": f"retrieval ranked it #{int(value) + 1}",
        "gap_to_top": f"retrieval score {value:.2f} below retrieval's first choice",
        "exact": "exact synonym" if flag else "not an exact synonym",
        "prior_log": _plural(np.expm1(value), "linked once in training", "linked {n} times in training")
        if value > 0
        else "never linked to this text in training",
        "prior_share": f"{value:.0%} of this text's training links",
        "text_seen": "text seen in training" if flag else "text never seen in training",
        "alias_is_name": "matches the preferred name" if flag else "matches a synonym, not the preferred name",
        "query_expanded": "abbreviation expanded from its definition in this document" if flag else "not expanded",
        "mention_caps": "mention written as an abbreviation" if flag else "mention not an abbreviation",
        "alias_caps": "matched an abbreviation" if flag else "matched a full name",
        "alias_jaccard": f"{value:.0%} word overlap with the matched name",
        "name_jaccard": f"{value:.0%} word overlap with the preferred name",
        "head_match": "same head word as the preferred name" if flag else "different head word",
        "length_ratio": f"mention {value:.1f}x the length of the matched name",
        "ancestors_in_list": _plural(value, "a broader concept is also a candidate", "{n} broader concepts are candidates")
        if value
        else "no broader concept among the candidates",
        "descendants_in_list": _plural(value, "a narrower concept is also a candidate", "{n} narrower concepts are candidates")
        if value
        else "no narrower concept among the candidates",
        "parent_of_top": f"parent of {top}" if flag else f"not a parent of {top}",
        "child_of_top": f"child of {top}" if flag else f"not a child of {top}",
        "depth": f"{int(value)} levels below the top of the KB",
        "children_log": _plural(np.expm1(value), "has 1 narrower concept", "has {n} narrower concepts")
        if value
        else "has no narrower concepts",
        "doc_top_votes": _plural(value, "linked once elsewhere in this document", "linked {n} times elsewhere in this document")
        if value
        else "not linked elsewhere in this document",
        "doc_list_votes": _plural(value, "a candidate once elsewhere in this document", "a candidate {n} times elsewhere in this document")
        if value
        else "not a candidate elsewhere in this document",
        "doc_decided": _plural(value, "a curator linked it once in this document", "curators linked it {n} times in this document")
        if value
        else "no curator link to it in this document",
        "mention_plural": "plural mention" if flag else "singular mention",
        "mention_tokens": _plural(value, "one-word mention", "{n}-word mention"),
        "type_match": "mention type matches the concept's type" if flag else "mention type not among the concept's types",
        "context_name_overlap": f"{value:.0%} of its other name words occur near the mention",
        "context_definition_overlap": "definition words occur near the mention" if value else "no definition word near the mention",
    }  # fmt: skip
    return words[feature]


class RankingStage:
    """LambdaRank re-ordering with calibrated probabilities (see module docstring).

    Args:
        model: the fitted ranker.
        extractor: the feature extractor over the KB the candidates come from.
    """

    def __init__(self, model: LambdaRanker, extractor: FeatureExtractor) -> None:
        self.model = model
        self.extractor = extractor

    @property
    def version(self) -> str:
        """Identifies the model (stored with link runs)."""
        return f"lambdarank-{self.model.digest}"

    def rank(
        self,
        queries: Sequence[RankQuery],
        *,
        documents: Mapping[str, Document] | None = None,
        decisions: Sequence[Decision] = (),
    ) -> list[list[Candidate]]: ...


@dataclass(frozen=True, slots=True)
class Reason:
    """One feature's part in a candidate's ranking score, worded for a curator.

    Attributes:
        feature: the feature's name (``FEATURES``).
        group: its group (``FEATURE_GROUPS``).
        value: the feature's value for this candidate.
        contribution: its additive share of the ranking score (LightGBM ``pred_contrib``);
            positive pushes the candidate up.
        text: plain words, e.g. "exact synonym", "linked 3 times elsewhere in this document".
    """

    feature: str
    group: str
    value: float
    contribution: float
    text: str


_GROUP_OF = {f: g for g, names in FEATURE_GROUPS.items() for f in names}


def _plural(n: float, one: str, many: str) -> str:
    return one if round(n) == 1 else many.format(n=int(round(n)))


def describe(feature: str, value: float, first: str | None) -> str:
    """Curator-readable wording of one feature value (plain text, never markup).

    ``first``: the name of retrieval's first candidate (hierarchy features relate to it).
    """
    top = first or "retrieval's first candidate"
    flag = value > 0.5
    words = {
        "fused": f"retrieval similarity {value:.2f}",
        "tfidf": f"spelling similarity {value:.2f}",
        "dense": f"meaning similarity {value:.2f}",
        "retrieval_rank": f"retrieval ranked it #{int(value) + 1}",
        "gap_to_top": f"retrieval score {value:.2f} below retrieval's first choice",
        "exact": "exact synonym" if flag else "not an exact synonym",
        "prior_log": _plural(np.expm1(value), "linked once in training", "linked {n} times in training")
        if value > 0
        else "never linked to this text in training",
        "prior_share": f"{value:.0%} of this text's training links",
        "text_seen": "text seen in training" if flag else "text never seen in training",
        "alias_is_name": "matches the preferred name" if flag else "matches a synonym, not the preferred name",
        "query_expanded": "abbreviation expanded from its definition in this document" if flag else "not expanded",
        "mention_caps": "mention written as an abbreviation" if flag else "mention not an abbreviation",
        "alias_caps": "matched an abbreviation" if flag else "matched a full name",
        "alias_jaccard": f"{value:.0%} word overlap with the matched name",
        "name_jaccard": f"{value:.0%} word overlap with the preferred name",
        "head_match": "same head word as the preferred name" if flag else "different head word",
        "length_ratio": f"mention {value:.1f}x the length of the matched name",
        "ancestors_in_list": _plural(value, "a broader concept is also a candidate", "{n} broader concepts are candidates")
        if value
        else "no broader concept among the candidates",
        "descendants_in_list": _plural(value, "a narrower concept is also a candidate", "{n} narrower concepts are candidates")
        if value
        else "no narrower concept among the candidates",
        "parent_of_top": f"parent of {top}" if flag else f"not a parent of {top}",
        "child_of_top": f"child of {top}" if flag else f"not a child of {top}",
        "depth": f"{int(value)} levels below the top of the KB",
        "children_log": _plural(np.expm1(value), "has 1 narrower concept", "has {n} narrower concepts")
        if value
        else "has no narrower concepts",
        "doc_top_votes": _plural(value, "linked once elsewhere in this document", "linked {n} times elsewhere in this document")
        if value
        else "not linked elsewhere in this document",
        "doc_list_votes": _plural(value, "a candidate once elsewhere in this document", "a candidate {n} times elsewhere in this document")
        if value
        else "not a candidate elsewhere in this document",
        "doc_decided": _plural(value, "a curator linked it once in this document", "curators linked it {n} times in this document")
        if value
        else "no curator link to it in this document",
        "mention_plural": "plural mention" if flag else "singular mention",
        "mention_tokens": _plural(value, "one-word mention", "{n}-word mention"),
        "type_match": "mention type matches the concept's type" if flag else "mention type not among the concept's types",
        "context_name_overlap": f"{value:.0%} of its other name words occur near the mention",
        "context_definition_overlap": "definition words occur near the mention" if value else "no definition word near the mention",
    }  # fmt: skip
    return words[feature]


class RankingStage:
    """LambdaRank re-ordering with calibrated probabilities (see module docstring).

    Args:
        model: the fitted ranker.
        extractor: the feature extractor over the KB the candidates come from.
    """

    def __init__(self, model: LambdaRanker, extractor: FeatureExtractor) -> None:
        self.model = model
        self.extractor = extractor

    @property
    def version(self) -> str:
        """Identifies the model (stored with link runs)."""
        return f"lambdarank-{self.model.digest}"

    def features(
        self,
        queries: Sequence[RankQuery],
        documents: Mapping[str, Document] | None = None,
        decisions: Sequence[Decision] = (),
    ) -> list[np.ndarray]:
        """Feature rows of every query's candidates (input order), document evidence per document."""
        evidence: dict[str, DocumentEvidence] = {}
        by_doc: dict[str, list[RankQuery]] = {}
        for q in queries:
            by_doc.setdefault(q.mention.doc_id, []).append(q)
        for doc_id, items in by_doc.items():
            mine = [d for d in decisions if d.doc_id == doc_id]
            evidence[doc_id] = document_evidence(items, mine)
        docs = documents or {}
        return [self.extractor.rows(q, docs.get(q.mention.doc_id), evidence[q.mention.doc_id]) for q in queries]

    def rank(
        self,
        queries: Sequence[RankQuery],
        *,
        documents: Mapping[str, Document] | None = None,
        decisions: Sequence[Decision] = (),
    ) -> list[list[Candidate]]:
        """Each query's candidates re-ordered by the model, with ``calibrated_score`` and the score in ``stage_scores``."""
        rows = feature_rows(self.extractor, queries, documents, decisions)
        sizes = [len(r) for r in rows]
        x = np.vstack(rows) if rows else np.zeros((0, 0))
        scores = self.model.scores(x) if len(x) else np.zeros(0)
        probs = self.model.probabilities(scores, sizes)
        out, offset = [], 0
        for q, n in zip(queries, sizes, strict=True):
            s, p = scores[offset : offset + n], probs[offset : offset + n]
            offset += n
            order = sorted(range(n), key=lambda i: -s[i])  # stable: ties keep retrieval's order
            out.append(
                [
                    replace(
                        q.candidates[i],
                        stage=STAGE,
                        raw_score=float(s[i]),
                        calibrated_score=float(p[i]),
                        stage_scores=(*q.candidates[i].stage_scores, (STAGE, float(s[i]))),
                    )
                    for i in order
                ]
            )
        return out

    def explain(
        self,
        query: RankQuery,
        concept_id: str,
        *,
        documents: Mapping[str, Document] | None = None,
        decisions: Sequence[Decision] = (),
        others: Sequence[RankQuery] = (),
        limit: int = 6,
    ) -> list[Reason]:
        """Why the model scored ``concept_id`` as it did for ``query``: the largest contributions first.

        Args:
            query: the mention and its retrieved candidates (as given to :meth:`rank`).
            concept_id: one of the candidates.
            documents, decisions: as given to :meth:`rank`.
            others: the other mentions of the same document (document-consistency evidence).
            limit: reasons to return.

        Raises:
            ValueError: ``concept_id`` is not among the query's candidates.
        """
        ids = [c.concept_id for c in query.candidates]
        if concept_id not in ids:
            raise ValueError(f"{concept_id!r} is not a candidate of {query.mention.text!r}; candidates: {ids}")
        rows = feature_rows(self.extractor, [query, *others], documents, decisions)[0]
        i = ids.index(concept_id)
        contrib = self.model.contributions(rows[i : i + 1])[0][:-1]  # last column: the bias
        first = query.candidates[0].name if i > 0 else None
        values = dict(zip(self.model.features, rows[i, self.model._columns], strict=True))
        order = sorted(range(len(contrib)), key=lambda j: -abs(contrib[j]))[:limit]
        return [
            Reason(
                f := self.model.features[j],
                _GROUP_OF[f],
                float(values[f]),
                float(contrib[j]),
                describe(f, float(values[f]), first),
            )
            for j in order
        ]
