"""Curator synonyms reach the linker: ``KnowledgeBase.with_synonyms`` and a pipeline rebuilt over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bel_core.config import KBConfig, RetrievalConfig, Settings
from bel_core.errors import KnowledgeBaseError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.linking.builder import SynonymExtension
from bel_core.linking.pipeline import LinkingPipeline
from bel_core.types import Document, Mention, MentionOrigin

HEADACHE, MICROCEPHALY = "HP:0002315", "HP:0000252"


def test_with_synonyms_adds_names_and_changes_the_fingerprint(tiny_kb: KnowledgeBase) -> None:
    extended = tiny_kb.with_synonyms(
        [
            ("head  pain", HEADACHE),
            ("Cephalgia", HEADACHE),
            ("tonic fits", "HP:0002279"),
            ("Tonic-fits", "HP:0001250"),
        ],
        extension="ext-abc",
    )
    # Whitespace is collapsed; a name the concept has, or one added twice, is not repeated; alt ids resolve.
    assert extended.get(HEADACHE).synonyms == ("Headaches", "Cephalgia", "head pain")
    assert extended.get("HP:0001250").synonyms[-1:] == ("tonic fits",)
    assert extended.version == "tiny-1+ext-abc" and extended.name == tiny_kb.name
    assert extended.fingerprint != tiny_kb.fingerprint and len(extended) == len(tiny_kb)
    assert tiny_kb.get(HEADACHE).synonyms == ("Headaches", "Cephalgia")  # the base KB is unchanged
    assert [c.concept_id for c in extended.search("head pain")] == [HEADACHE]
    assert tiny_kb.with_synonyms([], extension="none") is tiny_kb


def test_with_synonyms_names_every_unknown_id(tiny_kb: KnowledgeBase) -> None:
    pairs = [("x", "HP:9999999"), ("y", HEADACHE), ("z", "MESH:D000001"), ("w", "HP:9999999")]
    with pytest.raises(KnowledgeBaseError, match=r"lacks concept ids \['HP:9999999', 'MESH:D000001'\]"):
        tiny_kb.with_synonyms(pairs, extension="ext-1")


def _settings(data_dir: Path, kb_path: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        kb=KBConfig(source=str(kb_path), format="jsonl", roots=()),
        retrieval=RetrievalConfig(top_k=5, dense_enabled=False),
    )


def _top(linker: LinkingPipeline, text: str) -> str:
    [result] = linker.link([Mention("d", 0, len(text), text, origin=MentionOrigin.MANUAL)])
    assert result.top is not None
    return result.top.concept_id


def test_rebuild_with_a_synonym_ranks_the_right_concept_first(tiny_kb_path: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path, tiny_kb_path)
    before = LinkingPipeline.from_settings(settings)
    assert _top(before, "head pain") == MICROCEPHALY  # character n-grams favour "head"
    assert before.extension_version == "none"

    after = LinkingPipeline.from_settings(settings, synonyms=SynonymExtension((("head pain", HEADACHE),), "ext-1"))
    assert _top(after, "head pain") == HEADACHE
    assert after.extension_version == "ext-1"
    assert after.kb_version.startswith("TinyHPO:tiny-1+ext-1:") and after.kb_version != before.kb_version
    # The detector and the KB search see the synonym too.
    assert [m.text for m in after.detect(Document("d", "Severe head pain today."))] == ["head pain"]
    assert [c.concept_id for c in after.search_kb("head pain")] == [HEADACHE]
    # The calibrator is keyed on the KB content: the extended KB gets its own, the base one is kept.
    assert len(list((settings.cache_dir / "calibration").glob("*.json"))) == 2


def test_rebuild_with_an_unknown_id_fails_clearly(tiny_kb_path: Path, tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="HP:9999999"):
        LinkingPipeline.from_settings(
            _settings(tmp_path, tiny_kb_path), synonyms=SynonymExtension((("x", "HP:9999999"),), "ext-2")
        )


def test_the_app_extension_skips_unknown_ids_instead_of_refusing(tiny_kb: KnowledgeBase) -> None:
    pairs = (("head pain", HEADACHE), ("ghost", "HP:9999999"))
    with pytest.raises(KnowledgeBaseError, match="HP:9999999"):
        SynonymExtension(pairs, "ext-1").apply(tiny_kb)
    extended = SynonymExtension(pairs, "ext-1", skip_unknown=True).apply(tiny_kb)
    assert "head pain" in extended.get(HEADACHE).synonyms
    assert extended.version == "tiny-1+ext-1"


def test_a_synonym_rebuild_encodes_only_the_new_names(tiny_kb_path: Path, tiny_model_dir: Path, tmp_path: Path):
    settings = Settings(
        data_dir=tmp_path,
        kb=KBConfig(source=str(tiny_kb_path), format="jsonl", roots=()),
        retrieval=RetrievalConfig(top_k=5, dense_model=str(tiny_model_dir)),
    )
    LinkingPipeline.from_settings(settings)  # caches the base KB's dense index
    encoding: list[int] = []  # names the dense index encodes (progress totals of the "dense" stage)
    extension = SynonymExtension((("head pain", HEADACHE), ("cephalic ache", HEADACHE)), "ext-2")
    progress = lambda stage, done, total: encoding.append(total) if stage == "dense" else None  # noqa: E731
    linker = LinkingPipeline.from_settings(settings, synonyms=extension, progress=progress)
    assert set(encoding) == {2}  # the two new names; the KB's other names were copied
    assert linker.dense is not None and linker.dense.index.ntotal == len(linker.kb.aliases())
