"""Boilerplate and templates: text that recurs across documents without being reuse.

Site navigation, headline lists, footers, login and cookie prompts, ``Key: value`` header lines, signatures
and wire formulas recur in many documents, as reprinted stories do. A document-frequency cutoff cannot tell
them apart (a small site's footer is in 15 pages, a popular story in 500), so doublet decides by **what the
text is and where it occurs**, for each recurring fingerprint (a winnowed word 5-gram found in two or more
documents), from every document that holds it. Each rule can be turned off (``Config.template_rules``).

* **shape** (:func:`word_shape`, C kernel ``shape_words``) — each document's lines are read as a reader
  would. Hard-wrapped lines are joined again: the wrap width W (30..120) is the one that explains the most
  line breaks as greedy wrapping (a line ≤ W whose next word would not have fitted), kept when it explains
  ≥ 3 breaks and a quarter of the lines that have a neighbour; a line of ≥ 30 characters ending mid-sentence
  also continues on a next line that starts in lower case or with a digit. Every logical line is *prose*
  (it ends a sentence and has ≥ 5 words, or has ≥ 20 words, or is quoted with ``>``, or is a row of
  figures), *short* (headlines, menu items, titles, link text) or *template* outright (≤ 25 words with
  ``©``, an e-mail address, two or more `` | `` / `` · `` / `` • `` / `` » `` / `` › `` / `` / `` separators,
  a ``Key: value`` line such as ``Organization: ...`` or ``Shares: 21263``, a mail or news header block, or
  a signature: a ``--`` or rule line followed by at most 10 lines). Runs of lines that are not prose form
  blocks; a block is template-shaped when it holds ≥ 3 lines of which at least half are short or template
  (navigation and headline lists), or when it sits at the start or end of a text that has prose and holds
  a short or template line (page headers and footers). The text's *end zone* (from its end back over
  template-shaped lines and paragraphs under 25 words) and its *tail* (the paragraph before the end zone,
  up to 60 words) are marked too. A fingerprint's flag in a document is 1 when most of its words are in
  template-shaped lines, 2 in those or the end zone, 3 in those, the end zone or the tail.
* **vote** — a recurring fingerprint is a template (``SHAPE``) when at least ``template_share`` (half) of
  the documents holding it, and at least two, flag it 1. It is a template by its place (``EDGE``) when ≥ 5
  documents hold it and 90 % of them flag it 1 or 2 (a footer's prose: newsletter pitch, republication
  notice), or ≥ 10 hold it and 95 % flag it 1, 2 or 3 (a signature's quotation, a closing formula). Shape
  needs line breaks; a page whose text lost them is outvoted by the pages of the same template that kept
  them, since fingerprints are computed on words only.
* **site** — when documents carry a site (web pages: the page's URL host or site name; JSON Lines, CSV and
  Parquet: ``--site-field``), a fingerprint found in two or more documents that all come from one site is
  that site's template (``SITE``), however small the site; the same text on two sites is reuse however often.
* **frequency** — a content fingerprint held by ≥ 5 documents is a template (``FREQUENCY``) when in at least
  half of them it is far more common than the document's own text (df ≥ 2 × the document's typical df, the
  median df of its fingerprints) *and* lies beyond that own text (before the 10th or after the 90th
  percentile position of its fingerprints found in < 5 documents): a site's prose chrome around pages found
  once. A story is as common as the copy that holds it; a quotation embedded in other text has that text on
  both sides. Engines defer these fingerprints (:func:`doublet.candidates.postings`) and decide them once
  every document's typical df and own-text span are known (:func:`doublet.candidates.settle`).
* **user** — texts the user declares template (``--template FILE``): every fingerprint of them (``USER``).
* **facts** (in verification, :func:`other_facts`) — an aligned passage whose facts (figures, names, dates)
  mostly differ between the two texts is the same formula with other facts, not reuse: it is dropped and
  counted in ``summary.templates.template_matches``.

Template fingerprints propose no candidate pair, and the words they cover (widened to whole lines) are
masked out of alignment, so a template can neither make a pair nor sit inside a reported passage. Beyond
the cost cap ``max_df`` a fingerprint proposes no pair either (a cost bound, not a definition: it is not
masked), but its rule is still decided over every document holding it: the local engine and the index
count all of a fingerprint's rows; the Spark engine keeps only the rows of its first ``max_df + 1``
documents (all a pair can come from) and passes the counts over all of them
(:class:`doublet.candidates.HashStats`), so every engine decides on the same counts. ``boilerplate.jsonl``
lists the template blocks (:func:`blocks`), ``templates.parquet`` every template fingerprint
(:func:`write_table`), and ``summary.json`` counts them by rule (:func:`summary`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from . import _kernel

RULES = ("shape", "site", "user", "edge", "frequency")
"""The template rules, in the order their codes are numbered (1 .. 5; 0 = content)."""
CONTENT, SHAPE, SITE, USER, EDGE, FREQUENCY = 0, 1, 2, 3, 4, 5
SHAPE_MIN_VOTES = 2
"""Documents that must show a recurring text template-shaped (and at least ``template_share`` of them): one
document's odd layout of a story (an excerpt's wrapped lines read as a list) does not mask it in its copies."""
EDGE_MIN_DF = 5
"""Documents that must hold a sentence of their end zones before it can be a template by the edge rule."""
EDGE_SHARE = 0.9
"""Share of those documents that must show it in their end zone (or template-shaped)."""
TAIL_MIN_DF = 10
"""Documents that must hold a text's tail paragraph before it can be a template by the edge rule."""
TAIL_SHARE = 0.95
"""Share of those documents that must show it in their tail, end zone or template-shaped lines."""


@dataclass(frozen=True, slots=True)
class Rules:
    """Which template rules apply, and the vote's threshold (from :class:`doublet.Config`)."""

    shape: bool = True
    site: bool = True
    frequency: bool = True
    share: float = 0.5

    @staticmethod
    def of(cfg: object) -> "Rules":
        on = set(getattr(cfg, "template_rules"))
        return Rules(shape="shape" in on, site="site" in on, frequency="frequency" in on,
                     share=float(getattr(cfg, "template_share")))


def word_shape(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """One uint8 per word of ``text`` (words given by their raw ``starts``/``ends``): 1 when the word sits in
    a template-shaped line (C kernel)."""
    return np.frombuffer(_kernel.shape(text, np.ascontiguousarray(starts, np.int64),
                                       np.ascontiguousarray(ends, np.int64)), np.uint8)


def decide(df: np.ndarray, votes: np.ndarray, weak: np.ndarray, tail: np.ndarray, site_lo: np.ndarray,
           site_hi: np.ndarray, rules: Rules) -> np.ndarray:
    """The template rule (``SHAPE``, ``EDGE``, ``SITE``; ``CONTENT`` = 0) of each recurring fingerprint.

    Per fingerprint: ``df`` documents hold it, ``votes`` of them show it template-shaped, ``weak`` in their end
    zone and ``tail`` in their tail paragraph, and ``site_lo``/``site_hi`` are the smallest and largest site number
    among them (sites are numbered from 1; 0 = a document without a site). Shape wins over edge, edge over site.
    """
    out = np.zeros(df.shape[0], np.uint8)
    recurring = df >= 2
    if rules.site:
        out[recurring & (site_lo > 0) & (site_lo == site_hi)] = SITE
    if rules.shape:
        out[(df >= TAIL_MIN_DF) & (votes + weak + tail >= TAIL_SHARE * df)] = EDGE
        out[(df >= EDGE_MIN_DF) & (votes + weak >= EDGE_SHARE * df)] = EDGE
        out[recurring & (votes >= rules.share * df) & (votes >= SHAPE_MIN_VOTES)] = SHAPE
    return out


_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?([^/?#\s]+)", re.I)


def site_key(value: object) -> str | None:
    """The site a document belongs to, from a site name, a host or a URL: lower case, without ``www.``/``m.``
    and a port (``https://www.Example.com:443/a`` → ``example.com``); ``None`` for an empty value."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if "://" in text or "/" in text or ("." in text and " " not in text):
        host = urlsplit(text if "://" in text else "//" + text).hostname or ""
        if not host:
            m = _HOST.match(text)
            host = m.group(1) if m else text
        text = host
    text = text.lower()
    for prefix in ("www.", "m."):
        if text.startswith(prefix) and text.count(".") >= 2:
            text = text[len(prefix):]
    return text or None


class SiteNumbers:
    """Numbers sites in order of first appearance (1, 2, ...; 0 = no site), as engines give them to documents."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def number(self, value: object) -> int:
        key = site_key(value)
        if key is None:
            return 0
        got = self._ids.get(key)
        if got is None:
            got = self._ids[key] = len(self._ids) + 1
        return got

    def __len__(self) -> int:
        return len(self._ids)


def user_hashes(texts: Iterable[str], shingle_size: int) -> np.ndarray:
    """Sorted unique hashes of every word shingle of the given texts (the user's template texts): any
    fingerprint among them is template. Every shingle, not only the winnowed ones, since a template inside a
    document is winnowed at other positions than the template alone."""
    from .tokens import ngram_hashes, tokenize

    parts = [ngram_hashes(tokenize(t).hashes, shingle_size) for t in texts if t.strip()]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, np.uint64)


@dataclass(frozen=True, slots=True)
class Templates:
    """Fingerprints judged template, sorted by hash, with the rule that decided each, how many documents hold
    it, and an example: the first document holding it and its position (word index) there."""

    hashes: np.ndarray  # uint64, sorted
    rule: np.ndarray  # uint8: SHAPE, SITE, USER
    df: np.ndarray  # int64
    doc: np.ndarray  # int64
    pos: np.ndarray  # uint32

    @staticmethod
    def empty() -> "Templates":
        return Templates(np.empty(0, np.uint64), np.empty(0, np.uint8), np.empty(0, np.int64),
                         np.empty(0, np.int64), np.empty(0, np.uint32))

    @staticmethod
    def concat(parts: Sequence["Templates"]) -> "Templates":
        """Templates of disjoint hash partitions together, sorted by hash."""
        if not parts:
            return Templates.empty()
        cols = [np.concatenate([getattr(p, f) for p in parts]) for f in Templates.__slots__]
        order = np.argsort(cols[0], kind="stable")
        return Templates(*(c[order] for c in cols))

    def __len__(self) -> int:
        return int(self.hashes.shape[0])


def site_of(doc: object) -> object:
    """What names a document's site: the host of its URL (``meta["url"]``) when it has one, else
    ``meta["site"]`` (a page's declared site name, or a ``--site-field`` value), else None."""
    meta = getattr(doc, "meta", None) or {}
    return meta.get("url") or meta.get("site")


# ------------------------------------------------------------------------------------------ frequency rule

OUTLIER_MIN_DF = 5
"""Documents that must hold a fingerprint before the frequency rule can call it a template."""
OUTLIER_RATIO = 2.0
"""A fingerprint is far more common than its document's text when its df is at least this many times the
document's typical df."""
OUTLIER_SHARE = 0.5
"""Share of a fingerprint's documents in which it must be such an outlier, on the document's periphery."""
"""The periphery of a document: its second half, and its first fifth (word positions)."""
DF_BUCKETS = 24
"""Documents' df histograms use buckets of a factor sqrt(2): bucket b holds df in [2**(b/2), 2**((b+1)/2))."""


def _df_bucket_of(df: np.ndarray) -> np.ndarray:
    d = np.maximum(np.asarray(df, np.float64), 1.0)
    return np.minimum(np.floor(2.0 * np.log2(d) + 1e-9), DF_BUCKETS - 1).astype(np.uint8)


_DF_TOP = 1 << ((DF_BUCKETS + 1) // 2)
_DF_BUCKET = _df_bucket_of(np.arange(_DF_TOP + 1))  # every df from 2**12 on is in the last bucket


def df_bucket(df: np.ndarray) -> np.ndarray:
    """The histogram bucket of each df (uint8; df >= 2**12 all in the last bucket), looked up in a table of
    ``floor(2 log2 df)``."""
    return _DF_BUCKET[np.clip(np.asarray(df, np.int64), 0, _DF_TOP)]


def doc_histogram(n: int, keys: np.ndarray, counts: np.ndarray | None, width: int = DF_BUCKETS) -> np.ndarray:
    """(n, width) histogram from ``doc * width + bucket`` keys and their counts (summed over partitions; None:
    each key counts 1, keys may repeat)."""
    hist = np.zeros(n * width, np.int64)
    if counts is None:
        add_counts(hist, keys)
    else:
        np.add.at(hist, np.asarray(keys, np.int64), np.asarray(counts, np.int64))
    return hist.reshape(n, width)


def add_counts(hist: np.ndarray, keys: np.ndarray) -> None:
    """``hist[k] += 1`` for every key (repeats count each time; int64 ``hist``, C kernel): how the documents'
    histogram cells of many partitions are added up."""
    keys = np.asarray(keys)
    wide = keys.dtype != np.uint32
    _kernel.add_counts(hist, np.ascontiguousarray(keys, np.int64 if wide else np.uint32), wide)


def typical_df(hist: np.ndarray) -> np.ndarray:
    """Each document's typical document frequency (the median df of its content fingerprints, to a factor
    sqrt(2)), from its df histogram (rows of :data:`DF_BUCKETS` counts): the geometric middle of the bucket that
    holds the median; 1 for the bucket of df 1 and for documents without content fingerprints."""
    hist = np.asarray(hist)
    if hist.shape[0] == 0:
        return np.empty(0, np.float32)
    cum = np.cumsum(hist, axis=1)
    total = cum[:, -1]
    b = (cum < (total[:, None] + 1) // 2).sum(axis=1)  # first bucket whose cumulative count reaches half
    out = np.where(b == 0, 1.0, 2.0 ** ((b + 0.5) / 2.0))
    return np.where(total > 0, out, 1.0).astype(np.float32)


POS_BUCKETS = 20
"""Documents' own-text position histograms: bucket b holds word positions in [b/20, (b+1)/20) of the text."""
OWN_TEXT_EDGE = 0.1
"""The document's own text spans from the bucket of its 10th to that of its 90th percentile position."""


def pos_bucket(pos: np.ndarray, n_words: np.ndarray) -> np.ndarray:
    """Each word position's bucket in its document (uint8, 0 .. POS_BUCKETS - 1)."""
    rel = np.asarray(pos, np.float64) / np.maximum(np.asarray(n_words, np.float64), 1.0)
    return np.minimum(np.floor(rel * POS_BUCKETS), POS_BUCKETS - 1).astype(np.uint8)


def own_text_span(hist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each document's own-text span, as bucket bounds [lo, hi] (inclusive), from the histogram of the positions
    of its content fingerprints found in fewer than OUTLIER_MIN_DF documents: the buckets holding its 10th and
    90th percentiles. A document without own text gets lo = POS_BUCKETS, hi = -1 (every position is beyond)."""
    hist = np.asarray(hist)
    cum = np.cumsum(hist, axis=1)
    total = cum[:, -1]
    lo = (cum <= OWN_TEXT_EDGE * total[:, None]).sum(axis=1)
    hi = (cum < (1 - OWN_TEXT_EDGE) * total[:, None]).sum(axis=1)
    none = total == 0
    return np.where(none, POS_BUCKETS, lo).astype(np.int64), np.where(none, -1, hi).astype(np.int64)


def outliers(df: np.ndarray, typical: np.ndarray, bucket: np.ndarray, own_lo: np.ndarray,
             own_hi: np.ndarray) -> np.ndarray:
    """Per fingerprint occurrence (df of its hash; its document's typical df and own-text span; the position
    bucket of the occurrence): whether it is far more common than the text around it (df >= OUTLIER_RATIO x
    typical) and lies beyond the document's own text (before the bucket of its 10th percentile position or after
    that of its 90th), as a site's prose chrome does (a comment policy, a newsletter pitch, a cookie notice:
    found on a large share of the pages, around texts found once). A story's text is as common as the copy that
    holds it; a passage embedded in another text has that text on both sides as often as not."""
    b = np.asarray(bucket, np.int64)
    beyond = (b > np.asarray(own_hi, np.int64)) | (b < np.asarray(own_lo, np.int64))
    return far_more_common(df, typical) & beyond


def outlier_rows(df: np.ndarray, docs: np.ndarray, positions: np.ndarray, typical: np.ndarray, own_lo: np.ndarray,
                 own_hi: np.ndarray, n_words: np.ndarray) -> np.ndarray:
    """:func:`outliers` of fingerprint rows: the df of each row's hash, the row's document (an index into the
    per-document arrays ``typical``, ``own_lo``, ``own_hi`` and ``n_words``) and its word position."""
    d = np.asarray(docs, np.int64)
    return outliers(df, np.asarray(typical)[d], pos_bucket(positions, np.asarray(n_words)[d]), np.asarray(own_lo)[d],
                    np.asarray(own_hi)[d])


def far_more_common(df: np.ndarray, typical: np.ndarray) -> np.ndarray:
    """Whether a fingerprint held by ``df`` documents is far more common than a document whose typical df is
    ``typical`` (df >= OUTLIER_RATIO x typical): the df half of :func:`outliers`."""
    return np.asarray(df, np.float64) >= OUTLIER_RATIO * np.asarray(typical, np.float64)


def typical_levels() -> np.ndarray:
    """Every value :func:`typical_df` can give (float32, ascending): a fingerprint's :func:`far_more_common` can
    change, as its df changes, only where its df crosses OUTLIER_RATIO x one of these (what an index that keeps
    outlier counts incrementally must know)."""
    return np.unique(typical_df(np.eye(DF_BUCKETS, dtype=np.int64)))


def frequent(df: np.ndarray, n_outliers: np.ndarray) -> np.ndarray:
    """The frequency rule's vote: a fingerprint held by ``df`` documents (at least OUTLIER_MIN_DF, content by every
    other rule) is a template when it is one of :func:`outliers` in ``n_outliers`` >= OUTLIER_SHARE x df of them."""
    return np.asarray(n_outliers, np.int64) >= OUTLIER_SHARE * np.asarray(df, np.int64)


FACTS_CHANGED = 3
"""Facts found on one side of a passage only (both sides counted) that can make it a formula with other facts."""


_FACT_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
               "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety half "
               "quarter first second third fourth fifth january february march april may june july august "
               "september october november december monday tuesday wednesday thursday friday saturday sunday")
"""Words that state a fact as a figure does (numbers, dates). Units (``mln``, ``billion``) are not facts: a
formula repeats them whatever its figures."""
_FACT_HASHES: np.ndarray | None = None


def _fact_hashes() -> np.ndarray:
    global _FACT_HASHES
    if _FACT_HASHES is None:
        from .tokens import tokenize

        _FACT_HASHES = np.unique(tokenize(_FACT_WORDS).hashes)
    return _FACT_HASHES


def word_figures(text: str, tokens: object) -> np.ndarray:
    """One uint64 per word: what fact it states, 0 for none. Figures are written with digits, joined over
    ``. , / - :`` as written (``1.5``, ``6-3/8``, ``2,978``: one figure each); names are capitalised words that
    do not open a sentence (``Mitsui``, ``London``; both in the C kernel); numbers, months and weekdays in words
    (``two``, ``March``) are facts too (their word hash)."""
    return np.frombuffer(_kernel.figures(text, np.ascontiguousarray(getattr(tokens, "starts"), np.int64),
                                         np.ascontiguousarray(getattr(tokens, "ends"), np.int64), True,
                                         np.ascontiguousarray(getattr(tokens, "hashes"), np.uint64), _fact_hashes()),
                         np.uint64)


def other_facts(spans: Sequence[object], figures_a: np.ndarray, figures_b: np.ndarray) -> list[bool]:
    """For each aligned passage (word spans ``a0:a1`` / ``b0:b1``), whether it is the same formula with other
    facts: most of its facts (:func:`word_figures`: amounts, rates, dates, counts, names; distinct) differ — each
    side holds one the other lacks, at least :data:`FACTS_CHANGED` differ in all (both sides counted), and no
    fewer than the two share. A wire formula ("The Bank of England provided the money market with 345 mln stg
    help ... 56 mln in band two at 9-13/16 pct"; "The issue is guaranteed by Mitsui Bank Ltd") matches another
    day's word for word but for its facts; a reprint keeps them, and a story updated with a new figure or two
    keeps most. Passages too short to show this alone are judged together: when the pair's other passages,
    taken together, are a formula with other facts, all of them are."""
    # a passage holds a few dozen facts: each side's facts as Python lists once, then sets of slices found by
    # bisection (numpy's set operations cost more per call than these small sets do)
    at_a, at_b = np.flatnonzero(figures_a), np.flatnonzero(figures_b)
    pos_a, val_a, pos_b, val_b = at_a.tolist(), figures_a[at_a].tolist(), at_b.tolist(), figures_b[at_b].tolist()

    def facts(pos: list[int], val: list[int], ranges: list[tuple[int, int]]) -> set[int]:
        out: set[int] = set()
        for x, y in ranges:
            out.update(val[bisect_left(pos, x):bisect_left(pos, y)])
        return out

    def differ(ranges_a: list[tuple[int, int]], ranges_b: list[tuple[int, int]]) -> bool:
        fa, fb = facts(pos_a, val_a, ranges_a), facts(pos_b, val_b, ranges_b)
        shared = len(fa & fb)
        only_a, only_b = len(fa) - shared, len(fb) - shared
        return min(only_a, only_b) >= 1 and only_a + only_b >= max(FACTS_CHANGED, shared)

    ends = [(getattr(w, "a0"), getattr(w, "a1"), getattr(w, "b0"), getattr(w, "b1")) for w in spans]
    out = [differ([(a0, a1)], [(b0, b1)]) for a0, a1, b0, b1 in ends]
    rest = [e for e, other in zip(ends, out) if not other]
    if len(rest) >= 2 and differ([(a0, a1) for a0, a1, _, _ in rest], [(b0, b1) for _, _, b0, b1 in rest]):
        return [True] * len(spans)  # short passages of one formula, their facts differing taken together
    return out


LINE_SLACK = 80
"""A listed template block takes in the rest of its first and last lines when that is at most this many
characters (a glued or unwrapped text's one long line stays cut at the block's words)."""


def blocks(templates: Templates, ids: Sequence[str], text_of: Callable[[int], str], shingle_size: int,
           window: int, max_chars: int = 2000) -> list[dict]:
    """The recurring blocks taken as template, for ``boilerplate.jsonl``: the template fingerprints of each
    example document (the first document holding them), in runs of fingerprints at most ``window +
    shingle_size`` words apart, each with its text in that document (character offsets ``start``/``end``, whole
    lines unless that adds more than :data:`LINE_SLACK` characters at an end; the text cut at ``max_chars``), the most documents holding one of its fingerprints, its fingerprints by rule.
    Sorted by documents, most first."""
    from .tokens import tokenize

    out: list[dict] = []
    if not len(templates):
        return out
    order = np.lexsort((templates.pos, templates.doc))
    doc, pos, rule, df = (templates.doc[order], templates.pos[order].astype(np.int64), templates.rule[order],
                          templates.df[order])
    bounds = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        k = int(doc[lo])
        text = text_of(k)
        tok = tokenize(text)
        n = len(tok)
        if n == 0:
            continue
        p = pos[lo:hi]
        cuts = (np.flatnonzero(np.diff(p) > window + shingle_size) + 1).tolist()
        p_list = p.tolist()
        for a, b in zip([0, *cuts], [*cuts, len(p_list)]):
            first, last = p_list[a], min(p_list[b - 1] + shingle_size - 1, n - 1)
            start, end = int(tok.starts[min(first, n - 1)]), int(tok.ends[last])
            line_start = text.rfind("\n", 0, start) + 1  # whole lines, as a reader sees the block, unless
            nl = text.find("\n", end)                        # that would take in a long stretch of other text
            line_end = len(text) if nl < 0 else nl
            start = line_start if start - line_start <= LINE_SLACK else start
            end = line_end if line_end - end <= LINE_SLACK else end
            names = Counter(RULES[c - 1] for c in rule[lo + a:lo + b].tolist())
            out.append({"text": text[start:min(end, start + max_chars)], "example": ids[k], "start": start,
                        "end": end, "documents": int(df[lo + a:lo + b].max()), "fingerprints": b - a,
                        "rule": names.most_common(1)[0][0], "rules": dict(names)})
    out.sort(key=lambda r: (-r["documents"], r["example"], r["start"]))
    return out


def summary(templates: Templates, n_blocks: int) -> dict:
    """The ``templates`` section of ``summary.json``: template fingerprints, in how many document occurrences,
    by rule."""
    by_rule = {name: int((templates.rule == code).sum()) for code, name in enumerate(RULES, 1)}
    occ = {name: int(templates.df[templates.rule == code].sum()) for code, name in enumerate(RULES, 1)}
    return {"fingerprints": len(templates), "by_rule": by_rule, "occurrences_by_rule": occ, "blocks": n_blocks}


TABLE_COLUMNS = ("fingerprint", "rule", "documents", "example", "position")
"""Columns of ``templates.parquet``: the fingerprint (uint64), the rule that made it template, how many
documents hold it, its first document (id) and its position there (word index)."""


def write_table(templates: Templates, ids: Sequence[str] | Mapping[int, str], path: str | Path) -> None:
    """``templates.parquet``: every fingerprint a run took as template (what its verification masked), one row
    each, sorted by fingerprint (:data:`TABLE_COLUMNS`); ``doublet report`` mutes their words. ``ids[k]`` is
    the id of document ``k`` (a mapping of the example documents' suffices)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = pa.array(RULES, pa.string())
    table = pa.table({"fingerprint": pa.array(templates.hashes, pa.uint64()),
                      "rule": pa.DictionaryArray.from_arrays(pa.array(templates.rule.astype(np.int8) - 1), names),
                      "documents": pa.array(templates.df, pa.int64()),
                      "example": pa.array([ids[k] for k in templates.doc.tolist()], pa.string()),
                      "position": pa.array(templates.pos, pa.uint32())})
    pq.write_table(table, str(path), compression="zstd")


def read_table(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The fingerprints (sorted uint64) and rule codes (uint8) of a ``templates.parquet``."""
    import pyarrow.parquet as pq

    table = pq.read_table(str(path), columns=["fingerprint", "rule"])
    hashes = table.column("fingerprint").to_numpy().astype(np.uint64)
    col = table.column("rule").combine_chunks()
    if hasattr(col, "dictionary"):  # as written: codes of the dictionary's names
        code = np.array([RULES.index(r) + 1 for r in col.dictionary.to_pylist()], np.uint8)
        rule = code[col.indices.to_numpy(zero_copy_only=False)]
    else:
        rule = np.array([RULES.index(r) + 1 for r in col.to_pylist()], np.uint8)
    order = np.argsort(hashes, kind="stable")
    return hashes[order], rule[order]


def rule_names(codes: Sequence[int]) -> list[str]:
    """Rule names of template codes (``1`` → ``"shape"``)."""
    return [RULES[c - 1] for c in codes]
