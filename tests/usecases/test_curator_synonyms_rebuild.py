"""Synonyms stored by curators feed the retriever after a rebuild, from the store and from `bel build-index`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bel_core.config import KBConfig, RetrievalConfig, Settings
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.linking.builder import SynonymExtension
from bel_core.linking.pipeline import LinkingPipeline
from bel_core.types import Concept, Mention, MentionOrigin
from cli import main
from tests.fakes import FakeLinker
from usecases import kb_extension

HEADACHE, MICROCEPHALY = "HP:0002315", "HP:0000252"


def _stored(factory) -> SynonymExtension:
    with factory() as session:
        return SynonymExtension(tuple(kb_extension.extension_pairs(session)), kb_extension.extension_version(session))


def _top(linker: LinkingPipeline, text: str) -> str:
    [result] = linker.link([Mention("d", 0, len(text), text, origin=MentionOrigin.MANUAL)])
    assert result.top is not None
    return result.top.concept_id


def test_a_stored_synonym_ranks_its_concept_first_after_rebuild(factory, linker, tiny_kb_path, tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        kb=KBConfig(source=str(tiny_kb_path), format="jsonl", roots=()),
        retrieval=RetrievalConfig(top_k=5, dense_enabled=False),
    )
    assert _top(LinkingPipeline.from_settings(settings, synonyms=_stored(factory)), "head pain") == MICROCEPHALY
    with factory.begin() as session:
        assert kb_extension.add_synonym(session, linker, "head pain", HEADACHE, curator="ann")
    stored = _stored(factory)
    assert stored.pairs == (("head pain", HEADACHE),) and stored.version.startswith("ext-")
    rebuilt = LinkingPipeline.from_settings(settings, synonyms=stored)
    assert _top(rebuilt, "head pain") == HEADACHE
    assert rebuilt.extension_version == stored.version and f"+{stored.version}:" in rebuilt.kb_version
    with factory() as session:  # building read the store and changed nothing in it
        assert kb_extension.extension_pairs(session) == [("head pain", HEADACHE)]


@pytest.fixture
def cli_env(tmp_path: Path, tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BEL_KB", str(tiny_kb_path))
    monkeypatch.setenv("BEL_DENSE_ENABLED", "0")
    return tmp_path


def test_build_index_with_curator_synonyms(cli_env, db_url, factory, linker, capsys):
    with factory.begin() as session:
        kb_extension.add_synonym(session, linker, "head pain", HEADACHE, curator="ann")
    assert main(["--db", db_url, "build-index", "--with-curator-synonyms"]) == 0
    out = capsys.readouterr().out
    version = _stored(factory).version
    assert f"curator synonyms: 1 (extension {version})" in out
    assert f"KB TinyHPO tiny-1+{version}: 16 concepts" in out
    assert main(["--db", db_url, "build-index"]) == 0
    assert "KB TinyHPO tiny-1: 16 concepts" in capsys.readouterr().out


def test_build_index_names_synonyms_of_ids_the_kb_lacks(cli_env, db_url, factory, tiny_kb, capsys):
    bigger = KnowledgeBase([*tiny_kb, Concept("HP:7777777", "Retired term")], name="TinyHPO", version="tiny-0")
    with factory.begin() as session:
        kb_extension.add_synonym(session, FakeLinker(bigger), "old words", "HP:7777777", curator="ann")
    assert main(["--db", db_url, "build-index", "--with-curator-synonyms"]) == 2
    assert "lacks concept ids ['HP:7777777']" in capsys.readouterr().err
