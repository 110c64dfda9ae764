"""The learning-to-rank model: LightGBM LambdaRank over candidate features, calibrated on held-out lists.

Stage: the ranker's parameters. ``LambdaRanker`` scores feature rows (``rank.features``),
turns scores into P(candidate is right) with a logistic calibration fitted on lists the
trees never saw, and gives per-feature contributions (LightGBM ``pred_contrib``) for
explanations. It knows nothing about mentions or documents; ``rank.stage`` does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bel_core.errors import ModelUnavailableError
from bel_core.rank.features import FEATURES

MODEL_FILE = "ranker.txt"
META_FILE = "ranker.json"


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelUnavailableError(
            "The ranking stage needs LightGBM: pip install 'bel-curator[rank]' (or pip install lightgbm)"
        ) from exc
    return lightgbm


@dataclass(frozen=True, slots=True)
class RankerParams:
    """LightGBM settings: small trees (a few thousand lists, a few dozen features); chosen on NCBI dev."""

    num_leaves: int = 7
    learning_rate: float = 0.05
    rounds: int = 800
    min_data_in_leaf: int = 40
    feature_fraction: float = 0.9
    # Patient: validation acc@1 moves by single lists, and the first gains come only after ~100 trees.
    early_stopping: int = 150
    seed: int = 13
    threads: int = 2


def list_design(scores: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Calibration inputs per candidate: score, gap to the best other score in its list, is best."""
    out = np.zeros((len(scores), 3))
    offset = 0
    for n in sizes:
        s = scores[offset : offset + n]
        best = int(np.argmax(s)) if n else 0
        second = np.partition(s, -2)[-2] if n > 1 else s[best] - 5.0  # a lone candidate: a clear margin
        best_other = np.where(np.arange(n) == best, second, s[best])
        out[offset : offset + n] = np.column_stack([s, s - best_other, np.arange(n) == best])
        offset += n
    return out


class LambdaRanker:
    """A fitted LambdaRank booster plus the logistic calibration of its scores.

    Attributes:
        booster: the LightGBM booster.
        features: the feature columns it was trained on (a subset of ``FEATURES`` in ablations).
        coef, intercept: logistic calibration over :func:`list_design`.
        trained_on: where and on what it was trained (recorded in the model directory).
    """

    def __init__(
        self,
        booster: Any,
        features: Sequence[str],
        coef: Sequence[float] = (1.0, 0.0, 0.0),
        intercept: float = 0.0,
        trained_on: dict[str, Any] | None = None,
    ) -> None:
        self.booster = booster
        self.features = tuple(features)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = float(intercept)
        self.trained_on = trained_on or {}
        self.columns = [FEATURES.index(f) for f in self.features]

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        sizes: Sequence[int],
        x_valid: np.ndarray,
        y_valid: np.ndarray,
        sizes_valid: Sequence[int],
        *,
        features: Sequence[str] = FEATURES,
        params: RankerParams | None = None,
        trained_on: dict[str, Any] | None = None,
    ) -> LambdaRanker:
        """Train on lists (rows grouped by ``sizes``), stopping early on the validation lists.

        The result is uncalibrated until :meth:`calibrate` is called.

        Args:
            x, y, sizes: training rows (all ``FEATURES`` columns), 0/1 labels, list lengths.
            x_valid, y_valid, sizes_valid: held-out lists (other documents) for early stopping.
            features: the columns to use.
            params: LightGBM settings.
            trained_on: provenance to record.

        Raises:
            ValueError: no list has a right candidate.
        """
        lgb = _lightgbm()
        p = params or RankerParams()
        columns = [FEATURES.index(f) for f in features]
        if not y.any():
            raise ValueError("No training list contains a right candidate: nothing to learn a ranking from")
        config = {
            "objective": "lambdarank",
            "metric": "ndcg",
            "eval_at": [1],
            "num_leaves": p.num_leaves,
            "learning_rate": p.learning_rate,
            "min_data_in_leaf": p.min_data_in_leaf,
            "feature_fraction": p.feature_fraction,
            "seed": p.seed,
            "deterministic": True,
            "num_threads": p.threads,
            "verbosity": -1,
        }
        train = lgb.Dataset(x[:, columns], y, group=list(sizes), feature_name=list(features), free_raw_data=False)
        valid = lgb.Dataset(x_valid[:, columns], y_valid, group=list(sizes_valid), reference=train)
        booster = lgb.train(
            config,
            train,
            num_boost_round=p.rounds,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(p.early_stopping, verbose=False)],
        )
        return cls(booster, features, trained_on=trained_on)

    def calibrate(self, x: np.ndarray, y: np.ndarray, sizes: Sequence[int]) -> None:
        """Fit the logistic map from scores to P(right) on held-out lists (all ``FEATURES`` columns).

        Raises:
            ValueError: the lists lack right or wrong candidates.
        """
        from sklearn.linear_model import LogisticRegression

        if len(set(y.tolist())) < 2:
            raise ValueError("Calibration lists need both right and wrong candidates")
        fitted = LogisticRegression(C=1.0, max_iter=2000).fit(list_design(self.scores(x), sizes), y)
        self.coef, self.intercept = fitted.coef_[0].astype(np.float64), float(fitted.intercept_[0])

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Raw LambdaRank scores of rows with every ``FEATURES`` column."""
        if len(x) == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(x[:, self.columns], num_threads=1), dtype=np.float64)

    def probabilities(self, scores: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
        """P(candidate is right) per row, from its score and its list."""
        if len(scores) == 0:
            return np.zeros(0)
        z = list_design(scores, sizes) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-row, per-feature additive contributions to the score (last column: the bias)."""
        return np.asarray(self.booster.predict(x[:, self.columns], pred_contrib=True, num_threads=1))

    @property
    def digest(self) -> str:
        """Short hash of trees and calibration (goes into ``model_version``)."""
        text = self.booster.model_to_string() + json.dumps([self.coef.tolist(), self.intercept])
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def save(self, directory: Path) -> None:
        """Write ``ranker.txt`` (LightGBM's text model) and ``ranker.json`` (features, calibration, provenance)."""
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(directory / MODEL_FILE))
        meta = {
            "features": list(self.features),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "trained_on": self.trained_on,
        }
        (directory / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LambdaRanker:
        """Inverse of :meth:`save`.

        Raises:
            ModelUnavailableError: a file is missing or names features this version does not compute.
        """
        lgb = _lightgbm()
        model_path, meta_path = directory / MODEL_FILE, directory / META_FILE
        if not model_path.exists() or not meta_path.exists():
            raise ModelUnavailableError(f"{directory} has no ranker: expected {MODEL_FILE} and {META_FILE}")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        unknown = [f for f in meta["features"] if f not in FEATURES]
        if unknown:
            raise ModelUnavailableError(
                f"{meta_path}: features {unknown} are not computed by this version; retrain the ranker"
            )
        booster = lgb.Booster(model_file=str(model_path))
        return cls(booster, meta["features"], meta["coef"], meta["intercept"], meta.get("trained_on"))
