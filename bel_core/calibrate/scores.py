"""Score calibration: turn fused retrieval scores into P(candidate is the right concept).

A logistic model over features of a candidate in its ranked list: the fused score, its
signed margin to the best competing candidate, whether it is ranked first, whether its
alias equals the mention (exact hit), and the products of "ranked first" with the others
(so the top-1 probability, which the curator and the scorer read, gets its own slope), plus
whether the first candidate is also the dense stage's best (the two retrievers agree). It is
fitted on synthetic mentions drawn from the KB itself (no curated data is needed at
start-up): KB synonyms held out of the index, mixed with synonyms left in (exact hits).
This module does not retrieve; fitting takes a ranking function from ``pipeline``.

The cross-encoder's margin calibrators (``calibrate_margin``) and the calibration measures
(``reliability``) live in their own modules and are re-exported here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bel_core.calibrate.margin import IsotonicMarginCalibrator as IsotonicMarginCalibrator
from bel_core.calibrate.margin import MarginCalibrator as MarginCalibrator
from bel_core.calibrate.margin import TemperatureBucketCalibrator as TemperatureBucketCalibrator
from bel_core.calibrate.margin import isotonic_calibrator as isotonic_calibrator
from bel_core.calibrate.margin import margin_calibrator_from_json as margin_calibrator_from_json
from bel_core.calibrate.reliability import brier_score as brier_score
from bel_core.calibrate.reliability import expected_calibration_error as expected_calibration_error
from bel_core.calibrate.reliability import reliability_bins as reliability_bins
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.retrieve.protocols import Exclusion
from bel_core.text import normalize
from bel_core.types import Candidate

logger = logging.getLogger(__name__)

FEATURES = (
    "score",
    "margin",
    "is_first",
    "exact",
    "first_x_score",
    "first_x_margin",
    "first_x_exact",
    "first_x_agree",
)
# Files fitted before "first_x_agree" was appended (late 2026-12-02) have seven coefficients and read seven columns.
_NO_AGREE_FEATURES = FEATURES[:7]
# Files written before 2026-12-02 flag every candidate tied with the best as "top-1" (margin >= 0).
_TIED_FEATURES = ("score", "margin", "is_top1", "exact", "top1_x_score", "top1_x_margin", "top1_x_exact")
EXACT = 1.0 - 1e-6  # a TF-IDF score this high means the normalised alias equals the mention
RankFn = Callable[[Sequence[str], Exclusion | None], list[list[Candidate]]]


def margins(scores: Sequence[float]) -> np.ndarray:
    """Signed margin of each score in a best-first list to its best competitor.

    The top candidate gets ``s1 - s2`` (``s1`` when it is alone), every other one
    ``s_i - s1`` (<= 0). A plain "gap to top-1" would be 0 for every top-1 and say nothing
    about how sure the ranking is; the margin to the runner-up does.
    """
    s = np.asarray(scores, dtype=np.float64)
    if not len(s):
        return s
    out: np.ndarray = s - s[0]
    out[0] = s[0] - (s[1] if len(s) > 1 else 0.0)
    return out


def design(
    scores: ArrayLike, gaps: ArrayLike, first: ArrayLike, exact: ArrayLike, agree: ArrayLike | None = None
) -> np.ndarray:
    """Rows of ``FEATURES`` from per-candidate score, margin, "ranked first", exact-hit and agreement flags.

    ``agree`` marks candidates with the best dense score of their list (all False without it).
    """
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(gaps, dtype=np.float64)
    f = np.asarray(first, dtype=bool).astype(np.float64)
    e = np.asarray(exact, dtype=bool).astype(np.float64)
    a = np.zeros_like(s) if agree is None else np.asarray(agree, dtype=bool).astype(np.float64)
    return np.column_stack([s, g, f, e, f * s, f * g, f * e, f * a])


def exact_flags(ranked: Sequence[Candidate]) -> np.ndarray:
    """Per candidate: its TF-IDF stage score (or raw score) marks an exact alias hit."""
    return np.array([dict(c.stage_scores).get("tfidf", c.raw_score) >= EXACT for c in ranked], dtype=bool)


def dense_best_flags(ranked: Sequence[Candidate]) -> np.ndarray:
    """Per candidate: it has the list's highest dense stage score (all False for lists without one).

    A first candidate that both retrievers put on top is right far more often than one the
    fused sum promoted over the dense stage's choice (NCBI-disease dev, non-exact top-1:
    0.79 vs 0.33 accuracy).
    """
    dense = [dict(c.stage_scores).get("dense") for c in ranked]
    known = [d for d in dense if d is not None]
    if not known:
        return np.zeros(len(ranked), dtype=bool)
    best = max(known)
    return np.array([d is not None and d >= best for d in dense], dtype=bool)


def list_design(ranked: Sequence[Candidate], *, ties_first: bool = False) -> np.ndarray:
    """``FEATURES`` rows of a best-first list; only its first candidate is "ranked first".

    Counting candidates tied with the best as first too (``ties_first``, the old files'
    meaning) gave an exact alias shared by two concepts two "top-1" rows, one of them
    wrong, and pulled every top-1 probability down: NCBI-disease test ECE 0.053, 0.038
    with this rule and the sharing in :meth:`ScoreCalibrator.apply`.
    """
    scores = [c.raw_score for c in ranked]
    gaps = margins(scores)
    first = gaps >= 0 if ties_first else np.arange(len(ranked)) == 0
    rows = design(scores, gaps, first, exact_flags(ranked), dense_best_flags(ranked))
    return rows.reshape(len(ranked), len(FEATURES))


def _tie_key(candidate: Candidate) -> tuple[float, bool, float]:
    scores = dict(candidate.stage_scores)
    return candidate.raw_score, scores.get("tfidf", candidate.raw_score) >= EXACT, scores.get("prior", 0.0)


class ScoreCalibrator:
    """Logistic regression on ``FEATURES``; predictions are plain numpy after fitting.

    On synthetic HPO/MEDIC mentions (TF-IDF ranking) the top-1 ECE was 0.12/0.11 with only
    (score, margin, is_first); the exact flag and the first-rank products bring it to 0.06/0.07.
    """

    method = "logistic"

    def __init__(
        self,
        coef: Sequence[float] | None = None,
        intercept: float = 0.0,
        n_train: int = 0,
        *,
        ties_first: bool = False,
    ) -> None:
        self.coef = None if coef is None else np.asarray(coef, dtype=np.float64)
        self.intercept = float(intercept)
        self.n_train = n_train
        self.ties_first = ties_first

    def fit(self, features: ArrayLike, labels: ArrayLike) -> ScoreCalibrator:
        """Fit on ``FEATURES`` rows (see :func:`list_design`) and 0/1 labels.

        Raises:
            ValueError: labels are all of one class.
        """
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(labels, dtype=np.int64)
        if len(set(y.tolist())) < 2:
            raise ValueError("Calibration needs both right and wrong candidates; got one class only")
        model = LogisticRegression(C=1.0, max_iter=1000).fit(np.asarray(features, dtype=np.float64), y)
        self.coef = model.coef_[0].astype(np.float64)
        self.intercept = float(model.intercept_[0])
        self.n_train = len(y)
        self.ties_first = False
        return self

    def predict(self, features: ArrayLike) -> np.ndarray:
        """P(right) per ``FEATURES`` row.

        Raises:
            ValueError: the calibrator is not fitted.
        """
        if self.coef is None:
            raise ValueError("ScoreCalibrator is not fitted: call fit() or from_json() first")
        # A file fitted before a feature was appended has fewer coefficients: it reads the columns it knows.
        z = np.asarray(features, dtype=np.float64)[:, : len(self.coef)] @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def apply(self, ranked: Sequence[Candidate]) -> list[Candidate]:
        """Copies of a best-first candidate list with ``calibrated_score`` set."""
        if not ranked:
            return []
        probs = self.predict(list_design(ranked, ties_first=self.ties_first))
        # Candidates the list cannot tell from the first (one alias of several concepts, no
        # training prior to break the tie) stand in an arbitrary order: they share one probability.
        first = _tie_key(ranked[0])
        same = [i for i, c in enumerate(ranked) if _tie_key(c) == first]
        probs[same] = probs[same].mean()
        return [replace(c, calibrated_score=float(p)) for c, p in zip(ranked, probs, strict=True)]

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form: method, feature names, coefficients, intercept, training size."""
        coef = [] if self.coef is None else [float(c) for c in self.coef]
        features = _TIED_FEATURES if self.ties_first else FEATURES[: len(coef) or len(FEATURES)]
        return {
            "method": self.method,
            "features": list(features),
            "coef": coef,
            "intercept": self.intercept,
            "n_train": self.n_train,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoreCalibrator:
        """Inverse of :meth:`to_json`; also reads older files (tied "is_top1", no "first_x_agree").

        Raises:
            ValueError: another method or feature set, or a coefficient count that does not match.
        """
        features = tuple(data.get("features", ()))
        known = (FEATURES, _NO_AGREE_FEATURES, _TIED_FEATURES)
        if data.get("method") != cls.method or features not in known or len(data.get("coef", ())) != len(features):
            raise ValueError(f"Expected a {cls.method} calibrator over {FEATURES}, got {data!r}")
        return cls(data["coef"], data["intercept"], int(data.get("n_train", 0)), ties_first=features == _TIED_FEATURES)

    @property
    def digest(self) -> str:
        """Short hash of the parameters (goes into ``model_version``)."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:8]


def _multi_name_concepts(kb: KnowledgeBase) -> list[tuple[str, list[str]]]:
    names: dict[str, list[str]] = {}
    for alias, cid in kb.aliases():
        names.setdefault(cid, []).append(alias)
    return [(cid, aliases) for cid, aliases in names.items() if len(aliases) >= 2]


def heldout_synonym_pairs(kb: KnowledgeBase, n: int, seed: int) -> list[tuple[str, str]]:
    """Up to ``n`` (name, concept_id) pairs, one per concept with >= 2 distinct names.

    The name (preferred or synonym) is meant to be held out of the index when scored, so
    the concept stays findable through its other names, like a real paraphrased mention.
    """
    rng = random.Random(seed)
    eligible = _multi_name_concepts(kb)
    return [(rng.choice(aliases), cid) for cid, aliases in rng.sample(eligible, min(n, len(eligible)))]


def exact_match_pairs(
    kb: KnowledgeBase, n: int, seed: int, *, avoid: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """Up to ``n`` (name, concept_id) pairs whose name stays in the index (exact hits).

    Names in ``avoid`` (the held-out ones) are never chosen, so an exact query is never
    masked by the hold-out of the same calibration run.
    """
    rng = random.Random(seed + 1)
    skip = {(normalize(a), cid) for a, cid in avoid}
    pairs = [(a, cid) for cid, aliases in _multi_name_concepts(kb) for a in aliases if (normalize(a), cid) not in skip]
    return rng.sample(pairs, min(n, len(pairs)))


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    """Top-1 calibration on the held-out third of the synthetic mentions (for the status page)."""

    n_train_queries: int
    n_test_queries: int
    exact_fraction: float
    acc_at_1: float
    ece_raw: float
    ece_calibrated: float
    brier_raw: float
    brier_calibrated: float


def _top1_outcomes(ranked: list[list[Candidate]], gold: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Top-1 calibrated probability (0 when nothing was retrieved) and whether top-1 is right."""
    probs = [(r[0].calibrated_score or 0.0) if r else 0.0 for r in ranked]
    right = [int(bool(r) and r[0].concept_id == g) for r, g in zip(ranked, gold, strict=True)]
    return np.array(probs), np.array(right)


def fit_on_kb(
    rank: RankFn, kb: KnowledgeBase, *, n: int = 2000, seed: int = 13, exact_fraction: float = 0.25
) -> tuple[ScoreCalibrator, CalibrationReport]:
    """Fit a calibrator on synthetic mentions: held-out synonyms plus exact hits.

    ``exact_fraction`` of the queries are names left in the index: detected mentions are
    dictionary hits, so exact matches must calibrate near 1 unless the name is ambiguous.
    The rest are names hidden from both retrievers (``exclude``), standing for mentions
    worded unlike any KB name. Two thirds train the model, one third measures it.

    Args:
        rank: ``rank(queries, exclude)`` -> fused, uncalibrated best-first candidates.
        kb: the knowledge base to draw names from.
        n: number of synthetic mentions.
        seed: sampling seed (fixed: the cached calibrator must be reproducible).
        exact_fraction: share of exact-hit queries.
    """
    heldout = heldout_synonym_pairs(kb, round(n * (1 - exact_fraction)), seed)
    exact = exact_match_pairs(kb, n - len(heldout), seed, avoid=heldout)
    queries = heldout + exact
    random.Random(seed).shuffle(queries)
    ranked = rank([q for q, _ in queries], heldout)
    train = [i for i in range(len(queries)) if i % 3 != 2]
    test = [i for i in range(len(queries)) if i % 3 == 2]
    rows = [list_design(ranked[i]) for i in train]
    labels = [int(c.concept_id == queries[i][1]) for i in train for c in ranked[i]]
    calibrator = ScoreCalibrator().fit(np.vstack(rows), labels)
    gold = [queries[i][1] for i in test]
    raw = [[replace(c, calibrated_score=min(max(c.raw_score, 0.0), 1.0)) for c in ranked[i][:1]] for i in test]
    p_raw, y = _top1_outcomes(raw, gold)
    p_cal, _ = _top1_outcomes([calibrator.apply(ranked[i]) for i in test], gold)
    report = CalibrationReport(
        n_train_queries=len(train),
        n_test_queries=len(test),
        exact_fraction=len(exact) / max(len(queries), 1),
        acc_at_1=float(y.mean()) if len(y) else 0.0,
        ece_raw=expected_calibration_error(p_raw, y),
        ece_calibrated=expected_calibration_error(p_cal, y),
        brier_raw=brier_score(p_raw, y),
        brier_calibrated=brier_score(p_cal, y),
    )
    logger.info("Calibrator fitted on %d candidates: %s", len(labels), report)
    return calibrator, report
