"""The Review page's browser component: document view and candidate panel, keys handled client-side.

``view.js`` holds a window of the queue and applies every key locally (the next mention is
drawn at once); ``review.py``'s fragment persists the actions it sends back (state value
``sync``) and answers each one. Written by hand: no build step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import streamlit as st

_HERE = Path(__file__).resolve().parent
KEY = "review-view"

_mount = st.components.v2.component(
    "bel_review_view",
    html='<div class="bel-review-loading">Loading the review queue…</div>',
    css=(_HERE / "view.css").read_text(encoding="utf-8"),
    js=(_HERE / "view.js").read_text(encoding="utf-8"),
)


def render(data: Mapping[str, Any], on_sync: Callable[[], None], on_search: Callable[[], None]) -> None:
    """Mount (or update) the component with a window of the queue.

    ``on_sync`` runs when it sends queued actions or its cursor, ``on_search`` when the
    curator typed in its KB search field.
    """
    _mount(key=KEY, data=dict(data), on_sync_change=on_sync, on_search_change=on_search)


def _sent(name: str) -> dict[str, Any]:
    found = st.session_state.get(KEY)
    value = found.get(name) if isinstance(found, Mapping) else None
    return value if isinstance(value, dict) else {}


def sync_value() -> dict[str, Any]:
    """What the component last sent: {"outbox": [...], "cursor": int, "cursor_key", "focus_key", "seq"}."""
    return _sent("sync")


def search_value() -> dict[str, Any]:
    """The search the component asked for last: {"query": str, "seq": int}."""
    return _sent("search")
