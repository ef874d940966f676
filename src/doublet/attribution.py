"""Source attribution: which document of each cluster is most likely the original.

Rules, per cluster (a connected component of reported pairs), applied in this order:

1. **singleton** -- a document in no pair is its own original (``original: true``, reason ``singleton``).
2. **earliest_date** -- if any member has a date, the original is the member with the earliest date
   (members without a date cannot win this rule). Dates are ISO 8601 strings (``2020-08-08``,
   ``2020-08-08T17:27:41Z``, with or without an offset); a date without a time is midnight UTC, a time
   without an offset is UTC, and a string that is not ISO 8601 counts as no date. For web input the date is
   the page's publication date, else its fetch date (``WARC-Date``).
3. **most_reused_text** -- otherwise, the member that contains the most of the others' reused text: for
   each pair, a document is credited with the characters of its partner that the pair's passages cover
   (merged, so overlapping passages count once); a pair without passages credits nothing here.

Ties are broken deterministically: members tied on the earliest date are compared by rule 3; members tied
on rule 3 by the sum of their partners' containment in them (``containment_b`` for ``a``, ``containment_a``
for ``b``: the share of the partner's word 5-grams found in the member); then by the smallest id (string
order, as clusters are named). The reason names the rule that decided among the candidates: a date tie
settled by reused text is still ``earliest_date``. Documents that are not the original get no reason.

:func:`attribute` is pure: ids, cluster labels, pairs and dates in; a decision per document out. Every
engine's result writes it to ``clusters.jsonl`` (:meth:`doublet.result.Result.cluster_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

import numpy as np

__all__ = ["EARLIEST_DATE", "MOST_REUSED_TEXT", "SINGLETON", "Attribution", "attribute", "attribute_scored",
           "pair_credit", "parse_date", "summed_credits"]

SINGLETON = "singleton"
EARLIEST_DATE = "earliest_date"
MOST_REUSED_TEXT = "most_reused_text"


class _Span(Protocol):
    a_start: int
    a_end: int
    b_start: int
    b_end: int


class PairLike(Protocol):
    """What attribution reads of a pair (e.g. :class:`doublet.analysis.PairResult`)."""

    a: str
    b: str
    containment_a: float
    containment_b: float
    passages: Sequence[_Span]


@dataclass(frozen=True, slots=True)
class Attribution:
    """Per document (in input order): whether it is its cluster's original, and by which rule (None for the
    documents that are not)."""

    original: list[bool]
    reason: list[str | None]


def parse_date(value: object) -> float | None:
    """POSIX seconds of an ISO 8601 date or date-time (UTC when no offset is given); None if not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def covered_chars(spans: Iterable[tuple[int, int]]) -> int:
    """Characters covered by a set of half-open intervals (overlaps counted once)."""
    total, end = 0, -1
    for s, e in sorted(spans):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


def pair_credit(p: PairLike) -> tuple[int, int, float, float]:
    """What one reported pair adds to its two documents' scores: characters of ``b`` its passages cover
    (credited to ``a``), characters of ``a`` they cover (credited to ``b``), and the tie-break shares
    ``containment_b`` (to ``a``) and ``containment_a`` (to ``b``)."""
    return (covered_chars((s.b_start, s.b_end) for s in p.passages),
            covered_chars((s.a_start, s.a_end) for s in p.passages),
            p.containment_b, p.containment_a)


def attribute(ids: Sequence[str], clusters: Sequence[str], pairs: Iterable[PairLike],
              dates: Sequence[str | None] | None = None) -> Attribution:
    """Mark one original per cluster; see the module doc for the rules and the tie order.

    ``ids`` and ``clusters`` are parallel (document -> cluster label); ``pairs`` are the reported pairs
    (only pairs whose two ids are both known count); ``dates`` is parallel to ``ids`` or None.
    """
    index = {d: k for k, d in enumerate(ids)}
    docs: list[tuple[int, int]] = []
    chars_of: list[tuple[int, int]] = []
    shares_of: list[tuple[float, float]] = []
    for p in pairs:
        i, j = index.get(p.a), index.get(p.b)
        if i is None or j is None or i == j:
            continue
        ca, cb, sa, sb = pair_credit(p)
        docs.append((i, j))
        chars_of.append((ca, cb))
        shares_of.append((sa, sb))
    chars, share = summed_credits(len(ids), np.array(docs, dtype=np.int64).reshape(-1, 2),
                                  np.array(chars_of, dtype=np.int64).reshape(-1, 2),
                                  np.array(shares_of, dtype=np.float64).reshape(-1, 2))
    return attribute_scored(ids, clusters, chars, share, dates)


def summed_credits(n: int, docs: np.ndarray, chars: np.ndarray, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per document (``n`` of them), the :func:`pair_credit` of its pairs summed: ``docs[k]`` = (i, j) of pair
    ``k``, ``chars[k]`` and ``shares[k]`` what it credits to i and to j. Added in pair order, i before j, so
    every engine gets the same floating-point sums."""
    char_sum, share_sum = np.zeros(n, np.int64), np.zeros(n, np.float64)
    np.add.at(char_sum, docs.ravel(), chars.ravel())
    np.add.at(share_sum, docs.ravel(), shares.ravel())
    return char_sum, share_sum


def attribute_scored(ids: Sequence[str], clusters: Sequence[str], chars: np.ndarray, share: np.ndarray,
                     dates: Sequence[str | None] | None = None, member_of: np.ndarray | None = None) -> Attribution:
    """:func:`attribute` from per-document scores already summed over the pairs (:func:`pair_credit`, added
    in pair order): for engines that credit pairs where they verify them instead of re-reading them.
    ``member_of`` (optional) numbers each document's cluster (any non-negative integers, equal for the members
    of one cluster, e.g. :func:`doublet.cluster.cluster_index`), saving the grouping of ``clusters``."""
    n = len(ids)
    if len(clusters) != n or (dates is not None and len(dates) != n):
        raise ValueError(f"ids ({n}), clusters ({len(clusters)}) and dates "
                         f"({'none' if dates is None else len(dates)}) must be parallel")
    when = np.array([np.nan if (t := parse_date(d)) is None else t for d in dates], dtype=np.float64) \
        if dates is not None else np.full(n, np.nan)

    if member_of is None:
        member_of = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)[1] \
            if n else np.empty(0, dtype=np.int64)
    member_of = np.asarray(member_of, dtype=np.int64).reshape(-1)
    if member_of.shape[0] != n:
        raise ValueError(f"member_of has {member_of.shape[0]} entries for {n} documents")
    n_labels = int(member_of.max()) + 1 if n else 0
    sizes = np.bincount(member_of, minlength=n_labels)
    dated = ~np.isnan(when)
    # the earliest date of each cluster (inf where no member has one)
    earliest = np.full(n_labels, np.inf)
    np.minimum.at(earliest, member_of[dated], when[dated])
    has_date = np.isfinite(earliest)[member_of]
    eligible = ~has_date | (dated & (when == earliest[member_of]))
    # order: cluster, eligible first, most characters, largest share, smallest id
    rank_id = np.empty(n, dtype=np.int64)
    rank_id[np.argsort(np.asarray(ids, dtype=object).astype(str), kind="stable")] = np.arange(n)
    order = np.lexsort((rank_id, -share, -chars, ~eligible, member_of))
    first = np.ones(n, dtype=bool)
    first[1:] = member_of[order][1:] != member_of[order][:-1]
    original = np.zeros(n, dtype=bool)
    original[order[first]] = True
    rule = np.where(sizes[member_of] == 1, SINGLETON, np.where(has_date, EARLIEST_DATE, MOST_REUSED_TEXT))
    return Attribution(original.tolist(), [str(r) if o else None for o, r in zip(original.tolist(), rule.tolist())])
