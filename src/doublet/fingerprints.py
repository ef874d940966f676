"""Passage fingerprints by winnowing (Schleimer, Wilkerson & Aiken, SIGMOD 2003), and the boilerplate mask.

Winnowing itself runs in the C kernel (``doublet/_native/kernel.c``, called through
:func:`doublet.analysis.fingerprint_batch` and :func:`doublet.analysis.view`). Over the sequence of shingle hashes of a document, slide a window of ``w`` consecutive hashes and keep the
minimum of each window (the rightmost one on ties). Two guarantees follow:

* every run of ``w + n - 1`` words (``n`` = words per shingle) shared by two documents contains a window of
  ``w`` identical shingles, so both documents select the same minimum: *shared text is never missed*;
* consecutive windows mostly share their minimum, so only about ``2 / (w + 1)`` of the positions are kept.

A fingerprint is ``(hash, position)``; the position is the index of the shingle's first word, which lets
the aligner and the boilerplate mask go back to words.
"""

from __future__ import annotations

import numpy as np

from . import _kernel
from .tokens import Tokens


def boilerplate_mask(text: str, tokens: Tokens, positions: np.ndarray, shingle_size: int, window: int) -> np.ndarray:
    """Words covered by boilerplate fingerprints (given by their positions), as a mask (one uint8 per word).

    A fingerprint covers its shingle's words. Because winnowing keeps at least one fingerprint in every
    window of ``window`` shingles, two boilerplate fingerprints at most ``window`` positions apart belong to
    one boilerplate run: the words between them are boilerplate too. For the same reason the first and last
    fingerprints of a run can sit up to ``window + shingle_size - 1`` words inside the boilerplate block;
    boilerplate (navigation, footers, share widgets) comes in whole lines, so a run is widened to the nearest
    line break (or the text's start or end) within that margin. Runs in the C kernel.
    """
    out = _kernel.mask(text, np.ascontiguousarray(tokens.starts, np.int64), np.ascontiguousarray(tokens.ends, np.int64),
                       np.ascontiguousarray(np.sort(positions), np.uint32), shingle_size, window)
    return np.frombuffer(out, np.uint8)


class HashSet:
    """Sorted unique uint64 hashes (the run's boilerplate fingerprints) with a bitmap of their low bits in
    front, so that asking about a document's fingerprints costs one table look-up each and a binary search only
    for the few the bitmap lets through (verification asks for every document it prepares; a binary search
    over 200k hashes per fingerprint was an eighth of the stage)."""

    __slots__ = ("hashes", "_bits", "_shift")

    def __init__(self, hashes: np.ndarray):
        self.hashes = np.ascontiguousarray(hashes, np.uint64)
        size = 1 << max(16, min(26, int(self.hashes.shape[0] * 16).bit_length()))  # >= 16 bits per hash
        self._shift = np.uint64(64 - size.bit_length() + 1)
        self._bits = np.zeros(size, bool)
        self._bits[self.hashes >> self._shift] = True

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    def contains(self, values: np.ndarray) -> np.ndarray:
        """One bool per value: is it among the hashes."""
        values = np.asarray(values, np.uint64)
        hit = self._bits[values >> self._shift]
        maybe = np.flatnonzero(hit)
        if maybe.shape[0]:
            v = values[maybe]
            idx = np.searchsorted(self.hashes, v)
            idx[idx == self.hashes.shape[0]] = 0
            hit[maybe] = self.hashes[idx] == v
        return hit


def member(hashes: "np.ndarray | HashSet", values: np.ndarray) -> np.ndarray:
    """One bool per value: is it among ``hashes`` (sorted unique uint64, or a :class:`HashSet` of them)."""
    if isinstance(hashes, HashSet):
        return hashes.contains(values)
    if hashes.shape[0] == 0:
        return np.zeros(np.shape(values), bool)
    idx = np.searchsorted(hashes, values)
    idx[idx == hashes.shape[0]] = 0
    return hashes[idx] == values
