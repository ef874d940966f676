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

from .candidates import ranges


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


def visit_order(n: int, i: np.ndarray, j: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Position of each of ``n`` nodes in a breadth-first visit of its component, components one after another.

    ``labels`` are component labels from :func:`components` (each component's smallest member is its root).
    Neighbours in the graph get nearby positions, so work ordered by position touches each node during a short
    stretch: the verification stage orders candidate pairs this way to prepare each document about once.
    The visit is level-synchronous from every root at once; nodes of a level keep the order in which the
    previous level discovered them.
    """
    src = np.r_[i, j].astype(np.int64)
    dst = np.r_[j, i].astype(np.int64)
    neighbours = dst[np.argsort(src, kind="stable")]
    start = np.r_[0, np.cumsum(np.bincount(src, minlength=n))]
    seen = np.zeros(n, dtype=bool)
    frontier = np.flatnonzero(labels == np.arange(n))
    seen[frontier] = True
    visited = [frontier]
    while frontier.size:
        found = neighbours[ranges(start[frontier], start[frontier + 1] - start[frontier])]
        found = found[~seen[found]]
        uniq, first = np.unique(found, return_index=True)
        frontier = uniq[np.argsort(first, kind="stable")]
        seen[frontier] = True
        visited.append(frontier)
    order = np.concatenate(visited)
    order = order[np.argsort(labels[order], kind="stable")]
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    return pos


def id_order(ids: Sequence[str]) -> np.ndarray:
    """Document indices in string order of their ids."""
    return np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)


def cluster_index(ids: Sequence[str], i: np.ndarray, j: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """For each document, the index of the document with the smallest id (string order) in its connected
    component. ``order`` is :func:`id_order` of ``ids`` when the caller has it already."""
    n = len(ids)
    if order is None:
        order = id_order(ids)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    labels = components(n, rank[i], rank[j]) if n else np.empty(0, np.int64)
    return order[labels[rank]]


def cluster_ids(ids: Sequence[str], i: np.ndarray, j: np.ndarray) -> list[str]:
    """For each document, the smallest id (string order) of its connected component."""
    return [ids[k] for k in cluster_index(ids, i, j).tolist()]


def name_clusters(ids: Sequence[str], labels: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """For each document, the index of the document with the smallest id (string order) among those sharing its
    label (any integer labels). ``order`` is :func:`id_order` of ``ids``."""
    n = len(ids)
    if n == 0:
        return np.empty(0, np.int64)
    if order is None:
        order = id_order(ids)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    _, inv = np.unique(labels, return_inverse=True)
    inv = inv.ravel()
    best = np.full(int(inv.max()) + 1, n, np.int64)
    np.minimum.at(best, inv, rank)
    return order[best[inv]]


COPY_SHARE = 0.5
"""A pair links clusters when it is a near-duplicate or one document is mostly (this share of its word 5-grams)
the other's text."""


def copy_clusters(ids: Sequence[str], i: np.ndarray, j: np.ndarray, strong: np.ndarray, strength: np.ndarray,
                  order: np.ndarray | None = None) -> np.ndarray:
    """For each document, the index of the document naming its cluster (the smallest id), where clusters do not
    chain unrelated documents through one passage.

    ``i[k], j[k]`` are the reported pairs, ``strong[k]`` whether pair ``k`` is a copy (a near-duplicate, or one
    document mostly the other's text: containment >= :data:`COPY_SHARE` on one side) and ``strength[k]`` how
    much (the larger containment). Copies connect: clusters are the connected components of copy pairs. A
    document in no copy pair — it shares a passage with others (a quotation, an excerpt inside other text) —
    joins the cluster of one document it shares a passage with: one in a copy pair if there is one (the story's
    core), the one it shares the most with (largest containment; ties: the smaller id) — and no more: one such
    document can never join two clusters of copies, since each of them follows one link only.
    """
    n = len(ids)
    if order is None:
        order = id_order(ids)
    if n == 0:
        return np.empty(0, np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    ri, rj = rank[np.asarray(i, np.int64)], rank[np.asarray(j, np.int64)]
    strong = np.asarray(strong, bool)
    copied = np.zeros(n, bool)
    copied[ri[strong]] = copied[rj[strong]] = True
    # each document in no copy pair follows one other pair: to a document that is in a copy pair if it can
    # (the story's core), else to another; the strongest (ties: the smaller id)
    src, dst = np.r_[ri[~strong], rj[~strong]], np.r_[rj[~strong], ri[~strong]]
    w = np.r_[strength[~strong], strength[~strong]]
    keep = ~copied[src]
    src, dst, w = src[keep], dst[keep], w[keep]
    by = np.lexsort((dst, -w, ~copied[dst], src))
    first = by[np.r_[True, src[by][1:] != src[by][:-1]]] if by.shape[0] else by
    labels = components(n, np.r_[ri[strong], src[first]], np.r_[rj[strong], dst[first]])
    return order[labels[rank]]
