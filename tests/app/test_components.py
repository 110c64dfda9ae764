"""Pure helpers behind the pages: HTML escaping, colour bands, queue cursor, reliability bins."""

from __future__ import annotations

import pytest

from bel_core.types import Candidate, Concept, DecisionStatus, Document, LinkResult, Mention
from pages.components import charts, review_flow, widgets

DOC = Document("d1", 'Fits & <b>"ASD"</b>\nnext line')


def _mention(start: int, end: int) -> Mention:
    return Mention("d1", start, end, DOC.text[start:end])


def _result(mention: Mention, *scores: float | None) -> LinkResult:
    candidates = tuple(
        Candidate(f"HP:{i}", f"name {i}", "alias", "tfidf", raw_score=0.5, calibrated_score=s)
        for i, s in enumerate(scores)
    )
    return LinkResult(mention, candidates, "m", "k")


@pytest.mark.parametrize(
    ("probability", "band"),
    [(None, "none"), (0.0, "low"), (0.49, "low"), (0.5, "mid"), (0.79, "mid"), (0.8, "high"), (1.0, "high")],
)
def test_confidence_bands(probability, band):
    assert widgets.confidence_band(probability).name == band


def test_highlight_escapes_text_and_marks_state():
    fits, asd = _mention(0, 4), _mention(11, 14)
    html = widgets.highlighted_text_html(
        DOC, [asd, fits], {fits.key: 0.9, asd.key: 0.3}, asd.key, {fits.key: DecisionStatus.ACCEPTED}
    )
    assert "<b>" not in html
    assert "&amp; &lt;b&gt;&quot;" in html
    assert 'bel-high" title="Fits (p = 0.90; accepted)"' in html
    assert '>Fits<span style="font-size:0.8em;margin-left:2px">&#10003;</span></mark>' in html
    assert 'class="bel-mention bel-low"' in html and "outline:2px solid" in html
    # Newlines kept as character references: the div uses pre-wrap, and a raw blank line would
    # end st.markdown's HTML block.
    assert "&#10;next line" in html and "\n" not in html


def test_highlight_skips_overlaps_and_greys_mentions_without_candidates():
    html = widgets.highlighted_text_html(DOC, [_mention(0, 4), _mention(2, 6)], {}, None)
    assert html.count("<mark") == 1
    assert "bel-none" in html


def test_concept_card_escapes_every_field():
    concept = Concept("HP:1", "<i>x</i>", ("<s>", "ok"), ("<t>",), "<script>", ("HP:0",), ("UMLS:<C>",))
    card = widgets.concept_card(concept)
    assert "<i>" not in card and "<script>" not in card and "<s>" not in card and "<C>" not in card
    assert "&lt;script&gt;" in card and "Synonyms" in card and "Cross-references" in card


def test_md_shows_markdown_and_html_literally():
    assert widgets.md("<script>a_b*c</script> [x](y) HP:1") == (
        "&lt;script&gt;a\\_b\\*c&lt;/script&gt; \\[x\\]\\(y\\) HP\\:1"
    )


def test_candidate_rows_keep_provenance():
    mention = _mention(0, 4)
    rows = widgets.candidate_rows(_result(mention, 0.7, None))
    assert rows[0]["rank"] == 1 and rows[0]["probability"] == 0.7 and rows[0]["stage"] == "tfidf"
    assert rows[1]["probability"] is None
    assert widgets.candidate_rows(None) == []


KEYS = [("d", 0, 1), ("d", 2, 3), ("d", 4, 5), ("d", 6, 7)]


def test_step_clamps_and_starts_at_the_top():
    assert review_flow.step(KEYS, KEYS[1], 1) == KEYS[2]
    assert review_flow.step(KEYS, KEYS[0], -1) == KEYS[0]
    assert review_flow.step(KEYS, KEYS[3], 1) == KEYS[3]
    assert review_flow.step(KEYS, None, 1) == KEYS[0]
    assert review_flow.step([], None, 1) is None


def test_next_after_decision_moves_forward_and_wraps():
    assert review_flow.next_after_decision(KEYS, KEYS[1], {KEYS[0], KEYS[3]}) == KEYS[3]
    assert review_flow.next_after_decision(KEYS, KEYS[3], {KEYS[0]}) == KEYS[0]
    assert review_flow.next_after_decision(KEYS, KEYS[2], set()) == KEYS[2]


def test_merge_order_keeps_the_remembered_order():
    fresh = [KEYS[2], KEYS[0], KEYS[3]]  # KEYS[1] was deleted, KEYS[3] is new
    assert review_flow.merge_order([KEYS[0], KEYS[1], KEYS[2]], fresh) == [KEYS[0], KEYS[2], KEYS[3]]
    assert review_flow.merge_order([], fresh) == fresh


def test_status_for_concept_and_top_probability():
    mention = _mention(0, 4)
    result = _result(mention, 0.6, 0.2)
    assert review_flow.status_for_concept("HP:0", result) is DecisionStatus.ACCEPTED
    assert review_flow.status_for_concept("HP:1", result) is DecisionStatus.CORRECTED
    assert review_flow.status_for_concept("HP:0", None) is DecisionStatus.CORRECTED
    assert review_flow.top_probability(result) == 0.6
    assert review_flow.top_probability(_result(mention, None)) == 0.5  # raw score stands in
    assert review_flow.top_probability(_result(mention)) is None


def test_reliability_bins_use_only_link_verdicts():
    outcomes = [
        (0.95, DecisionStatus.ACCEPTED),
        (0.91, DecisionStatus.CORRECTED),
        (0.15, DecisionStatus.NIL),
        (0.12, DecisionStatus.WRONG_SPAN),  # judges the span, not the link
        (1.0, DecisionStatus.ACCEPTED),  # the top edge belongs to the last bin
    ]
    bins = charts.reliability_bins(outcomes, n_bins=10)
    assert [(b.low, b.count, b.accuracy) for b in bins] == [(0.1, 1, 0.0), (0.9, 3, pytest.approx(2 / 3))]
    assert charts.reliability_figure(bins).data[1].y == (0.0, pytest.approx(2 / 3))
