"""`bel train` then `bel link-corpus --models` end to end: tiny KB, tiny PubTator corpus, tiny random model.

The models learn nothing useful in a few steps; the test checks the plumbing: the model
directory is complete and self-describing, link-corpus loads it and writes the scorer's
format, and the shared scorer accepts the predictions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bel_core.calibrate import lists as link_calibration
from bel_core.runtime.model_dir import read_manifest
from cli import main
from tests.conftest import REPO_ROOT
from tests.core.tiny_cross_encoder import save_tiny_cross_encoder

SCORER = REPO_ROOT.parent / "shared" / "eval" / "score.py"

# (title, abstract, [(surface, gold id)]): every surface is found in title + " " + abstract.
DOCS = [
    (
        "Seizures in a child.",
        "Global developmental delay (GDD) was seen. GDD was severe.",
        [
            ("Seizures", "HP:0001250"),
            ("Global developmental delay", "HP:0001263"),
            ("GDD", "HP:0001263"),
            ("GDD", "HP:0001263"),
        ],
    ),
    (
        "Short fingers and obesity.",
        "The boy had brachydactyly and was obese.",
        [("Short fingers", "HP:0001156"), ("obesity", "HP:0001513"), ("brachydactyly", "HP:0001156")],
    ),
    (
        "Atrial septal defect (ASD) in a family.",
        "ASD was repaired. Hearing loss followed.",
        [("Atrial septal defect", "HP:0001631"), ("ASD", "HP:0001631"), ("Hearing loss", "HP:0000365")],
    ),
    (
        "Autism and seizures.",
        "Autistic behavior (ASD) and fits were reported.",
        [("Autism", "HP:0000729"), ("seizures", "HP:0001250"), ("ASD", "HP:0000729"), ("fits", "HP:0001250")],
    ),
    (
        "Migraine with headache.",
        "Migraines and a small head were noted.",
        [("Migraine", "HP:0002076"), ("headache", "HP:0002315"), ("small head", "HP:0000252")],
    ),
    (
        "Deafness and short stature.",
        "Hypoacusis and small stature were seen.",
        [("Deafness", "HP:0000365"), ("short stature", "HP:0004322"), ("Hypoacusis", "HP:0000365")],
    ),
]


def pubtator(docs: list[tuple[str, str, list[tuple[str, str]]]], first_id: int) -> str:
    """PubTator text with offsets computed from the surfaces (first unused occurrence)."""
    lines: list[str] = []
    for n, (title, abstract, mentions) in enumerate(docs):
        pmid, text, cursor = str(first_id + n), f"{title} {abstract}", {}
        lines += [f"{pmid}|t|{title}", f"{pmid}|a|{abstract}"]
        for surface, cid in mentions:
            start = text.index(surface, cursor.get(surface, 0))
            cursor[surface] = start + 1
            lines.append(f"{pmid}\t{start}\t{start + len(surface)}\t{surface}\tPhenotype\t{cid}")
        lines.append("")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_kb_path: Path) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("train")
    base = save_tiny_cross_encoder(root / "base", num_labels=1)
    (root / "train.pubtator").write_text(pubtator(DOCS[:4], 100), encoding="utf-8")
    (root / "dev.pubtator").write_text(pubtator(DOCS[4:], 200), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("BEL_DATA_DIR", str(root / "data"))
    args = ["train", "--kb", str(tiny_kb_path), "--train", str(root / "train.pubtator")]
    args += ["--dev", str(root / "dev.pubtator"), "--out", str(root / "model"), "--base-model", str(base)]
    try:
        assert main([*args, "--synthetic", "40", "--seed", "3"]) == 0
    finally:
        mp.undo()
    return root, root / "model", root / "dev.pubtator"


def test_train_writes_a_self_describing_model_dir(trained: tuple[Path, Path, Path], tiny_kb) -> None:
    _, model, _ = trained
    manifest = read_manifest(model)
    assert set(manifest.components) == {"encoder", "reranker", "calibration", "calibration_sparse", "aliases"}
    assert manifest.kb.fingerprint == tiny_kb.fingerprint and manifest.kb.name == "TinyHPO"
    assert manifest.training["train"]["mentions"] == 14 + 40 and manifest.training["train"]["synthetic_mentions"] == 40
    assert manifest.training["dev"]["documents"] == 2 and manifest.seeds == {"seed": 3}
    calibration = manifest.metrics["calibration"]
    assert calibration["chosen"] in {"temperature_bucket", "isotonic", "logistic", "combined"}
    assert set(calibration["with_reranker"]["methods"]) <= {"temperature_bucket", "isotonic", "logistic", "combined"}
    assert isinstance(manifest.linker["rerank"], bool) and "rerank_gain_dev_acc@1" in calibration
    assert manifest.wall_time_s > 0 and manifest.machine["cpu_count"] and "bel train" in manifest.command
    assert manifest.linker["exact_first"] is True and manifest.linker["abbreviations"] == "long"
    aliases = [json.loads(line) for line in (model / "aliases.jsonl").read_text().splitlines()]
    assert {"text": "gdd", "alias": "GDD", "concept_id": "HP:0001263", "count": 2} in aliases


def test_link_corpus_with_models_is_scored_by_the_shared_scorer(
    trained: tuple[Path, Path, Path], tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, model, dev = trained
    monkeypatch.setenv("BEL_DATA_DIR", str(root / "data"))
    out = root / "preds.jsonl"
    assert main(["link-corpus", str(dev), "--kb", str(tiny_kb_path), "--models", str(model), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 6 and all(len(r["ranked"]) == len(r["probs"]) > 0 for r in rows)
    assert all(0.0 <= p <= 1.0 for r in rows for p in r["probs"])
    reranking = read_manifest(model).linker["rerank"]  # kept only when it raised dev accuracy
    assert all(("rerank[" in r["model_version"]) is reranking and "cal-" in r["model_version"] for r in rows)
    if not SCORER.exists():
        pytest.skip(f"shared scorer not found at {SCORER}")
    scored = subprocess.run(
        [sys.executable, str(SCORER), str(dev), str(out), "--json"], capture_output=True, text=True
    )
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout)["all_mentions"]
    assert report["n"] == 6 and report["missing_predictions"] == 0 and 0.0 <= report["acc@1"] <= 1.0


def test_link_corpus_without_dense_uses_the_calibration_fitted_for_it(
    trained: tuple[Path, Path, Path], tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, model, dev = trained
    monkeypatch.setenv("BEL_DATA_DIR", str(root / "data"))
    digests = {
        name: link_calibration.load(model / name).digest for name in ("calibration.json", "calibration-sparse.json")
    }
    versions = {}
    for flags in ([], ["--no-dense"]):
        out = root / f"preds{len(flags)}.jsonl"
        args = ["link-corpus", str(dev), "--kb", str(tiny_kb_path), "--models", str(model), "--out", str(out)]
        assert main([*args, *flags]) == 0
        versions[bool(flags)] = json.loads(out.read_text().splitlines()[0])["model_version"]
    assert versions[False].endswith(f"cal-{digests['calibration.json']}") and "dense[" in versions[False]
    assert versions[True].endswith(f"cal-{digests['calibration-sparse.json']}") and "dense[" not in versions[True]
    sparse = read_manifest(model).metrics["calibration"]["sparse_profile"]
    assert sparse["chosen"] in sparse["methods"]


def test_calibrate_refits_a_copy_of_the_model_dir_and_records_the_previous_fit(
    trained: tuple[Path, Path, Path], tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root, model, dev = trained
    monkeypatch.setenv("BEL_DATA_DIR", str(root / "data"))
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    # As a directory written before the TF-IDF-only profile had its own calibration:
    (copy / "calibration-sparse.json").unlink()
    data = json.loads((copy / "manifest.json").read_text())
    del data["components"]["calibration_sparse"]
    (copy / "manifest.json").write_text(json.dumps(data))
    before = read_manifest(copy)
    monkeypatch.setenv("BEL_DENSE_ENABLED", "false")  # the main calibration is still fitted on hybrid lists
    args = ["calibrate", "--models", str(copy), "--kb", str(tiny_kb_path), "--dev", str(dev)]
    assert main(args) == 0
    monkeypatch.delenv("BEL_DENSE_ENABLED")
    after = read_manifest(copy)
    assert after.components["calibration_sparse"] == "calibration-sparse.json"
    assert (copy / "calibration-sparse.json").is_file() and link_calibration.load(copy / "calibration.json")
    record = after.metrics["recalibrated"]
    assert record["previous_calibration"] == before.metrics["calibration"] and "bel calibrate" in record["command"]
    assert record["dev"]["mentions"] == 6 and after.metrics["calibration"]["chosen"]
    assert after.linker["rerank"] == after.metrics["calibration"]["rerank"]
    hybrid, sparse = (link_calibration.load(copy / f).digest for f in ("calibration.json", "calibration-sparse.json"))
    assert hybrid == link_calibration.load(model / "calibration.json").digest  # same dev, same lists, same fit
    assert sparse != hybrid
    out = tmp_path / "preds.jsonl"
    assert main(["link-corpus", str(dev), "--kb", str(tiny_kb_path), "--models", str(copy), "--out", str(out)]) == 0


def test_calibrate_on_a_corpus_without_known_ids_changes_nothing(
    trained: tuple[Path, Path, Path],
    tiny_kb_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, model, _ = trained
    monkeypatch.setenv("BEL_DATA_DIR", str(root / "data"))
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    saved = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    unknown = tmp_path / "unknown.pubtator"
    unknown.write_text("1|t|A fever.\n1|a|None.\n1\t2\t7\tfever\tPhenotype\tHP:9999999\n\n", encoding="utf-8")
    args = ["calibrate", "--models", str(copy), "--kb", str(tiny_kb_path), "--dev", str(unknown)]
    assert main(args) == 2
    assert "no mention with an id" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()} == saved


def test_link_corpus_refuses_a_model_dir_of_another_kb(
    trained: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root, model, dev = trained
    monkeypatch.setenv("BEL_DATA_DIR", str(root / "data"))
    other = REPO_ROOT / "tests" / "fixtures" / "kb_sample.tsv"
    args = ["link-corpus", str(dev), "--kb", str(other), "--models", str(model), "--out", str(root / "x.jsonl")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "was trained for KB TinyHPO" in err and "but the loaded KB is" in err


def test_train_needs_a_corpus_or_synthetic(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["train", "--kb", "hpo", "--out", str(tmp_path / "m")]) == 2
    assert "--synthetic" in capsys.readouterr().err


def test_train_from_synthetic_mentions_only(tmp_path: Path, tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    base = save_tiny_cross_encoder(tmp_path / "base", num_labels=1)
    out = tmp_path / "model"
    args = ["train", "--kb", str(tiny_kb_path), "--synthetic", "60", "--out", str(out), "--base-model", str(base)]
    assert main([*args, "--no-encoder-finetune"]) == 0
    manifest = read_manifest(out)
    # no corpus: no aliases; base encoder kept
    assert set(manifest.components) == {"reranker", "calibration", "calibration_sparse"}
    assert manifest.training["train"]["synthetic_mentions"] == manifest.training["train"]["mentions"] > 0
    assert manifest.training["dev"]["synthetic_mentions"] > 0  # dev split from the synthetic documents
