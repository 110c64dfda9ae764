"""Tests for bel_core.text: one normalisation for every matcher, offsets into the original."""

from __future__ import annotations

import pytest

from bel_core.text import normalize, tokenize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Seizure", "seizure"),
        ("  Global   developmental\tdelay\n", "global developmental delay"),
        ("X-linked", "x linked"),
        ("X\u2013linked", "x linked"),  # en dash
        ("non-small-cell", "non small cell"),
        ("snake_case_name", "snake case name"),
        ("a - b", "a b"),
        ("ＡＳＤ", "asd"),  # full-width letters (NFKC)
        ("ﬁbrosis", "fibrosis"),  # ligature (NFKC)
        ("Straße", "strasse"),  # casefold, not lower()
        ("46,XX", "46,xx"),
        ("Alzheimer's", "alzheimer's"),
        ("", ""),
        (" -_ ", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_is_idempotent() -> None:
    once = normalize("  Ｘ-Linked  ICHTHYOSIS_type ")
    assert once == "x linked ichthyosis type"
    assert normalize(once) == once


def test_tokenize_words_and_punctuation_with_offsets() -> None:
    text = "Seizures (46,XX) in 3-year-old"
    assert tokenize(text) == [
        ("Seizures", 0, 8),
        ("(", 9, 10),
        ("46", 10, 12),
        (",", 12, 13),
        ("XX", 13, 15),
        (")", 15, 16),
        ("in", 17, 19),
        ("3", 20, 21),
        ("-", 21, 22),
        ("year", 22, 26),
        ("-", 26, 27),
        ("old", 27, 30),
    ]


def test_tokenize_offsets_point_into_the_original_string() -> None:
    text = "  ＡＳＤ\u00a0and  café—au-lait\n"
    tokens = tokenize(text)
    assert [t for t, _, _ in tokens] == ["ＡＳＤ", "and", "café", "—", "au", "-", "lait"]
    assert all(text[start:end] == token for token, start, end in tokens)


def test_tokenize_empty_and_blank() -> None:
    assert tokenize("") == []
    assert tokenize(" \n\t") == []
