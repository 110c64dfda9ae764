"""UMLS RRF subsets, CTD chemicals, KB diffs and the versioned KB directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bel_core.errors import KnowledgeBaseError
from bel_core.kb.diff import KB_DIR_FILE, MANIFEST_FILE, kb_diff, write_kb_dir
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.kb.loaders import load_ctd_chemicals, load_kb
from bel_core.kb.umls import SEMANTIC_GROUP, load_umls_rrf, semantic_groups
from bel_core.types import Concept
from tests.conftest import FIXTURES

UMLS = FIXTURES / "fmt_umls"


def test_semantic_group_table_covers_the_127_types():
    assert len(SEMANTIC_GROUP) == 127 and len(set(SEMANTIC_GROUP.values())) == 15
    assert semantic_groups(["T047", "T184", "T019", "T999"]) == ("DISO",)
    assert SEMANTIC_GROUP["T116"] == "CHEM" and SEMANTIC_GROUP["T042"] == "PHYS"


def test_umls_rrf_preferred_names_types_definitions_and_filters():
    kb = load_umls_rrf([UMLS])
    seizure = kb.get("C0036572")
    assert seizure.name == "Seizure"  # TS=P, STT=PF, ISPREF=Y wins over the earlier row
    assert seizure.synonyms == ("Seizures",)  # French and suppressed (O) rows are dropped
    assert seizure.types == ("T047", "T184", "DISO")
    assert seizure.definition == "Clinical or subclinical disturbances of cortical function."
    assert seizure.xrefs == ("MSH:D012640", "HPO:HP:0001250")
    assert kb.get("C0025958").definition is None  # its only definition is suppressed
    assert kb.search("small head")[0].concept_id == "C0025958"
    assert kb.version == load_umls_rrf([UMLS / "MRCONSO.RRF"]).version  # a hash of MRCONSO


def test_umls_rrf_source_language_and_suppression_options():
    hpo_only = load_umls_rrf([UMLS / "MRCONSO.RRF"], sources=["HPO"], version="2024AA")
    assert sorted(c.concept_id for c in hpo_only) == ["C0025958", "C0036572"]
    assert hpo_only.get("C0025958").name == "Small head" and hpo_only.version == "2024AA"
    assert hpo_only.get("C0036572").types == ()  # no MRSTY given
    french = load_umls_rrf([UMLS], languages=["FRE"])
    assert [c.name for c in french] == ["Crise épileptique"]
    everything = load_umls_rrf([UMLS], include_suppressed=True)
    assert "Convulsive fits (old)" in everything.get("C0036572").synonyms


def test_umls_rrf_errors_name_file_and_line(tmp_path: Path):
    with pytest.raises(KnowledgeBaseError, match="No MRCONSO.RRF"):
        load_umls_rrf([tmp_path])
    shutil.copy(UMLS / "MRCONSO.RRF", tmp_path / "MRCONSO.RRF")
    (tmp_path / "MRSTY.RRF").write_text("C0036572|T047|B2\nC1|T2\n")
    with pytest.raises(KnowledgeBaseError, match=r"MRSTY.RRF, line 1: expected 6"):
        load_umls_rrf([tmp_path])


def test_ctd_chemicals_like_medic():
    kb = load_ctd_chemicals(FIXTURES / "fmt_ctd_chemicals.tsv")
    naloxone = kb.get("D009270")
    assert (naloxone.name, naloxone.synonyms, naloxone.types) == ("Naloxone", ("Nalone", "Narcan"), ("Chemical",))
    assert naloxone.xrefs == ("CAS:465-65-6",) and naloxone.parents == ("D009292",)
    assert (kb.name, kb.version) == ("CTD chemicals", "2017-06-06")
    assert len(load_kb(str(FIXTURES / "fmt_ctd_chemicals.tsv"), cache_dir=Path("."))) == 2  # sniffed


def _kb(version: str, concepts: list[Concept]) -> KnowledgeBase:
    return KnowledgeBase(concepts, name="K", version=version)


def test_kb_diff_added_retired_merged():
    old = _kb("1", [Concept("A", "a"), Concept("B", "b"), Concept("C", "c"), Concept("D", "d")])
    new = _kb("2", [Concept("A", "a", alt_ids=("B",)), Concept("D", "d"), Concept("E", "e")])
    diff = kb_diff(old, new)
    assert (diff.added, diff.retired, diff.merged) == (("E",), ("C",), (("B", "A"),))
    assert diff.changes() == {"C": None, "B": "A"}


def test_kb_directory_keeps_versions_and_loads_through_load_kb(tmp_path: Path):
    out = tmp_path / "kb"
    first = _kb("1", [Concept("A", "a"), Concept("B", "b")])
    assert write_kb_dir(first, out, [FIXTURES / "fmt_ctd_chemicals.tsv"]) is None
    assert write_kb_dir(first, out, []) is None  # same content: no new version
    diff = write_kb_dir(_kb("2", [Concept("A", "a", alt_ids=("B",))]), out, [])
    assert diff is not None and diff.merged == (("B", "A"),)
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["version"] == "2" and manifest["history"][0]["version"] == "1"
    assert manifest["history"][0]["merged"] == 1
    assert len(list((out / "versions").iterdir())) == 1 and (out / KB_DIR_FILE).is_file()
    loaded = load_kb(str(out), cache_dir=tmp_path)
    assert (loaded.version, loaded.resolve_id("B")) == ("2", "A")
