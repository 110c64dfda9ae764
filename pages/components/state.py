"""Typed accessors for ``st.session_state``: ids and cursors only.

Session state is lost when the server restarts, so the database is the source of truth:
pages keep here only *which* document and mention the curator is looking at (plain,
picklable values), who is logged in, one short message to show after a rerun, and what
the Review component needs between reruns (the queue order and cursor, the answers given
to its queued actions, the documents it was sent).
"""

from __future__ import annotations

import streamlit as st

from bel_core.types import MentionKey
from usecases.review import DocumentView, TextCounts

_DOC_ID = "bel_current_doc_id"
_FLASH = "bel_flash"
_QUEUE_ORDER = "bel_queue_order"
_ALERT = "bel_alert"
_USER = "bel_user"


def current_doc_id() -> str | None:
    """The document open in Review, if any."""
    value = st.session_state.get(_DOC_ID)
    return value if isinstance(value, str) else None


def set_current_doc_id(doc_id: str | None) -> None:
    """Open a document in Review (its queue, a filter choice of its own, has its own cursor)."""
    st.session_state[_DOC_ID] = doc_id


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


_CURSOR = "bel_review_cursor"
_ANSWERS = "bel_review_answers"
_GOTO = "bel_review_goto"
_MAX_ANSWERS = 2000  # enough for every action a component can still be waiting on


def review_cursor(scope: str) -> int | None:
    """Where the Review component's cursor was last reported, in the queue of ``scope``."""
    value = st.session_state.get(_CURSOR)
    return int(value[1]) if isinstance(value, tuple) and len(value) == 2 and value[0] == scope else None


def set_review_cursor(scope: str, index: int) -> None:
    """Remember the Review cursor (an index into the remembered queue order of ``scope``)."""
    st.session_state[_CURSOR] = (scope, int(index))


def review_answers() -> dict[str, dict[str, object]]:
    """Answers already given to the component's actions, by action id (JSON-ready outcomes)."""
    value = st.session_state.get(_ANSWERS)
    if not isinstance(value, dict):
        value = {}
        st.session_state[_ANSWERS] = value
    return value


def remember_answers(answers: dict[str, dict[str, object]]) -> None:
    """Add answers; the oldest are forgotten past a bound (the component has dropped them)."""
    known = review_answers()
    known.update(answers)
    for stale in list(known)[: max(0, len(known) - _MAX_ANSWERS)]:
        del known[stale]


def review_goto() -> tuple[int, int] | None:
    """A cursor move the server asks of the component: (nonce, queue index)."""
    value = st.session_state.get(_GOTO)
    return (int(value[0]), int(value[1])) if isinstance(value, tuple) and len(value) == 2 else None


def set_review_goto(index: int) -> None:
    """Ask the component to move its cursor to ``index`` (a fresh nonce, so it happens once)."""
    previous = review_goto()
    st.session_state[_GOTO] = ((previous[0] + 1) if previous else 1, int(index))


_RETRIES = "bel_review_retries"


def review_retries() -> dict[str, dict[str, object]]:
    """Answers "busy, send again" from the latest attempt, by action id (not remembered for good)."""
    value = st.session_state.get(_RETRIES)
    return value if isinstance(value, dict) else {}


def set_review_retries(answers: dict[str, dict[str, object]]) -> None:
    """Replace the transient "send again" answers."""
    st.session_state[_RETRIES] = answers


_DOCUMENTS = "bel_review_documents"
_MAX_DOCUMENTS = 400


def review_documents() -> dict[tuple[str, int | None], DocumentView]:
    """What the Review component was sent of each document, by (doc_id, newest link run id)."""
    value = st.session_state.get(_DOCUMENTS)
    if not isinstance(value, dict):
        value = {}
        st.session_state[_DOCUMENTS] = value
    return value


def remember_review_documents(found: dict[tuple[str, int | None], DocumentView]) -> None:
    """Add documents read for the component; the oldest are forgotten past a bound."""
    known = review_documents()
    known.update(found)
    for stale in list(known)[: max(0, len(known) - _MAX_DOCUMENTS)]:
        del known[stale]


_ORDER_VERSION = "bel_review_order_version"


def review_order_version() -> int:
    """Bumped whenever mentions are inserted into the remembered order (indices after them move)."""
    value = st.session_state.get(_ORDER_VERSION)
    return value if isinstance(value, int) else 0


def bump_review_order() -> None:
    """Record that the remembered order's indices changed."""
    st.session_state[_ORDER_VERSION] = review_order_version() + 1


_TEXT_COUNTS = "bel_review_text_counts"


def review_text_counts(version: int) -> TextCounts | None:
    """The group-preview counts remembered for ``version`` (the queue's size), if any."""
    value = st.session_state.get(_TEXT_COUNTS)
    return value[1] if isinstance(value, tuple) and len(value) == 2 and value[0] == version else None


def set_review_text_counts(version: int, counts: TextCounts) -> None:
    """Remember the group-preview counts for ``version``."""
    st.session_state[_TEXT_COUNTS] = (version, counts)


_SEARCH = "bel_review_search"


def review_search() -> dict[str, object] | None:
    """The latest answer to the Review component's KB search field (hits or an error, with its seq)."""
    value = st.session_state.get(_SEARCH)
    return value if isinstance(value, dict) else None


def set_review_search(answer: dict[str, object]) -> None:
    """Remember the answer to send with the next redraw."""
    st.session_state[_SEARCH] = answer
