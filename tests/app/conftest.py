"""AppTest fixtures: the real app and the real LinkingPipeline on the tiny KB, dense retrieval off.

Each test gets its own data directory (caches) through ``BEL_*`` variables, and each test
that runs the app or reads its store (``app``, ``store``) runs once on SQLite and once on
PostgreSQL (``store_url`` in ``tests/conftest.py``, handed over as ``BEL_DB_URL``).
``st.cache_resource`` is cleared around every test so no settings, store or linker leaks
from one test to the next. A SQLite *file* is used, not ``:memory:``, because AppTest runs the
script in another thread and an in-memory database is per connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.orm import Session, sessionmaker
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

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
    """Start the app (router included) and optionally switch to a page, e.g. ``app("review")``."""

    def start(page: str | None = None) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
        if page is not None:
            at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, at.exception
        return at

    return start


def click(at: AppTest, label: str) -> AppTest:
    """Click the button (or form submit button) with this label and rerun."""
    buttons = [b for b in at.button if b.label == label]
    assert buttons, f"no button {label!r}; have {[b.label for b in at.button]}"
    buttons[0].click().run()
    assert not at.exception, at.exception
    return at


def paste(at: AppTest, text: str, doc_id: str = "") -> AppTest:
    """Paste a document on the Documents page and add it."""
    at.text_area[0].input(text)
    if doc_id:
        at.text_input[0].input(doc_id)
    return click(at, "Add document")
