"""Generative linking: a language model writes the concept's name, constrained to the KB's names.

Enters: mentions with their documents, a causal or seq2seq LM (local files only) and the KB.
Leaves: a ``LinkResult`` per mention from ``GenerativeLinker`` (beams merged to concepts,
calibrated when the model directory has a calibration), the second ranking the Review page
shows beside the pipeline's. ``prompts`` builds SynCABEL/LongBEL prompts, ``trie`` the
prefix trie of tokenized names, ``decode`` the constrained beam search, ``factory`` which
generator serves. torch loads only when a generator is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.generate.evaluate import evaluate_linker
    from bel_core.generate.factory import load_generator_linker
    from bel_core.generate.linker import GenerativeLinker, GeneratorOptions
    from bel_core.generate.model import GeneratorModel, load_generator
    from bel_core.generate.prompts import PromptStyle, prompt_style

__all__, __getattr__ = exports(
    __name__,
    {
        "evaluate": ("evaluate_linker",),
        "factory": ("load_generator_linker",),
        "linker": ("GenerativeLinker", "GeneratorOptions"),
        "model": ("GeneratorModel", "load_generator"),
        "prompts": ("PromptStyle", "prompt_style"),
    },
)
