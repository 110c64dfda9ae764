"""`bel explain` on a tiny random cross-encoder: bare folder or `bel train` directory, and clear refusals."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bel_core.config import Settings
from bel_core.linking.builder import load_settings_kb
from bel_core.runtime.model_dir import KBIdentity, Manifest, write_manifest
from cli import main
from tests.core.tiny_cross_encoder import save_tiny_cross_encoder

PUBTATOR = """\
111|t|Seizures and microcephaly in a child.
111|a|She also had an atrial septal defect and small stature.
111\t0\t8\tSeizures\tPhenotype\tHP:0001250
111\t54\t74\tatrial septal defect\tPhenotype\tHP:0001631
"""


@pytest.fixture
def env(tmp_path: Path, tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BEL_KB", str(tiny_kb_path))
    (tmp_path / "corpus.pubtator").write_text(PUBTATOR, encoding="utf-8")
    save_tiny_cross_encoder(tmp_path / "ce", num_labels=2)
    return tmp_path


def _explain(env: Path, models: Path, *extra: str, doc: str = "111", span=(54, 74), concept="HP:0001631") -> int:
    args = ["explain", str(env / "corpus.pubtator"), "--models", str(models), "--doc-id", doc]
    args += ["--start", str(span[0]), "--end", str(span[1]), "--candidate", concept, "--out", str(env / "s.json")]
    return main([*args, *extra])


def test_explains_a_pair_with_a_bare_cross_encoder_folder(env: Path, capsys: pytest.CaptureFixture[str]):
    assert _explain(env, env / "ce", "--steps", "64") == 0
    payload = json.loads((env / "s.json").read_text(encoding="utf-8"))
    assert (payload["doc_id"], payload["start"], payload["end"], payload["mention"]) == (
        "111", 54, 74, "atrial septal defect",
    )  # fmt: skip
    assert payload["concept_id"] == "HP:0001631" and payload["linker"] == "reranker"
    assert payload["model_version"].startswith("ce@") and payload["n_steps"] == 64
    assert payload["segments"]["left"].startswith("mention: atrial septal defect ; context: Seizures and")
    assert (
        payload["segments"]["right"]
        == "candidate: Atrial septal defect ; tuis: Abnormality of the cardiovascular system"
    )
    total = sum(w["attribution"] for w in payload["words"])
    assert total - (payload["output"] - payload["baseline_output"]) == pytest.approx(payload["delta"], abs=1e-4)
    assert 0.0 < payload["score"] < 1.0
    left = payload["segments"]["left"]
    assert all(left[w["start"] : w["end"]] == w["text"] for w in payload["words"] if w["segment"] == "left")
    assert "most influential words" in capsys.readouterr().out


def test_reads_the_reranker_and_context_width_from_a_model_directory(env: Path):
    kb = load_settings_kb(Settings.load(env=os.environ))
    (env / "models").mkdir()
    (env / "ce").rename(env / "models" / "reranker")
    linker = {"rerank": False, "context_chars": 40}
    write_manifest(env / "models", Manifest(KBIdentity.of(kb), {"reranker": "reranker"}, linker))
    assert _explain(env, env / "models", "--steps", "4") == 0
    payload = json.loads((env / "s.json").read_text(encoding="utf-8"))
    context = payload["segments"]["left"].split(" ; context: ")[1]
    assert "atrial septal defect" in context and len(context) <= 40


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"doc": "999"}, "no document with id '999'"),
        ({"span": (70, 200)}, "span 70-200 is not inside document 111"),
        ({"concept": "HP:9999999"}, "Unknown concept id 'HP:9999999'"),
    ],
)
def test_rejects_unknown_documents_spans_and_concepts(env: Path, capsys, changes, message):
    assert _explain(env, env / "ce", **changes) == 2
    assert message in capsys.readouterr().err
    assert not (env / "s.json").exists()


def test_rejects_a_model_directory_trained_for_another_kb(env: Path, capsys):
    (env / "models").mkdir()
    (env / "ce").rename(env / "models" / "reranker")
    write_manifest(env / "models", Manifest(KBIdentity("Other", "1", "f" * 64), {"reranker": "reranker"}))
    assert _explain(env, env / "models") == 2
    assert "was trained for KB Other 1" in capsys.readouterr().err


def test_explains_the_generators_beam_for_a_concept(env: Path):
    from bel_core.generate.model import load_generator
    from tests.core.tiny_generators import save_tiny_llama

    kb = load_settings_kb(Settings.load(env=os.environ))
    save_tiny_llama(env / "gen" / "generator")
    linker = {"prompt_style": "syncabel", "num_beams": 3}
    manifest = Manifest(KBIdentity.of(kb), {"generator": "generator"}, linker, linker_kind="generator")
    write_manifest(env / "gen", manifest)
    assert _explain(env, env / "gen", "--linker", "generator", "--steps", "4") == 0
    payload = json.loads((env / "s.json").read_text(encoding="utf-8"))
    assert payload["linker"] == "generator" and payload["explained"] == "log_prob"
    assert "atrial septal defect" in payload["segments"]["prompt"]
    assert payload["segments"]["target"] in kb.get("HP:0001631").names  # the beam's name, or the preferred one
    generator = load_generator(str(env / "gen" / "generator"), device="cpu")
    assert payload["model_version"] == generator.version
    total = sum(w["attribution"] for w in payload["words"])
    assert total - (payload["output"] - payload["baseline_output"]) == pytest.approx(payload["delta"], abs=1e-3)
