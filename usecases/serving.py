"""Which linker serves the app, and when it is rebuilt: the serving policy, without any UI.

- **Model.** The promoted retriever version of the registry (``usecases.registry``) serves
  when it was trained for the configured KB; ``retrieval.models_dir`` in the configuration
  wins over any promotion; otherwise the built-in default linker serves.
- **Promotion changes** are picked up by the next ``linker()`` call after
  ``check_every_s`` seconds (a promotion made in another process, e.g. ``bel models
  promote``), or at once after ``promotion_changed()`` (the Models page calls it). The
  registry is read at most that often, not on every call.
- **Curator synonyms.** Every build indexes the KB extension stored at that moment; a
  ``rebuild()`` swaps a new linker in for every caller once it is ready, and leaves the
  old one serving when the build fails.
- **Concurrency.** One build at a time per process: the first callers wait for it, later
  ones get the built linker without waiting.

The page layer keeps one :class:`LinkerService` and one :class:`GeneratorService` per
process (``st.cache_resource``) and draws the build progress.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session, sessionmaker

from bel_core.config import Settings
from bel_core.errors import BelError, ModelUnavailableError
from bel_core.generate.factory import load_generator_linker
from bel_core.linking.builder import SynonymExtension
from bel_core.linking.pipeline import LinkingPipeline
from usecases import kb_extension, registry

if TYPE_CHECKING:
    from bel_core.generate.linker import GenerativeLinker
    from bel_core.kb.knowledge_base import KnowledgeBase

logger = logging.getLogger(__name__)

PROMOTION_CHECK_S = 5.0
"""How often, at most, ``LinkerService.linker`` reads the registry for a new promotion."""


class BuildProgress(Protocol):
    """Progress of a linker build: ``(stage, done, total)`` calls, then ``close()``."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...

    def close(self) -> None: ...


def curator_synonyms(store: sessionmaker[Session]) -> SynonymExtension:
    """The KB extension stored now: every curator-added synonym and the extension's version."""
    with store() as session:
        pairs = tuple(kb_extension.extension_pairs(session))
        # skip_unknown: synonyms stored for another KB must not stop every page of the app.
        return SynonymExtension(pairs, kb_extension.extension_version(session), skip_unknown=True)


def promoted_model_dir(settings: Settings, store: sessionmaker[Session]) -> str | None:
    """The promoted linker version's model directory, when it was trained for the configured KB.

    None when ``retrieval.models_dir`` is configured (the configuration wins) or when no
    version for this KB is promoted.
    """
    if settings.retrieval.models_dir:
        return None
    with store() as session:
        row = registry.promoted(session)
    if row is None or row.config.get("kb_source") != settings.kb.source:
        return None
    return row.path


def settings_with_model(settings: Settings, model_dir: str | None) -> Settings:
    """``settings`` pointing ``retrieval.models_dir`` at a promoted version (unchanged for None).

    Raises:
        ModelUnavailableError: the promoted version's directory is gone.
    """
    if model_dir is None:
        return settings
    if not Path(model_dir).is_dir():
        raise ModelUnavailableError(
            f"The promoted linker version's directory {model_dir} is missing; roll back or promote another "
            "version on the Model versions page (or with `bel models rollback`)"
        )
    return replace(settings, retrieval=replace(settings.retrieval, models_dir=model_dir))


class LinkerService:
    """The process's linker under the serving policy (module doc); safe to share between threads."""

    def __init__(
        self,
        settings: Settings,
        store: sessionmaker[Session],
        *,
        check_every_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._store = store
        self._check_every_s = PROMOTION_CHECK_S if check_every_s is None else check_every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._linker: LinkingPipeline | None = None
        self._served_dir: str | None = None  # the promoted directory the linker was built from
        self._wanted_dir: str | None = None  # the promoted directory last read from the registry
        self._checked_at: float | None = None

    @property
    def served_model_dir(self) -> str | None:
        """The promoted model directory the current linker was built from (None: the default linker)."""
        return self._served_dir

    def built(self) -> LinkingPipeline | None:
        """The linker if one is built, else None; never builds or waits."""
        return self._linker

    def promotion_changed(self) -> None:
        """Re-read the registry on the next ``linker()`` call (a version was promoted or rolled back)."""
        self._checked_at = None

    def _due(self) -> bool:
        return self._checked_at is None or self._clock() - self._checked_at >= self._check_every_s

    def _wanted(self) -> str | None:
        """The promoted directory that should serve, read from the registry when a check is due."""
        if self._due():
            self._wanted_dir = promoted_model_dir(self._settings, self._store)
            self._checked_at = self._clock()
        return self._wanted_dir

    def linker(self, progress: Callable[[], BuildProgress]) -> LinkingPipeline:
        """The serving linker, built (with ``progress()``'s reporter) on first use or after a promotion.

        Raises:
            BelError: the build failed (missing KB file, a model that cannot load offline);
                the next call tries again.
        """
        linker = self._linker
        if linker is not None and self._wanted() == self._served_dir:
            return linker
        with self._lock:
            if self._linker is None or self._wanted() != self._served_dir:
                self._linker, self._served_dir = self._build(progress(), self._wanted())
                logger.info("linker ready: %s", self._linker.model_version)
            return self._linker

    def rebuild(self, progress: BuildProgress) -> LinkingPipeline:
        """Build a new linker over the KB plus the synonyms stored now, then swap it in.

        The store is only read; the old linker keeps serving until the new one is ready and
        stays when the build fails.

        Raises:
            BelError: the build failed (e.g. a synonym names an id the KB lacks).
        """
        linker, model_dir = self._build(progress, promoted_model_dir(self._settings, self._store))
        with self._lock:
            self._linker, self._served_dir = linker, model_dir
        logger.info("linker rebuilt with KB extension %s: %s", linker.extension_version, linker.model_version)
        return linker

    def _build(self, progress: BuildProgress, model_dir: str | None) -> tuple[LinkingPipeline, str | None]:
        try:
            settings = settings_with_model(self._settings, model_dir)
            synonyms = curator_synonyms(self._store)
            return LinkingPipeline.from_settings(settings, progress=progress, synonyms=synonyms), model_dir
        except BelError as e:
            logger.warning("linker build failed: %s", e)
            raise
        finally:
            progress.close()


GeneratorLoader = Callable[[Settings, "KnowledgeBase"], "GenerativeLinker | None"]


class GeneratorService:
    """The process's generative linker, loaded once per KB; a load failure is kept, not raised."""

    def __init__(self, settings: Settings, load: GeneratorLoader = load_generator_linker) -> None:
        self._settings = settings
        self._load = load
        self._lock = threading.Lock()
        self._kb_fingerprint: str | None = None  # the KB it was loaded for; another KB (a rebuild) reloads it
        self._generator: GenerativeLinker | None = None
        self.error = ""
        """Why the configured generator could not be loaded ("" when it loaded or none is configured)."""

    def generator(
        self, linker: LinkingPipeline, loading: Callable[[], AbstractContextManager[object]] = nullcontext
    ) -> GenerativeLinker | None:
        """The generative linker for ``linker``'s KB (curator synonyms included), or None.

        Args:
            linker: the serving pipeline; its KB shapes the generator's trie of allowed names.
            loading: entered around a load (the page shows a spinner).
        """
        fingerprint = linker.kb.fingerprint
        if self._kb_fingerprint == fingerprint:
            return self._generator
        with self._lock:
            if self._kb_fingerprint != fingerprint:
                self._generator, self.error = None, ""
                try:
                    with loading():
                        self._generator = self._load(self._settings, linker.kb)
                except BelError as e:
                    logger.warning("generator not loaded: %s", e)
                    self.error = str(e)
                self._kb_fingerprint = fingerprint
            return self._generator
