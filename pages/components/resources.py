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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from bel_core.config import Settings
from bel_core.errors import BelError, ModelUnavailableError
from bel_core.generate.factory import load_generator_linker
from bel_core.linking.builder import SynonymExtension
from bel_core.linking.pipeline import LinkingPipeline
from usecases import kb_extension
from usecases import registry
from db.engine import open_store
from pages.components.widgets import md

if TYPE_CHECKING:
    from bel_core.generate.linker import GenerativeLinker

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
    """The linking pipeline, built on first use with a progress bar (minutes on the full HPO).

    Later calls return the built pipeline at once. A build error (missing KB file, model
    that cannot load offline) is shown with ``st.error`` and stops the page; the next run
    tries again.
    """
    slot = _linker_slot()
    if slot.linker is not None and not promoted_model_changed():
        return slot.linker
    with slot.lock:
        if slot.linker is None or promoted_model_changed():
            progress = _BuildProgress()
            try:
                slot.linker = _build_with_curator_synonyms(progress)
            except BelError as e:
                logger.warning("linker build failed: %s", e)
                stop_with_error(e)
            finally:
                progress.close()
            logger.info("linker ready: %s", slot.linker.model_version)
        return slot.linker


def built_linker() -> LinkingPipeline | None:
    """The process's linker if it is already built, else None; never builds or waits.

    For pages that only want to offer something when the linker is up (the Documents page's
    generator button), without paying the first build just to draw the list.
    """
    return _linker_slot().linker


def curator_synonyms() -> SynonymExtension:
    """The KB extension stored now: every curator-added synonym and the extension's version."""
    with get_store()() as session:
        pairs = tuple(kb_extension.extension_pairs(session))
        # skip_unknown: synonyms stored for another KB must not stop every page of the app.
        return SynonymExtension(pairs, kb_extension.extension_version(session), skip_unknown=True)


def _build_with_curator_synonyms(progress: _BuildProgress) -> LinkingPipeline:
    """A linker from the settings whose retrievers, detector and search also index the curator synonyms."""
    settings, model_dir = settings_with_promoted_model()
    linker = LinkingPipeline.from_settings(settings, progress=progress, synonyms=curator_synonyms())
    _served_model().model_dir = model_dir
    return linker


@dataclass
class _ServedModel:
    """Which promoted model directory the process's linker was built from (None: the default linker)."""

    model_dir: str | None = None


@st.cache_resource(show_spinner=False)
def _served_model() -> _ServedModel:
    return _ServedModel()


def promoted_model_dir() -> str | None:
    """The promoted linker version's model directory, when it was trained for the configured KB.

    The registry (``usecases.registry``) is read on each call, so a version promoted on the Model
    versions page or with ``bel models promote`` is picked up by the next page run of every
    session. None when ``retrieval.models_dir`` is configured: the configuration wins.
    """
    settings = get_settings()
    if settings.retrieval.models_dir:
        return None
    with get_store()() as session:
        row = registry.promoted(session)
    if row is None or row.config.get("kb_source") != settings.kb.source:
        return None
    return row.path


def promoted_model_changed() -> bool:
    """True when the promoted version is not the one the current linker was built from."""
    return promoted_model_dir() != _served_model().model_dir


def settings_with_promoted_model() -> tuple[Settings, str | None]:
    """The app's settings pointing ``retrieval.models_dir`` at the promoted version, and that directory.

    Without a promoted version (or with ``models_dir`` set in the configuration) the settings
    are returned unchanged: the configured or built-in default linker serves.
    """
    settings = get_settings()
    model_dir = promoted_model_dir()
    if model_dir is None:
        return settings, None
    if not Path(model_dir).is_dir():
        raise ModelUnavailableError(
            f"The promoted linker version's directory {model_dir} is missing; roll back or promote another "
            "version on the Model versions page (or with `bel models rollback`)"
        )
    return replace(settings, retrieval=replace(settings.retrieval, models_dir=model_dir)), model_dir


def rebuild_linker_with_curator_synonyms() -> LinkingPipeline:
    """Build a new linker over the KB plus the synonyms stored now, then swap it in for every session.

    The store is only read, so nothing stored is lost; the old linker keeps serving other
    sessions until the new one is ready, and stays in place when the build fails.

    Raises:
        BelError: the build failed (e.g. a synonym names an id the KB lacks).
    """
    slot = _linker_slot()
    progress = _BuildProgress()
    try:
        linker = _build_with_curator_synonyms(progress)
    finally:
        progress.close()
    with slot.lock:
        slot.linker = linker
    logger.info("linker rebuilt with KB extension %s: %s", linker.extension_version, linker.model_version)
    return linker


@st.cache_resource(show_spinner=False)
def _kb_types(fingerprint: str, _linker: LinkingPipeline) -> list[str]:
    # Keyed by the KB fingerprint: one pass over the concepts per KB, not per rerun.
    return sorted({t for concept in _linker.kb for t in concept.types})


def kb_types(linker: LinkingPipeline) -> list[str]:
    """The semantic types used in the linker's KB, sorted (for the Review page's type filter)."""
    return _kb_types(linker.kb.fingerprint, linker)


@dataclass
class _GeneratorSlot:
    """The process's generative linker, loaded once per KB; ``error`` keeps why it could not load."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    kb_fingerprint: str | None = None  # the KB it was loaded for; another KB (a rebuild) reloads it
    generator: GenerativeLinker | None = None
    error: str = ""


@st.cache_resource(show_spinner=False)
def _generator_slot() -> _GeneratorSlot:
    return _GeneratorSlot()


def get_generator(linker: LinkingPipeline) -> GenerativeLinker | None:
    """The generative linker shown beside the reranker, or None (none configured, or it failed).

    A generator that cannot load does not stop the app: the pipeline still serves, and the
    Models & KB page shows the reason (``generator_error``).
    """
    slot = _generator_slot()
    fingerprint = linker.kb.fingerprint
    if slot.kb_fingerprint == fingerprint:
        return slot.generator
    with slot.lock:
        if slot.kb_fingerprint != fingerprint:
            # The trie of allowed names follows the linker's KB, curator synonyms included.
            slot.generator, slot.error = None, ""
            try:
                with st.spinner("Loading the generative linker…"):
                    slot.generator = load_generator_linker(get_settings(), linker.kb)
            except BelError as e:
                logger.warning("generator not loaded: %s", e)
                slot.error = str(e)
            slot.kb_fingerprint = fingerprint
        return slot.generator


def generator_error() -> str:
    """Why the configured generator could not be loaded ("" when it loaded or none is configured)."""
    return _generator_slot().error
