"""MinHash signatures and LSH banding, vectorized over all shingles of many documents.

A MinHash signature estimates the Jaccard similarity of two shingle sets: for each of ``num_perm`` random
hash functions ``h_p``, the probability that ``min h_p(A) == min h_p(B)`` equals ``|A ∩ B| / |A ∪ B|``.
doublet's shingles are already well-mixed 64-bit hashes (:func:`doublet.tokens.ngram_hashes`), so each
``h_p`` is a multiply-shift hash ``(a_p * x + b_p) mod 2**64 >> 32`` with random odd ``a_p`` (Dietzfelbinger
et al. 1997): one multiply and one add per shingle and permutation, all in NumPy, no Python loop.

LSH cuts a signature into ``b`` bands of ``r`` rows; two documents become candidates when all rows of some band
agree, which happens with probability ``1 - (1 - s**r)**b`` at Jaccard ``s``. :func:`optimal_bands` picks the
``(b, r)`` minimising the false-positive mass below the threshold plus the false-negative mass above it (the
criterion of datasketch and text-dedup), computed by numerical integration.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .tokens import mix64

_CHUNK_ROWS = 32_768  # shingles per vectorized block: 32k x 128 x 8 bytes = 32 MB of scratch


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` parameters of ``num_perm`` multiply-shift hash functions (``a`` odd), from ``seed``."""
    rng = np.random.Generator(np.random.PCG64(seed))
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def signatures(shingles: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """MinHash signatures of many documents at once.

    ``shingles`` holds every document's shingle hashes back to back; document ``i`` owns
    ``shingles[offsets[i]:offsets[i + 1]]``. Returns a ``(n_docs, num_perm)`` uint32 array; a document with no
    shingles gets all-ones (``0xFFFFFFFF``) and must be left out of LSH by the caller.
    """
    n_docs = offsets.shape[0] - 1
    out = np.full((n_docs, a.shape[0]), np.iinfo(np.uint32).max, dtype=np.uint32)
    if shingles.shape[0] == 0:
        return out
    lengths = np.diff(offsets)
    doc_of = np.repeat(np.arange(n_docs), lengths)
    for lo in range(0, shingles.shape[0], _CHUNK_ROWS):
        hi = min(lo + _CHUNK_ROWS, shingles.shape[0])
        block = ((shingles[lo:hi, None] * a[None, :] + b[None, :]) >> np.uint64(32)).astype(np.uint32)
        docs = doc_of[lo:hi]
        starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
        mins = np.minimum.reduceat(block, starts, axis=0)
        ids = docs[starts]
        out[ids] = np.minimum(out[ids], mins)
    return out


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


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal signature positions: an unbiased estimate of the Jaccard similarity."""
    return float(np.mean(sig_a == sig_b))
