"""The local engine: every stage in this process, the fingerprint stage spread over worker processes.

Stages (timed separately in the summary):

1. **fingerprint** — :func:`doublet.analysis.fingerprint_batch` per batch of documents (``cfg.workers``
   processes): MinHash signatures and winnowed fingerprints;
2. **lsh** — band keys of all signatures, then buckets;
3. **candidates** — LSH buckets (near-duplicates) and fingerprint postings with the document-frequency cap
   (partial reuse; fingerprints above the cap are boilerplate);
4. **verify+align** — :func:`doublet.analysis.compare_views` on every candidate pair (documents'
   words and shingle sets are recomputed from the text, by the same kernel, and cached);
5. **cluster** — connected components of the reported pairs, and of the near-duplicate pairs alone.
"""

from __future__ import annotations

import os
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from .. import __version__
from ..analysis import BatchPrints, DocView, PairResult, compare_views, fingerprint_batch, view
from ..candidates import fingerprint_pairs, lsh_pairs, split_keys
from ..cluster import cluster_ids
from ..config import Config
from ..minhash import band_keys
from ..progress import NullProgress, Progress
from ..result import Result

_BATCH = 512
_VIEW_CACHE = 20_000


def _fingerprint_batch(args: tuple[list[str], Config]) -> BatchPrints:
    texts, cfg = args
    return fingerprint_batch(texts, cfg)


def _batches(docs: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for d in docs:
        batch.append(d)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def fingerprint_all(documents: Iterable[Any], cfg: Config, progress: Progress) -> tuple[list[str], list[str], BatchPrints]:
    """Read and fingerprint every document; returns ids, texts and prints in input order."""
    ids: list[str] = []
    texts: list[str] = []
    parts: list[BatchPrints] = []
    progress.start("fingerprint", None)

    def collect(batch: list[Any], result: BatchPrints) -> None:
        ids.extend(d.id for d in batch)
        texts.extend(d.text for d in batch)
        parts.append(result)
        progress.advance(len(batch))

    if cfg.workers <= 1:
        for batch in _batches(documents, _BATCH):
            collect(batch, fingerprint_batch([d.text for d in batch], cfg))
    else:
        with ProcessPoolExecutor(max_workers=cfg.workers) as pool:
            pending: list[tuple[list[Any], Any]] = []
            for batch in _batches(documents, _BATCH):
                pending.append((batch, pool.submit(_fingerprint_batch, ([d.text for d in batch], cfg))))
                if len(pending) >= 4 * cfg.workers:
                    b, fut = pending.pop(0)
                    collect(b, fut.result())
            for b, fut in pending:
                collect(b, fut.result())
    progress.done()
    return ids, texts, BatchPrints.concat(parts, cfg.num_perm)


def run(documents: Iterable[Any], cfg: Config, *, problems: list[Any] | None = None,
        progress: Progress | None = None, keep_corpus: bool = False) -> Result:
    """Find near-duplicate and reusing pairs among ``documents`` (objects with ``id`` and ``text``).

    ``keep_corpus`` keeps the texts in the result (for dedup and reports).
    """
    progress = progress or NullProgress()
    problems = problems if problems is not None else []
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    ids, texts, prints = fingerprint_all(documents, cfg, progress)
    n = len(ids)
    timings["read+fingerprint"] = time.perf_counter() - t0

    # --- LSH (near-duplicates)
    t = time.perf_counter()
    progress.start("lsh", None)
    bands, rows = cfg.lsh_params()
    has = np.flatnonzero(prints.has_sig)
    keys = band_keys(prints.sigs[has], bands, rows)
    lsh = lsh_pairs(keys.ravel(), np.repeat(has, bands), cfg.max_bucket)
    progress.done()
    timings["lsh"] = time.perf_counter() - t

    # --- fingerprint postings (partial reuse, boilerplate)
    t = time.perf_counter()
    progress.start("candidates", None)
    fp_d = np.repeat(np.arange(n, dtype=np.int64), prints.fp_counts)
    fpc = fingerprint_pairs(prints.fp_hashes, fp_d, cfg.max_df, cfg.min_shared)
    del fp_d
    cand = np.union1d(lsh, fpc.pairs)
    progress.done()
    timings["candidates"] = time.perf_counter() - t

    # --- verify and align
    t = time.perf_counter()
    views: OrderedDict[int, tuple[DocView, np.ndarray]] = OrderedDict()

    def doc(k: int) -> tuple[DocView, np.ndarray]:
        """View and boilerplate mask of document k (least recently used ones are recomputed)."""
        got = views.get(k)
        if got is None:
            v = view(texts[k], cfg)
            got = views[k] = (v, v.mask(texts[k], fpc.boilerplate, cfg))
            if len(views) > _VIEW_CACHE:
                views.popitem(last=False)
        else:
            views.move_to_end(k)
        return got

    ci, cj = split_keys(cand)
    progress.start("verify+align", int(cand.shape[0]))
    pairs: list[PairResult] = []
    for i, j in zip(ci.tolist(), cj.tolist()):
        if ids[i] > ids[j]:
            i, j = j, i
        (va, ma), (vb, mb) = doc(i), doc(j)
        r = compare_views(ids[i], ids[j], texts[i], texts[j], va, vb, ma, mb, cfg)
        if r.kind is not None:
            pairs.append(r)
        progress.advance()
    progress.done()
    pairs.sort(key=lambda p: (p.a, p.b))
    timings["verify+align"] = time.perf_counter() - t

    # --- clusters
    t = time.perf_counter()
    index = {d: k for k, d in enumerate(ids)}
    pi = np.array([index[p.a] for p in pairs], dtype=np.int64)
    pj = np.array([index[p.b] for p in pairs], dtype=np.int64)
    dup = np.array([p.kind == "near-duplicate" for p in pairs], dtype=bool)
    clusters = cluster_ids(ids, pi, pj)
    dup_clusters = cluster_ids(ids, pi[dup], pj[dup])
    timings["cluster"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0

    kinds = Counter(p.kind for p in pairs)
    sizes = Counter(clusters)
    dup_sizes = Counter(dup_clusters)
    actions = Counter((p.action, p.scope) for p in problems)
    chars = sum(len(x) for x in texts)
    summary: dict[str, Any] = {
        "doublet_version": __version__,
        "engine": "local",
        "workers": cfg.workers,
        "counts": {
            "input_records": n + actions[("rejected", "record")],
            "documents": n,
            "rejected": actions[("rejected", "record")],
            "repaired": actions[("repaired", "record")],
            "unreadable_inputs": actions[("rejected", "file")],
            "characters": chars,
            "words": int(prints.n_words.sum()),
            "pairs": len(pairs),
            "near_duplicate_pairs": kinds.get("near-duplicate", 0),
            "reuse_pairs": kinds.get("reuse", 0),
            "passages": sum(len(p.passages) for p in pairs),
            "clusters": len(sizes),
            "clusters_with_reuse": sum(1 for s in sizes.values() if s > 1),
            "largest_cluster": max(sizes.values(), default=0),
            "near_duplicate_clusters_with_copies": sum(1 for s in dup_sizes.values() if s > 1),
            "documents_removable_as_near_duplicates": sum(s - 1 for s in dup_sizes.values()),
        },
        "candidates": {
            "lsh": int(lsh.shape[0]),
            "fingerprint": int(fpc.pairs.shape[0]),
            "compared": int(cand.shape[0]),
            "fingerprints": fpc.df_histogram,
        },
        "parameters": cfg.to_dict(),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "throughput": {
            "docs_per_s": round(n / timings["total"], 1) if timings["total"] else None,
            "mb_per_s": round(chars / 1e6 / timings["total"], 2) if timings["total"] else None,
        },
        "problems": [p.to_dict() for p in problems],
    }
    return Result(ids=ids, pairs=pairs, clusters=clusters, near_duplicate_clusters=dup_clusters,
                  problems=list(problems), summary=summary, texts=texts if keep_corpus else None)


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def fingerprint_texts(texts: list[str], cfg: Config) -> int:
    """The fingerprint stage alone, in this process: normalize, tokenize, shingle, MinHash and winnow.

    For benchmarks (MB/s per core); returns the number of fingerprints made.
    """
    made = 0
    for lo in range(0, len(texts), _BATCH):
        made += int(fingerprint_batch(texts[lo:lo + _BATCH], cfg).fp_hashes.shape[0])
    return made
