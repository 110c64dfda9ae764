"""The linker: mentions (and their documents) in, ranked calibrated candidates per mention out.

Enters: documents (for detection), mentions, the documents they are in and the curator
decisions already made there. Leaves: one ``LinkResult`` per mention, candidates best first
with ``calibrated_score`` and ``nil_probability``. ``pipeline`` runs the stages it is given
(``stages``: the injected parts and their protocols; ``options``: ``LinkOptions``, as model
directories record them); ``builder`` loads the parts from settings or a model directory;
``detect`` and ``abbrev`` find mentions and short forms; ``memory`` makes a document
consistent; ``compare``, ``evaluate`` and ``agreement`` judge rankings and curators.
``protocols`` holds ``Linker``/``MentionLinker``, what the store and the pages hold a linker by.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.linking.builder import NO_SYNONYMS, SynonymExtension, load_settings_kb
    from bel_core.linking.compare import Comparison, compare
    from bel_core.linking.detect import DictionaryMatcher
    from bel_core.linking.evaluate import EvaluationReport, score_link_results
    from bel_core.linking.memory import MemoryConfig
    from bel_core.linking.options import LinkOptions
    from bel_core.linking.pipeline import LinkingPipeline, nil_probability
    from bel_core.linking.protocols import Linker, MentionLinker
    from bel_core.linking.stages import Detector, KBSearch, Stages

__all__, __getattr__ = exports(
    __name__,
    {
        "builder": ("NO_SYNONYMS", "SynonymExtension", "load_settings_kb"),
        "compare": ("Comparison", "compare"),
        "detect": ("DictionaryMatcher",),
        "evaluate": ("EvaluationReport", "score_link_results"),
        "memory": ("MemoryConfig",),
        "options": ("LinkOptions",),
        "pipeline": ("LinkingPipeline", "nil_probability"),
        "protocols": ("Linker", "MentionLinker"),
        "stages": ("Detector", "KBSearch", "Stages"),
    },
)
