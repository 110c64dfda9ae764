"""Models: the registry of linker versions trained from curator decisions; train, compare, promote, roll back.

Training runs in its own process (``bel retrain --job-id N``), so this page, and every other,
stays usable; the job panel polls the job's row every few seconds while it runs. Everyone
sees the versions and figures; only admins start jobs, promote and roll back.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from bel_core.errors import BelError
from db.models import JobStatus, ModelStatus, Role
from pages.components import charts, model_charts
from pages.components.auth_gate import require_user
from pages.components.model_charts import VersionView
from pages.components.resources import get_settings, get_store, promotion_changed
from pages.components.widgets import md
from usecases import jobs, registry
from usecases.retrain import JOB_KIND, launch_retrain

POLL_S = 3.0  # how often the job panel re-reads a running job

settings = get_settings()
user = require_user(settings)
store = get_store()
can_manage = user.can(Role.ADMIN)


def _views() -> list[VersionView]:
    """Registered versions, newest first, as plain values."""
    with store() as session:
        rows = registry.list_versions(session, registry.RETRIEVER)
        views = [
            VersionView(
                r.id,
                r.version,
                r.status.value,
                r.parent_version,
                r.created_at.strftime("%Y-%m-%d %H:%M"),
                dict(r.data),
                dict(r.config),
                dict(r.metrics),
            )
            for r in rows
        ]
    return views


def _job_panel() -> None:
    """The newest job: status, progress bar, error; a finished job refreshes the whole page once."""
    with store() as session:
        recent = jobs.recent_jobs(session, limit=1)
    if not recent:
        st.caption("No training job yet.")
        return
    job = recent[0]
    seen_key = f"models_job_{job.id}_status"
    if job.status in jobs.ACTIVE:
        st.progress(job.progress, text=md(f"Job {job.id} {job.status.value}: {job.message}"))
    elif job.status is JobStatus.SUCCEEDED:
        st.success(md(f"Job {job.id} finished: {job.message}; new candidate version {job.result_version}"))
    else:
        st.error(md(f"Job {job.id} failed: {job.error}"))
    previous = st.session_state.get(seen_key)
    st.session_state[seen_key] = job.status.value
    if previous in {s.value for s in jobs.ACTIVE} and job.status not in jobs.ACTIVE:
        st.rerun(scope="app")  # the versions table below is stale now


def _active_job() -> bool:
    with store() as session:
        recent = jobs.recent_jobs(session, limit=1)
    return bool(recent) and recent[0].status in jobs.ACTIVE


st.title("Model versions", anchor=False)
versions = _views()
promoted = next((v for v in versions if v.status == ModelStatus.PROMOTED.value), None)
st.markdown(
    md(f"Serving: version {promoted.label} · {promoted.version}")
    if promoted
    else md("Serving: the built-in default linker (no version promoted)")
)

st.subheader("Train a new version from decisions", anchor=False)
st.caption(
    "Curated documents are split by a seeded shuffle into train (aliases and link priors), dev "
    "(calibration refit) and a held-out test split that gives the figures below. The fast default "
    "took about a minute on NCBI-disease with MEDIC on 2 CPU cores; the cross-encoder adds minutes to an hour."
)
active = _active_job()
st.fragment(run_every=POLL_S if active else None)(_job_panel)()
if can_manage:
    with st.form("retrain"):
        reranker = st.checkbox("Also train the cross-encoder (slow on CPU; enables temperature + bucket calibration)")
        encoder = st.checkbox("Also fine-tune the bi-encoder (needs dense retrieval)")
        submitted = st.form_submit_button("Train new version from decisions", disabled=active)
    if submitted:
        params = {"train_reranker": reranker, "finetune_encoder": encoder}  # RetrainConfig fields
        try:
            job_id = launch_retrain(store, settings, params, user.name)
        except BelError as e:
            st.error(md(e))
        else:
            st.toast(md(f"Training job {job_id} started ({JOB_KIND})"))
            st.rerun()

st.subheader("Versions", anchor=False)
if not versions:
    st.info("No version registered yet: train one from curator decisions above, or with `bel retrain`.")
    st.stop()
st.dataframe(pd.DataFrame(model_charts.table_rows(versions)), hide_index=True, width="stretch")

if can_manage:
    labels = {f"{v.label} · {v.status} · {v.version}": v for v in versions}
    picked = labels[st.selectbox("Version", list(labels), key="models_version")]
    promote_col, rollback_col = st.columns(2)
    rollback_ok = promoted is not None and promoted.parent_version is not None
    if promote_col.button("Promote", disabled=picked.status == ModelStatus.PROMOTED.value, type="primary"):
        with store.begin() as session:
            registry.promote(session, picked.version)
        promotion_changed()
        st.toast(md(f"Promoted {picked.label}; pages load it on their next run"))
        st.rerun()
    rollback_help = "retire the promoted version and promote its parent again"
    if rollback_col.button("Roll back", disabled=not rollback_ok, help=rollback_help):
        with store.begin() as session:
            parent = registry.rollback(session)
        promotion_changed()
        st.toast(md(f"Rolled back to {parent.version}"))
        st.rerun()

st.subheader("Compare versions", anchor=False)
compare_labels = {v.label: v for v in versions}
chosen = st.multiselect("Versions to compare", list(compare_labels), default=list(compare_labels)[:4])
shown = [compare_labels[c] for c in chosen]
if shown:
    left, right = st.columns(2, gap="large")
    left.markdown("Held-out accuracy and candidate recall")
    left.plotly_chart(model_charts.accuracy_figure(shown), width="stretch")
    right.markdown("Calibration (ECE, Brier) and NIL rate")
    right.plotly_chart(model_charts.calibration_figure(shown), width="stretch")
    left, right = st.columns(2, gap="large")
    left.markdown("Accuracy per mention type")
    left.plotly_chart(model_charts.per_type_figure(shown), width="stretch")
    focus = compare_labels[right.selectbox("Reliability diagram of", [v.label for v in shown])]
    bins = model_charts.reliability_bins(focus)
    if bins:
        right.plotly_chart(charts.reliability_figure(bins), width="stretch")
    else:
        right.info("This version has no held-out mentions to draw a reliability diagram from.")
