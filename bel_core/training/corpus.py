"""Labelled splits for ``bel train``: gold mentions with their documents, from PubTator or the KB.

A split keeps the documents next to the gold mentions, because the linker uses document
text (abbreviation definitions, reranker context, memory) exactly as it will at link time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bel_core.errors import TrainingDataError
from bel_core.formats.pubtator import parse_pubtator
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.training.pairs import GoldMention, gold_mentions_from_pubtator, split_by_document
from bel_core.training.synthetic import synthetic_gold_mentions
from bel_core.types import Document

SYNTHETIC_LABEL = "synthetic:"  # label prefix of KB-generated mentions


@dataclass(frozen=True, slots=True)
class LabelledSplit:
    """Gold mentions and the documents they are in.

    Attributes:
        golds: gold mentions (ids resolved to the KB's primary ids).
        documents: doc id -> document (synthetic mentions have their sentence as document).
        sources: where the mentions came from (file names, ``synthetic``).
    """

    golds: tuple[GoldMention, ...] = ()
    documents: Mapping[str, Document] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def merged(self, other: LabelledSplit) -> LabelledSplit:
        """Both splits' mentions and documents."""
        return LabelledSplit(
            (*self.golds, *other.golds), {**self.documents, **other.documents}, (*self.sources, *other.sources)
        )

    def subset(self, doc_ids: Collection[str]) -> LabelledSplit:
        """The mentions (and documents) of these documents only."""
        return LabelledSplit(
            tuple(g for g in self.golds if g.mention.doc_id in doc_ids),
            {d: doc for d, doc in self.documents.items() if d in doc_ids},
            self.sources,
        )

    def corpus_links(self) -> list[tuple[str, tuple[str, ...]]]:
        """(mention text, gold ids) of annotated (not synthetic) mentions: dictionary augmentation input."""
        return [
            (g.mention.text, g.gold_ids) for g in self.golds if not (g.mention.label or "").startswith(SYNTHETIC_LABEL)
        ]

    def summary(self) -> dict[str, Any]:
        """Counts for logs and the manifest."""
        synthetic = sum((g.mention.label or "").startswith(SYNTHETIC_LABEL) for g in self.golds)
        return {
            "sources": list(self.sources),
            "documents": len({g.mention.doc_id for g in self.golds}),
            "mentions": len(self.golds),
            "synthetic_mentions": synthetic,
            "concepts": len({cid for g in self.golds for cid in g.gold_ids}),
        }


def load_split(path: Path, kb: KnowledgeBase, types: Collection[str] | None) -> LabelledSplit:
    """A PubTator corpus as a split; mentions whose ids the KB lacks are dropped (and logged)."""
    parsed = parse_pubtator(path.read_text(encoding="utf-8"), path.name)
    golds = gold_mentions_from_pubtator(parsed.documents, parsed.mentions, kb, types=types)
    return LabelledSplit(tuple(golds), {d.doc_id: d for d in parsed.documents}, (str(path),))


def split_gold(split: LabelledSplit, dev_fraction: float, seed: int) -> tuple[LabelledSplit, LabelledSplit]:
    """(train, dev) by document (see :func:`bel_core.training.pairs.split_by_document`)."""
    train_ids, dev_ids = split_by_document([g.mention.doc_id for g in split.golds], dev_fraction, seed)
    return split.subset(train_ids), split.subset(dev_ids)


def synthetic_split(kb: KnowledgeBase, n: int, seed: int) -> LabelledSplit:
    """``n`` KB-generated mentions; each one's context window is its document when it covers the span."""
    golds = synthetic_gold_mentions(kb, n=n, seed=seed)
    documents = {
        g.mention.doc_id: Document(g.mention.doc_id, g.context, source="synthetic")
        for g in golds
        if g.context[g.mention.start : g.mention.end] == g.mention.text
    }
    return LabelledSplit(tuple(golds), documents, (f"synthetic:{n}@{seed}",))


class CorpusConfig(Protocol):
    """The corpus options of either linker's trainer (``TrainLinkerConfig``, ``GeneratorTrainConfig``)."""

    @property
    def train(self) -> Path | None: ...
    @property
    def dev(self) -> Path | None: ...
    @property
    def types(self) -> tuple[str, ...]: ...
    @property
    def synthetic(self) -> int: ...
    @property
    def dev_fraction(self) -> float: ...
    @property
    def seed(self) -> int: ...


def corpus_splits(config: CorpusConfig, kb: KnowledgeBase) -> tuple[LabelledSplit, LabelledSplit]:
    """(train, dev) for `bel train` (either linker): the corpus and/or synthetic mentions.

    Without a dev corpus, dev is ``dev_fraction`` of the training documents, or of the
    synthetic mentions when there is no corpus; synthetic mentions are added to train.
    Only mentions of ``types`` are kept (all when empty).

    Raises:
        TrainingDataError: neither a corpus with linkable spans nor synthetic mentions.
    """
    types = config.types or None
    train_split = load_split(config.train, kb, types) if config.train else LabelledSplit()
    dev_split = load_split(config.dev, kb, types) if config.dev else LabelledSplit()
    if not config.dev:
        train_split, dev_split = split_gold(train_split, config.dev_fraction, config.seed)
    if config.synthetic:
        made = synthetic_split(kb, config.synthetic, config.seed)
        if not dev_split.golds:
            made, dev_split = split_gold(made, config.dev_fraction, config.seed)
        train_split = train_split.merged(made)
    if not train_split.golds:
        raise TrainingDataError("No training mentions: give --train with linkable gold spans, or --synthetic N")
    return train_split, dev_split
