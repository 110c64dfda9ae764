"""The `bel` command line end to end on the tiny KB (TF-IDF only, temp data dir)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main

PUBTATOR = """\
111|t|Seizures and microcephaly in a child.
111|a|She also had an atrial septal defect and small stature.
111\t0\t8\tSeizures\tPhenotype\tHP:0001250
111\t13\t25\tmicrocephaly\tPhenotype\tHP:0000252
111\t54\t74\tatrial septal defect\tPhenotype\tHP:0001631
111\t79\t92\tsmall stature\tPhenotype\tHP:0004322
"""


@pytest.fixture
def env(tmp_path: Path, tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BEL_KB", str(tiny_kb_path))
    monkeypatch.setenv("BEL_DENSE_ENABLED", "0")
    (tmp_path / "corpus.pubtator").write_text(PUBTATOR, encoding="utf-8")
    return tmp_path


def test_link_corpus_writes_scorer_format(env: Path, capsys: pytest.CaptureFixture[str]):
    out = env / "preds.jsonl"
    assert main(["link-corpus", str(env / "corpus.pubtator"), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    spans = [(r["doc_id"], r["start"], r["end"]) for r in rows]
    assert spans == [("111", 0, 8), ("111", 13, 25), ("111", 54, 74), ("111", 79, 92)]
    assert [r["ranked"][0] for r in rows] == ["HP:0001250", "HP:0000252", "HP:0001631", "HP:0004322"]
    assert all(len(r["probs"]) == len(r["ranked"]) and 0 <= r["probs"][0] <= 1 for r in rows)
    assert "linked 4 mentions" in capsys.readouterr().out


def test_evaluate_reports_accuracy(env: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["evaluate", str(env / "corpus.pubtator")]) == 0
    text = capsys.readouterr().out
    assert "mentions scored: 4" in text and "acc@1: 1.0000" in text and "ECE" in text


def test_link_detects_mentions_in_plain_text(env: Path):
    note = env / "note.txt"
    note.write_text("Recurrent seizures with hearing loss.", encoding="utf-8")
    out = env / "links.jsonl"
    assert main(["link", str(note), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    links = [(r["mention"], r["ranked"][0]) for r in rows]
    assert links == [("seizures", "HP:0001250"), ("hearing loss", "HP:0000365")]


def test_import_as_gold_then_export_pubtator(env: Path):
    db_url = f"sqlite:///{env / 'cli.db'}"
    assert main(["--db", db_url, "import", str(env / "corpus.pubtator"), "--as", "gold"]) == 0
    out = env / "gold.pubtator"
    assert main(["--db", db_url, "export", "--format", "pubtator", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "111|t|Seizures and microcephaly in a child."
    assert "111\t54\t74\tatrial septal defect\tPhenotype\tHP:0001631" in lines
    # importing the same file again changes nothing
    assert main(["--db", db_url, "import", str(env / "corpus.pubtator"), "--as", "gold"]) == 0
    assert out.read_text().splitlines() == lines


def test_bad_input_exits_2_with_file_and_line(env: Path, capsys: pytest.CaptureFixture[str]):
    bad = env / "bad.pubtator"
    bad.write_text("1|t|Short title\n1\t0\t5\tWrong\tPhenotype\tHP:1\n", encoding="utf-8")
    assert main(["link-corpus", str(bad), "--out", str(env / "p.jsonl")]) == 0
    assert "bad.pubtator, line 2" in capsys.readouterr().err
    assert main(["link-corpus", str(env / "missing.pubtator"), "--out", str(env / "p.jsonl")]) == 2
