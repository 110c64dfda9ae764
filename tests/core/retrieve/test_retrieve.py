"""TF-IDF retrieval on the tiny KB: exact ranks, aggregation, exclusion."""

from __future__ import annotations

import numpy as np
import pytest

from bel_core.retrieve.tfidf import AliasTable, TfidfRetriever, balanced_chunks, top_concepts


@pytest.fixture(scope="module")
def tfidf(tiny_kb):
    return TfidfRetriever.from_kb(tiny_kb)


def test_exact_alias_ranks_first_with_score_one(tfidf):
    [ranked] = tfidf.retrieve(["seizures"], 5)
    top = ranked[0]
    assert (top.concept_id, top.matched_alias, top.stage, top.raw_score) == ("HP:0001250", "Seizures", "tfidf", 1.0)
    assert top.name == "Seizure"


def test_normalisation_applies_to_queries(tfidf):
    [ranked] = tfidf.retrieve(["  SEIZURES\t"], 1)
    assert ranked[0].concept_id == "HP:0001250" and ranked[0].raw_score == 1.0


def test_ambiguous_abbreviation_returns_both_concepts_tied(tfidf):
    [ranked] = tfidf.retrieve(["ASD"], 5)
    assert {c.concept_id for c in ranked[:2]} == {"HP:0001631", "HP:0000729"}
    assert [c.raw_score for c in ranked[:2]] == [1.0, 1.0]
    assert ranked[2].raw_score < 1.0


def test_one_candidate_per_concept_with_best_alias(tfidf):
    [ranked] = tfidf.retrieve(["migraine headache"], 10)
    ids = [c.concept_id for c in ranked]
    assert len(ids) == len(set(ids))
    assert ranked[0].concept_id == "HP:0002076" and ranked[0].matched_alias == "Migraine headache"
    assert all(a.raw_score >= b.raw_score for a, b in zip(ranked, ranked[1:], strict=False))


def test_fuzzy_query_finds_closest_name(tfidf):
    [ranked] = tfidf.retrieve(["short finger"], 2)
    assert [(c.concept_id, c.matched_alias) for c in ranked] == [
        ("HP:0001156", "Short fingers"),
        ("HP:0004322", "Short"),
    ]


def test_exclude_pair_hides_that_alias_only(tfidf):
    [ranked] = tfidf.retrieve(["seizures"], 1, exclude=[("Seizures", "HP:0001250")])
    assert ranked[0].concept_id == "HP:0001250"
    assert ranked[0].matched_alias == "Seizure" and ranked[0].raw_score < 1.0


def test_exclude_by_row_ids(tfidf):
    rows = [r for r, a in enumerate(tfidf.table.aliases) if a in ("Seizure", "Seizures", "Epileptic seizure", "Fits")]
    [ranked] = tfidf.retrieve(["seizures"], 20, exclude=rows)
    assert "HP:0001250" not in {c.concept_id for c in ranked}


def test_no_shared_ngram_returns_nothing_and_batches_align(tfidf):
    results = tfidf.retrieve(["qqxzqq", "obese", "ASD"], 3)
    assert results[0] == []
    assert results[1][0].concept_id == "HP:0001513"
    assert len(results) == 3


def test_many_chunks_in_parallel_match_one_query_at_a_time(tfidf, monkeypatch):
    from bel_core.retrieve import tfidf as retrieve

    queries = ["seizures", "obese", "ASD", "qqxzqq", "headache", "autism", "seizure disorder"]
    one_by_one = [tfidf.retrieve([q], 4)[0] for q in queries]
    monkeypatch.setattr(retrieve, "_QUERY_CHUNK", 2)  # 4 chunks, two groups of _WORKERS products
    assert tfidf.retrieve(queries, 4) == one_by_one


@pytest.mark.parametrize(
    ("n", "sizes"),
    [(0, []), (1, [1]), (3, [2, 1]), (256, [128, 128]), (257, [65, 65, 65, 62]), (369, [93, 93, 93, 90])],
)
def test_balanced_chunks_fill_whole_rounds_of_workers(n, sizes):
    items = [str(i) for i in range(n)]
    chunks = balanced_chunks(items, 128, 2)
    assert [len(c) for c in chunks] == sizes
    assert [x for c in chunks for x in c] == items  # consecutive, nothing lost or repeated


def test_empty_batch(tfidf):
    assert tfidf.retrieve([], 5) == []


def test_top_concepts_widens_window_when_one_concept_crowds_the_top(tiny_kb):
    table = AliasTable.from_kb(tiny_kb)
    scores = np.zeros(len(table), dtype=np.float32)
    seizure_rows = [r for r, ci in enumerate(table.concept_index) if table.concept_ids[ci] == "HP:0001250"]
    scores[seizure_rows] = 0.9  # 4 aliases of one concept fill the first window of 4*k = 4
    other = next(r for r in range(len(table)) if r not in seizure_rows)
    scores[other] = 0.5
    found = top_concepts(table, scores, 2, "x")
    assert [c.concept_id for c in found] == ["HP:0001250", table.concept_ids[table.concept_index[other]]]
