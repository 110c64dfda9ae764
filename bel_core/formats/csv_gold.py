"""CSV export of gold decisions (export only: a CSV row has no document text to import).

Columns, in this order, one row per decided mention sorted by (doc_id, start, end); the
same fields as ``bel_core.formats.gold.gold_jsonl``:

==============  =======================================================================
column          meaning
==============  =======================================================================
``doc_id``      the document's external id
``start``       character offset of the span in the document text
``end``         end offset (exclusive)
``text``        the mention text (line breaks kept, quoted by the CSV rules)
``label``       entity type from the imported file, empty when none
``status``      ``accepted``, ``corrected``, ``nil``, ``wrong_span`` or ``not_entity``
``concept_ids`` linked ids joined by ``|`` (empty unless accepted/corrected)
``curator``     who decided
``decided_at``  ISO 8601 time of the decision, empty if unknown
``note``        the curator's note
==============  =======================================================================

RFC 4180 quoting, ``\\n`` line ends, UTF-8 without BOM.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from bel_core.formats.gold import GoldAnnotation

COLUMNS = ("doc_id", "start", "end", "text", "label", "status", "concept_ids", "curator", "decided_at", "note")


def write_csv(records: Iterable[GoldAnnotation]) -> str:
    """Write decisions as CSV with a header row (columns in the module docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in sorted(records, key=lambda r: r.mention.key):
        mention, decision = record.mention, record.decision
        writer.writerow(
            (
                mention.doc_id,
                mention.start,
                mention.end,
                mention.text,
                mention.label or "",
                decision.status.value,
                "|".join(decision.concept_ids),
                decision.curator,
                decision.decided_at.isoformat() if decision.decided_at else "",
                decision.note,
            )
        )
    return buffer.getvalue()
