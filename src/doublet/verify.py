"""Exact similarity of two documents' shingle sets.

MinHash and fingerprints only *propose* pairs; every reported figure is computed exactly on the sets of
word-shingle hashes (sorted, unique uint64 arrays):

* ``jaccard = |A ∩ B| / |A ∪ B|`` — how alike the two documents are as wholes;
* ``containment_a = |A ∩ B| / |A|`` — how much of document *a* is found in *b* (and ``containment_b`` the
  other way). A short excerpt reprinted inside a long article has high containment on its own side and a
  low Jaccard.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _kernel


@dataclass(frozen=True, slots=True)
class Overlap:
    """Shingle-set overlap of documents a and b."""

    shared: int
    jaccard: float
    containment_a: float
    containment_b: float


def overlap(a: np.ndarray, b: np.ndarray) -> Overlap:
    """Exact overlap of two sorted unique shingle-hash arrays."""
    if a.shape[0] == 0 or b.shape[0] == 0:
        return Overlap(0, 0.0, 0.0, 0.0)
    shared = _kernel.shared(np.ascontiguousarray(a, np.uint64), np.ascontiguousarray(b, np.uint64))
    union = a.shape[0] + b.shape[0] - shared
    return Overlap(shared, shared / union, shared / a.shape[0], shared / b.shape[0])
