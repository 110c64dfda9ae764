"""Typed accessors for ``st.session_state``: ids and cursors only.

Session state is lost when the server restarts, so the database is the source of truth:
pages keep here only *which* document and mention the curator is looking at (plain,
picklable values), plus one short message to show after a rerun.
"""

from __future__ import annotations

import streamlit as st

MentionKey = tuple[str, int, int]

_DOC_ID = "bel_current_doc_id"
_MENTION_KEY = "bel_current_mention_key"
_FLASH = "bel_flash"
_QUEUE_ORDER = "bel_queue_order"


def current_doc_id() -> str | None:
    """The document open in Review, if any."""
    value = st.session_state.get(_DOC_ID)
    return value if isinstance(value, str) else None


def set_current_doc_id(doc_id: str | None) -> None:
    """Open a document in Review; forgets the mention cursor when the document changes."""
    if doc_id != current_doc_id():
        st.session_state[_MENTION_KEY] = None
    st.session_state[_DOC_ID] = doc_id


def current_mention_key() -> MentionKey | None:
    """The (doc_id, start, end) of the mention under review, if any."""
    value = st.session_state.get(_MENTION_KEY)
    if isinstance(value, tuple | list) and len(value) == 3:
        doc_id, start, end = value
        return (str(doc_id), int(start), int(end))
    return None


def set_current_mention_key(key: MentionKey | None) -> None:
    """Move the review cursor to a mention (or clear it)."""
    st.session_state[_MENTION_KEY] = None if key is None else tuple(key)


def queue_order(doc_id: str) -> list[MentionKey]:
    """The review order remembered for ``doc_id`` (empty when another document was open)."""
    value = st.session_state.get(_QUEUE_ORDER)
    if not isinstance(value, tuple) or len(value) != 2 or value[0] != doc_id:
        return []
    return [(str(d), int(s), int(e)) for d, s, e in value[1]]


def set_queue_order(doc_id: str, order: list[MentionKey]) -> None:
    """Remember the review order of ``doc_id`` so that deciding does not reshuffle it."""
    st.session_state[_QUEUE_ORDER] = (doc_id, tuple(order))


def flash(message: str) -> None:
    """Remember a confirmation to show once, after the next rerun."""
    st.session_state[_FLASH] = message


def pop_flash() -> str | None:
    """The pending confirmation message, removed so it shows only once."""
    value = st.session_state.pop(_FLASH, None)
    return value if isinstance(value, str) else None
