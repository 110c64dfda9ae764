"""Reranker training data: gold mentions from PubTator, document splits, hard-negative pairs, metrics."""

from __future__ import annotations

import pytest

from bel_core.formats.pubtator import parse_pubtator
from bel_core.rerank.cross_encoder import serialize_left, serialize_right
from bel_core.training.metrics import pair_metrics
from bel_core.training.pairs import GoldMention, build_pairs, gold_mentions_from_pubtator, split_by_document
from bel_core.types import Candidate, Mention

PUBTATOR = (
    "7|t|Seizures and an ASD.\n"
    "7|a|Fits recurred.\n"
    "7\t0\t8\tSeizures\tDisease\tHP:0002279\n"  # alt id of HP:0001250
    "7\t16\t19\tASD\tDisease\tMESH:HP:0001631|HP:9999999\n"  # prefix tolerated, unknown id dropped
    "7\t21\t25\tFits\tChemical\tHP:0001250\n"
    "8|t|Deafness.\n"
    "8|a|\n"
    "8\t0\t8\tDeafness\tDisease\tHP:0000000\n"  # unknown only: skipped
)


def test_gold_mentions_resolve_ids_and_filter_types(tiny_kb):
    parsed = parse_pubtator(PUBTATOR, "x.pubtator")
    golds = gold_mentions_from_pubtator(parsed.documents, parsed.mentions, tiny_kb)
    assert [(g.mention.text, g.gold_ids) for g in golds] == [
        ("Seizures", ("HP:0001250",)),
        ("ASD", ("HP:0001631",)),
        ("Fits", ("HP:0001250",)),
    ]
    assert golds[0].context == "Seizures and an ASD. Fits recurred."
    typed = gold_mentions_from_pubtator(parsed.documents, parsed.mentions, tiny_kb, types={"Disease"})
    assert [g.mention.text for g in typed] == ["Seizures", "ASD"]


def test_split_by_document_is_deterministic_and_disjoint():
    ids = [f"d{i}" for i in range(50)] * 2
    train, dev = split_by_document(ids, 0.2, seed=3)
    assert (train, dev) == split_by_document(list(reversed(ids)), 0.2, seed=3)
    assert len(dev) == 10 and not train & dev and train | dev == set(ids)
    assert split_by_document(ids, 0.2, seed=4) != (train, dev)
    assert len(split_by_document(["a", "b"], 0.01, 0)[1]) == 1 and split_by_document(["a"], 0.5, 0) == ({"a"}, set())


def test_build_pairs_adds_missed_gold_and_takes_hard_negatives(tiny_kb):
    gold = GoldMention(Mention("d1", 0, 3, "ASD"), "ASD here", ("HP:0001631",))
    ids = ["HP:0000729", "HP:0001629", "HP:0002279", "HP:0000252", "HP:0000256", "HP:0001156", "HP:0002315"]
    ranked = [Candidate(cid, "n", "a", "tfidf", 1.0 - i / 10) for i, cid in enumerate(ids)]
    pairs = build_pairs([gold], [ranked], tiny_kb, negatives_per_positive=4, seed=1)
    positives = [p for p in pairs if p.label == 1]
    negatives = [p.concept_id for p in pairs if p.label == 0]
    asd = tiny_kb.get("HP:0001631")
    assert [(p.left, p.right, p.concept_id) for p in positives] == [
        (serialize_left("ASD", "ASD here"), serialize_right(asd.name, asd.types), "HP:0001631")
    ]
    # 3 top-ranked (alt id resolved) + 1 drawn from the rest
    assert len(negatives) == 4 and {"HP:0000729", "HP:0001629", "HP:0001250"} <= set(negatives)
    assert build_pairs([gold], [ranked], tiny_kb, seed=1) == pairs
    with pytest.raises(ValueError, match="candidate lists"):
        build_pairs([gold], [], tiny_kb)


def test_pair_metrics_hand_computed():
    m = pair_metrics([0.9, 0.6, 0.4, 0.2], [1, 0, 1, 0], calibrated_probs=[1.0, 0.0, 1.0, 0.0])
    assert (m.accuracy, m.precision, m.recall, m.f1) == (0.5, 0.5, 0.5, 0.5)
    assert m.brier == pytest.approx((0.01 + 0.36 + 0.36 + 0.04) / 4) and m.n == 4 and m.positives == 2
    assert m.calibrated is not None and m.calibrated.f1 == 1.0 and m.calibrated.ece == 0.0
    assert m.to_json()["calibrated"]["accuracy"] == 1.0
    empty = pair_metrics([], [])
    assert (empty.f1, empty.n, empty.calibrated) == (0.0, 0, None)
