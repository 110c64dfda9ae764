"""Integrated-Gradients saliency: word merging, completeness, baselines, generator attribution.

Models are tiny random transformers saved to tmp_path: attributions mean nothing, but IG's
completeness (attributions sum to f(input) - f(baseline) up to the reported delta), the
baseline (only input words get attribution) and the word alignment are exact properties.
"""

from __future__ import annotations

import pytest

from bel_core.errors import ModelUnavailableError
from bel_core.explain.saliency import (
    Saliency,
    WordAttribution,
    explain_generation,
    explain_pair,
    merge_words,
    pair_texts,
)
from bel_core.rerank.cross_encoder import CrossEncoderReranker, serialize_left, serialize_right
from bel_core.types import Concept, Document, Mention
from tests.core.tiny_cross_encoder import save_tiny_cross_encoder
from tests.core.tiny_generators import save_tiny_bart, save_tiny_gpt2, save_tiny_llama

torch = pytest.importorskip("torch")
LEFT = serialize_left("fits", "The child had fits, and an ASD.")
RIGHT = serialize_right("Seizure", ["T047"])


def test_merge_words_joins_word_pieces_and_skips_special_tokens():
    text = "fits, ASD-like"
    # [CLS] fi ##ts , asd - like [SEP]: special tokens have empty spans
    offsets = [(0, 0), (0, 2), (2, 4), (4, 5), (6, 9), (9, 10), (10, 14), (0, 0)]
    scores = [9.0, 0.25, 0.5, -0.1, 1.0, 0.0, -2.0, 9.0]
    words = merge_words("left", text, offsets, scores)
    assert words == [
        WordAttribution("left", 0, 4, "fits", 0.75),
        WordAttribution("left", 4, 5, ",", -0.1),
        WordAttribution("left", 6, 9, "ASD", 1.0),
        WordAttribution("left", 9, 10, "-", 0.0),
        WordAttribution("left", 10, 14, "like", -2.0),
    ]


def test_merge_words_gives_a_leading_space_token_to_the_next_word_and_drops_uncovered_words():
    text = "short stature today"
    # BPE style: "short", " stat", "ure"; "today" was truncated away
    words = merge_words("prompt", text, [(0, 5), (5, 10), (10, 13)], [1.0, 0.5, 0.25])
    assert [(w.text, w.score) for w in words] == [("short", 1.0), ("stature", 0.75)]
    with pytest.raises(ValueError, match="2 offsets but 1 scores"):
        merge_words("x", text, [(0, 1), (1, 2)], [1.0])


def test_pair_texts_use_the_reranker_serialization():
    doc = Document("d", "The child had fits, and an ASD.")
    mention = Mention("d", 14, 18, "fits")
    concept = Concept("HP:1", "Seizure", types=("T047",))
    assert pair_texts(mention, doc, concept) == (LEFT, RIGHT)


@pytest.fixture(scope="module")
def reranker(tmp_path_factory: pytest.TempPathFactory) -> CrossEncoderReranker:
    folder = save_tiny_cross_encoder(tmp_path_factory.mktemp("ce"), num_labels=2)
    return CrossEncoderReranker.load(str(folder))


def test_explain_pair_is_complete_and_covers_every_word(reranker):
    saliency = explain_pair(reranker, LEFT, RIGHT, n_steps=128)
    assert saliency.output == pytest.approx(float(reranker.margins([LEFT], [RIGHT])[0]), abs=1e-4)
    assert saliency.score == pytest.approx(float(reranker.score_pairs([LEFT], [RIGHT])[0]), abs=1e-4)
    total = sum(w.score for w in saliency.words)
    # Completeness: the word attributions add up to f(input) - f(baseline), up to IG's delta.
    assert total - (saliency.output - saliency.baseline_output) == pytest.approx(saliency.delta, abs=1e-4)
    assert abs(saliency.delta) < 0.02 * max(1.0, abs(saliency.output - saliency.baseline_output))
    expected = {
        "left": ["mention", ":", "fits", ";", "context", ":", *"The child had fits , and an ASD .".split()],
        "right": ["candidate", ":", "Seizure", ";", "tuis", ":", "T047"],
    }
    for segment, text in (("left", LEFT), ("right", RIGHT)):
        words = saliency.segment_words(segment)
        assert [w.text for w in words] == expected[segment]
        assert all(text[w.start : w.end] == w.text for w in words)
    assert not saliency.truncated and saliency.linker == "reranker" and saliency.explained == "margin"


def test_fewer_steps_converge_less_and_truncation_is_reported(reranker):
    coarse = explain_pair(reranker, LEFT, RIGHT, n_steps=2)
    fine = explain_pair(reranker, LEFT, RIGHT, n_steps=64)
    assert abs(fine.delta) < abs(coarse.delta)
    short = explain_pair(reranker, LEFT, RIGHT, n_steps=2, max_length=30)
    assert short.truncated
    assert short.output != pytest.approx(coarse.output)  # a truncated input is another input


def test_payload_round_trips_through_json(reranker):
    import json

    saliency = explain_pair(reranker, LEFT, RIGHT, n_steps=4)
    assert Saliency.from_json(json.loads(json.dumps(saliency.to_json()))) == saliency
    with pytest.raises(ValueError, match="format"):
        Saliency.from_json({**saliency.to_json(), "format": "old"})


def test_quantized_reranker_is_refused(tmp_path):
    reranker = CrossEncoderReranker.load(str(save_tiny_cross_encoder(tmp_path, num_labels=1)), quantize=True)
    with pytest.raises(ModelUnavailableError, match="quantized"):
        explain_pair(reranker, LEFT, RIGHT)


@pytest.mark.parametrize("kind", ["llama", "gpt2-bpe", "bart"])
def test_explain_generation_attributes_the_beam_to_prompt_words_only(tmp_path, kind):
    from bel_core.generate.model import load_generator

    if kind == "gpt2-bpe":  # byte-level BPE: tokens carry their leading space
        folder = save_tiny_gpt2(tmp_path, ["seizure", "fits in a child"])
    else:
        folder = (save_tiny_llama if kind == "llama" else save_tiny_bart)(tmp_path)
    generator = load_generator(str(folder), device="cpu")
    prompt = "fits in a child"
    saliency = explain_generation(generator, prompt, "seizure", n_steps=8)
    encoded = generator.encode(prompt, "seizure")
    with torch.no_grad():
        expected = float(generator.target_logprob(encoded.input_ids, encoded)[0])
    assert saliency.output == pytest.approx(expected, abs=1e-4)
    assert saliency.score == pytest.approx(torch.tensor(expected).exp().item(), rel=1e-4)
    assert [w.text for w in saliency.words] == ["fits", "in", "a", "child"]
    assert {w.segment for w in saliency.words} == {"prompt"}
    total = sum(w.score for w in saliency.words)
    assert total - (saliency.output - saliency.baseline_output) == pytest.approx(saliency.delta, abs=1e-4)
    # No bound on delta itself: these models (initializer range 0.5) are far from linear.
    assert saliency.segments == {"prompt": prompt, "target": "seizure"} and saliency.explained == "log_prob"
