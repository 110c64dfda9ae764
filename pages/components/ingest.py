"""The Documents page's import widgets: the upload types, the samples, and the import summary.

Importing is ``usecases.ingest``; this module only shows its summary. The last summary
is kept in session state and drawn on every run until the next import, so its "open the
stored document" buttons still work after the click reruns the page. Every file name,
line and reason is user-supplied text: it is shown in code blocks (plain text), never
as Markdown or HTML.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from bel_core.formats.documents import InputProblem
from pages.components import state
from pages.components.widgets import md
from usecases.ingest import IngestSummary

# Extensions the uploader lets through; bel_core.formats.inputs detects the format by content.
UPLOAD_TYPES = ("txt", "pubtator", "xml", "bioc", "json", "jsonl", "ann", "tsv", "zip")
_SUMMARY_KEY = "documents_ingest_summary"
_LISTED = 10  # documents named one by one in the summary; more are counted


def limit_text(max_bytes: int) -> str:
    """The size limit in words, e.g. ``5 MB (5,000,000 bytes)``."""
    return f"{max_bytes / 1_000_000:.3g} MB ({max_bytes:,} bytes)"


def sample_files(directory: Path) -> list[Path]:
    """The sample documents shipped with the app, sorted by name (empty if none)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lstrip(".") in UPLOAD_TYPES)


def remember(summary: IngestSummary) -> None:
    """Keep ``summary`` to show until the next import."""
    st.session_state[_SUMMARY_KEY] = summary


def _problems(kind: str, intro: str, problems: tuple[InputProblem, ...]) -> None:
    if not problems:
        return
    getattr(st, kind)(intro)
    st.code("\n".join(str(p) for p in problems), language=None, wrap_lines=True)


def show_summary() -> None:
    """Draw the last import's summary: stored, duplicates (with "open"), refused, skipped, notices."""
    summary: IngestSummary | None = st.session_state.get(_SUMMARY_KEY)
    if summary is None:
        return
    new = [r for r in summary.reports if not r.already_stored]
    for report in new[:_LISTED]:
        st.success(md(f"{report.doc_id}: stored with {report.n_mentions} mention(s), linked and ready to review."))
    if len(new) > _LISTED:
        st.success(f"… and {len(new) - _LISTED} more new document(s); {summary.n_mentions} new mention(s) in all.")
    if summary.n_already_stored:
        st.info(f"{summary.n_already_stored} document(s) were already stored with the same id and text; unchanged.")
    if summary.n_gold:
        st.success(f"Recorded {summary.n_gold} gold decision(s) from the files' concept ids, kept as written.")
    for i, dup in enumerate(summary.duplicates):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.info(md(f"{dup.source}: the same text is already stored as {dup.stored_doc_id}; not stored again."))
            if st.button(md(f"Open {dup.stored_doc_id}"), key=f"open-duplicate-{i}", icon=":material/fact_check:"):
                state.set_current_doc_id(dup.stored_doc_id)
                st.switch_page("pages/review.py")
    _problems("error", f"Refused, nothing of it stored ({len(summary.refused)}):", summary.refused)
    _problems("warning", f"Skipped bad records ({len(summary.skipped)}); the rest was stored:", summary.skipped)
    _problems("info", f"Stored, but worth a look ({len(summary.notices)}):", summary.notices)
