"""Side-by-side comparison of the pipeline's and the generator's rankings."""

from __future__ import annotations

from bel_core.linking.compare import compare, disagree
from bel_core.types import Candidate, LinkResult, Mention

MENTION = Mention("d1", 0, 7, "seizure")


def _result(*ranked: tuple[str, float], version: str = "m") -> LinkResult:
    candidates = tuple(Candidate(cid, f"name {cid}", cid, "s", p, p) for cid, p in ranked)
    return LinkResult(MENTION, candidates, version, "kb")


def test_rows_carry_both_models_ranks_and_probabilities():
    pipeline = _result(("A", 0.7), ("B", 0.2))
    generator = _result(("B", 0.6), ("C", 0.3), version="g")
    rows = {r.concept_id: r for r in compare(pipeline, generator).rows}
    assert (rows["A"].retriever_rank, rows["A"].generator_rank) == (1, None)
    assert (rows["B"].retriever_rank, rows["B"].reranker_probability) == (2, 0.2)
    assert (rows["B"].generator_rank, rows["B"].generator_probability) == (1, 0.6)
    assert (rows["C"].retriever_rank, rows["C"].generator_probability) == (None, 0.3)


def test_order_follows_the_chosen_model_then_the_other():
    pipeline = _result(("A", 0.7), ("B", 0.2))
    generator = _result(("C", 0.6), ("B", 0.3))
    assert [r.concept_id for r in compare(pipeline, generator, "reranker").rows] == ["A", "B", "C"]
    assert [r.concept_id for r in compare(pipeline, generator, "generator").rows] == ["C", "B", "A"]


def test_disagreement_needs_two_different_top_concepts():
    a, b = _result(("A", 0.9)), _result(("B", 0.9))
    assert disagree(a, b) and compare(a, b).disagree
    assert not disagree(a, _result(("A", 0.5), ("B", 0.4)))
    assert not disagree(a, None) and not disagree(None, b)
    assert not disagree(a, _result())


def test_one_model_alone_gives_its_own_list():
    rows = compare(_result(("A", 0.9), ("B", 0.1)), None).rows
    assert [(r.concept_id, r.generator_rank) for r in rows] == [("A", None), ("B", None)]


def test_an_uncalibrated_generator_shows_its_beam_share():
    beams = LinkResult(MENTION, (Candidate("A", "a", "a", "generator", 0.7, None),), "g", "kb")
    row = compare(None, beams).rows[0]
    assert (row.generator_probability, row.generator_calibrated) == (0.7, False)
    assert compare(_result(("A", 0.4)), None).rows[0].generator_calibrated is False  # pipeline-only row
    assert compare(None, _result(("A", 0.4))).rows[0].generator_calibrated is True
    assert compare(None, None).rows == ()
