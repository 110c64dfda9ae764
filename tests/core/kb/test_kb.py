"""Tests for bel_core.kb.knowledge_base.KnowledgeBase: lookup, alt ids, hierarchy, search ranking, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bel_core.errors import KnowledgeBaseError, UnknownConceptError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.kb.loaders import load_jsonl
from bel_core.types import Concept


def _ids(concepts: list[Concept]) -> list[str]:
    return [c.concept_id for c in concepts]


def test_len_contains_and_sorted_iteration(tiny_kb: KnowledgeBase) -> None:
    assert len(tiny_kb) == 16
    assert tiny_kb.name == "TinyHPO"
    assert tiny_kb.version == "tiny-1"
    assert "HP:0001250" in tiny_kb
    assert "HP:0002279" in tiny_kb  # alt id of Seizure
    assert "HP:9999999" not in tiny_kb
    ids = _ids(list(tiny_kb))
    assert ids == sorted(ids)
    assert ids[0] == "HP:0000118"


def test_get_and_resolve_alt_ids(tiny_kb: KnowledgeBase) -> None:
    assert tiny_kb.get("HP:0001250").name == "Seizure"
    assert tiny_kb.get("HP:0002279").concept_id == "HP:0001250"
    assert tiny_kb.resolve_id("HP:0001189") == "HP:0001156"
    assert tiny_kb.resolve_id("HP:0001156") == "HP:0001156"


def test_unknown_id_error_names_the_id_and_the_kb(tiny_kb: KnowledgeBase) -> None:
    with pytest.raises(UnknownConceptError) as info:
        tiny_kb.get("HP:9999999")
    assert info.value.concept_id == "HP:9999999"
    assert "'HP:9999999'" in str(info.value)
    assert "TinyHPO" in str(info.value)
    with pytest.raises(UnknownConceptError):
        tiny_kb.resolve_id("hp:0001250")  # ids are exact outside search
    with pytest.raises(UnknownConceptError):
        tiny_kb.children("HP:9999999")


def test_children_sorted_and_alt_id_resolved(tiny_kb: KnowledgeBase) -> None:
    assert tiny_kb.children("HP:0000707") == ("HP:0000729", "HP:0001249", "HP:0001250", "HP:0001263", "HP:0002315")
    assert tiny_kb.children("HP:0002315") == ("HP:0002076",)
    assert tiny_kb.children("HP:0002279") == ()  # Seizure, by its alt id: a leaf


def test_duplicate_concept_id_is_rejected() -> None:
    with pytest.raises(KnowledgeBaseError, match="'X:1' occurs twice"):
        KnowledgeBase([Concept("X:1", "a"), Concept("X:1", "b")], name="T", version="1")


@pytest.mark.parametrize(
    "concepts",
    [
        [Concept("X:1", "a", alt_ids=("X:2",)), Concept("X:2", "b")],  # alt id is a primary id
        [Concept("X:1", "a", alt_ids=("X:9",)), Concept("X:2", "b", alt_ids=("X:9",))],  # shared alt id
    ],
)
def test_alt_id_that_cannot_resolve_to_one_concept_is_rejected(concepts: list[Concept]) -> None:
    with pytest.raises(KnowledgeBaseError, match="alt id"):
        KnowledgeBase(concepts, name="T", version="1")


def test_aliases_deduped_per_concept_by_normalised_form() -> None:
    kb = KnowledgeBase(
        [
            Concept("X:2", "Atrial septal defect", synonyms=("ASD", "Atrial-septal defect", "atrial septal  defect")),
            Concept("X:1", "Seizure", synonyms=("seizure", "SEIZURE ", "Seizures", "ASD")),
        ],
        name="T",
        version="1",
    )
    assert kb.aliases() == [
        ("Seizure", "X:1"),
        ("Seizures", "X:1"),
        ("ASD", "X:1"),
        ("Atrial septal defect", "X:2"),
        ("ASD", "X:2"),
    ]


def test_aliases_keep_ambiguity_across_concepts(tiny_kb: KnowledgeBase) -> None:
    aliases = tiny_kb.aliases()
    assert [cid for alias, cid in aliases if alias == "ASD"] == ["HP:0000729", "HP:0001631"]
    assert aliases[:2] == [("Phenotypic abnormality", "HP:0000118"), ("Microcephaly", "HP:0000252")]
    assert len(aliases) == len(set(aliases))


def _fingerprint_kb(concepts: list[Concept], name: str = "T", version: str = "1") -> str:
    return KnowledgeBase(concepts, name=name, version=version).fingerprint


def test_fingerprint_is_stable_and_covers_names_synonyms_types() -> None:
    base = [Concept("X:1", "Seizure", synonyms=("Fits",), types=("Neuro",)), Concept("X:2", "Headache")]
    fp = _fingerprint_kb(base)
    # A literal: the hash must not depend on the process (hash seeds, dict order).
    assert fp == "311b0d06cd193a50f2843a5116abf0f24ed926881060bba2c83e7d00a6fe9a29"
    assert _fingerprint_kb(list(reversed(base)), name="Other", version="2") == fp
    assert (
        _fingerprint_kb(
            [
                Concept("X:1", "Seizure", synonyms=("Fits",), types=("Neuro",), definition="d"),
                Concept("X:2", "Headache"),
            ]
        )
        == fp
    )
    assert _fingerprint_kb([Concept("X:1", "Seizure", synonyms=("Fit",), types=("Neuro",)), base[1]]) != fp
    assert _fingerprint_kb([Concept("X:1", "Seizure", synonyms=("Fits",)), base[1]]) != fp
    assert _fingerprint_kb([base[0], Concept("X:3", "Headache")]) != fp


def test_search_by_id_and_alt_id_any_case(tiny_kb: KnowledgeBase) -> None:
    assert _ids(tiny_kb.search("HP:0001250"))[:1] == ["HP:0001250"]
    assert _ids(tiny_kb.search(" hp:0002279 "))[:1] == ["HP:0001250"]


def test_search_exact_name_then_synonym_matches(tiny_kb: KnowledgeBase) -> None:
    assert _ids(tiny_kb.search("seizures")) == ["HP:0001250"]
    assert _ids(tiny_kb.search("ASD")) == ["HP:0000729", "HP:0001631"]
    assert _ids(tiny_kb.search("  Hearing   LOSS ")) == ["HP:0000365"]


def test_search_exact_before_prefix_before_substring(tiny_kb: KnowledgeBase) -> None:
    # exact synonym "Short", then prefixes shortest first: "short digits", "short stature"
    assert _ids(tiny_kb.search("short")) == ["HP:0004322", "HP:0001156"]
    # prefix "headache(s)", then substrings in alphabetical order of the matching name
    assert _ids(tiny_kb.search("head")) == ["HP:0002315", "HP:0000256", "HP:0002076", "HP:0000252"]
    assert _ids(tiny_kb.search("septal")) == ["HP:0001631", "HP:0001629"]


def test_search_type_filter_and_limit(tiny_kb: KnowledgeBase) -> None:
    assert _ids(tiny_kb.search("head", types=["Abnormality of head or neck"])) == ["HP:0000256", "HP:0000252"]
    assert _ids(tiny_kb.search("HP:0001250", types=["Growth abnormality"])) == []
    assert _ids(tiny_kb.search("head", limit=2)) == ["HP:0002315", "HP:0000256"]
    assert tiny_kb.search("head", limit=0) == []
    assert tiny_kb.search("   ") == []
    assert tiny_kb.search("zzz-no-such-name") == []


def test_to_jsonl_round_trip(tiny_kb: KnowledgeBase, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "kb.jsonl"
    tiny_kb.to_jsonl(out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {"_meta": {"name": "TinyHPO", "version": "tiny-1"}}
    assert len(lines) == 17
    again = load_jsonl(out)
    assert (again.name, again.version, again.fingerprint) == (tiny_kb.name, tiny_kb.version, tiny_kb.fingerprint)
    assert list(again) == list(tiny_kb)
    assert [p.name for p in out.parent.iterdir()] == ["kb.jsonl"]  # no temp file left behind
