"""Per-document and per-pair stage functions shared by every engine.

An engine (local, Spark, the index) only decides *where* these run; what they compute is defined once here:

* :func:`fingerprint` — one document's words, shingle set and winnowed passage fingerprints;
* :func:`compare_prints` — exact overlap and aligned passages of two fingerprinted documents, and the
  verdict: ``near-duplicate`` (Jaccard ≥ threshold), ``reuse`` (at least ``min_words`` words in verbatim
  runs of aligned passages) or ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .align import Passage, align_words, to_passages
from .config import Config
from .fingerprints import boilerplate_mask, winnow
from .tokens import Tokens, ngram_hashes, tokenize
from .verify import overlap


@dataclass(frozen=True, slots=True)
class DocPrint:
    """Everything doublet keeps about one document between stages."""

    tokens: Tokens
    shingles: np.ndarray  # sorted unique word-shingle hashes (the document's shingle set)
    fp_hashes: np.ndarray  # winnowed fingerprint hashes
    fp_pos: np.ndarray  # their positions (index of the shingle's first word)

    def mask(self, boilerplate: np.ndarray, cfg: Config) -> np.ndarray:
        """Boolean mask of this document's words that belong to boilerplate (given sorted boilerplate hashes)."""
        if boilerplate.shape[0] == 0 or self.fp_hashes.shape[0] == 0:
            return np.zeros(len(self.tokens), dtype=bool)
        idx = np.searchsorted(boilerplate, self.fp_hashes)
        idx[idx == boilerplate.shape[0]] = 0
        hit = boilerplate[idx] == self.fp_hashes
        return boilerplate_mask(len(self.tokens), self.fp_pos[hit], cfg.shingle_size, cfg.window)


def fingerprint(text: str, cfg: Config) -> DocPrint:
    """Tokenize, shingle and winnow one document."""
    tokens = tokenize(text)
    shingles = ngram_hashes(tokens.hashes, cfg.shingle_size)
    if len(tokens) >= cfg.shingle_size:
        pos = winnow(shingles, cfg.window)
        fp_hashes = shingles[pos]
    else:
        pos = np.empty(0, dtype=np.int64)
        fp_hashes = np.empty(0, dtype=np.uint64)
    return DocPrint(tokens=tokens, shingles=np.unique(shingles), fp_hashes=fp_hashes, fp_pos=pos)


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

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "kind": self.kind,
            "jaccard": round(self.jaccard, 4),
            "containment_a": round(self.containment_a, 4),
            "containment_b": round(self.containment_b, 4),
            "passages": [p.to_dict() for p in self.passages],
        }


def compare_prints(id_a: str, id_b: str, text_a: str, text_b: str, pa: DocPrint, pb: DocPrint,
                   mask_a: np.ndarray, mask_b: np.ndarray, cfg: Config) -> PairResult:
    """Exact overlap, aligned passages and verdict for one pair."""
    ov = overlap(pa.shingles, pb.shingles)
    spans = align_words(pa.tokens.hashes, pb.tokens.hashes, mask_a, mask_b, seed_size=cfg.seed_size,
                        max_gap=cfg.max_gap, min_passage_words=cfg.min_passage_words,
                        min_identity=cfg.min_identity)
    passages = tuple(to_passages(spans, pa.tokens, pb.tokens, text_a, text_b, cfg.seed_size))
    if ov.jaccard >= cfg.threshold:
        kind: str | None = "near-duplicate"
    elif sum(w.matched for w in spans) >= cfg.min_words:
        kind = "reuse"
    else:
        kind = None
    return PairResult(id_a, id_b, kind, ov.jaccard, ov.containment_a, ov.containment_b, passages)
