"""Documents in, documents out: readers for every input format and writers for dedup output.

Input formats (see :func:`detect_format`)
-----------------------------------------
* **txt folder** -- a directory.  Every regular file below it (recursively) whose name ends in
  ``.txt``, ``.txt.gz`` or ``.txt.zst`` is one document; hidden files and folders (names starting
  with ``.``) and all other files are ignored, symlinked folders are not followed.  The id is the
  path relative to the folder with forward slashes, suffix included (``"sub/a.txt"``).  Files are
  read in sorted id order.  Text is UTF-8 (a BOM is dropped); a file with a UTF-16 byte order mark
  is decoded as UTF-16.  Other files in the folder (a ``LICENSE``, a ``.jsonl``, a ``.md``) are not
  read but counted, with their first few names, in :class:`SkippedFiles`.
* **one text file** -- a file given directly whose name ends in ``.txt``, ``.md``, ``.html`` or
  ``.htm`` (each optionally ``.gz``/``.zst``) is one document, read as a folder's file is; its id
  is its path as given (``str(Path(arg))``: ``./a.txt`` -> ``a.txt``).
* **JSON Lines** -- ``.jsonl``, ``.ndjson`` or ``.json``: one JSON object per line, blank lines
  skipped.  Lines are read as bytes and decoded one at a time, so one bad line never spoils the
  rest.
* **CSV / TSV** -- ``.csv`` (comma) or ``.tsv`` (tab), parsed by :mod:`csv` (strict mode) with a
  header row that names the columns.  Blank lines are skipped.  Physical lines are decoded one at a
  time (sound because a newline byte never occurs inside a UTF-8 multi-byte sequence), so the same
  per-line repair policy as JSON Lines applies and the writer can copy each record's exact bytes.
  A record's ``line`` is the physical line it starts on (the header is line 1).  Reading raises
  the process-wide :func:`csv.field_size_limit` so that big texts fit.
* **Parquet** -- ``.parquet``, read in record batches of ``_PARQUET_BATCH_ROWS`` rows.
* **HTML files** -- in a folder, files ending in ``.html``/``.htm`` (also ``.gz``/``.zst``) are web
  pages: decoded and reduced to their main text by :mod:`doublet.extract`; the id is the relative path.
* **WARC** -- ``.warc`` or ``.warc.gz`` (:mod:`doublet.warc`): every HTML response is one document
  whose id is its ``WARC-Record-ID`` (else its URL); other records (requests, metadata, images, PDFs,
  non-2xx responses) are skipped and counted in ``skipped`` by reason, never reported one by one.

Web documents (HTML files and WARC records) carry metadata in ``Document.meta`` when known: ``url``,
``title``, ``site``, ``published`` (the page's publication date), ``fetched`` (``WARC-Date``), ``date``
(``published``, else ``fetched``: what source attribution compares) and ``charset`` (the codec used).
With ``keep_boilerplate=True`` the text is the whole visible page text instead of the main text.

JSON Lines and CSV/TSV may be compressed as ``.gz`` or ``.zst`` (streamed, never loaded whole);
Parquet compresses internally, so ``.parquet.gz`` is refused.

Problem policy
--------------
Usage errors raise: a missing input path (:class:`FileNotFoundError`), an unknown format or a
Parquet file without the id/text column (:class:`ValueError`).  Bad *data* never stops the run:
each record read is either yielded as a :class:`Document` or reported as an :class:`InputProblem`
with action ``"rejected"`` that names the file and line/row and says what to do.  Records that
were processed after a fix (invalid UTF-8) are yielded *and* reported with action ``"repaired"``.

* Invalid UTF-8 in a txt file: decoded as Windows-1252 (bytes it leaves undefined as Latin-1).
  In a JSON Lines or CSV line: the bad bytes become U+FFFD.
* Binary txt files (NUL bytes or mostly control bytes in the first 8 KiB) are rejected.
* Ids: strings, integers and integral floats (``3.0`` -> ``"3"``); anything else, null or an
  empty string is rejected.  Text must be a non-empty, not whitespace-only string of at most
  ``max_chars`` characters.  The first record with an id wins; later ones are rejected.
* A file that cannot be opened or decompressed is rejected (where ``"file"``); if reading fails
  part way (truncated ``.gz``/``.zst``, corrupt Parquet) the records read so far are kept and one
  problem ``after line N`` / ``after row N`` says the rest was skipped.
* Memory stays bounded: a JSON Lines line or CSV record longer than :func:`_record_byte_limit`
  bytes (12 x ``max_chars`` + 16 MiB, more than any record whose text fits ``max_chars`` can need,
  barring huge extra fields) is rejected without being held in memory; an oversized txt file is
  counted in 1 MiB chunks.  For CSV such a record usually means an unclosed quote, so the rest of
  that file is skipped.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import shutil
import stat
import sys
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

__all__ = [
    "DEFAULT_MAX_CHARS",
    "REJECTED",
    "REPAIRED",
    "Document",
    "InputFormat",
    "SkippedFiles",
    "decode_text",
    "InputProblem",
    "detect_format",
    "documents_from_items",
    "read_documents",
    "write_kept",
]

DEFAULT_MAX_CHARS = 10_000_000
REJECTED = "rejected"
REPAIRED = "repaired"

SUPPORTED_FORMATS = (
    "a folder of .txt and .html/.htm files (each optionally .gz or .zst), a single .txt, .md or .html/.htm "
    "file (one document), or a file ending in .jsonl, .ndjson, .json (JSON Lines), .csv or .tsv -- each "
    "optionally followed by .gz or .zst -- or .parquet, .warc or .warc.gz"
)

_CHUNK = 1 << 20
_HEAD = 8192
_PARQUET_BATCH_ROWS = 1024
_ZSTD_INPUT_CHUNK = 8192  # small, so a zstd bomb expands to at most a few hundred MB per step
_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_TXT_SUFFIXES = (".txt", ".txt.gz", ".txt.zst")
_HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz", ".html.zst", ".htm.zst")
_ONE_FILE_SUFFIXES = _TXT_SUFFIXES + _HTML_SUFFIXES + (".md", ".md.gz", ".md.zst")  # one document when given directly
_LINE_EXTS = (".jsonl", ".ndjson", ".json")
_COMPRESSION_SUFFIXES = ((".gz", "gz"), (".zst", "zst"), (".zstd", "zst"))
# Control bytes that do not occur in text (tab, newlines, form feed and escape are allowed).
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32), 127])
_BINARY_CONTROL_SHARE = 0.3
# Windows-1252 for 0x80-0x9F; the five bytes it leaves undefined stay Latin-1 (U+0081 ...).
_CP1252_TABLE = {
    b: bytes([b]).decode("cp1252") for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
_READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    zstandard.ZstdError,
    pa.ArrowException,
)
_MISSING: Any = object()


# --------------------------------------------------------------------------------------------
# Public data model


@dataclass(slots=True)
class Document:
    """One document.

    ``meta`` always holds ``"source"`` (the input path as given) and one locator: ``"line"``
    (1-based line in a JSON Lines/CSV file), ``"row"`` (0-based Parquet row) or ``"path"``
    (relative path in a folder), or ``"offset"`` (byte offset of a WARC record).  With
    ``keep_fields=True`` the record's other fields are kept under ``meta["fields"]``.  Web documents
    also carry ``url``, ``title``, ``site``, ``published``, ``fetched``, ``date`` and ``charset`` when
    known (see the module doc); ``date`` is what source attribution compares.
    """

    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class InputProblem:
    """Something wrong with one input record or file, with what was done about it."""

    source: str
    where: str | None
    id: str | None
    reason: str
    action: str  # REJECTED (not processed) or REPAIRED (processed after a fix)
    scope: str = "record"  # "record": one input record; "file": a file or folder whose records were not read

    def message(self) -> str:
        """One line: ``<source>:<where>: id <id>: <reason> (<action>)``."""
        head = self.source if self.where in (None, "file") else f"{self.source}:{self.where}"
        ident = "" if self.id is None else f" id {self.id}:"
        return _one_line(f"{head}:{ident} {self.reason} ({self.action})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "where": self.where,
            "id": self.id,
            "reason": self.reason,
            "action": self.action,
            "scope": self.scope,
        }


@dataclass(slots=True)
class SkippedFiles:
    """Files in input folders that were not read (not .txt or .html/.htm): how many, and the first names."""

    count: int = 0
    examples: list[str] = field(default_factory=list)
    max_examples: int = 5

    def add(self, path: str) -> None:
        self.count += 1
        if len(self.examples) < self.max_examples:
            self.examples.append(path)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "examples": list(self.examples)}


@dataclass(slots=True, frozen=True)
class InputFormat:
    """How to read an input.  ``delimiter`` only matters for ``kind == "csv"`` (tab for .tsv)."""

    kind: str  # "txtdir" | "textfile" | "jsonl" | "parquet" | "csv" | "warc"
    compression: str | None  # None | "gz" | "zst"
    delimiter: str = ","


def detect_format(path: str | Path) -> InputFormat:
    """Tell the format of an input from what it is (a folder) or its file name."""
    p = Path(path)
    if p.is_dir():
        return InputFormat("txtdir", None)
    if p.name.lower().endswith(_ONE_FILE_SUFFIXES):
        return InputFormat("textfile", _split_compression(p.name.lower())[1])
    name, compression = _split_compression(p.name.lower())
    ext = os.path.splitext(name)[1]
    if ext == ".warc":
        if compression not in (None, "gz"):
            raise ValueError(f"{path}: WARC files can be read plain (.warc) or gzipped (.warc.gz), not .{compression}")
        return InputFormat("warc", compression)
    if ext == ".parquet":
        if compression is not None:
            raise ValueError(
                f"{path}: Parquet files are compressed internally and cannot be read as "
                f".{compression}; decompress the file first"
            )
        return InputFormat("parquet", None)
    if ext in _LINE_EXTS:
        return InputFormat("jsonl", compression)
    if ext in (".csv", ".tsv"):
        return InputFormat("csv", compression, "\t" if ext == ".tsv" else ",")
    raise ValueError(f"cannot tell the format of {path}; supported inputs are {SUPPORTED_FORMATS}")


def _split_compression(name: str) -> tuple[str, str | None]:
    for suffix, compression in _COMPRESSION_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], compression
    return name, None


# --------------------------------------------------------------------------------------------
# Internal record model and validation


@dataclass(slots=True, frozen=True)
class _Spec:
    id_field: str
    text_field: str
    max_chars: int
    keep_fields: bool
    keep_boilerplate: bool = False
    skipped: Counter[str] | None = field(default=None, compare=False)  # skipped WARC records by reason
    skipped_files: SkippedFiles | None = field(default=None, compare=False)  # folder files not read
    workers: int = 1  # processes that extract web pages
    site_field: str | None = None  # field or column naming each record's site (a URL, host or name)


@dataclass(slots=True)
class _Record:
    """A record as read, before validation.  ``raw`` is what the writer copies for it."""

    locator: tuple[str, Any]  # ("line", 12) | ("row", 7) | ("path", "sub/a.txt")
    doc_id: Any = _MISSING
    text: Any = _MISSING
    others: dict[str, Any] | None = None  # fields other than id/text (keep_fields only)
    field_names: Iterable[str] | None = None  # set for a file's first record, for hints
    reject: str | None = None
    repair: str | None = None
    where: str | None = None  # overrides the locator-derived "line 12"
    source: str | None = None  # overrides the input path (a txt folder's file)
    raw: Any = None
    meta: dict[str, Any] | None = None  # web metadata (url, title, date, ...), added to Document.meta
    page: _PageJob | None = None  # a web page still to extract (then text, meta, reject/repair are set)


def _where(rec: _Record) -> str:
    if rec.where is not None:
        return rec.where
    kind, value = rec.locator
    return "file" if kind == "path" else f"{kind} {value}"


class _Checker:
    """Turns records into Documents or problems; remembers ids across all inputs of one call."""

    def __init__(self, spec: _Spec, problems: list[InputProblem] | None, prior_ids: set[str] | None = None):
        self._spec = spec
        self._problems = problems
        self._prior = prior_ids
        self._sources: list[tuple[str, str]] = []  # (source, locator kind)
        self._seen: dict[str, tuple[int, Any]] = {}

    def add_source(self, source: str, fmt: InputFormat) -> int:
        kind = {"txtdir": "path", "textfile": "file", "parquet": "row", "api": "item",
                "warc": "offset"}.get(fmt.kind, "line")
        self._sources.append((source, kind))
        return len(self._sources) - 1

    def check(self, rec: _Record, src: int) -> Document | None:
        doc_id, reason = None, rec.reject
        if reason is None:
            doc_id, reason = self._identify(rec)
        if reason is None:
            reason = _text_problem(rec.text, self._spec.max_chars)
        if reason is None:
            reason = self._claim(doc_id, rec, src)
        if reason is not None:
            self._report(src, rec, doc_id or _loose_id(rec.doc_id), reason, REJECTED)
            return None
        if rec.repair is not None:
            self._report(src, rec, doc_id, rec.repair, REPAIRED)
        return self._document(doc_id, rec, src)

    def _identify(self, rec: _Record) -> tuple[str | None, str | None]:
        spec = self._spec
        if rec.doc_id is _MISSING:
            return None, _missing_field(spec.id_field, "id", rec.field_names)
        if rec.text is _MISSING:
            return None, _missing_field(spec.text_field, "text", rec.field_names)
        return _coerce_id(rec.doc_id)

    def _claim(self, doc_id: str | None, rec: _Record, src: int) -> str | None:
        assert doc_id is not None
        first = self._seen.get(doc_id)
        if first is not None:
            return f"duplicate id (first seen at {self._location(*first)}); only the first is used"
        if self._prior is not None:
            if doc_id in self._prior:
                return "duplicate id (already used by an earlier input); only the first is used"
            self._prior.add(doc_id)
        self._seen[doc_id] = (src, rec.locator[1])
        return None

    def _location(self, src: int, value: Any) -> str:
        source, kind = self._sources[src]
        if kind == "file":
            return source
        return f"{source}/{value}" if kind == "path" else f"{source}:{kind} {value}"

    def _document(self, doc_id: str | None, rec: _Record, src: int) -> Document:
        assert doc_id is not None
        kind, value = rec.locator
        meta: dict[str, Any] = {"source": self._sources[src][0], kind: value}
        if self._spec.keep_fields and rec.others is not None:
            meta["fields"] = rec.others
        if rec.meta:
            meta.update(rec.meta)
        return Document(doc_id, rec.text, meta)

    def _report(self, src: int, rec: _Record, doc_id: str | None, reason: str, action: str) -> None:
        if self._problems is not None:
            source = rec.source if rec.source is not None else self._sources[src][0]
            scope = "file" if rec.locator[0] == "file" or rec.where == "folder" else "record"
            self._problems.append(InputProblem(source, _where(rec), doc_id, reason, action, scope))


def _missing_field(name: str, what: str, field_names: Iterable[str] | None) -> str:
    hint = f"use --{what}-field to name the field that holds the {what}"
    if field_names is None:
        return f"no {name!r} field; {hint}"
    names = list(field_names)
    shown = ", ".join(repr(n) for n in names[:20]) + (", ..." if len(names) > 20 else "")
    return f"no {name!r} field (the record has fields: {shown or 'none'}); {hint}"


def _coerce_id(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str):
        return (value, None) if value else (None, "id is empty; every record needs an id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), None
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), None
    if value is None:
        return None, "id is null; every record needs an id"
    return None, f"id must be a string or an integer, got {_type_name(value)}"


def _loose_id(value: Any) -> str | None:
    """The id to name in a problem about a record that was rejected for another reason."""
    doc_id, _ = _coerce_id(value) if value is not _MISSING else (None, None)
    return doc_id


def _text_problem(text: Any, max_chars: int) -> str | None:
    if text is None:
        return "text is null; nothing to process"
    if not isinstance(text, str):
        return f"text must be a string, got {_type_name(text)}"
    if len(text) > max_chars:
        return _too_long(len(text), max_chars)
    if not text:
        return "empty document"
    if text.isspace():
        return "whitespace-only document"
    return None


def _too_long(n_chars: int, max_chars: int) -> str:
    return (
        f"document has {n_chars:,} characters, over --max-chars {max_chars:,}; "
        "raise --max-chars to process it"
    )


def _type_name(value: Any) -> str:
    names = {type(None): "null", bool: "a boolean", dict: "an object", list: "an array", float: "a number"}
    return names.get(type(value), type(value).__name__)


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _record_byte_limit(max_chars: int) -> int:
    """Bytes a JSON line / CSV record may need for a text of max_chars (12 = an escaped astral char)."""
    return 12 * max_chars + (1 << 24)


# --------------------------------------------------------------------------------------------
# Byte streams


class _ZstdReader(io.RawIOBase):
    """Decompresses a zstd stream and, unlike ``stream_reader``, raises on a truncated frame."""

    def __init__(self, fh: BinaryIO) -> None:
        super().__init__()
        self._fh = fh
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = self._dctx.decompressobj()
        self._pending = memoryview(b"")
        self._in_frame = False
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            self._fill()
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _fill(self) -> None:
        data = self._fh.read(_ZSTD_INPUT_CHUNK)
        if not data:
            self._done = True
            if self._in_frame:
                raise EOFError("zstd data ends in the middle of a frame (truncated file?)")
            return
        out = []
        while data:
            out.append(self._obj.decompress(data))
            if self._obj.eof:  # frame complete; the rest may start another frame
                data, self._obj, self._in_frame = self._obj.unused_data, self._dctx.decompressobj(), False
            else:
                data, self._in_frame = b"", True
        self._pending = memoryview(b"".join(out))


@contextmanager
def _open_binary(path: Path, compression: str | None) -> Iterator[BinaryIO]:
    """Open a file for streaming binary reads, decompressing ``gz`` / ``zst``."""
    with ExitStack() as stack:
        raw = stack.enter_context(open(path, "rb", buffering=_CHUNK))
        if compression == "gz":
            yield stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))  # type: ignore[misc]
        elif compression == "zst":
            yield stack.enter_context(io.BufferedReader(_ZstdReader(raw), buffer_size=_CHUNK))
        else:
            yield raw


@contextmanager
def _atomic_output(target: Path, compression: str | None) -> Iterator[BinaryIO]:
    """Write ``target`` (compressed like the input) via a temporary file renamed at the end."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with ExitStack() as stack:
            raw: BinaryIO = stack.enter_context(open(tmp, "wb"))
            if compression == "gz":
                gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
                raw = cast(BinaryIO, stack.enter_context(gz))
            elif compression == "zst":
                zst = zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
                raw = cast(BinaryIO, stack.enter_context(zst))
            yield raw
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _guard(records: Iterator[_Record]) -> Iterator[_Record]:
    """Turn a read/decompression error into one final rejected record; the run goes on."""
    last: _Record | None = None
    try:
        for last in records:
            yield last
    except _READ_ERRORS as exc:
        if last is None:
            yield _Record(("file", None), where="file", reject=f"cannot read the file: {_describe(exc)}")
        else:
            yield _Record(
                ("file", None),
                where=f"after {_where(last)}",
                reject=(
                    f"reading stopped: {_describe(exc)}; the rest of the file was skipped "
                    "(is it truncated or corrupt?)"
                ),
            )


def _records(
    path: Path,
    fmt: InputFormat,
    spec: _Spec,
    *,
    all_columns: bool = False,
    header_sink: Callable[[bytes], Any] | None = None,
) -> Iterator[_Record]:
    if fmt.kind == "txtdir":
        inner = _with_pages(_txtdir_records(path, spec), spec.workers)
    elif fmt.kind == "textfile":
        inner = _with_pages(iter([_text_file_record(path, str(path), spec)]), spec.workers)
    elif fmt.kind == "jsonl":
        inner = _jsonl_records(path, fmt, spec)
    elif fmt.kind == "csv":
        inner = _csv_records(path, fmt, spec, header_sink)
    elif fmt.kind == "warc":
        inner = _with_pages(_warc_records(path, spec), spec.workers)
    else:
        inner = _parquet_records(path, spec, all_columns)
    return _guard(inner)


# --------------------------------------------------------------------------------------------
# txt folder


def _txtdir_records(folder: Path, spec: _Spec) -> Iterator[_Record]:
    files, errors = _list_txt_files(folder, spec.skipped_files)
    for exc in errors:
        yield _Record(
            ("path", ""),
            where="folder",
            source=str(exc.filename or folder),
            reject=f"cannot list this folder ({_describe(exc)}); the files in it were skipped",
        )
    for rel in files:
        yield _text_file_record(folder / rel, rel, spec)


def _text_file_record(path: Path, doc_id: str, spec: _Spec) -> _Record:
    """One document from one file: a web page if its name says HTML, else text."""
    if path.name.lower().endswith(_HTML_SUFFIXES):
        return _html_file_record(path, doc_id, spec)
    return _txt_record(path, doc_id, spec.max_chars)


def _list_txt_files(folder: Path, skipped: SkippedFiles | None = None) -> tuple[list[str], list[OSError]]:
    """The .txt / .html files below ``folder`` (relative, sorted); other non-hidden files go to ``skipped``."""
    errors: list[OSError] = []
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder, onerror=errors.append):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if name.lower().endswith(_TXT_SUFFIXES + _HTML_SUFFIXES):
                rel = os.path.relpath(os.path.join(dirpath, name), folder)
                found.append(rel.replace(os.sep, "/"))
            elif skipped is not None:
                skipped.add(os.path.join(dirpath, name))
    found.sort()
    return found, errors


def _txt_record(path: Path, doc_id: str, max_chars: int) -> _Record:
    rec = _Record(("path", doc_id), doc_id=doc_id, source=str(path), raw=path)
    try:
        rec.text, rec.reject, rec.repair = _load_text_file(path, max_chars)
    except _READ_ERRORS as exc:
        rec.reject = f"cannot read the file: {_describe(exc)}"
    return rec


def _load_text_file(path: Path, max_chars: int) -> tuple[str | None, str | None, str | None]:
    """Return (text, reject reason, repair note) for one txt file, reading at most ~4*max_chars bytes."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        return None, "not a regular file", None
    compression = _split_compression(path.name.lower())[1]
    with _open_binary(path, compression) as fh:
        head = fh.read(_HEAD)
        reason = _binary_reason(head)
        if reason is not None:
            return None, reason, None
        utf16 = head.startswith(_UTF16_BOMS)
        limit = 4 * max_chars + 4  # no encoding needs more than 4 bytes per character (+ BOM)
        chunks, complete = _read_up_to(fh, head, limit)
        if not complete:
            n_chars = _count_chars(_chain_chunks(chunks, fh), "utf-16" if utf16 else "utf-8-sig")
            return None, _too_long(n_chars, max_chars), None
    text, repair = _decode_text(b"".join(chunks), utf16)
    return text, None, repair


def _binary_reason(head: bytes) -> str | None:
    if head.startswith(_UTF16_BOMS):
        return None
    if b"\x00" in head:
        return "binary file (contains NUL bytes); not text"
    control = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if head and control / len(head) > _BINARY_CONTROL_SHARE:
        return f"binary file ({100 * control // len(head)}% control bytes in the first 8 KiB); not text"
    return None


def _read_up_to(fh: BinaryIO, head: bytes, limit: int) -> tuple[list[bytes], bool]:
    """Read chunks after ``head`` while the total stays within ``limit``; False if it did not."""
    chunks, size = [head], len(head)
    while size <= limit:
        chunk = fh.read(_CHUNK)
        if not chunk:
            return chunks, True
        chunks.append(chunk)
        size += len(chunk)
    return chunks, False


def _chain_chunks(chunks: list[bytes], fh: BinaryIO) -> Iterator[bytes]:
    while chunks:
        yield chunks.pop(0)  # drop each chunk once counted, so memory shrinks as we go
    yield from iter(lambda: fh.read(_CHUNK), b"")


def _count_chars(chunks: Iterable[bytes], encoding: str) -> int:
    """Characters in a stream; if it is not valid in ``encoding``, its bytes (Windows-1252)."""
    decoder: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder(encoding)()
    chars = n_bytes = 0
    for chunk in chunks:
        n_bytes += len(chunk)
        if decoder is not None:
            try:
                chars += len(decoder.decode(chunk))
            except UnicodeDecodeError:
                decoder = None
    if decoder is not None:
        try:
            return chars + len(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            pass
    return n_bytes


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode the bytes of a text as a txt file is decoded (UTF-8 with its BOM dropped, else Windows-1252;
    UTF-16 with a BOM): (text, repair note or None)."""
    text, note = _decode_text(data, data.startswith(_UTF16_BOMS))
    return text or "", note


def _decode_text(data: bytes, utf16: bool) -> tuple[str | None, str | None]:
    """Decode a txt file: UTF-8 (BOM dropped), else Windows-1252; UTF-16 if it has a UTF-16 BOM."""
    if utf16:
        note = "UTF-16 file (byte order mark); decoded as UTF-16, any invalid bytes replaced with U+FFFD"
        return data.decode("utf-16", "replace"), note
    bom = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    try:
        return data[bom:].decode("utf-8"), None
    except UnicodeDecodeError as exc:
        text = data[bom:].decode("latin-1").translate(_CP1252_TABLE)
        note = f"not valid UTF-8 (first bad byte at offset {exc.start + bom}); decoded as Windows-1252"
        return text, note


# --------------------------------------------------------------------------------------------
# Web pages: HTML files in a folder, HTML records in WARC files


def _html_byte_limit(max_chars: int) -> int:
    """Bytes of HTML read for one page: markup is several times its text, but not unboundedly so."""
    return 4 * max_chars + (1 << 20)


@dataclass(slots=True, frozen=True)
class _PageJob:
    """A web page waiting for decoding and extraction (done in worker processes when there are several)."""

    body: bytes
    charset: str | None  # declared by HTTP
    url: str | None
    keep_boilerplate: bool


def _extract_job(job: _PageJob) -> tuple[str | None, dict[str, Any], str | None, str | None]:
    """Decode and extract one page: (text, metadata, reject reason, repair note)."""
    from .extract import decode_html, extract_page

    decoded = decode_html(job.body, job.charset)
    repair = decoded.note if decoded.repaired else None
    try:
        page = extract_page(decoded.text, job.url, keep_boilerplate=job.keep_boilerplate)
    except Exception as exc:  # noqa: BLE001 - a third-party parser failing on one hostile page must not stop the run
        return None, {}, f"text extraction failed: {_describe(exc)}", repair
    if not page.text.strip():
        return None, {}, ("no main text found in the page (only navigation or markup?); "
                          "--keep-boilerplate keeps the whole page text"), repair
    meta: dict[str, Any] = page.meta()
    meta["charset"] = decoded.encoding
    return page.text, meta, None, repair


def _apply_page(rec: _Record, result: tuple[str | None, dict[str, Any], str | None, str | None]) -> _Record:
    text, meta, reject, repair = result
    rec.page, rec.repair = None, repair
    if reject is not None:
        rec.reject = reject
        return rec
    rec.text = text
    merged = {**(rec.meta or {}), **meta}
    date = merged.get("published") or merged.get("fetched")
    if date:
        merged["date"] = date
    rec.meta = merged
    return rec


def _with_pages(records: Iterator[_Record], workers: int) -> Iterator[_Record]:
    """Records in order, with their web pages extracted: in this process, or in ``workers`` processes
    (started at the first page) with at most ``_PAGES_AHEAD * workers`` pages in flight."""
    if workers <= 1:
        for rec in records:
            yield _apply_page(rec, _extract_job(rec.page)) if rec.page is not None else rec
        return
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    pool: ProcessPoolExecutor | None = None
    pending: deque[tuple[_Record, Future[Any] | None]] = deque()
    try:
        for rec in records:
            if rec.page is None and not pending:
                yield rec
                continue
            if rec.page is not None and pool is None:
                from .extract import preload

                preload()  # workers are forked: they inherit the imported libraries
                pool = ProcessPoolExecutor(max_workers=workers)
            pending.append((rec, pool.submit(_extract_job, rec.page) if pool and rec.page is not None else None))
            while pending and (len(pending) > _PAGES_AHEAD * workers or pending[0][1] is None):
                first, fut = pending.popleft()
                yield first if fut is None else _apply_page(first, fut.result())
        for first, fut in pending:
            yield first if fut is None else _apply_page(first, fut.result())
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _html_file_record(path: Path, doc_id: str, spec: _Spec) -> _Record:
    rec = _Record(("path", doc_id), doc_id=doc_id, source=str(path), raw=path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            rec.reject = "not a regular file"
            return rec
        limit = _html_byte_limit(spec.max_chars)
        with _open_binary(path, _split_compression(path.name.lower())[1]) as fh:
            body = fh.read(limit + 1)
    except _READ_ERRORS as exc:
        rec.reject = f"cannot read the file: {_describe(exc)}"
        return rec
    if len(body) > limit:
        rec.reject = f"HTML file is over {limit:,} bytes, more than a page within --max-chars needs; raise --max-chars"
    elif b"\x00" in body[:_HEAD] and not body.startswith(_UTF16_BOMS):
        rec.reject = "binary file (contains NUL bytes); not HTML"
    else:
        rec.page = _PageJob(body, None, None, spec.keep_boilerplate)
    return rec


def _warc_records(path: Path, spec: _Spec) -> Iterator[_Record]:
    from .warc import WarcBad, WarcPage, read_warc

    for item in read_warc(path):
        if isinstance(item, WarcPage):
            rec = _Record(("offset", item.offset), doc_id=item.record_id or item.uri or f"{path.name}@{item.offset}",
                          where=_warc_where(item.offset, item.uri), raw=_WarcRef(item.offset, item.record_id,
                                                                                 item.concurrent, "page"))
            rec.meta = {k: v for k, v in (("url", item.uri), ("fetched", item.date)) if v}
            rec.page = _PageJob(item.body, item.charset, item.uri, spec.keep_boilerplate)
            yield rec
        elif isinstance(item, WarcBad):
            where = (f"bytes {item.offset}-{item.end}" if item.end is not None
                     else _warc_where(item.offset, item.uri))
            yield _Record(("offset", item.offset), doc_id=item.record_id if item.record_id else _MISSING,
                          where=where, reject=item.reason, raw=_WarcRef(item.offset, None, (), "bad"))
        else:
            if spec.skipped is not None:
                spec.skipped[item.reason] += 1
            yield _Record(("offset", item.offset), reject=_SKIP,
                          raw=_WarcRef(item.offset, item.record_id, item.concurrent, "other"))


@dataclass(slots=True, frozen=True)
class _WarcRef:
    """What dedup needs to copy or drop one WARC record (no body)."""

    offset: int
    record_id: str | None
    concurrent: tuple[str, ...]  # WARC-Concurrent-To
    kind: str  # "page" | "bad" | "other"


_PAGES_AHEAD = 4
_SKIP = "\0skip"  # marks a WARC record that is not a page: counted, never checked or reported


def _warc_where(offset: int, uri: str | None) -> str:
    return f"offset {offset}" + (f" ({uri})" if uri else "")


# --------------------------------------------------------------------------------------------
# JSON Lines


def _jsonl_records(path: Path, fmt: InputFormat, spec: _Spec) -> Iterator[_Record]:
    limit = _record_byte_limit(spec.max_chars)
    first_object = True
    seen_content = False
    with _open_binary(path, fmt.compression) as fh:
        for lineno, line in enumerate(_read_lines(fh, limit), start=1):
            if isinstance(line, int):
                yield _Record(("line", lineno), reject=_line_too_long(line, spec.max_chars))
                continue
            body = line[len(_UTF8_BOM) :] if lineno == 1 and line.startswith(_UTF8_BOM) else line
            if not body.strip():
                continue
            rec = _jsonl_record(lineno, body, spec, first_object, not seen_content)
            rec.raw = line
            seen_content = True
            first_object = first_object and rec.reject is not None
            yield rec


def _read_lines(fh: BinaryIO, limit: int) -> Iterator[bytes | int]:
    """Lines as bytes; a line over ``limit`` bytes is skipped and given as its length instead."""
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = fh.readline(_CHUNK)
            if not line:
                break
            size += len(line)
        yield size


def _line_too_long(size: int, max_chars: int) -> str:
    return (
        f"line is {size:,} bytes, more than a record within --max-chars {max_chars:,} can need; "
        "raise --max-chars to process it"
    )


def _jsonl_record(lineno: int, body: bytes, spec: _Spec, first_object: bool, first_line: bool) -> _Record:
    rec = _Record(("line", lineno))
    text, rec.repair = _decode_line(body.rstrip(b"\r\n"))
    obj, rec.reject = _parse_object(text, first_line)
    if obj is not None:
        rec.doc_id = obj.get(spec.id_field, _MISSING)
        rec.text = obj.get(spec.text_field, _MISSING)
        rec.field_names = obj.keys() if first_object else None
        if spec.keep_fields:
            rec.others = {k: v for k, v in obj.items() if k not in (spec.id_field, spec.text_field)}
        _site(rec, spec, obj.get(spec.site_field) if spec.site_field else None)
    return rec


def _site(rec: _Record, spec: _Spec, value: Any) -> None:
    """Keep a record's ``--site-field`` value as ``meta["site"]`` (strings and numbers; empty values: no site)."""
    if spec.site_field and isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        rec.meta = {**(rec.meta or {}), "site": str(value).strip()}


def _decode_line(line: bytes) -> tuple[str, str | None]:
    try:
        return line.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        note = (
            f"not valid UTF-8 (first bad byte at offset {exc.start} of the line); "
            "invalid bytes replaced with U+FFFD"
        )
        return line.decode("utf-8", "replace"), note


def _parse_object(text: str, first_line: bool) -> tuple[dict[str, Any] | None, str | None]:
    hint = ""
    if first_line and text.lstrip().startswith("["):
        hint = " (this looks like a JSON array; JSON Lines needs one object per line)"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        at = "" if exc.msg.endswith(" at") else " at"
        return None, f"invalid JSON: {exc.msg}{at} column {exc.colno}{hint}; fix or remove the line"
    except (ValueError, RecursionError) as exc:
        return None, f"invalid JSON: {exc}{hint}; fix or remove the line"
    if not isinstance(obj, dict):
        return (
            None,
            f"line is JSON but not an object (got {_type_name(obj)}){hint}; each line must be one object",
        )
    return obj, None


# --------------------------------------------------------------------------------------------
# CSV / TSV


class _RecordTooLong(Exception):
    pass


class _LineFeed:
    """Feeds decoded lines to :func:`csv.reader`; remembers the raw bytes of the current record."""

    def __init__(self, fh: BinaryIO, limit: int) -> None:
        self._fh = fh
        self._limit = limit
        self._raw: list[bytes] = []
        self._size = 0
        self._repair: str | None = None
        self._start = 1
        self.lineno = 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        line = self._fh.readline(self._limit - self._size + 1)
        if not line:
            raise StopIteration
        self.lineno += 1
        self._raw.append(line)
        self._size += len(line)
        if self._size > self._limit:
            raise _RecordTooLong
        if self.lineno == 1 and line.startswith(_UTF8_BOM):
            line = line[len(_UTF8_BOM) :]
        text, note = _decode_line(line)
        if note is not None and self._repair is None:
            self._repair = f"line {self.lineno} is {note}"
        return text

    def take(self) -> tuple[int, bytes, str | None]:
        """(first line, raw bytes, repair note) of the record just parsed; starts the next one."""
        result = (self._start, b"".join(self._raw), self._repair)
        self._raw, self._size, self._repair, self._start = [], 0, None, self.lineno + 1
        return result


def _raise_csv_field_limit() -> None:
    try:
        csv.field_size_limit(sys.maxsize)
    except OverflowError:  # C long is 32 bits (Windows)
        csv.field_size_limit(2**31 - 1)


def _csv_records(
    path: Path, fmt: InputFormat, spec: _Spec, header_sink: Callable[[bytes], Any] | None
) -> Iterator[_Record]:
    _raise_csv_field_limit()
    with _open_binary(path, fmt.compression) as fh:
        feed = _LineFeed(fh, _record_byte_limit(spec.max_chars))
        reader = csv.reader(feed, delimiter=fmt.delimiter, strict=True)
        header: list[str] | None = None
        first_row = True
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                start = feed.take()[0]
                skipped = "; this is the header row, so the file was skipped" if header is None else ""
                yield _Record(("line", start), reject=f"malformed CSV: {exc}{skipped}")
                if header is None:
                    return
                continue
            except _RecordTooLong:
                yield _Record(("line", feed.take()[0]), reject=_csv_too_long(spec.max_chars))
                return
            start, raw, repair = feed.take()
            if not row:
                continue
            if header is None:
                header = row
                if header_sink is not None:
                    header_sink(raw)
                continue
            rec = _csv_record(header, row, start, spec, first_row)
            rec.raw, rec.repair = raw, repair
            first_row = False
            yield rec


def _csv_too_long(max_chars: int) -> str:
    return (
        f"CSV record is longer than a record within --max-chars {max_chars:,} can need -- probably "
        "an unclosed quote; the rest of the file was skipped (fix the quoting or raise --max-chars)"
    )


def _csv_record(header: list[str], row: list[str], start: int, spec: _Spec, first: bool) -> _Record:
    rec = _Record(("line", start))
    if len(row) != len(header):
        rec.reject = (
            f"has {len(row)} fields but the header has {len(header)}; fix the row's quoting or delimiters"
        )
        return rec
    values = dict(zip(header, row, strict=True))  # a repeated column name: the last one wins
    rec.doc_id = values.get(spec.id_field, _MISSING)
    rec.text = values.get(spec.text_field, _MISSING)
    rec.field_names = header if first else None
    if spec.keep_fields:
        rec.others = {k: v for k, v in values.items() if k not in (spec.id_field, spec.text_field)}
    _site(rec, spec, values.get(spec.site_field) if spec.site_field else None)
    return rec


# --------------------------------------------------------------------------------------------
# Parquet


def _parquet_columns(pf: pq.ParquetFile, path: Path, spec: _Spec) -> None:
    names = pf.schema_arrow.names
    for name, what in ((spec.id_field, "id"), (spec.text_field, "text")):
        if name not in names:
            raise ValueError(
                f"{path}: no column {name!r} (columns: {', '.join(names)}); "
                f"use --{what}-field to name the column that holds the {what}"
            )


def _parquet_records(path: Path, spec: _Spec, all_columns: bool) -> Iterator[_Record]:
    pf = pq.ParquetFile(path)
    try:
        _parquet_columns(pf, path, spec)
        names = pf.schema_arrow.names
        wanted = [spec.id_field, spec.text_field] + ([spec.site_field] if spec.site_field in names else [])
        columns = None if all_columns or spec.keep_fields else list(dict.fromkeys(wanted))
        row = 0
        for batch in pf.iter_batches(batch_size=_PARQUET_BATCH_ROWS, columns=columns):
            yield from _batch_records(batch, row, spec)
            row += batch.num_rows
    finally:
        pf.close()


def _batch_records(batch: pa.RecordBatch, first_row: int, spec: _Spec) -> Iterator[_Record]:
    ids = batch.column(spec.id_field).to_pylist()
    texts = batch.column(spec.text_field).to_pylist()
    others = _batch_others(batch, spec) if spec.keep_fields else None
    sites = (batch.column(spec.site_field).to_pylist() if spec.site_field in batch.schema.names
             else [None] * len(ids))
    for i, (doc_id, text) in enumerate(zip(ids, texts, strict=True)):
        rec = _Record(("row", first_row + i), doc_id=doc_id, text=text, raw=(batch, i))
        if isinstance(text, bytes):  # a binary column holding text
            rec.text, rec.repair = _decode_parquet_bytes(text)
        if others is not None:
            rec.others = others[i]
        _site(rec, spec, sites[i])
        yield rec


def _batch_others(batch: pa.RecordBatch, spec: _Spec) -> list[dict[str, Any]]:
    keep = [n for n in batch.schema.names if n not in (spec.id_field, spec.text_field)]
    rows: list[dict[str, Any]] = batch.select(keep).to_pylist()
    return rows


def _decode_parquet_bytes(data: bytes) -> tuple[str, str | None]:
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        note = (
            f"text is not valid UTF-8 (first bad byte at offset {exc.start}); "
            "invalid bytes replaced with U+FFFD"
        )
        return data.decode("utf-8", "replace"), note


def _parquet_compression(pf: pq.ParquetFile) -> str:
    if pf.metadata.num_row_groups == 0 or pf.metadata.num_columns == 0:
        return "snappy"
    codec = str(pf.metadata.row_group(0).column(0).compression).lower()
    return {"uncompressed": "none", "lz4_raw": "lz4"}.get(codec, codec)


# --------------------------------------------------------------------------------------------
# Reading


def _prepare_input(path: Path, spec: _Spec) -> InputFormat:
    """Check an input up front: it exists, its format is known, a Parquet file has the columns."""
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path} (no such file or folder)")
    fmt = detect_format(path)
    if fmt.kind == "parquet":
        try:
            pf = pq.ParquetFile(path)
        except _READ_ERRORS:
            return fmt  # bad data, not a usage error: reported as a problem while reading
        try:
            _parquet_columns(pf, path, spec)
        finally:
            pf.close()
    return fmt


def _make_spec(id_field: str, text_field: str, max_chars: int, keep_fields: bool, keep_boilerplate: bool = False,
               skipped: Counter[str] | None = None, workers: int = 1, site_field: str | None = None,
               skipped_files: SkippedFiles | None = None) -> _Spec:
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    return _Spec(id_field, text_field, max_chars, keep_fields, keep_boilerplate, skipped, skipped_files,
                 max(1, workers), site_field or None)


def read_documents(
    inputs: Sequence[str | Path],
    *,
    id_field: str = "id",
    text_field: str = "text",
    max_chars: int = DEFAULT_MAX_CHARS,
    problems: list[InputProblem] | None = None,
    keep_fields: bool = False,
    keep_boilerplate: bool = False,
    skipped: Counter[str] | None = None,
    workers: int = 1,
    site_field: str | None = None,
    skipped_files: SkippedFiles | None = None,
    seen_ids: set[str] | None = None,
) -> Iterator[Document]:
    """Stream the documents of all ``inputs`` in order; append every problem to ``problems``.

    Inputs are checked before anything is read: a missing path raises FileNotFoundError, an
    unknown format or a Parquet file without the id/text column raises ValueError.  Ids must be
    unique across all inputs of one call (the first wins).  WARC records that are not HTML pages
    are counted in ``skipped`` by reason; ``keep_boilerplate`` keeps a web page's whole text; web pages
    are extracted in ``workers`` processes (documents still come in input order). ``site_field`` names the
    JSON Lines / CSV / Parquet field that says which site each record comes from (``meta["site"]``: a URL,
    host or site name), for the template rule that text recurring within one site is that site's template.
    Files in input folders that are not read (not .txt or .html/.htm) are counted in ``skipped_files``.
    ``seen_ids``: ids an earlier call used (rejected here), updated with this call's (``find --against`` reads
    NEW, then REFERENCE with the same set).
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    spec = _make_spec(id_field, text_field, max_chars, keep_fields, keep_boilerplate, skipped, workers, site_field,
                      skipped_files)
    plan = [(Path(p), _prepare_input(Path(p), spec)) for p in inputs]
    return _read_all(plan, spec, _Checker(spec, problems, seen_ids))


def read_groups(new: Sequence[str | Path], reference: Sequence[str | Path] | None, **options: Any
                ) -> tuple[Iterator[Document], Iterator[Document] | None]:
    """The documents of ``new`` and of ``reference`` (None: no second group), read by :func:`read_documents`
    with ``options``; ids are unique over both (a REFERENCE record reusing a NEW id is rejected). Both groups'
    inputs are checked now; an input given in both is an error."""
    if reference is None:
        return read_documents(new, **options), None
    both = {Path(p).resolve() for p in new} & {Path(p).resolve() for p in reference}
    if both:
        raise ValueError(f"{sorted(map(str, both))[0]} is both NEW and REFERENCE input; give each input once")
    seen: set[str] = set()
    return read_documents(new, seen_ids=seen, **options), read_documents(reference, seen_ids=seen, **options)


def _read_all(plan: list[tuple[Path, InputFormat]], spec: _Spec, checker: _Checker) -> Iterator[Document]:
    for path, fmt in plan:
        src = checker.add_source(str(path), fmt)
        for rec in _records(path, fmt, spec):
            if rec.reject is _SKIP:
                continue
            doc = checker.check(rec, src)
            if doc is not None:
                yield doc


def documents_from_items(
    items: Iterable[Any],
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    problems: list[InputProblem] | None = None,
    source: str = "<api>",
    seen_ids: set[str] | None = None,
) -> Iterator[Document]:
    """Documents from in-memory items, checked by the same rules as files (the Python API's input).

    An item is a :class:`Document`, an ``(id, text)`` tuple, a mapping with ``"id"`` and ``"text"``, or a
    plain string (its id is its position). Problems name the item as ``item N`` (0-based). ``seen_ids``: as
    :func:`read_documents`'.
    """
    spec = _make_spec("id", "text", max_chars, False)
    checker = _Checker(spec, problems, seen_ids)
    src = checker.add_source(source, InputFormat("api", None))
    for k, item in enumerate(items):
        rec = _Record(locator=("item", k))
        if isinstance(item, Document):
            rec.doc_id, rec.text = item.id, item.text
        elif isinstance(item, tuple) and len(item) == 2:
            rec.doc_id, rec.text = item
        elif isinstance(item, dict):
            rec.doc_id, rec.text = item.get("id", _MISSING), item.get("text", _MISSING)
            rec.field_names = list(item)
        elif isinstance(item, str):
            rec.doc_id, rec.text = k, item
        else:
            rec.reject = (f"unsupported item type {type(item).__name__}; pass a Document, an (id, text) "
                          "tuple, a dict with 'id' and 'text', or a string")
        doc = checker.check(rec, src)
        if doc is not None:
            if isinstance(item, Document):
                doc.meta = {**item.meta, **doc.meta} if item.meta else doc.meta
            yield doc


# --------------------------------------------------------------------------------------------
# Writing


def write_kept(
    input_path: str | Path,
    kept: Callable[[Document], bool],
    out_dir: str | Path,
    *,
    id_field: str = "id",
    text_field: str = "text",
    max_chars: int = DEFAULT_MAX_CHARS,
    keep_fields: bool = False,
    seen_ids: set[str] | None = None,
    problems: list[InputProblem] | None = None,
    keep_boilerplate: bool = False,
    workers: int = 1,
    rewrite: Callable[[Document], str] | None = None,
) -> Path:
    """Copy the records of ``input_path`` for which ``kept(doc)`` is true to ``out_dir``.

    With ``rewrite``, a kept record whose ``rewrite(doc)`` differs from ``doc.text`` is written with that text
    instead (its other fields as they were: JSON Lines and CSV records re-encoded, Parquet rows with the text
    column replaced, a txt file rewritten in UTF-8; WARC and HTML input cannot be rewritten: ValueError).

    The output has the input's name, format and compression, and each kept record exactly as it
    was (JSON Lines: the line's bytes; CSV: the header and the record's bytes; Parquet: the same
    schema and codec, rows filtered; txt folder: the files copied to ``out_dir/<folder name>/``).
    ``kept`` receives the Documents :func:`read_documents` yields (pass the same ``max_chars`` and
    ``keep_fields``); rejected records are never written.  To reject ids that an earlier input
    already used, as ``read_documents`` does across inputs, pass one ``seen_ids`` set to the
    ``write_kept`` calls for all inputs, in input order.  Returns the output path (for a Parquet
    file that cannot be opened nothing is written; the reason goes to ``problems``).

    A WARC file keeps every record except the pages that are not kept, the records of the same
    fetch that name them (``WARC-Concurrent-To``: request and metadata records) and unreadable
    bytes; each record is copied byte for byte (gzip member for gzip member).
    """
    path = Path(input_path)
    spec = _make_spec(id_field, text_field, max_chars, keep_fields, keep_boilerplate, workers=workers)
    fmt = _prepare_input(path, spec)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / path.resolve().name
    if target.resolve() == path.resolve():
        raise ValueError(f"writing to {target} would overwrite the input; choose another output folder")
    checker = _Checker(spec, problems, seen_ids)
    src = checker.add_source(str(path), fmt)
    verdict = _verdict(kept, rewrite)
    if rewrite is not None and fmt.kind == "warc":
        raise ValueError(f"{path}: WARC input cannot be written back with texts changed; convert it to JSON Lines "
                         "first (doublet reads the extracted text of each page)")
    if fmt.kind == "txtdir":
        _write_txtdir(path, spec, checker, src, verdict, target)
    elif fmt.kind == "textfile":
        _write_text_file(path, spec, checker, src, verdict, target)
    elif fmt.kind == "parquet":
        _write_parquet(path, spec, checker, src, verdict, target)
    elif fmt.kind == "warc":
        _write_warc(path, spec, checker, src, kept, target)
    else:
        _write_stream(path, fmt, spec, checker, src, verdict, target)
    return target


_Verdict = Callable[[Document], "bool | str"]
"""What to do with a record: False drop it, True copy it as it is, a string: write it with this text."""


def _verdict(kept: Callable[[Document], bool], rewrite: Callable[[Document], str] | None) -> _Verdict:
    if rewrite is None:
        return kept

    def verdict(doc: Document) -> bool | str:
        if not kept(doc):
            return False
        text = rewrite(doc)
        return True if text == doc.text else text
    return verdict


def _line_end(raw: bytes) -> bytes:
    return b"\r\n" if raw.endswith(b"\r\n") else b"\n" if raw.endswith(b"\n") else b""


def _rewritten_jsonl(raw: bytes, spec: _Spec, text: str) -> bytes:
    """A JSON Lines record with its text field replaced (the other fields as they were, in their order)."""
    obj = json.loads(raw.decode("utf-8", "replace"))
    obj[spec.text_field] = text
    return json.dumps(obj, ensure_ascii=False).encode("utf-8") + _line_end(raw)


def _rewritten_csv(raw: bytes, header: list[str], fmt: InputFormat, spec: _Spec, text: str) -> bytes:
    """A CSV record with its text column replaced (the last column of that name, as the reader takes it)."""
    row = next(csv.reader(io.StringIO(raw.decode("utf-8", "replace")), delimiter=fmt.delimiter))
    row[len(header) - 1 - header[::-1].index(spec.text_field)] = text
    out = io.StringIO()
    csv.writer(out, delimiter=fmt.delimiter, lineterminator=_line_end(raw).decode()).writerow(row)
    return out.getvalue().encode("utf-8")


def _write_stream(
    path: Path,
    fmt: InputFormat,
    spec: _Spec,
    checker: _Checker,
    src: int,
    kept: _Verdict,
    target: Path,
) -> None:
    """JSON Lines / CSV: copy the header and each kept record's original bytes (or the record rewritten)."""
    # The reader hands the header over in a list rather than writing it itself, so that a write
    # error is never mistaken for a read error of the input (those are caught in the reader).
    header: list[bytes] = []
    columns: list[str] = []

    def sink(raw: bytes) -> None:
        header.append(raw)
        columns.extend(next(csv.reader(io.StringIO(raw.decode("utf-8", "replace")), delimiter=fmt.delimiter)))

    with _atomic_output(target, fmt.compression) as out:
        for rec in _records(path, fmt, spec, header_sink=sink):
            _drain(header, out)
            doc = checker.check(rec, src)
            verdict = doc is not None and kept(doc)
            if verdict is True:
                out.write(rec.raw)
            elif verdict:
                out.write(_rewritten_jsonl(rec.raw, spec, verdict) if fmt.kind == "jsonl"
                          else _rewritten_csv(rec.raw, columns, fmt, spec, verdict))
        _drain(header, out)


def _drain(pending: list[bytes], out: BinaryIO) -> None:
    for data in pending:
        out.write(data)
    pending.clear()


def _write_txtdir(
    folder: Path, spec: _Spec, checker: _Checker, src: int, kept: _Verdict, target: Path
) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(
            f"{target} already exists and is not an empty folder; remove it or choose another output folder"
        )
    target.mkdir(parents=True, exist_ok=True)
    for rec in _records(folder, InputFormat("txtdir", None), spec):
        doc = checker.check(rec, src)
        verdict = doc is not None and kept(doc)
        if verdict:
            dest = target / rec.locator[1]
            dest.parent.mkdir(parents=True, exist_ok=True)
            if verdict is True:
                shutil.copy2(rec.raw, dest)
            elif dest.suffix.lower() in (".html", ".htm"):
                raise ValueError(f"{rec.raw}: an HTML page cannot be written back with its text changed; convert "
                                 "the folder to JSON Lines first")
            else:
                dest.write_text(verdict, encoding="utf-8")


def _write_text_file(
    path: Path, spec: _Spec, checker: _Checker, src: int, kept: _Verdict, target: Path
) -> None:
    """One text file given directly: copied to ``target`` if its document is kept as it is, written with its
    new text if rewritten (``dedup --passages``), else nothing is written."""
    for rec in _records(path, detect_format(path), spec):
        doc = checker.check(rec, src)
        verdict = doc is not None and kept(doc)
        if verdict is True:
            shutil.copy2(path, target)
        elif verdict:
            if path.suffix.lower() in (".html", ".htm"):
                raise ValueError(f"{path}: an HTML page cannot be written back with its text changed; convert it "
                                 "to JSON Lines first")
            target.write_text(verdict, encoding="utf-8")


def _write_parquet(
    path: Path, spec: _Spec, checker: _Checker, src: int, kept: _Verdict, target: Path
) -> None:
    try:
        pf = pq.ParquetFile(path)
        schema, codec = pf.schema_arrow, _parquet_compression(pf)
        pf.close()
    except _READ_ERRORS as exc:
        checker.check(
            _Record(("file", None), where="file", reject=f"cannot read the file: {_describe(exc)}"), src
        )
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with pq.ParquetWriter(tmp, schema, compression=codec) as writer:
            _write_parquet_rows(path, spec, checker, src, kept, writer)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_parquet_rows(
    path: Path,
    spec: _Spec,
    checker: _Checker,
    src: int,
    kept: _Verdict,
    writer: pq.ParquetWriter,
) -> None:
    batch: pa.RecordBatch | None = None
    mask: list[bool | str] = []
    for rec in _records(path, InputFormat("parquet", None), spec, all_columns=True):
        doc = checker.check(rec, src)
        if rec.raw is None:  # a read error, already reported
            continue
        if rec.raw[0] is not batch:
            _flush_rows(writer, batch, mask, spec.text_field)
            batch, mask = rec.raw[0], []
        mask.append(doc is not None and kept(doc))
    _flush_rows(writer, batch, mask, spec.text_field)


def _flush_rows(writer: pq.ParquetWriter, batch: pa.RecordBatch | None, mask: list[bool | str], text: str) -> None:
    if batch is None or not any(mask):
        return
    rows = batch.filter(pa.array([bool(m) for m in mask], type=pa.bool_()))
    new = [m for m in mask if m]
    if any(isinstance(m, str) for m in new):  # texts changed: the text column replaced, the rest as it was
        at = rows.schema.get_field_index(text)
        old = rows.column(at).to_pylist()
        column = pa.array([m if isinstance(m, str) else o for m, o in zip(new, old)], rows.schema.field(at).type)
        rows = pa.RecordBatch.from_arrays([column if k == at else c for k, c in enumerate(rows.columns)],
                                          schema=rows.schema)
    writer.write_batch(rows)


def _write_warc(
    path: Path, spec: _Spec, checker: _Checker, src: int, kept: Callable[[Document], bool], target: Path
) -> None:
    """Copy the records to keep, each as its exact bytes (a record runs up to the next one's offset)."""
    # per record: offset, record id, WARC-Concurrent-To ids, and what to do: "copy", "drop" or "companion"
    # (a non-page record, copied unless it belongs to a dropped page)
    plan: list[tuple[int, str | None, tuple[str, ...], str]] = []
    for rec in _records(path, InputFormat("warc", None), spec):
        ref = rec.raw
        if not isinstance(ref, _WarcRef):  # the file could not be read: reported by the checker
            checker.check(rec, src)
        elif ref.kind == "other":
            plan.append((ref.offset, ref.record_id, ref.concurrent, "companion"))
        else:
            doc = checker.check(rec, src)
            keep = ref.kind == "page" and doc is not None and kept(doc)
            plan.append((ref.offset, ref.record_id, ref.concurrent, "copy" if keep else "drop"))
    gone = {rid for _, rid, _, action in plan if action == "drop" and rid}  # dropped pages
    # their companions: records they name (the request) and records that name them (metadata)
    named = {c for _, _, concurrent, action in plan if action == "drop" for c in concurrent}
    size = os.path.getsize(path)
    with open(path, "rb") as fh, _atomic_output(target, None) as out:
        for k, (offset, rid, concurrent, action) in enumerate(plan):
            if action == "drop" or (action == "companion" and (rid in named or any(c in gone for c in concurrent))):
                continue
            end = plan[k + 1][0] if k + 1 < len(plan) else size
            fh.seek(offset)
            shutil.copyfileobj(_Limited(fh, end - offset), out, _CHUNK)


class _Limited(io.RawIOBase):
    """The next ``n`` bytes of a file, as a stream."""

    def __init__(self, fh: BinaryIO, n: int) -> None:
        super().__init__()
        self._fh, self._left = fh, n

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._fh.read(min(len(buffer), self._left))
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)
