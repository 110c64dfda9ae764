"""Schwartz–Hearst abbreviation definitions and short-form expansion."""

from __future__ import annotations

import pytest

from bel_core.linking.abbrev import (
    Abbreviation,
    abbreviation_map,
    best_long_form,
    expand,
    find_abbreviations,
    is_short_form,
)


def test_long_form_then_short_form():
    text = "Patients with ataxia-telangiectasia (A-T) develop tumours. A-T is rare."
    assert find_abbreviations(text) == [Abbreviation("A-T", "ataxia-telangiectasia", 37)]
    assert text[37:40] == "A-T"


def test_short_form_then_long_form():
    assert abbreviation_map("We studied APC (adenomatous polyposis coli) in mice.") == {
        "APC": "adenomatous polyposis coli"
    }


def test_strict_match_takes_the_shortest_spelling_suffix():
    assert best_long_form("HD", "the patients with Huntington disease") == "Huntington disease"
    assert best_long_form("XYZ", "Huntington disease") is None


def test_initials_in_order_win_over_the_shortest_spelling_suffix():
    text = "Mutations cause attenuated adenomatous polyposis coli (AAPC), a variant."
    # The strict rule alone matches A and P inside "adenomatous polyposis" and drops "attenuated".
    assert best_long_form("AAPC", "cause attenuated adenomatous polyposis coli") == "adenomatous polyposis coli"
    assert abbreviation_map(text) == {"AAPC": "attenuated adenomatous polyposis coli"}
    # Initials that do not spell the short form leave the strict match alone.
    assert abbreviation_map("with Denys-Drash syndrome (DDS) and") == {"DDS": "Denys-Drash syndrome"}


def test_long_forms_using_another_short_form_are_expanded():
    text = "Diffuse mesangial sclerosis (DMS) occurs alone: 10 had isolated DMS (IDMS)."
    assert abbreviation_map(text) == {
        "DMS": "Diffuse mesangial sclerosis",
        "IDMS": "isolated Diffuse mesangial sclerosis",
    }
    assert expand("IDMS", abbreviation_map(text)) == "isolated Diffuse mesangial sclerosis"


def test_relaxed_initials_accept_reordered_abbreviations():
    text = "Myotonic dystrophy (DM) is common; DM affects muscle."
    assert abbreviation_map(text, relaxed=False) == {}
    assert abbreviation_map(text) == {"DM": "Myotonic dystrophy"}


def test_sentence_boundary_and_non_abbreviations_are_respected():
    assert abbreviation_map("It was severe. (see below) and (n = 12) cases.") == {}
    assert abbreviation_map("Renal failure. Disease (RD) was seen.") == {}  # 'Renal' is in another sentence


@pytest.mark.parametrize(
    ("candidate", "ok"), [("APC", True), ("A-T", True), ("a", False), ("12", False), ("-AB", False)]
)
def test_is_short_form(candidate: str, ok: bool):
    assert is_short_form(candidate) is ok


def test_expand_whole_mention_inside_and_definitions():
    table = {
        "DM": "myotonic dystrophy",
        "HPT-JT": "hyperparathyroidism-jaw tumor syndrome",
        "G6PD": "G6P dehydrogenase",
    }
    assert expand("DM", table) == "myotonic dystrophy"
    assert expand("congenital DM", table) == "congenital myotonic dystrophy"
    assert expand("HPT-JT syndrome", table) == "hyperparathyroidism-jaw tumor syndrome"  # no "syndrome syndrome"
    assert expand("G6P dehydrogenase (G6PD) deficiency", table) == "G6P dehydrogenase deficiency"
    assert expand("DMD and ADM", table) == "DMD and ADM"  # only whole tokens
    assert expand("dm", table) == "dm"  # case-sensitive
    assert expand("DM", {}) == "DM"
