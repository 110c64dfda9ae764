"""Plotly figures and table rows for the Model page: registered versions side by side.

Every figure reads the metrics ``usecases.retrain`` stored with each version (its held-out curated
test split): accuracy and candidate recall, calibration (ECE, Brier) and NIL rate, accuracy
per mention type, and the reliability diagram (drawn by ``charts.reliability_figure``).
Versions are labelled ``#<id>`` because version strings are long; the table maps the two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from pages.components.charts import ReliabilityBin, plain

_LAYOUT = {"height": 320, "margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "legend": {"orientation": "h", "y": 1.15}}
RELIABILITY_BINS = 15  # as bel_core.calibrate.reliability and the shared scorer bin


@dataclass(frozen=True, slots=True)
class VersionView:
    """What the page shows of one registered version (plain values, no database row)."""

    id: int
    version: str
    status: str
    parent_version: str | None
    created_at: str
    data: dict[str, Any]
    config: dict[str, Any]
    metrics: dict[str, Any]

    @property
    def label(self) -> str:
        """Short name for axes and legends."""
        return f"#{self.id}"

    @property
    def recall_key(self) -> str | None:
        """The ``recall@k`` metric this version has, if any."""
        return next((k for k in self.metrics if k.startswith("recall@")), None)


def table_rows(versions: Sequence[VersionView]) -> list[dict[str, object]]:
    """One row per version for ``st.dataframe``: status, lineage, data and held-out figures."""
    rows = []
    for v in versions:
        m, splits = v.metrics, v.data.get("splits", {})
        recall = v.recall_key
        rows.append(
            {
                "#": v.label,
                "status": v.status,
                "created": v.created_at,
                "decisions": v.data.get("n_decisions"),
                "train/dev/test mentions": "/".join(str(splits.get(s, {}).get("mentions", 0)) for s in splits),
                "acc@1": m.get("acc@1"),
                "acc@5": m.get("acc@5"),
                recall or "recall": m.get(recall) if recall else None,
                "ECE": m.get("ece"),
                "Brier": m.get("brier"),
                "NIL rate": m.get("nil_rate"),
                "calibration": m.get("calibration"),
                "train s": v.config.get("seconds"),
                "parent": v.parent_version or "",
                "version": v.version,
            }
        )
    return rows


def _grouped(versions: Sequence[VersionView], metrics: Sequence[tuple[str, str]], yaxis: str) -> go.Figure:
    figure = go.Figure(
        [
            go.Bar(name=v.label, x=[plain(name) for name, _ in metrics], y=[v.metrics.get(key) for _, key in metrics])
            for v in versions
        ]
    )
    figure.update_layout(barmode="group", yaxis_title=yaxis, **_LAYOUT)
    return figure


def accuracy_figure(versions: Sequence[VersionView]) -> go.Figure:
    """acc@1, acc@5 and candidate-generation recall per version (higher is better)."""
    recall = next((v.recall_key for v in versions if v.recall_key), "recall@64")
    return _grouped(versions, [("acc@1", "acc@1"), ("acc@5", "acc@5"), (recall, recall)], "higher is better")


def calibration_figure(versions: Sequence[VersionView]) -> go.Figure:
    """ECE and Brier score of the top-1 probability, and the NIL rate, per version."""
    return _grouped(versions, [("ECE", "ece"), ("Brier", "brier"), ("NIL rate", "nil_rate")], "lower is better (ECE)")


def per_type_figure(versions: Sequence[VersionView]) -> go.Figure:
    """Held-out acc@1 per mention type, one bar group per type."""
    types = sorted({t for v in versions for t in v.metrics.get("per_type", {})})
    figure = go.Figure(
        [
            go.Bar(
                name=v.label,
                x=[plain(t) for t in types],
                y=[v.metrics.get("per_type", {}).get(t, {}).get("acc@1") for t in types],
                text=[v.metrics.get("per_type", {}).get(t, {}).get("n", "") for t in types],
                hovertemplate="%{x}: acc@1 %{y:.2f} (n=%{text})<extra></extra>",
            )
            for v in versions
        ]
    )
    figure.update_layout(barmode="group", yaxis={"title": "acc@1", "range": [0, 1.05]}, **_LAYOUT)
    return figure


def reliability_bins(version: VersionView) -> list[ReliabilityBin]:
    """The version's stored [mean probability, accuracy, count] bins as ``charts.ReliabilityBin``.

    A bin's mean lies inside the bin, so it gives back the bin's edges (``lo < p <= hi``).
    """
    out = []
    for mean, accuracy, count in version.metrics.get("reliability", []):
        index = min(RELIABILITY_BINS - 1, max(0, math.ceil(mean * RELIABILITY_BINS) - 1))
        low, high = index / RELIABILITY_BINS, (index + 1) / RELIABILITY_BINS
        out.append(ReliabilityBin(low, high, float(mean), float(accuracy), int(count)))
    return out
