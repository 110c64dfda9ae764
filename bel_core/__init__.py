"""bel_core: the biomedical entity linking engine of BEL Curator (no UI, no database).

One package per pipeline stage; a document flows through them in this order::

    formats/    files in (PubTator, BioC, BigBio, brat, GSC+, text, zip) -> Documents, Mentions;
                gold out in the same formats
    kb/         KB files -> KnowledgeBase (concepts, aliases, fingerprint), version diffs, search index
    linking/    the linker: detect mentions (detect, abbrev) -> retrieve -> rerank -> calibrate
                -> document memory; LinkOptions, the injected Stages, the builder, comparison,
                evaluation, curator agreement
    retrieve/   query texts -> candidates: TF-IDF, dense encoder + faiss, fusion, training priors
    rerank/     candidates in context -> re-sorted candidates (cross-encoder)
    rank/       candidates -> learning-to-rank order and probabilities (LambdaRank)
    calibrate/  scores and margins -> P(candidate is right); ECE, Brier
    generate/   mentions -> a generative linker's ranking (constrained beam search over KB names)
    explain/    a score -> the words it rests on (Integrated Gradients)
    runtime/    ONNX Runtime sessions; the model directory written by ``bel train``
    training/   gold mentions -> a model directory (bel train, retrain, calibrate)
    annotate/   sharded corpora -> pre-annotated files (local processes or Ray)

Beside them: ``types`` (the frozen records that flow between stages), ``config``
(``Settings``), ``errors`` (the one ``BelError`` catalogue), ``text`` (normalisation).
Each stage package's ``__init__`` names its public surface and imports it lazily, so
importing this package or a stage loads no model library: torch, faiss and scikit-learn
load when a model or index is built.
"""

from __future__ import annotations

from bel_core.config import Settings
from bel_core.errors import (
    AccountError,
    BelError,
    ConcurrentDecisionError,
    ConfigError,
    DecisionError,
    DocumentNotFoundError,
    InputFormatError,
    JobError,
    KnowledgeBaseError,
    ModelUnavailableError,
    PermissionDeniedError,
    RegistryError,
    TrainingDataError,
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
    MentionKey,
    MentionOrigin,
    Progress,
)

__version__ = "0.1.0"

__all__ = [
    "AccountError",
    "BelError",
    "Candidate",
    "ConcurrentDecisionError",
    "Concept",
    "ConfigError",
    "Decision",
    "DecisionError",
    "DecisionStatus",
    "Document",
    "DocumentNotFoundError",
    "InputFormatError",
    "JobError",
    "KnowledgeBaseError",
    "LinkResult",
    "Mention",
    "MentionKey",
    "MentionOrigin",
    "ModelUnavailableError",
    "PermissionDeniedError",
    "Progress",
    "RegistryError",
    "Settings",
    "TrainingDataError",
    "UnknownConceptError",
    "__version__",
]
