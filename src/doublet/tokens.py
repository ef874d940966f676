"""Words with raw offsets, and their hashes as NumPy arrays.

A *word* is a maximal run of Unicode letters, combining marks and digits (``\\p{L}\\p{M}\\p{N}``): this
works for Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari and every other script that separates words
with spaces. Scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) are cut
into single characters, so their shingles are character n-grams. A word broken across a hard wrap with a
hyphen (``inter-\\nnational``) is one word. URLs and e-mail addresses are not words (a URL's headline slug
would otherwise match the headline).

Each word is reduced to a 64-bit hash of its normalized form (see :mod:`doublet.normalize`). The scanning,
normalization and hashing run in the C kernel (``doublet._kernel``, tables generated from
:func:`doublet.normalize.normalize_word`), so every engine and every machine computes identical hashes.
Texts that contain mojibake are repaired with ftfy first and their words mapped back to raw offsets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _kernel
from .normalize import offset_map, repairs


@dataclass(frozen=True, slots=True)
class Tokens:
    """The words of one text: raw character spans and normalized-word hashes (parallel arrays)."""

    starts: np.ndarray  # int64, raw offsets
    ends: np.ndarray  # int64, raw offsets (exclusive)
    hashes: np.ndarray  # uint64

    def __len__(self) -> int:
        return int(self.hashes.shape[0])


def _scan(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    s, e, h, flags = _kernel.tokenize(text)
    return np.frombuffer(s, np.int64), np.frombuffer(e, np.int64), np.frombuffer(h, np.uint64), flags


def _splice(text: str, reps: list[tuple[int, int, str]]) -> str:
    """``text`` with each raw chunk ``text[start:end]`` replaced by its repair."""
    parts: list[str] = []
    pos = 0
    for r_start, r_end, fixed in reps:
        parts.append(text[pos:r_start])
        parts.append(fixed)
        pos = r_end
    parts.append(text[pos:])
    return "".join(parts)


def repaired_text(text: str) -> str | None:
    """The text with its mojibake repaired (``None`` when ftfy changes nothing)."""
    reps = repairs(text)
    return _splice(text, reps) if reps else None


def repaired(text: str) -> tuple[str, np.ndarray, np.ndarray] | None:
    """The text with its mojibake repaired, and maps from repaired positions to raw start/end offsets.

    ``None`` when ftfy changes nothing. A word spanning ``fixed[i:j]`` spans ``text[starts[i]:ends[j]]``.
    """
    reps = repairs(text)
    if not reps:
        return None
    m_start: list[np.ndarray] = []
    m_end: list[np.ndarray] = []
    pos = 0
    for r_start, r_end, fixed in reps:
        same = np.arange(pos, r_start, dtype=np.int64)
        fs, fe = offset_map(text[r_start:r_end], fixed)
        m_start += [same, np.asarray(fs[:-1], dtype=np.int64) + r_start]
        m_end += [same, np.asarray(fe[:-1], dtype=np.int64) + r_start]
        pos = r_end
    tail = np.arange(pos, len(text) + 1, dtype=np.int64)
    return _splice(text, reps), np.concatenate(m_start + [tail]), np.concatenate(m_end + [tail])


def tokenize(text: str) -> Tokens:
    """Find the words of ``text`` with their raw offsets and hashes, repairing mojibake on the way."""
    starts, ends, hashes, flags = _scan(text)
    if flags & _kernel.FLAG_MOJIBAKE:
        fix = repaired(text)
        if fix is not None:
            fixed, to_start, to_end = fix
            fs, fe, hashes, _ = _scan(fixed)
            starts, ends = to_start[fs], to_end[fe]
    return Tokens(starts=starts, ends=ends, hashes=hashes)


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
    return np.frombuffer(_kernel.ngrams(np.ascontiguousarray(word_hashes, dtype=np.uint64), n), np.uint64)
