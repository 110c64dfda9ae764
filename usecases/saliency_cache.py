"""Saliency maps computed once and kept: get-or-compute over the ``saliency_cache`` table.

An entry is keyed by everything that changes the attributions: the model version, the
linker kind, a digest of the exact input texts, the concept explained and the settings
(IG steps, max length). A new model, an edited concept name or another setting
therefore misses the cache instead of showing stale attributions. Computing happens outside any transaction (it takes
seconds); a concurrent writer of the same entry wins and its row is returned.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bel_core.explain.saliency import Saliency
from db.models import SaliencyCacheRow

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SaliencyKey:
    """What identifies one saliency map (the table's unique key)."""

    model_version: str
    linker: str
    input_sha256: str
    concept_id: str
    settings: str

    @classmethod
    def of(
        cls, model_version: str, linker: str, inputs: Sequence[str], concept_id: str, *, n_steps: int, max_length: int
    ) -> SaliencyKey:
        """The key for explaining ``concept_id`` on ``inputs`` (e.g. the reranker's left and right texts)."""
        digest = hashlib.sha256("\x1f".join(inputs).encode("utf-8")).hexdigest()
        return cls(model_version, linker, digest, concept_id, f"ig;steps={n_steps};max_length={max_length}")


@dataclass(frozen=True, slots=True)
class CachedSaliency:
    """A saliency map and whether it came from the cache."""

    saliency: Saliency
    hit: bool


def _row(session: Session, key: SaliencyKey) -> SaliencyCacheRow | None:
    return session.scalars(
        select(SaliencyCacheRow).where(
            SaliencyCacheRow.model_version == key.model_version,
            SaliencyCacheRow.linker == key.linker,
            SaliencyCacheRow.input_sha256 == key.input_sha256,
            SaliencyCacheRow.concept_id == key.concept_id,
            SaliencyCacheRow.settings == key.settings,
        )
    ).one_or_none()


def lookup(session: Session, key: SaliencyKey) -> Saliency | None:
    """The stored saliency map for ``key``, or None (also for a payload of an older format)."""
    row = _row(session, key)
    if row is None:
        return None
    try:
        return Saliency.from_json(row.payload)
    except (ValueError, KeyError) as e:
        logger.info("ignoring cached saliency %s: %s", row.id, e)
        return None


def save(session: Session, key: SaliencyKey, saliency: Saliency) -> None:
    """Store (or replace) the saliency map for ``key``; flushes, never commits."""
    row = _row(session, key)
    if row is None:
        row = SaliencyCacheRow(
            model_version=key.model_version,
            linker=key.linker,
            input_sha256=key.input_sha256,
            concept_id=key.concept_id,
            settings=key.settings,
        )
        session.add(row)
    row.payload = saliency.to_json()
    row.seconds = saliency.seconds
    session.flush()


def get_or_compute(store: sessionmaker[Session], key: SaliencyKey, compute: Callable[[], Saliency]) -> CachedSaliency:
    """The cached map for ``key``; else ``compute()`` it (outside any transaction) and store it.

    Args:
        store: session factory; one short transaction to read, one to write.
        key: see :meth:`SaliencyKey.of`.
        compute: makes the map (``explain_pair`` or ``explain_generation`` with the key's settings).
    """
    with store() as session:
        found = lookup(session, key)
    if found is not None:
        return CachedSaliency(found, hit=True)
    saliency = compute()
    try:
        with store.begin() as session:
            save(session, key, saliency)
    except IntegrityError:  # another session stored the same entry meanwhile: keep theirs
        with store() as session:
            return CachedSaliency(lookup(session, key) or saliency, hit=True)
    return CachedSaliency(saliency, hit=False)
