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

Character offsets index the raw texts. Converting a passage's word span to them (``to_passages``):

* **Trim**: fewer than ``seed_size`` words cut off by a sentence end (``.``, ``!``, ``?``) or a line break at
  either end are dropped (they are matched only by seeds that straddle the boundary). A dot inside a compound
  token is no sentence end, nor is an abbreviation's dot before a lower-case word or a figure on the same line
  (``U.S. officials``, ``Inc. said``, ``Jan. 5``), nor the dot of dotted initials before a capitalised word
  that seldom opens a sentence (``U.S. Agriculture``, ``E.H. Clark``; ``U.S. The`` is a sentence end).
* **Token boundaries**: no edge lies inside a compound token — a number (``29.1``, ``1,250``, ``3/4``,
  ``9-13/16``, ``14:30``: digits on both sides of one of ``. , / : -``), dotted initials (``U.S.``, ``a.m.``:
  parts of one or two letters joined by single dots) or a host name (``reuters.com``: a listed top-level
  domain, in lower case, after a dot). An edge inside one is
  moved outward over the rest of the token when the other text has the same words there, joined by the same
  characters, with no boilerplate and no other passage in the way; otherwise it is moved inward past the
  whole token (on both texts by the same number of words; a passage left with no word is dropped). URLs with
  a scheme, ``www.`` or a path and e-mail addresses hold no words (see :mod:`doublet.tokens`), so no edge is
  inside them either; a listed abbreviation's dot (``Inc.``) is taken with its word as closing punctuation.
* **Clauses**: an end inside a clause is extended to the clause's end (a sentence end, a line break, ``,``
  ``;`` ``:`` or the text's end) when it comes within 8 words, at the same word on both sides, over words that
  are the same in both texts, not boilerplate and in no other passage; a start likewise goes back to its
  clause's start. Text that differs is never taken.
* **Punctuation**: each side is widened over an opening quote or bracket right before its first word and up
  to three closing punctuation characters right after its last word (``."``, ``),``), as a reader would mark it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    identity: float | None = None
    """Share of the passage's words in verbatim runs (words covered by matching seeds over the longer side's
    words, as the alignment measures it against ``min_identity``), rounded to 3 decimals; None when unknown."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"a_start": self.a_start, "a_end": self.a_end, "b_start": self.b_start,
                               "b_end": self.b_end}
        if self.identity is not None:
            out["identity"] = self.identity
        return out

    def swapped(self) -> "Passage":
        return Passage(self.b_start, self.b_end, self.a_start, self.a_end, self.identity)


LEVELS = (("verbatim", 0.95), ("light", 0.8), ("heavy", 0.0))
"""Reuse levels by the identity of a pair's passages (their words in verbatim runs, weighted by length):
``verbatim`` (a reprint, at most a word changed in twenty), ``light`` (a few words or a phrase changed per
sentence), ``heavy`` (reworded, down to the ``min_identity`` floor)."""


def reuse_level(passages: Sequence["Passage"]) -> str | None:
    """The reuse level of a pair (:data:`LEVELS`) from its passages' identities, weighted by their lengths in
    characters on side a; None without passages of known identity."""
    known = [(p.identity, p.a_end - p.a_start) for p in passages if p.identity is not None]
    total = sum(n for _, n in known)
    if not known or total <= 0:
        return None
    identity = sum(i * n for i, n in known) / total
    return next(name for name, floor in LEVELS if identity >= floor)


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
                seed_size: int = 3, mask_a: np.ndarray | None = None,
                mask_b: np.ndarray | None = None) -> list[Passage]:
    """Word spans to character passages in the raw texts (C kernel), given the documents' boilerplate masks
    (one value per word, nonzero = boilerplate; ``None``: nothing masked).

    Fewer than ``seed_size`` words cut off by a sentence end or line break at either end of a passage are
    dropped: such words are matched only by seeds straddling the boundary (``Getty Images\nThe story…``,
    ``…he added."We``), less evidence than any word inside, and not what a reader would mark. Edges are then
    put on token boundaries (never inside a number, dotted initials or a host name: extended over the rest of
    the token when the other text has it too, else moved past it), an end inside a clause is extended to the
    clause's end and a start to its start when the words up to there are the same in both texts, and each
    side is widened over an opening quote or bracket right before it and up to three closing punctuation
    characters right after it (see the module docstring). A passage left with no word is dropped, so fewer
    passages than spans may come back; they stay in the spans' order.
    """
    if not spans:
        return []
    arr = np.array([[w.a0, w.a1, w.b0, w.b1, w.matched] for w in spans], dtype=np.int64)
    out = _kernel.passages(text_a, tok_a.starts, tok_a.ends, np.ascontiguousarray(tok_a.hashes, np.uint64), _mask(mask_a),
                           text_b, tok_b.starts, tok_b.ends, np.ascontiguousarray(tok_b.hashes, np.uint64), _mask(mask_b),
                           arr, seed_size)
    rows = np.frombuffer(out, np.int64).reshape(-1, 5).tolist()
    return [Passage(a0, a1, b0, b1, identity(spans[r])) for a0, a1, b0, b1, r in rows]


def identity(w: WordSpan) -> float:
    """A word span's identity: words covered by matching seeds over the longer side's words (3 decimals)."""
    return round(min(1.0, w.matched / max(1, w.a1 - w.a0, w.b1 - w.b0)), 3)


def _mask(mask: np.ndarray | None) -> np.ndarray:
    """A boilerplate mask as the kernel takes it: one byte per word, or none (empty)."""
    return np.zeros(0, np.uint8) if mask is None else np.ascontiguousarray(mask, np.uint8)
