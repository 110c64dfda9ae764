"""Tests for bel_core.rank.features: one feature row per candidate, from scores, KB, document and corpus."""

from __future__ import annotations

import pytest

from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.rank.features import (
    FEATURE_GROUPS,
    FEATURES,
    CorpusLexicon,
    FeatureExtractor,
    RankQuery,
    document_evidence,
    feature_rows,
    words,
)
from bel_core.retrieve.priors import AliasExtension
from bel_core.types import Candidate, Concept, Decision, DecisionStatus, Document, Mention

KB = KnowledgeBase(
    [
        Concept("D1", "Neoplasms", definition="New abnormal growth of tissue."),
        Concept("D2", "Breast Neoplasms", ("Breast cancer",), parents=("D1",), definition="Tumors of the breast."),
        Concept("D3", "Hereditary breast cancer syndrome", parents=("D2",)),
        Concept("D4", "Pancreatic Cyst", parents=("D1",)),
    ],
    name="T",
    version="1",
)


def _candidate(cid: str, alias: str, fused: float, *, exact: bool = False, prior: float = 0.0) -> Candidate:
    scores = (("tfidf", 1.0 if exact else fused), ("fused", fused), ("prior", prior))
    return Candidate(cid, KB.get(cid).name, alias, "tfidf", fused, stage_scores=scores)


def _query(doc: Document, start: int, end: int, candidates: tuple[Candidate, ...]) -> RankQuery:
    return RankQuery(Mention(doc.doc_id, start, end, doc.text[start:end]), doc.text[start:end], candidates)


def _column(rows, name: str) -> list[float]:
    return rows[:, FEATURES.index(name)].tolist()


def test_every_feature_is_in_exactly_one_group():
    assert sorted(FEATURES) == sorted({f for group in FEATURE_GROUPS.values() for f in group})
    assert len(FEATURES) == len(set(FEATURES))


def test_words_drop_function_words_plural_s_and_short_tokens():
    assert words("The tumors of the breast, 2 types") == frozenset({"tumor", "breast"})
    assert words("mass") == frozenset({"mass"})


def test_hierarchy_features_relate_candidates_to_each_other():
    doc = Document("d", "A breast cancer was seen.")
    ranked = (
        _candidate("D2", "Breast cancer", 0.9, exact=True),
        _candidate("D3", "Hereditary breast cancer syndrome", 0.6),
        _candidate("D1", "Neoplasms", 0.3),
    )
    query = _query(doc, 2, 15, ranked)
    extractor = FeatureExtractor(KB)
    rows = feature_rows(extractor, [query], {"d": doc})[0]
    assert _column(rows, "ancestors_in_list") == [1, 2, 0]  # D2 under D1; D3 under D2 and D1
    assert _column(rows, "descendants_in_list") == [1, 0, 2]
    assert _column(rows, "child_of_top") == [0, 1, 0]
    assert _column(rows, "parent_of_top") == [0, 0, 1]
    assert _column(rows, "depth") == [1, 2, 0]
    assert _column(rows, "exact") == [1, 0, 0]
    assert _column(rows, "gap_to_top") == pytest.approx([0.0, 0.3, 0.6])
    assert extractor.ancestors("D3") == frozenset({"D1", "D2"})


def test_document_votes_count_other_texts_only_and_decisions():
    doc = Document("d", "Breast cancer. breast cancer. Tumors of the breast.")
    bc = (_candidate("D2", "Breast cancer", 1.0, exact=True), _candidate("D4", "Pancreatic Cyst", 0.1))
    tumors = (_candidate("D1", "Neoplasms", 0.5), _candidate("D2", "Breast Neoplasms", 0.4))
    queries = [_query(doc, 0, 13, bc), _query(doc, 15, 28, bc), _query(doc, 30, 50, tumors)]
    decided = [Decision("d", 0, 13, DecisionStatus.ACCEPTED, ("D2",))]
    rows = feature_rows(FeatureExtractor(KB), queries, {"d": doc}, decided)
    # "Tumors of the breast": D2 was ranked first by two mentions of another text.
    assert _column(rows[2], "doc_top_votes") == [0, 2]
    assert _column(rows[2], "doc_decided") == [0, 1]
    # "breast cancer" twice is one text: its own repeats are not evidence.
    assert _column(rows[0], "doc_top_votes") == [0, 0]
    assert _column(rows[0], "doc_list_votes") == [1, 0]
    evidence = document_evidence(queries)
    assert evidence.top_votes["tumors of the breast"]["D2"] == 2


def test_context_words_overlap_with_names_and_definition():
    doc = Document("d", "Growth of new tissue in the breast: a neoplasm.")
    ranked = (_candidate("D1", "Neoplasms", 0.8), _candidate("D4", "Pancreatic Cyst", 0.7))
    rows = feature_rows(FeatureExtractor(KB), [_query(doc, 38, 46, ranked)], {"d": doc})[0]
    overlap = _column(rows, "context_definition_overlap")
    assert overlap[0] > 0 and overlap[1] == 0


def test_corpus_lexicon_carries_training_links_to_unseen_variants():
    priors = AliasExtension.from_links([("breast cancer", ("D2",)), ("breast tumour", ("D2",)), ("cyst", ("D4",))], KB)
    lexicon = CorpusLexicon(priors)
    ranked = [_candidate("D2", "Breast Neoplasms", 0.5), _candidate("D4", "Pancreatic Cyst", 0.5)]
    annotated = lexicon.annotate("hereditary breast cancers", ranked)
    d2, d4 = (dict(c.stage_scores) for c in annotated)
    assert d2["word_concept"] > d4["word_concept"] == 0.0
    assert d2["concept_links"] > d4["concept_links"] > 0
    assert dict(CorpusLexicon(None).annotate("x", ranked)[0].stage_scores)["concept_links"] == 0.0
