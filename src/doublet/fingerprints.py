"""Passage fingerprints by winnowing (Schleimer, Wilkerson & Aiken, SIGMOD 2003).

Over the sequence of shingle hashes of a document, slide a window of ``w`` consecutive hashes and keep the
minimum of each window (the rightmost one on ties). Two guarantees follow:

* every run of ``w + n - 1`` words (``n`` = words per shingle) shared by two documents contains a window of
  ``w`` identical shingles, so both documents select the same minimum: *shared text is never missed*;
* consecutive windows mostly share their minimum, so only about ``2 / (w + 1)`` of the positions are kept.

A fingerprint is ``(hash, position)``; the position is the index of the shingle's first word, which lets
the aligner and the boilerplate mask go back to words.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def winnow(shingles: np.ndarray, window: int) -> np.ndarray:
    """Positions (sorted, unique) of the winnowed fingerprints of one document's shingle sequence."""
    n = shingles.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if n <= window:
        return np.array([n - 1 - int(np.argmin(shingles[::-1]))], dtype=np.int64)
    views = sliding_window_view(shingles, window)
    # rightmost minimum of each window: argmin over the reversed window
    right = window - 1 - np.argmin(views[:, ::-1], axis=1)
    return np.unique(np.arange(views.shape[0], dtype=np.int64) + right)


def boilerplate_mask(n_words: int, positions: np.ndarray, shingle_size: int, window: int) -> np.ndarray:
    """Words covered by boilerplate fingerprints (given by their positions), as a boolean mask.

    A fingerprint covers its shingle's words. Because winnowing keeps at least one fingerprint in every
    window of ``window`` shingles, two boilerplate fingerprints at most ``window`` positions apart belong to
    one boilerplate run: the words between them are boilerplate too.
    """
    mask = np.zeros(n_words, dtype=bool)
    if positions.shape[0] == 0 or n_words == 0:
        return mask
    pos = np.sort(positions)
    delta = np.zeros(n_words + 1, dtype=np.int32)
    np.add.at(delta, pos, 1)
    np.add.at(delta, np.minimum(pos + shingle_size, n_words), -1)
    # bridge gaps between close boilerplate fingerprints
    gaps = np.flatnonzero(np.diff(pos) <= window)
    if gaps.size:
        np.add.at(delta, pos[gaps], 1)
        np.add.at(delta, pos[gaps + 1], -1)
    mask[:] = np.cumsum(delta[:n_words]) > 0
    return mask
