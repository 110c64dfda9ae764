"""Optimistic concurrency holds by construction on both backends: two curators, one mention, at once.

Curator A has checked and written but not committed; curator B decides the same mention
meanwhile. B must wait for A (the mention's row is locked), then see A's decision and be
refused. Checking after an INSERT without that lock let both pass under PostgreSQL's
READ COMMITTED.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from bel_core.errors import ConcurrentDecisionError
from bel_core.types import DecisionStatus
from db.models import DecisionRow
from usecases import services

SEIZURES = ("doc1", 12, 20)


def test_the_second_of_two_simultaneous_curators_waits_and_is_refused(factory, linker, ingested):
    outcome: list[object] = []

    def curator_b() -> None:
        try:
            with factory.begin() as session:
                services.decide(
                    session, linker, SEIZURES, DecisionStatus.NIL, curator="bob", expected_latest_decision_id=None
                )
            outcome.append("stored")
        except ConcurrentDecisionError as e:
            outcome.append(e)

    with factory.begin() as session_a:
        services.decide(
            session_a, linker, SEIZURES, DecisionStatus.ACCEPTED, curator="ann", expected_latest_decision_id=None
        )
        b = threading.Thread(target=curator_b)
        b.start()
        b.join(timeout=1.5)
        assert b.is_alive(), f"curator B did not wait for A's lock: {outcome}"
    b.join(timeout=30)
    [refused] = outcome
    assert isinstance(refused, ConcurrentDecisionError)
    assert refused.latest.decision.curator == "ann"
    with factory() as session:
        assert session.scalars(select(DecisionRow.curator)).all() == ["ann"]
