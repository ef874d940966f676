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
