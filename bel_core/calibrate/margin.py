"""Calibration of cross-encoder logit margins: temperature + bucket offsets (BASILISK), isotonic.

A reranker outputs a margin (``logit_1 - logit_0``, or the single logit); these
calibrators turn margins into P(candidate is right), are fitted on a dev split (later on
curator decisions), and read and write BASILISK's ``calibration.json`` format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bel_core.calibrate.reliability import brier_score, expected_calibration_error


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, float64, margins clipped to [-50, 50] so ``exp`` never overflows."""
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0))), dtype=np.float64)


def _calibration_metrics(raw: np.ndarray, calibrated: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {
        "ece_raw": expected_calibration_error(raw, labels),
        "ece_calibrated": expected_calibration_error(calibrated, labels),
        "brier_raw": brier_score(raw, labels),
        "brier_calibrated": brier_score(calibrated, labels),
    }


_RANGE_KEY = re.compile(r"^\s*(\d*\.?\d+(?:[eE][-+]?\d+)?)\s*[-–:,]\s*(\d*\.?\d+(?:[eE][-+]?\d+)?)\s*$")


class TemperatureBucketCalibrator:
    """BASILISK's calibration: ``p = sigmoid(margin / T + offset[bucket])``.

    ``T`` is one global temperature (fitted by likelihood); buckets are equal-width bins
    of the tempered probability ``sigmoid(margin / T)``, each with an additive logit
    offset fitted on its own examples. Offsets are shrunk towards 0 (an L2 penalty worth
    ``prior_strength`` pseudo-examples) and left at 0 under ``min_count`` examples, so a
    sparse bucket cannot swing its probabilities on a handful of dev pairs.
    """

    method = "temperature_bucket"

    def __init__(
        self,
        temperature: float = 1.0,
        bucket_edges: Sequence[float] | None = None,
        bucket_offsets: Sequence[float] | None = None,
        *,
        n_buckets: int = 10,
        min_count: int = 20,
        prior_strength: float = 5.0,
    ) -> None:
        self.temperature = float(temperature)
        self.bucket_edges = np.asarray(
            np.linspace(0.0, 1.0, n_buckets + 1) if bucket_edges is None else bucket_edges, dtype=np.float64
        )
        n = len(self.bucket_edges) - 1
        self.bucket_offsets = np.zeros(n) if bucket_offsets is None else np.asarray(bucket_offsets, dtype=np.float64)
        if n < 1 or len(self.bucket_offsets) != n or np.any(np.diff(self.bucket_edges) <= 0):
            raise ValueError(f"Need increasing bucket edges and one offset per bucket, got {self.to_json()}")
        self.min_count = min_count
        self.prior_strength = prior_strength
        self.n_fit = 0
        self.metrics: dict[str, float] = {}

    def _bucket(self, q: np.ndarray) -> np.ndarray:
        # Inner edges only: values below/above the outer edges fall in the first/last bucket.
        return np.asarray(np.searchsorted(self.bucket_edges[1:-1], q, side="left"), dtype=np.int64)

    def fit(self, margins: ArrayLike, labels: ArrayLike) -> TemperatureBucketCalibrator:
        """Fit the temperature, then one offset per bucket, on dev margins and 0/1 labels.

        Raises:
            ValueError: labels are all of one class.
        """
        from scipy.optimize import minimize_scalar

        m = np.asarray(margins, dtype=np.float64)
        y = np.asarray(labels, dtype=np.float64)
        if len(set(y.tolist())) < 2:
            raise ValueError("Calibration needs both right and wrong pairs; got one class only")

        def nll(log_t: float) -> float:
            p = np.clip(sigmoid(m / np.exp(log_t)), 1e-12, 1 - 1e-12)
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

        self.temperature = float(np.exp(minimize_scalar(nll, bounds=(-4.0, 4.0), method="bounded").x))
        z = m / self.temperature
        buckets = self._bucket(sigmoid(z))
        offsets = np.zeros(len(self.bucket_offsets))
        for b in range(len(offsets)):
            sel = buckets == b
            if sel.sum() < self.min_count:
                continue
            offset = 0.0
            for _ in range(25):  # Newton on a 1-D strictly convex penalised log-loss
                p = sigmoid(z[sel] + offset)
                grad = float(np.sum(p - y[sel])) + self.prior_strength * offset
                hess = float(np.sum(p * (1 - p))) + self.prior_strength
                offset -= grad / hess
            offsets[b] = offset
        self.bucket_offsets = offsets
        self.n_fit = len(y)
        self.metrics = _calibration_metrics(sigmoid(m), self.predict(m), y)
        return self

    def predict(self, margins: ArrayLike) -> np.ndarray:
        """Calibrated probability per margin."""
        z = np.asarray(margins, dtype=np.float64) / self.temperature
        return sigmoid(z + self.bucket_offsets[self._bucket(sigmoid(z))])

    def to_json(self) -> dict[str, Any]:
        """BASILISK-compatible JSON: method, temperature, bucket edges and offsets, fit size, metrics."""
        return {
            "method": self.method,
            "temperature": self.temperature,
            "bucket_edges": [float(e) for e in self.bucket_edges],
            "bucket_offsets": [float(o) for o in self.bucket_offsets],
            "n_fit": self.n_fit,
            "metrics": dict(self.metrics),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TemperatureBucketCalibrator:
        """Read :meth:`to_json` output, or BASILISK's variants.

        ``bucket_offsets`` may be a list (with ``bucket_edges``, else equal-width bins), a
        mapping ``"<lo>-<hi>" -> offset``, or a mapping bucket index -> offset (missing
        indices get 0); without it the calibrator is plain temperature scaling.

        Raises:
            ValueError: another method, or offsets that cannot be read.
        """
        if data.get("method", cls.method) != cls.method:
            raise ValueError(f"Expected a {cls.method} calibrator, got method {data.get('method')!r}")
        raw = data.get("bucket_offsets") or []
        edges: list[float] | None = data.get("bucket_edges")
        if isinstance(raw, dict):
            keys = [str(k) for k in raw]
            ranges = [_RANGE_KEY.match(k) for k in keys]
            if all(ranges):
                bounds = sorted((float(r[1]), float(r[2]), raw[k]) for r, k in zip(ranges, raw, strict=True) if r)
                edges = [bounds[0][0], *(hi for _, hi, _ in bounds)]
                offsets = [float(o) for _, _, o in bounds]
            elif all(k.strip().isdigit() for k in keys):
                n = len(edges) - 1 if edges else max(int(k) for k in keys) + 1
                by_index = {int(str(k).strip()): float(v) for k, v in raw.items()}
                offsets = [by_index.get(i, 0.0) for i in range(n)]
            else:
                raise ValueError(f"Cannot read bucket offsets keyed by {keys[:3]}: use '<lo>-<hi>' or bucket indices")
        else:
            offsets = [float(o) for o in raw] or [0.0]
        calibrator = cls(
            float(data.get("temperature", 1.0)), edges or np.linspace(0.0, 1.0, len(offsets) + 1).tolist(), offsets
        )
        calibrator.n_fit = int(data.get("n_fit", 0))
        calibrator.metrics = dict(data.get("metrics", {}))
        return calibrator

    def save(self, path: Path) -> None:
        """Write :meth:`to_json` to ``path``."""
        path.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TemperatureBucketCalibrator:
        """Read a calibration JSON file (see :meth:`from_json`)."""
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


class IsotonicMarginCalibrator:
    """Isotonic regression of labels on margins (for comparison); predictions interpolate the fitted steps."""

    method = "isotonic"

    def __init__(self, thresholds: Sequence[float] = (), values: Sequence[float] = ()) -> None:
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        self.values = np.asarray(values, dtype=np.float64)
        self.n_fit = 0

    def fit(self, margins: ArrayLike, labels: ArrayLike) -> IsotonicMarginCalibrator:
        """Fit a non-decreasing step function; probabilities are clipped to [0.001, 0.999]."""
        from sklearn.isotonic import IsotonicRegression

        model = IsotonicRegression(y_min=0.001, y_max=0.999, out_of_bounds="clip")
        model.fit(np.asarray(margins, dtype=np.float64), np.asarray(labels, dtype=np.float64))
        self.thresholds, self.values = model.X_thresholds_, model.y_thresholds_
        self.n_fit = len(np.asarray(labels))
        return self

    def predict(self, margins: ArrayLike) -> np.ndarray:
        """Calibrated probability per margin.

        Raises:
            ValueError: not fitted.
        """
        if not len(self.thresholds):
            raise ValueError("IsotonicMarginCalibrator is not fitted: call fit() or from_json() first")
        return np.interp(np.asarray(margins, dtype=np.float64), self.thresholds, self.values)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: method, step thresholds and values, fit size."""
        return {
            "method": self.method,
            "thresholds": self.thresholds.tolist(),
            "values": self.values.tolist(),
            "n_fit": self.n_fit,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IsotonicMarginCalibrator:
        """Inverse of :meth:`to_json`."""
        calibrator = cls(data["thresholds"], data["values"])
        calibrator.n_fit = int(data.get("n_fit", 0))
        return calibrator


def isotonic_calibrator() -> IsotonicMarginCalibrator:
    """An unfitted isotonic margin calibrator (same fit/predict interface as the temperature one)."""
    return IsotonicMarginCalibrator()


MarginCalibrator = TemperatureBucketCalibrator | IsotonicMarginCalibrator


def margin_calibrator_from_json(data: dict[str, Any]) -> MarginCalibrator:
    """Read either margin calibrator from its JSON (``method`` decides; BASILISK files have none)."""
    if data.get("method") == IsotonicMarginCalibrator.method:
        return IsotonicMarginCalibrator.from_json(data)
    return TemperatureBucketCalibrator.from_json(data)
