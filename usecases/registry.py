"""The model registry: trained linker versions with their data, config, metrics and lineage.

Stage: after retraining, before linking. Each row of ``model_versions`` is one model
directory. ``version`` is the linker's ``model_version`` string (what ``link_runs`` stores),
``parent_version`` the version that was serving when it was trained. Per ``kind`` at most
one version is promoted; promoting retires the one it replaces, and rolling back retires
the promoted version and promotes its parent again. The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bel_core.errors import RegistryError
from db.models import ModelStatus, ModelVersionRow, utcnow

RETRIEVER = "retriever"  # the retrieve-rerank linker, as ``link_runs.linker`` names it


def register_version(
    session: Session,
    *,
    version: str,
    path: str,
    kind: str = RETRIEVER,
    parent_version: str | None = None,
    data: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> ModelVersionRow:
    """Add a candidate version (not serving until :func:`promote`).

    Raises:
        RegistryError: the version string is registered already (the same model was trained twice).
    """
    existing = session.scalar(select(ModelVersionRow).where(ModelVersionRow.version == version))
    if existing is not None:
        raise RegistryError(
            f"Version {version} is registered already (model in {existing.path}): the retrained linker is "
            "identical to it; curate more mentions before retraining"
        )
    row = ModelVersionRow(
        version=version,
        kind=kind,
        path=path,
        parent_version=parent_version,
        status=ModelStatus.CANDIDATE,
        data=dict(data or {}),
        config=dict(config or {}),
        metrics=dict(metrics or {}),
    )
    session.add(row)
    session.flush()
    return row


def list_versions(session: Session, kind: str | None = None) -> list[ModelVersionRow]:
    """Registered versions, newest first (of one kind, or all)."""
    query = select(ModelVersionRow).order_by(ModelVersionRow.id.desc())
    if kind is not None:
        query = query.where(ModelVersionRow.kind == kind)
    return list(session.scalars(query))


def get_version(session: Session, version: str) -> ModelVersionRow:
    """The row of ``version``.

    Raises:
        RegistryError: no such version.
    """
    row = session.scalar(select(ModelVersionRow).where(ModelVersionRow.version == version))
    if row is None:
        raise RegistryError(f"No registered model version {version!r}; `bel models list` shows them")
    return row


def promoted(session: Session, kind: str = RETRIEVER) -> ModelVersionRow | None:
    """The promoted version of ``kind``, or None when the built-in default serves."""
    return session.scalar(
        select(ModelVersionRow).where(ModelVersionRow.kind == kind, ModelVersionRow.status == ModelStatus.PROMOTED)
    )


def promote(session: Session, version: str) -> ModelVersionRow:
    """Make ``version`` the one its kind serves; the previously promoted one is retired."""
    row = get_version(session, version)
    current = promoted(session, row.kind)
    if current is not None and current.id != row.id:
        current.status = ModelStatus.RETIRED
        session.flush()  # one promoted row per kind at every point of the transaction
    row.status = ModelStatus.PROMOTED
    row.promoted_at = utcnow()
    session.flush()
    return row


def rollback(session: Session, kind: str = RETRIEVER) -> ModelVersionRow:
    """Retire the promoted version of ``kind`` and promote its parent again; returns the parent.

    Raises:
        RegistryError: nothing is promoted, or the promoted version has no registered parent.
    """
    current = promoted(session, kind)
    if current is None:
        raise RegistryError(f"No {kind} version is promoted: the built-in default is serving already")
    if current.parent_version is None:
        raise RegistryError(
            f"Version {current.version} has no parent to roll back to; promote another version instead"
        )
    parent = get_version(session, current.parent_version)
    return promote(session, parent.version)
