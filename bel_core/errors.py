"""The one catalogue of errors BEL Curator raises on purpose. Pages and the CLI catch ``BelError``.

Exception tree::

    BelError
    ├── ConfigError              bad or missing configuration value
    ├── KnowledgeBaseError       a KB file cannot be read, or an id is unknown
    │   └── UnknownConceptError
    ├── InputFormatError         a document or annotation file is malformed (file + line)
    ├── ModelUnavailableError    a model cannot be loaded offline, or fails its checksum
    ├── TrainingDataError        too little or unusable data to train or evaluate a model
    ├── DocumentNotFoundError    a document id that is not stored
    ├── DecisionError            a decision is inconsistent with what is stored
    ├── ConcurrentDecisionError  someone else decided the mention first (nothing was stored)
    ├── PermissionDeniedError    the account's role does not allow the action
    ├── AccountError             an account cannot be created, or a login failed
    ├── RegistryError            a model-registry operation that cannot be done
    └── JobError                 a background job that does not exist or cannot change state

The use cases (``usecases/``) raise the last five; they live here so that one tree names
every error a user can see. Messages say what was expected, what was found, and what to do.
"""

from __future__ import annotations

from typing import Protocol

from bel_core.types import Decision


class BelError(Exception):
    """Root of every error BEL Curator raises on purpose."""


class ConfigError(BelError):
    """A configuration value is missing or invalid."""


class KnowledgeBaseError(BelError):
    """A knowledge base cannot be loaded or queried."""


class UnknownConceptError(KnowledgeBaseError):
    """A concept id is not in the knowledge base."""

    def __init__(self, concept_id: str, kb_name: str = "the knowledge base") -> None:
        super().__init__(
            f"Unknown concept id {concept_id!r}: it is not in {kb_name}. "
            "Search the KB by name, or check the id's prefix (e.g. 'HP:0001250')."
        )
        self.concept_id = concept_id


class InputFormatError(BelError):
    """A document or annotation file is malformed.

    Attributes:
        filename: the file (or ``<pasted text>``) the problem is in.
        line: 1-based line number, or None when the problem is not tied to a line.
        reason: what is wrong and how to fix it.
    """

    def __init__(self, filename: str, reason: str, line: int | None = None) -> None:
        where = f"{filename}, line {line}" if line is not None else filename
        super().__init__(f"{where}: {reason}")
        self.filename = filename
        self.line = line
        self.reason = reason


class ModelUnavailableError(BelError):
    """A model cannot be loaded (missing files, wrong checksum, missing extra)."""


class TrainingDataError(BelError):
    """Too little or unusable curated data to train or evaluate a model version."""


class DocumentNotFoundError(BelError):
    """A document id that is not in the store."""

    def __init__(self, doc_id: str) -> None:
        super().__init__(f"Document {doc_id!r} is not stored; import it first (Documents page or `bel import`)")
        self.doc_id = doc_id


class DecisionError(BelError):
    """A curator decision is inconsistent (unknown mention, unknown concept...)."""


class _Stored(Protocol):
    """A stored decision (``db.mapping.StoredDecision``): the verdict and its row id."""

    @property
    def decision(self) -> Decision: ...


class ConcurrentDecisionError(BelError):
    """Someone else decided the mention after the curator opened it; nothing was stored.

    Attributes:
        latest: the stored decision that arrived first, to show to the curator.
    """

    def __init__(self, latest: _Stored) -> None:
        d = latest.decision
        ids = f" ({', '.join(d.concept_ids)})" if d.concept_ids else ""
        super().__init__(
            f"{d.curator} decided this mention meanwhile: {d.status.value}{ids}. "
            "Your verdict was not stored; look at theirs and decide again if you disagree."
        )
        self.latest = latest


class PermissionDeniedError(BelError):
    """The account's role does not allow the action (the message names the role it needs)."""


class AccountError(BelError):
    """An account cannot be created, or a login failed."""


class RegistryError(BelError):
    """A registry operation that cannot be done (unknown version, nothing to roll back to)."""


class JobError(BelError):
    """A job that does not exist or cannot change state as asked."""
