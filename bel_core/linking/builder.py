"""The parts of a ``LinkingPipeline``: from settings alone, or from a ``bel train`` model directory.

Stage: start-up. Loads the KB (plus curator-added synonyms when given), builds or loads the
retrieval indexes and, for large KBs, the disk-backed search index, loads the trained
components a model directory lists (priors, fine-tuned encoder, reranker, calibration)
and the linker options recorded with them, and hands them over as an ``Assembly``
(``LinkingPipeline.from_settings`` / ``from_model_dir`` put it together). It links nothing
itself and does not know the pipeline class.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bel_core.config import Settings
from bel_core.errors import ModelUnavailableError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.kb.loaders import load_kb
from bel_core.kb.search import KBSearchIndex
from bel_core.linking.detect import DictionaryMatcher
from bel_core.linking.options import RERANKER_BATCH_SIZE, LinkOptions
from bel_core.linking.stages import Stages
from bel_core.retrieve.dense import DenseRetriever, resolve_encoder
from bel_core.retrieve.priors import AliasExtension
from bel_core.retrieve.tfidf import TfidfRetriever
from bel_core.runtime.model_dir import check_kb, component_path, read_manifest
from bel_core.types import Progress

if TYPE_CHECKING:  # torch loads only when a reranker is used
    from bel_core.rerank.cross_encoder import CrossEncoderReranker

logger = logging.getLogger(__name__)


def _noop(stage: str, done: int, total: int) -> None:
    """Progress callback that reports nowhere."""


@dataclass(frozen=True, slots=True)
class SynonymExtension:
    """Curator-added synonyms indexed with the KB (``usecases.kb_extension`` reads them from the store).

    Attributes:
        pairs: ``(alias, concept id)`` pairs.
        version: the extension's content digest, e.g. ``"ext-1a2b3c4d5e6f"``; ``"none"`` when empty.
        skip_unknown: drop (and log) synonyms of ids the KB lacks instead of refusing the build;
            the app uses it so that a KB switch never locks curators out of every page.
    """

    pairs: tuple[tuple[str, str], ...] = ()
    version: str = "none"
    skip_unknown: bool = False

    def apply(self, kb: KnowledgeBase) -> KnowledgeBase:
        """``kb`` with these synonyms (``kb`` itself when there are none).

        Raises:
            KnowledgeBaseError: an id is not in ``kb`` and ``skip_unknown`` is off.
        """
        pairs = self.pairs
        if self.skip_unknown:
            pairs = tuple(p for p in pairs if p[1] in kb)
            if len(pairs) < len(self.pairs):
                unknown = sorted({cid for _, cid in self.pairs if cid not in kb})
                logger.warning(
                    "%d curator synonym(s) not indexed: %s lacks ids %s",
                    len(self.pairs) - len(pairs),
                    kb.version,
                    unknown[:10],
                )
        return kb.with_synonyms(pairs, extension=self.version)


NO_SYNONYMS = SynonymExtension()


def build_search_index(
    kb: KnowledgeBase, settings: Settings, progress: Progress | None = None
) -> KBSearchIndex | None:
    """The disk-backed search index of ``kb`` when it has ``kb.search_index_min_concepts`` or more concepts."""
    if len(kb) < settings.kb.search_index_min_concepts:
        return None
    report = progress or _noop
    report("search", 0, 1)
    index = KBSearchIndex.for_kb(kb, settings.cache_dir)
    report("search", 1, 1)
    return index


def build_retrievers(
    kb: KnowledgeBase,
    settings: Settings,
    encoder: str,
    progress: Progress | None = None,
    extends: KnowledgeBase | None = None,
) -> tuple[TfidfRetriever, DenseRetriever | None]:
    """TF-IDF over ``kb``'s aliases, and the dense index of ``encoder`` when dense retrieval is enabled.

    ``extends``: the KB that ``kb`` adds names to (curator synonyms); when its index is cached,
    its vectors are copied and only the added names are encoded (seconds, not minutes).
    """
    report = progress or _noop
    retrieval = settings.retrieval
    report("tfidf", 0, 1)
    started = time.perf_counter()
    tfidf = TfidfRetriever.from_kb(kb, ngram_range=(retrieval.tfidf_ngram_min, retrieval.tfidf_ngram_max))
    logger.info("TF-IDF index over %d aliases in %.1f s", len(tfidf.table), time.perf_counter() - started)
    report("tfidf", 1, 1)
    if not retrieval.dense_enabled:
        return tfidf, None
    spec = resolve_encoder(encoder, cache_dir=settings.cache_dir)
    reuse = None
    if extends is not None and extends.fingerprint != kb.fingerprint:
        reuse = DenseRetriever.cached(extends, spec, cache_dir=settings.cache_dir)
    dense = DenseRetriever.build(
        kb,
        spec,
        cache_dir=settings.cache_dir,
        batch_size=retrieval.dense_batch_size,
        progress=lambda done, total: report("dense", done, total),
        reuse=reuse,
        runtime=settings.inference.runtime,
    )
    return tfidf, dense


def load_settings_kb(settings: Settings, progress: Progress | None = None) -> KnowledgeBase:
    """The KB ``settings.kb`` names."""
    report = progress or _noop
    report("kb", 0, 1)
    kb = load_kb(settings.kb.source, format=settings.kb.format, cache_dir=settings.cache_dir, roots=settings.kb.roots)
    report("kb", 1, 1)
    return kb


@dataclass(frozen=True, slots=True)
class Assembly:
    """What the builder hands the pipeline.

    Attributes:
        stages: the loaded parts.
        options: the linker options (a model directory's, else from the settings).
        extension_version: version of the curator synonyms indexed with the KB.
        fit_calibrator: no trained calibration and no reranker: calibrate on synthetic mentions.
        source: where the parts came from (for the log).
    """

    stages: Stages
    options: LinkOptions
    extension_version: str
    fit_calibrator: bool
    source: str


def settings_options(settings: Settings) -> LinkOptions:
    """The options of a linker without model directory: defaults, plus the settings' top-k and fusion weight."""
    return LinkOptions(top_k=settings.retrieval.top_k, dense_weight=settings.retrieval.dense_weight)


def build_from_settings(
    settings: Settings, progress: Progress | None, synonyms: SynonymExtension = NO_SYNONYMS
) -> Assembly:
    """Retrieval-only linker, calibrated on synthetic mentions (see ``LinkingPipeline.from_settings``)."""
    report = progress or _noop
    base = load_settings_kb(settings, report)
    kb = synonyms.apply(base)
    tfidf, dense = build_retrievers(kb, settings, settings.retrieval.dense_model, report, extends=base)
    stages = Stages(
        kb,
        tfidf,
        DictionaryMatcher.from_kb(kb, min_chars=settings.detection.min_chars),
        dense=dense,
        search_index=build_search_index(kb, settings, report),
    )
    return Assembly(stages, settings_options(settings), synonyms.version, True, "settings")


def load_reranker(
    folder: Path, linker: Mapping[str, Any], settings: Settings, *, calibrated: bool
) -> CrossEncoderReranker:
    """The reranker of a model directory, loaded as its manifest's ``linker`` block says.

    This is the one place that decides which calibration the reranker's scores get: the
    model directory's final calibration (``calibrated=False``: it replaces every candidate's
    probability, so the reranker's own ``calibration.json`` would be computed for nothing),
    else the reranker folder's own margin calibration.
    """
    from bel_core.rerank.cross_encoder import FOLDER_CALIBRATION, CrossEncoderReranker

    return CrossEncoderReranker.load(
        str(folder),
        max_length=linker.get("reranker_max_length"),
        batch_size=int(linker.get("reranker_batch_size", RERANKER_BATCH_SIZE)),
        quantize=bool(linker.get("quantize", False)),
        calibration=FOLDER_CALIBRATION if calibrated else None,
        runtime=settings.inference.runtime,
        cache_dir=settings.cache_dir,
    )


def build_from_model_dir(
    model_dir: Path,
    settings: Settings,
    progress: Progress | None,
    synonyms: SynonymExtension = NO_SYNONYMS,
) -> Assembly:
    """Linker from a ``bel train`` directory over the KB ``settings`` names (see ``from_model_dir``)."""
    from bel_core.calibrate import lists as link_calibration

    report = progress or _noop
    manifest = read_manifest(model_dir)
    if manifest.linker_kind != "retriever":
        raise ModelUnavailableError(
            f"{model_dir} holds a {manifest.linker_kind} linker; load it with --linker {manifest.linker_kind}"
        )
    base = load_settings_kb(settings, report)
    check_kb(manifest, base, model_dir)  # the models were trained on the base KB, before curator synonyms
    curated = synonyms.apply(base)
    aliases = component_path(model_dir, manifest, "aliases")
    priors = AliasExtension.load(aliases) if aliases else None
    kb = priors.extend(curated) if priors else curated
    encoder = component_path(model_dir, manifest, "encoder")
    # The KB without curator synonyms: its index was cached when the model was trained or first loaded.
    plain = kb if curated is base else priors.extend(base) if priors else base
    encoder_name = str(encoder) if encoder else settings.retrieval.dense_model
    tfidf, dense = build_retrievers(kb, settings, encoder_name, report, extends=plain)
    linker = manifest.linker
    # Without the dense stage the lists differ: a directory that has their own calibration uses it.
    sparse_calibration = component_path(model_dir, manifest, "calibration_sparse") if dense is None else None
    calibration = sparse_calibration or component_path(model_dir, manifest, "calibration")
    reranker = None
    reranker_dir = component_path(model_dir, manifest, "reranker")
    if reranker_dir is not None and linker.get("rerank", True):
        report("reranker", 0, 1)
        reranker = load_reranker(reranker_dir, linker, settings, calibrated=calibration is None)
        report("reranker", 1, 1)
    stages = Stages(
        kb,
        tfidf,
        DictionaryMatcher.from_kb(curated, min_chars=settings.detection.min_chars),
        dense=dense,
        reranker=reranker,
        calibrator=link_calibration.load(calibration) if calibration else None,
        priors=priors,
        search_index=build_search_index(kb, settings, report),
    )
    options = LinkOptions.from_json(linker, base=settings_options(settings))
    fit = calibration is None and reranker is None
    return Assembly(stages, options, synonyms.version, fit, str(model_dir))
