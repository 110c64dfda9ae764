"""Typed accessors for ``st.session_state``: ids and cursors only.

Session state is lost when the server restarts, so the database is the source of truth:
pages keep here only *which* document and mention the curator is looking at (plain,
picklable values), who is logged in, an open span edit, plus one short message to show
after a rerun.
"""

from __future__ import annotations

import streamlit as st

MentionKey = tuple[str, int, int]

_DOC_ID = "bel_current_doc_id"
_MENTION_KEY = "bel_current_mention_key"
_FLASH = "bel_flash"
_QUEUE_ORDER = "bel_queue_order"
_ALERT = "bel_alert"
_USER = "bel_user"
_SPAN_EDIT = "bel_span_edit"


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


def queue_order(scope: str) -> list[MentionKey]:
    """The review order remembered for a queue ``scope`` (empty when other filters were used)."""
    value = st.session_state.get(_QUEUE_ORDER)
    if not isinstance(value, tuple) or len(value) != 2 or value[0] != scope:
        return []
    return [(str(d), int(s), int(e)) for d, s, e in value[1]]


def set_queue_order(scope: str, order: list[MentionKey]) -> None:
    """Remember the review order of a queue scope so that deciding does not reshuffle it."""
    st.session_state[_QUEUE_ORDER] = (scope, tuple(order))


def flash(message: str) -> None:
    """Remember a confirmation to show once, after the next rerun."""
    st.session_state[_FLASH] = message


def pop_flash() -> str | None:
    """The pending confirmation message, removed so it shows only once."""
    value = st.session_state.pop(_FLASH, None)
    return value if isinstance(value, str) else None


def alert(kind: str, message: str) -> None:
    """Remember a warning or error (``kind`` "warning" or "error") to show once after the rerun."""
    st.session_state[_ALERT] = (kind, message)


def pop_alert() -> tuple[str, str] | None:
    """The pending (kind, message), removed so it shows only once."""
    value = st.session_state.pop(_ALERT, None)
    return (str(value[0]), str(value[1])) if isinstance(value, tuple) and len(value) == 2 else None


def logged_in() -> tuple[str, str] | None:
    """(user name, role value) of the logged-in curator, if any."""
    value = st.session_state.get(_USER)
    return (str(value[0]), str(value[1])) if isinstance(value, tuple) and len(value) == 2 else None


def set_logged_in(name: str | None, role: str = "") -> None:
    """Log a curator in (or out, with None)."""
    st.session_state[_USER] = None if name is None else (name, role)


def span_edit() -> tuple[MentionKey, int, int] | None:
    """The open span edit: (mention being corrected, proposed start, proposed end)."""
    value = st.session_state.get(_SPAN_EDIT)
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    (doc_id, start, end), new_start, new_end = value
    return (str(doc_id), int(start), int(end)), int(new_start), int(new_end)


def set_span_edit(key: MentionKey | None, start: int = 0, end: int = 0) -> None:
    """Open (or, with None, close) the span editor on a mention."""
    st.session_state[_SPAN_EDIT] = None if key is None else (tuple(key), start, end)
