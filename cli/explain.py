"""``bel explain``: why a model scored one (mention, concept) pair, as word attributions in JSON.

Example::

    bel explain NCBIdevelopset_corpus.txt --kb medic:CTD_diseases.tsv.gz --models models/ncbi \\
        --doc-id 9949209 --start 29 --end 49 --candidate D003924 --out saliency.json

``--models`` is a ``bel train`` model directory (its manifest names the cross-encoder, even
when the linker does not rerank with it) or, for ``--linker reranker``, a cross-encoder
folder itself. The JSON holds the words of the input with their attributions, the score
explained, IG's convergence delta and the model version (``bel_core.explain.saliency``).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from bel_core.errors import InputFormatError, ModelUnavailableError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.types import Concept, Document, Mention
from cli.common import read_inputs, settings_from_args

logger = logging.getLogger("bel")
DEFAULT_CONTEXT_CHARS = 256  # LinkOptions' default, for a bare cross-encoder folder


def register(sub: Any) -> None:
    """Add ``explain`` to the ``bel`` parser."""
    p = sub.add_parser("explain", help="token attributions (Integrated Gradients) for one mention and candidate")
    p.add_argument("corpus", help="PubTator file holding the document")
    p.add_argument("--kb", help="'hpo', medic:PATH, obo:PATH, or a KB file (.jsonl, ID||name...)")
    p.add_argument("--models", required=True, help="`bel train` model directory, or a cross-encoder folder")
    p.add_argument("--doc-id", required=True)
    p.add_argument("--start", type=int, required=True, help="mention start (character offset in title + abstract)")
    p.add_argument("--end", type=int, required=True, help="mention end (exclusive)")
    p.add_argument("--candidate", required=True, help="concept id whose score is explained")
    p.add_argument("--linker", default="reranker", choices=["reranker", "generator"])
    p.add_argument("--steps", type=int, help="IG steps (default: the settings' saliency.precise_steps)")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.set_defaults(func=cmd_explain)


def _find_mention(corpus: str, doc_id: str, start: int, end: int) -> tuple[Document, Mention]:
    """The document and the span asked for; any span inside the text is allowed, annotated or not."""
    parsed = read_inputs([corpus], max_bytes=2**40)
    documents = {d.doc_id: d for d in parsed.documents}
    document = documents.get(doc_id)
    if document is None:
        some = ", ".join(list(documents)[:5])
        raise InputFormatError(corpus, f"no document with id {doc_id!r} ({len(documents)} documents, e.g. {some})")
    if not 0 <= start < end <= len(document.text):
        raise InputFormatError(
            corpus, f"span {start}-{end} is not inside document {doc_id} (0-{len(document.text)}); need start < end"
        )
    annotated = next((m for m in parsed.mentions if (m.doc_id, m.start, m.end) == (doc_id, start, end)), None)
    return document, annotated or Mention(doc_id, start, end, document.text[start:end])


def _explain_reranker(
    models: Path, kb: KnowledgeBase, document: Document, mention: Mention, concept: Concept, steps: int, max_len: int
) -> dict[str, Any]:
    from bel_core.explain.saliency import explain_pair, pair_texts
    from bel_core.rerank.cross_encoder import CrossEncoderReranker
    from bel_core.runtime.model_dir import MANIFEST, check_kb, component_path, read_manifest

    context_chars, folder, stored_max = DEFAULT_CONTEXT_CHARS, models, None
    if (models / MANIFEST).is_file():
        manifest = read_manifest(models)
        check_kb(manifest, kb, models)
        found = component_path(models, manifest, "reranker")
        if found is None:
            raise ModelUnavailableError(f"{models} has no reranker component; train one with `bel train`")
        folder = found
        context_chars = int(manifest.linker.get("context_chars", DEFAULT_CONTEXT_CHARS))
        stored_max = manifest.linker.get("reranker_max_length")
    reranker = CrossEncoderReranker.load(str(folder), max_length=stored_max)  # never quantized: IG needs gradients
    left, right = pair_texts(mention, document, concept, context_chars=context_chars)
    return explain_pair(reranker, left, right, n_steps=steps, max_length=max_len or None).to_json()


def _explain_generator(
    models: Path, kb: KnowledgeBase, document: Document, mention: Mention, concept: Concept, steps: int
) -> dict[str, Any]:
    from bel_core.explain.saliency import explain_generation
    from bel_core.generate.linker import GenerativeLinker

    linker = GenerativeLinker.from_model_dir(models, kb)
    # The beam that produced this concept (it may be a synonym); its preferred name when no beam did.
    result = linker.link([mention], documents={document.doc_id: document})[0]
    beam = next((c.matched_alias for c in result.candidates if c.concept_id == concept.concept_id), "")
    prompt = linker.prompt_for(mention, document)
    return explain_generation(linker.generator, prompt, beam or concept.name, n_steps=steps).to_json()


def cmd_explain(args: argparse.Namespace) -> int:
    """Compute the attributions, write the JSON, print the most influential words."""
    from bel_core.linking.builder import load_settings_kb

    settings = settings_from_args(args)
    document, mention = _find_mention(args.corpus, args.doc_id, args.start, args.end)
    kb = load_settings_kb(settings)
    concept = kb.get(args.candidate.strip())  # UnknownConceptError (exit 2) names the id
    steps = args.steps or settings.saliency.precise_steps
    if steps < 1:
        raise InputFormatError("--steps", f"must be >= 1, got {steps}")
    models = Path(args.models).expanduser()
    if not models.is_dir():
        raise ModelUnavailableError(f"Model directory {models} does not exist")
    if args.linker == "reranker":
        payload = _explain_reranker(models, kb, document, mention, concept, steps, settings.saliency.max_length)
    else:
        payload = _explain_generator(models, kb, document, mention, concept, steps)
    payload = {
        "doc_id": mention.doc_id,
        "start": mention.start,
        "end": mention.end,
        "mention": mention.text,
        "concept_id": concept.concept_id,
        "concept_name": concept.name,
        **payload,
    }
    Path(args.out).write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    top = sorted(payload["words"], key=lambda w: -abs(w["attribution"]))[:5]
    print(
        f"{payload['explained']} {payload['output']:.4f} (score {payload['score']:.4f}; baseline "
        f"{payload['baseline_output']:.4f}; delta {payload['delta']:.4f}; {steps} steps) "
        f"by {payload['model_version']} -> {args.out}\n"
        "most influential words: " + ", ".join(f"{w['text']!r} {w['attribution']:+.3f}" for w in top)
    )
    return 0
