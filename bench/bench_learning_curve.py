"""Learning curve of the curator loop: retrain after 200, 500, 1,000, 2,000 curated mentions (NCBI-disease).

A simulated curator works through the NCBI-disease training documents in a seeded order and
accepts each gold mention with its gold ids (MEDIC 2017 vocabulary). After each step the linker
is retrained through ``usecases.retrain.run_retrain``, the code path of ``bel retrain`` and of the
Model page's button (decisions -> document splits -> ``train_linker`` fast path -> held-out
check -> registry; each new version is promoted, so the registry holds the lineage). Only the
source of the decisions differs: they come from the corpus, not from the store. Each version
then links the NCBI dev gold spans, scored by ``../shared/eval/score.py`` (all-mentions
protocol, MEDIC alt ids). Row 0 is the default linker (no curated data: synthetic-KB calibration).

    .venv/bin/python bench/bench_learning_curve.py --out-dir /tmp/bel-learning-curve
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_common import DATA, score  # noqa: E402

NCBI = DATA / "ncbi_disease"
MEDIC = DATA / "medic" / "CTD_diseases_2017-06-06.tsv.gz"
ALT_IDS = DATA / "medic" / "medic_alt_ids.tsv"
STEPS = (200, 500, 1000, 2000)


def curated(n: int, seed: int) -> list:
    """The first documents of NCBI train in a seeded order, until ``n`` mentions, as accepted decisions."""
    from bel_core.formats.pubtator import parse_pubtator
    from bel_core.types import Decision, DecisionStatus
    from usecases.training_export import Example

    path = NCBI / "NCBItrainset_corpus.txt"
    parsed = parse_pubtator(path.read_text(encoding="utf-8"), path.name)
    by_doc: dict[str, list] = {}
    for m in parsed.mentions:
        if m.annotated_ids:
            by_doc.setdefault(m.doc_id, []).append(m)
    documents = {d.doc_id: d for d in parsed.documents}
    order = sorted(by_doc)
    random.Random(seed).shuffle(order)
    examples: list[Example] = []
    for doc_id in order:
        if len(examples) >= n:
            break
        for m in by_doc[doc_id]:
            decision = Decision(m.doc_id, m.start, m.end, DecisionStatus.ACCEPTED, m.annotated_ids, curator="sim")
            examples.append(Example(documents[doc_id], m, decision))
    return examples


def score_dev(pipeline, out: Path) -> dict:
    """Link NCBI dev's gold spans with ``pipeline``; the shared scorer's all-mentions report."""
    from bel_core.formats.pubtator import parse_pubtator
    from cli.common import write_predictions

    path = NCBI / "NCBIdevelopset_corpus.txt"
    parsed = parse_pubtator(path.read_text(encoding="utf-8"), path.name)
    documents = {d.doc_id: d for d in parsed.documents}
    write_predictions(pipeline.link(list(parsed.mentions), documents=documents), str(out))
    return score(path, out, ["--alt-ids", str(ALT_IDS)])["all_mentions"]


def main() -> int:
    """Run the curve and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/bel-learning-curve"))
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="curated mention counts")
    parser.add_argument("--seed", type=int, default=13, help="document order, splits and training seed")
    parser.add_argument("--dense", action="store_true", help="fuse MiniLM dense retrieval (encodes MEDIC: slow)")
    args = parser.parse_args()
    if not NCBI.exists():
        print(f"needs the shared data in {DATA}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(1)
    from dataclasses import replace

    from bel_core.config import KBConfig, Settings
    from bel_core.linking.pipeline import LinkingPipeline
    from bel_core.training.retrain import RetrainConfig
    from db.engine import open_store
    from usecases import registry
    from usecases.retrain import run_retrain

    args.out_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=args.out_dir / "data", kb=KBConfig(source=f"medic:{MEDIC}", roots=()))
    settings = replace(settings, retrieval=replace(settings.retrieval, dense_enabled=args.dense))
    store = open_store(f"sqlite:///{args.out_dir / 'curve.db'}")
    config = RetrainConfig(seed=args.seed)
    rows = []
    started = time.perf_counter()
    default = LinkingPipeline.from_settings(settings)
    dev = score_dev(default, args.out_dir / "dev-default.jsonl")
    rows.append(("0 (default)", "-", "-", time.perf_counter() - started, dev, "synthetic-KB"))
    for n in (int(s) for s in args.steps.split(",")):
        examples = curated(n, args.seed)
        outcome = run_retrain(
            store, settings, config, out=args.out_dir / f"model-{n}", command="bench_learning_curve", examples=examples
        )
        with store.begin() as session:
            registry.promote(session, outcome.version)
        pipeline = LinkingPipeline.from_model_dir(outcome.path, settings)
        dev = score_dev(pipeline, args.out_dir / f"dev-{n}.jsonl")
        docs = len({e.mention.doc_id for e in examples})
        held = f"{outcome.metrics['acc@1']:.3f} ({outcome.metrics['n']})"
        rows.append((str(len(examples)), str(docs), held, outcome.seconds, dev, outcome.metrics["calibration"]))
        ece = dev.get("calibration", {}).get("ece", float("nan"))
        step = f"{len(examples)} curated: retrained in {outcome.seconds:.0f} s"
        print(f"{step}; dev acc@1 {dev['acc@1']:.4f} ECE {ece:.4f}", flush=True)
    retrieval = "TF-IDF + MiniLM dense" if args.dense else "TF-IDF only (dense off)"
    print(f"\nNCBI dev (787 gold spans), MEDIC 2017, {retrieval}; seed {args.seed}; torch threads 1")
    print(
        "| curated mentions | documents | held-out curated acc@1 (n) | retrain wall s | dev acc@1 | dev acc@5 "
        "| dev ECE | calibration |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, docs, held, seconds, dev, chosen in rows:
        acc1, acc5 = dev["acc@1"], dev["acc@5"]
        ece = dev.get("calibration", {}).get("ece")
        print(
            f"| {label} | {docs} | {held} | {seconds:.0f} | {acc1:.4f} | {acc5:.4f} | "
            f"{'-' if ece is None else f'{ece:.4f}'} | {chosen} |"
        )
    print("\nrow 0's time builds the default linker (KB, indexes, dense encoding when cold, calibration)")
    print(
        f"rerun: .venv/bin/python bench/bench_learning_curve.py --out-dir {args.out_dir} --steps {args.steps}"
        f" --seed {args.seed}{' --dense' if args.dense else ''}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
