"""Synthetic gold mentions from the KB alone: deterministic, varied, consistent offsets."""

from __future__ import annotations

from collections import Counter

from bel_core.training.synthetic import TEMPLATES, initialism, synthetic_gold_mentions


def test_synthetic_mentions_are_deterministic_per_seed(tiny_kb):
    a = synthetic_gold_mentions(tiny_kb, n=60, seed=5)
    assert a == synthetic_gold_mentions(tiny_kb, n=60, seed=5)
    assert a != synthetic_gold_mentions(tiny_kb, n=60, seed=6)


def test_synthetic_mentions_vary_and_stay_consistent(tiny_kb):
    golds = synthetic_gold_mentions(tiny_kb, n=300, seed=1)
    variants = Counter((g.mention.label or "").removeprefix("synthetic:") for g in golds)
    assert set(variants) == {"name", "abbreviation", "typo", "reorder", "number", "case"}
    assert len({g.context.split(g.mention.text)[0][-12:] for g in golds}) > len(TEMPLATES) // 2
    names = {n.lower() for c in tiny_kb for n in c.names}
    assert sum(g.mention.text.lower() not in names for g in golds) > 60  # many are not dictionary strings
    for g in golds:
        assert g.mention.text in g.context and g.gold_ids == g.mention.annotated_ids
        assert g.gold_ids[0] in tiny_kb


def test_types_filter_and_initialisms(tiny_kb):
    golds = synthetic_gold_mentions(tiny_kb, n=40, seed=2, types=["Growth abnormality"])
    assert {g.gold_ids[0] for g in golds} <= {"HP:0001513", "HP:0004322"}
    assert synthetic_gold_mentions(tiny_kb, n=5, seed=2, types=["none"]) == []
    assert initialism("Atrial septal defect") == "ASD"
    assert initialism("Abnormality of the nervous system") == "ANS"
    assert initialism("Seizure") is None
