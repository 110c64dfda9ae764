"""Cross-encoder reranker: serialization, context windows, loading tiny random models, scoring math."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bel_core.calibrate.scores import TemperatureBucketCalibrator
from bel_core.errors import ModelUnavailableError
from bel_core.rerank.cross_encoder import CrossEncoderReranker, mention_context, serialize_left, serialize_right
from bel_core.types import Candidate, Mention
from tests.core.tiny_cross_encoder import save_tiny_cross_encoder

LEFTS = [serialize_left("seizures", "she had seizures at night"), serialize_left("asd", "an asd was closed")]
RIGHTS = [serialize_right("Seizure", ["T184"]), serialize_right("Atrial septal defect", ["T019", "T047"])]


@pytest.fixture(scope="module")
def two_label_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_cross_encoder(tmp_path_factory.mktemp("ce2"), num_labels=2)


@pytest.fixture(scope="module")
def one_label_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_cross_encoder(tmp_path_factory.mktemp("ce1"), num_labels=1, seed=1)


def test_serialization_is_basilisks_exactly():
    assert serialize_left("aspirin", "started on aspirin") == "mention: aspirin ; context: started on aspirin"
    assert serialize_right("Aspirin", ["T121", "T109"]) == "candidate: Aspirin ; tuis: T121,T109"
    assert serialize_right("Aspirin", []) == "candidate: Aspirin ; tuis: "


def test_mention_context_short_text_is_whole_and_whitespace_collapsed():
    text = "Two sibs had\nfocal   seizures."
    assert mention_context(text, 19, 27) == "Two sibs had focal seizures."


def test_mention_context_cuts_at_word_boundaries_around_the_mention():
    words = [f"w{i:03d}" for i in range(200)]
    text = " ".join(words[:100]) + " atrial septal defect " + " ".join(words[100:])
    start = text.index("atrial")
    ctx = mention_context(text, start, start + 20, max_chars=80)
    assert "atrial septal defect" in ctx and len(ctx) <= 80
    assert all(tok in words or tok in {"atrial", "septal", "defect"} for tok in ctx.split())  # no cut word
    left, right = ctx.split("atrial septal defect")
    assert abs(len(left) - len(right)) <= 5  # centred


def test_mention_context_gives_unused_side_budget_to_the_other_side():
    text = "Seizures " + "and more words " * 30
    ctx = mention_context(text, 0, 8, max_chars=60)
    assert ctx.startswith("Seizures and more") and 50 <= len(ctx) <= 60
    assert mention_context("x" * 10 + " seizure", 11, 18, max_chars=3) == "seizure"  # mention kept whole


def test_two_label_margin_is_logit1_minus_logit0(two_label_dir: Path):
    import torch

    reranker = CrossEncoderReranker.load(str(two_label_dir), max_length=64, batch_size=1)
    assert reranker.num_labels == 2
    margins = reranker.margins(LEFTS, RIGHTS)
    enc = reranker.tokenizer(LEFTS, RIGHTS, truncation=True, max_length=64, padding=True, return_tensors="pt")
    with torch.inference_mode():
        logits = reranker.model(**enc).logits.numpy()
    np.testing.assert_allclose(margins, logits[:, 1] - logits[:, 0], atol=1e-5)
    np.testing.assert_allclose(reranker.score_pairs(LEFTS, RIGHTS), 1 / (1 + np.exp(-margins)), atol=1e-12)
    assert abs(margins[0] - margins[1]) > 1e-3  # distinct pairs, distinct scores


def test_one_label_margin_is_the_logit_and_batching_keeps_alignment(one_label_dir: Path):
    reranker = CrossEncoderReranker.load(str(one_label_dir), max_length=64, batch_size=1)
    assert reranker.num_labels == 1
    one_by_one = [reranker.margins([left], [right])[0] for left, right in zip(LEFTS, RIGHTS, strict=True)]
    reranker.batch_size = 32
    np.testing.assert_allclose(reranker.margins(LEFTS[::-1], RIGHTS[::-1]), one_by_one[::-1], atol=1e-5)
    assert reranker.margins([], []).shape == (0,)


def test_rerank_sorts_by_probability_and_records_the_margin(two_label_dir: Path, tiny_kb):
    reranker = CrossEncoderReranker.load(str(two_label_dir), max_length=64)
    text = "Both children had an atrial septal defect"
    mention = Mention("d1", 21, 41, text[21:41])
    ids = ["HP:0001631", "HP:0001629", "HP:0000729", "HP:0002279"]  # the last is Seizure's alt id
    cands = [
        Candidate(cid, tiny_kb.get(cid).name, f"alias{i}", "hybrid", 0.9 - i / 10, None, (("tfidf", 0.5),))
        for i, cid in enumerate(ids)
    ]
    [ranked] = reranker.rerank([(mention, text)], [cands], tiny_kb)
    probs = [c.raw_score for c in ranked]
    assert probs == sorted(probs, reverse=True) and {c.concept_id for c in ranked} == set(ids)
    c0 = ranked[0]
    left = serialize_left(mention.text, text)
    concept = tiny_kb.get(c0.concept_id)
    margin = reranker.margins([left], [serialize_right(concept.name, concept.types)])[0]
    assert c0.stage == "reranker" and c0.calibrated_score is None
    assert c0.stage_scores == (("tfidf", 0.5), ("reranker", pytest.approx(margin, abs=1e-5)))
    assert c0.raw_score == pytest.approx(1 / (1 + np.exp(-margin)), abs=1e-6)
    assert c0.matched_alias == f"alias{ids.index(c0.concept_id)}"
    assert reranker.rerank([(mention, text)], [[]], tiny_kb) == [[]]


def test_rerank_applies_a_loaded_calibrator(two_label_dir: Path, tiny_kb):
    reranker = CrossEncoderReranker.load(str(two_label_dir), max_length=64)
    reranker.calibrator = TemperatureBucketCalibrator(2.0, [0.0, 0.5, 1.0], [0.1, -0.1])
    cands = [Candidate("HP:0001250", "Seizure", "Seizure", "tfidf", 1.0)]
    [[c]] = reranker.rerank([(Mention("d", 0, 8, "seizures"), "seizures")], [cands], tiny_kb)
    assert c.calibrated_score == pytest.approx(float(reranker.calibrator.predict([c.stage_scores[-1][1]])[0]))


def test_save_load_round_trip_keeps_scores_calibration_and_settings(two_label_dir: Path, tmp_path: Path):
    reranker = CrossEncoderReranker.load(str(two_label_dir), max_length=48)
    reranker.calibrator = TemperatureBucketCalibrator(1.5, [0.0, 0.5, 1.0], [0.2, -0.2])
    reranker.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "reranker.json").read_text())
    assert meta["max_length"] == 48 and meta["num_labels"] == 2 and meta["serialization"] == "basilisk-1"
    again = CrossEncoderReranker.load(str(tmp_path / "m"))
    assert again.max_length == 48 and again.version.startswith("m@") and len(again.version) == len("m@") + 12
    assert isinstance(again.calibrator, TemperatureBucketCalibrator) and again.calibrator.temperature == 1.5
    np.testing.assert_allclose(again.margins(LEFTS, RIGHTS), reranker.margins(LEFTS, RIGHTS), atol=1e-5)
    assert CrossEncoderReranker.load(str(tmp_path / "m"), max_length=32).max_length == 32


def test_explicit_calibration_file_wins(two_label_dir: Path, tmp_path: Path):
    path = tmp_path / "basilisk.json"
    path.write_text(json.dumps({"temperature": 1.25, "bucket_offsets": {"0.0-0.5": 0.1, "0.5-1.0": -0.1}}))
    reranker = CrossEncoderReranker.load(str(two_label_dir), calibration=path)
    assert reranker.calibrator is not None and reranker.calibrator.to_json()["temperature"] == 1.25


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")  # torch 2.13 deprecates qint8 tensors
def test_quantized_reranker_scores_close_and_refuses_to_save(two_label_dir: Path, tmp_path: Path):
    plain = CrossEncoderReranker.load(str(two_label_dir), max_length=64)
    quant = CrossEncoderReranker.load(str(two_label_dir), max_length=64, quantize=True)
    assert quant.version == plain.version + "+int8"
    # The random tiny model is far too sensitive for a closeness check: the bench measures real drift.
    assert np.isfinite(quant.margins(LEFTS, RIGHTS)).all()
    with pytest.raises(ValueError, match="quantized"):
        quant.save(tmp_path / "q")


def test_missing_models_raise_model_unavailable(tmp_path: Path):
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        CrossEncoderReranker.load(str(tmp_path / "nope"))
    with pytest.raises(ModelUnavailableError, match="local Hugging Face cache"):
        CrossEncoderReranker.load("Bam3752/basilisk-el-ce-biomedbert-ab-v1", revision="9b11786be833")


def test_three_label_models_are_refused(tmp_path: Path):
    with pytest.raises(ModelUnavailableError, match="num_labels=3"):
        CrossEncoderReranker.load(str(save_tiny_cross_encoder(tmp_path, num_labels=3)))
