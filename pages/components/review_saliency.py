"""The Review page's "Why this score?" expander: a word heat map for the selected candidate.

Attributions (``bel_core.explain.saliency``, Integrated Gradients) are computed when the curator
asks, with the fast or the precise number of steps from ``Settings.saliency``, and kept in
the ``saliency_cache`` table keyed by model version, input, concept and settings, so a
second look (by anyone) is instant. The explained models are the pipeline's cross-encoder
and, when it ranked the mention, the generative linker's generator (the curator picks one).
:func:`heatmap_html` escapes every text it places in HTML, like ``widgets.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from bel_core.errors import BelError
from bel_core.explain.saliency import Saliency, explain_generation, explain_pair, pair_texts
from bel_core.generate.model import GeneratorModel
from bel_core.types import Concept, Mention
from pages.components.resources import get_generator, get_linker, get_settings
from pages.components.review_actions import Reviewer
from pages.components.review_data import MentionView
from pages.components.widgets import esc, md
from usecases import saliency_cache
from usecases.saliency_cache import SaliencyKey

SEGMENT_LABELS = {"left": "Mention and context", "right": "Candidate", "prompt": "Prompt"}
RAISES, LOWERS = (26, 152, 80), (215, 48, 39)  # green raises the score, red lowers it


@dataclass(frozen=True)
class Explainer:
    """What to explain for one (mention, concept): the cache key and how to compute on a miss."""

    name: str
    key_inputs: tuple[str, ...]
    model_version: str
    max_length: int
    compute: Callable[[int], Saliency]


def explainers(rv: Reviewer, mention: Mention, view: MentionView, concept: Concept) -> list[Explainer]:
    """The transformers that scored this mention: the linker's cross-encoder, the generative linker's generator."""
    found = []
    settings = get_settings().saliency
    reranker = getattr(rv.linker, "reranker", None)
    if reranker is not None:
        options = getattr(rv.linker, "options", None)
        left, right = pair_texts(mention, view.document, concept, context_chars=getattr(options, "context_chars", 256))
        max_length = settings.max_length or reranker.max_length
        found.append(
            Explainer(
                "reranker",
                (left, right),
                reranker.version,
                max_length,
                lambda steps: explain_pair(reranker, left, right, n_steps=steps, max_length=max_length),
            )
        )
    generated = view.generator_results.get(mention.key)
    linker = get_generator(get_linker()) if generated is not None else None
    generator = getattr(linker, "generator", None)
    # Only a transformer generator has gradients to attribute (a configured stand-in may have none).
    if generated is not None and linker is not None and isinstance(generator, GeneratorModel):
        # The prompt without document memory: the stored beams may have seen earlier links too.
        prompt = linker.prompt_for(mention, view.document)
        beams = {c.concept_id: c.matched_alias for c in generated.candidates}
        target = beams.get(concept.concept_id) or concept.name  # the beam that produced the concept
        found.append(
            Explainer(
                "generator",
                (prompt, target),
                generator.version,
                0,
                lambda steps: explain_generation(generator, prompt, target, n_steps=steps),
            )
        )
    return found


def _colour(weight: float) -> str:
    """Background for a word whose attribution is ``weight`` of the largest one (in [-1, 1])."""
    r, g, b = RAISES if weight >= 0 else LOWERS
    return f"rgba({r},{g},{b},{min(1.0, abs(weight)) * 0.85:.2f})"


def heatmap_html(saliency: Saliency) -> str:
    """Each attributed text with its words shaded by attribution, then the legend (all text escaped)."""
    scale = max((abs(w.score) for w in saliency.words), default=0.0) or 1.0
    blocks = []
    for segment, label in SEGMENT_LABELS.items():
        if segment not in saliency.segments:
            continue
        text, cursor, pieces = saliency.segments[segment], 0, []
        for word in saliency.segment_words(segment):
            pieces.append(esc(text[cursor : word.start]))
            pieces.append(
                f'<span class="bel-saliency" style="background:{_colour(word.score / scale)};border-radius:3px;'
                f'padding:0 1px" title="{esc(word.text)}: {word.score:+.3f}">{esc(word.text)}</span>'
            )
            cursor = word.end
        pieces.append(esc(text[cursor:]))
        blocks.append(
            f'<div style="font-size:0.8em;color:#5f6368;margin-top:6px">{label}</div>'
            f'<div style="line-height:1.9;white-space:pre-wrap">{"".join(pieces)}</div>'
        )
    legend = (
        f'<div style="font-size:0.8em;margin-top:6px"><span style="background:{_colour(1.0)};padding:0 4px">'
        f'raises</span> <span style="background:{_colour(-1.0)};padding:0 4px">lowers</span> '
        f"the {esc(saliency.explained)}; full colour = |attribution| {scale:.3f} (hover a word for its "
        "value)</div>"
    )
    return "".join(blocks) + legend


def _summary(saliency: Saliency, cached: bool) -> str:
    quantity = "margin (logit difference)" if saliency.explained == "margin" else "log-probability of the beam"
    return (
        f"Explaining the {saliency.linker}'s {quantity} {saliency.output:.3f} (score {saliency.score:.2f}); "
        f"with the words replaced by padding it is {saliency.baseline_output:.3f}. IG: {saliency.n_steps} steps, "
        f"delta {saliency.delta:+.3f}, {saliency.seconds:.1f} s{' (cached)' if cached else ''} · "
        f"{saliency.model_version}"
    )


def render(rv: Reviewer, mention: Mention, view: MentionView, concept: Concept) -> None:
    """The expander: model and precision choice, compute button, and the cached or fresh heat map."""
    found = explainers(rv, mention, view, concept)
    with st.expander("Why this score? (word attributions)"):
        if not found:
            st.caption(
                "No transformer scores candidates here: load a `bel train` model directory with a reranker "
                "(retrieval.models_dir) or a generative linker to see which words drive its score."
            )
            return
        suffix = "-".join(map(str, mention.key))
        by_name = {e.name: e for e in found}
        name = found[0].name
        if len(found) > 1:
            name = st.radio("Model", list(by_name), horizontal=True, key=f"saliency-model-{suffix}") or name
        explainer = by_name[name]
        settings = get_settings().saliency
        steps = {"fast": settings.fast_steps, "precise": settings.precise_steps}
        choice = st.radio(
            "Precision",
            list(steps),
            format_func=lambda level: f"{level} ({steps[level]} steps)",
            horizontal=True,
            key=f"saliency-steps-{suffix}",
        )
        key = SaliencyKey.of(
            explainer.model_version,
            explainer.name,
            explainer.key_inputs,
            concept.concept_id,
            n_steps=steps[choice],
            max_length=explainer.max_length,
        )
        with rv.store() as session:
            saliency = saliency_cache.lookup(session, key)
        cached = saliency is not None
        if saliency is None and st.button(f"Explain the score of {md(concept.name)}", key="saliency-compute"):
            try:
                with st.spinner("Integrating gradients…"):
                    found_map = saliency_cache.get_or_compute(rv.store, key, lambda: explainer.compute(steps[choice]))
            except BelError as e:
                st.error(md(e))
                return
            saliency, cached = found_map.saliency, found_map.hit
        if saliency is None:
            st.caption("Computed on demand, then cached for everyone with this model and setting.")
            return
        st.caption(md(_summary(saliency, cached)))
        if saliency.truncated:
            st.warning("The input was cut at the model's max length: words after the cut are not shown shaded.")
        st.markdown(heatmap_html(saliency), unsafe_allow_html=True)
