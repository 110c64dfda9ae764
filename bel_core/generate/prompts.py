"""Prompt styles of the generative linker: SynCABEL sentences and LongBEL documents with memory.

What the published checkpoints expect (from their model cards, /work/shared/seeds/001 and 003):

- ``AnonymousARR42/SynCABEL_SPACCC`` (Llama-3-8B, Spanish SPACCC): one sentence with the mention
  marked ``[mention]{TYPE}``, e.g. ``El paciente con [embolia pulmonar masiva]{ENFERMEDAD} presentó
  ...``; the model writes the concept name, mapped to its code, or ``NO_CODE`` when unconstrained
  generation writes a name that is not in the terminology.
- ``AnonymousARR42/LongBEL_8B_QUAERO_EMEA`` (Llama-3.1-8B, French QUAERO-EMEA, UMLS 2014AA):
  BigBio-like documents whose entities carry spans and a semantic group (``Disorders``,
  ``Living Beings``...); mentions are linked in document order and each prediction sees the
  earlier (mention, predicted name) pairs of the same document (its "memory").

The cards show inputs and outputs but not the literal token template, which lives in their
remote code (never run here: the project decodes itself). Each style's template is therefore
data: the model directory's ``generator.json`` records the style and may override the template
strings, so a checkpoint whose exact template is known loads with it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from bel_core.errors import ConfigError
from bel_core.types import Document, Mention


@dataclass(frozen=True, slots=True)
class PromptStyle:
    """How a mention (with its context and the document's memory) becomes a prompt.

    Attributes:
        name: ``syncabel`` or ``longbel``.
        template: the prompt; fields ``{memory}``, ``{text}`` (context with the marked mention),
            ``{mention}`` and ``{group}``.
        marker: how the mention is marked inside ``{text}`` (fields ``{mention}``, ``{group}``).
        memory_item: one earlier link (fields ``{mention}``, ``{name}``).
        memory_block: wraps the joined items (field ``{items}``); empty memory gives ``""``.
        max_memory: most recent earlier links kept (0: the style has no memory).
        context_chars: characters of document text around the mention.
        default_group: group written when the mention has no label, or one outside ``groups``.
        groups: the labels written as they are (those the model was trained with); None writes every
            label. A model trained on synthetic mentions alone has ``()``: every mention is ``default_group``,
            as in its training prompts.
    """

    name: str
    template: str
    marker: str = "[{mention}]{{{group}}}"
    memory_item: str = "{mention} = {name}"
    memory_block: str = "memory: {items}\n"
    max_memory: int = 0
    context_chars: int = 200
    default_group: str = "ENTITY"
    groups: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for ``generator.json``."""
        return asdict(self)


STYLES: Mapping[str, PromptStyle] = {
    "syncabel": PromptStyle("syncabel", "{text}\n{mention} ->", context_chars=200),
    "longbel": PromptStyle("longbel", "{memory}{text}\n{mention} ->", max_memory=8, context_chars=400),
}


def prompt_style(name: str, overrides: Mapping[str, Any] | None = None) -> PromptStyle:
    """A registered style, with fields replaced by ``overrides`` (e.g. from ``generator.json``).

    Raises:
        ConfigError: unknown style or field.
    """
    if name not in STYLES:
        raise ConfigError(f"Unknown prompt style {name!r}; choose one of {sorted(STYLES)}")
    extra = dict(overrides or {})
    extra.pop("name", None)
    unknown = set(extra) - set(PromptStyle.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"Unknown prompt style fields {sorted(unknown)}; known: {sorted(STYLES[name].to_json())}")
    if isinstance(extra.get("groups"), list):  # JSON has no tuples
        extra["groups"] = tuple(extra["groups"])
    return replace(STYLES[name], **extra)


def _squash(text: str) -> str:
    """Whitespace runs to one space, keeping one space at either end where there was any."""
    core = " ".join(text.split())
    if not core:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + core + (" " if text[-1].isspace() else "")


def _window(text: str, start: int, end: int, max_chars: int) -> tuple[str, str]:
    """Text left and right of the span: about ``max_chars`` in all, shared evenly, cut at word boundaries."""
    budget = max(max_chars - (end - start), 0)
    lo = max(start - budget // 2, 0)
    hi = min(end + budget - (start - lo), len(text))
    left, right = text[lo:start], text[end:hi]
    if lo > 0 and " " in left:  # drop a partial first word
        left = left[left.index(" ") :]
    if hi < len(text) and " " in right:
        right = right[: right.rindex(" ")]
    return _squash(left).lstrip(), _squash(right).rstrip()


def build_prompt(
    style: PromptStyle,
    mention: Mention,
    document: Document | None,
    memory: Sequence[tuple[str, str]] = (),
) -> str:
    """The prompt for one mention: its context with the mention marked, plus the memory when the style has one.

    Args:
        style: the prompt style.
        mention: the mention (its label, when given and known to the style, is the group).
        document: the mention's document; None links the mention text alone.
        memory: earlier ``(mention text, linked name)`` pairs of the same document, oldest first.
    """
    known = mention.label and (style.groups is None or mention.label in style.groups)
    group = mention.label if known else style.default_group
    marked = style.marker.format(mention=mention.text, group=group)
    if document is not None and document.text[mention.start : mention.end] == mention.text:
        left, right = _window(document.text, mention.start, mention.end, style.context_chars)
        text = f"{left}{marked}{right}"
    else:
        text = marked
    kept = list(memory)[-style.max_memory :] if style.max_memory else []
    items = "; ".join(style.memory_item.format(mention=m, name=n) for m, n in kept)
    block = style.memory_block.format(items=items) if kept else ""
    return style.template.format(memory=block, text=text, mention=mention.text, group=group)
