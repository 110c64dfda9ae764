"""Benchmark dictionary mention detection: precision, recall and F1 against gold spans, before and after variants.

Corpora: NCBI-disease test with the MEDIC vocabulary, GSC+ test with HPO (Phenotypic
abnormality subtree, the app's KB). "Before" is ``DictionaryMatcher.from_kb(kb,
variants=False)`` (normalised tokens as written), "after" the default (spelling, plural,
hyphen and word-order variants). Two matchings: *exact* (same start and end) and
*overlap* (a predicted span counts when it overlaps a gold span; a gold span is found when
a predicted span overlaps it). Gold mentions of every type count.

Reference, not re-run: PhenoTagger's published mention-level F1 on GSC+ test, 0.75-0.76,
end to end (detection *and* the right HPO id), so stricter than span-only detection here.

Usage (from the repository root)::

    .venv/bin/python bench/bench_detection.py
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_common import DATA, HPO_OBO, gsc_pubtator  # noqa: E402

from bel_core.formats.pubtator import parse_pubtator  # noqa: E402
from bel_core.kb.loaders import load_medic, load_obo  # noqa: E402
from bel_core.linking.detect import DictionaryMatcher  # noqa: E402
from bel_core.types import Document  # noqa: E402

PHENOTAGGER_F1 = "0.75-0.76"
WIDTHS = (8, 10, 8, 8, 12, 8, 8, 10, 8)

Span = tuple[str, int, int]


def prf(tp_p: int, n_pred: int, tp_g: int, n_gold: int) -> tuple[float, float, float]:
    p = tp_p / n_pred if n_pred else 0.0
    r = tp_g / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(pred: Sequence[Span], gold: Sequence[Span]) -> dict[str, tuple[float, float, float]]:
    gold_set, pred_set = set(gold), set(pred)
    exact = len(gold_set & pred_set)
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for d, s, e in gold_set:
        by_doc.setdefault(d, []).append((s, e))
    pred_doc: dict[str, list[tuple[int, int]]] = {}
    for d, s, e in pred_set:
        pred_doc.setdefault(d, []).append((s, e))

    def hits(spans: set[Span], other: dict[str, list[tuple[int, int]]]) -> int:
        return sum(any(s < oe and os_ < e for os_, oe in other.get(d, ())) for d, s, e in spans)

    return {
        "exact": prf(exact, len(pred_set), exact, len(gold_set)),
        "overlap": prf(hits(pred_set, by_doc), len(pred_set), hits(gold_set, pred_doc), len(gold_set)),
    }


def run(name: str, kb_loader, gold_path: Path) -> None:
    parsed = parse_pubtator(gold_path.read_text(encoding="utf-8"), gold_path.name)
    gold = [(m.doc_id, m.start, m.end) for m in parsed.mentions]
    docs: list[Document] = list(parsed.documents)
    kb = kb_loader()
    print(f"\n{name}: {len(docs)} documents, {len(set(gold))} gold spans, KB {kb.name} ({len(kb)} concepts)")
    head = ("matcher", "exact P", "R", "F1", "overlap P", "R", "F1", "build s", "docs/s")
    print("".join(f"{h:>{w}}" for h, w in zip(head, WIDTHS, strict=True)))
    for label, variants in (("before", False), ("after", True)):
        started = time.perf_counter()
        matcher = DictionaryMatcher.from_kb(kb, variants=variants)
        build = time.perf_counter() - started
        started = time.perf_counter()
        pred = [(m.doc_id, m.start, m.end) for d in docs for m in matcher.detect(d)]
        rate = len(docs) / (time.perf_counter() - started)
        r = evaluate(pred, gold)
        (ep, er, ef), (op, orr, of) = r["exact"], r["overlap"]
        cells = (label, *(f"{v:.3f}" for v in (ep, er, ef, op, orr, of)), f"{build:.1f}", f"{rate:.0f}")
        print("".join(f"{c:>{w}}" for c, w in zip(cells, WIDTHS, strict=True)))


def main() -> None:
    run("NCBI-disease test", lambda: load_medic(DATA / "medic" / "CTD_diseases_2017-06-06.tsv.gz"),
        DATA / "ncbi_disease" / "NCBItestset_corpus.txt")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        _, test = gsc_pubtator(Path(tmp))
        run("GSC+ test", lambda: load_obo(HPO_OBO, roots=("HP:0000118",)), test)
    print(
        f"\nreference: PhenoTagger mention-level F1 on GSC+ test {PHENOTAGGER_F1} (published; end to end, span and id)"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("rerun: .venv/bin/python bench/bench_detection.py " + shlex.join(sys.argv[1:]))


if __name__ == "__main__":
    main()
