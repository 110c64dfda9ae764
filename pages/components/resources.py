"""Process-wide resources shared by every session: settings, the store, the linker.

``st.cache_resource`` makes each of them a singleton per server process. The store is a
``sessionmaker`` (thread-safe); each page opens a short ``with store.begin() as s:`` per
user action, and no Session is ever cached or kept in session state. The linker is
read-only after it is built, so sessions share it without locks.

Configuration errors and models that cannot load are shown on the page with
``st.error`` and stop the script: the curator sees what to fix, not a traceback.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import NoReturn

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from bel_core.config import Settings
from bel_core.errors import BelError
from bel_core.pipeline import LinkingPipeline
from db.engine import open_store
from pages.components.widgets import md

logger = logging.getLogger(__name__)


def stop_with_error(error: BelError) -> NoReturn:
    """Show a BelError's message (it says what to fix) and end this script run."""
    st.error(md(error))
    st.stop()


@st.cache_resource(show_spinner=False)
def _load_settings() -> Settings:
    # Below the UI nothing reads os.environ; the app passes the environment in once, here.
    return Settings.load(env=os.environ)


def get_settings() -> Settings:
    """The app's settings (TOML file named by ``BEL_CONFIG`` plus ``BEL_*`` variables)."""
    try:
        return _load_settings()
    except BelError as e:
        stop_with_error(e)


@st.cache_resource(show_spinner="Opening the database…")
def _open_store(db_url: str) -> sessionmaker[Session]:
    return open_store(db_url)


def get_store() -> sessionmaker[Session]:
    """Session factory for the curation database (created and migrated on first use)."""
    return _open_store(get_settings().resolved_db_url)


@dataclass
class _LinkerSlot:
    """Holds the process's linker once built; the lock makes concurrent first loads wait."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    linker: LinkingPipeline | None = None


@st.cache_resource(show_spinner=False)
def _linker_slot() -> _LinkerSlot:
    # The pipeline is not built inside a cached function on purpose: Streamlit records the
    # elements a cached function draws and replays them on every cache hit, which would
    # redraw the build progress bar on each page load. The slot is cached; the build is not.
    return _LinkerSlot()


# What each pipeline build stage is doing, in the curator's words.
_STAGE_TEXT = {
    "kb": "Loading the knowledge base",
    "tfidf": "Building the TF-IDF index",
    "dense": "Encoding KB names for dense retrieval (first start only; cached afterwards)",
    "calibrate": "Calibrating scores",
}


class _BuildProgress:
    """Progress callback for ``LinkingPipeline.from_settings``: one bar with the stage name."""

    def __init__(self) -> None:
        self._bar = st.progress(0.0, text="Preparing the linker…")
        self._started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        fraction = min(1.0, done / total) if total > 0 else 0.0
        # Small stages report 0/1 and 1/1; counts only help for long ones (dense encoding).
        counts = f" · {done:,} / {total:,}" if total > 1 else ""
        elapsed = time.monotonic() - self._started
        self._bar.progress(fraction, text=f"{_STAGE_TEXT.get(stage, stage)}{counts} · {elapsed:.0f} s")

    def close(self) -> None:
        """Remove the bar once the linker is ready."""
        self._bar.empty()


def get_linker() -> LinkingPipeline:
    """The linking pipeline, built on first use with a progress bar (minutes on the full HPO).

    Later calls return the built pipeline at once. A build error (missing KB file, model
    that cannot load offline) is shown with ``st.error`` and stops the page; the next run
    tries again.
    """
    slot = _linker_slot()
    if slot.linker is not None:
        return slot.linker
    with slot.lock:
        if slot.linker is None:
            progress = _BuildProgress()
            try:
                slot.linker = LinkingPipeline.from_settings(get_settings(), progress=progress)
            except BelError as e:
                logger.warning("linker build failed: %s", e)
                stop_with_error(e)
            finally:
                progress.close()
            logger.info("linker ready: %s", slot.linker.model_version)
        return slot.linker


@st.cache_resource(show_spinner=False)
def _kb_types(fingerprint: str, _linker: LinkingPipeline) -> list[str]:
    # Keyed by the KB fingerprint: one pass over the concepts per KB, not per rerun.
    return sorted({t for concept in _linker.kb for t in concept.types})


def kb_types(linker: LinkingPipeline) -> list[str]:
    """The semantic types used in the linker's KB, sorted (for the Review page's type filter)."""
    return _kb_types(linker.kb.fingerprint, linker)
