"""Passage alignment: which stretches of two documents are the same text, at word and character offsets.

Seed and extend (in the C kernel, ``doublet/_native/kernel.c``):

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

from . import _kernel
from .tokens import Tokens



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


def seeds(hashes: np.ndarray, mask: np.ndarray, seed_size: int) -> bytes:
    """Alignment seeds of one document: word ``seed_size``-grams touching no boilerplate word and repeated at
    most ``MAX_REPEAT`` (4, in ``_native/kernel.c``) times, as sorted records for :func:`align_words` (computed once per document)."""
    return _kernel.seeds(np.ascontiguousarray(hashes, np.uint64), np.ascontiguousarray(mask, np.uint8), seed_size)


def align_words(seeds_a: bytes, seeds_b: bytes, mask_a: np.ndarray, mask_b: np.ndarray, *, seed_size: int,
                max_gap: int, min_passage_words: int, min_identity: float) -> list[WordSpan]:
    """Aligned passages of two documents (given their seeds and boilerplate masks), in word indices, sorted by
    position in a (C kernel)."""
    out = _kernel.align(seeds_a, seeds_b, np.ascontiguousarray(mask_a, np.uint8),
                        np.ascontiguousarray(mask_b, np.uint8), seed_size, max_gap, min_passage_words, min_identity)
    rows = np.frombuffer(out, np.int64).reshape(-1, 5).tolist()
    return [WordSpan(*r) for r in rows]


def to_passages(spans: list[WordSpan], tok_a: Tokens, tok_b: Tokens, text_a: str, text_b: str,
                seed_size: int = 3) -> list[Passage]:
    """Word spans to character passages in the raw texts (C kernel).

    Fewer than ``seed_size`` words cut off by a sentence end or line break at either end of a passage are
    dropped: such words are matched only by seeds straddling the boundary (``Getty Images\nThe story…``,
    ``…he added."We``), less evidence than any word inside, and not what a reader would mark. Each side is
    then widened over an opening quote or bracket right before it and up to three closing punctuation
    characters right after it.
    """
    if not spans:
        return []
    arr = np.array([[w.a0, w.a1, w.b0, w.b1, w.matched] for w in spans], dtype=np.int64)
    out = _kernel.passages(text_a, tok_a.starts, tok_a.ends, text_b, tok_b.starts, tok_b.ends, arr, seed_size)
    return [Passage(*row) for row in np.frombuffer(out, np.int64).reshape(-1, 4).tolist()]
