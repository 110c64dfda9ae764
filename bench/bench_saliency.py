"""Benchmark saliency maps: CPU time per pair (fast/precise IG steps) and faithfulness by deletion.

The cross-encoder is either one you pass (``--model``: a ``bel train`` model directory or
a reranker folder) or, since the project ships no trained one, a MiniLM-L6 cross-encoder
fine-tuned here for a few minutes on ``--n-train`` NCBI-disease train pairs (gold concept
+ ``--negatives`` TF-IDF hard negatives per mention, MEDIC vocabulary), so the attributions
mean something. A few CPU minutes make a weak model (its margins move little): pass a
``bel train`` reranker for figures that describe a production model.

On ``--n-pairs`` NCBI-disease *dev* gold pairs (mention in its 256-character context,
gold MEDIC concept) the script

1. explains each pair with ``explain_pair`` at the fast and the precise step count and
   reports CPU time (``time.process_time``) and wall time per pair at ``--threads`` torch
   threads, and IG's relative convergence error ``|delta| / |f(x) - f(baseline)|``;
2. deletes the top-k attributed *context* words (words of the mention itself excluded)
   and, separately, k random context words (``--draws`` draws), rescoring the pair each
   time: a faithful map makes the margin drop more for the top-k words than for random ones.
   Reported: mean margin drop, mean probability drop, and the share of pairs where top-k
   beat the random mean.

Usage (from the repository root)::

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_saliency.py
    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_saliency.py --model MODEL_DIR --n-pairs 100
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bel_core.explain.saliency import (  # noqa: E402
    FAST_STEPS,
    PRECISE_STEPS,
    WORD_PATTERN,
    Saliency,
    WordAttribution,
    explain_pair,
)
from bel_core.formats.pubtator import parse_pubtator  # noqa: E402
from bel_core.kb.knowledge_base import KnowledgeBase  # noqa: E402
from bel_core.kb.loaders import load_medic  # noqa: E402
from bel_core.rerank.cross_encoder import CrossEncoderReranker, serialize_left, serialize_right  # noqa: E402
from bel_core.retrieve.tfidf import TfidfRetriever  # noqa: E402
from bel_core.runtime.model_dir import MANIFEST, component_path, read_manifest  # noqa: E402
from bel_core.training.cross_encoder import CrossEncoderTrainConfig, train_cross_encoder  # noqa: E402
from bel_core.training.pairs import GoldMention, build_pairs, gold_mentions_from_pubtator  # noqa: E402

DATA = REPO.parent / "shared" / "data"
NCBI = DATA / "ncbi_disease"


def golds(kb: KnowledgeBase, split: str) -> list[GoldMention]:
    """Gold mentions (256-character contexts) of an NCBI-disease split."""
    path = NCBI / f"NCBI{split}set_corpus.txt"
    parsed = parse_pubtator(path.read_text(encoding="utf-8"), path.name)
    return gold_mentions_from_pubtator(parsed.documents, parsed.mentions, kb)


def train_reranker(kb: KnowledgeBase, n_train: int, lr: float, negatives: int, seed: int, out: Path) -> Path:
    """Fine-tune MiniLM-L6 on about ``n_train`` NCBI train pairs (64 tokens, like ``bel train``).

    Gold + ``negatives`` hard negatives per mention at learning rate ``lr``: with ``bel
    train``'s 1:4 and 5e-5, a run this short learns only the base rate. Prints dev acc@1
    (gold vs its negatives) so a model that learned nothing is visible.
    """
    rng = random.Random(seed)
    train, dev = golds(kb, "train"), golds(kb, "develop")
    train = rng.sample(train, n_train // (1 + negatives))
    dev = rng.sample(dev, 60)
    retriever = TfidfRetriever.from_kb(kb)
    pairs = [
        build_pairs(
            g, retriever.retrieve([x.mention.text for x in g], 16), kb, negatives_per_positive=negatives, seed=seed
        )
        for g in (train, dev)
    ]
    config = CrossEncoderTrainConfig(max_length=64, batch_size=16, learning_rate=lr, seed=seed)
    t0 = time.perf_counter()
    metrics = train_cross_encoder(pairs[0], pairs[1], config, out)
    margins = CrossEncoderReranker.load(str(out)).margins([p.left for p in pairs[1]], [p.right for p in pairs[1]])
    best: dict[str, tuple[float, int]] = {}
    for pair, margin in zip(pairs[1], margins, strict=True):
        best[pair.left] = max(best.get(pair.left, (-np.inf, 0)), (float(margin), pair.label))
    acc = np.mean([label for _, label in best.values()])
    print(
        f"trained MiniLM-L6 cross-encoder on {len(pairs[0])} pairs in {time.perf_counter() - t0:.0f} s; dev pair "
        f"F1 {metrics.f1:.3f}, dev acc@1 {acc:.3f} over {len(best)} mentions (gold + {negatives} negatives)"
    )
    return out


def load_reranker(model: Path) -> CrossEncoderReranker:
    """The reranker of a ``bel train`` directory, or a reranker folder."""
    if (model / MANIFEST).is_file():
        found = component_path(model, read_manifest(model), "reranker")
        if found is None:
            raise SystemExit(f"{model} has no reranker component")
        model = found
    return CrossEncoderReranker.load(str(model))


def deletable(saliency: Saliency, mention: str, *, with_mention: bool) -> list[WordAttribution]:
    """Words of the left text a deletion may remove: never the template's (``mention:``, ``; context:``).

    ``with_mention``: the mention's words and the context's; else the context's only, and
    without any word of the mention, wherever it occurs.
    """
    head, prefix = len("mention: "), len(serialize_left(mention, ""))  # where the mention and the context start
    words = saliency.segment_words("left")
    if with_mention:
        return [w for w in words if head <= w.start < head + len(mention) or w.start >= prefix]
    own = {w.casefold() for w in WORD_PATTERN.findall(mention)}
    return [w for w in words if w.start >= prefix and w.text.casefold() not in own]


def delete(left: str, words: list[WordAttribution]) -> str:
    """``left`` without these words (whitespace collapsed)."""
    out, cursor = [], 0
    for w in sorted(words, key=lambda w: w.start):
        out.append(left[cursor : w.start])
        cursor = w.end
    out.append(left[cursor:])
    return " ".join("".join(out).split())


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="`bel train` model directory or reranker folder (default: train)")
    parser.add_argument("--n-train", type=int, default=1500, help="training pairs when no --model is given")
    parser.add_argument("--lr", type=float, default=1e-4, help="learning rate of that training")
    parser.add_argument("--negatives", type=int, default=2, help="hard negatives per gold pair in that training")
    parser.add_argument("--n-pairs", type=int, default=40, help="NCBI dev gold pairs to explain")
    parser.add_argument("--k", default="1,3,5", help="numbers of context words to delete")
    parser.add_argument("--draws", type=int, default=5, help="random deletions per pair and k")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the timing depends on it)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, help="where to keep the trained reranker (default: a temp dir)")
    args = parser.parse_args()
    import torch
    import transformers

    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # a new head is expected
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    kb = load_medic(DATA / "medic" / "CTD_diseases_2017-06-06.tsv.gz")
    model = args.model or train_reranker(
        kb, args.n_train, args.lr, args.negatives, args.seed, args.out or Path(tempfile.mkdtemp(prefix="bel-sal-"))
    )
    reranker = load_reranker(model)
    rng = random.Random(args.seed)
    pool = golds(kb, "develop")
    sample = rng.sample(pool, min(args.n_pairs, len(pool)))
    ks = [int(k) for k in args.k.split(",")]
    print(f"model {reranker.version}, max_length {reranker.max_length}; {len(sample)} NCBI dev gold pairs")

    maps: dict[int, list[Saliency]] = {FAST_STEPS: [], PRECISE_STEPS: []}
    lefts, rights = [], []
    print(f"\n{'steps':>5}{'CPU s/pair':>12}{'wall s/pair':>12}{'median |δ|/|Δf|':>17}")
    for steps in maps:
        cpu = wall = 0.0
        for gold in sample:
            concept = kb.get(gold.gold_ids[0])
            left, right = serialize_left(gold.mention.text, gold.context), serialize_right(concept.name, concept.types)
            if steps == FAST_STEPS:
                lefts.append(left)
                rights.append(right)
            c0, w0 = time.process_time(), time.perf_counter()
            maps[steps].append(explain_pair(reranker, left, right, n_steps=steps))
            cpu += time.process_time() - c0
            wall += time.perf_counter() - w0
        errors = [abs(s.delta) / max(abs(s.output - s.baseline_output), 1e-6) for s in maps[steps]]
        n = len(sample)
        print(f"{steps:>5}{cpu / n:>12.3f}{wall / n:>12.3f}{float(np.median(errors)):>17.3f}")

    base = reranker.margins(lefts, rights)
    print(f"\ngold pairs: margin mean {base.mean():.3f}, sd {base.std():.3f} (p mean {sigmoid(base).mean():.3f})")
    print(f"{'words':<16}{'steps':>5}{'k':>3}{'Δmargin top-k':>15}{'Δmargin random':>16}{'Δp top-k':>10}"
          f"{'Δp random':>11}{'top-k > random':>16}{'n':>4}")  # fmt: skip
    for scope in ("mention+context", "context only"):
        for steps, saliencies in maps.items():
            for k in ks:
                top_lefts, random_lefts, owners = [], [], []
                for i, (gold, saliency) in enumerate(zip(sample, saliencies, strict=True)):
                    words = deletable(saliency, gold.mention.text, with_mention=scope == "mention+context")
                    if len(words) < k:
                        continue
                    owners.append(i)
                    top_lefts.append(delete(lefts[i], sorted(words, key=lambda w: -w.score)[:k]))
                    random_lefts += [delete(lefts[i], rng.sample(words, k)) for _ in range(args.draws)]
                top = reranker.margins(top_lefts, [rights[i] for i in owners])
                rand = reranker.margins(random_lefts, [rights[i] for i in owners for _ in range(args.draws)])
                rand = rand.reshape(len(owners), args.draws)
                b = base[owners]
                drop_top, drop_rand = b - top, (b[:, None] - rand).mean(axis=1)
                p_top = sigmoid(b) - sigmoid(top)
                p_rand = (sigmoid(b)[:, None] - sigmoid(rand)).mean(axis=1)
                wins = float(np.mean(drop_top > drop_rand))
                print(f"{scope:<16}{steps:>5}{k:>3}{drop_top.mean():>15.4f}{drop_rand.mean():>16.4f}"
                      f"{p_top.mean():>10.4f}{p_rand.mean():>11.4f}{wins:>16.2f}{len(owners):>4}")  # fmt: skip
    print("\nrerun: HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_saliency.py " + shlex.join(sys.argv[1:]))


if __name__ == "__main__":
    main()
