"""Web pages in, text out: decode HTML bytes without mojibake and extract the main text and page metadata.

Decoding (:func:`decode_html`)
------------------------------
Browsers and crawlers meet every kind of charset mistake; the order below gets the right characters in
each case we know of, and says what it did:

1. a byte order mark (UTF-8, UTF-16) decides;
2. a declared charset that is not ASCII-compatible (UTF-16/32, ISO-2022-*) is used as declared;
3. **valid UTF-8 is UTF-8**, whatever is declared: a Latin-1/Windows-1252 text with accented letters is
   (almost) never valid UTF-8, while UTF-8 pages declared as ``iso-8859-1`` are common;
4. mostly UTF-8 with a few bad bytes (a Windows-1252 snippet pasted into a UTF-8 page, a record cut in
   the middle of a character) is decoded as UTF-8, the bad bytes as Windows-1252; "mostly" means at
   least four valid multi-byte characters per bad byte, or else fewer mojibake sequences (ftfy's
   badness) than the single-byte reading of steps 5-7;
5. otherwise the declared charset (HTTP ``Content-Type``, then ``<meta charset>`` in the first 8 KiB),
   if the bytes are valid in it;
6. otherwise the charset detected by uchardet (resiliparse);
7. otherwise Windows-1252, which decodes any byte.

Labels are mapped as the WHATWG Encoding standard does (``iso-8859-1`` and ``ascii`` mean Windows-1252,
``gb2312`` means GBK, ...), then widened to the superset Python has (GBK -> GB18030, Shift_JIS -> cp932,
EUC-KR -> cp949, Big5 -> Big5-HKSCS), since pages use the superset's characters.  What cannot be told
from the bytes is a wrong *single-byte* declaration (a Windows-1252 page declared ``windows-1251``
decodes without error); such a page keeps the declared charset.

Extraction (:func:`extract_page`)
---------------------------------
The main text is trafilatura's (``bare_extraction`` with ``include_comments=False`` and
``favor_precision=True``: reader comments are not the article, and stray navigation costs more in reuse
detection than a missed caption; if that finds nothing, trafilatura again with ``favor_recall=True``).
``bench/extraction.py`` measures it against trafilatura's defaults on the article-extraction benchmark.
With ``keep_boilerplate=True`` the text is the whole visible page text (resiliparse's
``extract_plain_text``, block structure kept as line breaks), for corpora where navigation and footers
matter or where boilerplate is left to doublet's own document-frequency rule.

Metadata: ``title``, ``site`` (the site name the page declares, else the URL's host), ``url`` (given,
else the page's canonical URL) and ``published`` (the publication date trafilatura/htmldate find, as
``YYYY-MM-DD``, from the page's own metadata: htmldate's extensive search, which guesses from any
date-like string, is off), each only when known.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Decoded", "Page", "decode_html", "extract_page", "looks_like_html", "normalize_charset", "preload"]

_UTF8_BOM = codecs.BOM_UTF8
_META_SCAN = 8192
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S)
# WHATWG labels that Python knows under another name, or whose superset pages actually use.
_SUPERSETS = {"gbk": "gb18030", "gb2312": "gb18030", "shift_jis": "cp932", "euc_kr": "cp949", "euc-kr": "cp949",
              "big5": "big5hkscs", "iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252",
              "ascii": "cp1252", "us-ascii": "cp1252", "iso-8859-9": "cp1254", "iso-8859-11": "cp874",
              "tis-620": "cp874"}
_NOT_ASCII_COMPATIBLE = ("utf-16", "utf_16", "utf-32", "utf_32", "iso2022", "iso-2022", "iso_2022", "utf-7", "hz")
_MOSTLY_UTF8 = 4  # at least this many valid multi-byte characters per bad byte: UTF-8 with a few bad bytes


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode the offending bytes as Windows-1252 (undefined bytes as Latin-1)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    return "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in bad), exc.end


codecs.register_error("doublet-cp1252", _cp1252_fallback)


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text of an HTML byte string, the Python codec used, and a note when the bytes were not as declared.

    ``repaired`` is true when some bytes were invalid in the charset used (or the charset is a last-resort
    guess): the note then says what was done, and the reader reports the page as repaired.
    """

    text: str
    encoding: str
    note: str | None = None
    repaired: bool = False


def normalize_charset(label: str | bytes | None) -> str | None:
    """A charset label as a Python codec name (WHATWG mapping, then the superset), or None if unknown."""
    if label is None:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    try:
        codecs.lookup(label)
    except LookupError:
        return None
    from resiliparse.parse.encoding import map_encoding_to_html5

    name = map_encoding_to_html5(label)
    return _SUPERSETS.get(name, _SUPERSETS.get(label, name))


def _meta_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:_META_SCAN])
    return normalize_charset(m.group(1)) if m else None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(data: bytes, declared: str | None = None) -> Decoded:
    """Decode an HTML page: ``declared`` is the HTTP charset (None if there was none). See the module doc."""
    if data.startswith(_UTF8_BOM):
        return Decoded(data[len(_UTF8_BOM):].decode("utf-8", "doublet-cp1252"), "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoded(data.decode("utf-16", "replace"), "utf-16")
    http = normalize_charset(declared)
    claimed = http or _meta_charset(data)
    if claimed is not None and claimed.startswith(_NOT_ASCII_COMPATIBLE):
        text = _strict(data, claimed)
        if text is not None:
            return Decoded(text, claimed)
    text = _strict(data, "utf-8")
    if text is not None:
        wrong = claimed not in (None, "utf-8") and not text.isascii()
        return Decoded(text, "utf-8", f"declared {claimed} but is valid UTF-8; decoded as UTF-8" if wrong else None)
    mixed, clearly = _mixed_utf8(data)
    mixed_note = "UTF-8 with some invalid bytes; those decoded as Windows-1252"
    if clearly:
        return Decoded(mixed, "utf-8", mixed_note, True)
    single = _single_byte(data, claimed)
    if mixed is not None and _badness(mixed) < _badness(single.text):
        return Decoded(mixed, "utf-8", mixed_note, True)
    return single


def _single_byte(data: bytes, claimed: str | None) -> Decoded:
    """Steps 5-7: the declared charset, else the detected one, else Windows-1252."""
    if claimed not in (None, "utf-8"):
        text = _strict(data, claimed)
        if text is not None:
            return Decoded(text, claimed)
    sniffed = _sniff(data)
    if sniffed is not None and sniffed != "utf-8":
        text = _strict(data, sniffed)
        if text is not None:
            return Decoded(text, sniffed, _wrong(claimed, sniffed))
    return Decoded(data.decode("cp1252", "doublet-cp1252"), "cp1252", _wrong(claimed, "cp1252", "last resort"), True)


def _badness(text: str) -> int:
    import ftfy.badness

    return int(ftfy.badness.badness(text))


def _wrong(claimed: str | None, used: str, how: str = "detected") -> str:
    said = "no charset declared" if claimed is None else f"declared {claimed} but the bytes are not valid {claimed}"
    return f"{said}; decoded as {used} ({how})"


def _mixed_utf8(data: bytes) -> tuple[str | None, bool]:
    """Invalid UTF-8 that has valid multi-byte characters too: decoded as UTF-8 with the bad bytes as
    Windows-1252 (None if it has no valid multi-byte character), and whether those clearly dominate."""
    loose = data.decode("utf-8", "replace")
    bad = loose.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    multi = sum(1 for ch in loose if ord(ch) > 127) - bad
    if multi <= 0:
        return None, False
    return data.decode("utf-8", "doublet-cp1252"), multi >= _MOSTLY_UTF8 * bad


def _sniff(data: bytes) -> str | None:
    from resiliparse.parse.encoding import detect_encoding

    return normalize_charset(detect_encoding(data))


def looks_like_html(data: bytes) -> bool:
    """Whether a payload without a usable Content-Type starts like an HTML document."""
    head = data[:1024]
    if head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM):]
    return _HTML_START.match(head) is not None


# --------------------------------------------------------------------------------------------
# Extraction


@dataclass(frozen=True, slots=True)
class Page:
    """What a web page gives doublet: its text (empty if none was found) and the metadata that is known."""

    text: str
    title: str | None = None
    site: str | None = None
    url: str | None = None
    published: str | None = None

    def meta(self) -> dict[str, str]:
        """The known metadata fields (``url``, ``title``, ``site``, ``published``)."""
        items = (("url", self.url), ("title", self.title), ("site", self.site), ("published", self.published))
        return {k: v for k, v in items if v}


_QUIET = False
# Publication dates from the page's own metadata (meta tags, JSON-LD, time elements, URL), not htmldate's
# extensive search, which guesses from any date-like string (copyright years, calendars) and would mislead
# source attribution.
_DATES = {"original_date": True, "extensive_search": False}


def _trafilatura() -> Any:
    """Import trafilatura on first use (it takes a second) and keep its per-page warnings off stderr."""
    global _QUIET
    import trafilatura

    if not _QUIET:
        for name in ("trafilatura", "htmldate", "courlan"):
            logging.getLogger(name).setLevel(logging.ERROR)
        _QUIET = True
    return trafilatura


def preload() -> None:
    """Import the extraction libraries now (before forking worker processes, so that they inherit them)."""
    _trafilatura()
    import resiliparse.extract.html2text  # noqa: F401
    import resiliparse.parse.encoding  # noqa: F401
    import trafilatura.metadata  # noqa: F401


def _host(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname
    return host.removeprefix("www.") if host else None


def extract_page(html: str, url: str | None = None, *, keep_boilerplate: bool = False) -> Page:
    """Main text (or, with ``keep_boilerplate``, all visible text) and metadata of one decoded HTML page."""
    traf = _trafilatura()
    if keep_boilerplate:
        from resiliparse.extract.html2text import extract_plain_text
        from trafilatura.metadata import extract_metadata

        text = extract_plain_text(html, preserve_formatting=True, main_content=False, alt_texts=False,
                                  links=False, form_fields=False, noscript=False)
        doc = extract_metadata(html, default_url=url, date_config=_DATES, extensive=False) if text.strip() else None
    else:
        common = {"url": url, "with_metadata": True, "include_comments": False, "date_extraction_params": _DATES}
        doc = traf.bare_extraction(html, favor_precision=True, **common)
        if doc is None or not (doc.text or "").strip():
            doc = traf.bare_extraction(html, favor_recall=True, **common)
        text = (doc.text or "") if doc is not None else ""
    if doc is None:
        return Page(text, url=url, site=_host(url))
    page_url = url or doc.url or None
    return Page(text, title=doc.title or None, site=doc.sitename or _host(page_url) or doc.hostname or None,
                url=page_url, published=doc.date or None)
