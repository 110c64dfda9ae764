"""Process-wide resources shared by every session: settings, the store, the linker.

``st.cache_resource`` makes each of them a singleton per server process. Which linker
serves and when it is rebuilt is ``usecases.serving``'s policy; this module only caches
its services and draws the build progress. The store is a
``sessionmaker`` (thread-safe); each page opens a short ``with store.begin() as s:`` per
user action, and no Session is ever cached or kept in session state. The linker is
read-only after it is built, so sessions share it without locks.

Configuration errors and models that cannot load are shown on the page with
``st.error`` and stop the script: the curator sees what to fix, not a traceback.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, NoReturn

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from bel_core.config import Settings
from bel_core.errors import BelError
from bel_core.generate.factory import load_generator_linker
from bel_core.linking.builder import SynonymExtension
from bel_core.linking.pipeline import LinkingPipeline
from db.engine import open_store
from pages.components.widgets import md
from usecases import serving

if TYPE_CHECKING:
    from bel_core.generate.linker import GenerativeLinker


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


@st.cache_resource(show_spinner=False)
def _linker_service() -> serving.LinkerService:
    # The pipeline is not built inside a cached function on purpose: Streamlit records the
    # elements a cached function draws and replays them on every cache hit, which would
    # redraw the build progress bar on each page load. The service is cached; the build is not.
    return serving.LinkerService(get_settings(), get_store())


# What each pipeline build stage is doing, in the curator's words.
_STAGE_TEXT = {
    "kb": "Loading the knowledge base",
    "tfidf": "Building the TF-IDF index",
    "dense": "Encoding KB names for dense retrieval (first start only; cached afterwards)",
    "search": "Building the KB search index (first start only; cached afterwards)",
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
    """The serving linker (``usecases.serving``), built on first use with a progress bar.

    Later calls return the built pipeline at once. A build error (missing KB file, model
    that cannot load offline) is shown with ``st.error`` and stops the page; the next run
    tries again.
    """
    try:
        return _linker_service().linker(_BuildProgress)
    except BelError as e:
        stop_with_error(e)


def built_linker() -> LinkingPipeline | None:
    """The process's linker if it is already built, else None; never builds or waits.

    For pages that only want to offer something when the linker is up (the Documents page's
    generator button), without paying the first build just to draw the list.
    """
    return _linker_service().built()


def promotion_changed() -> None:
    """Tell the serving linker that a version was promoted or rolled back (picked up on the next page run)."""
    _linker_service().promotion_changed()


def curator_synonyms() -> SynonymExtension:
    """The KB extension stored now: every curator-added synonym and the extension's version."""
    return serving.curator_synonyms(get_store())


def rebuild_linker_with_curator_synonyms() -> LinkingPipeline:
    """Build a new linker over the KB plus the synonyms stored now and swap it in for every session.

    Raises:
        BelError: the build failed; the old linker keeps serving.
    """
    return _linker_service().rebuild(_BuildProgress())


@st.cache_resource(show_spinner=False)
def _kb_types(fingerprint: str, _linker: LinkingPipeline) -> list[str]:
    # Keyed by the KB fingerprint: one pass over the concepts per KB, not per rerun.
    return sorted({t for concept in _linker.kb for t in concept.types})


def kb_types(linker: LinkingPipeline) -> list[str]:
    """The semantic types used in the linker's KB, sorted (for the Review page's type filter)."""
    return _kb_types(linker.kb.fingerprint, linker)


@st.cache_resource(show_spinner=False)
def _generator_service() -> serving.GeneratorService:
    return serving.GeneratorService(get_settings(), load=load_generator_linker)


def get_generator(linker: LinkingPipeline) -> GenerativeLinker | None:
    """The generative linker shown beside the reranker, or None (none configured, or it failed).

    A generator that cannot load does not stop the app: the pipeline still serves, and the
    Models & KB page shows the reason (``generator_error``).
    """
    return _generator_service().generator(linker, loading=lambda: st.spinner("Loading the generative linker…"))


def generator_error() -> str:
    """Why the configured generator could not be loaded ("" when it loaded or none is configured)."""
    return _generator_service().error
