"""Mutated valid files never crash a reader or a KB loader: each returns a well-formed result or
refuses the input with the project's error naming the file (``tests/fuzz/fuzzing.py`` has the
mutations and the property). Bounded for CI; ``bench/fuzz_readers.py --examples N`` runs longer."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.fuzzing import check, mutate, targets

TARGETS = targets()
EXAMPLES = 120


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_mutated_inputs_are_read_or_refused_with_a_location(name: str) -> None:
    target = TARGETS[name]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rng=st.randoms(use_true_random=False), seed=st.sampled_from(target.seeds))
    def run(rng: random.Random, seed: bytes) -> None:
        check(target, mutate(rng, seed))

    run()


def test_every_seed_is_read_as_valid() -> None:
    """The mutations start from inputs the readers accept, so damage is what gets tested."""
    for target in TARGETS.values():
        for seed in target.seeds:
            assert check(target, seed) == "ok", target.name
