"""Bi-encoder fine-tuning: collision-free batches, one step on a tiny model, a loadable result."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bel_core.errors import TrainingDataError
from bel_core.retrieve.dense import load_encoder, resolve_encoder
from bel_core.training.bi_encoder import distinct_batches, finetune_bi_encoder, synonym_pairs


def test_batches_never_repeat_a_concept_or_a_name():
    triples = [(f"t{i}", f"name{i % 5}", f"C{i % 5}") for i in range(23)] + [("x", "Name0", "C9")]
    batches = distinct_batches(triples, 4, random.Random(0))
    assert sorted(t for b in batches for t in b) == sorted(triples)
    for batch in batches:
        assert len({t[2] for t in batch}) == len(batch) and len({t[1].lower() for t in batch}) == len(batch)
        assert len(batch) <= 4


def test_synonym_pairs_skip_preferred_names(tiny_kb):
    pairs = synonym_pairs(tiny_kb, 100, seed=1)
    assert pairs and all(text != tiny_kb.get(cid).name for text, cid in pairs)
    assert synonym_pairs(tiny_kb, 100, seed=1) == pairs and len(synonym_pairs(tiny_kb, 3, seed=1)) == 3


def test_finetune_changes_the_encoder_and_returns_a_loadable_spec(tiny_kb, tiny_model_dir: Path, tmp_path: Path):
    base = resolve_encoder(str(tiny_model_dir))
    pairs = synonym_pairs(tiny_kb, 20, seed=0) + [("Seizure", "HP:0001250"), ("fits", "HP:0000000")]
    calls: list[tuple[str, int, int]] = []
    spec = finetune_bi_encoder(
        base, tiny_kb, pairs, tmp_path / "bi", batch_size=8, max_pairs=16, progress=lambda *a: calls.append(a)
    )
    assert spec.source == "path" and spec.version != base.version and calls[-1][1] == calls[-1][2]
    before = load_encoder(base).encode(["small head"])
    after = load_encoder(spec).encode(["small head"])
    assert abs(before - after).max() > 1e-4
    with pytest.raises(TrainingDataError, match="No usable"):
        finetune_bi_encoder(base, tiny_kb, [("Seizure", "HP:0001250")], tmp_path / "none")
