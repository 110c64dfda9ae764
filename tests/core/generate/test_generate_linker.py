"""GenerativeLinker: group-restricted constrained linking, name merging, memory, NO_CODE, prompts, calibration."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bel_core.errors import ConfigError, ModelUnavailableError
from bel_core.generate.decode import Beam
from bel_core.generate.evaluate import evaluate_linker, fit_calibration
from bel_core.generate.linker import NO_CODE, GenerativeLinker, GeneratorOptions
from bel_core.generate.model import load_generator
from bel_core.generate.prompts import STYLES, build_prompt, prompt_style
from bel_core.runtime.model_dir import KBIdentity, Manifest, write_manifest
from bel_core.types import Candidate, Document, LinkResult, Mention
from tests.core.tiny_generators import save_tiny_llama

torch = pytest.importorskip("torch")

NERVOUS = "Abnormality of the nervous system"
TEXT = "The girl had fits and ASD. Fits recurred later with hearing loss."


@pytest.fixture(scope="module")
def linker(tmp_path_factory: pytest.TempPathFactory, tiny_kb) -> GenerativeLinker:
    folder = save_tiny_llama(tmp_path_factory.mktemp("llama"))
    return GenerativeLinker(load_generator(str(folder), device="cpu"), tiny_kb, style=STYLES["longbel"])


def _mention(text: str, occurrence: int = 0, label: str | None = None) -> Mention:
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(text, start + 1)
    return Mention("d1", start, start + len(text), text, label)


def test_constrained_candidates_are_kb_concepts_of_the_mention_group(linker: GenerativeLinker, tiny_kb) -> None:
    document = Document("d1", TEXT)
    [result] = linker.link([_mention("fits", label=NERVOUS)], documents={"d1": document})
    assert result.candidates and result.nil_probability is None
    for candidate in result.candidates:
        concept = tiny_kb.get(candidate.concept_id)
        assert NERVOUS in concept.types and candidate.matched_alias in concept.names
        assert candidate.stage == "generator" and 0 < candidate.raw_score <= 1
    [free] = linker.link([_mention("fits", label="not a KB type")], documents={"d1": document})
    assert free.candidates  # an unknown label restricts nothing
    assert result.model_version.startswith("gen:llama") and result.kb_version.startswith("TinyHPO:")


def test_names_of_one_concept_merge_and_shared_names_split(linker: GenerativeLinker) -> None:
    tokens = linker.generator.target_token_ids
    beams = [
        Beam(tokens("Seizure"), math.log(0.4)),
        Beam(tokens("Fits"), math.log(0.2)),
        Beam(tokens("ASD"), math.log(0.3)),  # Atrial septal defect and Autistic behavior
        Beam(tokens("Seizures"), math.log(0.1)),
    ]
    candidates, nil = linker.rank(_mention("fits"), beams)
    scores = {c.concept_id: c.raw_score for c in candidates}
    assert scores == pytest.approx({"HP:0001250": 0.7, "HP:0001631": 0.15, "HP:0000729": 0.15})
    assert [c.concept_id for c in candidates][0] == "HP:0001250" and candidates[0].matched_alias == "Seizure"
    assert candidates[0].stage_scores == (("generator", pytest.approx(math.log(0.4))),)
    assert nil is None and candidates[0].calibrated_score is None


def test_beam_probabilities_merged_per_concept_sum_to_one(linker: GenerativeLinker) -> None:
    mention = _mention("fits", label=NERVOUS)
    beams = linker.beams(mention, Document("d1", TEXT))
    candidates, _ = linker.rank(mention, beams)
    assert len({c.concept_id for c in candidates}) == len(candidates) <= len(beams)
    assert sum(c.raw_score for c in candidates) == pytest.approx(1.0)


def test_unconstrained_names_outside_the_kb_are_no_code(linker: GenerativeLinker, monkeypatch) -> None:
    free = GenerativeLinker(
        linker.generator, linker.kb, style=linker.style, options=GeneratorOptions(constrained=False)
    )
    tokens = free.generator.target_token_ids
    beams = [Beam(tokens("febrile convulsion"), math.log(0.5)), Beam(tokens("seizure"), math.log(0.25))]
    candidates, nil = free.rank(_mention("fits"), [*beams, Beam(tokens("tonic fits"), math.log(0.25))])
    assert [c.concept_id for c in candidates] == ["HP:0001250"]  # "seizure" is a KB name (any case)
    assert candidates[0].raw_score == pytest.approx(0.25) and nil == pytest.approx(0.75)
    assert NO_CODE == "NO_CODE" and free.rank(_mention("fits"), []) == ([], 1.0)
    monkeypatch.setattr(free, "beams", lambda *a: [Beam(tokens("febrile convulsion"), -0.1)])
    [result] = free.link([_mention("fits")], documents={"d1": Document("d1", TEXT)})
    assert result.candidates == () and result.nil_probability == pytest.approx(1.0)
    assert ":free:" in result.model_version


def test_memory_changes_the_prompt_and_carries_earlier_links(linker: GenerativeLinker, monkeypatch) -> None:
    document = Document("d1", TEXT)
    first, second = _mention("fits"), _mention("Fits")
    alone = linker.prompt_for(second, document)
    remembered = linker.prompt_for(second, document, [("fits", "Seizure")])
    assert alone != remembered and "fits = Seizure" in remembered and "[Fits]{ENTITY}" in remembered
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    original = linker.beams

    def spy(mention: Mention, doc: Document | None, memory=()) -> list[Beam]:
        seen.append((mention.text, list(memory)))
        return original(mention, doc, memory)

    monkeypatch.setattr(linker, "beams", spy)
    results = linker.link([second, first], documents={"d1": document})  # linked in document order, returned as given
    assert [r.mention for r in results] == [second, first]
    assert seen[0] == ("fits", []) and seen[1] == ("Fits", [("fits", results[1].candidates[0].matched_alias)])


def test_prompt_styles_mark_the_mention_and_can_be_overridden() -> None:
    document = Document("d1", TEXT)
    mention = _mention("ASD", label="Disorders")
    syncabel = build_prompt(STYLES["syncabel"], mention, document, [("fits", "Seizure")])
    assert "The girl had fits and [ASD]{Disorders}. Fits recurred" in syncabel
    assert "Seizure" not in syncabel  # the sentence style has no memory
    assert build_prompt(STYLES["syncabel"], mention, None) == "[ASD]{Disorders}\nASD ->"
    custom = prompt_style("longbel", {"template": "<{group}> {text} =>", "context_chars": 20})
    assert build_prompt(custom, mention, document) == "<Disorders> and [ASD]{Disorders}. Fits =>"  # words kept whole
    trained_on = prompt_style("syncabel", {"groups": ["Disorders"]})  # as read back from manifest JSON
    assert trained_on.groups == ("Disorders",) and "[ASD]{Disorders}" in build_prompt(trained_on, mention, None)
    other = Mention("d1", mention.start, mention.end, "ASD", "Chemicals")
    assert "[ASD]{ENTITY}" in build_prompt(trained_on, other, None)  # a label the model never saw
    assert "[ASD]{ENTITY}" in build_prompt(prompt_style("syncabel", {"groups": []}), mention, None)
    with pytest.raises(ConfigError, match="Unknown prompt style"):
        prompt_style("genre")
    with pytest.raises(ConfigError, match="fields"):
        prompt_style("longbel", {"colour": "red"})


def test_calibration_is_fitted_on_every_dev_candidate(linker: GenerativeLinker) -> None:
    mention = _mention("fits")
    right = [Candidate(f"C{i}", "n", "n", "generator", p) for i, p in enumerate((0.9, 0.1))]
    results = [LinkResult(mention, tuple(right), "v", "kb") for _ in range(30)]
    gold = [["C0"] if i % 5 else ["C1"] for i in range(30)]
    calibrator, report = fit_calibration(results, gold)
    assert calibrator is not None and report["n_fit"] == 60 and report["temperature"] > 0
    assert fit_calibration(results[:2], [["X"], ["X"]]) == (None, {"skipped": "dev candidates are all wrong"})
    document = Document("d1", TEXT)
    mentions = [_mention("fits"), _mention("ASD"), _mention("hearing loss")]
    gold_ids = [["HP:0001250"], ["HP:0001631"], ["HP:0000365"]]
    fresh = GenerativeLinker(linker.generator, linker.kb, style=linker.style)
    calibrated, figures = evaluate_linker(fresh, mentions, gold_ids, {"d1": document}, fit=True)
    assert figures["n"] == 3 and 0 <= figures["acc@1"] <= figures["acc@5"] <= 1 and "calibration" in figures
    if fresh.calibrator is not None:
        assert all(c.calibrated_score is not None for r in calibrated for c in r.candidates)
        assert "+cal" in calibrated[0].model_version


def test_from_model_dir_loads_a_generator_dir_and_refuses_others(
    linker: GenerativeLinker, tiny_kb, tmp_path: Path
) -> None:
    folder = save_tiny_llama(tmp_path / "m" / "generator")
    manifest = Manifest(
        kb=KBIdentity.of(tiny_kb),
        components={"generator": "generator"},
        linker={"prompt_style": "syncabel", "prompt": {"context_chars": 50}, "num_beams": 3, "constrained": False},
        linker_kind="generator",
    )
    write_manifest(tmp_path / "m", manifest)
    loaded = GenerativeLinker.from_model_dir(tmp_path / "m", tiny_kb, device="cpu")
    assert loaded.style.name == "syncabel" and loaded.style.context_chars == 50
    assert loaded.options == GeneratorOptions(num_beams=3, constrained=False) and loaded.calibrator is None
    assert folder.name in loaded.model_version
    write_manifest(tmp_path / "r", Manifest(kb=KBIdentity.of(tiny_kb)))
    with pytest.raises(ModelUnavailableError, match="retriever linker, not a generator"):
        GenerativeLinker.from_model_dir(tmp_path / "r", tiny_kb)
