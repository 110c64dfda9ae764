"""LinkingPipeline end to end on the tiny KB: TF-IDF only, and hybrid with the tiny model."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bel_core.config import KBConfig, RetrievalConfig, Settings
from bel_core.errors import UnknownConceptError
from bel_core.linking import pipeline as pipeline_module
from bel_core.linking.options import LinkOptions
from bel_core.linking.pipeline import LinkingPipeline
from bel_core.retrieve.fusion import fuse
from bel_core.types import Candidate, Decision, DecisionStatus, Document, Mention, MentionOrigin

TEXT = "The child had seizures, an ASD and short fingers."


def _settings(data_dir: Path, kb_path: Path, **retrieval: object) -> Settings:
    return Settings(
        data_dir=data_dir,
        kb=KBConfig(source=str(kb_path), format="jsonl", roots=()),
        retrieval=RetrievalConfig(top_k=5, **retrieval),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def sparse_pipeline(tiny_kb_path, tmp_path_factory):
    steps: list[tuple[str, int, int]] = []
    settings = _settings(tmp_path_factory.mktemp("data"), tiny_kb_path, dense_enabled=False)
    linker = LinkingPipeline.from_settings(settings, progress=lambda *a: steps.append(a))
    return linker, settings, steps


@pytest.fixture(scope="module")
def hybrid_pipeline(tiny_kb_path, tiny_model_dir, tmp_path_factory):
    settings = _settings(tmp_path_factory.mktemp("data"), tiny_kb_path, dense_model=str(tiny_model_dir))
    return LinkingPipeline.from_settings(settings)


def _mentions(linker: LinkingPipeline) -> dict[str, Mention]:
    return {m.text: m for m in linker.detect(Document("d1", TEXT))}


def test_sparse_end_to_end(sparse_pipeline):
    linker, _, steps = sparse_pipeline
    mentions = _mentions(linker)
    assert set(mentions) >= {"seizures", "ASD", "short fingers"}
    results = {r.mention.text: r for r in linker.link(list(mentions.values()))}
    top = results["seizures"].top
    assert top is not None
    assert (top.concept_id, top.matched_alias, top.stage, top.raw_score) == ("HP:0001250", "Seizures", "tfidf", 1.0)
    assert top.stage_scores == (("tfidf", 1.0), ("fused", 1.0), ("retrieval_rank", 0.0), ("prior", 0.0))
    assert 0.0 < top.calibrated_score < 1.0
    asd = results["ASD"].candidates
    assert {c.concept_id for c in asd[:2]} == {"HP:0001631", "HP:0000729"}
    assert asd[0].calibrated_score == asd[1].calibrated_score < top.calibrated_score  # ambiguity costs confidence
    assert all(len(r.candidates) <= 5 for r in results.values())
    assert results["seizures"].model_version == linker.model_version
    assert [s for s, _, _ in steps] == ["kb", "kb", "tfidf", "tfidf", "calibrate", "calibrate"]


def test_versions(sparse_pipeline):
    linker, _, _ = sparse_pipeline
    assert linker.model_version.startswith("tfidf-char2-4+cal-")
    assert linker.kb_version.startswith("TinyHPO:tiny-1:")


def test_calibration_report_and_cache(sparse_pipeline, monkeypatch):
    linker, settings, _ = sparse_pipeline
    report = linker.calibration_report
    assert report is not None and report.n_test_queries > 0 and 0 < report.exact_fraction < 1
    assert 0 <= report.ece_calibrated <= 1 and 0 <= report.brier_calibrated <= 1
    assert len(list((settings.cache_dir / "calibration").glob("*.json"))) == 1
    monkeypatch.setattr(pipeline_module, "fit_on_kb", lambda *a, **k: pytest.fail("calibrator refitted"))
    again = LinkingPipeline.from_settings(settings)
    assert again.model_version == linker.model_version and again.calibration_report == report


def test_link_ranks_each_distinct_text_once(sparse_pipeline, monkeypatch):
    linker, _, _ = sparse_pipeline
    seen: list[list[str]] = []
    original = linker.rank
    monkeypatch.setattr(linker, "rank", lambda queries, exclude=None: seen.append(list(queries)) or original(queries))
    mentions = [Mention("d", 0, 8, "seizures", origin=MentionOrigin.MANUAL), Mention("d", 20, 28, "seizures")]
    results = linker.link(mentions)
    assert seen == [["seizures"]]
    assert [r.mention for r in results] == mentions and results[0].candidates == results[1].candidates
    assert linker.link([]) == []


def test_mentions_sharing_a_query_are_annotated_and_calibrated_once(sparse_pipeline, monkeypatch):
    linker, _, _ = sparse_pipeline
    assert linker.calibrator is not None
    applied: list[list[str]] = []
    original = linker.calibrator.apply
    monkeypatch.setattr(
        linker.calibrator, "apply", lambda ranked: applied.append([c.concept_id for c in ranked]) or original(ranked)
    )
    annotated: list[str] = []
    annotate = pipeline_module.annotate
    monkeypatch.setattr(pipeline_module, "annotate", lambda q, r, p: annotated.append(q) or annotate(q, r, p))
    texts = [(0, "seizures"), (20, "seizures"), (30, "short fingers")]
    mentions = [Mention("d", start, start + len(text), text) for start, text in texts]
    lists = linker.retrieve(mentions)
    assert annotated == ["seizures", "short fingers"]
    assert lists[0] == lists[1] and lists[0] is not lists[1]  # copies: a caller may change one
    lists[0].clear()
    assert linker.retrieve(mentions[:1])[0] == lists[1]
    results = linker.link(mentions)
    assert len(applied) == 2  # one calibration per distinct list
    assert results[0].candidates == results[1].candidates
    assert results[0].candidates[0].calibrated_score == original(lists[1])[0].calibrated_score


def test_search_and_concept(sparse_pipeline):
    linker, _, _ = sparse_pipeline
    assert linker.search_kb("HP:0002279")[0].concept_id == "HP:0001250"  # alt id
    assert linker.concept("HP:0001250").name == "Seizure"
    with pytest.raises(UnknownConceptError):
        linker.concept("HP:9999999")


def test_hybrid_end_to_end(hybrid_pipeline):
    linker = hybrid_pipeline
    results = {r.mention.text: r for r in linker.link(list(_mentions(linker).values()))}
    top = results["seizures"].top
    assert top is not None and (top.concept_id, top.stage) == ("HP:0001250", "hybrid")
    scores = dict(top.stage_scores)
    assert set(scores) == {"tfidf", "dense", "fused", "retrieval_rank", "prior"} and scores["tfidf"] == 1.0
    assert top.raw_score == pytest.approx(0.5 * scores["tfidf"] + 0.5 * scores["dense"])
    assert scores["dense"] == pytest.approx(1.0, abs=1e-5)
    assert {c.concept_id for c in results["ASD"].candidates[:2]} == {"HP:0001631", "HP:0000729"}
    assert "+dense[" in linker.model_version and linker.dense is not None
    assert linker.dense.spec.version in linker.model_version


def _cand(cid: str, score: float, stage: str) -> Candidate:
    return Candidate(cid, cid, cid.lower(), stage, score)


def test_fuse_uses_last_score_as_floor_only_for_full_lists():
    tfidf = [_cand("A", 0.9, "tfidf"), _cand("B", 0.5, "tfidf")]
    dense = [_cand("C", 0.8, "dense"), _cand("A", 0.6, "dense")]
    full = fuse(tfidf, dense, weight=0.5, depth=2, k=5)
    assert [(c.concept_id, round(c.raw_score, 3)) for c in full] == [("A", 0.75), ("C", 0.65), ("B", 0.55)]
    assert dict(full[1].stage_scores) == {"tfidf": 0.5, "dense": 0.8}  # C: tfidf floor = B's 0.5
    short = fuse(tfidf, dense, weight=0.5, depth=3, k=2)  # lists shorter than depth: floor 0
    assert [(c.concept_id, round(c.raw_score, 3)) for c in short] == [("A", 0.75), ("C", 0.4)]
    assert full[0].stage == "hybrid" and full[0].matched_alias == "a"


# --- documents, priors, reranker, NIL, model directories ---------------------------------

ABBR_TEXT = "Atrial septal defect (ASD) was repaired. ASD recurred."


def _abbr_mentions() -> tuple[Document, list[Mention]]:
    doc = Document("d2", ABBR_TEXT)
    second = ABBR_TEXT.index("ASD", 30)
    return doc, [Mention("d2", 22, 25, "ASD"), Mention("d2", second, second + 3, "ASD")]


def test_documents_expand_defined_abbreviations(sparse_pipeline):
    linker, _, _ = sparse_pipeline
    doc, mentions = _abbr_mentions()
    alone = linker.link(mentions)
    assert {c.concept_id for c in alone[0].candidates[:2]} == {"HP:0001631", "HP:0000729"}  # ambiguous alone
    with_doc = linker.link(mentions, documents={"d2": doc})
    assert [r.top.concept_id for r in with_doc] == ["HP:0001631", "HP:0001631"]
    assert with_doc[0].top.calibrated_score > alone[0].top.calibrated_score


def test_nil_probability_is_the_mass_left_over(sparse_pipeline):
    linker, _, _ = sparse_pipeline
    (result,) = linker.link([Mention("d", 0, 8, "seizures")])
    total = sum(c.calibrated_score for c in result.candidates)
    assert result.nil_probability == pytest.approx(max(0.0, 1.0 - total))
    assert pipeline_module.nil_probability([_cand("A", 0.5, "x")]) is None  # uncalibrated


def test_exact_first_orders_exact_hits_by_training_counts(sparse_pipeline):
    from bel_core.retrieve.priors import AliasExtension

    linker, _, _ = sparse_pipeline
    priors = AliasExtension.from_links(
        [("ASD", ("HP:0000729",)), ("asd", ("HP:0000729",)), ("ASD", ("HP:0001631",))], linker.kb
    )
    trained = linker.evolve(options=LinkOptions(exact_first=True, top_k=5), priors=priors, calibrator=None)
    (ranked,) = trained.retrieve([Mention("d", 0, 3, "ASD")])
    assert [c.concept_id for c in ranked[:2]] == ["HP:0000729", "HP:0001631"]
    assert "priors[2]" in trained.model_version


def test_reranker_stage_and_memory(sparse_pipeline, tmp_path):
    from bel_core.rerank.cross_encoder import CrossEncoderReranker
    from tests.core.tiny_cross_encoder import save_tiny_cross_encoder

    linker, _, _ = sparse_pipeline
    reranker = CrossEncoderReranker.load(str(save_tiny_cross_encoder(tmp_path / "ce", num_labels=1)))
    reranking = linker.evolve(options=LinkOptions(rerank_depth=4, top_k=3), reranker=reranker, calibrator=None)
    doc, mentions = _abbr_mentions()
    results = reranking.link(mentions, documents={"d2": doc})
    assert all(r.top.stage == "reranker" and len(r.candidates) == 3 for r in results)
    assert all(r.top.calibrated_score is None and r.nil_probability is None for r in results)  # no calibration
    assert "rerank[" in reranking.model_version
    decision = Decision("d2", 22, 25, DecisionStatus.CORRECTED, ("HP:0000729",))
    decided = reranking.link(mentions, documents={"d2": doc}, decisions=[decision])
    assert decided[1].top.concept_id == "HP:0000729" and decided[1].top.stage_scores[-1][0] == "memory:decision"
    unknown = Decision("d2", 22, 25, DecisionStatus.CORRECTED, ("HP:9999999",))  # another KB version's id
    assert reranking.link(mentions, documents={"d2": doc}, decisions=[unknown])[1].top.stage == "reranker"


def test_dev_lists_for_calibration_keep_every_reranked_candidate(sparse_pipeline, tmp_path):
    from bel_core.rerank.cross_encoder import CrossEncoderReranker
    from bel_core.training.corpus import LabelledSplit
    from bel_core.training.pairs import GoldMention
    from bel_core.training.train_linker import dev_lists
    from tests.core.tiny_cross_encoder import save_tiny_cross_encoder

    linker, _, _ = sparse_pipeline
    reranker = CrossEncoderReranker.load(str(save_tiny_cross_encoder(tmp_path / "ce", num_labels=1)))
    reranking = linker.evolve(options=LinkOptions(rerank_depth=5, top_k=3), reranker=reranker, calibrator=None)
    doc, mentions = _abbr_mentions()
    dev = LabelledSplit(tuple(GoldMention(m, "", ("HP:0001631",)) for m in mentions), {"d2": doc})
    lists, labels = dev_lists(reranking, dev)
    # The final calibrator re-sorts all rerank_depth candidates before the cut to top_k: fit it on as many.
    assert [len(r) for r in lists] == [5, 5] and [len(y) for y in labels] == [5, 5]
    assert all(sum(y) == 1 for y in labels) and reranking.top_k == 3


def test_from_model_dir_loads_priors_and_calibration(tiny_kb_path, tmp_path):
    from bel_core.calibrate import lists as link_calibration
    from bel_core.calibrate.scores import ScoreCalibrator
    from bel_core.kb.loaders import load_jsonl
    from bel_core.retrieve.priors import AliasExtension
    from bel_core.runtime.model_dir import KBIdentity, Manifest, write_manifest

    kb = load_jsonl(tiny_kb_path)
    AliasExtension.from_links([("fitting spells", ("HP:0001250",))], kb).save(tmp_path / "aliases.jsonl")
    link_calibration.save(ScoreCalibrator([4, 1, 1, 1, 0, 0, 0], -3.0), tmp_path / "calibration.json")
    components = {"aliases": "aliases.jsonl", "calibration": "calibration.json"}
    linker_options = {"top_k": 4, "exact_first": True, "memory": None, "abbreviations": "off"}
    write_manifest(tmp_path, Manifest(KBIdentity.of(kb), components, linker_options))
    settings = _settings(tmp_path / "data", tiny_kb_path, dense_enabled=False, models_dir=str(tmp_path))
    linker = LinkingPipeline.from_settings(settings)
    assert linker.options.memory is None and linker.options.abbreviations == "off" and linker.top_k == 4
    (result,) = linker.link([Mention("d", 0, 14, "fitting spells")])
    assert result.top.concept_id == "HP:0001250" and result.top.matched_alias == "fitting spells"
    assert result.top.calibrated_score == pytest.approx(1 / (1 + math.exp(-(4 + 1 + 1 + 1 - 3))), abs=0.05)
    assert linker.kb_version.startswith("TinyHPO:tiny-1+1 training aliases:")


def test_warm_up_loads_the_lazy_query_encoder(hybrid_pipeline, monkeypatch):
    from bel_core.retrieve.dense import DenseRetriever

    dense = hybrid_pipeline.dense
    fresh = DenseRetriever(dense.table, dense.index, dense.spec)  # as from the index cache: no encoder yet
    loads = []
    monkeypatch.setattr(fresh, "model", lambda: loads.append("encoder"))
    hybrid_pipeline.evolve(dense=fresh).warm_up()
    assert loads == ["encoder"]
