"""`bel train --linker generator` and `bel link-corpus --linker generator` end to end on tiny models.

Tiny random models learn nothing useful in a few steps; the tests check the plumbing: training
runs through the CLI code path and writes a self-describing generator directory, link-corpus
loads it (or a bare generator folder) and writes the shared scorer's format.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bel_core.runtime.model_dir import read_manifest
from cli import main
from tests.cli.test_train_cli import DOCS, SCORER, pubtator
from tests.core.tiny_cross_encoder import save_tiny_cross_encoder
from tests.core.tiny_generators import save_tiny_llama


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_kb_path: Path) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("gen")
    base = save_tiny_llama(root / "base")
    (root / "train.pubtator").write_text(pubtator(DOCS[:4], 100), encoding="utf-8")
    (root / "dev.pubtator").write_text(pubtator(DOCS[4:], 200), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("BEL_DATA_DIR", str(root / "data"))
    args = ["train", "--linker", "generator", "--kb", str(tiny_kb_path), "--train", str(root / "train.pubtator")]
    args += ["--dev", str(root / "dev.pubtator"), "--out", str(root / "model"), "--base-model", str(base)]
    try:
        assert main([*args, "--synthetic", "20", "--seed", "3", "--batch-size", "8", "--beams", "3"]) == 0
    finally:
        mp.undo()
    return root, root / "model", root / "dev.pubtator"


def test_train_generator_writes_a_self_describing_model_dir(
    trained: tuple[Path, Path, Path], tiny_kb, capsys: pytest.CaptureFixture[str]
) -> None:
    _, model, _ = trained
    manifest = read_manifest(model)
    assert manifest.linker_kind == "generator" and manifest.components["generator"] == "generator"
    assert manifest.kb.fingerprint == tiny_kb.fingerprint and manifest.seeds == {"seed": 3}
    assert manifest.linker["prompt_style"] == "longbel" and manifest.linker["num_beams"] == 3
    assert manifest.linker["prompt"]["groups"] == ["Phenotype"]  # the corpus labels; synthetic ones are hidden
    assert manifest.linker["prompt"]["context_chars"] == 400  # the longbel default with a corpus
    training = manifest.training
    assert training["train"]["mentions"] == 14 + 20 and training["dev"]["mentions"] == 6
    assert training["steps"] == training["planned_steps"] == 34 // 8 and training["model"].startswith("fine-tuned")
    assert training["first_loss"] > 0 and training["weights_bytes"] > 0
    dev = manifest.metrics["dev"]
    assert dev["n"] == 6 and 0 <= dev["acc@1"] <= dev["acc@5"] <= 1
    assert "bel train --linker generator" in manifest.command and "--beams 3" in manifest.command
    assert (model / "generator" / "model.safetensors").is_file()
    assert ("calibration" in manifest.components) == (model / "calibration.json").is_file()


def test_link_corpus_with_a_generator_writes_the_scorer_format(
    trained: tuple[Path, Path, Path], tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, model, dev = trained
    monkeypatch.setenv("BEL_DATA_DIR", str(root / "data"))
    out = root / "preds.jsonl"
    args = ["link-corpus", str(dev), "--kb", str(tiny_kb_path), "--linker", "generator", "--models", str(model)]
    assert main([*args, "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 6 and all({"doc_id", "start", "end", "ranked", "probs"} <= set(r) for r in rows)
    assert all(0 < len(r["ranked"]) == len(r["probs"]) <= 3 for r in rows)
    assert all(
        r["model_version"].startswith("gen:generator@") and ":longbel:constrained:b3" in r["model_version"]
        for r in rows
    )
    if not SCORER.exists():
        pytest.skip(f"shared scorer not found at {SCORER}")
    scored = subprocess.run(
        [sys.executable, str(SCORER), str(dev), str(out), "--json"], capture_output=True, text=True
    )
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["all_mentions"]["missing_predictions"] == 0


def test_link_corpus_takes_a_bare_generator_folder_and_a_prompt_style(
    trained: tuple[Path, Path, Path], tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, model, dev = trained
    monkeypatch.setenv("BEL_DATA_DIR", str(root / "data"))
    out = root / "bare.jsonl"
    args = ["link-corpus", str(dev), "--kb", str(tiny_kb_path), "--linker", "generator"]
    assert main([*args, "--models", str(model / "generator"), "--prompt-style", "syncabel", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 6 and all(":syncabel:constrained:b5" in r["model_version"] for r in rows)
    assert all(p == 0.0 for r in rows for p in r["probs"])  # a bare folder has no calibration


def test_link_corpus_generator_refuses_a_retriever_dir(
    tmp_path: Path, tiny_kb_path: Path, tiny_kb, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bel_core.runtime.model_dir import KBIdentity, Manifest, write_manifest

    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    write_manifest(tmp_path / "r", Manifest(kb=KBIdentity.of(tiny_kb)))
    (tmp_path / "c.pubtator").write_text(pubtator(DOCS[4:], 200), encoding="utf-8")
    args = ["link-corpus", str(tmp_path / "c.pubtator"), "--kb", str(tiny_kb_path), "--linker", "generator"]
    assert main([*args, "--models", str(tmp_path / "r"), "--out", str(tmp_path / "x.jsonl")]) == 2
    assert "not a generator" in capsys.readouterr().err


def test_train_generator_from_an_encoder_builds_a_small_llama(
    tmp_path: Path, tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    encoder = save_tiny_cross_encoder(tmp_path / "encoder", num_labels=1)
    out = tmp_path / "model"
    args = ["train", "--linker", "generator", "--kb", str(tiny_kb_path), "--synthetic", "40", "--out", str(out)]
    args += ["--base-model", str(encoder), "--hidden", "16", "--layers", "1", "--batch-size", "16"]
    assert main(args) == 0  # synthetic only: the sentence style by default
    manifest = read_manifest(out)
    assert manifest.training["model"].startswith("small Llama 1x16") and manifest.training["steps"] == 34 // 16
    assert manifest.linker["prompt_style"] == "syncabel" and manifest.training["dev"]["synthetic_mentions"] == 6
    assert manifest.linker["prompt"]["groups"] == []  # synthetic mentions only: every mention is ENTITY
    assert manifest.linker["prompt"]["context_chars"] == 0  # ... and no context (templates say nothing)
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(out / "generator")
    assert config.model_type == "llama" and config.tie_word_embeddings and str(config.dtype).endswith("float16")


def test_link_corpus_retriever_refuses_a_generator_dir(
    trained: tuple[Path, Path, Path], tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    root, model, dev = trained
    monkeypatch.setenv("BEL_DATA_DIR", str(root / "data"))
    args = ["link-corpus", str(dev), "--kb", str(tiny_kb_path), "--models", str(model), "--out", str(root / "r.jsonl")]
    assert main(args) == 2  # the default --linker is still the retriever
    assert "holds a generator linker; load it with --linker generator" in capsys.readouterr().err


def test_calibrate_refuses_a_generator_dir_and_leaves_it_alone(
    trained: tuple[Path, Path, Path], tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    root, model, dev = trained
    monkeypatch.setenv("BEL_DATA_DIR", str(root / "data"))
    before = (model / "manifest.json").read_bytes()
    assert main(["calibrate", "--models", str(model), "--kb", str(tiny_kb_path), "--dev", str(dev)]) == 2
    assert "`bel calibrate` refits retriever linkers" in capsys.readouterr().err
    assert (model / "manifest.json").read_bytes() == before
