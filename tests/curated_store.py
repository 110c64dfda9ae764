"""A store with curated decisions over the tiny KB, for the learning-loop tests (retrain, registry, page, CLI).

Each document mentions three concepts, one of them with a surface form the KB does not
have ("big noggin" for Macrocephaly), so a retrained linker that learned its training
mentions as aliases links it where the default linker cannot; one mention per document
is called NIL by the curator ("zorbitis"). Decisions come from ``import_gold_decisions``,
the path gold imports take, so they are real rows (ACCEPTED, CORRECTED or NIL).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.types import Document, Mention, MentionOrigin
from tests.fakes import FakeLinker
from usecases import services

NOGGIN = "big noggin"
# (surface form, gold id or None for NIL)
_TEMPLATE = (("Seizures", "HP:0001250"), (NOGGIN, "HP:0000256"), ("Hearing loss", "HP:0000365"), ("zorbitis", None))


def curated_document(i: int) -> tuple[Document, list[Mention]]:
    """Document ``doc<i>`` and its four imported mentions (annotated ids = the curator's verdict)."""
    parts, mentions, pos = [], [], 0
    for surface, gold in _TEMPLATE:
        prefix = f"Case {i} shows " if not parts else ", then "
        pos += len(prefix)
        parts.append(prefix + surface)
        ids = (gold,) if gold else ()
        mentions.append(
            Mention(f"doc{i:02d}", pos, pos + len(surface), surface, "Phenotype", MentionOrigin.IMPORTED, ids)
        )
        pos += len(surface)
    return Document(f"doc{i:02d}", "".join(parts) + ".", source="test"), mentions


def seed_curated(store: sessionmaker[Session], kb: KnowledgeBase, n_documents: int = 16) -> int:
    """Store ``n_documents`` curated documents; returns the number of decisions recorded."""
    linker = FakeLinker(kb)
    n = 0
    for i in range(n_documents):
        document, mentions = curated_document(i)
        with store.begin() as session:
            services.ingest_document(session, linker, document, mentions, detect=False)
            n += services.import_gold_decisions(session, linker, mentions, curator="tester")
    return n
