"""Calibration: metrics against hand-computed values, the logistic model, synthetic pairs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bel_core.calibrate.scores import (
    FEATURES,
    IsotonicMarginCalibrator,
    ScoreCalibrator,
    TemperatureBucketCalibrator,
    brier_score,
    dense_best_flags,
    design,
    exact_flags,
    exact_match_pairs,
    expected_calibration_error,
    heldout_synonym_pairs,
    isotonic_calibrator,
    list_design,
    margin_calibrator_from_json,
    margins,
    reliability_bins,
)
from bel_core.text import normalize
from bel_core.types import Candidate


def test_ece_hand_computed():
    # bins (15 wide): 0.1 and 0.12 share bin 1 ((1/15, 2/15]); 0.9 -> bin 13; 1.0 -> bin 14.
    probs = [0.1, 0.12, 0.9, 1.0]
    labels = [0, 1, 1, 1]
    expected = 2 / 4 * abs(0.11 - 0.5) + 1 / 4 * abs(0.9 - 1) + 1 / 4 * 0.0
    assert expected_calibration_error(probs, labels) == pytest.approx(expected)


def test_ece_bin_edges_follow_the_shared_scorer():
    # p == 0 goes to bin 0; p == 1/15 is the upper edge of bin 0 (lo < p <= hi).
    assert expected_calibration_error([0.0, 1 / 15], [0, 0]) == pytest.approx((0.0 + 1 / 15) / 2)
    assert expected_calibration_error([], []) == 0.0


def test_perfect_and_worst_calibration():
    assert expected_calibration_error([1.0, 0.0], [1, 0]) == 0.0
    assert expected_calibration_error([1.0, 0.0], [0, 1]) == 1.0
    assert brier_score([1.0, 0.0], [0, 1]) == 1.0
    assert brier_score([0.5, 0.5], [0, 1]) == 0.25


def test_margins_signed_against_best_competitor():
    assert margins([0.9, 0.6, 0.5]).tolist() == pytest.approx([0.3, -0.3, -0.4])
    assert margins([0.7]).tolist() == pytest.approx([0.7])
    assert margins([]).tolist() == []


def test_fit_reduces_ece_on_miscalibrated_synthetic_scores():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 4000)
    gaps = rng.uniform(-0.5, 0.5, 4000)
    truth = 1 / (1 + np.exp(-(6 * scores + 4 * gaps - 4)))  # raw scores are over-confident
    labels = (rng.uniform(0, 1, 4000) < truth).astype(int)
    x = design(scores, gaps, gaps >= 0, np.zeros(4000, dtype=bool))
    cal = ScoreCalibrator().fit(x[:3000], labels[:3000])
    probs = cal.predict(x[3000:])
    assert expected_calibration_error(probs, labels[3000:]) < 0.05
    assert expected_calibration_error(scores[3000:], labels[3000:]) > 0.1
    assert brier_score(probs, labels[3000:]) < brier_score(scores[3000:], labels[3000:])


def _six_rows() -> np.ndarray:
    gaps = np.array([0.1, 0.2, -0.5, -0.6, 0.0, -0.3])
    return design([0.9, 0.8, 0.3, 0.2, 0.7, 0.4], gaps, gaps >= 0, np.zeros(6, dtype=bool))


def test_json_round_trip_predicts_identically():
    cal = ScoreCalibrator().fit(_six_rows(), [1, 1, 0, 0, 1, 0])
    data = cal.to_json()
    assert data["method"] == "logistic" and data["features"][:4] == ["score", "margin", "is_first", "exact"]
    again = ScoreCalibrator.from_json(data)
    assert again.predict(_six_rows()).tolist() == cal.predict(_six_rows()).tolist()
    assert again.digest == cal.digest and len(cal.digest) == 8


def _candidate(cid: str, score: float, tfidf: float) -> Candidate:
    return Candidate(cid, cid, cid.lower(), "hybrid", score, stage_scores=(("tfidf", tfidf),))


def test_only_the_first_of_tied_candidates_is_ranked_first():
    tied = [_candidate("A", 1.0, 1.0), _candidate("B", 1.0, 1.0), _candidate("C", 0.5, 0.5)]
    rows = list_design(tied)
    assert rows[:, 2].tolist() == [1.0, 0.0, 0.0]  # is_first
    assert rows[:, 1].tolist() == pytest.approx([0.0, 0.0, -0.5])  # margins: a tie leaves the first no lead
    assert list_design(tied, ties_first=True)[:, 2].tolist() == [1.0, 1.0, 0.0]
    assert list_design([]).shape == (0, len(FEATURES))


def test_candidates_indistinguishable_from_the_first_share_its_probability():
    cal = ScoreCalibrator().fit(_six_rows(), [1, 1, 0, 0, 1, 0])
    tied = [_candidate("A", 1.0, 1.0), _candidate("B", 1.0, 1.0), _candidate("C", 0.5, 0.5)]
    a, b, c = (x.calibrated_score for x in cal.apply(tied))
    assert a == b != c
    assert a == pytest.approx(cal.predict(list_design(tied))[:2].mean())
    # A training prior breaks the tie: the first keeps its own, higher probability.
    broken = [replace(tied[0], stage_scores=(("tfidf", 1.0), ("prior", 3.0))), *tied[1:]]
    a, b, _ = (x.calibrated_score for x in cal.apply(broken))
    assert a > b


def test_reads_files_with_the_old_tied_top1_feature():
    cal = ScoreCalibrator().fit(_six_rows()[:, :7], [1, 1, 0, 0, 1, 0])  # those files had seven columns
    old = {
        **cal.to_json(),
        "features": ["score", "margin", "is_top1", "exact"] + [f"top1_x_{f}" for f in ("score", "margin", "exact")],
    }
    legacy = ScoreCalibrator.from_json(old)
    assert legacy.ties_first and legacy.to_json() == old
    tied = [_candidate("A", 1.0, 1.0), _candidate("B", 1.0, 1.0)]
    assert [c.calibrated_score for c in legacy.apply(tied)] == legacy.predict(
        list_design(tied, ties_first=True)
    ).tolist()
    assert legacy.apply(tied)[1].calibrated_score != cal.apply(tied)[1].calibrated_score


def _hybrid(cid: str, score: float, tfidf: float, dense: float) -> Candidate:
    return Candidate(cid, cid, cid.lower(), "hybrid", score, stage_scores=(("tfidf", tfidf), ("dense", dense)))


def test_agreement_flags_the_first_candidate_only_when_the_dense_stage_ranks_it_best():
    agreed = [_hybrid("A", 0.9, 1.0, 0.8), _hybrid("B", 0.7, 0.6, 0.75)]
    overruled = [_hybrid("A", 0.9, 1.0, 0.7), _hybrid("B", 0.8, 0.6, 0.95)]
    assert dense_best_flags(agreed).tolist() == [True, False]
    assert dense_best_flags(overruled).tolist() == [False, True]
    agree = FEATURES.index("first_x_agree")
    assert list_design(agreed)[:, agree].tolist() == [1.0, 0.0]
    assert list_design(overruled)[:, agree].tolist() == [0.0, 0.0]  # only the first candidate's column
    # TF-IDF-only lists (the fast profile, synthetic KB calibration) carry no dense score: never "agree".
    assert dense_best_flags([_candidate("A", 1.0, 1.0)]).tolist() == [False]


def test_agreement_raises_the_first_candidates_probability_once_fitted():
    rng = np.random.default_rng(1)
    n = 2000
    agree = rng.uniform(0, 1, n) < 0.8
    right = rng.uniform(0, 1, n) < np.where(agree, 0.9, 0.3)  # disagreement: a worse top-1
    x = design(np.full(n, 0.8), np.full(n, 0.1), np.ones(n, dtype=bool), np.zeros(n, dtype=bool), agree)
    cal = ScoreCalibrator().fit(x, right.astype(int))
    p_agree, p_not = cal.predict(x[[np.argmax(agree), np.argmin(agree)]])
    assert p_agree == pytest.approx(0.9, abs=0.03) and p_not == pytest.approx(0.3, abs=0.05)


def test_reads_files_written_before_the_agreement_feature():
    seven = ScoreCalibrator().fit(_six_rows()[:, :7], [1, 1, 0, 0, 1, 0])
    data = seven.to_json()
    assert data["features"] == list(FEATURES[:7])
    again = ScoreCalibrator.from_json(data)
    rows = list_design([_hybrid("A", 0.9, 1.0, 0.8), _hybrid("B", 0.7, 0.6, 0.75)])
    assert again.predict(rows).tolist() == seven.predict(rows[:, :7]).tolist()
    assert again.to_json() == data
    with pytest.raises(ValueError, match="logistic"):  # names and coefficients must match in number
        ScoreCalibrator.from_json({**data, "features": list(FEATURES)})


def test_refuses_one_class_unfitted_and_foreign_json():
    with pytest.raises(ValueError, match="one class"):
        ScoreCalibrator().fit(_six_rows()[:2], [1, 1])
    with pytest.raises(ValueError, match="not fitted"):
        ScoreCalibrator().predict(_six_rows())
    with pytest.raises(ValueError, match="logistic"):
        ScoreCalibrator.from_json({"method": "isotonic"})


def test_heldout_pairs_are_deterministic_one_per_multi_name_concept(tiny_kb):
    pairs = heldout_synonym_pairs(tiny_kb, 100, seed=1)
    assert pairs == heldout_synonym_pairs(tiny_kb, 100, seed=1)
    ids = [cid for _, cid in pairs]
    assert len(ids) == len(set(ids)) == 15  # all 16 concepts but the single-name root
    assert all(name in tiny_kb.get(cid).names for name, cid in pairs)
    assert len(heldout_synonym_pairs(tiny_kb, 5, seed=1)) == 5


def test_exact_pairs_avoid_held_out_names(tiny_kb):
    heldout = heldout_synonym_pairs(tiny_kb, 100, seed=3)
    exact = exact_match_pairs(tiny_kb, 1000, seed=3, avoid=heldout)
    held = {(normalize(a), c) for a, c in heldout}
    assert exact and not held & {(normalize(a), c) for a, c in exact}


def test_apply_flags_exact_hits_from_the_tfidf_stage_score():
    gaps = np.array([0.6, -0.6, 0.5, -0.5, 0.7, -0.7])
    x = design([1.0, 0.4, 0.8, 0.3, 0.9, 0.2], gaps, gaps >= 0, [True, False, False, False, False, False])
    cal = ScoreCalibrator().fit(x, [1, 0, 1, 0, 0, 0])
    exact = Candidate("A", "A", "a", "hybrid", 0.9, stage_scores=(("tfidf", 1.0), ("dense", 0.8)))
    fuzzy = Candidate("A", "A", "a", "hybrid", 0.9, stage_scores=(("tfidf", 0.95), ("dense", 0.85)))
    assert exact_flags([exact, fuzzy]).tolist() == [True, False]
    [p_exact] = cal.apply([exact])
    [p_fuzzy] = cal.apply([fuzzy])
    assert p_exact.calibrated_score == cal.predict(design([0.9], [0.9], [True], [True]))[0]
    assert p_exact.calibrated_score != p_fuzzy.calibrated_score
    assert cal.apply([]) == []


# --- margin calibrators ---------------------------------------------------------------------


def _overconfident_margins(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from sigmoid(z), margins reported as 3z: a model three times too sure."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, n)
    y = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-z))).astype(int)
    return 3 * z, y


def test_temperature_bucket_fit_recovers_the_temperature_and_lowers_ece():
    m, y = _overconfident_margins()
    cal = TemperatureBucketCalibrator().fit(m, y)
    assert cal.temperature == pytest.approx(3.0, rel=0.15)
    raw = 1 / (1 + np.exp(-m))
    assert expected_calibration_error(cal.predict(m), y) < expected_calibration_error(raw, y) / 2
    assert cal.metrics["ece_calibrated"] < cal.metrics["ece_raw"] and cal.n_fit == len(y)


def test_sparse_buckets_keep_a_zero_offset_and_one_class_is_refused():
    cal = TemperatureBucketCalibrator(min_count=10**6).fit(*_overconfident_margins(500))
    assert cal.bucket_offsets.tolist() == [0.0] * 10
    with pytest.raises(ValueError, match="one class"):
        TemperatureBucketCalibrator().fit([1.0, 2.0], [1, 1])


def test_temperature_bucket_json_round_trip(tmp_path):
    m, y = _overconfident_margins(1000)
    cal = TemperatureBucketCalibrator(n_buckets=5).fit(m, y)
    data = cal.to_json()
    assert data["method"] == "temperature_bucket" and len(data["bucket_edges"]) == 6
    cal.save(tmp_path / "c.json")
    again = TemperatureBucketCalibrator.load(tmp_path / "c.json")
    np.testing.assert_allclose(again.predict(m), cal.predict(m))
    assert again.metrics == cal.metrics and again.n_fit == 1000


def test_temperature_bucket_reads_basilisk_variants():
    ranged = TemperatureBucketCalibrator.from_json(
        {"temperature": 1.25, "bucket_offsets": {"0.5-1.0": -0.2, "0.0-0.5": 0.3}}
    )
    assert ranged.bucket_edges.tolist() == [0.0, 0.5, 1.0] and ranged.bucket_offsets.tolist() == [0.3, -0.2]
    # margin 0 -> tempered p 0.5 -> first bucket (lo < p <= hi); margin 5 -> second bucket
    expected = 1 / (1 + np.exp(-np.array([0.0 + 0.3, 5 / 1.25 - 0.2])))
    np.testing.assert_allclose(ranged.predict([0.0, 5.0]), expected)
    indexed = TemperatureBucketCalibrator.from_json({"temperature": 2.0, "bucket_offsets": {"0": 0.1, "3": 0.4}})
    assert indexed.bucket_offsets.tolist() == [0.1, 0.0, 0.0, 0.4]
    plain = TemperatureBucketCalibrator.from_json({"temperature": 2.0})
    assert plain.predict([2.0])[0] == pytest.approx(1 / (1 + np.exp(-1.0)))
    with pytest.raises(ValueError, match="keyed by"):
        TemperatureBucketCalibrator.from_json({"bucket_offsets": {"low": 0.1}})
    with pytest.raises(ValueError, match="temperature_bucket"):
        TemperatureBucketCalibrator.from_json({"method": "isotonic"})


def test_isotonic_is_monotone_round_trips_and_dispatches_from_json():
    m, y = _overconfident_margins(2000)
    iso = isotonic_calibrator().fit(m, y)
    p = iso.predict(np.linspace(-10, 10, 50))
    assert np.all(np.diff(p) >= 0) and p.min() >= 0.001 and p.max() <= 0.999
    again = margin_calibrator_from_json(iso.to_json())
    assert isinstance(again, IsotonicMarginCalibrator)
    np.testing.assert_allclose(again.predict(m), iso.predict(m))
    assert isinstance(margin_calibrator_from_json({"temperature": 1.0}), TemperatureBucketCalibrator)
    with pytest.raises(ValueError, match="not fitted"):
        isotonic_calibrator().predict([0.0])


def test_reliability_bins_match_ece():
    probs = [0.1, 0.12, 0.9, 1.0, 0.0]
    labels = [0, 1, 1, 1, 0]
    bins = reliability_bins(probs, labels)
    assert [b[2] for b in bins] == [1, 2, 1, 1]
    assert bins[1] == (pytest.approx(0.11), 0.5, 2)
    ece = sum(n / 5 * abs(p - a) for p, a, n in bins)
    assert ece == pytest.approx(expected_calibration_error(probs, labels))
