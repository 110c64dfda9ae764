"""The generative linker: prompt -> constrained beam search over KB names -> ranked concepts.

Per mention: the prompt (``prompts.py``) carries its context, marked span, group and, in a
document, the names linked to earlier mentions (memory); the beam search (``decode.py``)
writes KB names, restricted through a trie (``trie.py``) to the concepts of the mention's
group when its label is a KB type; each beam's name maps to its concept id(s).

Probabilities: a softmax over the beams' summed log-probs; names of one concept add up, a
name shared by several concepts splits its mass; unconstrained beams that are not KB names
(``NO_CODE``) make up ``nil_probability``. ``raw_score`` is that probability and, when the
model directory has one, ``calibrated_score`` is the temperature + bucket-offset calibration
(``calibrate_margin``) of its logit, fitted on a dev split by ``bel train``.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bel_core.calibrate.margin import MarginCalibrator, margin_calibrator_from_json
from bel_core.errors import ModelUnavailableError
from bel_core.generate.decode import Beam, beam_search
from bel_core.generate.model import GeneratorModel, load_generator
from bel_core.generate.prompts import PromptStyle, build_prompt, prompt_style
from bel_core.generate.trie import NameTrie, build_trie
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.runtime.model_dir import check_kb, component_path, read_manifest
from bel_core.text import normalize
from bel_core.types import Candidate, Concept, Decision, Document, LinkResult, Mention

logger = logging.getLogger(__name__)

NO_CODE = "NO_CODE"  # SynCABEL's code for a generated name that is not in the KB
STAGE = "generator"


@dataclass(frozen=True, slots=True)
class GeneratorOptions:
    """Decoding options (recorded in the manifest's ``linker`` block).

    Attributes:
        num_beams: beams per mention (= candidates before merging names of one concept).
        constrained: decode only KB names (else free text, ``NO_CODE`` when not a KB name).
        max_new_tokens: longest generated name in tokens (unconstrained mode).
        restrict_groups: restrict the trie to the mention label's concepts when the label is a KB type.
    """

    num_beams: int = 5
    constrained: bool = True
    max_new_tokens: int = 48
    restrict_groups: bool = True

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GeneratorOptions:
        """Options from a manifest ``linker`` block (missing keys keep their defaults)."""
        return cls(
            num_beams=int(data.get("num_beams", 5)),
            constrained=bool(data.get("constrained", True)),
            max_new_tokens=int(data.get("max_new_tokens", 48)),
            restrict_groups=bool(data.get("restrict_groups", True)),
        )


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


class GenerativeLinker:
    """Links mentions by generating KB names; satisfies the ``bel_core.linking.pipeline.Linker`` protocol.

    Thread-safe for linking (Streamlit sessions share one instance): decoding holds a lock.
    """

    def __init__(
        self,
        generator: GeneratorModel,
        kb: KnowledgeBase,
        *,
        style: PromptStyle,
        options: GeneratorOptions | None = None,
        calibrator: MarginCalibrator | None = None,
    ) -> None:
        self.generator = generator
        self.kb = kb
        self.style = style
        self.options = options or GeneratorOptions()
        self.calibrator = calibrator
        self.kb_version = f"{kb.name}:{kb.version}:{kb.fingerprint[:12]}"
        self._types = {t for concept in kb for t in concept.types}
        self._names: dict[str, list[str]] = {}  # normalised name -> concept ids (unconstrained lookup)
        for alias, cid in kb.aliases():
            self._names.setdefault(normalize(alias), []).append(cid)
        self._tries: dict[str | None, NameTrie] = {}
        self._lock = threading.Lock()
        self._matcher: Any = None

    @property
    def model_version(self) -> str:
        """Generator weights, prompt style, decoding mode and calibration (stored with each link run)."""
        mode = "constrained" if self.options.constrained else "free"
        calibrated = f"+cal{self.calibrator.n_fit}" if self.calibrator is not None else ""
        return f"gen:{self.generator.version}:{self.style.name}:{mode}:b{self.options.num_beams}{calibrated}"

    def _trie(self, group: str | None) -> NameTrie:
        if group not in self._tries:
            self.generator.prefetch_targets([alias for alias, _ in self.kb.aliases()])
            groups = None if group is None else [group]
            self._tries[group] = build_trie(self.kb, self.generator.target_token_ids, groups=groups)
            logger.info("Name trie for %s: %d names", group or "all concepts", len(self._tries[group]))
        return self._tries[group]

    def group_of(self, mention: Mention) -> str | None:
        """The KB type that restricts a mention's candidates: its label when that is a KB type, else None."""
        if self.options.restrict_groups and mention.label in self._types:
            return mention.label
        return None

    def prompt_for(self, mention: Mention, document: Document | None, memory: Sequence[tuple[str, str]] = ()) -> str:
        """The prompt the generator sees for ``mention`` (memory: earlier (mention, name) pairs of its document)."""
        return build_prompt(self.style, mention, document, memory)

    def beams(self, mention: Mention, document: Document | None, memory: Sequence[tuple[str, str]] = ()) -> list[Beam]:
        """Raw beams for one mention (best first)."""
        prompt = self.prompt_for(mention, document, memory)
        with self._lock:  # fast tokenizers refuse concurrent use; the trie cache is shared between sessions
            prompt_ids, _ = self.generator.prompt_token_ids(prompt)
            trie = self._trie(self.group_of(mention)) if self.options.constrained else None
            return beam_search(
                self.generator,
                prompt_ids,
                num_beams=self.options.num_beams,
                max_new_tokens=self.options.max_new_tokens,
                trie=trie,
            )

    def _beam_names(self, beam: Beam, trie: NameTrie | None) -> tuple[str, list[str]]:
        """(name written, concept ids it names); no ids: ``NO_CODE``."""
        if trie is not None:
            pairs = trie.names_at(beam.token_ids)
            return pairs[0][0], [cid for _, cid in pairs]
        text = str(self.generator.tokenizer.decode(list(beam.token_ids), skip_special_tokens=True)).strip()
        return text, list(self._names.get(normalize(text), []))

    def rank(self, mention: Mention, beams: Sequence[Beam]) -> tuple[list[Candidate], float | None]:
        """Beams -> candidates (names merged per concept, best first) and the NO_CODE mass (None if constrained)."""
        if not beams:
            return [], (1.0 if not self.options.constrained else None)
        trie = self._trie(self.group_of(mention)) if self.options.constrained else None
        top = max(b.logprob for b in beams)
        weights = [math.exp(b.logprob - top) for b in beams]
        total = sum(weights)
        mass: dict[str, float] = {}
        best: dict[str, tuple[str, float]] = {}  # concept -> (its best beam's name, logprob)
        nil = 0.0
        for beam, weight in zip(beams, weights, strict=True):
            name, ids = self._beam_names(beam, trie)
            p = weight / total
            if not ids:
                nil += p
                continue
            for cid in ids:
                mass[cid] = mass.get(cid, 0.0) + p / len(ids)
                best.setdefault(cid, (name, beam.logprob))
        order = sorted(mass, key=lambda c: -mass[c])
        calibrated = self.calibrator.predict([_logit(mass[c]) for c in order]) if self.calibrator and order else None
        candidates = [
            Candidate(
                concept_id=cid,
                name=self.kb.get(cid).name,
                matched_alias=best[cid][0],
                stage=STAGE,
                raw_score=mass[cid],
                calibrated_score=None if calibrated is None else float(calibrated[i]),
                stage_scores=((STAGE, best[cid][1]),),
            )
            for i, cid in enumerate(order)
        ]
        return candidates, (None if self.options.constrained else nil)

    def link(
        self,
        mentions: Sequence[Mention],
        *,
        documents: Mapping[str, Document] | None = None,
        decisions: Sequence[Decision] = (),
    ) -> list[LinkResult]:
        """Link mentions in document order, each seeing its document's earlier links as memory.

        Memory holds the top candidate's name of each earlier mention or, when a curator decided
        that mention (``decisions``, latest wins), the decided concept's name. Results come back
        in the order of ``mentions``.
        """
        docs = documents or {}
        decided = {d.mention_key: d for d in decisions}
        order = sorted(range(len(mentions)), key=lambda i: (mentions[i].doc_id, mentions[i].start, mentions[i].end))
        memory: dict[str, list[tuple[str, str]]] = {}
        out: list[LinkResult | None] = [None] * len(mentions)
        for i in order:
            mention = mentions[i]
            earlier = memory.setdefault(mention.doc_id, [])
            candidates, nil = self.rank(mention, self.beams(mention, docs.get(mention.doc_id), earlier))
            out[i] = LinkResult(mention, tuple(candidates), self.model_version, self.kb_version, nil)
            decision = decided.get(mention.key)
            if decision is not None and decision.concept_ids and decision.concept_ids[0] in self.kb:
                earlier.append((mention.text, self.kb.get(decision.concept_ids[0]).name))
            elif candidates and self.style.max_memory:
                earlier.append((mention.text, candidates[0].matched_alias))
        return [r for r in out if r is not None]

    def detect(self, document: Document) -> list[Mention]:
        """Dictionary detection over the KB names (the generator links, it does not find spans)."""
        from bel_core.linking.detect import DictionaryMatcher

        if self._matcher is None:
            self._matcher = DictionaryMatcher.from_kb(self.kb)
        return list(self._matcher.detect(document))

    def search_kb(self, query: str, limit: int = 20) -> list[Concept]:
        """KB search by id or name (for curators correcting a link)."""
        return self.kb.search(query, limit=limit)

    def concept(self, concept_id: str) -> Concept:
        """The concept for an id or alt id; raises ``UnknownConceptError``."""
        return self.kb.get(concept_id)

    @classmethod
    def from_pretrained(
        cls,
        path_or_id: str,
        kb: KnowledgeBase,
        *,
        style: str = "syncabel",
        revision: str | None = None,
        options: GeneratorOptions | None = None,
        device: str | None = None,
    ) -> GenerativeLinker:
        """An uncalibrated linker over any generator folder or cached HF id (``AnonymousARR42/SynCABEL_SPACCC``)."""
        generator = load_generator(path_or_id, revision, device=device)
        return cls(generator, kb, style=prompt_style(style), options=options)

    @classmethod
    def from_model_dir(cls, model_dir: Path, kb: KnowledgeBase, *, device: str | None = None) -> GenerativeLinker:
        """The linker a ``bel train --linker generator`` directory describes, over the KB it was trained for.

        The manifest's ``linker`` block gives the prompt style (and template overrides), the decoding
        options and, for a published checkpoint used as is, ``model``/``revision`` instead of a
        ``generator`` component.

        Raises:
            ModelUnavailableError: not a generator directory, another KB, or the model cannot be loaded.
        """
        manifest = read_manifest(model_dir)
        if manifest.linker_kind != "generator":
            raise ModelUnavailableError(
                f"{model_dir} holds a {manifest.linker_kind} linker, not a generator; "
                "use --linker retriever or train one with `bel train --linker generator`"
            )
        check_kb(manifest, kb, model_dir)
        linker = manifest.linker
        folder = component_path(model_dir, manifest, "generator")
        source = str(folder) if folder is not None else linker.get("model")
        if not source:
            raise ModelUnavailableError(f"{model_dir}: the manifest names no generator component and no model id")
        generator = load_generator(str(source), linker.get("revision"), device=device)
        calibration = component_path(model_dir, manifest, "calibration")
        calibrator = None
        if calibration is not None:
            calibrator = margin_calibrator_from_json(json.loads(calibration.read_text(encoding="utf-8")))
        style = prompt_style(str(linker.get("prompt_style", "syncabel")), linker.get("prompt"))
        return cls(generator, kb, style=style, options=GeneratorOptions.from_json(linker), calibrator=calibrator)
