"""SQLAlchemy 2.0 typed models: the machine side and the human side of curation.

Machine output (``link_runs``, ``candidates``) and human verdicts (``decisions``) never
share a table, so re-running the linker can never overwrite what a curator decided.
The team side (``users``, ``assignments``) and the curators' KB additions
(``kb_synonyms``) have their own tables too.
``decisions`` is append-only: the migrations install triggers (SQLite and PostgreSQL,
``db/migrations/append_only.py``) that refuse any UPDATE, DELETE, REPLACE, upsert or
TRUNCATE on it, and queries take the row with the highest id per mention.

This module only declares tables; ``db/repository.py`` maps rows to ``bel_core.types``.
The schema is built by the Alembic migrations, never by ``create_all`` in production.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bel_core.types import DecisionStatus, MentionOrigin

# Named constraints let Alembic's batch mode (SQLite's table-copy ALTER) find them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ModelStatus(StrEnum):
    """Where a registered model version stands; exactly one per kind is promoted at a time."""

    CANDIDATE = "candidate"  # trained and evaluated, not serving
    PROMOTED = "promoted"  # the version the app links with
    RETIRED = "retired"  # rolled back or superseded


class JobStatus(StrEnum):
    """Life of a background training job."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Role(StrEnum):
    """What an account may do; each role includes the ones before it."""

    CURATOR = "curator"  # decides mentions of the documents assigned to them
    ADJUDICATOR = "adjudicator"  # also resolves disagreements; their verdict becomes gold
    ADMIN = "admin"  # also manages accounts and assignments


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the only kind stored)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC and hands them back aware.

    SQLite has no time zones: without this, a local time and a UTC time would be stored
    the same way and compare wrongly.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"Expected a timezone-aware datetime, got naive {value!r}; use datetime.now(UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _str_enum(enum_cls: type[Any], name: str) -> Enum:
    # Store the readable values ("accepted"), not the member names, and let the database
    # refuse anything else with a CHECK constraint.
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DocumentRow(Base):
    """A stored text; ``doc_id`` is the external id (PMID, file stem, paste id)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(255), unique=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(255))
    title_end: Mapped[int]
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MentionRow(Base):
    """A span of a document; (document, start, end) identifies it."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("document_id", "start", "end"),
        CheckConstraint('start >= 0 AND start < "end"', name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    start: Mapped[int]
    end: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(255))
    origin: Mapped[MentionOrigin] = mapped_column(_str_enum(MentionOrigin, "mention_origin"))
    annotated_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LinkRunRow(Base):
    """One call of the linker over some mentions of a document, with its provenance."""

    __tablename__ = "link_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    model_version: Mapped[str] = mapped_column(String(255))
    kb_version: Mapped[str] = mapped_column(String(255))
    config_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Which model family ran: "retriever" (retrieve + rerank) or "generator"; each family's
    # newest run is read separately, so the two rankings can be compared.
    linker: Mapped[str] = mapped_column(String(32), default="retriever", server_default="retriever")

    candidates: Mapped[list[CandidateRow]] = relationship(cascade="all, delete-orphan")


class CandidateRow(Base):
    """One ranked concept the machine proposed for a mention in a run (rank 0 = best)."""

    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("link_run_id", "mention_id", "rank"),
        CheckConstraint("rank >= 0", name="rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_run_id: Mapped[int] = mapped_column(ForeignKey("link_runs.id", ondelete="CASCADE"))
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    concept_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text)
    matched_alias: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(64))
    raw_score: Mapped[float] = mapped_column(Float)
    calibrated_score: Mapped[float | None] = mapped_column(Float)
    stage_scores: Mapped[list[list[Any]]] = mapped_column(JSON)
    # P(the right concept is none of the candidates), when the linker estimates it; only
    # the rank-0 row of a mention carries it (it belongs to the mention, not a candidate).
    nil_probability: Mapped[float | None] = mapped_column(Float)


class DecisionRow(Base):
    """A curator's verdict; rows are only ever inserted (see the module docstring).

    ``shown`` snapshots the candidates, with scores, the curator saw, so a verdict can be
    audited even after the mention is re-linked by a newer model; ``kb_version`` and
    ``model_version`` name what produced them, and ``suggestions_hidden`` marks a blind
    review (nothing was shown). An undo is a new row whose ``undoes_id`` names the
    decision it takes back; ``adjudicated`` marks an adjudicator's resolution (gold).
    """

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(
            "(corrected_start IS NULL AND corrected_end IS NULL) OR "
            "(corrected_start >= 0 AND corrected_start < corrected_end)",
            name="corrected_span",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No ON DELETE CASCADE: deleting a decided mention must fail rather than erase verdicts.
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    status: Mapped[DecisionStatus] = mapped_column(_str_enum(DecisionStatus, "decision_status"))
    concept_ids: Mapped[list[str]] = mapped_column(JSON)
    curator: Mapped[str] = mapped_column(String(255))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text)
    link_run_id: Mapped[int | None] = mapped_column(ForeignKey("link_runs.id"))
    shown: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    corrected_start: Mapped[int | None]
    corrected_end: Mapped[int | None]
    kb_version: Mapped[str | None] = mapped_column(String(255))
    model_version: Mapped[str | None] = mapped_column(String(255))
    suggestions_hidden: Mapped[bool] = mapped_column(default=False)
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    adjudicated: Mapped[bool] = mapped_column(default=False)
    # Imported gold: the ids as the file wrote them; concept_ids holds their primary ids.
    given_ids: Mapped[list[str] | None] = mapped_column(JSON)


class UserRow(Base):
    """A curator account; ``password_hash`` is an Argon2id hash (salt and parameters inside)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    role: Mapped[Role] = mapped_column(_str_enum(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AssignmentRow(Base):
    """A document assigned to a curator; two rows for one document mean double annotation."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("document_id", "curator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    curator: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class KbSynonymRow(Base):
    """A curator-added synonym: the KB extension, versioned by who added what, when, to which KB.

    ``alias_norm`` (``bel_core.text.normalize``) makes "Fits" and "fits " one synonym.
    """

    __tablename__ = "kb_synonyms"
    __table_args__ = (UniqueConstraint("alias_norm", "concept_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alias: Mapped[str] = mapped_column(Text)
    alias_norm: Mapped[str] = mapped_column(Text)
    concept_id: Mapped[str] = mapped_column(String(255))
    kb_version: Mapped[str] = mapped_column(String(255))
    curator: Mapped[str] = mapped_column(String(255))
    # The mention the synonym was taken from; no cascade, like decisions.
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ModelVersionRow(Base):
    """A registered model version: what it was trained on, how, how well, and from what.

    ``version`` is the string ``link_runs.model_version`` records, so every run names the
    version that produced it; ``parent_version`` is the lineage (the model it was trained
    from or replaced).
    """

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)
    parent_version: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[ModelStatus] = mapped_column(_str_enum(ModelStatus, "model_status"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TrainingJobRow(Base):
    """A background retraining job; the worker writes progress, the page polls it."""

    __tablename__ = "training_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[JobStatus] = mapped_column(_str_enum(JobStatus, "job_status"))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    result_version: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SaliencyCacheRow(Base):
    """Token attributions computed once per (model version, linker, input, concept, settings)."""

    __tablename__ = "saliency_cache"
    __table_args__ = (UniqueConstraint("model_version", "linker", "input_sha256", "concept_id", "settings"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_version: Mapped[str] = mapped_column(String(255))
    linker: Mapped[str] = mapped_column(String(32))
    input_sha256: Mapped[str] = mapped_column(String(64))
    concept_id: Mapped[str] = mapped_column(String(255))
    settings: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginAttemptRow(Base):
    """One login attempt, kept as the audit log and counted for throttling (``usecases.auth``)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_name: Mapped[str] = mapped_column(String(255), index=True)  # as typed, truncated
    client: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # usecases.auth.LoginOutcome values
