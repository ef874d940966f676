"""MinHash signatures and LSH banding, vectorized over all shingles of many documents.

A MinHash signature estimates the Jaccard similarity of two shingle sets: each of its ``num_perm`` values
agrees between two documents with probability ``|A ∩ B| / |A ∪ B|``. doublet computes signatures in its C
kernel by one-permutation hashing with optimal densification (Li, Owen & Zhang 2012; Shrivastava 2017):
one hash per shingle instead of ``num_perm``, with the same collision probability per value (see
``doublet/_native/kernel.c``). This module holds what is done with signatures.

LSH cuts a signature into ``b`` bands of ``r`` rows; two documents become candidates when all rows of some band
agree, which happens with probability ``1 - (1 - s**r)**b`` at Jaccard ``s``. :func:`optimal_bands` picks the
``(b, r)`` minimising the false-positive mass below the threshold plus the false-negative mass above it (the
criterion of datasketch and text-dedup), computed by numerical integration.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .tokens import mix64


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` minimising weighted false-positive + negative mass.

    False-positive mass: ``∫_0^t P(candidate | s) ds``; false-negative mass: ``∫_t^1 (1 - P(candidate | s)) ds``
    with ``P(candidate | s) = 1 - (1 - s**r)**b``.
    """
    best, best_err = (1, num_perm), float("inf")
    lo_s = np.linspace(0.0, threshold, 257)
    hi_s = np.linspace(threshold, 1.0, 257)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(1.0 - (1.0 - lo_s**r) ** b, lo_s)
            fn = np.trapezoid((1.0 - hi_s**r) ** b, hi_s)
            err = fp_weight * fp + fn_weight * fn
            if err < best_err:
                best, best_err = (b, r), err
    return best


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per document and band: equal keys mean (up to hash collisions) equal band rows."""
    n = sigs.shape[0]
    blocks = sigs[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    acc = np.zeros((n, bands), dtype=np.uint64)
    for j in range(rows):
        acc = mix64(acc * np.uint64(0x100000001B3) + blocks[:, :, j])
    # mix in the band number so that equal rows in different bands never share a bucket
    return mix64(acc ^ (np.arange(bands, dtype=np.uint64)[None, :] * np.uint64(0x9E3779B97F4A7C15)))
