"""The saliency cache: computed once per key, the stored payload returned on a hit, keys that separate."""

from __future__ import annotations

from sqlalchemy import func, select

from bel_core.explain.saliency import Saliency, WordAttribution
from db.models import SaliencyCacheRow
from usecases import saliency_cache
from usecases.saliency_cache import SaliencyKey


def _saliency(score: float) -> Saliency:
    return Saliency(
        linker="reranker",
        model_version="ce@abc",
        explained="margin",
        score=score,
        output=1.0,
        baseline_output=0.5,
        delta=0.01,
        n_steps=8,
        segments={"left": "mention: fits", "right": "candidate: Seizure"},
        words=(WordAttribution("left", 9, 13, "fits", 0.49),),
        truncated=False,
        seconds=1.5,
    )


def _key(**changes: object) -> SaliencyKey:
    args = {"inputs": ["mention: fits", "candidate: Seizure"], "concept_id": "HP:1", "n_steps": 8, "max_length": 128}
    args.update(changes)
    return SaliencyKey.of("ce@abc", "reranker", **args)  # type: ignore[arg-type]


def test_computes_once_then_returns_the_stored_payload(factory):
    calls: list[float] = []

    def compute() -> Saliency:
        calls.append(0.7)
        return _saliency(0.7 + len(calls))  # a second computation would differ

    first = saliency_cache.get_or_compute(factory, _key(), compute)
    second = saliency_cache.get_or_compute(factory, _key(), compute)
    assert (first.hit, second.hit) == (False, True)
    assert second.saliency == first.saliency == _saliency(1.7)
    assert len(calls) == 1
    with factory() as session:
        row = session.scalars(select(SaliencyCacheRow)).one()
    assert (row.model_version, row.linker, row.concept_id, row.seconds) == ("ce@abc", "reranker", "HP:1", 1.5)
    assert row.settings == "ig;steps=8;max_length=128" and len(row.input_sha256) == 64


def test_other_inputs_concepts_or_settings_miss(factory):
    for key in (_key(), _key(concept_id="HP:2"), _key(n_steps=32), _key(inputs=["mention: fit", "candidate: x"])):
        assert not saliency_cache.get_or_compute(factory, key, lambda: _saliency(0.5)).hit
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(SaliencyCacheRow)) == 4


def test_a_payload_of_another_format_is_recomputed_and_replaced(factory):
    with factory.begin() as session:
        saliency_cache.save(session, _key(), _saliency(0.1))
        session.scalars(select(SaliencyCacheRow)).one().payload = {"format": "saliency-0"}
    again = saliency_cache.get_or_compute(factory, _key(), lambda: _saliency(0.9))
    assert not again.hit and again.saliency.score == 0.9
    with factory() as session:
        assert Saliency.from_json(session.scalars(select(SaliencyCacheRow)).one().payload).score == 0.9
