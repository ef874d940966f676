"""Text cleaning that never loses track of where things were in the raw text.

doublet never rewrites a document. It finds *words* in the raw text (see :mod:`doublet.tokens`), and only
the words are normalized. So every word keeps its raw character offsets, and a passage found on normalized
words is reported at offsets into the text exactly as it was read. What gets normalized:

* **Mojibake** (UTF-8 read as Windows-1252/Latin-1: ``Â©``, ``Russiaâ€™s``, ``cafÃ©``) is repaired with
  ftfy, one whitespace-delimited chunk at a time, and only in chunks that ftfy's own badness heuristic flags.
  The repaired chunk is mapped back onto the raw chunk character by character (:func:`offset_map`).
* **Unicode variants**: compatibility forms (full-width letters, ligatures such as ``ﬁ``, superscripts) by
  NFKC; case by ``casefold``; accents on Latin, Greek, Cyrillic, Hebrew and Arabic letters are dropped, so
  ``café``/``cafe`` and vocalised/unvocalised Arabic match. Marks that carry meaning in Indic and Southeast
  Asian scripts are kept.
* **Quotes, dashes, glued sentences** (``Monday."Both``) and **hard wraps** need no rewriting: words are runs
  of letters, marks and digits, so punctuation and line breaks between them never reach a word. A word
  hyphenated across a hard wrap (``inter-\\nnational``) is joined (see :mod:`doublet.tokens`).
"""

from __future__ import annotations

import difflib
import unicodedata
import ftfy
import regex

# Characters that appear in UTF-8-as-cp1252/latin-1 mojibake. A chunk with none of these needs no ftfy.
_MOJIBAKE_HINT = regex.compile(r"[\u00c2-\u00c3\u00c5\u00ce\u00cf\u00d0\u00d1\u00d8\u00d9\u00e2\u00ef]"
                               r"[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                               r"\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")
_WS_FWD = regex.compile(r"[ \t\r\n\f\v]")
_WS_BACK = regex.compile(r"(?r)[ \t\r\n\f\v]")
_FTFY_CONFIG = ftfy.TextFixerConfig(unescape_html=False, uncurl_quotes=False, fix_line_breaks=False,
                                    fix_character_width=False, fix_latin_ligatures=False, normalization=None,
                                    explain=False)


_repair_cache: dict[str, str] = {}


def _fix_chunks(chunks: list[str]) -> None:
    """Run ftfy once over all not-yet-seen chunks (one per line) and cache the results."""
    todo = [c for c in dict.fromkeys(chunks) if c not in _repair_cache]
    if not todo:
        return
    if len(_repair_cache) > 200_000:
        _repair_cache.clear()
    fixed = ftfy.fix_text("\n".join(todo), _FTFY_CONFIG).split("\n")
    if len(fixed) != len(todo):  # a repair produced or removed a line break: fix one by one
        fixed = [ftfy.fix_text(c, _FTFY_CONFIG) for c in todo]
    _repair_cache.update(zip(todo, fixed))


def repairs(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, fixed)`` for each raw chunk ``text[start:end]`` that ftfy repairs, in text order.

    Chunks are maximal runs of non-ASCII-whitespace characters, so a repair never moves words across
    chunks. Text without mojibake hints costs one regex search; flagged chunks go to ftfy in one call per
    document, and repairs are cached (mojibake such as ``â€™`` recurs across a corpus).
    """
    hits = [m.start() for m in _MOJIBAKE_HINT.finditer(text)]
    if not hits:
        return []
    spans: list[tuple[int, int]] = []
    for p in hits:
        if spans and p < spans[-1][1]:
            continue
        before = _WS_BACK.search(text, 0, p)
        after = _WS_FWD.search(text, p)
        spans.append((before.end() if before else 0, after.start() if after else len(text)))
    chunks = [text[s:e] for s, e in spans]
    _fix_chunks(chunks)
    return [(s, e, _repair_cache[c]) for (s, e), c in zip(spans, chunks) if _repair_cache[c] != c]


def offset_map(raw: str, fixed: str) -> tuple[list[int], list[int]]:
    """Map each position of ``fixed`` back into ``raw``.

    Returns ``(starts, ends)`` of length ``len(fixed) + 1``: a word spanning ``fixed[i:j]`` spans
    ``raw[starts[i]:ends[j]]``. Inside a replaced block (``Â©`` → ``©``) starts map to the block's start and
    ends to its end, so the raw span always covers the whole garbled sequence.
    """
    starts = [0] * (len(fixed) + 1)
    ends = [0] * (len(fixed) + 1)
    sm = difflib.SequenceMatcher(None, raw, fixed, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for k in range(j2 - j1 + 1):
                starts[j1 + k] = i1 + k
                ends[j1 + k] = i1 + k
        else:
            for k in range(j1, j2 + 1):
                starts[k] = i1 if k < j2 else i2
                ends[k] = i2 if k > j1 else i1
    starts[len(fixed)] = len(raw)
    ends[len(fixed)] = len(raw)
    return starts, ends


def normalize_word(word: str) -> str:
    """Normalized form of one word: NFKC, casefolded, accents dropped, hard-wrap hyphenation joined."""
    if "\n" in word or "\r" in word:
        word = regex.sub(r"-[\r\n]+[ \t]*", "", word)
    if word.isascii():
        return word.lower()
    w = unicodedata.normalize("NFKC", word).casefold()
    decomposed = unicodedata.normalize("NFD", w)
    stripped = "".join(c for c in decomposed if not (ord(c) < 0x0800 and unicodedata.category(c) == "Mn"))
    return unicodedata.normalize("NFC", stripped)
