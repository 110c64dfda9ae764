"""Benchmark the trained linker against the peers: NCBI-disease test (MEDIC) and GSC+ test (HPO).

One command trains (unless the model directories exist), links both test sets with
``bel link-corpus`` in a fresh data directory (so the index build is timed cold), scores
them with ../shared/eval/score.py (both protocols), runs the peers from ../shared/peers in
their own virtual environments on the same vocabulary and spans, and prints one table:
acc@1, acc@5, recall@64 of candidate generation, ECE, mentions/s, index build time, peak
memory, ratios against the best peer, and the published anchors. Then the NCBI ablation
(bench/ablation.py). Training data: NCBI train (+ NCBI dev for selection and calibration);
HPO: synthetic mentions from the KB (no annotated training corpus) + GSC+ dev for calibration.

Usage (from the repository root; about 1.5 h on 2 cores, 87 min on 2026-12-02)::

    .venv/bin/python bench/bench_linking.py --out-dir /tmp/bel-bench-linking
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import (  # noqa: E402
    DATA,
    PEERS,
    SCORER,
    ece_interval,
    gsc_pubtator,
    hpo_alt_ids,
    measured,
    score,
)

BEL = [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())"]
MEDIC = f"medic:{DATA / 'medic' / 'CTD_diseases_2017-06-06.tsv.gz'}"
ALT = ["--alt-ids", str(DATA / "medic" / "medic_alt_ids.tsv")]
# Peer script -> the systems it writes (one folder each under $PEERS_OUT).
SYSTEMS = {"gilda": ["gilda"], "tfidf": ["tfidf_hnsw", "tfidf_exact", "rapidfuzz_rerank"], "dense": ["dense_minilm"]}
ANCHORS = (
    "Published anchors (NCBI-disease test; not re-run here, other protocols):\n"
    "  SapBERT 92.3 acc@1 - BioSyn's de-duplicated protocol (unique mention/concept pairs, composite\n"
    "    mentions split, abbreviations resolved, training mentions in the dictionary).\n"
    "  BioSyn 91.1 acc@1 / 93.9 acc@5 - the same protocol. Compare with our 'dedup' column, with care."
)


def train(kind: str, out: Path, args: argparse.Namespace, gsc_dev: Path) -> dict[str, Any]:
    """``bel train`` in a subprocess (skipped when ``out`` has a manifest); wall time and peak memory."""
    if (out / "manifest.json").exists():
        return {"skipped": True, **json.loads((out / "manifest.json").read_text())}
    if kind == "ncbi":
        corpus = DATA / "ncbi_disease"
        cmd = ["train", "--kb", MEDIC, "--train", str(corpus / "NCBItrainset_corpus.txt")]
        cmd += ["--dev", str(corpus / "NCBIdevelopset_corpus.txt")]
    else:
        cmd = ["train", "--kb", "hpo", "--synthetic", str(args.synthetic), "--dev", str(gsc_dev)]
    cmd += ["--out", str(out), "--max-minutes", str(args.max_minutes), "--seed", str(args.seed)]
    env = {**os.environ, "BEL_DATA_DIR": str(args.out_dir / f"data-train-{kind}")}
    run = measured([*BEL, *cmd], env=env, log=args.out_dir / f"train-{kind}.log")
    return {"skipped": False, **run, **json.loads((out / "manifest.json").read_text())}


def link(
    kind: str,
    gold: Path,
    model: Path | None,
    args: argparse.Namespace,
    *,
    sparse: bool = False,
    runtime: str = "onnx",
) -> dict[str, Any]:
    """``bel link-corpus --models`` in a fresh data directory: cold index build, speed, peak memory.

    ``model`` None: the embedded default (no ``--models``: the packaged MiniLM over the base KB,
    calibrated on synthetic mentions), in a data directory of its own, also cold.
    ``sparse``: the fast profile (``--no-dense``: TF-IDF + training priors + abbreviations), in the
    data directory of the full run (it builds no dense index, so it is cold all the same).
    ``runtime``: ``[inference] runtime`` (``BEL_RUNTIME``); ``torch`` runs in a data directory of
    its own, cold as well, to compare with ONNX Runtime, the default.
    """
    kb = MEDIC if kind == "ncbi" else "hpo"
    torch_runtime = "-torch" if runtime == "torch" else ""
    name = f"{kind}-sparse" if sparse else f"{kind}{torch_runtime}" if model else f"{kind}-default"
    preds = args.out_dir / f"{name}_test_bel.jsonl"
    data_dir = args.out_dir / (f"data-link-{kind}{torch_runtime}" if model else f"data-link-{kind}-default")
    if not sparse:
        shutil.rmtree(data_dir, ignore_errors=True)  # cold: the timed run builds every index
    env = {**os.environ, "BEL_DATA_DIR": str(data_dir), "BEL_RUNTIME": runtime}
    cmd = ["link-corpus", str(gold), "--kb", kb, "--out", str(preds)]
    cmd += ["--models", str(model)] if model else []
    cmd += ["--no-dense"] if sparse else []
    run = measured([*BEL, *cmd], env=env, log=args.out_dir / f"link-{name}.log")
    text = (args.out_dir / f"link-{name}.log").read_text(errors="replace")
    ready = re.search(r"linker ready in ([\d.]+)s", text)
    rate = re.search(r"linked (\d+) mentions .* \((\d+)/s\)", text)
    return {
        **run,
        "preds": preds,
        "build_s": float(ready[1]) if ready else None,
        "mentions_per_s": float(rate[2]) if rate else None,
    }


def peers(kind: str, gold: Path, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Run the shared peers (their own venvs) on the same spans; the HPO run swaps in an HPO dictionary."""
    out = args.out_dir / f"peers-{kind}"
    env = {**os.environ, "PEERS_OUT": str(out)}
    if kind == "gsc":
        from bench_common import hpo_peer_data

        env["BEL_DATA"] = str(hpo_peer_data(args.out_dir / "peer-data-hpo", gold))
    runs = {
        "gilda": [str(args.peers_python), str(PEERS / "run_gilda.py"), "--splits", "ncbi_test"],
        "tfidf": [str(args.peers_python), str(PEERS / "run_tfidf.py"), "--splits", "ncbi_test"],
        "dense": [sys.executable, str(PEERS / "run_dense.py"), "--splits", "ncbi_test"],
    }
    found: dict[str, dict[str, Any]] = {}
    for name in args.peers:
        log = args.out_dir / f"peer-{kind}-{name}.log"
        stats = log.with_suffix(".stats.json")
        run = json.loads(stats.read_text()) if stats.exists() else measured(runs[name], env=env, log=log)
        for system in SYSTEMS[name]:
            timing, preds = out / system / "timing.json", out / system / "ncbi_test.jsonl"
            t = json.loads(timing.read_text())
            build = t["build"].get("index", sum(t["build"].values()))
            rate = t["query"]["ncbi_test"]["mentions_per_s"]
            found[system] = {"preds": preds, "peak_mb": run["peak_mb"], "mentions_per_s": rate, "build_s": build}
    return found


def row(name: str, gold: Path, preds: Path, extra: list[str], info: dict[str, Any], recall: float | None) -> dict:
    both = score(gold, preds, [*extra, "--ks", "1,5,20"])
    ece_ci = ece_interval(gold, preds, Path(extra[1])) if both["all_mentions"].get("calibration") else None
    protocols = {p: both[p] for p in ("all_mentions", "dedup")}
    return {"system": name, **protocols, "recall": recall, "ece_ci": ece_ci, **info}


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    """Side-by-side table; ratios against the best peer (highest all-mentions acc@1)."""
    peers_only = [r for r in rows if not r["system"].startswith("bel")]
    best = max(peers_only, key=lambda r: r["all_mentions"]["acc@1"]) if peers_only else None
    print(f"\n## {title}" + (f" (best peer: {best['system']})" if best else ""))
    print(
        "| system | acc@1 all | acc@5 all | acc@1 dedup | acc@5 dedup | recall@64 "
        "| ECE all [95% CI] (calibrated: floor) | mentions/s "
        "| index build s | peak MB | acc@1 / best | speed / best |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        a, d = r["all_mentions"], r["dedup"]
        ece = a.get("calibration", {}).get("ece")
        ece_text = "-" if ece is None else f"{ece:.4f}"
        if r.get("ece_ci"):
            lo, hi = r["ece_ci"]["ci"]
            ece_text += f" [{lo:.3f}, {hi:.3f}] (calibrated: {r['ece_ci']['floor']:.3f})"
        recall = f"{r['recall']:.3f}" if r["recall"] is not None else f"({a['acc@20']:.3f} @20)"
        speed = r.get("mentions_per_s") or float("nan")
        ratio_acc = a["acc@1"] / best["all_mentions"]["acc@1"] if best else float("nan")
        ratio_speed = speed / (best.get("mentions_per_s") or float("nan")) if best else float("nan")
        print(
            f"| {r['system']} | {a['acc@1']:.4f} | {a['acc@5']:.4f} | {d['acc@1']:.4f} | {d['acc@5']:.4f} | {recall} "
            f"| {ece_text} | {speed:.0f} | {r.get('build_s') or float('nan'):.0f} "
            f"| {r.get('peak_mb') or float('nan'):.0f} | {ratio_acc:.3f} | {ratio_speed:.3f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/bel-bench-linking"))
    parser.add_argument("--ncbi-models", type=Path, help="default: OUT/models/ncbi (trained if absent)")
    parser.add_argument("--hpo-models", type=Path, help="default: OUT/models/hpo (trained if absent)")
    parser.add_argument("--synthetic", type=int, default=3000)
    parser.add_argument("--max-minutes", type=float, default=55.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--peers", nargs="*", default=["gilda", "tfidf", "dense"], help="empty: no peers")
    parser.add_argument("--peers-python", type=Path, default=REPO / ".venv-peers" / "bin" / "python")
    parser.add_argument("--corpus", choices=["ncbi", "gsc", "all"], default="all")
    parser.add_argument("--no-ablation", action="store_true")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    models = {
        "ncbi": args.ncbi_models or args.out_dir / "models" / "ncbi",
        "gsc": args.hpo_models or args.out_dir / "models" / "hpo",
    }
    gsc_dev, gsc_test = gsc_pubtator(args.out_dir)
    golds = {"ncbi": DATA / "ncbi_disease" / "NCBItestset_corpus.txt", "gsc": gsc_test}
    extras = {"ncbi": ALT, "gsc": ["--alt-ids", str(hpo_alt_ids(args.out_dir))]}
    corpora = ["ncbi", "gsc"] if args.corpus == "all" else [args.corpus]
    for kind in corpora:
        trained = train(kind, models[kind], args, gsc_dev)
        linked = link(kind, golds[kind], models[kind], args)
        from ablation import recall_at

        recall = recall_at(kind, models[kind], golds[kind], 64, args.out_dir / f"data-link-{kind}")
        reranked = bool(trained.get("linker", {}).get("rerank", False))
        label = "bel, trained" + (" + reranker" if reranked else " (no reranker: dropped on dev)")
        rows = [row(label, golds[kind], linked["preds"], extras[kind], linked, recall)]
        on_torch = link(kind, golds[kind], models[kind], args, runtime="torch")
        rows.append(row(label + ", PyTorch runtime", golds[kind], on_torch["preds"], extras[kind], on_torch, None))
        fast = link(kind, golds[kind], models[kind], args, sparse=True)
        rows.append(row("bel, fast profile (--no-dense)", golds[kind], fast["preds"], extras[kind], fast, None))
        default = link(kind, golds[kind], None, args)
        label = "bel, embedded default (no --models)"
        rows.append(row(label, golds[kind], default["preds"], extras[kind], default, None))
        for name, info in peers(kind, golds[kind], args).items():
            rows.append(row(name, golds[kind], info["preds"], extras[kind], info, None))
        print_table(f"{kind} test", rows)
        train_s = trained.get("wall_s") or trained.get("wall_time_s")
        print(
            f"training: {train_s:.0f} s wall{' (reused)' if trained['skipped'] else ''}, "
            f"peak {trained.get('peak_mb', float('nan')):.0f} MB, machine {trained.get('machine', {})}"
        )
    if "ncbi" in corpora:
        print("\n" + ANCHORS)
        if not args.no_ablation:
            from ablation import ncbi_ablation

            ncbi_ablation(models["ncbi"], args.out_dir, args.out_dir / "data-link-ncbi")
    print(f"\nscorer: {SCORER}\nrerun: {shlex.join([sys.executable, *sys.argv])}")


if __name__ == "__main__":
    main()
