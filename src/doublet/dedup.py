"""Which documents a dedup run keeps and which it removes, and why.

One document is kept per near-duplicate cluster (connected component of ``near-duplicate`` pairs):

* ``keep="first"`` — the cluster member that came first in the input;
* ``keep="longest"`` — the longest text (in characters); ties go to the earlier document.

Every removed document names the kept document it duplicates and their exact word-shingle Jaccard. When
the two were linked only through other members of the cluster (A≈B, B≈C), that Jaccard is computed
directly between the removed and the kept document, so it can be below the threshold; ``via`` then says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analysis import view
from .config import Config
from .result import Result
from .verify import overlap

KEEP_POLICIES = ("first", "longest")


@dataclass(frozen=True, slots=True)
class Removal:
    """A removed document and the kept one it duplicates."""

    id: str
    kept: str
    jaccard: float
    cluster: str
    via: str  # "pair" (directly a near-duplicate pair) or "cluster" (linked through other members)

    def to_dict(self) -> dict:
        return {"id": self.id, "kept": self.kept, "jaccard": round(self.jaccard, 4), "cluster": self.cluster,
                "via": self.via}


def plan(result: Result, keep: str = "first", cfg: Config | None = None) -> tuple[set[str], list[Removal]]:
    """Kept ids and removals for a run made with ``keep_corpus=True`` (and the config it was made with)."""
    cfg = cfg or Config()
    if keep not in KEEP_POLICIES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, not {keep!r}")
    if result.store is None or result.char_lengths is None:
        raise ValueError("dedup needs a run made with keep_corpus=True")
    lengths = result.char_lengths
    members: dict[str, list[int]] = {}
    for k, c in enumerate(result.near_duplicate_clusters):
        members.setdefault(c, []).append(k)
    direct = {(p.a, p.b): p.jaccard for p in result.iter_pairs() if p.kind == "near-duplicate"}

    kept: set[str] = set()
    removals: list[Removal] = []
    for cluster, idx in members.items():
        keeper = idx[0] if keep == "first" else max(idx, key=lambda k: (int(lengths[k]), -k))
        kid = result.ids[keeper]
        kept.add(kid)
        keeper_shingles: np.ndarray | None = None  # computed once per cluster, if needed at all
        for k in idx:
            if k == keeper:
                continue
            rid = result.ids[k]
            key = (min(rid, kid), max(rid, kid))
            if key in direct:
                removals.append(Removal(rid, kid, direct[key], cluster, "pair"))
            else:
                if keeper_shingles is None:
                    keeper_shingles = view(result.text(keeper), cfg).shingles
                j = overlap(view(result.text(k), cfg).shingles, keeper_shingles).jaccard
                removals.append(Removal(rid, kid, j, cluster, "cluster"))
    order = {d: k for k, d in enumerate(result.ids)}
    removals.sort(key=lambda r: order[r.id])
    return kept, removals
