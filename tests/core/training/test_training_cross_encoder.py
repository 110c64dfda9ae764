"""Cross-encoder training: a few steps of the real loop on a tiny random model, then save and reload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bel_core.errors import TrainingDataError
from bel_core.rerank.cross_encoder import CrossEncoderReranker, serialize_left, serialize_right
from bel_core.training.cross_encoder import CrossEncoderTrainConfig, train_cross_encoder
from bel_core.training.pairs import PairExample
from tests.core.tiny_cross_encoder import save_tiny_cross_encoder


def _pairs(tiny_kb, n: int, doc: str) -> list[PairExample]:
    concepts = list(tiny_kb)
    out = []
    for i in range(n):
        c, other = concepts[i % len(concepts)], concepts[(i + 3) % len(concepts)]
        left = serialize_left(c.names[-1].lower(), f"patient {i} had {c.names[-1].lower()}")
        target = c if i % 2 == 0 else other
        out.append(
            PairExample(left, serialize_right(target.name, target.types), int(i % 2 == 0), doc, target.concept_id)
        )
    return out


@pytest.mark.parametrize("num_labels", [1, 2])
def test_training_selects_saves_calibrates_and_reloads(tiny_kb, tmp_path: Path, num_labels: int):
    base = save_tiny_cross_encoder(tmp_path / "base", num_labels=2)  # a head of another size is replaced
    calls: list[tuple[str, int, int]] = []
    config = CrossEncoderTrainConfig(
        base_model=str(base), epochs=2, batch_size=8, max_length=64, num_labels=num_labels, max_train_pairs=20
    )
    metrics = train_cross_encoder(
        _pairs(tiny_kb, 24, "t"),
        _pairs(tiny_kb, 40, "d"),
        config,
        tmp_path / "out",
        progress=lambda *a: calls.append(a),
    )
    assert ("train", 6, 6) in calls and ("dev", 2, 2) in calls  # 20 pairs / 8 = 3 steps per epoch
    assert metrics.n == 40 and metrics.positives == 20 and metrics.calibrated is not None
    report = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert report["n_train_pairs"] == 20 and report["best_epoch"] in (1, 2) and len(report["epochs"]) == 2
    assert report["dev"]["calibrated"]["brier"] == pytest.approx(metrics.calibrated.brier)
    assert report["config"]["num_labels"] == num_labels and report["train_pairs_per_s"] > 0
    reranker = CrossEncoderReranker.load(str(tmp_path / "out"))
    assert reranker.num_labels == num_labels and reranker.max_length == 64 and reranker.calibrator is not None


def test_training_is_reproducible_and_works_without_dev(tiny_kb, tmp_path: Path):
    base = save_tiny_cross_encoder(tmp_path / "base", num_labels=1)
    config = CrossEncoderTrainConfig(base_model=str(base), batch_size=8, max_length=64)
    train = _pairs(tiny_kb, 16, "t")
    train_cross_encoder(train, [], config, tmp_path / "a")
    train_cross_encoder(train, [], config, tmp_path / "b")
    a = CrossEncoderReranker.load(str(tmp_path / "a"))
    b = CrossEncoderReranker.load(str(tmp_path / "b"))
    assert a.version.split("@")[1] == b.version.split("@")[1] and a.calibrator is None
    with pytest.raises(TrainingDataError, match="No training pairs"):
        train_cross_encoder([], [], config, tmp_path / "c")
