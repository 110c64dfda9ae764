"""The disk-backed KB search agrees with ``KnowledgeBase.search``, is cached per KB, and serves the pipeline."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bel_core.config import KBConfig, RetrievalConfig, Settings
from bel_core.errors import ConfigError, KnowledgeBaseError
from bel_core.kb import search as kb_search
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.kb.search import KBSearchIndex, build_index, index_path
from bel_core.linking.pipeline import LinkingPipeline
from bel_core.types import Concept

TYPES_TO_TRY = [None, ["Abnormality of head or neck"], ["Growth abnormality", "Abnormality of limbs"], ["none"]]


def _agree(kb: KnowledgeBase, index: KBSearchIndex, queries: list[str], types_sets: list) -> int:
    """Assert both searches give the same ids for every query, type set and limit; returns the count."""
    checked = 0
    for query in queries:
        for types in types_sets:
            for limit in (1, 3, 20):
                expected = [c.concept_id for c in kb.search(query, limit=limit, types=types)]
                assert index.search(query, limit=limit, types=types) == expected, (query, types, limit)
                checked += 1
    return checked


@pytest.fixture(scope="module")
def tiny_index(tiny_kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> KBSearchIndex:
    return KBSearchIndex.for_kb(tiny_kb, tmp_path_factory.mktemp("cache"))


def test_agrees_with_in_memory_search_on_the_tiny_kb(tiny_kb: KnowledgeBase, tiny_index: KBSearchIndex) -> None:
    names = [name for concept in tiny_kb for name in concept.names]
    queries = [
        *names,
        *(name[:n] for name in names for n in (1, 2, 3, 5)),  # prefixes, below and above the trigram size
        *(name[1:5] for name in names),  # inner substrings
        *(name.upper() for name in names[:10]),
        *(cid for concept in tiny_kb for cid in (concept.concept_id, *concept.alt_ids)),
        " hp:0002279 ",
        "HP:000",
        "  Hearing   LOSS ",
        "septal defect",
        "head",
        "zzz-no-such-name",
        '"quoted" %_ AND OR *',
        "   ",
    ]
    assert _agree(tiny_kb, tiny_index, queries, TYPES_TO_TRY) > 3000
    # A few orders spelled out, so a bug shared by both searches would still show.
    assert tiny_index.search("head") == ["HP:0002315", "HP:0000256", "HP:0002076", "HP:0000252"]
    assert tiny_index.search("ASD") == ["HP:0000729", "HP:0001631"]
    assert tiny_index.search("hp:0002279") == ["HP:0001250"]
    assert tiny_index.search("head", types=["Abnormality of head or neck"]) == ["HP:0000256", "HP:0000252"]
    assert tiny_index.search("head", limit=0) == [] and tiny_index.search(" ") == []


def _random_kb(seed: int, n: int) -> KnowledgeBase:
    """Concepts named from few syllables, so names share prefixes, substrings and whole names."""
    rng = random.Random(seed)
    syllables = ["ab", "ba", "cor", "di", "en", "ex", "gly", "hem", "it", "o", "-", " "]

    def name() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(1, 6))).strip() or "x"

    return KnowledgeBase(
        [
            Concept(
                f"R:{i:05d}",
                name().capitalize(),
                synonyms=tuple(name() for _ in range(rng.randint(0, 3))),
                types=tuple(rng.sample(["A", "B", "C"], rng.randint(0, 2))),
                alt_ids=(f"OLD:{i}",) if i % 7 == 0 else (),
            )
            for i in range(n)
        ],
        name="random",
        version=str(seed),
    )


def test_agrees_with_in_memory_search_on_a_random_kb(tmp_path: Path) -> None:
    kb = _random_kb(seed=5, n=1500)
    index = KBSearchIndex.for_kb(kb, tmp_path)
    rng = random.Random(6)
    names = [alias for alias, _ in kb.aliases()]
    queries = [rng.choice(names)[: rng.randint(1, 12)] for _ in range(150)]
    queries += [rng.choice(names)[rng.randint(0, 4) :][:5] for _ in range(100)]
    queries += ["r:00007", "old:14", "OLD:700"]
    assert _agree(kb, index, queries, [None, ["A"], ["B", "C"]]) == 253 * 9


def test_index_is_built_once_per_kb_content(tiny_kb: KnowledgeBase, tmp_path: Path, monkeypatch) -> None:
    first = KBSearchIndex.for_kb(tiny_kb, tmp_path)
    assert first.path == index_path(tmp_path, tiny_kb.fingerprint) and first.fingerprint == tiny_kb.fingerprint
    monkeypatch.setattr(kb_search, "build_index", lambda *a, **k: pytest.fail("index rebuilt"))
    assert KBSearchIndex.for_kb(tiny_kb, tmp_path).search("fits") == ["HP:0001250"]
    extended = tiny_kb.with_synonyms([("tonic fits", "HP:0001250")], extension="ext-1")
    monkeypatch.undo()
    other = KBSearchIndex.for_kb(extended, tmp_path)
    assert other.path != first.path and other.search("tonic") == ["HP:0001250"]
    assert sorted(p.name for p in (tmp_path / "kb_search").iterdir()) == sorted([first.path.name, other.path.name])


def test_build_streams_concepts_and_bad_files_are_reported(tiny_kb: KnowledgeBase, tmp_path: Path) -> None:
    path = build_index(tmp_path / "sub" / "index.sqlite", iter(tiny_kb), fingerprint="f" * 64)
    assert KBSearchIndex(path).search("short") == ["HP:0004322", "HP:0001156"]
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        KBSearchIndex(tmp_path / "missing.sqlite")
    (tmp_path / "junk.sqlite").write_text("not a database", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="is not a KB search index"):
        KBSearchIndex(tmp_path / "junk.sqlite")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    with pytest.raises(KnowledgeBaseError, match="index schema 0"):
        KBSearchIndex(path)


def test_pipeline_searches_through_the_index_from_the_threshold(tiny_kb_path: Path, tmp_path: Path) -> None:
    steps: list[str] = []
    settings = Settings(
        data_dir=tmp_path,
        kb=KBConfig(source=str(tiny_kb_path), format="jsonl", roots=(), search_index_min_concepts=0),
        retrieval=RetrievalConfig(top_k=5, dense_enabled=False),
    )
    linker = LinkingPipeline.from_settings(settings, progress=lambda stage, done, total: steps.append(stage))
    assert linker.search_index is not None and "search" in steps
    assert [c.concept_id for c in linker.search_kb("head", types=["Abnormality of head or neck"])] == [
        "HP:0000256",
        "HP:0000252",
    ]
    assert linker.search_kb("HP:0002279")[0].name == "Seizure"
    small = LinkingPipeline.from_settings(replace(settings, kb=replace(settings.kb, search_index_min_concepts=17)))
    assert small.search_index is None  # 16 concepts, below the threshold: in-memory search


def test_negative_threshold_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="search_index_min_concepts"):
        KBConfig(search_index_min_concepts=-1)


# FTS5 query syntax, quoting and SQL wildcards: each must be searched for as text.
FTS5_OPERATORS = [
    "seiz* OR head",
    "NEAR(head small, 2)",
    "name:head",
    '"unbalanced quote',
    "^head",
    "head NOT small",
    "(head) AND (small",
    "'; DROP TABLE names; --",
    "sei%ure _ead",
    "{name} : head",
    "hea\x00d",
]


def test_queries_are_text_never_fts5_syntax(tiny_kb: KnowledgeBase, tiny_index: KBSearchIndex) -> None:
    assert _agree(tiny_kb, tiny_index, FTS5_OPERATORS, [None]) == 3 * len(FTS5_OPERATORS)
    assert tiny_index.search("seiz* OR head") == []  # no name contains that text
    assert tiny_index.search("NEAR(head small, 2)") == []


def test_a_query_at_the_limit_is_answered_and_a_longer_one_refused(
    tiny_kb_path: Path, tiny_index: KBSearchIndex
) -> None:
    # Thousands of distinct trigrams: one bound variable per trigram exceeded SQLite's limit.
    rng = random.Random(7)
    longest = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(kb_search.MAX_QUERY_CHARS))
    assert tiny_index.search(longest) == []
    assert tiny_index.search("small head" + " " * (kb_search.MAX_QUERY_CHARS - 10)) == ["HP:0000252"]
    huge = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(260_000))
    with pytest.raises(KnowledgeBaseError, match="at most 1,000 characters; this one has 260,000"):
        tiny_index.search(huge)
    linker = LinkingPipeline.from_settings(
        Settings(
            kb=KBConfig(source=str(tiny_kb_path), format="jsonl", roots=()),
            retrieval=RetrievalConfig(dense_enabled=False),
        )
    )
    assert linker.search_index is None  # the in-memory path refuses it the same way
    with pytest.raises(KnowledgeBaseError, match="at most 1,000 characters"):
        linker.search_kb(huge)
