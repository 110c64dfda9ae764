"""Training orchestration pieces: dictionary augmentation, final calibration, corpus splits, budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bel_core.calibrate import lists as link_calibration
from bel_core.retrieve.priors import AliasExtension, exact_first
from bel_core.training.corpus import LabelledSplit, load_split, split_gold, synthetic_split
from bel_core.training.train_linker import pairs_budget
from bel_core.types import Candidate

CORPUS = """\
1|t|Seizures and ASD.
1|a|Fits again.
1\t0\t8\tSeizures\tPhenotype\tHP:0001250
1\t13\t16\tASD\tPhenotype\tHP:0001631
1\t18\t22\tFits\tPhenotype\tHP:0002279
1\t18\t22\tFits\tOther\tHP:0001250

2|t|Obese child.
2|a|Unknown thing.
2\t0\t5\tObese\tPhenotype\tHP:0001513
2\t19\t24\tthing\tPhenotype\tHP:9999999
"""


def test_alias_extension_counts_extends_and_round_trips(tiny_kb, tmp_path: Path):
    links = [
        ("Fits", ("HP:0002279",)),
        ("fits", ("HP:0001250",)),
        ("ASD", ("HP:0001631", "HP:0000729")),
        ("seizure  spells", ("HP:0001250",)),
        ("x", ("HP:9999999",)),
    ]
    ext = AliasExtension.from_links(links, tiny_kb)
    assert ext.prior("FITS", "HP:0001250") == 2 and ext.prior("asd", "HP:0000729") == 1 and len(ext) == 4
    extended = ext.extend(tiny_kb)
    assert extended.get("HP:0001250").synonyms[-1] == "seizure  spells"  # new alias; "Fits" was known
    assert extended.version == "tiny-1+4 training aliases" and len(extended) == len(tiny_kb)
    ext.save(tmp_path / "aliases.jsonl")
    again = AliasExtension.load(tmp_path / "aliases.jsonl")
    assert again.counts == ext.counts and again.surface == ext.surface


def _cand(cid: str, tfidf: float, raw: float | None = None) -> Candidate:
    return Candidate(cid, cid, cid, "hybrid", tfidf if raw is None else raw, stage_scores=(("tfidf", tfidf),))


def test_exact_first_without_and_with_priors(tiny_kb):
    ranked = [_cand("A", 0.8), _cand("B", 1.0), _cand("C", 1.0)]
    assert [c.concept_id for c in exact_first("q", ranked, None)] == ["B", "C", "A"]
    ext = AliasExtension({("q", "C"): 3, ("q", "B"): 1}, {"q": "q"})
    assert [c.concept_id for c in exact_first("Q", ranked, ext)] == ["C", "B", "A"]
    assert exact_first("q", ranked[:1], ext) == ranked[:1]


def test_link_calibration_methods_fit_pick_and_round_trip(tmp_path: Path):
    rng = np.random.default_rng(0)
    lists, labels, groups = [], [], []
    for i in range(200):
        margins = sorted(rng.normal(0, 2, size=3), reverse=True)
        right = int(rng.random() < 1 / (1 + np.exp(-margins[0])))
        lists.append(
            [
                Candidate(
                    f"C{j}",
                    "n",
                    "n",
                    "reranker",
                    float(1 / (1 + np.exp(-m))),
                    stage_scores=(("tfidf", 0.5), ("reranker", float(m))),
                )
                for j, m in enumerate(margins)
            ]
        )
        labels.append([right, 1 - right, 0])
        groups.append(f"doc{i % 20}")
    chosen, report = link_calibration.fit_best(lists, labels, groups)
    assert set(report["methods"]) == set(link_calibration.METHODS) and report["chosen"] == chosen.method
    assert report["ece_in_sample"] <= report["ece_raw"] + 0.05
    for method in link_calibration.METHODS:
        fitted = link_calibration.fit(method, lists, labels)
        link_calibration.save(fitted, tmp_path / f"{method}.json")
        again = link_calibration.load(tmp_path / f"{method}.json")
        assert again.method == method and again.digest == fitted.digest
        assert [c.calibrated_score for c in again.apply(lists[0])] == [
            c.calibrated_score for c in fitted.apply(lists[0])
        ]


def test_basilisk_calibration_file_loads_as_margin_calibrator(tmp_path: Path):
    path = tmp_path / "basilisk.json"
    path.write_text('{"temperature": 2.0, "bucket_offsets": {"0.0-0.5": -0.1, "0.5-1.0": 0.2}}')
    calibrator = link_calibration.load(path)
    (top,) = calibrator.apply([_cand("A", 0.5, raw=0.9)])
    assert calibrator.method == "temperature_bucket" and 0.5 < top.calibrated_score < 0.9


def test_corpus_splits(tiny_kb, tmp_path: Path):
    (tmp_path / "c.pubtator").write_text(CORPUS)
    split = load_split(tmp_path / "c.pubtator", tiny_kb, {"Phenotype"})
    assert [g.gold_ids for g in split.golds] == [("HP:0001250",), ("HP:0001631",), ("HP:0001250",), ("HP:0001513",)]
    assert set(split.documents) == {"1", "2"} and split.summary()["concepts"] == 3
    train, dev = split_gold(split, 0.5, seed=1)
    assert {g.mention.doc_id for g in train.golds} | {g.mention.doc_id for g in dev.golds} == {"1", "2"}
    assert not {g.mention.doc_id for g in train.golds} & {g.mention.doc_id for g in dev.golds}
    synthetic = synthetic_split(tiny_kb, 20, seed=2)
    merged = split.merged(synthetic)
    assert merged.summary()["synthetic_mentions"] == 20 and len(merged.corpus_links()) == 4
    assert all(
        d.text[g.mention.start : g.mention.end] == g.mention.text
        for g in synthetic.golds
        if (d := synthetic.documents.get(g.mention.doc_id))
    )
    assert LabelledSplit().summary()["mentions"] == 0


def test_pairs_budget_keeps_a_reserve_and_a_floor():
    budget = pairs_budget(600.0, 2, n_dev_pairs=3000, rate=100.0)
    assert budget == pytest.approx(100 * (600 - 60 - 10) / 2, rel=0.02)
    assert pairs_budget(0.0, 2, n_dev_pairs=10, rate=100.0) == 1500  # 30 s floor
    assert pairs_budget(0.0, 2, n_dev_pairs=10, rate=1.0) == 256  # the pair floor
