"""Documents: paste or upload texts, load the samples, see curation progress, open one in Review."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from db import repository
from pages.components import state
from pages.components.ingest import (
    UPLOAD_TYPES,
    ImportOutcome,
    import_files,
    import_text,
    run_generator,
    sample_files,
)
from pages.components.resources import built_linker, get_generator, get_linker, get_settings, get_store
from pages.components.widgets import md

settings = get_settings()
store = get_store()


def show_outcome(outcome: ImportOutcome) -> None:
    """Summarise an import: what was stored, then every skipped line and rejected file."""
    for report in outcome.reports:
        if report.already_stored:
            st.info(md(f"{report.doc_id}: already stored; {report.n_new_mentions} new mention(s) added."))
        else:
            st.success(md(f"{report.doc_id}: stored with {report.n_mentions} mention(s), linked and ready to review."))
    if outcome.n_gold_decisions:
        st.success(f"Recorded {outcome.n_gold_decisions} decision(s) from the files' concept ids.")
    for problem in outcome.problems:
        st.warning(md(problem))
    for error in outcome.errors:
        st.error(md(error))


st.title("Documents", anchor=False)
# The list comes first on screen (curators mostly open documents) but is filled last in the
# script, so a document added below in this same run already shows in it.
list_slot = st.container()

st.subheader("Add documents", anchor=False)
paste_tab, upload_tab, sample_tab = st.tabs(["Paste text", "Upload files", "Sample documents"])

with paste_tab:
    with st.form("paste", clear_on_submit=False, border=False):
        text = st.text_area("Document text", height=160, placeholder="Paste an abstract or a clinical note…")
        doc_id = st.text_input("Document id (optional)", placeholder="e.g. PMID:12345678; blank = derived from text")
        submitted = st.form_submit_button("Add document", type="primary")
    if submitted:
        linker = get_linker()
        show_outcome(import_text(store, linker, text, doc_id, generator=get_generator(linker)))

with upload_tab:
    uploads = st.file_uploader(
        "Plain text (.txt, one document per file) or PubTator (.pubtator) files",
        type=list(UPLOAD_TYPES),
        accept_multiple_files=True,
        # The uploader counts megabytes; parse_upload re-checks the exact byte limit.
        max_upload_size=max(1, math.ceil(settings.max_upload_bytes / 1_000_000)),
    )
    as_gold = st.checkbox(
        "Record the PubTator concept ids as decisions (import a curated corpus)",
        help="Off: the files' spans are imported and linked, and their ids are only shown as hints.",
    )
    if st.button("Import uploaded files", type="primary", disabled=not uploads):
        files = [(f.name, f.getvalue()) for f in uploads]
        linker = get_linker()
        show_outcome(
            import_files(
                store,
                linker,
                files,
                max_bytes=settings.max_upload_bytes,
                gold_curator=settings.curator if as_gold else None,
                generator=get_generator(linker),
            )
        )

with sample_tab:
    samples = sample_files(settings.sample_documents_dir)
    if samples:
        st.caption(md(", ".join(p.name for p in samples)))
    else:
        st.caption(md(f"No sample documents in {settings.sample_documents_dir}."))
    if st.button("Load sample documents", disabled=not samples):
        files = [(p.name, p.read_bytes()) for p in samples]
        linker = get_linker()
        show_outcome(
            import_files(store, linker, files, max_bytes=settings.max_upload_bytes, generator=get_generator(linker))
        )

with store() as session:
    summaries = repository.list_documents(session)
    with_generator_runs = repository.documents_linked_by(session, "generator")

if not summaries:
    list_slot.info("No documents yet: paste a text, upload files or load the samples below.")
    st.stop()

with list_slot:
    table = pd.DataFrame(
        {
            "Document": [d.doc_id for d in summaries],
            "Source": [d.source for d in summaries],
            "Mentions": [d.n_mentions for d in summaries],
            "Decided": [d.n_decided for d in summaries],
            "Progress": [d.n_decided / d.n_mentions if d.n_mentions else 0.0 for d in summaries],
            "Added": [d.created_at for d in summaries],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Progress": st.column_config.ProgressColumn("Progress", min_value=0.0, max_value=1.0, format="percent"),
            "Added": st.column_config.DatetimeColumn("Added", format="YYYY-MM-DD HH:mm"),
        },
    )

    doc_ids = [d.doc_id for d in summaries]
    current = state.current_doc_id()
    with st.container(horizontal=True, vertical_alignment="bottom"):
        chosen = st.selectbox(
            "Open a document", doc_ids, index=doc_ids.index(current) if current in doc_ids else 0, width=420
        )
        if st.button("Open in Review", type="primary", icon=":material/fact_check:"):
            state.set_current_doc_id(chosen)
            st.switch_page("pages/review.py")

    # Only once the linker is up: opening the document list must not start the first build.
    ready = built_linker()
    generator = get_generator(ready) if ready is not None else None
    missing = [d for d in doc_ids if d not in with_generator_runs]
    if generator is not None and missing:
        st.caption(
            md(f"{len(missing)} document(s) have no ranking from the generative linker ({generator.model_version}).")
        )
        if st.button("Rank them with the generator too", icon=":material/call_split:"):
            with st.spinner("Running the generative linker…"):
                errors = run_generator(store, generator, missing)
            for error in errors:
                st.error(md(error))
            if not errors:
                st.rerun()
