"""Pair-classification metrics of a reranker, as the BASILISK card reports them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bel_core.calibrate.reliability import brier_score, expected_calibration_error


@dataclass(frozen=True, slots=True)
class PairMetrics:
    """Accuracy, precision, recall, F1 at a threshold, plus ECE and Brier, over ``n`` pairs.

    ``calibrated`` holds the same measures on calibrated probabilities, when there are any.
    """

    accuracy: float
    precision: float
    recall: float
    f1: float
    ece: float
    brier: float
    n: int
    positives: int
    calibrated: PairMetrics | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form (``calibrated`` nested, or null)."""
        return asdict(self)


def pair_metrics(
    probs: ArrayLike, labels: ArrayLike, threshold: float = 0.5, *, calibrated_probs: ArrayLike | None = None
) -> PairMetrics:
    """Metrics of P(right) per pair against 0/1 labels; a pair is predicted right when ``p >= threshold``.

    Precision, recall and F1 are 0 when undefined (no predicted or no actual positives).
    """
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    pred = p >= threshold
    tp = int(np.sum(pred & (y == 1)))
    precision = tp / int(pred.sum()) if pred.any() else 0.0
    recall = tp / int(y.sum()) if y.any() else 0.0
    return PairMetrics(
        accuracy=float(np.mean(pred == (y == 1))) if len(y) else 0.0,
        precision=precision,
        recall=recall,
        f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        ece=expected_calibration_error(p, y),
        brier=brier_score(p, y),
        n=len(y),
        positives=int(y.sum()),
        calibrated=None if calibrated_probs is None else pair_metrics(calibrated_probs, y, threshold),
    )
