"""Benchmark the generative linker against the retriever + reranker linker: NCBI-disease test and GSC+ test.

One command, for each corpus: trains a generator (``bel train --linker generator``) and the
retriever + reranker (``bel train``) unless their model directories exist, links the test set
(or its first ``--test-docs`` documents) with ``bel link-corpus`` for both, scores both with
../shared/eval/score.py, and prints acc@1, acc@5, ECE of the calibrated top-1 probability and
mentions/s (linking only, as ``link-corpus`` reports it: model and index loading excluded).

Training uses training splits only: NCBI train (+ NCBI dev for calibration); HPO has no
annotated training corpus, so both linkers learn from synthetic mentions built from HPO's
names (SynCABEL's idea) and calibrate on GSC+ dev.

Usage (from the repository root)::

    .venv/bin/python bench/bench_generator.py --out-dir /tmp/bel-bench-generator
    # reduced (what fits a shared 2-core machine): short training, TF-IDF retrieval, first 20 test documents
    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_generator.py --out-dir /tmp/bgen --corpus gsc --gen-minutes 8 \\
        --retriever-minutes 5 --hpo-synthetic 30000 --test-docs 20 --no-encoder-finetune --no-dense

Model directories that already exist under ``OUT_DIR/models/<corpus>-<linker>`` are reused (not retrained);
``--hpo-generator DIR`` uses a given generator for GSC+ (e.g. sample_data/models/generator-hpo).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import DATA, gsc_pubtator, hpo_alt_ids, measured, score  # noqa: E402

BEL = [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())"]
MEDIC = f"medic:{DATA / 'medic' / 'CTD_diseases_2017-06-06.tsv.gz'}"
NCBI = DATA / "ncbi_disease"
_RATE = re.compile(r"\(([\d.]+|inf)/s\)")


def first_documents(corpus: Path, n: int, out: Path) -> Path:
    """The first ``n`` documents of a PubTator file (blank-line separated), or the file itself when ``n`` <= 0."""
    if n <= 0:
        return corpus
    blocks = [b for b in corpus.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    out.write_text("\n\n".join(b.strip("\n") for b in blocks[:n]) + "\n\n", encoding="utf-8")
    return out


def train_commands(kind: str, args: argparse.Namespace, gsc_dev: Path) -> dict[str, list[str]]:
    """``bel train`` arguments for the generator and the retriever + reranker of one corpus."""
    if kind == "ncbi":
        data = ["--kb", MEDIC, "--train", str(NCBI / "NCBItrainset_corpus.txt")]
        data += ["--dev", str(NCBI / "NCBIdevelopset_corpus.txt")]
        gen_data = data + (["--synthetic", str(args.ncbi_synthetic)] if args.ncbi_synthetic else [])
    else:
        data = ["--kb", "hpo", "--synthetic", str(args.hpo_synthetic), "--dev", str(gsc_dev)]
        gen_data = data
    seed = ["--seed", str(args.seed)]
    generator = ["train", "--linker", "generator", *gen_data, "--max-minutes", str(args.gen_minutes), *seed]
    generator += ["--hidden", str(args.hidden), "--layers", str(args.layers), "--beams", str(args.beams)]
    retriever = ["train", *data, "--max-minutes", str(args.retriever_minutes), *seed]
    if args.no_encoder_finetune:
        retriever.append("--no-encoder-finetune")
    return {"generator": generator, "retriever": retriever}


def run_linker(
    linker: str, model_dir: Path, gold: Path, kb: str, out: Path, env: dict[str, str], extra: list[str]
) -> dict[str, Any]:
    """``bel link-corpus`` then the shared scorer: acc@1, acc@5, ECE, mentions/s, wall time, peak memory."""
    preds = out / f"{linker}.jsonl"
    cmd = [*BEL, "link-corpus", str(gold), "--kb", kb, "--linker", linker, "--models", str(model_dir)]
    stats = measured([*cmd, "--out", str(preds)], env=env, log=out / f"link-{linker}.log")
    rates = _RATE.findall((out / f"link-{linker}.log").read_text(errors="replace"))
    report = score(gold, preds, extra)["all_mentions"]
    return {
        "n": report["n"],
        "acc@1": report["acc@1"],
        "acc@5": report["acc@5"],
        "ece": report["calibration"]["ece"],
        "mentions/s": float(rates[-1]) if rates else float("nan"),
        "wall_s": stats["wall_s"],
        "peak_mb": stats["peak_mb"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--corpus", choices=["ncbi", "gsc", "all"], default="all")
    parser.add_argument("--gen-minutes", type=float, default=15.0, help="generator training budget per corpus")
    parser.add_argument("--retriever-minutes", type=float, default=55.0, help="retriever + reranker budget")
    parser.add_argument("--hpo-synthetic", type=int, default=30000, help="synthetic HPO training mentions")
    parser.add_argument("--ncbi-synthetic", type=int, default=0, help="synthetic MEDIC mentions added to NCBI train")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--beams", type=int, default=5)
    parser.add_argument("--test-docs", type=int, default=0, help="link only the first N test documents (0: all)")
    parser.add_argument("--no-encoder-finetune", action="store_true", help="retriever: keep the base bi-encoder")
    parser.add_argument("--no-dense", action="store_true", help="retriever: TF-IDF only (no dense index to build)")
    parser.add_argument("--hpo-generator", type=Path, help="use this generator model directory for GSC+ (no training)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    print("$ .venv/bin/python bench/bench_generator.py " + shlex.join(sys.argv[1:]), flush=True)
    env = {**os.environ, "BEL_DATA_DIR": str(args.out_dir / "data"), "PYTHONPATH": str(REPO)}
    if args.no_dense:
        env["BEL_DENSE_ENABLED"] = "false"
    gsc_dev, gsc_test = gsc_pubtator(args.out_dir)
    tests = {"ncbi": NCBI / "NCBItestset_corpus.txt", "gsc": gsc_test}
    kbs = {"ncbi": MEDIC, "gsc": "hpo"}
    extras = {
        "ncbi": ["--alt-ids", str(DATA / "medic" / "medic_alt_ids.tsv")],
        "gsc": ["--alt-ids", str(hpo_alt_ids(args.out_dir))],
    }
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for kind in ["ncbi", "gsc"] if args.corpus == "all" else [args.corpus]:
        work = args.out_dir / kind
        work.mkdir(exist_ok=True)
        gold = first_documents(tests[kind], args.test_docs, work / "test.pubtator")
        for linker, cmd in train_commands(kind, args, gsc_dev).items():
            model_dir = args.out_dir / "models" / f"{kind}-{linker}"
            if kind == "gsc" and linker == "generator" and args.hpo_generator:
                model_dir = args.hpo_generator
            if not (model_dir / "manifest.json").exists():
                trained = measured([*BEL, *cmd, "--out", str(model_dir)], env=env, log=work / f"train-{linker}.log")
                print(f"  trained {kind} {linker} in {trained['wall_s'] / 60:.1f} min", flush=True)
            rows.append((kind, linker, run_linker(linker, model_dir, gold, kbs[kind], work, env, extras[kind])))
    print("\n| corpus | linker | mentions | acc@1 | acc@5 | ECE (calibrated top-1) | mentions/s | peak MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, linker, r in rows:
        print(
            f"| {kind} | {linker} | {r['n']} | {r['acc@1']:.4f} | {r['acc@5']:.4f} | {r['ece']:.4f} "
            f"| {r['mentions/s']:.1f} | {r['peak_mb']:.0f} |"
        )
    (args.out_dir / "results.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
