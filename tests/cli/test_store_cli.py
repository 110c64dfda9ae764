"""`bel import | export | export-training | kb-import` end to end on the tiny KB."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from cli import main
from tests.conftest import FIXTURES

PUBTATOR = """\
111|t|Seizures and microcephaly in a child.
111|a|She also had an atrial septal defect and small stature.
111\t0\t8\tSeizures\tPhenotype\tHP:0001250
111\t13\t25\tmicrocephaly\tPhenotype\tHP:0000252
111\t54\t74\tatrial septal defect\tPhenotype\tHP:0001631
111\t79\t92\tsmall stature\tPhenotype\tHP:0004322
111\t79\t84\tbroken\tPhenotype\tHP:0004322
"""


@pytest.fixture
def env(tmp_path: Path, tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BEL_KB", str(tiny_kb_path))
    monkeypatch.setenv("BEL_DENSE_ENABLED", "0")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("in/corpus.pubtator", PUBTATOR)
        archive.writestr("in/fmt_sample.txt", (FIXTURES / "fmt_sample.txt").read_bytes())
        archive.writestr("in/fmt_sample.ann", "T1\tPhenotype 0 8\tSeizures\nN1\tReference T1 HP:0001250\tSeizure\n")
        archive.writestr("../escape.txt", "nope")
    (tmp_path / "upload.zip").write_bytes(buffer.getvalue())
    return tmp_path


def test_import_zip_as_gold_then_export_every_format(env: Path, capsys: pytest.CaptureFixture[str]):
    db = f"sqlite:///{env / 'cli.db'}"
    # Refused: the unsafe member (exit 1); skipped by choice: the bad span.
    command = ["--db", db, "import", str(env / "upload.zip"), "--format", "auto", "--as", "gold", "--skip-bad-spans"]
    assert main(command) == 1
    out, err = capsys.readouterr()
    assert "imported 2 new documents (0 already stored, 0 duplicates of stored texts), 5 new mentions, 5 gold" in out
    assert "in/corpus.pubtator, line 7: mention text 'broken'" in err
    assert "../escape.txt: unsafe path" in err
    for fmt, name in [
        ("bioc-xml", "gold.xml"),
        ("bioc-json", "gold.json"),
        ("bigbio", "gold.jsonl"),
        ("csv", "gold.csv"),
    ]:
        assert main(["--db", db, "export", "--format", fmt, "--out", str(env / name)]) == 0
    assert main(["--db", db, "export", "--format", "brat", "--out", str(env / "brat")]) == 0
    assert "N1\tReference T1 HP:0001250" in (env / "brat" / "111.ann").read_text()
    assert main(["--db", db, "export", "--format", "jsonl", "--out", str(env / "gold.jsonl")]) == 0
    # the BioC export imports back into a fresh store with the same gold
    db2 = f"sqlite:///{env / 'second.db'}"
    assert main(["--db", db2, "import", str(env / "gold.xml"), "--format", "bioc-xml", "--as", "gold"]) == 0
    assert main(["--db", db2, "export", "--format", "csv", "--out", str(env / "again.csv")]) == 0
    strip = [line.rsplit(",", 3)[0].split(",", 1)[1] for line in (env / "gold.csv").read_text().splitlines()]
    again = [line.rsplit(",", 3)[0].split(",", 1)[1] for line in (env / "again.csv").read_text().splitlines()]
    assert strip == again and len(strip) == 6

    assert (
        main(["--db", db, "export-training", "--format", "basilisk", "--out", str(env / "train"), "--seed", "5"]) == 0
    )
    sheet = json.loads((env / "train" / "datasheet.json").read_text())
    assert sheet["config"]["seed"] == 5 and sum(s["documents"] for s in sheet["splits"].values()) == 2
    assert "wrote basilisk training data" in capsys.readouterr().out


def test_kb_import_versions_and_reports_affected_decisions(env: Path, capsys: pytest.CaptureFixture[str]):
    kb_dir = env / "kb"
    assert main(["kb-import", "--format", "medic", str(FIXTURES / "kb_medic_sample.tsv"), "--out", str(kb_dir)]) == 0
    assert "concepts written to" in capsys.readouterr().out
    assert main(["kb-import", "--format", "medic", str(FIXTURES / "fmt_ctd_chemicals.tsv"), "--out", str(kb_dir)]) == 0
    out = capsys.readouterr().out
    assert "KB CTD chemicals 2017-06-06: 2 concepts" in out and "2 added" in out and "retired" in out
    umls = FIXTURES / "fmt_umls"
    db = f"sqlite:///{env / 'cli.db'}"
    assert (
        main(["--db", db, "kb-import", "--format", "umls-rrf", str(umls), "--sources", "HPO", "--out", str(kb_dir)])
        == 0
    )
    assert "0 stored decisions use retired or merged ids" in capsys.readouterr().out
    manifest = json.loads((kb_dir / "manifest.json").read_text())
    assert manifest["name"] == "UMLS" and len(manifest["history"]) == 2
