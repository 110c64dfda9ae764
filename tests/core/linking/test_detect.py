"""Tests for bel_core.linking.detect: dictionary mention detection over KB aliases."""

from __future__ import annotations

import pytest

from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.linking.detect import STOPWORDS, DictionaryMatcher
from bel_core.types import Concept, Document, Mention, MentionOrigin


def _kb(*concepts: tuple[str, str, tuple[str, ...]]) -> KnowledgeBase:
    return KnowledgeBase([Concept(cid, name, synonyms) for cid, name, synonyms in concepts], name="T", version="1")


def _spans(matcher: DictionaryMatcher, text: str) -> list[tuple[int, int, str]]:
    return [(m.start, m.end, m.text) for m in matcher.detect(Document("d", text))]


@pytest.fixture(scope="module")
def tiny_matcher(tiny_kb) -> DictionaryMatcher:
    return DictionaryMatcher.from_kb(tiny_kb)


def test_detects_tiny_kb_aliases_with_exact_mentions(tiny_matcher):
    text = "Atrial septal defect (ASD), seizures and global developmental delay were noted."
    mentions = tiny_matcher.detect(Document("doc1", text))
    assert mentions == [
        Mention("doc1", 0, 20, "Atrial septal defect", label=None, origin=MentionOrigin.DETECTED),
        Mention("doc1", 22, 25, "ASD", origin=MentionOrigin.DETECTED),
        Mention("doc1", 28, 36, "seizures", origin=MentionOrigin.DETECTED),
        Mention("doc1", 41, 67, "global developmental delay", origin=MentionOrigin.DETECTED),
    ]
    assert all(text[m.start : m.end] == m.text and m.annotated_ids == () for m in mentions)


def test_longest_match_wins_and_no_overlap():
    matcher = DictionaryMatcher.from_kb(
        _kb(("A", "Septal defect", ()), ("B", "Atrial septal defect", ()), ("C", "Defect of the atrium", ()))
    )
    assert _spans(matcher, "an atrial septal defect; a septal defect") == [
        (3, 23, "atrial septal defect"),
        (27, 40, "septal defect"),
    ]
    # A shorter match at an earlier token is kept; the later, overlapping alias is not split off.
    assert _spans(matcher, "septal defect of the atrium") == [(0, 13, "septal defect")]


def test_case_insensitive_for_ordinary_aliases(tiny_matcher):
    assert _spans(tiny_matcher, "MICROCEPHALY, microcephaly, MicroCephaly") == [
        (0, 12, "MICROCEPHALY"),
        (14, 26, "microcephaly"),
        (28, 40, "MicroCephaly"),
    ]


def test_all_caps_abbreviations_match_case_sensitively(tiny_matcher):
    assert _spans(tiny_matcher, "ASD and GDD; asd, Asd, gdd and VSD.") == [
        (0, 3, "ASD"),
        (8, 11, "GDD"),
        (31, 34, "VSD"),
    ]


def test_token_boundaries_only(tiny_matcher):
    assert _spans(tiny_matcher, "nonseizures seizuresX ASDs obesity2 headaches") == [(36, 45, "headaches")]
    # A dash is a token boundary, so the word after it is a whole token.
    assert _spans(tiny_matcher, "non-seizures") == [(4, 12, "seizures")]


def test_min_chars_and_stopwords(tiny_kb):
    text = "Short, short stature, fits; ID and id."
    default = DictionaryMatcher.from_kb(tiny_kb)
    assert _spans(default, text) == [(7, 20, "short stature")]
    loose = DictionaryMatcher.from_kb(tiny_kb, min_chars=2)
    assert _spans(loose, text) == [(7, 20, "short stature"), (28, 30, "ID")]
    assert {"short", "fits", "all", "mild", "severe", "onset", "frequent", "normal", "abnormal"} <= STOPWORDS


def test_abbreviation_is_not_a_stopword():
    matcher = DictionaryMatcher.from_kb(_kb(("L", "Acute lymphoblastic leukemia", ("ALL",)), ("R", "All", ())))
    assert _spans(matcher, "all patients with ALL") == [(18, 21, "ALL")]


def test_whitespace_and_dashes_between_tokens():
    matcher = DictionaryMatcher.from_kb(_kb(("X", "X-linked ichthyosis", ()), ("A", "Atrial septal defect", ())))
    text = "X linked ichthyosis, x-linked  ichthyosis and atrial\n septal defect"
    assert _spans(matcher, text) == [
        (0, 19, "X linked ichthyosis"),
        (21, 41, "x-linked  ichthyosis"),
        (46, 67, "atrial\n septal defect"),
    ]


def test_html_is_plain_text(tiny_matcher):
    text = '<p class="x">Microcephaly</p><script>hearing loss</script>'
    assert _spans(tiny_matcher, text) == [(13, 25, "Microcephaly"), (37, 49, "hearing loss")]


def test_nothing_to_find(tiny_matcher):
    assert tiny_matcher.detect(Document("d", "... !!")) == []
    assert tiny_matcher.detect(Document("d", "The weather was fine.")) == []


def test_duplicate_aliases_share_one_path(tiny_kb):
    matcher = DictionaryMatcher.from_kb(tiny_kb)
    # "ASD" is an alias of two concepts; it is one entry of the exact-case trie.
    assert list(matcher.exact) == ["ASD", "GDD", "VSD"]


def test_build_and_detect_at_hpo_scale():
    # ~17k concepts / ~50k aliases, like the embedded HPO phenotype subtree; speed: bench/bench_detection.py.
    concepts = [
        Concept(f"HP:{i:07d}", f"Abnormal morphology of structure {i}", (f"Structure {i} anomaly", f"S{i}X"))
        for i in range(17_000)
    ]
    kb = KnowledgeBase(concepts, name="Synthetic", version="1")
    matcher = DictionaryMatcher.from_kb(kb)
    assert matcher.n_aliases == 51_000
    text = "We saw an abnormal morphology of structure 42 and structure 7 anomaly (S7X). " * 20
    mentions = matcher.detect(Document("d", text))
    assert [m.text for m in mentions[:3]] == ["abnormal morphology of structure 42", "structure 7 anomaly", "S7X"]
    assert len(mentions) == 60


def test_british_and_american_spellings_match_each_other():
    matcher = DictionaryMatcher.from_kb(
        _kb(("N", "Hyponatremia", ()), ("H", "Haemorrhage", ()), ("E", "Edema", ()), ("T", "Brain tumor", ()))
    )
    text = "hyponatraemia, hemorrhage, oedema and brain tumours"
    assert [t for _, _, t in _spans(matcher, text)] == ["hyponatraemia", "hemorrhage", "oedema", "brain tumours"]
    # Short words keep their own key: "does" is not folded onto anything.
    assert _spans(matcher, "it does not") == []


def test_singular_and_plural_match_each_other():
    matcher = DictionaryMatcher.from_kb(_kb(("S", "Seizures", ()), ("A", "Skeletal anomaly", ())))
    assert [t for _, _, t in _spans(matcher, "a seizure; skeletal anomalies")] == ["seizure", "skeletal anomalies"]


def test_hyphenated_and_closed_compounds_match_both_ways():
    matcher = DictionaryMatcher.from_kb(
        _kb(("S", "Syndrome of inappropriate antidiuretic hormone", ()), ("X", "X-linked ichthyosis", ()))
    )
    text = "syndrome of inappropriate anti-diuretic hormone and Xlinked ichthyosis"
    assert [t for _, _, t in _spans(matcher, text)] == [
        "syndrome of inappropriate anti-diuretic hormone",
        "Xlinked ichthyosis",
    ]
    # A space is not a hyphen: "anti diuretic" stays two words.
    assert _spans(matcher, "syndrome of inappropriate anti diuretic hormone") == []


def test_reordered_names_match_within_a_phrase():
    matcher = DictionaryMatcher.from_kb(_kb(("R", "Carcinoma, Renal Cell", ()), ("B", "Breast cancer", ())))
    text = "renal cell carcinoma and cancer of the breast; carcinoma, renal cell"
    assert [t for _, _, t in _spans(matcher, text)] == [
        "renal cell carcinoma",
        "cancer of the breast",
        "carcinoma, renal cell",
    ]
    # Punctuation ends a phrase: words of one name on both sides of a comma are not a match.
    assert _spans(matcher, "breast, cancer") == []


def test_variants_can_be_switched_off():
    kb = _kb(("N", "Hyponatremia", ()), ("B", "Breast cancer", ()))
    strict = DictionaryMatcher.from_kb(kb, variants=False)
    assert _spans(strict, "hyponatraemia, cancer of the breast, hyponatremia") == [(37, 49, "hyponatremia")]
