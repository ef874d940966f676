"""Per-document and per-pair stage functions shared by every engine.

An engine (local, Spark, the index) only decides *where* these run; what they compute is defined once here:

* :func:`fingerprint_batch` — for many documents at once: MinHash signatures and winnowed passage
  fingerprints (the C kernel; documents with mojibake are repaired with ftfy first);
* :func:`view` — what verification needs about one candidate document: words with raw offsets, the
  shingle set and the fingerprint positions (recomputed from the text, by the same kernel);
* :func:`prepare` — a view plus the document's boilerplate mask and alignment seeds;
* :func:`compare_prepared` — exact overlap and aligned passages of two documents, and the verdict:
  ``near-duplicate`` (Jaccard ≥ threshold), ``reuse`` (at least ``min_words`` words in verbatim runs of
  aligned passages) or ``None``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _kernel
from .align import Passage, align_words, reuse_level, seeds, to_passages
from .config import Config
from .fingerprints import HashSet, boilerplate_mask, member
from .template import RULES, other_facts, word_figures, word_shape
from .tokens import Tokens, _scan, ngram_hashes, repaired_text, tokenize
from .verify import overlap


@dataclass(frozen=True, slots=True)
class BatchPrints:
    """Fingerprints of a batch of documents, as flat arrays (document ``i`` owns ``fp_counts[i]`` fingerprints)."""

    n_words: np.ndarray  # uint32 per document
    sigs: np.ndarray  # (n_docs, num_perm) uint32 MinHash signatures
    has_sig: np.ndarray  # bool per document: False when it has no words
    fp_counts: np.ndarray  # int64 per document
    fp_hashes: np.ndarray  # uint64, all documents back to back
    fp_pos: np.ndarray  # uint32: index of the fingerprint shingle's first word
    fp_shape: np.ndarray  # uint8: 1 when most of the shingle's words sit in template-shaped lines (template.py)

    @staticmethod
    def concat(parts: Sequence["BatchPrints"], num_perm: int) -> "BatchPrints":
        if not parts:
            return BatchPrints(np.empty(0, np.uint32), np.empty((0, num_perm), np.uint32), np.empty(0, bool),
                               np.empty(0, np.int64), np.empty(0, np.uint64), np.empty(0, np.uint32),
                               np.empty(0, np.uint8))
        return BatchPrints(*(np.concatenate([getattr(p, f) for p in parts]) for f in BatchPrints.__slots__))


def _kernel_prints(hashes: np.ndarray, cfg: Config, word_shape: np.ndarray) -> tuple[bytes, int, bytes, bytes, bytes]:
    return _kernel.prints_from_hashes(np.ascontiguousarray(hashes, np.uint64), cfg.shingle_size, cfg.rule.window,
                                      cfg.num_perm, cfg.seed, np.ascontiguousarray(word_shape, np.uint8))


def fingerprint_batch(texts: Sequence[str], cfg: Config) -> BatchPrints:
    """MinHash signatures, winnowed fingerprints and their shape flags of many documents (one C call; mojibake
    repaired)."""
    words, flags, sigs, has, counts, fph, fpp, shp = _kernel.fingerprint_batch(
        texts, cfg.shingle_size, cfg.rule.window, cfg.num_perm, cfg.seed)
    n = len(texts)
    out = BatchPrints(
        n_words=np.frombuffer(words, np.uint32),
        sigs=np.frombuffer(sigs, np.uint32).reshape(n, cfg.num_perm),
        has_sig=np.frombuffer(has, np.uint8).astype(bool),
        fp_counts=np.frombuffer(counts, np.uint32).astype(np.int64),
        fp_hashes=np.frombuffer(fph, np.uint64),
        fp_pos=np.frombuffer(fpp, np.uint32),
        fp_shape=np.frombuffer(shp, np.uint8),
    )
    flagged = np.flatnonzero(np.frombuffer(flags, np.uint8) & _kernel.FLAG_MOJIBAKE)
    return _with_repairs(out, texts, flagged, cfg) if flagged.size else out


def _with_repairs(out: BatchPrints, texts: Sequence[str], flagged: np.ndarray, cfg: Config) -> BatchPrints:
    """Recompute the documents whose text ftfy repairs, and splice them into the batch."""
    bounds = np.r_[0, np.cumsum(out.fp_counts)]
    fph = [out.fp_hashes[bounds[i]:bounds[i + 1]] for i in range(len(texts))]
    fpp = [out.fp_pos[bounds[i]:bounds[i + 1]] for i in range(len(texts))]
    fps = [out.fp_shape[bounds[i]:bounds[i + 1]] for i in range(len(texts))]
    n_words, sigs, has, counts = out.n_words.copy(), out.sigs.copy(), out.has_sig.copy(), out.fp_counts.copy()
    for i in flagged.tolist():
        fixed = repaired_text(texts[i])
        if fixed is None:
            continue
        starts, ends, hashes, _ = _scan(fixed)
        sig, has_sig, h, p, f = _kernel_prints(hashes, cfg, word_shape(fixed, starts, ends))
        n_words[i], sigs[i], has[i] = hashes.shape[0], np.frombuffer(sig, np.uint32), bool(has_sig)
        fph[i], fpp[i], fps[i] = np.frombuffer(h, np.uint64), np.frombuffer(p, np.uint32), np.frombuffer(f, np.uint8)
        counts[i] = fph[i].shape[0]
    return BatchPrints(n_words, sigs, has, counts, np.concatenate(fph) if fph else out.fp_hashes,
                       np.concatenate(fpp) if fpp else out.fp_pos, np.concatenate(fps) if fps else out.fp_shape)


@dataclass(frozen=True, slots=True)
class DocView:
    """What verification and alignment need about one document."""

    tokens: Tokens
    shingles: np.ndarray  # sorted unique word-shingle hashes (the document's shingle set)
    fp_hashes: np.ndarray  # winnowed fingerprint hashes
    fp_pos: np.ndarray  # their positions (index of the shingle's first word)

    def mask(self, text: str, boilerplate: "np.ndarray | HashSet", cfg: Config) -> np.ndarray:
        """Mask (uint8 per word, 1 = boilerplate) of this document's words, given sorted boilerplate hashes (or a
        :class:`doublet.fingerprints.HashSet` of them)."""
        if len(boilerplate) == 0 or self.fp_hashes.shape[0] == 0:
            return np.zeros(len(self.tokens), dtype=np.uint8)
        hit = member(boilerplate, self.fp_hashes)
        if not hit.any():
            return np.zeros(len(self.tokens), dtype=np.uint8)
        return boilerplate_mask(text, self.tokens, self.fp_pos[hit], cfg.shingle_size, cfg.rule.window)


def view(text: str, cfg: Config) -> DocView:
    """Words, shingle set and fingerprints of one document."""
    tokens = tokenize(text)
    sh, h, p = _kernel.doc_view(np.ascontiguousarray(tokens.hashes, np.uint64), cfg.shingle_size, cfg.rule.window)
    return DocView(tokens=tokens, shingles=np.frombuffer(sh, np.uint64), fp_hashes=np.frombuffer(h, np.uint64),
                   fp_pos=np.frombuffer(p, np.uint32))


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document ready for comparison: its text, view, boilerplate mask and alignment seeds."""

    text: str
    view: DocView
    mask: np.ndarray  # uint8 per word, 1 = boilerplate
    seeds: bytes
    figures: np.ndarray  # uint64 per word: its figure or fact word, 0 = none (template.word_figures)


def prepare(text: str, cfg: Config, boilerplate: "np.ndarray | HashSet | None" = None) -> Prepared:
    """Everything :func:`compare_prepared` needs about one document, given the corpus's boilerplate hashes
    (sorted, or a :class:`doublet.fingerprints.HashSet` of them when many documents are prepared)."""
    v = view(text, cfg)
    if boilerplate is None or len(boilerplate) == 0:
        mask = np.zeros(len(v.tokens), dtype=np.uint8)
    else:
        mask = v.mask(text, boilerplate, cfg)
    return Prepared(text, v, mask, seeds(v.tokens.hashes, mask, cfg.seed_size), word_figures(text, v.tokens))


@dataclass(frozen=True, slots=True)
class PairResult:
    """A compared pair of documents (``a < b`` in a corpus run)."""

    a: str
    b: str
    kind: str | None  # "near-duplicate" | "reuse" | None (not a reusing pair)
    jaccard: float
    containment_a: float
    containment_b: float
    passages: tuple[Passage, ...]
    other_facts: int = 0
    """Aligned passages left out as one formula with other figures (:func:`doublet.template.other_facts`)."""

    @property
    def level(self) -> str | None:
        """How the text was reused: ``verbatim``, ``light`` or ``heavy`` (:func:`doublet.align.reuse_level` of
        its passages); None for a pair without passages."""
        return reuse_level(self.passages)

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "kind": self.kind,
            "level": self.level,
            "jaccard": round(self.jaccard, 4),
            "containment_a": round(self.containment_a, 4),
            "containment_b": round(self.containment_b, 4),
            "passages": [p.to_dict() for p in self.passages],
        }


def template_spans(text: str, cfg: Config, t_hash: np.ndarray, t_rule: np.ndarray) -> list[dict]:
    """Character spans of the words that template fingerprints (sorted ``t_hash`` with rules ``t_rule``) mask in
    ``text`` (with the punctuation before and after them on their lines), each with the rule of most of its
    fingerprints."""
    p = prepare(text, cfg, t_hash)
    m = p.mask.astype(bool)
    if not m.any():
        return []
    tok = p.view.tokens
    edges = np.flatnonzero(np.diff(np.r_[0, m.astype(np.int8), 0]))
    first, last = edges[0::2], edges[1::2] - 1
    fp_hash, fp_pos = p.view.fp_hashes, p.view.fp_pos.astype(np.int64)
    k = np.searchsorted(t_hash, fp_hash)
    k[k == t_hash.shape[0]] = 0
    hit = t_hash[k] == fp_hash if t_hash.shape[0] else np.zeros(fp_hash.shape[0], bool)
    rule_at, pos_at = t_rule[k[hit]], fp_pos[hit]
    out = []
    for a, b in zip(first.tolist(), last.tolist()):
        inside = (pos_at >= a - cfg.rule.window - cfg.shingle_size) & (pos_at <= b)
        names = Counter(RULES[c - 1] for c in rule_at[inside].tolist())
        start, end = int(tok.starts[a]), int(tok.ends[b])
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        if not any(c.isalnum() for c in text[line_start:start]):  # a whole line's punctuation goes with its words
            start = line_start
        if not any(c.isalnum() for c in text[end:line_end]):
            end = line_end
        out.append({"start": start, "end": end, "rule": names.most_common(1)[0][0] if names else "shape"})
    return out


def distinct_matched(spans: list, hashes_a: np.ndarray, seed_size: int) -> int:
    """Words in verbatim runs of the aligned passages, repeated text counted once: at most the number of
    distinct word ``seed_size``-grams the passages hold (plus ``seed_size - 1``), so that a sentence both texts
    print twice (a newsletter pitch inside and after an article) is one sentence of evidence, not two."""
    total = sum(w.matched for w in spans)
    if not spans:
        return 0
    grams = np.sort(np.concatenate([ngram_hashes(hashes_a[w.a0:w.a1], seed_size) for w in spans]))
    distinct = int(grams.shape[0] > 0) + int(np.count_nonzero(grams[1:] != grams[:-1]))  # np.unique: 10x slower here
    return min(total, distinct + seed_size - 1)


def compare_prepared(id_a: str, id_b: str, da: Prepared, db: Prepared, cfg: Config) -> PairResult:
    """Exact overlap, aligned passages and verdict for one pair."""
    pa, pb, text_a, text_b = da.view, db.view, da.text, db.text
    ov = overlap(pa.shingles, pb.shingles)
    spans = align_words(da.seeds, db.seeds, da.mask, db.mask, seed_size=cfg.seed_size,
                        max_gap=cfg.max_gap, min_passage_words=cfg.min_passage_words,
                        min_identity=cfg.min_identity)
    n_other = 0
    if spans:  # a formula repeated with other figures is a template, not reuse
        kept = [w for w, other in zip(spans, other_facts(spans, da.figures, db.figures)) if not other]
        n_other, spans = len(spans) - len(kept), kept
    passages = tuple(to_passages(spans, pa.tokens, pb.tokens, text_a, text_b, cfg.seed_size, da.mask, db.mask))
    if ov.jaccard >= cfg.threshold:
        kind: str | None = "near-duplicate"
    elif sum(w.matched for w in spans) >= cfg.min_words and distinct_matched(spans, pa.tokens.hashes,
                                                                            cfg.seed_size) >= cfg.min_words:
        kind = "reuse"
    else:
        kind = None
    return PairResult(id_a, id_b, kind, ov.jaccard, ov.containment_a, ov.containment_b, passages, n_other)
