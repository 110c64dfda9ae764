"""Corpus pre-annotation throughput: local processes and Ray workers on a synthetic corpus of real abstracts.

The corpus is every abstract of the shared corpora (NCBI-disease, BC5CDR train/dev) with its
text unchanged, replicated under new ids until it holds ``--documents`` documents, written as
PubTator shards of ``--shard-docs`` documents (no gold spans: mentions are detected, as when
pre-annotating PubMed). Each configuration runs on a fresh output folder through the same
``run_shards`` that ``bel annotate`` calls, with the embedded default linker unless ``--kb`` /
``--no-dense`` say otherwise.

    .venv/bin/python bench/bench_annotate.py --documents 100000 --engine ray --workers 2 --json out.json
    .venv/bin/python bench/bench_annotate.py --documents 20000 --matrix     # local 1, local N, Ray 1, Ray 2

Figures: documents/s and mentions/s over the whole run (start-up included), start-up (from
the start until the first shard was done, less that shard's own linking time), peak resident
memory per worker (its own getrusage), and the 1-minute load average before and after.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bel_core.annotate import plan_shards, run_shards  # noqa: E402
from bel_core.config import Settings  # noqa: E402
from cli.annotate import build_linker  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SOURCES = [
    DATA / "ncbi_disease" / "NCBItrainset_corpus.txt",
    DATA / "ncbi_disease" / "NCBIdevelopset_corpus.txt",
    DATA / "ncbi_disease" / "NCBItestset_corpus.txt",
    DATA / "bc5cdr" / "CDR_TrainingSet.PubTator.txt",
    DATA / "bc5cdr" / "CDR_DevelopmentSet.PubTator.txt",
]


def abstracts() -> list[tuple[str, str]]:
    """(title, abstract) of every distinct document in the shared corpora."""
    seen: dict[str, tuple[str, str]] = {}
    for path in SOURCES:
        if not path.exists():
            continue
        title = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            if "|t|" in line[:20]:
                title = line.split("|t|", 1)[1]
            elif "|a|" in line[:20]:
                seen.setdefault(title, (title, line.split("|a|", 1)[1]))
    if not seen:
        raise SystemExit(f"no corpora found under {DATA}")
    return list(seen.values())


def synthetic_corpus(folder: Path, documents: int, shard_docs: int) -> Path:
    """PubTator shards of real abstracts under new ids (reused when already written)."""
    stamp = folder / f".complete-{documents}-{shard_docs}"
    if stamp.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    texts = abstracts()
    for first in range(0, documents, shard_docs):
        block = []
        for i in range(first, min(first + shard_docs, documents)):
            title, abstract = texts[i % len(texts)]
            block.append(f"{90_000_000 + i}|t|{title}\n{90_000_000 + i}|a|{abstract}\n")
        (folder / f"shard{first // shard_docs:05d}.pubtator").write_text("\n".join(block), encoding="utf-8")
    stamp.touch()
    return folder


def measure(corpus: Path, out: Path, settings: Settings, engine: str, workers: int) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    first_done: float | None = None
    docs = mentions = 0
    peaks: dict[int, float] = {}
    for result in run_shards(
        plan_shards([corpus], out),
        functools.partial(build_linker, settings),
        engine=engine,  # type: ignore[arg-type]
        workers=workers,
        max_bytes=512_000_000,
    ):
        if first_done is None:
            first_done = time.perf_counter() - started - result.seconds
        docs += result.documents
        mentions += result.mentions
        peaks[result.worker] = max(peaks.get(result.worker, 0.0), result.peak_rss_mb)
    wall = time.perf_counter() - started
    if engine == "ray":
        import ray

        ray.shutdown()
    return {
        "engine": engine,
        "workers": workers,
        "documents": docs,
        "mentions": mentions,
        "wall_s": round(wall, 1),
        "docs_per_s": round(docs / wall, 1),
        "mentions_per_s": round(mentions / wall, 1),
        "peak_rss_mb_per_worker": round(max(peaks.values()), 1) if peaks else 0.0,
        "startup_s": round(first_done or 0.0, 1),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--documents", type=int, default=100_000)
    p.add_argument("--engine", default="local", choices=["local", "ray"])
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--matrix", action="store_true", help="local 1 process, local N, Ray 1 and Ray N workers in one run"
    )
    p.add_argument("--json", help="write the figures (one object, or a list with --matrix)")
    p.add_argument("--shard-docs", type=int, default=1000)
    p.add_argument("--kb", help="KB source (default: the embedded HPO)")
    p.add_argument("--no-dense", action="store_true", help="TF-IDF only")
    p.add_argument("--work-dir", default="/tmp/bel-bench-annotate")
    args = p.parse_args(argv)
    settings = Settings.load(env=os.environ)
    if args.kb:
        settings = replace(settings, kb=replace(settings.kb, source=args.kb))
    if args.no_dense:
        settings = replace(settings, retrieval=replace(settings.retrieval, dense_enabled=False))
    build_linker(settings)  # builds and caches the indexes once, outside every measurement
    work = Path(args.work_dir)
    corpus = synthetic_corpus(work / "corpus", args.documents, args.shard_docs)
    n = os.cpu_count() or 1
    configs = [("local", 1), ("local", n), ("ray", 1), ("ray", n)] if args.matrix else [(args.engine, args.workers)]
    rows = [measure(corpus, work / f"out-{e}-{w}", settings, e, w) for e, w in configs]
    base = rows[0]["docs_per_s"] or 1.0
    print(f"{args.documents:,} documents in {len(list(corpus.glob('*.pubtator')))} shards; KB {settings.kb.source}")
    print(
        f"{'engine':<8}{'workers':>8}{'docs/s':>9}{'mentions/s':>12}{'ratio':>7}"
        f"{'start-up s':>12}{'peak MB/worker':>16}{'load 1m':>14}"
    )
    for r in rows:
        print(
            f"{r['engine']:<8}{r['workers']:>8}{r['docs_per_s']:>9}{r['mentions_per_s']:>12}"
            f"{r['docs_per_s'] / base:>7.2f}{r['startup_s']:>12}{r['peak_rss_mb_per_worker']:>16}"
            f"{str(r['load_average']):>14}"
        )
    print("rerun: .venv/bin/python bench/bench_annotate.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    if args.json:
        Path(args.json).write_text(json.dumps(rows if args.matrix else rows[0], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
