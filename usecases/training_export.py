"""Training data from curated decisions: reranker pairs, bi-encoder pairs, generative examples.

Stage: after curation, feeding model training. Examples are the gold decisions
(``repository.gold_annotations``) that link concepts (ACCEPTED/CORRECTED) or say NIL.
Documents, not mentions, are split (``train``/``dev``/``test``, shuffled by a seeded RNG
over sorted doc ids), so no document's text is in two splits. Output in ``DIR``: one
``<split>.jsonl`` per split plus ``datasheet.json`` and ``datasheet.md``. Keys of each row,
in this order (sentence-transformers reads inputs by position: query, passage, label):

``basilisk``    cross-encoder pairs: ``query`` = ``mention: <m> ; context: <ctx>``,
                ``passage`` = ``candidate: <name> ; tuis: <T1,T2>``, ``label`` 1 for each
                curated concept and 0 for up to ``negatives_per_positive`` candidates per
                positive that the curator was shown and rejected (best ranked first);
                NIL decisions give negatives only. ``tuis`` are the concept's UMLS TUIs,
                or its types when it has none.
``biencoder``   synonym pairs ``query`` = mention text, ``passage`` = concept name
                (in-batch negatives, no label column).
``syncabel``    ``source`` = context with the mention written ``[mention]{TYPE}``
                (TYPE: mention label, else the concept's first type, else ``Entity``),
                ``target`` = concept name(s), several joined by `` | ``.
``longbel``     one row per document: ``document_id``, ``text``, ``entities`` =
                [{``offsets`` [[start, end]], ``text``, ``type``, ``normalized``
                [{db_name, db_id}], ``target`` name, ``memory`` = [mention, name] of the
                earlier linked mentions of the document (the last ``memory_size``)}].
``preference``  ``prompt`` (as syncabel's source), ``chosen`` = curated concept name,
                ``rejected`` = the name of a shown, rejected candidate.

``text_free`` rows carry ids and offsets only (``doc_id``, ``start``, ``end``, then
``concept_id``/``label``, ``concept_ids``, ``chosen_id``/``rejected_id`` by format), so data
can leave the site without any document text.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bel_core.types import Concept, Decision, DecisionStatus, Document, Mention
from db import repository

TRAINING_FORMATS = ("basilisk", "biencoder", "syncabel", "longbel", "preference")
SPLITS = ("train", "dev", "test")
ConceptLookup = Callable[[str], Concept | None]
Row = dict[str, Any]
_TUI = re.compile(r"^T\d{3}$")


def _prefix(concept_id: str) -> str:
    """The database part of a prefixed id (``HP`` of ``HP:0001250``), ``""`` for bare ids."""
    return concept_id.partition(":")[0] if ":" in concept_id else ""


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """Options of a training export (every field is recorded in the datasheet)."""

    seed: int = 13
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train, dev, test share of documents
    negatives_per_positive: int = 3
    context_chars: int = 120  # characters of context on each side of the mention
    memory_size: int = 8  # earlier links kept in a LongBEL row
    text_free: bool = False


@dataclass(frozen=True, slots=True)
class Example:
    """One curated mention with its document and decision."""

    document: Document
    mention: Mention
    decision: Decision


def curated_examples(session: Session) -> list[Example]:
    """Gold decisions that link concepts or say NIL, by (doc_id, start, end)."""
    documents, records = repository.gold_annotations(session)
    by_id = {d.doc_id: d for d in documents}
    return [
        Example(by_id[r.mention.doc_id], r.mention, r.decision)
        for r in records
        if r.decision.status.links_concept or r.decision.status is DecisionStatus.NIL
    ]


def split_documents(doc_ids: Sequence[str], seed: int, ratios: tuple[float, float, float]) -> dict[str, str]:
    """Assign each document to a split; the same ids and seed always give the same splits."""
    ordered = sorted(set(doc_ids))
    random.Random(seed).shuffle(ordered)
    n_train = round(len(ordered) * ratios[0])
    n_dev = round(len(ordered) * ratios[1])
    return {d: "train" if i < n_train else "dev" if i < n_train + n_dev else "test" for i, d in enumerate(ordered)}


class _Formatter:
    """Builds the rows of one format from examples (the strings the models read)."""

    def __init__(self, concept: ConceptLookup, config: TrainingConfig) -> None:
        self.concept, self.config = concept, config

    def name(self, concept_id: str, shown_name: str | None = None) -> str:
        found = self.concept(concept_id)
        return found.name if found else shown_name or concept_id

    def tuis(self, concept_id: str) -> str:
        types = found.types if (found := self.concept(concept_id)) else ()
        return ",".join([t for t in types if _TUI.match(t)] or types)

    def context(self, ex: Example, marked: str | None = None) -> str:
        text, m, c = ex.document.text, ex.mention, self.config.context_chars
        # Cut at whitespace so that no partial word starts or ends the context.
        left = re.sub(r"^\S*\s", "", text[max(0, m.start - c) : m.start]) if m.start > c else text[: m.start]
        right = re.sub(r"\s\S*$", "", text[m.end : m.end + c]) if m.end + c < len(text) else text[m.end :]
        return re.sub(r"\s+", " ", left + (m.text if marked is None else marked) + right).strip()

    def marked(self, ex: Example) -> str:
        ids = ex.decision.concept_ids
        first = self.concept(ids[0]) if ids else None
        label = ex.mention.label or (first.types[0] if first and first.types else "Entity")
        return self.context(ex, f"[{ex.mention.text}]{{{label}}}")

    def negatives(self, ex: Example) -> list[tuple[str, str]]:
        """(concept id, name) of shown candidates the curator rejected, best first, capped."""
        n = self.config.negatives_per_positive * max(1, len(ex.decision.concept_ids))
        rejected = [(c.concept_id, c.name) for c in ex.decision.shown if c.concept_id not in ex.decision.concept_ids]
        return list(dict.fromkeys(rejected))[:n]

    def key(self, ex: Example) -> Row:
        return {"doc_id": ex.mention.doc_id, "start": ex.mention.start, "end": ex.mention.end}

    def basilisk(self, ex: Example) -> list[Row]:
        pairs = [(cid, None, 1) for cid in ex.decision.concept_ids] + [(c, n, 0) for c, n in self.negatives(ex)]
        if self.config.text_free:
            return [{**self.key(ex), "concept_id": cid, "label": label} for cid, _, label in pairs]
        query = f"mention: {ex.mention.text} ; context: {self.context(ex)}"
        return [
            {"query": query, "passage": f"candidate: {self.name(cid, n)} ; tuis: {self.tuis(cid)}", "label": label}
            for cid, n, label in pairs
        ]

    def biencoder(self, ex: Example) -> list[Row]:
        if self.config.text_free:
            return [{**self.key(ex), "concept_id": cid} for cid in ex.decision.concept_ids]
        return [{"query": ex.mention.text, "passage": self.name(cid)} for cid in ex.decision.concept_ids]

    def syncabel(self, ex: Example) -> list[Row]:
        ids = ex.decision.concept_ids
        if not ids:
            return []
        if self.config.text_free:
            return [{**self.key(ex), "concept_ids": list(ids)}]
        return [{"source": self.marked(ex), "target": " | ".join(self.name(cid) for cid in ids)}]

    def preference(self, ex: Example) -> list[Row]:
        ids = ex.decision.concept_ids
        if not ids:
            return []
        if self.config.text_free:
            return [{**self.key(ex), "chosen_id": ids[0], "rejected_id": cid} for cid, _ in self.negatives(ex)]
        prompt, chosen = self.marked(ex), " | ".join(self.name(cid) for cid in ids)
        return [{"prompt": prompt, "chosen": chosen, "rejected": name} for _, name in self.negatives(ex)]

    def longbel(self, examples: Sequence[Example]) -> Row:
        """One document row; ``memory`` holds the links made earlier in the same document."""
        document, free = examples[0].document, self.config.text_free
        entities: list[Row] = []
        memory: list[list[Any]] = []
        for ex in examples:
            ids, m = ex.decision.concept_ids, ex.mention
            if not ids:
                continue
            target = " | ".join(self.name(cid) for cid in ids)
            entity: Row = {"offsets": [[m.start, m.end]], "type": m.label or "Entity"}
            entity["normalized"] = [
                {"db_name": cid.partition(":")[0] if ":" in cid else "", "db_id": cid} for cid in ids
            ]
            if not free:
                entity |= {"text": m.text, "target": target}
            entity["memory"] = memory[-self.config.memory_size :] if self.config.memory_size else []
            entities.append(entity)
            memory = [*memory, [m.start, m.end, list(ids)] if free else [m.text, target]]
        return {"document_id": document.doc_id, **({} if free else {"text": document.text}), "entities": entities}


def build_rows(
    examples: Sequence[Example], fmt: str, concept: ConceptLookup, config: TrainingConfig
) -> dict[str, list[Row]]:
    """The rows of each split (see the module docstring for the schema per format).

    Raises:
        ValueError: unknown format.
    """
    if fmt not in TRAINING_FORMATS:
        raise ValueError(f"Unknown training format {fmt!r}; use one of {', '.join(TRAINING_FORMATS)}")
    formatter = _Formatter(concept, config)
    splits = split_documents([e.mention.doc_id for e in examples], config.seed, config.ratios)
    rows: dict[str, list[Row]] = {s: [] for s in SPLITS}
    if fmt == "longbel":
        by_doc: dict[str, list[Example]] = {}
        for ex in examples:
            by_doc.setdefault(ex.mention.doc_id, []).append(ex)
        for doc_id, group in sorted(by_doc.items()):
            rows[splits[doc_id]].append(formatter.longbel(group))
        return rows
    make: Callable[[Example], list[Row]] = getattr(formatter, fmt)
    for ex in examples:
        rows[splits[ex.mention.doc_id]].extend(make(ex))
    return rows


def datasheet(examples: Sequence[Example], rows: dict[str, list[Row]], fmt: str, config: TrainingConfig) -> Row:
    """Split sizes, class balance and the export options (what a dataset card reports)."""
    splits = split_documents([e.mention.doc_id for e in examples], config.seed, config.ratios)
    sheet: Row = {"format": fmt, "config": {**asdict(config), "ratios": list(config.ratios)}, "splits": {}}
    for split in SPLITS:
        mine = [e for e in examples if splits[e.mention.doc_id] == split]
        labels = Counter(r["label"] for r in rows[split] if "label" in r)
        sheet["splits"][split] = {
            "documents": len({e.mention.doc_id for e in mine}),
            "mentions": len(mine),
            "rows": len(rows[split]),
            "positives": labels.get(1, 0),
            "negatives": labels.get(0, 0),
            "statuses": dict(sorted(Counter(e.decision.status.value for e in mine).items())),
        }
    return sheet


def _markdown(sheet: Row) -> str:
    lines = [
        f"# Training data: {sheet['format']}",
        "",
        "Exported from curated BEL Curator decisions; documents are split, never mentions.",
        "",
        "| split | documents | mentions | rows | positives | negatives | positive share |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for split, s in sheet["splits"].items():
        labelled = s["positives"] + s["negatives"]
        share = f"{s['positives'] / labelled:.1%}" if labelled else "n/a"
        cells = [split, s["documents"], s["mentions"], s["rows"], s["positives"], s["negatives"], share]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    lines += ["", "Options: " + ", ".join(f"`{k}={v}`" for k, v in sheet["config"].items()), ""]
    return "\n".join(lines)


def export_training(
    session: Session, fmt: str, out_dir: Path, *, concept: ConceptLookup, config: TrainingConfig | None = None
) -> Row:
    """Write ``<split>.jsonl`` files and the datasheet for ``fmt`` into ``out_dir``; returns the datasheet.

    Args:
        session: a session on the store (only read).
        fmt: one of :data:`TRAINING_FORMATS`.
        out_dir: created when missing; files there with the same names are replaced.
        concept: concept lookup for names and types (None for ids the KB does not know).
        config: options; defaults as in :class:`TrainingConfig`.
    """
    config = config or TrainingConfig()
    examples = curated_examples(session)
    rows = build_rows(examples, fmt, concept, config)
    out_dir.mkdir(parents=True, exist_ok=True)
    for split, split_rows in rows.items():
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in split_rows)
        (out_dir / f"{split}.jsonl").write_text(text, encoding="utf-8")
    sheet = datasheet(examples, rows, fmt, config)
    (out_dir / "datasheet.json").write_text(json.dumps(sheet, indent=2) + "\n", encoding="utf-8")
    (out_dir / "datasheet.md").write_text(_markdown(sheet), encoding="utf-8")
    return sheet
