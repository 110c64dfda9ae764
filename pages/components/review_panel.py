"""The Review page's decision panel: verdict buttons, candidates, span editor, near-duplicate group.

Keyboard (every action is one key; the span editor's moves are one key each):
``1``-``9`` link candidate k (``a`` = accept the top one) · ``n`` NIL · ``x`` not an
entity · ``q`` needs more context · ``s`` skip · ``u`` undo · ``j``/``k`` next/previous ·
``w`` wrong span (then ``Shift+Left``/``Shift+Right`` move the start, ``Left``/``Right``
the end, ``Enter`` saves keeping the concept, ``Esc`` cancels) · ``g`` accept the top
candidate for the whole near-duplicate group shown below.

Every button acts through an ``on_click`` callback whose arguments were fixed when the
panel was drawn, so the decision id the curator saw travels with the click.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import streamlit as st

from bel_core.types import Candidate, DecisionStatus, LinkResult, Mention
from pages.components import review_actions, review_compare, review_flow, state, widgets
from pages.components.review_actions import Reviewer
from pages.components.review_data import MentionView

MentionKey = tuple[str, int, int]
SPAN_MOVES: tuple[tuple[str, str, Literal["start", "end"], Literal[-1, 1]], ...] = (
    ("◀ start", "Shift+Left", "start", -1),
    ("start ▶", "Shift+Right", "start", 1),
    ("◀ end", "Left", "end", -1),
    ("end ▶", "Right", "end", 1),
)
VERDICT_KEYS: tuple[tuple[DecisionStatus, str, str, str], ...] = (
    # status, button label, shortcut, help
    (DecisionStatus.NIL, "NIL", "n", "An entity whose concept is not in the KB"),
    (DecisionStatus.NOT_ENTITY, "Not entity", "x", "The span is not an entity of interest"),
    (DecisionStatus.NEEDS_CONTEXT, "Needs context", "q", "Defer: the surrounding text does not settle it"),
    (DecisionStatus.SKIPPED, "Skip", "s", "Defer without a reason"),
)


def _decide(
    rv: Reviewer,
    mention: Mention,
    status: DecisionStatus,
    concept_ids: Sequence[str],
    expected: int | None,
    hidden: bool,
    advance_to: MentionKey,
) -> None:
    key, text = mention.key, mention.text
    if review_actions.perform(
        lambda: review_actions.decide(rv, key, text, status, concept_ids, expected=expected, hidden=hidden)
    ):
        state.set_current_mention_key(advance_to)


def _link(
    rv: Reviewer,
    mention: Mention,
    result: LinkResult | None,
    concept_id: str,
    expected: int | None,
    hidden: bool,
    advance_to: MentionKey,
) -> None:
    status = review_flow.status_for_concept(concept_id, result)
    _decide(rv, mention, status, [concept_id], expected, hidden, advance_to)


def _undo(rv: Reviewer, mention: Mention, expected: int | None) -> None:
    review_actions.perform(lambda: review_actions.undo(rv, mention.key, mention.text, expected=expected))


def _open_span_editor(mention: Mention) -> None:
    state.set_span_edit(mention.key, mention.start, mention.end)


def _move_edge(text: str, edge: Literal["start", "end"], direction: Literal[-1, 1]) -> None:
    found = state.span_edit()
    if found is not None:
        key, start, end = found
        state.set_span_edit(key, *review_flow.move_boundary(text, (start, end), edge, direction))


def _save_span(rv: Reviewer, key: MentionKey, expected: int | None) -> None:
    found = state.span_edit()
    if found is not None:
        review_actions.perform(lambda: review_actions.correct_span(rv, key, found[1:], expected=expected))


def _group(rv: Reviewer, expected: dict[MentionKey, int | None], concept_id: str, advance_to: MentionKey) -> None:
    if review_actions.perform(
        lambda: review_actions.decide_group(rv, expected, DecisionStatus.ACCEPTED, [concept_id])
    ):
        state.set_current_mention_key(advance_to)


def render_navigation(order: Sequence[MentionKey], key: MentionKey, n_undecided: int) -> None:
    """Previous/next buttons around the queue position."""

    def move(offset: int) -> None:
        state.set_current_mention_key(review_flow.step(order, state.current_mention_key(), offset))

    prev_col, label_col, next_col = st.columns([3, 4, 3], vertical_alignment="center")
    prev_col.button("Previous", key="prev", shortcut="k", on_click=move, args=(-1,), width="stretch")
    next_col.button("Next", key="next", shortcut="j", on_click=move, args=(1,), width="stretch")
    label_col.markdown(
        f"Item **{order.index(key) + 1}** of {len(order)} · {n_undecided} undecided", text_alignment="center"
    )


def render(
    rv: Reviewer,
    mention: Mention,
    view: MentionView,
    *,
    blind: bool,
    advance_to: MentionKey,
    default_order: str = "reranker",
) -> None:
    """The panel for one mention: header, context, verdicts, candidates (unless blind), group.

    When the generative linker ranked the mention too, the list merges both models' candidates
    (``review_compare``), ordered by the model the curator picks (``default_order`` at first).
    """
    result = view.results.get(mention.key)
    generated = None if blind else view.generator_results.get(mention.key)
    candidates = result.candidates if result and not blind else ()
    expected = view.latest.id if view.latest else None
    common = {"expected": expected, "hidden": blind, "advance_to": advance_to}

    st.subheader(f"“{widgets.md(mention.text)}”", anchor=False)
    st.caption(widgets.md(widgets.mention_caption(mention)))
    st.markdown(widgets.context_html(view.document, mention), unsafe_allow_html=True)
    if view.latest is not None:
        d = view.latest.decision
        ids = f": {', '.join(d.concept_ids)}" if d.concept_ids else ""
        st.info(widgets.md(f"Latest decision: {widgets.STATUS_LABELS[d.status]}{ids} (by {d.curator})"))
    if blind:
        st.warning("Blind review: suggestions and scores are hidden for this mention. Find the concept by search.")
    merged = review_compare.comparison(None if blind else result, generated, default_order=default_order)
    rows = merged.rows
    two_models = generated is not None and bool(generated.candidates)

    with st.container(horizontal=True, gap="small"):
        st.button(
            "Accept top",
            key="accept",
            shortcut="a",
            type="primary",
            disabled=not rows,
            on_click=_link,
            args=(rv, mention, result, rows[0].concept_id if rows else ""),
            kwargs=common,
        )
        for status, label, shortcut, help_text in VERDICT_KEYS:
            st.button(
                label,
                key=status.value,
                shortcut=shortcut,
                help=help_text,
                on_click=_decide,
                args=(rv, mention, status, ()),
                kwargs=common,
            )
        st.button("Wrong span", key="wrong-span", shortcut="w", on_click=_open_span_editor, args=(mention,))
        st.button(
            "Undo",
            key="undo",
            shortcut="u",
            disabled=view.latest is None,
            on_click=_undo,
            args=(rv, mention, expected),
        )

    edit = state.span_edit()
    if edit is not None and edit[0] == mention.key:
        _render_span_editor(rv, mention, view, edit[1:], expected)

    if not blind and not rows:
        st.warning("No KB candidates for this mention: search the KB on the left, or mark it NIL.")
    for rank, row in review_compare.visible_rows(merged):
        candidate = row.candidate
        widths = [1, 7, 6] if two_models else [1, 8, 4]  # two models' scores need the room
        pick_col, name_col, score_col = st.columns(widths, vertical_alignment="center")
        pick_col.button(
            str(rank) if rank <= 9 else "",
            icon=None if rank <= 9 else ":material/add_link:",  # rows past nine have no number key
            key=f"pick-{rank}",
            shortcut=str(rank) if rank <= 9 else None,
            type="primary" if rank == 1 else "secondary",
            help=f"Link to {candidate.name} ({candidate.concept_id})",
            on_click=_link,
            args=(rv, mention, result, candidate.concept_id),
            kwargs=common,
        )
        name_col.markdown(
            f"**{widgets.md(candidate.name)}** · {widgets.md(candidate.concept_id)}  \n"
            f":small[:gray[matched “{widgets.md(candidate.matched_alias)}” · {widgets.md(candidate.stage)}]]"
        )
        score_col.progress(
            review_compare.bar_value(row, merged.order_by),
            text=review_compare.score_text(row, two_models=two_models),
        )
    if len(candidates) > 1:
        _render_composite(rv, mention, candidates, common)
    if len(view.group) > 1 and candidates:
        _render_group(rv, view, candidates[0].concept_id, candidates[0].name, advance_to)


def _render_span_editor(
    rv: Reviewer, mention: Mention, view: MentionView, span: tuple[int, int], expected: int | None
) -> None:
    text = view.document.text
    with st.container(border=True):
        st.markdown(f"**Correct the span** · now {span[0]}-{span[1]}: “{widgets.md(text[span[0] : span[1]])}”")
        st.markdown(
            widgets.context_html(view.document, Mention(mention.doc_id, *span, text[span[0] : span[1]])),
            unsafe_allow_html=True,
        )
        with st.container(horizontal=True, gap="small"):
            for label, shortcut, edge, direction in SPAN_MOVES:
                st.button(
                    label,
                    key=f"span-{edge}-{direction}",
                    shortcut=shortcut,
                    on_click=_move_edge,
                    args=(text, edge, direction),
                )
            st.button(
                "Save span",
                key="span-save",
                shortcut="Enter",
                type="primary",
                disabled=span == (mention.start, mention.end),
                on_click=_save_span,
                args=(rv, mention.key, expected),
            )
            st.button("Cancel", key="span-cancel", shortcut="Esc", on_click=state.set_span_edit, args=(None,))


def _render_composite(rv: Reviewer, mention: Mention, candidates: Sequence[Candidate], common: dict[str, Any]) -> None:
    labels = {c.concept_id: widgets.candidate_label(rank, c) for rank, c in enumerate(candidates, start=1)}
    with st.expander("Composite mention: link several concepts"):
        chosen = st.multiselect(
            "Concepts", list(labels), format_func=labels.__getitem__, key=f"composite-{mention.start}-{mention.end}"
        )
        st.button(
            "Link all chosen",
            key="composite-link",
            disabled=len(chosen) < 2,
            on_click=_decide,
            args=(rv, mention, DecisionStatus.CORRECTED, tuple(chosen)),
            kwargs=common,
        )


def _render_group(rv: Reviewer, view: MentionView, concept_id: str, name: str, advance_to: MentionKey) -> None:
    n = len(view.group)
    st.markdown(f"**{n} near-duplicates** · same text, same top concept {widgets.md(name)} ({widgets.md(concept_id)})")
    with st.container(height=min(80 + 70 * n, 320), border=True):
        for member in view.group:
            st.markdown(
                widgets.context_html(member.document, member.mention, window=70, label=member.mention.doc_id),
                unsafe_allow_html=True,
            )
    expected = {m.mention.key: m.latest_id for m in view.group}
    st.button(
        f"Accept top for all {n}",
        key="group-accept",
        shortcut="g",
        on_click=_group,
        args=(rv, expected, concept_id, advance_to),
    )
