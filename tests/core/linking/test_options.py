"""LinkOptions' manifest JSON, the injected stages, and which calibration a model directory's reranker gets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bel_core.calibrate import lists as link_calibration
from bel_core.calibrate.margin import TemperatureBucketCalibrator
from bel_core.calibrate.scores import ScoreCalibrator
from bel_core.config import KBConfig, RetrievalConfig, Settings
from bel_core.kb.loaders import load_jsonl
from bel_core.linking.memory import MemoryConfig
from bel_core.linking.options import LinkOptions
from bel_core.linking.pipeline import LinkingPipeline
from bel_core.runtime.model_dir import KBIdentity, Manifest, write_manifest
from bel_core.types import Mention
from tests.core.tiny_cross_encoder import save_tiny_cross_encoder


def test_options_round_trip_through_json():
    options = LinkOptions(
        abbreviations="both",
        exact_first=True,
        rerank_depth=8,
        prior_over_reranker=True,
        context_chars=64,
        memory=MemoryConfig(threshold=0.8, related=True),
        top_k=4,
        dense_weight=0.7,
    )
    data = json.loads(json.dumps(options.to_json()))
    assert LinkOptions.from_json(data) == options
    assert LinkOptions.from_json({**data, "memory": None}).memory is None
    assert data["prior_over_reranker"] is True  # written, so a model directory keeps it


def test_missing_keys_keep_the_base_and_loading_keys_are_ignored():
    base = LinkOptions(top_k=7, dense_weight=0.6)
    options = LinkOptions.from_json({"rerank_depth": "12", "rerank": True, "reranker_batch_size": 64}, base=base)
    assert options == LinkOptions(rerank_depth=12, top_k=7, dense_weight=0.6)
    assert LinkOptions.from_json({}) == LinkOptions()  # one set of defaults: exact_first off, as the embedded default


def test_evolve_builds_a_new_pipeline_over_the_same_stages(tiny_kb_path: Path, tmp_path: Path):
    settings = _settings(tmp_path / "data", tiny_kb_path)
    linker = LinkingPipeline.from_settings(settings)
    plain = linker.evolve(options=LinkOptions(top_k=2), calibrator=None)
    assert plain.calibrator is None and plain.top_k == 2 and plain.tfidf is linker.tfidf
    assert linker.calibrator is not None and linker.top_k == 5  # the original is unchanged
    (result,) = plain.link([Mention("d", 0, 8, "seizures")])
    assert len(result.candidates) == 2 and result.top.calibrated_score is None


@pytest.mark.parametrize("final", [True, False])
def test_a_model_directory_decides_which_calibration_its_reranker_gets(tiny_kb_path: Path, tmp_path: Path, final):
    kb = load_jsonl(tiny_kb_path)
    reranker_dir = save_tiny_cross_encoder(tmp_path / "reranker", num_labels=1)
    own = TemperatureBucketCalibrator(2.0, [0.0, 0.5, 1.0], [0.1, -0.1])
    (reranker_dir / "calibration.json").write_text(json.dumps(own.to_json()), encoding="utf-8")
    components = {"reranker": "reranker"}
    if final:
        link_calibration.save(ScoreCalibrator([4, 1, 1, 1, 0, 0, 0], -3.0), tmp_path / "calibration.json")
        components["calibration"] = "calibration.json"
    write_manifest(tmp_path, Manifest(KBIdentity.of(kb), components, {"rerank": True, "exact_first": True}))
    linker = LinkingPipeline.from_settings(_settings(tmp_path / "data", tiny_kb_path, models_dir=str(tmp_path)))
    assert linker.reranker is not None
    # The final calibration replaces every probability: the reranker's own one is loaded only without it.
    assert (linker.reranker.calibrator is None) is final
    assert (linker.calibrator is not None) is final
    (result,) = linker.link([Mention("d", 0, 8, "seizures")])
    assert all(c.calibrated_score is not None for c in result.candidates)


def _settings(data_dir: Path, kb_path: Path, **retrieval: object) -> Settings:
    return Settings(
        data_dir=data_dir,
        kb=KBConfig(source=str(kb_path), format="jsonl", roots=()),
        retrieval=RetrievalConfig(top_k=5, dense_enabled=False, **retrieval),  # type: ignore[arg-type]
    )
