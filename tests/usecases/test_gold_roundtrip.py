"""`bel import --as gold` then `bel export` gives back every shared corpus's (start, end, ids), in every format.

Finding 11 of issue 18: gold ids are the corpus's data, whatever KB is loaded. Each corpus
is imported once with the default KB (HPO, which knows no MeSH or OMIM id) and once with
its own KB (MEDIC, where NCBI's OMIM ids are alternate ids; HPO for GSC+), then exported in
every format; the mentions must come back with the same spans and ids. Slow: each import
links every mention with the real pipeline (TF-IDF only).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from bel_core.errors import UnknownConceptError
from bel_core.formats import read_any
from bel_core.types import Concept, Document, LinkResult, Mention
from cli import main
from db.models import Role
from tests.conftest import SHARED_DATA
from usecases.auth import User
from usecases.export import EXPORT_FORMATS, gold_files
from usecases.ingest import IngestOptions, ingest_files

ADMIN = User("admin", Role.ADMIN)

CORPORA = {
    # name: (corpus file, import format, its own KB)
    "ncbi-test": ("ncbi_disease/NCBItestset_corpus.txt", "pubtator", "medic:medic/CTD_diseases_2017-06-06.tsv.gz"),
    # MEDIC: BC5CDR's disease vocabulary (MeSH ids); its chemicals are ids this KB lacks.
    "bc5cdr-dev": ("bc5cdr/CDR_DevelopmentSet.PubTator.txt", "pubtator", "medic:medic/CTD_diseases_2017-06-06.tsv.gz"),
    "gsc-test": ("gsc_plus/GSCplus_test_gold.tsv", "gsc", "obo:hpo/hp_2025-01-16.obo.gz"),
}
DOCUMENT_FORMATS = ("pubtator", "bioc-xml", "bioc-json", "bigbio", "brat", "gsc")
Gold = set[tuple[str, int, int, tuple[str, ...]]]


def exported(fmt: str, out: Path) -> Gold:
    """(doc_id, start, end, ids) of every mention in an export."""
    if fmt == "jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        return {(r["doc_id"], r["start"], r["end"], tuple(r["concept_ids"])) for r in rows}
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        return {
            (r["doc_id"], int(r["start"]), int(r["end"]), tuple(filter(None, r["concept_ids"].split("|"))))
            for r in rows
        }
    files = sorted(out.iterdir()) if out.is_dir() else [out]
    back = read_any([(p.name, p.read_bytes()) for p in files], format=fmt, max_bytes=10**9)
    assert back.problems == (), back.problems[:3]
    return {(*m.key, m.annotated_ids) for m in back.mentions}


@pytest.mark.slow
@pytest.mark.parametrize("kb", ["default", "own"])
@pytest.mark.parametrize("corpus", CORPORA)
def test_gold_comes_back_as_it_went_in(corpus: str, kb: str, tmp_path: Path, monkeypatch, capsys):
    name, fmt, own_kb = CORPORA[corpus]
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"shared corpus {path} is not available")
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BEL_DENSE_ENABLED", "0")
    monkeypatch.delenv("BEL_KB", raising=False)
    db = f"sqlite:///{tmp_path / 'gold.db'}"
    kb_args = [] if kb == "default" else ["--kb", own_kb.replace(":", f":{SHARED_DATA}/", 1)]
    assert main(["--db", db, "import", str(path), "--format", fmt, "--as", "gold", *kb_args]) == 0
    parsed = read_any([(path.name, path.read_bytes())], format=fmt, max_bytes=10**9)
    expected = {(*m.key, m.annotated_ids) for m in parsed.mentions}
    assert f"{len(expected)} gold decisions" in capsys.readouterr().out
    for out_fmt in (*DOCUMENT_FORMATS, "jsonl", "csv"):
        out = tmp_path / (out_fmt if out_fmt == "brat" else f"gold.{out_fmt}")
        assert main(["--db", db, "export", "--format", out_fmt, "--out", str(out)]) == 0
        assert exported(out_fmt, out) == expected, out_fmt


class EmptyKBLinker:
    """A linker over a KB without concepts: no candidates, every id unknown."""

    model_version = "empty"
    kb_version = "empty-kb"

    def detect(self, document: Document) -> list[Mention]:
        return []

    def link(self, mentions: Sequence[Mention], **context: object) -> list[LinkResult]:
        return [LinkResult(m, (), self.model_version, self.kb_version) for m in mentions]

    def search_kb(self, query: str, limit: int = 20) -> list[Concept]:
        return []

    def concept(self, concept_id: str) -> Concept:
        raise UnknownConceptError(concept_id)


@pytest.mark.slow
def test_ncbi_dev_comes_back_through_a_kb_that_knows_none_of_its_ids(factory):
    """The same round trip in-process and fast, with a KB that knows no MeSH or OMIM id."""
    path = SHARED_DATA / "ncbi_disease" / "NCBIdevelopset_corpus.txt"
    if not path.is_file():
        pytest.skip(f"shared corpus {path} is not available")
    summary = ingest_files(
        factory,
        EmptyKBLinker(),
        [(path.name, path.read_bytes())],
        options=IngestOptions(max_bytes=10**8, as_gold=True),
    )
    parsed = read_any([(path.name, path.read_bytes())], max_bytes=10**8)
    expected = {(*m.key, m.annotated_ids) for m in parsed.mentions}
    assert summary.refused == () and summary.n_gold == len(expected) == 787
    assert len(summary.notices) == sum(len(m.annotated_ids) for m in parsed.mentions)
    with factory() as session:
        for fmt in EXPORT_FORMATS:
            files = gold_files(session, fmt, ADMIN)
            if fmt in ("jsonl", "csv"):
                out = Path(session.get_bind().url.database).parent / f"gold.{fmt}"
                out.write_text(next(iter(files.values())), encoding="utf-8")
                assert exported(fmt, out) == expected, fmt
                continue
            back = read_any([(n, t.encode()) for n, t in files.items()], format=fmt, max_bytes=10**8)
            assert back.problems == () and {(*m.key, m.annotated_ids) for m in back.mentions} == expected, fmt
