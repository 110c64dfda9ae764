"""Training data and fitting for the ranking stage.

Stage: training (``bel train`` and the benchmarks). The ranker must learn from candidate
lists that look like those it will see at link time. A training mention whose own text is
in the dictionary and the priors (as every training mention is, once the training corpus
extends the KB) would teach it that an exact, previously linked alias is always right, so
the training lists are *cross-fitted*: the corpus is cut into folds by document and each
fold is retrieved by a linker whose aliases and priors come from the other folds only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bel_core.rank.features import FEATURES, FeatureExtractor, RankQuery, feature_rows
from bel_core.rank.model import LambdaRanker, RankerParams
from bel_core.rank.stage import RankingStage, rank_queries
from bel_core.retrieve.priors import AliasExtension
from bel_core.training.pairs import split_by_document
from bel_core.types import Document

if TYPE_CHECKING:
    from bel_core.kb.knowledge_base import KnowledgeBase
    from bel_core.linking.pipeline import LinkingPipeline
    from bel_core.training.corpus import LabelledSplit

logger = logging.getLogger(__name__)

# Builds the candidate generator for given training priors (None: no corpus priors).
PipelineFactory = Callable[[AliasExtension | None], "LinkingPipeline"]


@dataclass(frozen=True, slots=True)
class RankingSet:
    """Retrieved lists of labelled mentions, ready for feature extraction.

    Attributes:
        queries: one per gold mention, in corpus order.
        labels: per query, 1 for each candidate that is a gold concept.
        documents: the mentions' documents.
    """

    queries: tuple[RankQuery, ...]
    labels: tuple[tuple[int, ...], ...]
    documents: Mapping[str, Document]

    def merged(self, other: RankingSet) -> RankingSet:
        """Both sets' lists."""
        return RankingSet(
            (*self.queries, *other.queries), (*self.labels, *other.labels), {**self.documents, **other.documents}
        )

    def subset(self, doc_ids: set[str]) -> RankingSet:
        """Only the lists of these documents."""
        keep = [i for i, q in enumerate(self.queries) if q.mention.doc_id in doc_ids]
        return RankingSet(tuple(self.queries[i] for i in keep), tuple(self.labels[i] for i in keep), self.documents)


def retrieve_split(pipeline: LinkingPipeline, split: LabelledSplit, depth: int) -> RankingSet:
    """``split``'s gold mentions retrieved (with abbreviations and priors) ``depth`` deep, labelled."""
    items = tuple(rank_queries(pipeline, [g.mention for g in split.golds], split.documents, depth))
    labels = tuple(
        tuple(int(c.concept_id in g.gold_ids) for c in q.candidates) for g, q in zip(split.golds, items, strict=True)
    )
    return RankingSet(items, labels, dict(split.documents))


def crossfit_split(
    make_pipeline: PipelineFactory, split: LabelledSplit, kb: KnowledgeBase, *, folds: int, depth: int, seed: int
) -> RankingSet:
    """``split`` retrieved fold by fold, each fold with aliases and priors from the other folds only."""
    remaining = split
    parts: list[set[str]] = []
    for fold in range(folds - 1, 0, -1):  # peel off 1/(fold+1) of what is left: equal folds
        rest, part = split_by_document([g.mention.doc_id for g in remaining.golds], 1 / (fold + 1), seed)
        parts.append(part)
        remaining = remaining.subset(rest)
    parts.append({g.mention.doc_id for g in remaining.golds})
    out: RankingSet | None = None
    for part in parts:
        started = time.perf_counter()
        others = split.subset({g.mention.doc_id for g in split.golds} - part)
        priors = AliasExtension.from_links(others.corpus_links(), kb)
        fold_set = retrieve_split(make_pipeline(priors), split.subset(part), depth)
        logger.info("cross-fitted fold of %d mentions in %.1f s", len(fold_set.queries), time.perf_counter() - started)
        out = fold_set if out is None else out.merged(fold_set)
    assert out is not None
    return out


def design(
    extractor: FeatureExtractor, data: RankingSet, *, answerable_only: bool
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Feature rows, labels and list sizes.

    ``answerable_only`` keeps only lists with a right candidate (the others teach a ranking
    nothing); calibration needs them all, since at link time the right concept is sometimes absent.
    """
    rows = feature_rows(extractor, data.queries, data.documents)
    keep = [i for i, y in enumerate(data.labels) if (any(y) if answerable_only else y)]
    x = np.vstack([rows[i] for i in keep]) if keep else np.zeros((0, len(FEATURES)))
    y = np.array([v for i in keep for v in data.labels[i]], dtype=np.int64)
    return x, y, [len(data.labels[i]) for i in keep]


def fit_stage(
    train: RankingSet,
    valid: RankingSet,
    extractor: FeatureExtractor,
    *,
    valid_extractor: FeatureExtractor | None = None,
    features: Sequence[str] = FEATURES,
    params: RankerParams | None = None,
    trained_on: dict[str, Any] | None = None,
) -> RankingStage:
    """Train the ranker on ``train``, stop early and calibrate on ``valid`` (other documents).

    ``valid_extractor``: features of ``valid`` when its lists come from another KB than
    ``train``'s (a ranker trained on one corpus and KB, transferred to another); the
    returned stage uses it.

    Raises:
        ValueError: see :meth:`LambdaRanker.fit`.
    """
    x, y, sizes = design(extractor, train, answerable_only=True)
    target = valid_extractor or extractor
    xv, yv, sizes_v = design(target, valid, answerable_only=True)
    started = time.perf_counter()
    model = LambdaRanker.fit(x, y, sizes, xv, yv, sizes_v, features=features, params=params, trained_on=trained_on)
    model.calibrate(*design(target, valid, answerable_only=False))
    logger.info(
        "ranker: %d lists, %d trees, fitted in %.1f s",
        len(sizes),
        model.booster.num_trees(),
        time.perf_counter() - started,
    )
    return RankingStage(model, target)
