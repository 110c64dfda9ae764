"""The fuzzing harness shared by ``tests/fuzz`` (bounded, in CI) and ``bench/fuzz_readers.py`` (long runs).

A *target* is one reader or KB loader with valid seed inputs. :func:`mutate` turns a seed
into a damaged variant (byte flips, truncation, inserted delimiters, wrong offsets, huge
numbers, deep nesting, bad encodings, gzip wrapping); :func:`check` feeds it to the target
and holds the property every reader must keep: it returns a well-formed result, or raises
the project's error type naming the file (and the line where one applies). Anything else
(``ValueError``, ``RecursionError``, a mention whose text differs from its document...)
is a bug, raised as :class:`Unhandled`.

The mutation engine takes a ``random.Random``: hypothesis passes a shrinkable one
(``st.randoms()``), the benchmark a seeded one, so both explore the same space.
"""

from __future__ import annotations

import gzip
import io
import random
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bel_core.errors import InputFormatError, KnowledgeBaseError
from bel_core.formats import (
    read_any,
    read_bigbio,
    read_bioc_json,
    read_bioc_xml,
    read_brat,
    read_gsc,
    read_pubtator,
    read_text,
)
from bel_core.formats.documents import ParsedInput
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.kb.loaders import (
    load_ctd_chemicals,
    load_dictionary,
    load_jsonl,
    load_kb,
    load_medic,
    load_obo,
    load_tsv,
)
from bel_core.kb.umls import load_umls_rrf

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MAX_INPUT_BYTES = 300_000
BRAT_SPLIT = b"\n=====ann=====\n"  # one fuzzed input holds a brat .txt and its .ann
RRF_SPLIT = b"\n=====rrf=====\n"  # and a UMLS input MRCONSO, MRSTY and MRDEF

# What the readers must refuse cleanly, inserted into the seeds at random places.
DELIMITERS = (
    b"\t",
    b"|",
    b"||",
    b"\n",
    b"\r",
    b"\r\n",
    b" ",
    b"<",
    b">",
    b"</",
    b"/>",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b",",
    b":",
    b";",
    b"-1",
    b"&",
    b"&foo;",
    b"&lt;",
    b"&#0;",
    b"&#x110000;",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"[Term]\n",
    b"[Typedef]\n",
    b"id:",
    b"is_a:",
    b"name:",
    b"T1\t",
    b"N1\tReference T1 ",
    b"|t|",
    b"|a|",
    b'"offset": ',
    b'"offsets": [[',
    b"null",
    b"true",
    b"[]",
    b"{}",
    b'"documents": ',
    b"<document>",
    b"<passage>",
    b"<annotation>",
    b'<!DOCTYPE c [<!ENTITY e "x">]>',
    b'<!ENTITY x SYSTEM "file:///etc/passwd">',
    b"\x1f\x8b",
)
NUMBERS = (
    b"-1",
    b"0",
    b"-0",
    b"99999999999999999999",
    b"9" * 5000,
    b"1e309",
    b"NaN",
    b"Infinity",
    b"zero",
    b"1.5",
    b"0x10",
    b"1_000",
    "\u0661\u0662".encode(),
    "\u00b2".encode(),
    b"",
    b" 7 ",
    b"2147483648",
    b"1000000000000",
)
_DIGITS = re.compile(rb"\d+")


def _position(rng: random.Random, data: bytes) -> int:
    return rng.randint(0, len(data))


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ rng.choice((1, 2, 4, 8, 16, 32, 64, 128, 255))]) + data[i + 1 :]


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: _position(rng, data)]


def _insert(rng: random.Random, data: bytes) -> bytes:
    i = _position(rng, data)
    return data[:i] + rng.choice(DELIMITERS) + data[i:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    i = _position(rng, data)
    return data[:i] + data[i + rng.randint(1, 64) :]


def _repeat(rng: random.Random, data: bytes) -> bytes:
    i = _position(rng, data)
    j = min(len(data), i + rng.randint(1, 200))
    return data[:j] + data[i:j] * rng.randint(1, 50) + data[j:]


def _number(rng: random.Random, data: bytes) -> bytes:
    """Replace one number (an offset, a length, an id's digits) by a wrong or absurd one."""
    numbers = list(_DIGITS.finditer(data))
    if not numbers:
        return _insert(rng, data)
    m = rng.choice(numbers)
    return data[: m.start()] + rng.choice(NUMBERS) + data[m.end() :]


def _nest(rng: random.Random, data: bytes) -> bytes:
    """Deep nesting: JSON arrays/objects or XML elements, up to 100,000 levels."""
    depth = rng.choice((70, 1_000, 5_000, 100_000))
    opener, closer = rng.choice(((b"[", b"]"), (b'{"a":', b"}"), (b"<a>", b"</a>")))
    i = _position(rng, data)
    return data[:i] + opener * depth + closer * depth * rng.randint(0, 1) + data[i:]


def _encoding(rng: random.Random, data: bytes) -> bytes:
    """A wrong encoding: Latin-1 or UTF-16 bytes, a lone surrogate, an overlong sequence, a stray BOM."""
    text = data.decode("utf-8", errors="replace")
    choice = rng.randrange(5)
    if choice == 0:
        return text.encode("latin-1", errors="replace")
    if choice == 1:
        return text.encode("utf-16")
    i = _position(rng, data)
    return data[:i] + (b"\xed\xa0\x80", b"\xc0\xaf", b"\xef\xbb\xbf")[choice - 2] + data[i:]


MUTATIONS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    _flip,
    _truncate,
    _insert,
    _delete,
    _repeat,
    _number,
    _number,
    _nest,
    _encoding,
)


def mutate(rng: random.Random, seed: bytes) -> bytes:
    """One to four random mutations of ``seed``, capped at :data:`MAX_INPUT_BYTES`."""
    data = seed
    for _ in range(rng.randint(1, 4)):
        data = rng.choice(MUTATIONS)(rng, data)[:MAX_INPUT_BYTES]
    return data


class Unhandled(AssertionError):
    """A reader broke its contract: another exception, or a malformed result."""


@dataclass(frozen=True)
class Target:
    """One reader or loader: how to call it on bytes, and valid inputs to mutate."""

    name: str
    run: Callable[[bytes, Path], object]  # (data, scratch dir) -> result; raises the project's error
    seeds: tuple[bytes, ...]
    error: type[Exception]


# --- document readers ----------------------------------------------------------------------


def _reader(read: Callable[[str, bytes], ParsedInput], name: str) -> Callable[[bytes, Path], object]:
    return lambda data, _: read(name, data)


def _brat(data: bytes, _: Path) -> ParsedInput:
    txt, _, ann = data.partition(BRAT_SPLIT)
    return read_brat("doc.txt", txt, ann)


def _zip(data: bytes, _: Path) -> ParsedInput:
    return read_any([("upload.zip", data)], max_bytes=1_000_000)


def _auto(data: bytes, _: Path) -> ParsedInput:
    return read_any([("upload", data)], max_bytes=1_000_000)


def _zip_seed() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("fmt_sample.txt", "fmt_sample.ann", "fmt_sample.bioc.xml", "docs_good.pubtator"):
            archive.writestr(f"corpus/{name}", (FIXTURES / name).read_bytes())
    return buffer.getvalue()


def _fixture(*names: str) -> tuple[bytes, ...]:
    return tuple((FIXTURES / n).read_bytes() for n in names)


# --- KB loaders ----------------------------------------------------------------------------


def _loader(load: Callable[[Path], KnowledgeBase], suffix: str) -> Callable[[bytes, Path], object]:
    """Write the input to a file and load it (the loaders detect gzip by content)."""

    def run(data: bytes, scratch: Path) -> KnowledgeBase:
        path = scratch / f"kb{suffix}"
        path.write_bytes(data)
        return load(path)

    return run


def _umls(data: bytes, scratch: Path) -> KnowledgeBase:
    conso, _, rest = data.partition(RRF_SPLIT)
    sty, _, definitions = rest.partition(RRF_SPLIT)
    for table, content in (("MRCONSO", conso), ("MRSTY", sty), ("MRDEF", definitions)):
        (scratch / f"{table}.RRF").write_bytes(content)
    return load_umls_rrf([scratch])


def _auto_kb(data: bytes, scratch: Path) -> KnowledgeBase:
    path = scratch / "vocabulary.txt"
    path.write_bytes(data)
    return load_kb(str(path), cache_dir=scratch)


def _umls_seed() -> bytes:
    tables = ("MRCONSO.RRF", "MRSTY.RRF", "MRDEF.RRF")
    return RRF_SPLIT.join((FIXTURES / "fmt_umls" / t).read_bytes() for t in tables)


def _gzipped(seeds: tuple[bytes, ...]) -> tuple[bytes, ...]:
    return seeds + tuple(gzip.compress(s, mtime=0) for s in seeds)


def targets() -> dict[str, Target]:
    """Every reader and KB loader, by name."""
    txt = (FIXTURES / "fmt_sample.txt").read_bytes()
    docs = [
        Target(
            "pubtator",
            _reader(read_pubtator, "f.pubtator"),
            _fixture("docs_good.pubtator", "docs_bad.pubtator"),
            InputFormatError,
        ),
        Target("bioc-xml", _reader(read_bioc_xml, "f.xml"), _fixture("fmt_sample.bioc.xml"), InputFormatError),
        Target("bioc-json", _reader(read_bioc_json, "f.json"), _fixture("fmt_sample.bioc.json"), InputFormatError),
        Target("bigbio", _reader(read_bigbio, "f.jsonl"), _fixture("fmt_sample.bigbio.jsonl"), InputFormatError),
        Target("brat", _brat, (txt + BRAT_SPLIT + (FIXTURES / "fmt_sample.ann").read_bytes(),), InputFormatError),
        Target("gsc", _reader(read_gsc, "f.tsv"), _fixture("fmt_sample.gsc.tsv"), InputFormatError),
        Target("text", _reader(read_text, "f.txt"), (txt,), InputFormatError),
        Target("zip", _zip, (_zip_seed(),), InputFormatError),
        Target(
            "auto",
            _auto,
            _fixture(
                "fmt_sample.bioc.xml",
                "fmt_sample.bioc.json",
                "fmt_sample.bigbio.jsonl",
                "fmt_sample.gsc.tsv",
                "docs_good.pubtator",
            ),
            InputFormatError,
        ),
    ]
    kbs = [
        Target("kb-obo", _loader(load_obo, ".obo"), _gzipped(_fixture("kb_small.obo")), KnowledgeBaseError),
        Target("kb-medic", _loader(load_medic, ".tsv"), _gzipped(_fixture("kb_medic_sample.tsv")), KnowledgeBaseError),
        Target(
            "kb-ctd-chemicals",
            _loader(load_ctd_chemicals, ".tsv"),
            _fixture("fmt_ctd_chemicals.tsv"),
            KnowledgeBaseError,
        ),
        Target("kb-dict", _loader(load_dictionary, ".txt"), _gzipped(_fixture("kb_dict.txt")), KnowledgeBaseError),
        Target("kb-tsv", _loader(load_tsv, ".tsv"), _fixture("kb_sample.tsv"), KnowledgeBaseError),
        Target("kb-jsonl", _loader(load_jsonl, ".jsonl"), _gzipped(_fixture("kb_tiny.jsonl")), KnowledgeBaseError),
        Target("kb-umls", _umls, (_umls_seed(),), KnowledgeBaseError),
        Target(
            "kb-auto",
            _auto_kb,
            _fixture("kb_small.obo", "kb_medic_sample.tsv", "kb_dict.txt", "kb_sample.tsv", "kb_tiny.jsonl"),
            KnowledgeBaseError,
        ),
    ]
    return {t.name: t for t in docs + kbs}


# --- the property --------------------------------------------------------------------------


def _check_parsed(parsed: object) -> None:
    """A reader's result is well formed: spans match their documents, types are what they say."""
    if not isinstance(parsed, ParsedInput):
        raise Unhandled(f"returned {type(parsed).__name__}, not ParsedInput")
    by_id = {d.doc_id: d for d in parsed.documents}
    if len(by_id) != len(parsed.documents):
        raise Unhandled("two documents with the same id in one result")
    keys = set()
    for m in parsed.mentions:
        document = by_id.get(m.doc_id)
        if document is None or document.text[m.start : m.end] != m.text:
            raise Unhandled(f"mention {m.key} does not match a document of the result")
        if not (m.label is None or isinstance(m.label, str)) or not all(isinstance(i, str) for i in m.annotated_ids):
            raise Unhandled(f"mention {m.key} has a label or id that is not a string")
        if m.key in keys:
            raise Unhandled(f"mention {m.key} twice")
        keys.add(m.key)
    texts = [t for d in parsed.documents for t in (d.doc_id, d.text)]
    texts += [t for m in parsed.mentions for t in (m.label or "", *m.annotated_ids)]
    try:
        "".join(texts).encode("utf-8")  # what storing it does
    except UnicodeEncodeError as e:
        raise Unhandled(f"a document or mention holds a string that cannot be stored: {e}") from e
    for p in parsed.problems:
        if not (p.filename and isinstance(p.message, str) and (p.line is None or p.line >= 1)):
            raise Unhandled(f"problem without a location: {p!r}")
        if "details in the server log" in p.message:  # read_any's guard caught a reader crash
            raise Unhandled(f"a reader crashed inside read_any: {p}")


def check(target: Target, data: bytes) -> str:
    """Feed ``data`` to ``target``; ``"ok"`` or ``"refused"``, else :class:`Unhandled`.

    Raises:
        Unhandled: another exception than the target's error type, an error without a
            location, or a malformed result.
    """
    with tempfile.TemporaryDirectory(prefix="bel-fuzz-") as scratch:
        try:
            result = target.run(data, Path(scratch))
        except target.error as e:
            message = str(e)
            if isinstance(e, InputFormatError) and not e.filename:
                raise Unhandled(f"InputFormatError without a file name: {message}") from e
            if isinstance(e, KnowledgeBaseError) and scratch not in message:
                raise Unhandled(f"KnowledgeBaseError without the file: {message}") from e
            return "refused"
        except Exception as e:  # noqa: BLE001 - the property under test: nothing else escapes
            raise Unhandled(f"{target.name}: {type(e).__name__}: {str(e)[:300]}") from e
    if target.error is InputFormatError:
        _check_parsed(result)
    elif not isinstance(result, KnowledgeBase):
        raise Unhandled(f"{target.name} returned {type(result).__name__}")
    return "ok"
