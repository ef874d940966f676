"""Passage-level dedup: remove from each document the passages that occur in an earlier-kept document.

Documents are taken in keep order (``first``: input order; ``longest``: longest first, ties to the earlier). A
document's characters inside a passage it shares with an earlier document (the passages of the run's pairs)
are removed, and each removed span names where its kept copy is: a character of the earlier document that
is still there, or, when that character was itself removed, *its* kept copy (the chain is followed, so a kept
copy is always text that stays in the output). Text whose counterpart was dropped with a too-short document
stays. With ``templates``, each document's template blocks (the run's boilerplate: navigation, footers,
formulas, :func:`doublet.analysis.template_spans`) are removed first, with no kept copy. A document that lost
text and has fewer than ``min_chars`` non-space characters left is dropped; its remainder is listed as removed
(reason ``short``).

Nothing else changes a document: the output text is the input text without the listed spans, so every
removed character is accounted for (``removed_spans.jsonl``: ``id``, ``start``, ``end``, ``reason`` =
``reuse`` | ``template`` | ``short``, and for reuse ``kept``, ``kept_start``, ``kept_end``; offsets are
characters of the input texts). Within a passage, positions are mapped from one copy to the other in
proportion (passages can differ by a few edited words), so a kept copy's offsets are exact at the passage's
ends and approximate inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .analysis import template_spans
from .config import Config

REUSE, TEMPLATE, SHORT = "reuse", "template", "short"
_FREE, _TEMPLATE, _LOST = -1, -2, -3  # per character: kept, removed as template; a counterpart that is gone


@dataclass(frozen=True, slots=True)
class Removed:
    """One removed span of a document (characters ``start:end`` of its input text)."""

    doc: int
    start: int
    end: int
    reason: str  # REUSE, TEMPLATE or SHORT
    kept: int | None = None  # the kept copy's document (REUSE)
    kept_start: int = 0
    kept_end: int = 0

    def to_dict(self, ids: Sequence[str]) -> dict:
        out: dict = {"id": ids[self.doc], "start": self.start, "end": self.end, "reason": self.reason}
        if self.kept is not None:
            out.update(kept=ids[self.kept], kept_start=self.kept_start, kept_end=self.kept_end)
        return out


@dataclass(slots=True)
class _Segments:
    """A processed document's removed spans, sorted: [start, end) -> kept copy (doc, start, end) or template."""

    start: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    end: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    doc: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # kept copy's doc, or _TEMPLATE
    kept_start: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    kept_end: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    dropped: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """What passage dedup does to each document (indices in input order)."""

    removed: list[Removed]  # by document (keep order), then start
    kept_text: dict[int, np.ndarray]  # documents that lost text and stay: a mask of the characters kept
    dropped: set[int]  # documents dropped as too short after the removals

    def new_text(self, k: int, text: str) -> str | None:
        """Document ``k``'s output text (None: dropped)."""
        if k in self.dropped:
            return None
        mask = self.kept_text.get(k)
        if mask is None:
            return text
        chars = np.frombuffer(text.encode("utf-32-le"), np.uint32)
        return chars[mask].tobytes().decode("utf-32-le")


Match = tuple[int, int, int, int, int]
"""A passage of a document shared with another: (other document, start, end, other's start, other's end)."""


def keep_order(lengths: np.ndarray, keep: str) -> np.ndarray:
    """Document indices in the order they are kept: input order, or longest first (ties: earlier first)."""
    n = lengths.shape[0]
    if keep == "first":
        return np.arange(n, dtype=np.int64)
    if keep == "longest":
        return np.lexsort((np.arange(n), -np.asarray(lengths, np.int64)))
    raise ValueError(f"keep must be 'first' or 'longest', not {keep!r}")


def matches_of(pairs: Iterable[tuple[int, int, Sequence[tuple[int, int, int, int]]]]) -> dict[int, list[Match]]:
    """Per document, its shared passages (:data:`Match`) from pairs ``(i, j, passages)`` with passages
    ``(i_start, i_end, j_start, j_end)``. A near-duplicate pair without passages (similar word shingles that
    align into no passage) removes nothing: whole-document near-duplicates are plain ``dedup``'s."""
    out: dict[int, list[Match]] = {}
    for i, j, passages in pairs:
        for a0, a1, b0, b1 in passages:
            out.setdefault(i, []).append((j, a0, a1, b0, b1))
            out.setdefault(j, []).append((i, b0, b1, a0, a1))
    return out


def plan(order: np.ndarray, lengths: np.ndarray, matches: dict[int, list[Match]],
         text_of: Callable[[int], str], min_chars: int,
         templates_of: Callable[[int], list[tuple[int, int]]] | None = None) -> Outcome:
    """Removed spans, kept characters and dropped documents of passage dedup (see the module doc), taking the
    documents in ``order``. ``text_of(k)`` is read only for documents that lose text (the min length test);
    ``templates_of(k)``, when given, lists document ``k``'s template spans."""
    rank = np.empty(order.shape[0], np.int64)
    rank[order] = np.arange(order.shape[0])
    done: dict[int, _Segments] = {}
    removed: list[Removed] = []
    kept_text: dict[int, np.ndarray] = {}
    dropped: set[int] = set()
    for d in order.tolist():
        n = int(lengths[d])
        owner = np.full(n, _FREE, np.int64)  # kept copy's document, or _FREE / _TEMPLATE / _LOST
        where = np.zeros(n, np.int64)  # the kept copy's character
        label = np.full(n, -1, np.int64)  # which assignment set it: one span per run of a label
        labels = 0
        for s, e in (templates_of(d) if templates_of is not None else []):
            owner[s:e], label[s:e] = _TEMPLATE, labels
            labels += 1
        earlier = sorted((m for m in matches.get(d, ()) if rank[m[0]] < rank[d]),
                         key=lambda m: (rank[m[0]], m[1], m[2]))
        for other, s, e, os_, oe in earlier:
            c = np.arange(s, min(e, n), dtype=np.int64)
            c = c[owner[c] == _FREE]
            if c.shape[0] == 0 or oe <= os_:
                continue
            x = np.minimum(os_ + (c - s) * (oe - os_) // max(e - s, 1), oe - 1)
            kd, kp, seg = _resolve(done[other], other, x)
            ok = kd != _LOST  # the counterpart is gone: the text stays here (unless another match takes it)
            owner[c[ok]], where[c[ok]], label[c[ok]] = kd[ok], kp[ok], labels + 1 + seg[ok]
            labels += 2 + int(done[other].start.shape[0])
        gone = owner != _FREE
        if not gone.any():
            done[d] = _Segments()
            continue
        spans = _runs(label, gone)
        segs = _Segments(*(np.array(col, np.int64) for col in zip(*[
            (a, b, owner[a], where[a:b].min(), where[a:b].max() + 1) for a, b in spans])))
        segs.kept_start[segs.doc == _TEMPLATE] = segs.kept_end[segs.doc == _TEMPLATE] = 0
        removed += [Removed(d, a, b, TEMPLATE) if k == _TEMPLATE else Removed(d, a, b, REUSE, k, ks, ke)
                    for a, b, k, ks, ke in zip(*(c.tolist() for c in (segs.start, segs.end, segs.doc,
                                                                      segs.kept_start, segs.kept_end)))]
        left = np.frombuffer(text_of(d).encode("utf-32-le"), np.uint32)[~gone].tobytes().decode("utf-32-le")
        if len("".join(left.split())) < min_chars:
            segs.dropped = True
            dropped.add(d)
            removed += [Removed(d, a, b, SHORT) for a, b in _runs(np.zeros(n, np.int64), ~gone)]
        else:
            kept_text[d] = ~gone
        done[d] = segs
    masks = {**kept_text, **{d: np.zeros(int(lengths[d]), bool) for d in dropped}}
    removed = _account(removed, masks, dropped)  # kept ranges that skip removed text are split
    return Outcome(removed, {d: m for d, m in masks.items() if d not in dropped and not m.all()}, dropped)


def from_result(result: Any, cfg: Config, *, keep: str = "first", min_chars: int = 100,
                templates: bool = False, order: np.ndarray | None = None) -> Outcome:
    """:func:`plan` of a run made with ``keep_corpus=True`` (its pairs' passages; with ``templates``, each
    document's template spans under the run's templates), in the ``keep`` policy's order or in ``order``."""
    if result.store is None or result.char_lengths is None:
        raise ValueError("passage dedup needs a run made with keep_corpus=True")
    lengths = np.asarray(result.char_lengths, np.int64)
    index = {d: k for k, d in enumerate(result.ids)}
    matches = matches_of((index[p.a], index[p.b], [(q.a_start, q.a_end, q.b_start, q.b_end) for q in p.passages])
                         for p in result.iter_pairs())
    spans_of = None
    found = result.templates
    if templates and found is not None and len(found):
        by_hash = np.argsort(found.hashes, kind="stable")
        t_hash, t_rule = found.hashes[by_hash], found.rule[by_hash]

        def spans_of(k: int) -> list[tuple[int, int]]:
            return [(b["start"], b["end"]) for b in template_spans(result.text(k), cfg, t_hash, t_rule)]

    return plan(keep_order(lengths, keep) if order is None else order, lengths, matches, result.text, min_chars,
                spans_of)


@dataclass(frozen=True, slots=True)
class Rounds:
    """Passage dedup run to a fixed point: the removed spans in input offsets (by document in input order,
    then start), the output text of every document that changed (None: dropped), and the number of runs."""

    removed: list[Removed]
    texts: dict[int, str | None]
    rounds: int


def until_stable(first: Any, cfg: Config, rerun: Callable[[Callable[[int], str | None]], Any], *,
                 keep: str = "first", min_chars: int = 100, templates: bool = False,
                 max_rounds: int = 4) -> Rounds:
    """Passage dedup of the run ``first`` (documents in input order), then again on its output until a run
    removes nothing (at most ``max_rounds`` runs), so that dedup of the output removes nothing more. Another run
    finds what the first could not: a passage a document repeats (a pair aligns one copy of it) or text left
    next to a removed passage. ``rerun(text_of)`` runs find on the input's documents with ``text_of(k)`` as the
    text of document ``k`` (None: left out) and returns the Result (``keep_corpus=True``). Later runs keep the
    first run's keep order."""
    ids = list(first.ids)
    lengths0 = np.asarray(first.char_lengths, np.int64)
    rank = np.empty(len(ids), np.int64)
    rank[keep_order(lengths0, keep)] = np.arange(len(ids))
    position: dict[int, np.ndarray] = {}  # changed documents: input offset of each character of the current text
    texts: dict[int, str | None] = {}
    removed: list[Removed] = []
    result, docs, rounds = first, np.arange(len(ids)), 0
    while True:
        rounds += 1
        order = np.argsort(rank[docs], kind="stable")
        outcome = from_result(result, cfg, min_chars=min_chars, templates=templates, order=order)
        if not outcome.removed:
            break
        for r in outcome.removed:
            removed += _in_input(r, docs, position)
        for k in (*outcome.kept_text, *outcome.dropped):
            d = int(docs[k])
            here = position.get(d, np.arange(int(lengths0[d]), dtype=np.int64))
            if k in outcome.dropped:
                texts[d], position[d] = None, here[:0]
            else:
                texts[d] = outcome.new_text(k, result.text(k))
                position[d] = here[outcome.kept_text[k]]
        if result is not first:
            result.close()
        if rounds == max_rounds:
            break
        docs = np.array([d for d in range(len(ids)) if texts.get(d, "") is not None], np.int64)
        result = rerun(lambda d: texts[d] if d in texts else first.text(d))
    if result is not first:
        result.close()
    # a later run can remove text an earlier run's span named as kept copy (a passage its document repeats), or
    # drop that document: every kept copy is followed to text that stays (or the span given back, see _account)
    keep_mask = {}
    for d, here in position.items():
        keep_mask[d] = np.zeros(int(lengths0[d]), bool)
        keep_mask[d][here] = True
    dropped = {d for d, t in texts.items() if t is None}
    removed = _account(removed, keep_mask, dropped)
    out: dict[int, str | None] = {}
    for d, mask in keep_mask.items():
        if d in dropped:
            out[d] = None
        elif not mask.all():
            chars = np.frombuffer(first.text(d).encode("utf-32-le"), np.uint32)
            out[d] = chars[mask].tobytes().decode("utf-32-le")
    return Rounds(removed, out, rounds)


def _account(removed: list[Removed], keep_mask: dict[int, np.ndarray], dropped: set[int]) -> list[Removed]:
    """The removed spans with every kept copy in text that stays: each reuse span's characters are followed
    from their kept copy through the spans removed there (to *their* kept copies) to characters that stay,
    and split where that lands in another document or stretch. Characters whose copy was removed as template
    or dropped with its document are given back to their document (``keep_mask`` updated) or, in a dropped
    document, listed as ``short``. Returns the spans sorted by document and start."""
    by_doc: dict[int, list[Removed]] = {}
    for r in removed:
        by_doc.setdefault(r.doc, []).append(r)
    starts = {d: np.array([r.start for r in sorted(rs, key=lambda r: r.start)], np.int64) for d, rs in by_doc.items()}
    for d in by_doc:
        by_doc[d].sort(key=lambda r: r.start)
    dead: dict[int, np.ndarray] = {}  # per document: removed characters before each position (cumulative)

    def dead_before(e: int) -> np.ndarray:
        if e not in dead:
            mask = keep_mask.get(e)
            dead[e] = np.r_[0, np.cumsum(~mask)] if mask is not None else np.zeros(1, np.int64)
        return dead[e]

    def follow(e: int, x: np.ndarray, depth: int = 0) -> tuple[np.ndarray, np.ndarray]:
        doc, pos = np.full(x.shape[0], -1, np.int64), x.copy()
        mask = keep_mask.get(e)
        alive = np.ones(x.shape[0], bool) if mask is None else mask[np.minimum(x, mask.shape[0] - 1)]
        alive &= e not in dropped
        doc[alive] = e
        rest = np.flatnonzero(~alive)
        if rest.shape[0] and e in by_doc and depth < 64:
            k = np.searchsorted(starts[e], x[rest], side="right") - 1
            for j in np.unique(k[k >= 0]).tolist():
                r = by_doc[e][j]
                at = rest[(k == j) & (x[rest] < r.end)]
                if r.reason != REUSE or r.kept is None or not at.shape[0]:
                    continue
                y = r.kept_start + (x[at] - r.start) * (r.kept_end - r.kept_start) // max(r.end - r.start, 1)
                doc[at], pos[at] = follow(r.kept, np.minimum(y, max(r.kept_end - 1, r.kept_start)), depth + 1)
        return doc, pos

    out: list[Removed] = []
    for d, spans in by_doc.items():
        for r in spans:
            if r.reason != REUSE or r.kept is None:
                out.append(r)
                continue
            c = np.arange(r.start, r.end, dtype=np.int64)
            x = r.kept_start + (c - r.start) * (r.kept_end - r.kept_start) // max(r.end - r.start, 1)
            doc, pos = follow(r.kept, np.minimum(x, max(r.kept_end - 1, r.kept_start)))
            # a new piece where the copy changes document or skips removed text
            cut = np.r_[True, doc[1:] != doc[:-1], True]
            same = ~cut[1:-1] & (doc[1:] >= 0)
            if same.any():
                i = np.flatnonzero(same)
                for e in np.unique(doc[1:][i]).tolist():
                    on = i[doc[1:][i] == e]
                    lo, hi = np.minimum(pos[on], pos[on + 1]), np.maximum(pos[on], pos[on + 1])
                    db = dead_before(e)
                    gap = (db[np.minimum(hi, db.shape[0] - 1)] - db[np.minimum(lo + 1, db.shape[0] - 1)] > 0) | \
                          (pos[on + 1] < pos[on])
                    cut[on[gap] + 1] = True
            edges = np.flatnonzero(cut)
            for a, b in zip(edges[:-1].tolist(), edges[1:].tolist()):
                if doc[a] >= 0:
                    out.append(Removed(d, r.start + a, r.start + b, REUSE, int(doc[a]), int(pos[a:b].min()),
                                       int(pos[a:b].max()) + 1))
                elif d in dropped:
                    out.append(Removed(d, r.start + a, r.start + b, SHORT))
                else:
                    keep_mask[d][r.start + a:r.start + b] = True  # its only copy is gone: it stays here
    out.sort(key=lambda r: (r.doc, r.start))
    return out


def _in_input(r: Removed, docs: np.ndarray, position: dict[int, np.ndarray]) -> list[Removed]:
    """A span removed by a later run (document numbers and offsets of that run's texts) in input terms: one
    span per stretch of input characters it covers, its kept copy's offsets mapped in proportion."""
    d = int(docs[r.doc])
    here = position.get(d)
    at = np.arange(r.start, r.end, dtype=np.int64) if here is None else here[r.start:r.end]
    kept = None if r.kept is None else int(docs[r.kept])
    ks, ke = r.kept_start, r.kept_end
    if kept is not None and kept in position:
        ks, ke = int(position[kept][ks]), int(position[kept][ke - 1]) + 1
    cuts = np.flatnonzero(np.diff(at) != 1) + 1
    out = []
    for lo, hi in zip(np.r_[0, cuts].tolist(), np.r_[cuts, at.shape[0]].tolist()):
        if kept is None:
            out.append(Removed(d, int(at[lo]), int(at[hi - 1]) + 1, r.reason))
        else:
            n = max(at.shape[0], 1)
            out.append(Removed(d, int(at[lo]), int(at[hi - 1]) + 1, r.reason, kept, ks + (ke - ks) * lo // n,
                               max(ks + (ke - ks) * hi // n, ks + (ke - ks) * lo // n + 1)))
    return out


def _resolve(segs: _Segments, doc: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where characters ``x`` of processed document ``doc`` are kept: (document, character, segment number + 1,
    0 for the document itself) — through the kept copy of a removed segment; _LOST where the character was
    removed as template or dropped with its document."""
    kd = np.full(x.shape[0], _LOST if segs.dropped else doc, np.int64)
    kp = x.copy()
    seg = np.zeros(x.shape[0], np.int64)
    if segs.start.shape[0]:
        k = np.searchsorted(segs.start, x, side="right") - 1
        inside = (k >= 0) & (x < segs.end[np.maximum(k, 0)])
        k = k[inside]
        width = np.maximum(segs.end[k] - segs.start[k], 1)
        kd[inside] = segs.doc[k]
        kp[inside] = np.minimum(segs.kept_start[k] + (x[inside] - segs.start[k]) * (segs.kept_end[k] - segs.kept_start[k])
                                // width, np.maximum(segs.kept_end[k] - 1, segs.kept_start[k]))
        seg[inside] = k + 1
        kd[inside & (kd == _TEMPLATE)] = _LOST
    return kd, kp, seg


def _runs(label: np.ndarray, on: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of equal ``label`` among the characters where ``on``."""
    if not on.any():
        return []
    lab = np.where(on, label, np.iinfo(np.int64).min)
    cut = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1], True])
    return [(int(a), int(b)) for a, b in zip(cut[:-1], cut[1:]) if on[a]]


__all__ = ["Outcome", "Removed", "Rounds", "from_result", "until_stable", "keep_order", "matches_of", "plan", "REUSE", "TEMPLATE", "SHORT"]
