"""Connected components of the pair graph: every document gets the cluster of the documents it reuses with.

Components are computed by min-label propagation with pointer jumping, vectorized over all edges (the same
hook-and-compress scheme that distributed engines run as large-star/small-star): each round hooks the larger
of the two labels of every edge onto the smaller, then compresses label chains to their roots. Labels are
ranks of the documents' ids in string order, so a cluster is named by its smallest id — a name that does not
depend on input order, on the engine or on the number of workers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Component label (the smallest member index) of each of ``n`` nodes, given edges ``i[k] -- j[k]``."""
    parent = np.arange(n, dtype=np.int64)
    if i.shape[0] == 0:
        return parent
    i = i.astype(np.int64)
    j = j.astype(np.int64)
    while True:
        pi, pj = parent[i], parent[j]
        lo, hi = np.minimum(pi, pj), np.maximum(pi, pj)
        moving = lo != hi
        if not moving.any():
            return parent
        np.minimum.at(parent, hi[moving], lo[moving])
        while True:  # pointer jumping: every node points straight at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def cluster_ids(ids: Sequence[str], i: np.ndarray, j: np.ndarray) -> list[str]:
    """For each document, the smallest id (string order) of its connected component."""
    order = sorted(range(len(ids)), key=ids.__getitem__)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    labels = components(len(ids), rank[i], rank[j]) if len(ids) else np.empty(0, np.int64)
    return [ids[order[r]] for r in labels[rank].tolist()]
