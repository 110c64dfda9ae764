"""usecases.serving: which linker serves, how often the registry is read, rebuilds that swap in."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bel_core.config import Settings
from bel_core.errors import ModelUnavailableError
from usecases import serving


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Progress:
    def __init__(self) -> None:
        self.closed = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        pass

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def settings(tmp_path: Path, tiny_kb_path: Path) -> Settings:
    settings = Settings.load(env={"BEL_DATA_DIR": str(tmp_path / "data"), "BEL_KB": str(tiny_kb_path)})
    return replace(settings, retrieval=replace(settings.retrieval, dense_enabled=False))


def test_the_registry_is_read_at_most_every_few_seconds(settings, factory, monkeypatch):
    promoted = {"dir": None}
    reads: list[float] = []

    def read(settings: Settings, store: object) -> str | None:
        reads.append(clock.now)
        return promoted["dir"]

    monkeypatch.setattr(serving, "promoted_model_dir", read)
    clock = Clock()
    service = serving.LinkerService(settings, factory, check_every_s=5.0, clock=clock)
    assert service.built() is None
    progress = Progress()
    first = service.linker(lambda: progress)
    assert progress.closed == 1 and service.built() is first and service.served_model_dir is None
    for _ in range(100):
        assert service.linker(Progress) is first
    assert reads == [0.0]  # no registry read (no database session) per call
    clock.now = 5.0
    service.linker(Progress)
    assert reads == [0.0, 5.0]
    service.promotion_changed()
    service.linker(Progress)
    assert reads == [0.0, 5.0, 5.0]  # the event makes the next call look at once


def test_a_promoted_version_whose_directory_is_gone_is_reported(settings, factory, monkeypatch, tmp_path: Path):
    monkeypatch.setattr(serving, "promoted_model_dir", lambda settings, store: str(tmp_path / "gone"))
    service = serving.LinkerService(settings, factory)
    progress = Progress()
    with pytest.raises(ModelUnavailableError, match="promoted linker version's directory"):
        service.linker(lambda: progress)
    assert progress.closed == 1 and service.built() is None


def test_rebuild_swaps_in_a_new_linker(settings, factory):
    service = serving.LinkerService(settings, factory)
    old = service.linker(Progress)
    new = service.rebuild(Progress())
    assert new is not old and service.linker(Progress) is new
