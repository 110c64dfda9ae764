"""Learning-to-rank stage: LightGBM LambdaRank over features of each retrieved candidate.

Enters: per mention its retrieved candidates (``RankQuery``: the query, the candidate list
with per-stage scores and priors, the document and what earlier mentions and decisions in it
linked to) and the KB (hierarchy, names, definitions). Leaves: the candidates re-ordered
with calibrated probabilities, and per candidate the feature contributions as
curator-readable ``Reason`` records ("exact synonym", "parent of the runner-up").
``training`` builds cross-fitted lists and fits the model; LightGBM (the ``rank`` extra)
loads only when a ranker is built or trained. Not yet wired into ``LinkingPipeline``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.rank.features import FeatureExtractor, RankQuery, feature_rows
    from bel_core.rank.model import LambdaRanker, RankerParams
    from bel_core.rank.stage import Ranker, RankingStage, Reason, rank_queries
    from bel_core.rank.training import RankingSet, crossfit_split, fit_stage, retrieve_split

__all__, __getattr__ = exports(
    __name__,
    {
        "features": ("FeatureExtractor", "RankQuery", "feature_rows"),
        "model": ("LambdaRanker", "RankerParams"),
        "stage": ("Ranker", "RankingStage", "Reason", "rank_queries"),
        "training": ("RankingSet", "crossfit_split", "fit_stage", "retrieve_split"),
    },
)
