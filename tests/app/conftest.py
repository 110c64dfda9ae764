"""AppTest fixtures: the real app and the real LinkingPipeline on the tiny KB, dense retrieval off.

Each test gets its own data directory (caches) through ``BEL_*`` variables, and each test
that runs the app or reads its store (``app``, ``store``) runs once on SQLite and once on
PostgreSQL (``store_url`` in ``tests/conftest.py``, handed over as ``BEL_DB_URL``).
``st.cache_resource`` is cleared around every test so no settings, store or linker leaks
from one test to the next. A SQLite *file* is used, not ``:memory:``, because AppTest runs the
script in another thread and an in-memory database is per connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy.orm import Session, sessionmaker
from streamlit import config as st_config
from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import UnknownElement

from db.engine import open_store

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
# Building the pipeline (TF-IDF + calibration on 16 concepts) takes about a second; the
# margin is for the shared 2-core test machines.
TIMEOUT_S = 60
_SERIALIZABLE = "runner.enforceSerializableSessionState"

# Detected in this text by the tiny KB's dictionary: seizures, short stature, ASD, migraine headache.
CLINICAL_TEXT = (
    "The girl had seizures and short stature. Echocardiography showed an ASD. Her mother reports migraine headache."
)


@pytest.fixture(autouse=True)
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_kb_path: Path) -> Iterator[Path]:
    """Point the app at a fresh data directory and the tiny KB; yields the data directory."""
    monkeypatch.syspath_prepend(str(REPO))  # pages import pages.components.* from the repo root
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BEL_KB", str(tiny_kb_path))
    monkeypatch.setenv("BEL_DENSE_ENABLED", "0")
    monkeypatch.setenv("BEL_CURATOR", "tester")
    monkeypatch.delenv("BEL_CONFIG", raising=False)
    monkeypatch.delenv("BEL_DB_URL", raising=False)
    # AppTest keeps widget format_func callables in session state, which cannot be pickled;
    # the serializability check in .streamlit/config.toml is for the real server only.
    enforced = st_config.get_option(_SERIALIZABLE)
    st_config.set_option(_SERIALIZABLE, False)
    st.cache_resource.clear()
    yield tmp_path
    st.cache_resource.clear()
    st_config.set_option(_SERIALIZABLE, enforced)


@pytest.fixture
def app_store_url(app_env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store the app uses, on each backend in turn."""
    monkeypatch.setenv("BEL_DB_URL", store_url)
    return store_url


@pytest.fixture
def store(app_store_url: str) -> sessionmaker[Session]:
    """A session factory on the same store the app uses, for asserting what it stored."""
    return open_store(app_store_url)


@pytest.fixture
def app(app_store_url: str) -> Callable[..., AppTest]:
    """Start the app (router included) and optionally switch to a page, e.g. ``app("review")``.

    A page that crashed fails the test, unless the test is about how a crash is shown
    (``crash_expected=True``).
    """

    def start(page: str | None = None, *, crash_expected: bool = False) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
        if page is not None:
            at.switch_page(f"pages/{page}.py").run()
        return at if crash_expected else ok(at)

    return start


def ok(at: AppTest) -> AppTest:
    """Fail on a crash: an exception AppTest saw, or one app.py's catch-all turned into its error message."""
    assert not at.exception, at.exception
    crashed = [e.value for e in at.error if "Something went wrong" in e.value]
    assert not crashed, f"the page crashed (see the log above): {crashed}"
    return at


def click(at: AppTest, label: str) -> AppTest:
    """Click the button (or form submit button) with this label and rerun."""
    buttons = [b for b in at.button if b.label == label]
    assert buttons, f"no button {label!r}; have {[b.label for b in at.button]}"
    buttons[0].click().run()
    return ok(at)


# AppTest has no wrapper for st.components.v2 elements: the Review component is found in the
# element tree, and its trigger is sent as the widget state the browser would send (Streamlit's
# own trigger id), so the page's on_sync/on_search callbacks run as in the real server.
def _review_component(at: AppTest) -> UnknownElement:
    found = [n for n in _walk(at._tree) if isinstance(n, UnknownElement) and n.type == "bidi_component"]
    assert len(found) == 1, f"expected the Review component once, found {len(found)}"
    return found[0]


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def review_data(at: AppTest) -> dict[str, Any]:
    """The data the Review page sent to its browser component (the queue window, answers, search hits)."""
    return json.loads(_review_component(at).proto.json)


def send(at: AppTest, event: str, value: Mapping[str, Any]) -> AppTest:
    """Fire the Review component's trigger ``event`` ("sync", "search") as view.js does, and rerun."""
    widgets = at._tree.get_widget_states()
    trigger = widgets.widgets.add()
    trigger.id = _make_trigger_id(_review_component(at).proto.id, "events")
    trigger.json_trigger_value = json.dumps([{"event": event, "value": dict(value)}])
    at._run(widgets)
    return ok(at)


def paste(at: AppTest, text: str, doc_id: str = "") -> AppTest:
    """Paste a document on the Documents page and add it."""
    at.text_area[0].input(text)
    if doc_id:
        at.text_input[0].input(doc_id)
    return click(at, "Add document")


def current(at: AppTest) -> tuple[str, int, int]:
    """The mention under the Review cursor: the remembered queue order at the remembered index."""
    order = at.session_state["bel_queue_order"][1]
    doc_id, start, end = order[at.session_state["bel_review_cursor"][1]]
    return (doc_id, start, end)


def accept_top(at: AppTest) -> AppTest:
    """Accept the top candidate of the mention under the Review cursor, as its ``a`` key does."""
    data = review_data(at)
    item = next(i for i in data["items"] if i["i"] == data["cursor"])
    action = {
        "id": f"accept-{data['cursor']}",
        "kind": "decide",
        "key": item["key"],
        "status": "accepted",
        "concept_ids": [item["candidates"][0]["id"]],
        "expected": item["latest_id"],
    }
    send(at, "sync", {"outbox": [action], "cursor": data["cursor"] + 1})
    assert review_data(at)["acks"][action["id"]]["ok"], review_data(at)["acks"][action["id"]]
    return at
