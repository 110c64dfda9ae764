"""bel_core: the biomedical entity linking engine of BEL Curator (no UI, no database).

Stages, one module each: ``kb``/``kb_loaders`` (knowledge bases), ``documents`` (input
parsing), ``detect`` (dictionary mention detection), ``retrieve``/``dense`` (candidate
generation), ``calibrate`` (scores to probabilities), ``pipeline`` (the linker), ``export``
(gold annotations), ``evaluate`` (acc@k, ECE, Brier). Importing this package stays light:
heavy dependencies (torch, faiss) load only when a dense model is used.
"""

from __future__ import annotations

from bel_core.config import Settings
from bel_core.errors import (
    BelError,
    ConfigError,
    DecisionError,
    InputFormatError,
    KnowledgeBaseError,
    ModelUnavailableError,
    UnknownConceptError,
)
from bel_core.types import (
    Candidate,
    Concept,
    Decision,
    DecisionStatus,
    Document,
    LinkResult,
    Mention,
    MentionOrigin,
)

__version__ = "0.1.0"

__all__ = [
    "BelError",
    "Candidate",
    "Concept",
    "ConfigError",
    "Decision",
    "DecisionError",
    "DecisionStatus",
    "Document",
    "InputFormatError",
    "KnowledgeBaseError",
    "LinkResult",
    "Mention",
    "MentionOrigin",
    "ModelUnavailableError",
    "Settings",
    "UnknownConceptError",
    "__version__",
]
