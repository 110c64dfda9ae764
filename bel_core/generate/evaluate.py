"""Dev-split figures of a generative linker and the calibration fitted on them.

The calibrator is the reranker's (``calibrate_margin.TemperatureBucketCalibrator``: one
temperature plus per-bucket logit offsets, same JSON) applied to ``logit(raw_score)``, the
logit of a candidate's merged beam probability; every candidate of every dev mention is one
example (right concept or not).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from bel_core.calibrate.margin import TemperatureBucketCalibrator
from bel_core.calibrate.reliability import expected_calibration_error
from bel_core.generate.linker import GenerativeLinker
from bel_core.types import Document, LinkResult, Mention


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def accuracy(results: Sequence[LinkResult], gold: Sequence[Sequence[str]]) -> dict[str, float]:
    """acc@1 and acc@5: share of mentions with a gold id among the first 1 / 5 candidates."""
    n = max(len(results), 1)
    hits = [[c.concept_id in g for c in r.candidates] for r, g in zip(results, gold, strict=True)]
    return {"acc@1": sum(any(h[:1]) for h in hits) / n, "acc@5": sum(any(h[:5]) for h in hits) / n, "n": len(hits)}


def top1_ece(results: Sequence[LinkResult], gold: Sequence[Sequence[str]], *, calibrated: bool) -> float:
    """ECE of the top candidate's probability (raw or calibrated; no candidate counts as p = 0, wrong)."""
    probs, right = [], []
    for r, g in zip(results, gold, strict=True):
        top = r.top
        p = 0.0 if top is None else (top.calibrated_score if calibrated else top.raw_score) or 0.0
        probs.append(p)
        right.append(int(top is not None and top.concept_id in g))
    return expected_calibration_error(np.array(probs), np.array(right))


def fit_calibration(
    results: Sequence[LinkResult], gold: Sequence[Sequence[str]]
) -> tuple[TemperatureBucketCalibrator | None, dict[str, Any]]:
    """Fit the calibrator on every dev candidate; None (and the reason) when dev has one class only."""
    margins, labels = [], []
    for r, g in zip(results, gold, strict=True):
        for c in r.candidates:
            margins.append(_logit(c.raw_score))
            labels.append(int(c.concept_id in g))
    if len(set(labels)) < 2:
        return None, {"skipped": f"dev candidates are all {'right' if labels and labels[0] else 'wrong'}"}
    calibrator = TemperatureBucketCalibrator().fit(margins, labels)
    return calibrator, {"temperature": calibrator.temperature, "n_fit": calibrator.n_fit, **calibrator.metrics}


def evaluate_linker(
    linker: GenerativeLinker,
    mentions: Sequence[Mention],
    gold: Sequence[Sequence[str]],
    documents: Mapping[str, Document],
    *,
    fit: bool = False,
) -> tuple[list[LinkResult], dict[str, Any]]:
    """Link ``mentions``; acc@1/5 and top-1 ECE; with ``fit``, fit and install a calibrator first.

    Returns the results (calibrated when a calibrator is installed) and the figures.
    """
    results = linker.link(mentions, documents=documents)
    figures: dict[str, Any] = {**accuracy(results, gold), "ece_top1_raw": top1_ece(results, gold, calibrated=False)}
    if fit:
        calibrator, report = fit_calibration(results, gold)
        figures["calibration"] = report
        linker.calibrator = calibrator
        if calibrator is not None:
            results = [_recalibrated(r, calibrator, linker.model_version) for r in results]
    if linker.calibrator is not None:
        figures["ece_top1_calibrated"] = top1_ece(results, gold, calibrated=True)
    return results, figures


def _recalibrated(result: LinkResult, calibrator: TemperatureBucketCalibrator, version: str) -> LinkResult:
    if not result.candidates:
        return replace(result, model_version=version)
    probs = calibrator.predict([_logit(c.raw_score) for c in result.candidates])
    candidates = tuple(replace(c, calibrated_score=float(p)) for c, p in zip(result.candidates, probs, strict=True))
    return replace(result, candidates=candidates, model_version=version)
