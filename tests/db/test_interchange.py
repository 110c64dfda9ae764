"""Import and export over the store: per-document transactions, gold in every format, KB updates."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bel_core.formats.documents import ParsedInput
from bel_core.formats import iter_inputs, read_any, read_pubtator
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.kb.diff import kb_diff
from bel_core.types import Concept, Document, LinkResult, Mention
from db import repository
from usecases.interchange import EXPORT_FORMATS, decisions_affected, gold_files, import_inputs, write_gold
from tests.conftest import FIXTURES, SHARED_DATA

PUBTATOR = (
    "7|t|Seizures and microcephaly.\n7|a|Short stature too.\n"
    "7\t0\t8\tSeizures\tPhenotype\tHP:0001250\n7\t13\t25\tmicrocephaly\tPhenotype\tHP:0000252\n"
    "7\t27\t40\tShort stature\tPhenotype\t-1\n7\t27\t32\tWrong\tPhenotype\tHP:1\n"
)


class CorpusLinker:
    """Knows every id (so corpus gold stays gold) and proposes no candidates."""

    model_version = "corpus-linker"
    kb_version = "any"

    def detect(self, document: Document) -> list[Mention]:
        return []

    def link(self, mentions: Sequence[Mention], **context: object) -> list[LinkResult]:
        return [LinkResult(m, (), self.model_version, self.kb_version) for m in mentions]

    def search_kb(self, query: str, limit: int = 20) -> list[Concept]:
        return []

    def concept(self, concept_id: str) -> Concept:
        return Concept(concept_id, concept_id)


def parts(*files: tuple[str, bytes]) -> list[ParsedInput]:
    return list(iter_inputs(list(files), max_bytes=10_000_000))


def test_import_as_suggestions_stores_mentions_and_reports_problems(factory: sessionmaker[Session], linker):
    seen: list[tuple[int, int]] = []
    summary = import_inputs(
        factory,
        linker,
        parts(("c.pubtator", PUBTATOR.encode()), ("s.xml", (FIXTURES / "fmt_sample.bioc.xml").read_bytes())),
        as_gold=False,
        progress=lambda done, known: seen.append((done, known)),
    )
    assert (summary.n_documents, summary.n_mentions, summary.n_gold) == (2, 6, 0)
    assert [str(p).split(":")[0] for p in summary.problems] == [
        "c.pubtator, line 6",
        "s.xml, line 29",
        "s.xml, line 36",
        "s.xml, line 44",
    ]
    assert seen == [(1, 1), (2, 2)]
    with factory.begin() as session:
        stored = {m.key: m.annotated_ids for m in repository.list_mentions(session, "7")}
        assert stored[("7", 27, 40)] == () and stored[("7", 0, 8)] == ("HP:0001250",)
        assert repository.latest_decisions(session) == {}


def test_a_refused_document_rolls_back_alone(factory: sessionmaker[Session], linker):
    with factory.begin() as session:
        repository.add_document(session, Document("7", "Another text with the same id.", source="x"))
    other = "8|t|Seizures.\n8|a|\n8\t0\t8\tSeizures\tPhenotype\tHP:0001250\n"
    summary = import_inputs(
        factory, linker, parts(("a.pubtator", PUBTATOR.encode()), ("b.pubtator", other.encode())), as_gold=True
    )
    assert (summary.n_documents, summary.n_gold) == (1, 1)
    assert any("document '7' not stored" in p.message for p in summary.problems)
    with factory.begin() as session:
        assert repository.list_mentions(session, "7") == []
        assert repository.get_document(session, "7").text == "Another text with the same id."


def _gold(factory: sessionmaker[Session], parsed: ParsedInput) -> None:
    summary = import_inputs(factory, CorpusLinker(), [parsed], as_gold=True)
    assert summary.problems == parsed.problems and summary.n_gold == len(parsed.mentions)


def _key(parsed: ParsedInput) -> tuple[list[tuple[str, str]], list[tuple[object, ...]]]:
    docs = sorted((d.doc_id, d.text) for d in parsed.documents)
    return docs, sorted((m.doc_id, m.start, m.end, m.annotated_ids) for m in parsed.mentions)


@pytest.mark.parametrize("fmt", ["pubtator", "bioc-xml", "bioc-json", "bigbio", "brat", "gsc"])
def test_gold_export_imports_back_to_the_same_corpus(factory: sessionmaker[Session], fmt: str):
    corpus = read_pubtator("c.pubtator", PUBTATOR)
    _gold(factory, corpus)
    with factory.begin() as session:
        files = gold_files(session, fmt)
    back = read_any([(n, t.encode()) for n, t in files.items()], format=fmt, max_bytes=10_000_000)
    assert back.problems == () and _key(back) == _key(corpus)


def test_ncbi_dev_round_trips_through_the_store(factory: sessionmaker[Session]):
    path = SHARED_DATA / "ncbi_disease" / "NCBIdevelopset_corpus.txt"
    if not path.is_file():
        pytest.skip(f"shared corpus {path} is not available")
    corpus = read_pubtator(path.name, path.read_bytes())
    _gold(factory, corpus)
    with factory.begin() as session:
        exports = {fmt: gold_files(session, fmt) for fmt in ("bioc-xml", "bigbio", "brat")}
    for fmt, files in exports.items():
        back = read_any([(n, t.encode()) for n, t in files.items()], format=fmt, max_bytes=50_000_000)
        assert back.problems == () and _key(back) == _key(corpus), fmt


def test_csv_and_brat_files(factory: sessionmaker[Session], tmp_path: Path):
    _gold(factory, read_pubtator("c.pubtator", PUBTATOR))
    with factory.begin() as session:
        rows = list(csv.DictReader(io.StringIO(gold_files(session, "csv")["gold.csv"])))
        assert [(r["start"], r["status"], r["concept_ids"]) for r in rows] == [
            ("0", "corrected", "HP:0001250"),
            ("13", "corrected", "HP:0000252"),
            ("27", "nil", ""),
        ]
        assert write_gold(session, "brat", tmp_path / "brat") == 2
        assert write_gold(session, "brat", tmp_path / "gold.zip") == 2
        assert write_gold(session, "bioc-xml", tmp_path / "gold.xml") == 1
    assert (
        (tmp_path / "brat" / "7.ann")
        .read_text()
        .startswith("T1\tPhenotype 0 8\tSeizures\nN1\tReference T1 HP:0001250")
    )
    assert sorted(zipfile.ZipFile(tmp_path / "gold.zip").namelist()) == ["7.ann", "7.txt"]
    assert set(EXPORT_FORMATS) >= {"pubtator", "bioc-xml", "bioc-json", "bigbio", "brat", "csv", "jsonl"}
    with factory.begin() as session, pytest.raises(ValueError, match="Unknown export format 'doc'"):
        gold_files(session, "doc")


def test_decisions_affected_by_a_kb_update(factory: sessionmaker[Session]):
    _gold(factory, read_pubtator("c.pubtator", PUBTATOR))
    old = KnowledgeBase(
        [Concept("HP:0001250", "Seizure"), Concept("HP:0000252", "Microcephaly")], name="K", version="1"
    )
    new = KnowledgeBase([Concept("HP:0000253", "Small head", alt_ids=("HP:0000252",))], name="K", version="2")
    with factory.begin() as session:
        affected = decisions_affected(session, kb_diff(old, new))
    assert [(a.key, a.concept_id, a.change, a.replacement) for a in affected] == [
        (("7", 0, 8), "HP:0001250", "retired", None),
        (("7", 13, 25), "HP:0000252", "merged", "HP:0000253"),
    ]
