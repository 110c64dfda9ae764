"""The linker's final probabilities: calibrators over ranked candidate lists, fitted on a dev split.

Stage: last, after retrieval, priors and reranking. Three methods share one interface
(``apply(ranked) -> ranked with calibrated_score``, ``to_json``, ``digest``):

- ``temperature_bucket`` / ``isotonic``: BASILISK's margin calibrators applied to the
  cross-encoder margin each candidate carries in ``stage_scores`` (``("reranker", m)``);
- ``logistic``: :class:`~bel_core.calibrate.scores.ScoreCalibrator` over list features (score,
  margin to the runner-up, rank 1, exact alias hit), which also covers retrieval-only lists.

- ``combined``: :class:`CombinedCalibrator`, a logistic model over retrieval, prior and
  reranker features that also re-ranks the list.

``fit_best`` fits each on labelled dev lists, compares them by 2-fold cross-validation
over documents (accuracy first, then top-1 ECE), and refits the winner on all of dev.
The JSON file names its method.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bel_core.calibrate.margin import (
    MarginCalibrator,
    TemperatureBucketCalibrator,
    isotonic_calibrator,
    margin_calibrator_from_json,
)
from bel_core.calibrate.reliability import brier_score, expected_calibration_error
from bel_core.calibrate.scores import EXACT, ScoreCalibrator, list_design
from bel_core.types import Candidate

METHODS = ("temperature_bucket", "isotonic", "logistic", "combined")


class ListCalibrator(Protocol):
    """Sets ``calibrated_score`` on a best-first candidate list."""

    method: str

    def apply(self, ranked: Sequence[Candidate]) -> list[Candidate]: ...
    def to_json(self) -> dict[str, Any]: ...

    @property
    def digest(self) -> str: ...


def reranker_margin(candidate: Candidate) -> float:
    """The cross-encoder margin recorded in ``stage_scores`` (the logit of ``raw_score`` otherwise)."""
    scores = dict(candidate.stage_scores)
    if "reranker" in scores:
        return scores["reranker"]
    p = min(max(candidate.raw_score, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


class MarginListCalibrator:
    """A margin calibrator applied to every candidate's reranker margin."""

    def __init__(self, calibrator: MarginCalibrator) -> None:
        self.calibrator = calibrator
        self.method = calibrator.method

    def apply(self, ranked: Sequence[Candidate]) -> list[Candidate]:
        """Copies with ``calibrated_score`` from the margin calibrator."""
        if not ranked:
            return []
        probs = self.calibrator.predict([reranker_margin(c) for c in ranked])
        return [replace(c, calibrated_score=float(p)) for c, p in zip(ranked, probs, strict=True)]

    def to_json(self) -> dict[str, Any]:
        """The margin calibrator's own JSON (BASILISK format for temperature_bucket)."""
        return self.calibrator.to_json()

    @property
    def digest(self) -> str:
        """Short hash of the parameters (goes into ``model_version``)."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:8]


def combined_features(ranked: Sequence[Candidate], *, reranker: bool) -> np.ndarray:
    """Features of each candidate in its list (``stage_scores`` as ``augment.annotate`` leaves them).

    Retrieval rank (``1/(1+r)``, rank 1), retrieval score and its gap to the best, exact
    alias hit, training prior (log count, seen at all), and with ``reranker`` the
    cross-encoder margin, its gap to the best margin and whether it is the best.
    """
    scores = [dict(c.stage_scores) for c in ranked]
    fused = [s.get("fused", c.raw_score) for s, c in zip(scores, ranked, strict=True)]
    best_fused = max(fused) if fused else 0.0
    margin = [s.get("reranker", 0.0) for s in scores]
    best_margin = max(margin) if margin else 0.0
    rows = []
    for s, f, m in zip(scores, fused, margin, strict=True):
        rank, prior = s.get("retrieval_rank", 0.0), s.get("prior", 0.0)
        row = [1 / (1 + rank), float(rank == 0), f, f - best_fused, float(s.get("tfidf", 0.0) >= EXACT)]
        row += [float(np.log1p(prior)), float(prior > 0)]
        if reranker:
            row += [m, m - best_margin, float(m == best_margin)]
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(rows), 10 if reranker else 7)


class CombinedCalibrator:
    """Logistic regression over retrieval, prior and (optionally) reranker features; it also re-ranks.

    Fitted on dev lists, its probability is both the final order and the calibrated score:
    on NCBI-disease the cross-encoder alone ranked worse than retrieval with priors, while
    this combination keeps what each knows (see bench/README.md).
    """

    method = "combined"

    def __init__(self, coef: Sequence[float] = (), intercept: float = 0.0, *, reranker: bool = False) -> None:
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = float(intercept)
        self.reranker = reranker

    def fit(self, lists: Sequence[Sequence[Candidate]], labels: Sequence[Sequence[int]]) -> CombinedCalibrator:
        """Fit on candidate lists and per-candidate 0/1 labels.

        Raises:
            ValueError: labels of one class only.
        """
        from sklearn.linear_model import LogisticRegression

        x = np.vstack([combined_features(r, reranker=self.reranker) for r in lists if r])
        y = np.array([v for r, row in zip(lists, labels, strict=True) if r for v in row])
        if len(set(y.tolist())) < 2:
            raise ValueError("Calibration needs both right and wrong candidates; got one class only")
        model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
        self.coef, self.intercept = model.coef_[0].astype(np.float64), float(model.intercept_[0])
        return self

    def apply(self, ranked: Sequence[Candidate]) -> list[Candidate]:
        """Copies with ``calibrated_score`` set, sorted by it (stable: ties keep the incoming order)."""
        if not ranked:
            return []
        z = combined_features(ranked, reranker=self.reranker) @ self.coef + self.intercept
        probs = 1.0 / (1.0 + np.exp(-z))
        scored = [replace(c, calibrated_score=float(p)) for c, p in zip(ranked, probs, strict=True)]
        return sorted(scored, key=lambda c: -(c.calibrated_score or 0.0))

    def to_json(self) -> dict[str, Any]:
        """Method, whether reranker features are used, coefficients, intercept."""
        return {
            "method": self.method,
            "reranker": self.reranker,
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CombinedCalibrator:
        """Inverse of :meth:`to_json`."""
        return cls(data["coef"], data["intercept"], reranker=bool(data["reranker"]))

    @property
    def digest(self) -> str:
        """Short hash of the parameters (goes into ``model_version``)."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:8]


def _new(method: str) -> MarginCalibrator | ScoreCalibrator | CombinedCalibrator:
    if method == "combined":
        return CombinedCalibrator()
    if method == "temperature_bucket":
        return TemperatureBucketCalibrator()
    if method == "isotonic":
        return isotonic_calibrator()
    if method == "logistic":
        return ScoreCalibrator()
    raise ValueError(f"Unknown calibration method {method!r}; use one of {METHODS}")


def fit(method: str, lists: Sequence[Sequence[Candidate]], labels: Sequence[Sequence[int]]) -> ListCalibrator:
    """Fit one method on candidate lists and per-candidate 0/1 labels.

    Raises:
        ValueError: unknown method, or labels of one class only.
    """
    model = _new(method)
    y = [v for row in labels for v in row]
    if isinstance(model, CombinedCalibrator):
        model.reranker = any("reranker" in dict(c.stage_scores) for r in lists for c in r)
        return model.fit(lists, labels)
    if isinstance(model, ScoreCalibrator):
        return model.fit(np.vstack([list_design(r) for r in lists]), y)
    return MarginListCalibrator(model.fit([reranker_margin(c) for r in lists for c in r], y))


def top1_outcomes(
    calibrator: ListCalibrator | None, lists: Sequence[Sequence[Candidate]], labels: Sequence[Sequence[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """(top-1 probability, top-1 right) per list, after the calibrator (which may re-rank).

    Without a calibrator: the first candidate's raw score, clipped to [0, 1].
    """
    probs, right = [], []
    for ranked, y in zip(lists, labels, strict=True):
        if not ranked:
            probs.append(0.0)
            right.append(0)
            continue
        label = {c.concept_id: v for c, v in zip(ranked, y, strict=True)}
        top = calibrator.apply(ranked)[0] if calibrator else ranked[0]
        p = top.calibrated_score if calibrator else min(max(top.raw_score, 0.0), 1.0)
        probs.append(float(p or 0.0))
        right.append(label[top.concept_id])
    return np.array(probs), np.array(right)


def fit_best(
    lists: Sequence[Sequence[Candidate]],
    labels: Sequence[Sequence[int]],
    groups: Sequence[str],
    methods: Sequence[str] = METHODS,
) -> tuple[ListCalibrator, dict[str, Any]]:
    """Pick a method by 2-fold cross-validation over documents, refit it on everything.

    Accuracy first (``combined`` re-ranks; the others keep the order), then calibration:
    among methods within 0.002 of the best cross-validated top-1 accuracy, the lowest
    cross-validated top-1 ECE wins. An in-sample ECE would flatter the flexible methods.

    Args:
        lists: best-first candidate lists (dev mentions).
        labels: per candidate, 1 when it is a gold concept.
        groups: document id per list (folds never split a document).
        methods: candidates to compare (margin methods need reranker margins).

    Returns:
        The fitted calibrator and a report: per method, cross-validated accuracy, ECE and
        Brier; uncalibrated ("raw") and chosen in-sample figures.
    """
    docs = sorted(set(groups))
    fold_of = {d: i % 2 for i, d in enumerate(docs)}
    report: dict[str, Any] = {"n_lists": len(lists), "methods": {}}
    for method in methods:
        probs, right = [], []
        for fold in (0, 1):
            train = [i for i, g in enumerate(groups) if fold_of[g] != fold]
            test = [i for i, g in enumerate(groups) if fold_of[g] == fold]
            try:
                model = fit(method, [lists[i] for i in train], [labels[i] for i in train])
            except ValueError:
                break  # one class only in this fold: the method cannot be judged
            p, y = top1_outcomes(model, [lists[i] for i in test], [labels[i] for i in test])
            probs += p.tolist()
            right += y.tolist()
        else:
            report["methods"][method] = {
                "cv_acc@1": float(np.mean(right)) if right else 0.0,
                "cv_ece": expected_calibration_error(probs, right),
                "cv_brier": brier_score(probs, right),
            }
    scores = report["methods"]
    if not scores:
        raise ValueError("No calibration method could be fitted: dev lists need right and wrong candidates")
    top_acc = max(m["cv_acc@1"] for m in scores.values())
    best = min((m for m in scores if scores[m]["cv_acc@1"] >= top_acc - 0.002), key=lambda m: scores[m]["cv_ece"])
    chosen = fit(best, lists, labels)
    p_raw, y_raw = top1_outcomes(None, lists, labels)
    p_cal, y_cal = top1_outcomes(chosen, lists, labels)
    report |= {
        "chosen": best,
        "top1_accuracy_raw": float(y_raw.mean()) if len(y_raw) else 0.0,
        "top1_accuracy": float(y_cal.mean()) if len(y_cal) else 0.0,
        "ece_raw": expected_calibration_error(p_raw, y_raw),
        "brier_raw": brier_score(p_raw, y_raw),
        "ece_in_sample": expected_calibration_error(p_cal, y_cal),
        "brier_in_sample": brier_score(p_cal, y_cal),
    }
    return chosen, report


def save(calibrator: ListCalibrator, path: Path) -> None:
    """Write the calibrator's JSON (its ``method`` key says how to read it back)."""
    path.write_text(json.dumps(calibrator.to_json(), indent=1), encoding="utf-8")


def load(path: Path) -> ListCalibrator:
    """Read :func:`save` output (or a BASILISK calibration file, which has no method key)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("method") == ScoreCalibrator.method:
        return ScoreCalibrator.from_json(data)
    if data.get("method") == CombinedCalibrator.method:
        return CombinedCalibrator.from_json(data)
    return MarginListCalibrator(margin_calibrator_from_json(data))
