"""Choose the hybrid retriever's dense weight on DEV splits only (never on test).

fused = (1 - w) * tfidf + w * dense, per concept; acc@1 of the fused top-1 on gold spans
(mention text only), for NCBI-disease dev (MEDIC, alt ids mapped) and GSC+ dev (HPO,
Phenotypic abnormality subtree). The app's default ``retrieval.dense_weight`` comes
from this sweep.

Usage (from the repository root; reuses bench_retrieval.py's index cache)::

    HF_HUB_OFFLINE=1 .venv/bin/python bench/sweep_dense_weight.py --cache-dir /tmp/bel-bench-cache
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_retrieval import DATA, build  # noqa: E402

from bel_core.formats.pubtator import parse_pubtator  # noqa: E402
from bel_core.kb.loaders import load_medic, load_obo  # noqa: E402
from bel_core.retrieve.fusion import fuse  # noqa: E402
from bel_core.types import Mention  # noqa: E402

WEIGHTS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def _alt_ids() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for line in (DATA / "medic" / "medic_alt_ids.tsv").read_text(encoding="utf-8").splitlines():
        alt, primary = line.split("\t")[:2]
        table[alt] = set(primary.split("|"))
    return table


def _gsc_dev() -> list[Mention]:
    mentions = []
    for block in (DATA / "gsc_plus" / "GSCplus_dev_gold.tsv").read_text(encoding="utf-8").strip().split("\n\n"):
        pmid, _text, *rows = block.strip("\n").split("\n")
        for row in rows:
            start, end, surface, hpo_id = row.split("\t")[:4]
            mentions.append(Mention(pmid, int(start), int(end), surface, annotated_ids=(hpo_id,)))
    return mentions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bel-bench-cache"))
    args = parser.parse_args()
    alt = _alt_ids()

    def canon(cid: str) -> set[str]:
        cid = cid.strip().removeprefix("MESH:")
        return alt.get(cid, {cid})

    ncbi = DATA / "ncbi_disease" / "NCBIdevelopset_corpus.txt"
    splits = [
        (
            "ncbi_dev",
            load_medic(DATA / "medic" / "CTD_diseases_2017-06-06.tsv.gz"),
            list(parse_pubtator(ncbi.read_text(encoding="utf-8"), ncbi.name).mentions),
        ),
        ("gsc_dev", load_obo(DATA / "hpo" / "hp_2025-01-16.obo.gz", roots=("HP:0000118",)), _gsc_dev()),
    ]
    print("split      n    " + "  ".join(f"w={w:.1f}" for w in WEIGHTS))
    for name, kb, mentions in splits:
        pipeline = build(kb, args.cache_dir, 10, 0.5)[0]["hybrid"]
        queries = [m.text for m in mentions]
        sparse = pipeline.tfidf.retrieve(queries, pipeline.depth)
        dense = pipeline.dense.retrieve(queries, pipeline.depth)  # type: ignore[union-attr]
        row = []
        for w in WEIGHTS:
            right = 0
            for m, s, d in zip(mentions, sparse, dense, strict=True):
                ranked = fuse(s, d, weight=w, depth=pipeline.depth, k=1)
                gold = set().union(*(canon(g) for g in m.annotated_ids))
                right += bool(ranked) and bool(canon(ranked[0].concept_id) & gold)
            row.append(right / len(mentions))
        print(f"{name:9s} {len(mentions):4d}  " + "  ".join(f"{a:.3f}" for a in row))
    print(f"rerun: HF_HUB_OFFLINE=1 .venv/bin/python bench/sweep_dense_weight.py --cache-dir {args.cache_dir}")


if __name__ == "__main__":
    main()
