"""Generator training pieces: vocabulary trimming, targets, memory in training prompts, padded batch loss."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bel_core.generate.model import load_generator
from bel_core.generate.prompts import STYLES
from bel_core.training.corpus import LabelledSplit
from bel_core.training.generator import (
    Example,
    GeneratorTrainConfig,
    _batch,
    batch_loss,
    build_examples,
    closest_name,
    trained_groups,
)
from bel_core.training.generator_model import trim_wordpiece
from bel_core.training.pairs import GoldMention
from bel_core.types import Document, Mention
from tests.core.tiny_generators import save_tiny_bart, save_tiny_llama

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory):
    return load_generator(str(save_tiny_llama(tmp_path_factory.mktemp("llama"))), device="cpu")


def test_trimmed_wordpiece_tokenizes_kept_texts_identically(tmp_path: Path) -> None:
    from transformers import BertTokenizer

    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *letters, *(f"##{c}" for c in letters)]
    vocab += ["seizure", "fever", "##ish", "cardiac", "arrest", "##ure"]
    path = tmp_path / "vocab.txt"
    path.write_text("".join(f"{t}\n" for t in vocab), encoding="utf-8")
    tokenizer = BertTokenizer(str(path), do_lower_case=True)
    trimmed, old_ids = trim_wordpiece(tokenizer, ["Seizures", "feverish"])
    kept = [vocab[i] for i in old_ids]
    assert "cardiac" not in kept and "##ure" not in kept and {"seizure", "fever", "##ish", "[SEP]", "z"} <= set(kept)
    for text in ("Seizures", "feverish"):
        assert trimmed.tokenize(text) == tokenizer.tokenize(text)
    assert "[UNK]" not in trimmed.tokenize("cardiac arrest")  # other words fall back to pieces
    assert trim_wordpiece(object(), ["x"]) is None  # type: ignore[arg-type]


def test_closest_name_is_the_most_similar_synonym(tiny_kb) -> None:
    assert closest_name(tiny_kb, "HP:0000365", "deafnes") == "Deafness"
    assert closest_name(tiny_kb, "HP:0001250", "epileptic seizures") == "Epileptic seizure"


def test_training_prompts_carry_earlier_gold_links_of_the_document(llama, tiny_kb) -> None:
    text = "Fits at birth. Later fits and deafness."
    spans = [(0, 4, "HP:0001250"), (21, 25, "HP:0001250"), (30, 38, "HP:0000365")]
    golds = tuple(GoldMention(Mention("d", s, e, text[s:e], "Disease"), text, (cid,)) for s, e, cid in reversed(spans))
    split = LabelledSplit(golds, {"d": Document("d", text)})
    config = GeneratorTrainConfig(out=Path("unused"), memory_dropout=0.0)
    examples = build_examples(split, tiny_kb, llama, STYLES["longbel"], config)
    prompts = [llama.tokenizer.decode(list(e.prompt_ids[1:])) for e in examples]
    assert "memory" not in prompts[0] and "fits = fits" in prompts[1]  # closest name of "Fits" is "Fits"
    assert "fits = fits ; fits = fits" in prompts[2]
    assert [e.target_ids for e in examples][2] == llama.target_token_ids("Deafness")
    synthetic = LabelledSplit(
        (GoldMention(replace(golds[0].mention, label="synthetic:typo"), text, golds[0].gold_ids),)
    )
    [example] = build_examples(synthetic, tiny_kb, llama, STYLES["syncabel"], config)
    assert "{ entity }" in llama.tokenizer.decode(list(example.prompt_ids[1:]))  # the variant is not shown
    assert trained_groups(split.merged(synthetic)) == ("Disease",)
    short = build_examples(
        split, tiny_kb, llama, STYLES["longbel"], GeneratorTrainConfig(out=Path("x"), max_prompt_tokens=12)
    )
    assert all(len(e.prompt_ids) <= 12 and e.prompt_ids[0] == examples[0].prompt_ids[0] for e in short)


@pytest.mark.parametrize("kind", ["llama", "bart"])
def test_padded_batch_loss_equals_the_mean_of_single_example_losses(kind: str, tmp_path: Path) -> None:
    folder = (save_tiny_llama if kind == "llama" else save_tiny_bart)(tmp_path / kind)
    generator = load_generator(str(folder), device="cpu")
    pairs = [("the child had fits ->", "seizure"), ("a long prompt about hearing loss in the family ->", "deafness")]
    examples = [Example(tuple(generator.prompt_token_ids(p)[0]), generator.target_token_ids(t)) for p, t in pairs]
    with torch.no_grad():
        batched = float(batch_loss(generator, _batch(examples, generator)))
        singles = [float(batch_loss(generator, _batch([e], generator))) for e in examples]
    lengths = [len(e.target_ids) for e in examples]
    assert batched == pytest.approx(sum(s * n for s, n in zip(singles, lengths, strict=True)) / sum(lengths), rel=1e-4)
