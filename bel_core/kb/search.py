"""Disk-backed KB search for large vocabularies: one SQLite file per KB content, built once.

Stage: the curator's lookup box, like ``KnowledgeBase.search`` and with the same result order
(the tests check that both agree): the concept with that id or alt id (any case); concepts
with a name equal to the normalised query (preferred-name matches first); names starting
with it (shortest first); names containing it (alphabetical). The in-memory search scans
every name for the last step, so its time grows with the KB; this file answers each step
from an index (figures for 4 million names: bench/README.md).

Layout: ``names`` holds each distinct normalised name once, numbered in alphabetical order,
with a B-tree on ``(len, name)``: "starts with, shortest first" is one range seek per name
length, and "exact" is one lookup. "Contains" goes through an FTS5 table with the trigram
tokenizer over the same names, read in rowid order, i.e. alphabetically. ``detail=none`` keeps
it small but allows no phrase queries, so the query AND-s a few of the key's trigrams and SQL
re-checks each hit with ``instr``. Which trigrams: the rarest ones that do not overlap (a table
of trigram document counts is written at build time), because AND-ing every trigram of a long
name walks the huge lists of common ones ("ion", "ic "): on the 4-million-name benchmark an
exact-name query took 45 ms at the median and 0.95 s at p95 that way. FTS5's own ``prefix=``
indexes were not used: they index *token* prefixes ("sept*" matches "atrial septal defect"), not names that
start with the query, and they cannot order by length. Queries of one or two characters
have no trigram; "contains" then scans ``names`` in order until ``limit`` concepts are found.

A query is text, never FTS5 syntax: each trigram goes into the MATCH string as a quoted
string, and the trigram counts are looked up through one JSON parameter, not one ``?`` per
trigram (a 260,000-character query used to exceed SQLite's variable limit). Queries longer
than ``MAX_QUERY_CHARS`` are refused with a message by :func:`check_query`, which the
pipeline's in-memory search path calls as well.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from bel_core.errors import KnowledgeBaseError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.text import normalize
from bel_core.types import Concept

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
_TYPE_SEP = "\x1f"  # types of one concept, joined; never part of a type name
_BATCH = 50_000
_LAST = "\U0010ffff"  # sorts after every character: key + _LAST bounds the names starting with key
_TRIGRAMS_PER_QUERY = 4  # rare, non-overlapping; more rarely narrows further, fewer lets false hits through
# Far above any KB name (the longest UMLS names have a few hundred characters), far below what
# slows a lookup down: every query this long is still answered in milliseconds.
MAX_QUERY_CHARS = 1_000

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE concepts(cid INTEGER PRIMARY KEY, concept_id TEXT NOT NULL, types TEXT NOT NULL);
CREATE TABLE ids(key TEXT PRIMARY KEY, cid INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE names(nid INTEGER PRIMARY KEY, len INTEGER NOT NULL, name TEXT NOT NULL);
CREATE TABLE name_concepts(nid INTEGER, pos INTEGER, cid INTEGER NOT NULL, PRIMARY KEY(nid, pos)) WITHOUT ROWID;
CREATE TABLE trigrams(trigram TEXT PRIMARY KEY, names INTEGER NOT NULL) WITHOUT ROWID;
CREATE TEMP TABLE raw(name TEXT NOT NULL, rank INTEGER NOT NULL, cid INTEGER NOT NULL);
CREATE TEMP TABLE raw_alt(key TEXT NOT NULL, cid INTEGER NOT NULL);
"""


def index_path(cache_dir: Path, fingerprint: str) -> Path:
    """Where the index of the KB with this content fingerprint lives."""
    return cache_dir / "kb_search" / f"v{SCHEMA_VERSION}-{fingerprint[:24]}.sqlite"


def _stage_concepts(con: sqlite3.Connection, concepts: Iterable[Concept]) -> int:
    """Insert concepts, ids and (normalised name, rank, cid) rows; returns the number of names."""
    concept_rows: list[tuple[int, str, str]] = []
    id_rows: list[tuple[str, int]] = []
    alt_rows: list[tuple[str, int]] = []
    name_rows: list[tuple[str, int, int]] = []
    n_names = 0

    def flush() -> None:
        con.executemany("INSERT INTO concepts VALUES (?, ?, ?)", concept_rows)
        con.executemany("INSERT OR REPLACE INTO ids VALUES (?, ?)", id_rows)
        con.executemany("INSERT INTO raw_alt VALUES (?, ?)", alt_rows)
        con.executemany("INSERT INTO raw VALUES (?, ?, ?)", name_rows)
        for rows in (concept_rows, id_rows, alt_rows, name_rows):
            rows.clear()

    for cid, concept in enumerate(concepts, start=1):
        concept_rows.append((cid, concept.concept_id, _TYPE_SEP.join(concept.types)))
        id_rows.append((concept.concept_id.casefold(), cid))
        alt_rows.extend((alt.casefold(), cid) for alt in concept.alt_ids)
        seen: set[str] = set()
        for alias in concept.names:  # the same rule as KnowledgeBase._index_names
            key = normalize(alias)
            if key and key not in seen:
                seen.add(key)
                name_rows.append((key, 0 if alias == concept.name else 1, cid))
        if len(name_rows) >= _BATCH:
            n_names += len(name_rows)
            flush()
    n_names += len(name_rows)
    flush()
    # Alt ids win over primary ids that differ only in case, as in KnowledgeBase._id_lookup.
    con.execute("INSERT OR REPLACE INTO ids SELECT key, cid FROM raw_alt")
    return n_names


def _number_names(con: sqlite3.Connection) -> list[int]:
    """Fill ``names`` (alphabetical nids) and ``name_concepts`` from ``raw``; returns the name lengths."""
    rows = con.execute(
        "SELECT r.name, r.cid FROM raw r JOIN concepts c ON c.cid = r.cid ORDER BY r.name, r.rank, c.concept_id"
    )
    names: list[tuple[int, int, str]] = []
    links: list[tuple[int, int, int]] = []
    lengths: set[int] = set()
    nid, pos, previous = 0, 0, None
    writer = con.cursor()
    for name, cid in rows:
        if name != previous:
            nid, pos, previous = nid + 1, 0, name
            names.append((nid, len(name), name))
            lengths.add(len(name))
        links.append((nid, pos, cid))
        pos += 1
        if len(links) >= _BATCH:
            writer.executemany("INSERT INTO names VALUES (?, ?, ?)", names)
            writer.executemany("INSERT INTO name_concepts VALUES (?, ?, ?)", links)
            names.clear()
            links.clear()
    writer.executemany("INSERT INTO names VALUES (?, ?, ?)", names)
    writer.executemany("INSERT INTO name_concepts VALUES (?, ?, ?)", links)
    return sorted(lengths)


def build_index(
    path: Path, concepts: Iterable[Concept], *, fingerprint: str, progress: Callable[[str], None] | None = None
) -> Path:
    """Write the search index for ``concepts`` to ``path`` (atomically: a reader never sees half a file).

    Args:
        path: destination file; missing parent directories are created.
        concepts: the KB's concepts, streamed once (a generator is fine: millions need not fit in memory).
        fingerprint: the KB's content fingerprint, recorded in the file.
        progress: called with the name of each build step as it starts.

    Returns:
        ``path``.
    """
    report = progress or (lambda step: None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    started = time.perf_counter()
    con = sqlite3.connect(tmp)
    try:
        # A half-built file is discarded, never recovered: no journal, no fsync until the end.
        con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;")
        con.executescript(_SCHEMA)
        report("concepts")
        n_names = _stage_concepts(con, concepts)
        report("names")
        lengths = _number_names(con)
        report("btree")
        con.execute("CREATE INDEX names_len_name ON names(len, name)")
        report("fts")
        # Names are normalised already; case_sensitive keeps each trigram equal to the key's substring.
        con.execute(
            "CREATE VIRTUAL TABLE names_fts USING fts5(name, content='names', content_rowid='nid', "
            "tokenize='trigram case_sensitive 1', detail='none')"
        )
        con.execute("INSERT INTO names_fts(names_fts) VALUES ('rebuild')")
        con.execute("INSERT INTO names_fts(names_fts) VALUES ('optimize')")
        con.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, names_fts, 'row')")
        con.execute("INSERT INTO trigrams SELECT term, doc FROM temp.vocab")
        meta = {"schema": str(SCHEMA_VERSION), "fingerprint": fingerprint, "lengths": json.dumps(lengths)}
        con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        con.execute("DROP TABLE raw")
        con.execute("DROP TABLE raw_alt")
        con.commit()
    finally:
        con.close()
    os.replace(tmp, path)
    logger.info("KB search index: %d names in %.1f s -> %s", n_names, time.perf_counter() - started, path)
    return path


def check_query(query: str) -> None:
    """Refuse a KB search query over ``MAX_QUERY_CHARS`` characters.

    Raises:
        KnowledgeBaseError: the query is too long (its length and the limit are in the message).
    """
    if len(query) > MAX_QUERY_CHARS:
        raise KnowledgeBaseError(
            f"A KB search query can have at most {MAX_QUERY_CHARS:,} characters; this one has {len(query):,}. "
            "Search for a name, a part of one, or an id."
        )


class KBSearchIndex:
    """Read-only search over a built index file; safe to share between threads (one lock).

    Attributes:
        path: the index file.
        fingerprint: content fingerprint of the KB it was built from.
    """

    def __init__(self, path: Path) -> None:
        """Open an index written by :func:`build_index`.

        Raises:
            KnowledgeBaseError: the file is missing or is not a search index of this schema.
        """
        self.path = path
        if not path.is_file():
            raise KnowledgeBaseError(f"KB search index {path} does not exist; build it with build_index()")
        self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        try:
            meta = dict(self._con.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as e:
            raise KnowledgeBaseError(f"{path} is not a KB search index ({e}); delete it to rebuild") from e
        if meta.get("schema") != str(SCHEMA_VERSION):
            raise KnowledgeBaseError(f"{path} has index schema {meta.get('schema')}, expected {SCHEMA_VERSION}")
        self.fingerprint = meta["fingerprint"]
        self._lengths: list[int] = json.loads(meta["lengths"])

    @classmethod
    def for_kb(cls, kb: KnowledgeBase, cache_dir: Path) -> KBSearchIndex:
        """The index of ``kb`` in ``cache_dir``, built first if this KB content has none yet."""
        path = index_path(cache_dir, kb.fingerprint)
        if not path.is_file():
            build_index(path, kb, fingerprint=kb.fingerprint)
        return cls(path)

    def close(self) -> None:
        """Close the database connection."""
        self._con.close()

    def search(self, query: str, *, limit: int = 20, types: Sequence[str] | None = None) -> list[str]:
        """Concept ids matching ``query``, best first, in the order of ``KnowledgeBase.search``.

        Args:
            query: an id or (part of) a name.
            limit: maximum number of concepts returned.
            types: when given, keep only concepts with at least one of these types.

        Returns:
            At most ``limit`` distinct primary concept ids.

        Raises:
            KnowledgeBaseError: the query is longer than ``MAX_QUERY_CHARS``.
        """
        check_query(query)
        key = normalize(query)
        if limit <= 0 or not key:
            return []
        wanted = set(types) if types is not None else None
        found: dict[str, None] = {}

        def add(rows: Iterable[tuple[str, str]]) -> bool:
            """Add matches in order; True once ``limit`` concepts are found."""
            for concept_id, joined in rows:
                if concept_id in found:
                    continue
                if wanted is None or wanted.intersection(joined.split(_TYPE_SEP) if joined else ()):
                    found[concept_id] = None
                    if len(found) >= limit:
                        return True
            return False

        with self._lock:
            by_id = self._con.execute(
                "SELECT c.concept_id, c.types FROM ids i JOIN concepts c ON c.cid = i.cid WHERE i.key = ?",
                (query.strip().casefold(),),
            )
            exact = self._con.execute("SELECT nid FROM names WHERE len = ? AND name = ?", (len(key), key))
            # Each step runs lazily, only if the steps before it found fewer than ``limit`` concepts.
            for step in (by_id, self._concepts_of(exact), self._concepts_of(self._starting(key))):
                if add(step):
                    return list(found)
            add(self._concepts_of(self._containing(key)))
        return list(found)

    def _concepts_of(self, nids: Iterable[Sequence[int]]) -> Iterator[tuple[str, str]]:
        """(concept id, joined types) of each name, in the stored per-name order."""
        for row in nids:
            yield from self._con.execute(
                "SELECT c.concept_id, c.types FROM name_concepts nc JOIN concepts c ON c.cid = nc.cid "
                "WHERE nc.nid = ? ORDER BY nc.pos",
                (row[0],),
            ).fetchall()

    def _starting(self, key: str) -> Iterator[tuple[int]]:
        """Names starting with ``key``: shortest first, then alphabetical."""
        for length in self._lengths:
            if length >= len(key):
                yield from self._con.execute(
                    "SELECT nid FROM names WHERE len = ? AND name >= ? AND name < ? ORDER BY name",
                    (length, key, key + _LAST),
                )

    def _containing(self, key: str) -> Iterable[tuple[int]]:
        """Names containing ``key``, alphabetical."""
        if len(key) < 3:
            return self._con.execute("SELECT nid FROM names WHERE instr(name, ?) > 0 ORDER BY nid", (key,))
        trigrams = self._rare_trigrams(key)
        if not trigrams:
            return ()
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in trigrams)
        return self._con.execute(
            "SELECT rowid FROM names_fts WHERE names_fts MATCH ? AND instr(name, ?) > 0 ORDER BY rowid", (match, key)
        )

    def _rare_trigrams(self, key: str) -> list[str]:
        """The rarest non-overlapping trigrams of ``key``; empty when one occurs in no name (nothing matches)."""
        positions = range(len(key) - 2)
        wanted = sorted({key[i : i + 3] for i in positions})
        counts = dict(
            self._con.execute(
                "SELECT trigram, names FROM trigrams WHERE trigram IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted),),
            )
        )
        if len(counts) < len(wanted):
            return []
        chosen: list[int] = []
        for i in sorted(positions, key=lambda i: (counts[key[i : i + 3]], i)):
            if all(abs(i - j) >= 3 for j in chosen):
                chosen.append(i)
                if len(chosen) == _TRIGRAMS_PER_QUERY:
                    break
        return list(dict.fromkeys(key[i : i + 3] for i in sorted(chosen)))
