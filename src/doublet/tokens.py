"""Words with raw offsets, and their hashes as NumPy arrays.

A *word* is a maximal run of Unicode letters, combining marks and digits (``\\p{L}\\p{M}\\p{N}``): this
works for Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari and every other script that separates words
with spaces. URLs and e-mail addresses are not words (a URL's headline slug would otherwise
match the headline). Scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) are cut
into single characters, so their shingles are character n-grams. A word broken across a hard wrap with a
hyphen (``inter-\\nnational``) is one word.

Each word is reduced to a 64-bit hash of its normalized form (:func:`doublet.normalize.normalize_word`,
xxh3-64 of the UTF-8 bytes). Word hashes are stable across processes, machines and engines, so every engine
computes identical shingles. Shingles (word n-grams) are combined from word hashes in NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import re
from itertools import repeat

import numpy as np
import regex
import xxhash

from ._unicode_ranges import NEEDS_REGEX_CLASS
from .normalize import normalize_word, offset_map, repairs

_SPACELESS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_HYPHEN_WRAP = r"(?:-\r?\n[ \t]*(?=[a-z])"  # a hyphen at a line end, continued by a lower-case ASCII letter

# Each pattern yields (separator, word) pairs; separator and word lengths give the offsets in bulk.
# The fast path (Python's `re`) is used for texts without combining marks or space-less scripts; there
# `[^\W_]` is the same class as `[\p{L}\p{N}]`. Other texts take the `regex` path, which keeps combining
# marks inside words and splits space-less scripts into characters.
_FAST_RE = re.compile(rf"([\W_]*)([^\W_]+{_HYPHEN_WRAP}[^\W_]+)*)")
_SLOW_RE = regex.compile(
    rf"(?V1)([^\p{{L}}\p{{M}}\p{{N}}]*)"
    rf"([{_SPACELESS}]|[[\p{{L}}\p{{M}}\p{{N}}]--[{_SPACELESS}]]+{_HYPHEN_WRAP}[[\p{{L}}\p{{M}}\p{{N}}]--[{_SPACELESS}]]+)*)"
)
_NEEDS_SLOW = re.compile(NEEDS_REGEX_CLASS)
# URLs and e-mail addresses are addresses, not prose: their parts (a headline slug, a domain) are not words.
_ADDRESS_RE = re.compile(
    r"(?:[a-zA-Z][a-zA-Z0-9+.-]*://|www\.)[^\s<>\"\u201c\u201d]+"  # scheme:// or www.
    r"|\b[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*\.[a-zA-Z]{2,}/[^\s<>\"\u201c\u201d]*"  # host.tld/path
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"  # e-mail
)

_MASK64 = (1 << 64) - 1
_NGRAM_MUL = np.uint64(0x9E3779B97F4A7C15)
_hash_cache: dict[str, int] = {}
_CACHE_LIMIT = 2_000_000


@dataclass(frozen=True, slots=True)
class Tokens:
    """The words of one text: raw character spans and normalized-word hashes (parallel arrays)."""

    starts: np.ndarray  # int64, raw offsets
    ends: np.ndarray  # int64, raw offsets (exclusive)
    hashes: np.ndarray  # uint64

    def __len__(self) -> int:
        return int(self.hashes.shape[0])


def word_hash(word: str) -> int:
    """64-bit hash of a raw word's normalized form (never 0: 0 marks "not cached" in :func:`word_hashes`)."""
    return xxhash.xxh3_64_intdigest(normalize_word(word).encode("utf-8")) or 1


def word_hashes(ws: list[str]) -> np.ndarray:
    """Hashes of raw words, through a cache (a corpus's vocabulary is Zipfian: most words are cached)."""
    out = np.fromiter(map(_hash_cache.get, ws, repeat(0)), dtype=np.uint64, count=len(ws))
    missing = np.flatnonzero(out == 0)
    if missing.size:
        if len(_hash_cache) + missing.size > _CACHE_LIMIT:
            _hash_cache.clear()
        for i in missing.tolist():
            w = ws[i]
            h = _hash_cache.get(w)
            if h is None:
                h = _hash_cache[w] = word_hash(w)
            out[i] = h
    return out


def words(text: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Raw words of ``text``: start offsets, end offsets, and the word strings (no repair, no normalization).

    URLs and e-mail addresses are blanked out first (same length, so offsets are unchanged).
    """
    if "/" in text or "www." in text or "@" in text:
        text = _ADDRESS_RE.sub(lambda m: " " * len(m.group()), text)
    pat = _SLOW_RE if _NEEDS_SLOW.search(text) else _FAST_RE
    found = pat.findall(text)
    if not found:
        return np.empty(0, np.int64), np.empty(0, np.int64), []
    seps, ws = zip(*found)
    n = len(ws)
    sep_len = np.fromiter(map(len, seps), dtype=np.int64, count=n)
    word_len = np.fromiter(map(len, ws), dtype=np.int64, count=n)
    ends = np.cumsum(sep_len + word_len)
    return ends - word_len, ends, list(ws)


def tokenize(text: str) -> Tokens:
    """Find the words of ``text`` with their raw offsets and hashes, repairing mojibake on the way."""
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    found: list[str] = []
    pos = 0

    def scan(segment: str, base: int) -> None:
        s, e, w = words(segment)
        starts.append(s + base)
        ends.append(e + base)
        found.extend(w)

    for r_start, r_end, fixed in repairs(text):
        scan(text[pos:r_start], pos)
        m_start, m_end = offset_map(text[r_start:r_end], fixed)
        s, e, w = words(fixed)
        starts.append(np.asarray([r_start + m_start[i] for i in s], dtype=np.int64))
        ends.append(np.asarray([r_start + m_end[i] for i in e], dtype=np.int64))
        found.extend(w)
        pos = r_end
    scan(text[pos:], pos)
    hashes = word_hashes(found)
    return Tokens(starts=np.concatenate(starts), ends=np.concatenate(ends), hashes=hashes)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer: spreads the bits of uint64 values (vectorized)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def ngram_hashes(word_hashes: np.ndarray, n: int) -> np.ndarray:
    """Hash of every run of ``n`` consecutive words (position ``i`` covers words ``i..i+n-1``).

    Order-sensitive (a polynomial in the word hashes, then mixed). A text with fewer than ``n`` (but at least
    one) words gets a single hash of all its words, so short documents still have one shingle.
    """
    t = word_hashes.shape[0]
    if t == 0:
        return np.empty(0, dtype=np.uint64)
    k = min(n, t)
    m = t - k + 1
    acc = word_hashes[:m].copy()
    for j in range(1, k):
        acc = acc * _NGRAM_MUL + word_hashes[j : j + m]
    return mix64(acc + np.uint64(k))
