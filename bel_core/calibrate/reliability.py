"""Measures of calibration: expected calibration error, Brier score, reliability-diagram bins.

Shared by the retrieval-score calibrator (``calibrate``), the cross-encoder's margin
calibrators (``calibrate_margin``), the evaluation code and the status page's diagrams.
Binning follows the shared scorer (``../shared/eval/score.py``) to the last digit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def expected_calibration_error(probs: ArrayLike, labels: ArrayLike, n_bins: int = 15) -> float:
    """ECE with equal-width bins, binned as the shared scorer does (``lo < p <= hi``, 0 in bin 0)."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if not len(p):
        return 0.0
    ece = 0.0
    for b in range(n_bins):
        # The same float comparisons as score.py, so both agree to the last digit.
        lo, hi = b / n_bins, (b + 1) / n_bins
        sel = ((p > lo) & (p <= hi)) | ((p == 0.0) if b == 0 else False)
        if sel.any():
            ece += sel.sum() / len(p) * abs(p[sel].mean() - y[sel].mean())
    return float(ece)


def brier_score(probs: ArrayLike, labels: ArrayLike) -> float:
    """Mean squared difference between probabilities and 0/1 outcomes."""
    p = np.asarray(probs, dtype=np.float64)
    return float(np.mean((p - np.asarray(labels, dtype=np.float64)) ** 2)) if len(p) else 0.0


def reliability_bins(probs: ArrayLike, labels: ArrayLike, n_bins: int = 15) -> list[tuple[float, float, int]]:
    """(mean probability, accuracy, count) per non-empty bin, binned as :func:`expected_calibration_error`."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    out = []
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        sel = ((p > lo) & (p <= hi)) | ((p == 0.0) if b == 0 else False)
        if sel.any():
            out.append((float(p[sel].mean()), float(y[sel].mean()), int(sel.sum())))
    return out
