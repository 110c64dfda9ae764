"""Models & KB: what the linker is (KB, retrievers, encoder, calibration) and what the store holds."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from bel_core.errors import BelError
from db import repository
from db.models import Role
from pages.components import charts, state
from pages.components.auth_gate import require_user
from pages.components.resources import (
    curator_synonyms,
    generator_error,
    get_generator,
    get_linker,
    get_settings,
    get_store,
    rebuild_linker_with_curator_synonyms,
)
from pages.components.widgets import md
from usecases.queue import review_queue

settings = get_settings()
user = require_user(settings)
is_admin = user.can(Role.ADMIN)
store = get_store()
linker = get_linker()

st.title("Models & KB", anchor=False)
if message := state.pop_flash():
    st.success(md(message))

kb_col, model_col = st.columns(2, gap="large")
with kb_col:
    st.subheader("Knowledge base", anchor=False)
    st.metric("Concepts", f"{len(linker.kb):,}")
    st.markdown(
        md(f"{linker.kb.name} · version {linker.kb.version}")
        + "  \n"
        + md(f"Source: {settings.kb.source} ({settings.kb.format})")
        + "  \n"
        + md(f"Fingerprint: {linker.kb.fingerprint[:16]}")
    )
    # Curator synonyms ("add as synonym" on Review) reach the retriever only through a rebuild.
    stored = curator_synonyms()
    st.markdown(
        md(f"Curator synonyms in use: extension {linker.extension_version}")
        + "  \n"
        + md(f"Stored now: {len(stored.pairs)} synonym(s), extension {stored.version}")
    )
    if not is_admin:
        st.caption("An admin can rebuild the retriever with the stored synonyms.")
    elif stored.version == linker.extension_version:
        st.caption("The retriever indexes every stored synonym.")
    if st.button(
        md(f"Rebuild retriever with {len(stored.pairs)} curator synonyms (extension version {stored.version})"),
        disabled=not is_admin or stored.version == linker.extension_version,
        help="Rebuilds the indexes in memory (and the calibration); decisions and synonyms stay stored. "
        "Other sessions keep the current linker until the new one is ready.",
    ):
        try:
            rebuilt = rebuild_linker_with_curator_synonyms()
        except BelError as e:
            st.error(md(e))
        else:
            state.flash(
                f"Retriever rebuilt with curator synonyms {rebuilt.extension_version}: KB {rebuilt.kb_version}"
            )
            st.rerun()

with model_col:
    st.subheader("Linker", anchor=False)
    dense = linker.dense
    st.dataframe(
        pd.DataFrame(
            {
                "setting": ["model version", "retrievers", "encoder", "dense weight", "candidates per mention"],
                "value": [
                    linker.model_version,
                    "TF-IDF (char n-grams) + dense" if dense else "TF-IDF (char n-grams) only",
                    dense.spec.version if dense else "off (dense retrieval disabled)",
                    f"{linker.dense_weight:.2f}" if dense else "n/a",
                    str(linker.top_k),
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    generator = get_generator(linker)
    if generator is not None:
        st.markdown(md(f"Generative linker beside it: {generator.model_version}"))
    elif problem := generator_error():
        st.warning(md(f"The generative linker could not be loaded, the reranker serves alone: {problem}"))
    else:
        st.caption("No generative linker configured (generator.model_dir); the Review page shows one ranking.")

st.subheader("Calibration", anchor=False)
report = linker.calibration_report
if report is None:
    st.info("The linker has no calibration report: probabilities shown are uncalibrated raw scores.")
else:
    st.caption(
        f"Checked on {report.n_test_queries:,} held-out synthetic mentions drawn from the KB "
        f"({report.exact_fraction:.0%} exact names, the rest synonyms hidden from the index); "
        f"top-1 accuracy {report.acc_at_1:.1%}."
    )
    ece_col, brier_col, chart_col = st.columns([1, 1, 3], vertical_alignment="center")
    ece_col.metric(
        "ECE",
        f"{report.ece_calibrated:.3f}",
        delta=f"{report.ece_calibrated - report.ece_raw:+.3f} vs raw",
        delta_color="inverse",
    )
    brier_col.metric(
        "Brier",
        f"{report.brier_calibrated:.3f}",
        delta=f"{report.brier_calibrated - report.brier_raw:+.3f} vs raw",
        delta_color="inverse",
    )
    chart_col.plotly_chart(charts.calibration_figure(report), width="stretch")

with store() as session:
    summaries = repository.list_documents(session)
    decided_items = [
        item
        for item in review_queue(session, include_decided=True)
        if item.status is not None and item.top_probability is not None
    ]

st.subheader("Agreement with curators", anchor=False)
# The probability is the latest run's; decisions were made on the candidates shown then,
# which is the same run unless the document was re-linked after deciding.
bins = charts.reliability_bins((item.top_probability, item.status) for item in decided_items)
if bins:
    st.plotly_chart(charts.reliability_figure(bins), width="stretch")
    st.caption(f"{sum(b.count for b in bins)} decided mentions (accepted vs corrected or NIL).")
else:
    st.caption("Appears once curators have accepted, corrected or NIL-ed some mentions.")

st.subheader("Database", anchor=False)
db_col, docs_col, mentions_col, decided_col = st.columns([3, 1, 1, 1])
if is_admin:  # where the data lives is for admins only, and never with its credentials
    db_col.markdown(md(settings.display_db_url))
docs_col.metric("Documents", len(summaries))
mentions_col.metric("Mentions", sum(d.n_mentions for d in summaries))
decided_col.metric("Decided", sum(d.n_decided for d in summaries))
