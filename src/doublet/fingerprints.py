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


def boilerplate_mask(n_words: int, positions: np.ndarray, shingle_size: int, window: int,
                     breaks: np.ndarray | None = None) -> np.ndarray:
    """Words covered by boilerplate fingerprints (given by their positions), as a boolean mask.

    A fingerprint covers its shingle's words. Because winnowing keeps at least one fingerprint in every
    window of ``window`` shingles, two boilerplate fingerprints at most ``window`` positions apart belong to
    one boilerplate run: the words between them are boilerplate too. For the same reason the first and last
    fingerprints of a run can sit up to ``window + shingle_size - 1`` words inside the boilerplate block;
    boilerplate (navigation, footers, share widgets) comes in whole lines, so a run is widened to the nearest
    line break within that margin. ``breaks[k]`` says whether a line break separates word ``k`` and ``k + 1``.
    """
    mask = np.zeros(n_words, dtype=bool)
    if positions.shape[0] == 0 or n_words == 0:
        return mask
    pos = np.sort(positions)
    gaps = np.flatnonzero(np.diff(pos) <= window)  # bridge gaps between close boilerplate fingerprints
    opens = np.concatenate([pos, pos[gaps]])
    closes = np.concatenate([np.minimum(pos + shingle_size, n_words), pos[gaps + 1]])
    delta = np.bincount(opens, minlength=n_words + 1) - np.bincount(closes, minlength=n_words + 1)
    mask[:] = np.cumsum(delta[:n_words]) > 0
    if breaks is not None and breaks.any():
        margin = window + shingle_size - 1
        edges = np.flatnonzero(np.diff(np.r_[False, mask, False].astype(np.int8)))
        line_starts = np.r_[0, np.flatnonzero(breaks) + 1, n_words]  # word indices that begin a line
        for start, end in zip(edges[::2].tolist(), edges[1::2].tolist()):
            k = np.searchsorted(line_starts, start, "right") - 1  # the line start at or before `start`
            if start - line_starts[k] <= margin:
                mask[line_starts[k]:start] = True
            k = np.searchsorted(line_starts, end, "left")  # the line start at or after `end`
            if k < line_starts.shape[0] and line_starts[k] - end <= margin:
                mask[end:line_starts[k]] = True
    return mask
