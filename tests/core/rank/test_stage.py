"""Tests for bel_core.rank.model/stage/training: LambdaRank learns a re-ordering, calibrates it, explains it."""

from __future__ import annotations

import pytest

pytest.importorskip("lightgbm")

from bel_core.errors import ModelUnavailableError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.rank.features import FeatureExtractor, RankQuery
from bel_core.rank.model import LambdaRanker, RankerParams
from bel_core.rank.stage import RankingStage, describe
from bel_core.rank.training import RankingSet, fit_stage
from bel_core.types import Candidate, Concept, Document, Mention

KB = KnowledgeBase(
    [Concept(f"C{i}", f"Concept number {i}", (f"synonym {i}",)) for i in range(40)], name="T", version="1"
)
PARAMS = RankerParams(rounds=60, early_stopping=60, min_data_in_leaf=5)


def _list(i: int) -> tuple[RankQuery, tuple[int, ...]]:
    """Retrieval puts a near miss first; the right concept, second, is the exact synonym."""
    wrong, right = f"C{i % 40}", f"C{(i + 1) % 40}"
    first = Candidate(wrong, KB.get(wrong).name, "Concept number", "tfidf", 0.8,
                      stage_scores=(("tfidf", 0.8), ("fused", 0.8), ("retrieval_rank", 0.0)))  # fmt: skip
    second = Candidate(right, KB.get(right).name, f"synonym {(i + 1) % 40}", "tfidf", 0.7,
                       stage_scores=(("tfidf", 1.0), ("fused", 0.7), ("retrieval_rank", 1.0)))  # fmt: skip
    doc = f"d{i}"
    return RankQuery(Mention(doc, 0, 8, "synonymX"), "synonymX", (first, second)), (0, 1)


def _set(ids: range) -> RankingSet:
    items = [_list(i) for i in ids]
    docs = {q.mention.doc_id: Document(q.mention.doc_id, "synonymX was seen.") for q, _ in items}
    return RankingSet(tuple(q for q, _ in items), tuple(y for _, y in items), docs)


@pytest.fixture(scope="module")
def stage() -> RankingStage:
    valid = _set(range(300, 400))
    # Calibration needs wrong top candidates too: some validation lists have no right candidate.
    unanswerable = RankingSet(valid.queries[:30], tuple((0, 0) for _ in range(30)), valid.documents)
    calib = RankingSet(
        valid.queries[30:] + unanswerable.queries, valid.labels[30:] + unanswerable.labels, valid.documents
    )
    return fit_stage(_set(range(300)), calib, FeatureExtractor(KB), params=PARAMS, trained_on={"train": "synthetic"})


def test_the_ranker_learns_to_move_the_exact_synonym_up(stage):
    queries = _set(range(400, 420)).queries
    ranked = stage.rank(queries)
    assert [r[0].concept_id for r in ranked] == [q.candidates[1].concept_id for q in queries]
    top = ranked[0][0]
    assert top.stage == "rank" and dict(top.stage_scores)["rank"] == top.raw_score
    assert 0.0 < ranked[0][1].calibrated_score < top.calibrated_score < 1.0


def test_save_and_load_give_the_same_scores(stage, tmp_path):
    stage.model.save(tmp_path / "ranker")
    loaded = RankingStage(LambdaRanker.load(tmp_path / "ranker"), stage.extractor)
    queries = _set(range(400, 405)).queries
    assert loaded.version == stage.version
    assert [[c.calibrated_score for c in r] for r in loaded.rank(queries)] == [
        [c.calibrated_score for c in r] for r in stage.rank(queries)
    ]
    assert loaded.model.trained_on == {"train": "synthetic"}


def test_load_names_what_is_missing(tmp_path):
    with pytest.raises(ModelUnavailableError, match="ranker.txt"):
        LambdaRanker.load(tmp_path)


def test_explanations_are_plain_records_in_curator_words(stage):
    query = _set(range(500, 501)).queries[0]
    reasons = stage.explain(query, query.candidates[1].concept_id)
    # The signal is in the retrieval and exact-synonym columns (they move together here).
    assert reasons[0].feature in {"exact", "tfidf", "gap_to_top", "fused", "retrieval_rank"}
    assert reasons[0].contribution > 0
    assert [abs(r.contribution) for r in reasons] == sorted((abs(r.contribution) for r in reasons), reverse=True)
    assert all(r.text == describe(r.feature, r.value, query.candidates[0].name) for r in reasons)
    with pytest.raises(ValueError, match="not a candidate"):
        stage.explain(query, "C39x")


def test_describe_words_counts_and_relations():
    assert describe("doc_top_votes", 3, None) == "linked 3 times elsewhere in this document"
    assert describe("doc_top_votes", 1, None) == "linked once elsewhere in this document"
    assert describe("parent_of_top", 1, "Epilepsy") == "parent of Epilepsy"
    assert describe("prior_log", 0.0, None) == "never linked to this text in training"
    assert describe("exact", 1.0, None) == "exact synonym"


def test_rank_queries_retrieve_with_the_corpus_lexicon():
    from bel_core.linking.detect import DictionaryMatcher
    from bel_core.linking.options import LinkOptions
    from bel_core.linking.pipeline import LinkingPipeline
    from bel_core.linking.stages import Stages
    from bel_core.rank.stage import rank_queries
    from bel_core.retrieve.priors import AliasExtension
    from bel_core.retrieve.tfidf import TfidfRetriever

    priors = AliasExtension.from_links([("number seven", ("C7",))], KB)
    kb = priors.extend(KB)
    stages = Stages(kb, TfidfRetriever.from_kb(kb), DictionaryMatcher.from_kb(kb), priors=priors)
    pipeline = LinkingPipeline(stages, LinkOptions(exact_first=True))
    doc = Document("d", "Concept number seven here.")
    mention = Mention("d", 8, 20, "number seven")
    [query] = rank_queries(pipeline, [mention], {"d": doc}, 5)
    assert query.query == "number seven" and len(query.candidates) == 5
    top = dict(query.candidates[0].stage_scores)
    assert query.candidates[0].concept_id == "C7" and top["prior"] == 1.0 and top["concept_links"] > 0
