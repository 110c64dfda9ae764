"""The ranking stage: re-order retrieved candidates with the LambdaRank model, calibrated.

Stage: after candidate generation (retrieval, priors, abbreviation expansion), instead of
the list calibrator. ``rank`` takes the retrieved lists of a batch of mentions, groups
them by document (document-consistency features need the document's other mentions),
scores every candidate in one LightGBM call, and returns the lists best first with
``calibrated_score`` = P(candidate is right). ``explain`` gives one candidate's per-feature
contributions in words a curator reads. It does not retrieve.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from bel_core.rank.features import FEATURE_GROUPS, CorpusLexicon, FeatureExtractor, RankQuery, feature_rows
from bel_core.rank.model import LambdaRanker
from bel_core.retrieve.priors import AliasExtension
from bel_core.types import Candidate, Decision, Document, Mention

STAGE = "rank"


class CandidateSource(Protocol):
    """What the ranking stage needs of the candidate generator (``LinkingPipeline`` satisfies it)."""

    @property
    def priors(self) -> AliasExtension | None: ...

    def queries(self, mentions: Sequence[Mention], documents: Mapping[str, Document] | None) -> list[str]: ...

    def retrieve(
        self,
        mentions: Sequence[Mention],
        *,
        documents: Mapping[str, Document] | None = None,
        k: int | None = None,
        queries: Sequence[str] | None = None,
    ) -> list[list[Candidate]]: ...


def rank_queries(
    source: CandidateSource, mentions: Sequence[Mention], documents: Mapping[str, Document] | None, depth: int
) -> list[RankQuery]:
    """The ranking stage's input: each mention retrieved ``depth`` deep, with the corpus lexicon's scores.

    Training (cross-fitted folds) and linking build their lists here, so they look alike.
    """
    lexicon = CorpusLexicon(source.priors)
    queries = source.queries(mentions, documents)
    found = source.retrieve(mentions, documents=documents, k=depth, queries=queries)
    return [RankQuery(m, q, tuple(lexicon.annotate(q, r))) for m, q, r in zip(mentions, queries, found, strict=True)]


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


def _count(n: float, once: str, many: str, none: str) -> str:
    k = int(round(n))
    return none if k == 0 else once if k == 1 else many.format(n=k)


# Feature -> (wording when on, wording when off) for 0/1 features.
_FLAGS = {
    "exact": ("exact synonym", "not an exact synonym"),
    "text_seen": ("text seen in training", "text never seen in training"),
    "alias_is_name": ("matches the preferred name", "matches a synonym, not the preferred name"),
    "query_expanded": ("abbreviation expanded from its definition in this document", "not an expanded abbreviation"),
    "mention_caps": ("mention written as an abbreviation", "mention not an abbreviation"),
    "alias_caps": ("matched an abbreviation", "matched a full name"),
    "head_match": ("same head word as the preferred name", "different head word from the preferred name"),
    "mention_plural": ("plural mention", "singular mention"),
    "type_match": ("mention type matches the concept's type", "mention type not among the concept's types"),
}
# Feature -> (once, {n} times, never) for counts.
_COUNTS = {
    "ancestors_in_list": (
        "a broader concept is also a candidate",
        "{n} broader concepts are candidates",
        "no broader concept among the candidates",
    ),
    "descendants_in_list": (
        "a narrower concept is also a candidate",
        "{n} narrower concepts are candidates",
        "no narrower concept among the candidates",
    ),
    "doc_top_votes": (
        "linked once elsewhere in this document",
        "linked {n} times elsewhere in this document",
        "not linked elsewhere in this document",
    ),
    "doc_list_votes": (
        "a candidate once elsewhere in this document",
        "a candidate {n} times elsewhere in this document",
        "not a candidate elsewhere in this document",
    ),
    "doc_decided": (
        "a curator linked it once in this document",
        "curators linked it {n} times in this document",
        "no curator link to it in this document",
    ),
    "mention_tokens": ("one-word mention", "{n}-word mention", "empty mention"),
}
# Feature -> wording of its value; log-count features are shown as counts.
_VALUES = {
    "fused": "retrieval similarity {v:.2f}",
    "tfidf": "spelling similarity {v:.2f}",
    "dense": "meaning similarity {v:.2f}",
    "gap_to_top": "retrieval score {v:.2f} below retrieval's first choice",
    "prior_share": "{v:.0%} of this text's training links",
    "alias_jaccard": "{v:.0%} word overlap with the matched name",
    "name_jaccard": "{v:.0%} word overlap with the preferred name",
    "length_ratio": "mention {v:.1f}x the length of the matched name",
    "depth": "{v:.0f} levels below the top of the KB",
    "word_concept": "{v:.0%} of training links of the mention's words go to it",
    "context_name_overlap": "{v:.0%} of its other name words occur near the mention",
    "context_definition_overlap": "definition words near the mention (score {v:.2f})",
}
_LOG_COUNTS = {
    "prior_log": ("linked to this text once in training", "linked to this text {n} times in training",
                  "never linked to this text in training"),
    "concept_links": ("linked once in training (any text)", "linked {n} times in training (any text)",
                      "never linked in training"),
    "children_log": ("has 1 narrower concept", "has {n} narrower concepts", "has no narrower concepts"),
}  # fmt: skip


def describe(feature: str, value: float, first: str | None) -> str:
    """Curator-readable wording of one feature value (plain text, never markup).

    ``first``: the name of retrieval's first candidate (hierarchy features relate to it).
    """
    top = first or "retrieval's first candidate"
    if feature in _FLAGS:
        return _FLAGS[feature][0 if value > 0.5 else 1]
    if feature in _COUNTS:
        return _count(value, *_COUNTS[feature])
    if feature in _LOG_COUNTS:
        return _count(math.expm1(value), *_LOG_COUNTS[feature])
    if feature == "retrieval_rank":
        return f"retrieval ranked it #{int(value) + 1}"
    if feature in ("parent_of_top", "child_of_top"):
        relation = "parent" if feature == "parent_of_top" else "child"
        return f"{relation} of {top}" if value > 0.5 else f"not a {relation} of {top}"
    return _VALUES[feature].format(v=value)


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
    ) -> list[list[Candidate]]:
        """Each query's candidates re-ordered by the model, with ``calibrated_score`` and ``("rank", score)``."""
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
        values = dict(zip(self.model.features, rows[i, self.model.columns], strict=True))
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
