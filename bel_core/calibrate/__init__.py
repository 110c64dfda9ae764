"""Calibration: scores and margins in, P(candidate is right) out, and how well that holds.

Enters: ranked candidate lists (retrieval scores, reranker margins, priors in
``stage_scores``) and, to fit, per-candidate gold labels. Leaves: the same lists with
``calibrated_score`` set (``lists``: the ``ListCalibrator`` protocol and its methods, chosen
by cross-validated ECE; ``scores``: the synthetic-mention calibrator of the embedded default;
``margin``: BASILISK's temperature + buckets and isotonic), and reliability figures
(``reliability``: ECE, Brier, bins).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.calibrate.lists import METHODS, CombinedCalibrator, ListCalibrator, MarginListCalibrator, fit_best
    from bel_core.calibrate.margin import MarginCalibrator, TemperatureBucketCalibrator, sigmoid
    from bel_core.calibrate.reliability import brier_score, expected_calibration_error, reliability_bins
    from bel_core.calibrate.scores import CalibrationReport, ScoreCalibrator, fit_on_kb

__all__, __getattr__ = exports(
    __name__,
    {
        "lists": ("METHODS", "CombinedCalibrator", "ListCalibrator", "MarginListCalibrator", "fit_best"),
        "margin": ("MarginCalibrator", "TemperatureBucketCalibrator", "sigmoid"),
        "reliability": ("brier_score", "expected_calibration_error", "reliability_bins"),
        "scores": ("CalibrationReport", "ScoreCalibrator", "fit_on_kb"),
    },
)
