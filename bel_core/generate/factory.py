"""Which generative linker serves beside the pipeline, and loading it.

The app shows the generator's ranking next to the reranker's. Its model directory comes
from ``settings.generator.model_dir``; left empty, the project's own HPO generator shipped
in ``sample_data/models/generator-hpo`` is used when the KB is the embedded HPO.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bel_core.config import SAMPLE_DATA_DIR, Settings
from bel_core.kb.knowledge_base import KnowledgeBase

if TYPE_CHECKING:
    from bel_core.generate.linker import GenerativeLinker

SHIPPED_GENERATOR_DIR = SAMPLE_DATA_DIR / "models" / "generator-hpo"


def generator_dir(settings: Settings) -> Path | None:
    """The generator's model directory for these settings, or None when there is none to load."""
    if not settings.generator.enabled:
        return None
    if settings.generator.model_dir:
        return Path(settings.generator.model_dir).expanduser()
    if settings.kb.source == "hpo" and (SHIPPED_GENERATOR_DIR / "manifest.json").is_file():
        return SHIPPED_GENERATOR_DIR
    return None


def load_generator_linker(settings: Settings, kb: KnowledgeBase) -> GenerativeLinker | None:
    """The configured generative linker over ``kb``, or None when none is configured.

    Raises:
        BelError: the directory is missing, unreadable, or was trained for another KB.
    """
    folder = generator_dir(settings)
    if folder is None:
        return None
    from bel_core.generate.linker import GenerativeLinker  # torch-heavy: only when a generator is used

    return GenerativeLinker.from_model_dir(folder, kb)
