"""The model registry: register, promote (one per kind), roll back to the parent, lineage."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import ModelStatus, ModelVersionRow
from usecases import registry


def _register(factory: sessionmaker[Session], version: str, parent: str | None = None, kind: str = "retriever"):
    with factory.begin() as session:
        registry.register_version(
            session,
            version=version,
            path=f"/models/{version}",
            kind=kind,
            parent_version=parent,
            data={"n_decisions": 10},
            config={"seed": 13},
            metrics={"acc@1": 0.5},
        )


def _statuses(factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as session:
        return {r.version: r.status.value for r in session.scalars(select(ModelVersionRow))}


def test_register_records_a_candidate_with_its_data_config_metrics_and_parent(factory):
    _register(factory, "v1")
    _register(factory, "v2", parent="v1")
    with factory() as session:
        row = registry.get_version(session, "v2")
        assert (row.status, row.parent_version, row.kind, row.path) == (
            ModelStatus.CANDIDATE,
            "v1",
            "retriever",
            "/models/v2",
        )
        assert (row.data, row.config, row.metrics) == ({"n_decisions": 10}, {"seed": 13}, {"acc@1": 0.5})
        assert [r.version for r in registry.list_versions(session)] == ["v2", "v1"]
        assert registry.promoted(session) is None


def test_the_same_version_cannot_be_registered_twice(factory):
    _register(factory, "v1")
    with pytest.raises(registry.RegistryError, match="identical"):
        _register(factory, "v1")


def test_promote_keeps_exactly_one_promoted_version_per_kind(factory):
    for version in ("v1", "v2"):
        _register(factory, version)
    _register(factory, "g1", kind="generator")
    with factory.begin() as session:
        registry.promote(session, "v1")
        registry.promote(session, "g1")
    with factory.begin() as session:
        row = registry.promote(session, "v2")
        assert row.promoted_at is not None
    assert _statuses(factory) == {"v1": "retired", "v2": "promoted", "g1": "promoted"}
    with factory.begin() as session:
        registry.promote(session, "v2")  # promoting the promoted version changes nothing
        assert registry.promoted(session).version == "v2"
        assert registry.promoted(session, "generator").version == "g1"
    assert _statuses(factory) == {"v1": "retired", "v2": "promoted", "g1": "promoted"}


def test_rollback_re_promotes_the_parent_along_the_lineage(factory):
    _register(factory, "v1")
    _register(factory, "v2", parent="v1")
    _register(factory, "v3", parent="v2")
    with factory.begin() as session:
        registry.promote(session, "v3")
    with factory.begin() as session:
        assert registry.rollback(session).version == "v2"
    assert _statuses(factory) == {"v1": "candidate", "v2": "promoted", "v3": "retired"}
    with factory.begin() as session:
        assert registry.rollback(session).version == "v1"
    with factory.begin() as session, pytest.raises(registry.RegistryError, match="no parent"):
        registry.rollback(session)
    assert _statuses(factory) == {"v1": "promoted", "v2": "retired", "v3": "retired"}


def test_rollback_and_promote_errors_name_what_to_do(factory):
    with factory() as session:
        with pytest.raises(registry.RegistryError, match="default is serving"):
            registry.rollback(session)
        with pytest.raises(registry.RegistryError, match="bel models list"):
            registry.promote(session, "nope")
