"""Generator wrapper, name trie and beam search on tiny random Llama, GPT-2 and BART models."""

from __future__ import annotations

from pathlib import Path

import pytest

from bel_core.generate.decode import beam_search
from bel_core.generate.model import GeneratorModel, load_generator
from bel_core.generate.trie import NameTrie, build_trie
from tests.core.tiny_generators import save_tiny_bart, save_tiny_gpt2, save_tiny_llama

torch = pytest.importorskip("torch")

NAMES = ["seizure", "seizures", "febrile seizure", "ataxia", "atrial septal defect", "short stature"]
PROMPT = "The child had [fits]{Disease} at night.\nfits ->"


@pytest.fixture(scope="module", params=["llama", "gpt2", "bart"])
def generator(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> GeneratorModel:
    folder = tmp_path_factory.mktemp(request.param)
    save = {"llama": save_tiny_llama, "gpt2": lambda p: save_tiny_gpt2(p, NAMES), "bart": save_tiny_bart}
    return load_generator(str(save[request.param](folder)), device="cpu")


def _trie(generator: GeneratorModel, names: list[str]) -> NameTrie:
    trie = NameTrie()
    for i, name in enumerate(names):
        trie.add(generator.target_token_ids(name), name, f"C{i}")
    return trie


def test_trie_allows_only_continuations_of_names() -> None:
    trie = NameTrie()
    trie.add([5, 6, 2], "ab", "C1")
    trie.add([5, 7, 2], "ac", "C2")
    trie.add([5, 7, 2], "ac", "C3")  # one name, two concepts
    assert sorted(trie.allowed([])) == [5] and sorted(trie.allowed([5])) == [6, 7]
    assert trie.allowed([9]) == [] and trie.allowed([5, 6, 2]) == []
    assert trie.names_at([5, 7, 2]) == [("ac", "C2"), ("ac", "C3")] and trie.names_at([5, 7]) == []
    assert len(trie) == 3


def test_build_trie_keeps_the_concepts_of_the_wanted_groups(tiny_kb) -> None:
    ears = build_trie(tiny_kb, lambda name: [*name.encode(), 0], groups=["Abnormality of the ear"])
    assert len(ears) == 4  # Hearing impairment and its three synonyms
    assert ears.names_at([*b"Deafness", 0]) == [("Deafness", "HP:0000365")]
    assert ears.names_at([*b"Seizure", 0]) == []
    everything = build_trie(tiny_kb, lambda name: [*name.encode(), 0])
    assert len(everything) == len(tiny_kb.aliases())


def test_version_is_the_folder_and_a_weights_digest(generator: GeneratorModel) -> None:
    name, _, digest = generator.version.partition("@")
    assert name in {"llama", "gpt2", "bart"} or name.startswith(("llama", "gpt2", "bart"))
    assert len(digest) == 12 and not generator.model.training


def test_constrained_beams_are_complete_names_best_first(generator: GeneratorModel) -> None:
    trie = _trie(generator, NAMES)
    prompt_ids, _ = generator.prompt_token_ids(PROMPT)
    beams = beam_search(generator, prompt_ids, num_beams=4, trie=trie)
    assert len(beams) == 4
    assert all(trie.names_at(b.token_ids) for b in beams)
    scores = [b.logprob for b in beams]
    assert scores == sorted(scores, reverse=True) and all(s <= 0 for s in scores)
    # the constrained distribution sums to one over the names: the beams' mass cannot exceed it
    assert sum(torch.tensor(scores).exp().tolist()) <= 1 + 1e-5
    everything = beam_search(generator, prompt_ids, num_beams=len(NAMES) + 3, trie=trie)
    assert len(everything) == len(NAMES)  # fewer names than beams: each name once
    assert sum(torch.tensor([b.logprob for b in everything]).exp().tolist()) == pytest.approx(1.0, abs=1e-4)


def _full_forward_score(generator: GeneratorModel, prompt: str, tokens: tuple[int, ...], trie: NameTrie) -> float:
    """The constrained log-prob of ``tokens`` recomputed without a KV cache, one full forward pass."""
    prompt_ids, _ = generator.prompt_token_ids(prompt)
    with torch.inference_mode():
        if generator.is_seq2seq:
            decoder = torch.tensor([generator.decoder_start_ids() + list(tokens[:-1])])
            logits = generator.model(input_ids=torch.tensor([prompt_ids]), decoder_input_ids=decoder).logits[0]
        else:
            ids = torch.tensor([prompt_ids + list(tokens)])
            logits = generator.model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1]
    total = 0.0
    for step, token in enumerate(tokens):
        allowed = trie.allowed(tokens[:step])
        total += float(torch.log_softmax(logits[step, allowed].float(), -1)[allowed.index(token)])
    return total


def test_beam_scores_with_kv_cache_match_a_full_forward_pass(generator: GeneratorModel) -> None:
    trie = _trie(generator, NAMES)
    prompt_ids, _ = generator.prompt_token_ids(PROMPT)
    for beam in beam_search(generator, prompt_ids, num_beams=3, trie=trie):
        assert beam.logprob == pytest.approx(_full_forward_score(generator, PROMPT, beam.token_ids, trie), abs=1e-4)


def test_beam_search_needs_a_beam(generator: GeneratorModel) -> None:
    with pytest.raises(ValueError, match="num_beams"):
        beam_search(generator, generator.prompt_token_ids(PROMPT)[0], num_beams=0)


def test_encode_and_target_logprob_follow_the_contract(generator: GeneratorModel) -> None:
    encoded = generator.encode(PROMPT, "febrile seizure")
    start, end = encoded.prompt_positions
    bare = generator.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    assert encoded.input_ids[0, start:end].tolist() == bare[: end - start] and end - start == len(bare)
    assert (encoded.decoder_input_ids is not None) is generator.is_seq2seq
    assert encoded.attention_mask.shape == encoded.input_ids.shape and encoded.target_text == "febrile seizure"
    batch = encoded.input_ids.expand(3, -1).clone()
    batch[1, start] = generator.pad_id  # a perturbed copy scores differently
    scores = generator.target_logprob(batch, encoded).detach()
    assert scores.shape == (3,) and torch.all(scores < 0)
    assert scores[0] == pytest.approx(float(scores[2])) and float(scores[0]) != pytest.approx(float(scores[1]))
    embeddings = generator.prompt_embeddings()
    captured: list[torch.Tensor] = []

    def keep(_module: object, _inputs: object, out: torch.Tensor) -> None:
        out.retain_grad()
        captured.append(out)

    handle = embeddings.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            generator.target_logprob(encoded.input_ids, encoded).sum().backward()
    finally:
        handle.remove()
        generator.model.zero_grad()
    assert captured[0].grad is not None and float(captured[0].grad[0, start:end].abs().sum()) > 0


def test_load_generator_refuses_a_missing_folder(tmp_path: Path) -> None:
    from bel_core.errors import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="does not exist"):
        load_generator(str(tmp_path / "absent"))
