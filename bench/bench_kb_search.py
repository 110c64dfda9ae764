"""KB search at scale: build time, disk size and query latency of ``bel_core.kb.search`` on a synthetic KB.

The KB is generated, seeded: ``--concepts`` concepts (default 1,000,000) with ``--names``
names each (default 4: a preferred name and three synonyms, 4,000,000 names in all) made of
biomedical-looking words ("congenital cardiomyopathy type 12", "hepatorenal neuritis"),
1-2 of 20 semantic types, and an alt id on every tenth concept. Concepts are streamed
into the index builder, so the KB never sits in memory as Python objects.

Query sets (``--queries`` each, drawn from the generated names with another seed): primary
and alt ids in lower case, exact names, prefixes (the first 3-8 characters of a name),
multi-word substrings (two consecutive words from inside a name), each with and without a
filter on one semantic type. Latency is wall time per ``search(query, limit=20)`` call on a
warm index (one warm-up pass over a separate sample first), on this process's one thread.
``--in-memory-concepts N`` also times ``KnowledgeBase.search`` (the in-memory search used
below ``kb.search_index_min_concepts``) on the first N concepts of the same KB, for comparison.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bel_core.kb.knowledge_base import KnowledgeBase  # noqa: E402
from bel_core.kb.search import KBSearchIndex, build_index  # noqa: E402
from bel_core.types import Concept  # noqa: E402

PREFIXES = "cardio neuro hepato nephro osteo myo derma gastro pneumo hemato endo angio arthro encephalo".split()
ROOTS = "path trophy plasia genesis sclerosis megaly malacia lysis stenosis cele rrhagia ectasia".split()
SUFFIXES = ["", "ic", "al", "oid"]
MODIFIERS = (
    "congenital acute chronic familial juvenile progressive hereditary idiopathic severe mild "
    "recurrent atypical benign malignant autosomal recessive dominant linked partial generalized"
).split()
NOUNS = "syndrome disease disorder deficiency defect anomaly dysplasia neuritis atrophy carcinoma".split()
TYPES = [f"T{n:03d}" for n in range(1, 21)]


def _word(rng: random.Random) -> str:
    return rng.choice(PREFIXES) + rng.choice(ROOTS) + rng.choice(SUFFIXES)


def _name(rng: random.Random) -> str:
    """A 2-5 word name; the numbered variants keep 4 million names mostly distinct."""
    words = [rng.choice(MODIFIERS)] if rng.random() < 0.6 else []
    words += [_word(rng) for _ in range(rng.randint(1, 2))] + [rng.choice(NOUNS)]
    if rng.random() < 0.5:
        words += ["type", str(rng.randint(1, 99))]
    return " ".join(words)


def concepts(n_concepts: int, n_names: int, seed: int) -> Iterator[Concept]:
    """The synthetic KB, one concept at a time (same seed, same KB)."""
    rng = random.Random(seed)
    for i in range(n_concepts):
        names = [_name(rng) for _ in range(n_names)]
        yield Concept(
            f"SYN:{i:07d}",
            names[0].capitalize(),
            synonyms=tuple(names[1:]),
            types=tuple(rng.sample(TYPES, rng.randint(1, 2))),
            alt_ids=(f"ALT:{i:07d}",) if i % 10 == 0 else (),
        )


def query_sets(n_concepts: int, n_names: int, seed: int, n: int) -> dict[str, list[str]]:
    """Queries drawn from the KB: ids, exact names, prefixes, multi-word substrings."""
    rng = random.Random(seed + 1)
    wanted = set(rng.sample(range(n_concepts), n))
    names = [c.names[rng.randrange(n_names)] for i, c in enumerate(concepts(n_concepts, n_names, seed)) if i in wanted]
    rng.shuffle(names)
    ids = [f"syn:{i:07d}" if rng.random() < 0.8 else f"alt:{i // 10 * 10:07d}" for i in sorted(wanted)]
    multi = []
    for name in names:
        words = name.lower().split()
        start = rng.randrange(max(1, len(words) - 1))
        multi.append(" ".join(words[start : start + 2]))
    return {
        "id / alt id": ids,
        "exact name": names,
        "prefix (3-8 chars)": [name.lower()[: rng.randint(3, 8)] for name in names],
        "multi-word": multi,
    }


def latencies(search: Callable[[str], list[str]], queries: list[str]) -> tuple[list[float], int]:
    """Milliseconds per query, and how many queries returned nothing."""
    out, empty = [], 0
    for q in queries:
        started = time.perf_counter()
        hits = search(q)
        out.append((time.perf_counter() - started) * 1000)
        empty += not hits
    return out, empty


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def print_table(search: Callable[[str, list[str] | None], list[str]], sets: dict[str, list[str]], seed: int) -> None:
    """p50/p95/p99/max latency per query set, without and with a one-type filter."""
    type_rng = random.Random(seed + 2)
    warm = [q for queries in sets.values() for q in queries[: max(1, len(queries) // 10)]]
    latencies(lambda q: search(q, None), warm)
    print(f"{'query set':<22} {'filter':<8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'empty':>6}")
    for label, queries in sets.items():
        for filtered in (False, True):
            types = iter([[type_rng.choice(["T001", "T002", "T003"])] if filtered else None for _ in queries])
            ms, empty = latencies(lambda q, types=types: search(q, next(types)), queries)
            print(
                f"{label:<22} {'1 type' if filtered else 'none':<8} {percentile(ms, 50):>8.2f} "
                f"{percentile(ms, 95):>8.2f} {percentile(ms, 99):>8.2f} {max(ms):>8.2f} {empty:>6}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", type=int, default=1_000_000)
    parser.add_argument("--names", type=int, default=4, help="names per concept (preferred + synonyms)")
    parser.add_argument("--queries", type=int, default=1000, help="queries per set")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out-dir", type=Path, help="where the index is written (default: a temp dir, deleted)")
    parser.add_argument("--in-memory-concepts", type=int, default=0, help="also time KnowledgeBase.search on N")
    args = parser.parse_args()
    out_dir = args.out_dir or Path(tempfile.mkdtemp(prefix="bel-kb-search-"))
    path = out_dir / "kb_search.sqlite"
    path.unlink(missing_ok=True)

    shape = (args.concepts, args.names, args.seed)
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()
    build_index(
        path,
        concepts(*shape),
        fingerprint=f"synthetic-{args.concepts}x{args.names}-s{args.seed}",
        progress=lambda step: steps.append((step, time.perf_counter())),
    )
    build_s = time.perf_counter() - started
    ends = [t for _, t in steps[1:]] + [started + build_s]
    detail = ", ".join(f"{step} {end - t:.0f}s" for (step, t), end in zip(steps, ends, strict=True))
    size_mb = path.stat().st_size / 1e6
    total = args.concepts * args.names
    print(f"KB: {args.concepts:,} concepts x {args.names} names = {total:,} names (seed {args.seed})")
    print(f"build: {build_s:.0f} s ({detail}); disk: {size_mb:,.0f} MB ({path})")

    index = KBSearchIndex(path)
    print()
    print_table(lambda q, types: index.search(q, limit=20, types=types), query_sets(*shape, args.queries), args.seed)
    index.close()
    if args.out_dir is None:
        path.unlink()
        os.rmdir(out_dir)
    if args.in_memory_concepts:
        small = (args.in_memory_concepts, args.names, args.seed)
        started = time.perf_counter()
        kb = KnowledgeBase(concepts(*small), name="synthetic", version="1")
        names = args.in_memory_concepts * args.names
        print(f"\nin memory, {names:,} names: KnowledgeBase built in {time.perf_counter() - started:.0f} s")
        print_table(
            lambda q, types: [c.concept_id for c in kb.search(q, limit=20, types=types)],
            query_sets(*small, args.queries),
            args.seed,
        )
    cmd = f"nice -n 5 .venv/bin/python bench/bench_kb_search.py --concepts {args.concepts} --names {args.names}"
    extra = f" --in-memory-concepts {args.in_memory_concepts}" if args.in_memory_concepts else ""
    print(f"\nrerun: {cmd} --queries {args.queries} --seed {args.seed}{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
