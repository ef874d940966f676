"""Passage alignment: which stretches of two documents are the same text, at word and character offsets.

Seed and extend, in three vectorized steps and one short loop:

1. **Seeds**: word ``seed_size``-grams present in both documents, leaving out seeds that touch boilerplate
   words and seeds repeated more than ``max_repeat`` times in either document (lists, tables, refrains).
2. **Diagonal runs**: seeds ``(i, j)`` on the same diagonal ``j - i`` whose gaps are at most ``max_gap`` words
   form one run. A substituted word breaks ``seed_size`` seeds but not the run.
3. **Chains**: runs are joined across nearby diagonals in reading order when the gap between them is at most
   ``max_gap`` words on both sides and holds no boilerplate: this bridges inserted and deleted words.
4. **Passages**: chains at least ``min_passage_words`` long on both sides whose words are at least
   ``min_identity`` covered by seeds, taken longest first; a passage overlapping one already taken is cut back to the
   part that does not overlap.

Fewer than ``seed_size`` words cut off by a sentence end or a line break at either end of a passage are
dropped (they are matched only by seeds that straddle the boundary). Character offsets index the raw
texts; a passage is widened over closing punctuation right after its last
word (``."``, ``),``) and an opening quote or bracket right before its first word, as a reader would mark it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tokens import Tokens, ngram_hashes

MAX_REPEAT = 4
_CLOSERS = frozenset(".,;:!?%)]}\"'\u201d\u2019\u00bb\u2026")
_OPENERS = frozenset("\"'(\u201c\u2018\u00ab[")


@dataclass(frozen=True, slots=True)
class Passage:
    """One aligned passage: ``text_a[a_start:a_end]`` is reused as ``text_b[b_start:b_end]``."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int

    def to_dict(self) -> dict[str, int]:
        return {"a_start": self.a_start, "a_end": self.a_end, "b_start": self.b_start, "b_end": self.b_end}

    def swapped(self) -> "Passage":
        return Passage(self.b_start, self.b_end, self.a_start, self.a_end)


@dataclass(frozen=True, slots=True)
class WordSpan:
    """An aligned passage in word indices (half-open) with the number of words covered by seeds."""

    a0: int
    a1: int
    b0: int
    b1: int
    matched: int


def _seeds(hashes: np.ndarray, mask: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Seed hashes and positions of one document, without boilerplate-touching or repeated seeds."""
    seeds = ngram_hashes(hashes, size)
    pos = np.arange(seeds.shape[0], dtype=np.int64)
    if hashes.shape[0] < size:
        return seeds[:0], pos[:0]
    csum = np.r_[0, np.cumsum(mask, dtype=np.int64)]
    ok = (csum[pos + size] - csum[pos]) == 0
    _, inverse, counts = np.unique(seeds, return_inverse=True, return_counts=True)
    ok &= counts[inverse] <= MAX_REPEAT
    return seeds[ok], pos[ok]


def _matches(ha: np.ndarray, pa: np.ndarray, hb: np.ndarray, pb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All position pairs (i in a, j in b) with equal seed hashes."""
    order = np.argsort(hb, kind="stable")
    hb_s, pb_s = hb[order], pb[order]
    lo = np.searchsorted(hb_s, ha, "left")
    hi = np.searchsorted(hb_s, ha, "right")
    cnt = hi - lo
    hit = cnt > 0
    if not hit.any():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    cnt, lo = cnt[hit], lo[hit]
    i = np.repeat(pa[hit], cnt)
    first = np.repeat(np.cumsum(cnt) - cnt, cnt)
    j = pb_s[np.repeat(lo, cnt) + (np.arange(i.shape[0]) - first)]
    return i, j


def _diagonal_runs(i: np.ndarray, j: np.ndarray, size: int, max_gap: int) -> list[tuple[int, int, int, int, int]]:
    """Seeds grouped into runs along diagonals: (a0, a1, b0, b1, matched) sorted by (a0, b0)."""
    d = j - i
    order = np.lexsort((i, d))
    i, d = i[order], d[order]
    brk = np.r_[True, (d[1:] != d[:-1]) | (i[1:] - i[:-1] > size + max_gap)]
    starts = np.flatnonzero(brk)
    ends = np.r_[starts[1:], i.shape[0]] - 1
    step = np.minimum(np.r_[np.diff(i), size], size)
    step[ends] = size
    matched = np.add.reduceat(step, starts)
    a0, a1, dd = i[starts], i[ends] + size, d[starts]
    runs = sorted(zip(a0.tolist(), a1.tolist(), (a0 + dd).tolist(), (a1 + dd).tolist(), matched.tolist()))
    return runs


def align_words(ha: np.ndarray, hb: np.ndarray, mask_a: np.ndarray, mask_b: np.ndarray, *, seed_size: int,
                max_gap: int, min_passage_words: int, min_identity: float) -> list[WordSpan]:
    """Aligned passages of two word-hash sequences, in word indices, sorted by position in a."""
    sa, pa = _seeds(ha, mask_a, seed_size)
    sb, pb = _seeds(hb, mask_b, seed_size)
    if sa.shape[0] == 0 or sb.shape[0] == 0:
        return []
    i, j = _matches(sa, pa, sb, pb)
    if i.shape[0] == 0:
        return []
    runs = _diagonal_runs(i, j, seed_size, max_gap)
    ca = np.r_[0, np.cumsum(mask_a, dtype=np.int64)]
    cb = np.r_[0, np.cumsum(mask_b, dtype=np.int64)]

    active: list[list[int]] = []  # chains: [a0, a1, b0, b1, matched]
    done: list[list[int]] = []
    for a0, a1, b0, b1, m in runs:
        still = []
        for ch in active:
            (done if ch[1] < a0 - max_gap else still).append(ch)
        active = still
        best, best_cost = None, None
        for ch in active:
            gi, gj = a0 - ch[1], b0 - ch[3]
            if gi > max_gap or gj > max_gap or gi < -seed_size or gj < -seed_size:
                continue
            if a1 <= ch[1] or b1 <= ch[3]:
                continue
            if gi > 0 and ca[a0] - ca[ch[1]] > 0:
                continue
            if gj > 0 and cb[b0] - cb[ch[3]] > 0:
                continue
            cost = max(gi, 0) + max(gj, 0) + abs(gi - gj)
            if best_cost is None or cost < best_cost:
                best, best_cost = ch, cost
        if best is None:
            active.append([a0, a1, b0, b1, m])
        else:
            best[4] += m - max(0, -(a0 - best[1]))
            best[1], best[3] = max(best[1], a1), max(best[3], b1)
    done.extend(active)

    good = []
    for a0, a1, b0, b1, m in done:
        la, lb = a1 - a0, b1 - b0
        if min(la, lb) >= min_passage_words and m >= min_identity * max(la, lb):
            good.append(WordSpan(a0, a1, b0, b1, min(m, la, lb)))
    good.sort(key=lambda w: (-w.matched, w.a0, w.b0))
    taken: list[WordSpan] = []
    for w in good:
        trimmed = _trim(w, taken)
        if trimmed is not None and min(trimmed.a1 - trimmed.a0, trimmed.b1 - trimmed.b0) >= min_passage_words:
            taken.append(trimmed)
    taken.sort(key=lambda w: (w.a0, w.b0))
    return taken


def _trim(w: WordSpan, taken: list[WordSpan]) -> WordSpan | None:
    """``w`` cut back so that it overlaps none of ``taken`` on either side (both sides cut alike), or None."""
    a0, a1, b0, b1 = w.a0, w.a1, w.b0, w.b1
    for t in taken:
        for lo, hi, t_lo, t_hi in ((a0, a1, t.a0, t.a1), (b0, b1, t.b0, t.b1)):
            if hi <= t_lo or lo >= t_hi:
                continue
            if lo >= t_lo and hi <= t_hi:
                return None
            if lo < t_lo:  # w sticks out before t: cut its tail
                cut = hi - t_lo
                a1, b1 = a1 - cut, b1 - cut
            else:  # w sticks out after t: cut its head
                cut = t_hi - lo
                a0, b0 = a0 + cut, b0 + cut
            if a1 <= a0 or b1 <= b0:
                return None
    return WordSpan(a0, a1, b0, b1, min(w.matched, a1 - a0, b1 - b0))


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a word span over an opening quote before it and closing punctuation after it."""
    if start > 0 and text[start - 1] in _OPENERS:
        start -= 1
    limit = min(len(text), end + 3)
    while end < limit and text[end] in _CLOSERS:
        end += 1
    return start, end


def _boundary(text: str, tok: Tokens, k: int) -> bool:
    """Is there a sentence end or line break between word ``k`` and word ``k + 1``?"""
    sep = text[int(tok.ends[k]) : int(tok.starts[k + 1])]
    return any(c in sep for c in ".!?\n")


def _trim_edges(w: WordSpan, tok_a: Tokens, tok_b: Tokens, text_a: str, text_b: str, seed_size: int) -> WordSpan:
    """Drop fewer than ``seed_size`` words cut off by a sentence end or line break at either end of a passage.

    Such words are matched only by seeds straddling the boundary (``Getty Images\nThe story…``, ``…he
    added."We``): less evidence than any word inside the passage, and not what a reader would mark.
    """
    a0, a1, b0, b1 = w.a0, w.a1, w.b0, w.b1
    for k in range(seed_size - 1):
        if a0 + k + 1 < a1 and (_boundary(text_a, tok_a, a0 + k) or _boundary(text_b, tok_b, b0 + k)):
            a0, b0 = a0 + k + 1, b0 + k + 1
            break
    for k in range(seed_size - 1):
        if a1 - k - 2 >= a0 and (_boundary(text_a, tok_a, a1 - k - 2) or _boundary(text_b, tok_b, b1 - k - 2)):
            a1, b1 = a1 - k - 1, b1 - k - 1
            break
    return WordSpan(a0, a1, b0, b1, w.matched)


def to_passages(spans: list[WordSpan], tok_a: Tokens, tok_b: Tokens, text_a: str, text_b: str,
                seed_size: int = 3) -> list[Passage]:
    """Word spans to character passages in the raw texts (edges trimmed to sentence or line boundaries)."""
    out = []
    for w in spans:
        w = _trim_edges(w, tok_a, tok_b, text_a, text_b, seed_size)
        a_s, a_e = _widen(text_a, int(tok_a.starts[w.a0]), int(tok_a.ends[w.a1 - 1]))
        b_s, b_e = _widen(text_b, int(tok_b.starts[w.b0]), int(tok_b.ends[w.b1 - 1]))
        out.append(Passage(a_s, a_e, b_s, b_e))
    return out
