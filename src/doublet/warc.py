"""WARC files (``.warc``, ``.warc.gz``) as a stream of web pages, skipped records and bad records.

:func:`read_warc` walks a WARC file with fastwarc and classifies every record:

* :class:`WarcPage` -- an HTML page: a ``response`` record with HTTP status 2xx whose ``Content-Type`` is
  ``text/html`` or ``application/xhtml+xml`` (or missing/generic, when the payload starts like HTML), or a
  ``resource`` record of such a type.  HTTP content and transfer encodings (gzip, deflate, brotli) are
  decoded.
* :class:`WarcSkip` -- a record that is not a page, with a reason used as a count key: the record type
  (``request``, ``metadata``, ``warcinfo``, ``revisit``, ...), ``response: image/jpeg`` (its MIME type),
  ``response: HTTP 404`` (status not 2xx) or ``response: empty``.
* :class:`WarcBad` -- data that cannot be read: a record the file ends inside (truncated file), or bytes
  that are not WARC (corrupt gzip member, broken header).  After a bad stretch the reader looks for the
  next record (the next gzip member, or the next ``WARC/1.x`` line) and goes on.

Every item carries its ``offset``: the byte offset of the record in the file as stored (compressed offset
for ``.warc.gz``, where every record is its own gzip member).  ``offset`` to the next item's offset is the
record's exact bytes, which ``doublet dedup`` copies.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .extract import looks_like_html

__all__ = ["WarcBad", "WarcPage", "WarcSkip", "read_warc"]

HTML_TYPES = ("text/html", "application/xhtml+xml")
_GENERIC_TYPES = ("", "application/octet-stream", "text/plain", "unk", "unknown")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"(?:^|\n)WARC/1\.[01]\r?\n")
_SCAN_CHUNK = 1 << 20
_CONTENT_LENGTH = re.compile(rb"\nContent-Length:[ \t]*(\d+)", re.I)


@dataclass(frozen=True, slots=True)
class WarcPage:
    """An HTML page found in a WARC record."""

    offset: int
    record_id: str | None
    uri: str | None
    date: str | None  # WARC-Date: when the page was fetched
    charset: str | None  # the charset of the HTTP Content-Type, if any
    body: bytes
    concurrent: tuple[str, ...] = ()  # WARC-Concurrent-To: the request/metadata records of the same fetch
    truncated: str | None = None  # WARC-Truncated reason (e.g. "length"): the crawler kept only a prefix


@dataclass(frozen=True, slots=True)
class WarcSkip:
    """A record that is not an HTML page (counted by ``reason``, never reported one by one)."""

    offset: int
    reason: str
    record_id: str | None = None
    concurrent: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WarcBad:
    """A record or stretch of bytes that cannot be read, and why (``end``: where the unreadable bytes end)."""

    offset: int
    reason: str
    record_id: str | None = None
    uri: str | None = None
    end: int | None = None


WarcItem = WarcPage | WarcSkip | WarcBad


def read_warc(path: str | Path) -> Iterator[WarcItem]:
    """Classify every record of one WARC file (plain or gzip-per-record); see the module doc.

    Raises OSError only if the file cannot be opened; everything inside it becomes an item.
    """
    from fastwarc.warc import ArchiveIterator

    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        gz = fh.read(3) == _GZIP_MAGIC
        start: int | None = 0
        while start is not None and start < size:
            fh.seek(start)
            last: int | None = None
            base = 0  # fastwarc gives file offsets when the file was seeked; be safe if it counts from there
            try:
                for rec in ArchiveIterator(fh, parse_http=False, fsspec_args=False):
                    if last is None and rec.stream_pos < start:
                        base = start
                    last = base + rec.stream_pos
                    yield _classify(rec, last)
                return
            except OSError as exc:
                bad = start if last is None else _record_end(fh, last, gz, size)
                start = _next_record(fh, bad + 1, gz, size)
                rest = "skipped to the next record" if start is not None else "the rest of the file was skipped"
                yield WarcBad(bad, f"unreadable WARC data ({exc}); {rest}", end=size if start is None else start)


def _record_end(fh: BinaryIO, offset: int, gz: bool, size: int) -> int:
    """Where the record that starts at ``offset`` ends (its gzip member, or header + Content-Length + CRLF CRLF)."""
    fh.seek(offset)
    if gz:
        while True:
            chunk = fh.read(_SCAN_CHUNK)
            hit = chunk.find(_GZIP_MAGIC, 1 if fh.tell() - len(chunk) == offset else 0)
            if hit >= 0:
                return fh.tell() - len(chunk) + hit
            if len(chunk) < _SCAN_CHUNK:
                return size
            fh.seek(-2, os.SEEK_CUR)  # the magic may straddle two chunks
    head = fh.read(1 << 16)
    end = head.find(b"\r\n\r\n")
    m = _CONTENT_LENGTH.search(head, 0, max(end, 0))
    return min(size, offset + end + 4 + int(m.group(1)) + 4) if end >= 0 and m else offset + 1


def _next_record(fh: BinaryIO, pos: int, gz: bool, size: int) -> int | None:
    """Offset of the first readable record after ``pos``: a gzip member, or a ``WARC/1.x`` line."""
    from fastwarc.warc import ArchiveIterator

    while pos < size:
        fh.seek(pos - 1)  # one byte back: a WARC/1.x line must follow a newline
        chunk = fh.read(_SCAN_CHUNK + 16)
        if gz:
            hit = chunk.find(_GZIP_MAGIC, 1)
        else:
            m = _WARC_LINE.search(chunk)
            hit = -1 if m is None else m.start() + 1
        if hit < 0:
            pos += _SCAN_CHUNK
            continue
        cand = pos - 1 + hit
        fh.seek(cand)
        try:
            next(iter(ArchiveIterator(fh, parse_http=False, fsspec_args=False)))
            return cand
        except (OSError, StopIteration):
            pos = cand + 1
    return None


def _header(rec: Any, name: str) -> str | None:
    value = rec.headers.get(name)
    return str(value) if value else None


def _classify(rec: Any, offset: int) -> WarcItem:
    """One record as a page, a skip or a bad record."""
    from fastwarc.warc import WarcRecordType

    rtype = rec.record_type
    kind = str(rtype).rsplit(".", 1)[-1]
    record_id = _header(rec, "WARC-Record-ID")
    concurrent = tuple(str(v) for k, v in rec.headers.items() if k.lower() == "warc-concurrent-to")
    if rtype not in (WarcRecordType.response, WarcRecordType.resource):
        return WarcSkip(offset, kind, record_id, concurrent)
    uri = _header(rec, "WARC-Target-URI")
    if rtype == WarcRecordType.response:
        if not (_header(rec, "Content-Type") or "").lower().startswith("application/http"):
            return WarcSkip(offset, f"{kind}: not HTTP", record_id, concurrent)
        try:
            rec.parse_http(auto_decode="all", quirks_mode=True)
        except (OSError, ValueError) as exc:
            return WarcBad(offset, f"broken HTTP header ({exc})", record_id, uri)
        status = rec.http_headers.status_code or 0
        if not 200 <= status < 300:
            return WarcSkip(offset, f"{kind}: HTTP {status}", record_id, concurrent)
        ctype, charset = rec.http_content_type, rec.http_charset
        encoded = any(rec.http_headers.get(h) for h in ("Content-Encoding", "Transfer-Encoding"))
    else:
        ctype, charset = _media_type(_header(rec, "Content-Type"))
        encoded = False
    ctype = (ctype or "").lower()
    if ctype not in HTML_TYPES and ctype not in _GENERIC_TYPES:
        return WarcSkip(offset, f"{kind}: {ctype}", record_id, concurrent)
    try:
        body = rec.reader.read()
    except (OSError, ValueError) as exc:
        return WarcBad(offset, f"cannot decode the HTTP payload ({exc})", record_id, uri)
    if not encoded and len(body) < rec.content_length:
        return WarcBad(offset, f"the file ends inside this record ({len(body):,} of {rec.content_length:,} "
                               "payload bytes); is the file truncated?", record_id, uri)
    if not body.strip():
        return WarcSkip(offset, f"{kind}: empty", record_id, concurrent)
    if ctype not in HTML_TYPES and not looks_like_html(body):
        return WarcSkip(offset, f"{kind}: {ctype or 'no content type'}", record_id, concurrent)
    return WarcPage(offset, record_id, uri, _header(rec, "WARC-Date"), charset or None, body, concurrent,
                    _header(rec, "WARC-Truncated"))


def _media_type(value: str | None) -> tuple[str | None, str | None]:
    """(MIME type, charset) of a Content-Type header value."""
    if not value:
        return None, None
    parts = [p.strip() for p in value.split(";")]
    charset = next((p.split("=", 1)[1].strip("\"' ") for p in parts[1:] if p.lower().startswith("charset=")), None)
    return parts[0].lower(), charset
