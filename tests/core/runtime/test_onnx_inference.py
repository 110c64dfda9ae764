"""ONNX Runtime inference: export of tiny random models, same scores as PyTorch, caching, fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from bel_core.config import ConfigError, Settings
from bel_core.rerank.cross_encoder import CrossEncoderReranker, serialize_left, serialize_right
from bel_core.retrieve.dense import DenseRetriever, resolve_encoder
from bel_core.runtime import onnx as onnx_inference
from tests.core.tiny_cross_encoder import save_tiny_cross_encoder

LEFTS = [
    serialize_left("seizures", "she had seizures at night"),
    serialize_left("asd", "an asd was closed"),
    serialize_left("short stature", "the boy was of short stature since birth, unlike his two brothers"),
]
RIGHTS = [
    serialize_right("Seizure", ["T184"]),
    serialize_right("Atrial septal defect", ["T019", "T047"]),
    serialize_right("Short stature", []),
]


@pytest.fixture(scope="module", params=[1, 2], ids=["one-label", "two-label"])
def classifier_dir(request, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_cross_encoder(tmp_path_factory.mktemp(f"ce{request.param}"), num_labels=request.param)


@pytest.fixture(scope="module")
def cache(classifier_dir, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache per model for the tests that may share exports (an export takes seconds)."""
    return tmp_path_factory.mktemp("cache")


def test_reranker_margins_through_onnx_match_pytorch(classifier_dir, cache):
    torch_model = CrossEncoderReranker.load(str(classifier_dir))
    onnx_model = CrossEncoderReranker.load(str(classifier_dir), runtime="onnx", cache_dir=cache)
    assert onnx_model.onnx is not None and torch_model.onnx is None
    assert onnx_model.version == torch_model.version  # same weights, same numbers: same version
    expected = torch_model.margins(LEFTS, RIGHTS)
    got = onnx_model.margins(LEFTS, RIGHTS)
    assert np.ptp(expected) > 0.1  # distinct pairs score differently, so the comparison means something
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert onnx_model.onnx.path.parent == cache / "onnx" and onnx_model.onnx.path.is_file()
    assert onnx_model.margins([], []).shape == (0,)


def test_exported_file_is_reused_without_exporting_again(classifier_dir, cache, monkeypatch):
    CrossEncoderReranker.load(str(classifier_dir), runtime="onnx", cache_dir=cache)

    def refuse(*args, **kwargs):
        raise AssertionError("exported again although the file is cached")

    monkeypatch.setattr(onnx_inference, "export", refuse)
    again = CrossEncoderReranker.load(str(classifier_dir), runtime="onnx", cache_dir=cache)
    assert again.onnx is not None
    assert again.margins(LEFTS[:1], RIGHTS[:1]).shape == (1,)


def test_onnx_int8_is_smaller_keeps_a_float_model_for_saliency_and_says_so(classifier_dir, cache):
    reference = CrossEncoderReranker.load(str(classifier_dir)).margins(LEFTS, RIGHTS)
    quantized = CrossEncoderReranker.load(str(classifier_dir), runtime="onnx", cache_dir=cache, quantize=True)
    assert quantized.version.endswith("+int8-onnx")
    assert not quantized.quantized  # the PyTorch model stays float: gradients (saliency) still work
    files = {p.name: p.stat().st_size for p in (cache / "onnx").glob("*.onnx")}
    (int8,) = [size for name, size in files.items() if name.endswith("-int8.onnx")]
    (fp32,) = [size for name, size in files.items() if not name.endswith("-int8.onnx")]
    assert int8 < fp32
    margins = quantized.margins(LEFTS, RIGHTS)
    assert np.all(np.isfinite(margins)) and not np.allclose(margins, reference, atol=1e-6)


def test_failed_export_falls_back_to_pytorch_with_a_warning(classifier_dir, tmp_path, monkeypatch, caplog):
    import torch

    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with caplog.at_level(logging.WARNING, logger="bel_core.runtime.onnx"):
        reranker = CrossEncoderReranker.load(str(classifier_dir), runtime="onnx", cache_dir=tmp_path, quantize=True)
    assert reranker.onnx is None and reranker.quantized  # PyTorch, with its own int8
    assert "ONNX export failed (RuntimeError: unsupported operator)" in caplog.text
    assert not list((tmp_path / "onnx").iterdir())  # no half-written file left behind
    assert reranker.margins(LEFTS, RIGHTS).shape == (3,)


def test_unknown_runtime_is_refused(classifier_dir, tmp_path):
    with pytest.raises(ValueError, match="runtime must be one of"):
        CrossEncoderReranker.load(str(classifier_dir), runtime="tensorrt", cache_dir=tmp_path)


def test_dense_index_and_queries_through_onnx_match_pytorch(tiny_kb, tiny_model_dir, tmp_path):
    spec = resolve_encoder(str(tiny_model_dir))
    with_torch = DenseRetriever.build(tiny_kb, spec, cache_dir=tmp_path / "torch", batch_size=4)
    with_onnx = DenseRetriever.build(tiny_kb, spec, cache_dir=tmp_path / "onnx", batch_size=4, runtime="onnx")
    assert with_onnx.onnx is not None and with_torch.onnx is None
    n = with_torch.index.ntotal
    np.testing.assert_allclose(with_onnx.index.reconstruct_n(0, n), with_torch.index.reconstruct_n(0, n), atol=1e-5)
    queries = ["short stature in a boy", "hole in the heart wall", "fits at night"]
    for a, b in zip(with_onnx.retrieve(queries, 5), with_torch.retrieve(queries, 5), strict=True):
        assert [c.concept_id for c in a] == [c.concept_id for c in b]
        np.testing.assert_allclose([c.raw_score for c in a], [c.raw_score for c in b], atol=1e-5)


def test_runtime_setting_from_toml_and_env(tmp_path):
    assert Settings.load(None, env={}).inference.runtime == "onnx"
    assert Settings.load(None, env={"BEL_RUNTIME": "torch"}).inference.runtime == "torch"
    config = tmp_path / "bel.toml"
    config.write_text('[inference]\nruntime = "torch"\n')
    assert Settings.load(config, env={}).inference.runtime == "torch"
    with pytest.raises(ConfigError, match="inference.runtime must be 'onnx' or 'torch'"):
        Settings.load(None, env={"BEL_RUNTIME": "gpu"})
