"""HTML and table builders for the pages: the only source of strings rendered as raw HTML.

Every piece of document text or KB content that ends up in a string passed to
``st.markdown(..., unsafe_allow_html=True)`` goes through :func:`esc` here, so a
document containing ``<script>`` or Markdown shows that text instead of running it; text
for Streamlit's Markdown elsewhere (captions, messages, labels) goes through :func:`md`.
Pages never build HTML themselves. Nothing in this module talks to Streamlit, so it is
testable on its own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bel_core.types import Candidate, Concept, DecisionStatus, Document, LinkResult, Mention, MentionKey

# Confidence bands for the calibrated top-1 probability (the curator's triage colours).
LOW_CONFIDENCE = 0.5
HIGH_CONFIDENCE = 0.8


@dataclass(frozen=True, slots=True)
class Band:
    """A confidence band: its CSS colours and the legend label."""

    name: str
    background: str
    border: str
    label: str


BANDS: dict[str, Band] = {
    "low": Band("low", "#fde2e1", "#d93025", "low confidence (< 0.5)"),
    "mid": Band("mid", "#fff1cc", "#e37400", "uncertain (0.5 to 0.8)"),
    "high": Band("high", "#dcf3e1", "#188038", "confident (≥ 0.8)"),
    "none": Band("none", "#eceff1", "#78909c", "no candidates"),
}

STATUS_LABELS: dict[DecisionStatus, str] = {
    DecisionStatus.ACCEPTED: "accepted",
    DecisionStatus.CORRECTED: "corrected",
    DecisionStatus.NIL: "NIL (not in KB)",
    DecisionStatus.WRONG_SPAN: "wrong span",
    DecisionStatus.NOT_ENTITY: "not an entity",
    DecisionStatus.SKIPPED: "skipped",
    DecisionStatus.NEEDS_CONTEXT: "needs more context",
    DecisionStatus.UNDECIDED: "undecided",
}


_CHECK = '<span style="font-size:0.8em;margin-left:2px">&#10003;</span>'


def confidence_band(probability: float | None) -> Band:
    """Map a calibrated top-1 probability to its colour band (None: no candidates)."""
    if probability is None:
        return BANDS["none"]
    if probability < LOW_CONFIDENCE:
        return BANDS["low"]
    if probability < HIGH_CONFIDENCE:
        return BANDS["mid"]
    return BANDS["high"]


# Characters that Markdown (CommonMark plus Streamlit's :directive[...] and $math$) gives a
# meaning to. Backslash-escaping them shows document and KB text literally in st.markdown,
# st.caption, st.info and friends; "<", ">" and "&" become entities, so no tag ever reaches
# the renderer.
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()#+-.!|~$:")


def esc(value: object) -> str:
    """Escape any value for HTML text and attribute contexts (quotes included).

    Line breaks become character references too. Streamlit parses these HTML strings as
    Markdown with raw HTML: a blank line would end the HTML block, and the document text
    after it would be read as Markdown (links, images, headings). As references the whole
    string stays one line; the browser still shows the newlines (``white-space:pre-wrap``).
    """
    return html.escape(str(value), quote=True).replace("\r", "&#13;").replace("\n", "&#10;")


# GFM turns bare URLs, "www." names and e-mail addresses into links after escapes are
# decoded, so backslashes cannot stop it; an invisible word joiner inside the pattern does.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=@)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def md(value: object) -> str:
    """Escape text for Streamlit Markdown so it renders verbatim (no formatting, no HTML, no links).

    Every Markdown special character is backslash-escaped, ``<``, ``>`` and ``&`` become
    entities, and a U+2060 word joiner (zero-width) goes after ``:`` in ``://``, after
    ``www`` and after ``@``, where GFM would otherwise link the plain text.
    """
    text = _AUTOLINK.sub(_WORD_JOINER, str(value))
    escaped = "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)
    return html.escape(escaped, quote=False)


def _mention_span(
    mention: Mention,
    probability: float | None,
    status: DecisionStatus | None,
    selected: bool,
) -> str:
    """One highlighted mention as a ``<mark>`` element."""
    band = confidence_band(probability)
    # Decided mentions keep their confidence colour but get a solid underline and a check,
    # so the curator sees both what the model thought and that a human has looked at it.
    decided = status is not None and status not in (DecisionStatus.SKIPPED, DecisionStatus.NEEDS_CONTEXT)
    style = [
        f"background:{band.background}",
        f"border-bottom:{'3px solid' if decided else '2px dashed'} {band.border}",
        "border-radius:3px",
        "padding:0 2px",
    ]
    if selected:
        style.append("outline:2px solid #1a73e8;outline-offset:1px")
    prob_text = "no candidates" if probability is None else f"p = {probability:.2f}"
    title = f"{mention.text} ({prob_text}; {STATUS_LABELS[status] if status else 'undecided'})"
    mark = _CHECK if decided else ""
    return (
        f'<mark class="bel-mention bel-{band.name}" title="{esc(title)}" style="{";".join(style)}">'
        f"{esc(mention.text)}{mark}</mark>"
    )


def highlighted_text_html(
    document: Document,
    mentions: Sequence[Mention],
    probabilities: Mapping[MentionKey, float | None],
    selected_key: MentionKey | None,
    statuses: Mapping[MentionKey, DecisionStatus] | None = None,
) -> str:
    """Render a document with its mentions highlighted by calibrated confidence.

    Args:
        document: the document; its text is escaped, never interpreted.
        mentions: mentions of this document; overlapping ones after the first are left
            unhighlighted here (they stay reachable through the review queue).
        probabilities: calibrated top-1 probability per mention key; missing or None means
            the mention has no candidates (grey).
        selected_key: the mention to outline, if any.
        statuses: latest decision status per mention key (decided mentions get a check).

    Returns:
        A ``<div>`` safe to pass to ``st.markdown(..., unsafe_allow_html=True)``.
    """
    statuses = statuses or {}
    text = document.text
    parts: list[str] = []
    cursor = 0
    for mention in sorted(mentions, key=lambda m: (m.start, -m.end)):
        if mention.start < cursor or mention.end > len(text):
            continue
        parts.append(esc(text[cursor : mention.start]))
        parts.append(
            _mention_span(
                mention,
                probabilities.get(mention.key),
                statuses.get(mention.key),
                mention.key == selected_key,
            )
        )
        cursor = mention.end
    parts.append(esc(text[cursor:]))
    # pre-wrap keeps the document's own newlines, so what the curator sees matches the offsets.
    style = "white-space:pre-wrap;line-height:1.9;font-size:1.02rem;overflow-wrap:anywhere"
    return f'<div class="bel-document" style="{style}">{"".join(parts)}</div>'


def legend_html() -> str:
    """A one-line legend for the highlight colours and the decided mark."""
    item = "display:inline-block;white-space:nowrap;padding:0 4px;margin:0 10px 4px 0;border-radius:3px"
    items = [
        f'<span style="{item};background:{b.background};border-bottom:2px dashed {b.border}">{esc(b.label)}</span>'
        for b in BANDS.values()
    ]
    items.append(f'<span style="{item};border-bottom:3px solid #5f6368">decided {_CHECK}</span>')
    items.append(f'<span style="{item};outline:2px solid #1a73e8">selected</span>')
    return f'<div class="bel-legend" style="font-size:0.85rem">{"".join(items)}</div>'


def context_html(document: Document, mention: Mention, window: int = 120, label: str = "") -> str:
    """The sentence-sized context around a mention, the mention in bold, all escaped.

    ``label`` (e.g. the doc_id, in a group preview) is shown first, in grey.
    """
    left_start = max(0, mention.start - window)
    right_end = min(len(document.text), mention.end + window)
    left = ("…" if left_start > 0 else "") + document.text[left_start : mention.start]
    right = document.text[mention.end : right_end] + ("…" if right_end < len(document.text) else "")
    return (
        '<div class="bel-context" style="white-space:pre-wrap;line-height:1.7;padding:0.5rem 0.75rem;'
        'background:#f8f9fa;border-left:4px solid #1a73e8;border-radius:4px">'
        + (f'<span style="color:#5f6368;font-size:0.85em">{esc(label)} · </span>' if label else "")
        + f'{esc(left)}<b style="background:#e8f0fe;padding:0 2px">{esc(mention.text)}</b>{esc(right)}</div>'
    )


def mention_caption(mention: Mention) -> str:
    """Plain-text facts about a mention: document, offsets, origin, label, ids from the file."""
    parts = [mention.doc_id, f"characters {mention.start}-{mention.end}", mention.origin.value]
    if mention.label:
        parts.append(f"label {mention.label}")
    if mention.annotated_ids:
        parts.append(f"file ids {'|'.join(mention.annotated_ids)}")
    return " · ".join(parts)


def candidate_rows(result: LinkResult | None) -> list[dict[str, object]]:
    """Ranked candidates as plain rows for ``st.dataframe`` (Streamlit escapes cell text).

    Each row has the rank, concept id and name, the alias that matched, the stage that
    scored it, the raw score, the calibrated probability and the per-stage raw scores.
    """
    if result is None:
        return []
    return [
        {
            "rank": rank,
            "concept_id": c.concept_id,
            "name": c.name,
            "matched_alias": c.matched_alias,
            "stage": c.stage,
            "raw_score": round(c.raw_score, 4),
            "probability": None if c.calibrated_score is None else round(c.calibrated_score, 4),
            "stage_scores": ", ".join(f"{stage} {score:.3f}" for stage, score in c.stage_scores),
        }
        for rank, c in enumerate(result.candidates, start=1)
    ]


def candidate_label(rank: int, candidate: Candidate) -> str:
    """Short plain-text label for a candidate (used in selectboxes and buttons)."""
    return f"{rank}. {candidate.name} ({candidate.concept_id})"


def concept_card(concept: Concept) -> str:
    """A KB concept as an HTML card: name, id, synonyms, definition, types, parents, xrefs."""

    def field_row(label: str, values: Sequence[str]) -> str:
        if not values:
            return ""
        joined = ", ".join(esc(v) for v in values)
        return f'<div style="margin-top:0.25rem"><span style="color:#5f6368">{esc(label)}:</span> {joined}</div>'

    definition = (
        f'<div style="margin-top:0.35rem;font-style:italic">{esc(concept.definition)}</div>'
        if concept.definition
        else ""
    )
    return (
        '<div class="bel-concept" style="border:1px solid #dadce0;border-radius:8px;padding:0.75rem 1rem">'
        f'<div style="font-weight:600;font-size:1.05rem">{esc(concept.name)} '
        f'<code style="font-weight:400">{esc(concept.concept_id)}</code></div>'
        f"{definition}"
        f"{field_row('Synonyms', concept.synonyms)}"
        f"{field_row('Types', concept.types)}"
        f"{field_row('Parents', concept.parents)}"
        f"{field_row('Cross-references', concept.xrefs)}"
        f"{field_row('Alternative ids', concept.alt_ids)}"
        "</div>"
    )
