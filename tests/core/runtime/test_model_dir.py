"""The model directory's manifest: round trip, validation, KB check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bel_core.errors import ModelUnavailableError
from bel_core.runtime.model_dir import (
    FORMAT_VERSION,
    KBIdentity,
    Manifest,
    check_kb,
    component_path,
    machine_info,
    read_manifest,
    write_manifest,
)

KB_OK = '{"format_version": 1, "kb": {"name": "X", "version": "1", "fingerprint": "f"}}'


def _manifest(tiny_kb, **components: str) -> Manifest:
    return Manifest(
        kb=KBIdentity.of(tiny_kb, "tests/fixtures/kb_tiny.jsonl"),
        components=components,
        linker={"top_k": 5, "memory": {"threshold": 0.9}},
        seeds={"seed": 1},
        wall_time_s=1.5,
        machine=machine_info(),
        command="bel train ...",
    )


def test_round_trip_and_components(tmp_path: Path, tiny_kb):
    (tmp_path / "aliases.jsonl").write_text("")
    manifest = _manifest(tiny_kb, aliases="aliases.jsonl")
    write_manifest(tmp_path, manifest)
    again = read_manifest(tmp_path)
    assert again == manifest and again.format_version == FORMAT_VERSION
    assert component_path(tmp_path, again, "aliases") == tmp_path / "aliases.jsonl"
    assert component_path(tmp_path, again, "reranker") is None
    assert again.machine["device"].startswith(("cpu", "cuda")) and again.machine["cpu_count"] >= 1
    check_kb(again, tiny_kb)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "has no manifest.json"),
        ("{not json", "is not valid JSON"),
        ('{"format_version": 99, "kb": {}}', "format_version 99 is not supported"),
        ('{"format_version": 1, "kb": {"name": "X"}}', "needs name, version and fingerprint"),
        (KB_OK[:-1] + ', "components": {"gpu": "x"}}', "unknown components"),
        (KB_OK[:-1] + ', "components": {"reranker": "r"}}', "points at r, which is missing"),
    ],
)
def test_invalid_directories_say_why(tmp_path: Path, content: str | None, message: str):
    if content is not None:
        (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(ModelUnavailableError, match=message):
        read_manifest(tmp_path)


def test_missing_directory(tmp_path: Path):
    with pytest.raises(ModelUnavailableError, match="does not exist; create one with `bel train`"):
        read_manifest(tmp_path / "nope")


def test_kb_mismatch_names_both(tmp_path: Path, tiny_kb):
    other = json.loads(json.dumps(_manifest(tiny_kb).to_json()))
    other["kb"] |= {"name": "MEDIC", "version": "2017", "fingerprint": "0" * 64}
    write_manifest(tmp_path, Manifest.from_json(other))
    with pytest.raises(ModelUnavailableError) as info:
        check_kb(read_manifest(tmp_path), tiny_kb, tmp_path)
    text = str(info.value)
    assert "trained for KB MEDIC 2017 (fingerprint 000000000000)" in text
    assert f"the loaded KB is TinyHPO tiny-1 (fingerprint {tiny_kb.fingerprint[:12]})" in text


def test_models_for_a_kb_serve_its_curator_extension_but_not_another_kb(tiny_kb):
    manifest = _manifest(tiny_kb)
    extended = tiny_kb.with_synonyms([("head pain", "HP:0002315")], extension="ext-1")
    assert extended.fingerprint != tiny_kb.fingerprint
    check_kb(manifest, extended)  # trained on the base KB: still valid
    twice = extended.with_synonyms([("cephalalgia", "HP:0002315")], extension="ext-2")
    check_kb(manifest, twice)
    unrelated = type(tiny_kb)(list(extended), name=tiny_kb.name, version="copy")
    with pytest.raises(ModelUnavailableError):
        check_kb(manifest, unrelated)  # same content as the extension, but built as a KB of its own
