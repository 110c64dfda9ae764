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


def render(data: Mapping[str, Any], on_sync: Callable[[], None]) -> None:
    """Mount (or update) the component with a window of the queue; ``on_sync`` runs when it sends actions."""
    _mount(key=KEY, data=dict(data), on_sync_change=on_sync)


def sync_value() -> dict[str, Any]:
    """What the component last sent: {"outbox": [...], "cursor": int, "cursor_key", "focus_key", "seq"}."""
    found = st.session_state.get(KEY)
    value = found.get("sync") if isinstance(found, Mapping) else None
    return value if isinstance(value, dict) else {}
