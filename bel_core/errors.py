"""Errors raised by bel_core. Pages and the CLI catch ``BelError`` and show its message.

Exception tree::

    BelError
    ├── ConfigError            bad or missing configuration value
    ├── KnowledgeBaseError     a KB file cannot be read, or an id is unknown
    │   └── UnknownConceptError
    ├── InputFormatError       a document or annotation file is malformed (file + line)
    ├── ModelUnavailableError  a model cannot be loaded offline, or fails its checksum
    └── DecisionError          a decision is inconsistent with what is stored

Messages say what was expected, what was found, and how to fix it.
"""

from __future__ import annotations


class BelError(Exception):
    """Root of every error bel_core raises on purpose."""


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


class DecisionError(BelError):
    """A curator decision is inconsistent (unknown mention, unknown concept...)."""
