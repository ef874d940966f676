"""The local engine: one machine, every core, corpora larger than memory.

Stages (timed separately in the summary):

1. **fingerprint** — :func:`doublet.analysis.fingerprint_batch` per batch of documents in ``cfg.workers``
   processes, which read each batch's texts back from a :class:`~doublet.spill.TextStore` (written by the
   main process as it reads the input) and return fingerprint rows already grouped into hash partitions, which
   the main process appends to spill files. The main process keeps only ids and LSH band keys in memory.
2. **lsh** — buckets of band keys (:func:`doublet.candidates.lsh_pairs`).
3. **candidates** — in the workers, one fingerprint partition at a time: postings, document frequencies and
   boilerplate (:func:`doublet.candidates.postings`); pair occurrences (with the fingerprint's position in
   each document) are spilled by pair key and judged one pair partition at a time
   (:func:`doublet.candidates.supported_pairs`). A worker holds one partition, not the corpus.
4. **verify+align** — :func:`doublet.analysis.compare_prepared` on every candidate pair, in ``cfg.workers``
   processes that read texts back from the store, in a breadth-first order of the candidate graph
   (:func:`doublet.cluster.visit_order`) so that a worker's cache of prepared documents serves most pairs;
   results are spilled and written sorted by (a, b).
5. **cluster** — connected components of the reported pairs, and of the near-duplicate pairs alone.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

import numpy as np

from .. import __version__
from ..analysis import Prepared, compare_prepared, fingerprint_batch, prepare
from ..attribution import pair_credit, summed_credits
from ..candidates import (FINGERPRINT_ROW, OCCURRENCE, common, group_records, grouped_occurrences, lone_rows,
                          lsh_pairs, pack_shape, pending_df, postings, settle, settled_histogram, split_keys,
                          supported_pairs, unpack_shape)
from ..cluster import COPY_SHARE, cluster_index, components, copy_clusters, id_order, visit_order
from ..config import Config
from ..fingerprints import HashSet
from ..minhash import band_keys
from ..progress import NullProgress, Progress
from ..result import Result
from ..spill import GroupedSpill, TextReader, TextStore, WorkDir, read_group, read_texts
from ..template import (DF_BUCKETS, OUTLIER_MIN_DF, POS_BUCKETS, Rules, SiteNumbers, Templates, add_counts,
                        own_text_span, site_of, typical_df, user_hashes)
from ..template import blocks as template_blocks
from ..template import summary as template_summary

_BATCH = 512  # documents per fingerprint job
_PAIRS_PER_JOB = 2_000  # candidate pairs per verification job
_VIEW_BYTES = 16_384  # rough size of one cached document view


# ------------------------------------------------------------------------------------------ workers

def _fingerprint_job(args: tuple[str, int, np.ndarray, int, int, Config]) -> tuple[np.ndarray, ...]:
    """Fingerprint one batch, read from the text store (``path``, byte ``start``, ``sizes``; documents ``base``
    on); return what the main process keeps (band keys, not signatures) and the fingerprint rows as
    :data:`FINGERPRINT_ROW` records grouped into ``2**bits`` spill partitions, ready to append."""
    path, start, sizes, base, bits, cfg = args
    texts = read_texts(path, start, sizes)
    bp = fingerprint_batch(texts, cfg)
    bands, rows = cfg.lsh_params()
    chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    docs = np.repeat(np.arange(base, base + len(texts), dtype=np.uint32), bp.fp_counts)
    rec, bounds = group_records(bp.fp_hashes, docs, pack_shape(bp.fp_pos, bp.fp_shape), bits, FINGERPRINT_ROW)
    return bp.n_words, chars, bp.has_sig, band_keys(bp.sigs, bands, rows), rec, bounds


_Verified = tuple[list[str], np.ndarray, np.ndarray, int, int, int]


class _Verifier:
    """Per-process state of the verification stage: texts, boilerplate and a cache of document views."""

    def __init__(self, reader: TextReader, boilerplate: np.ndarray, cfg: Config, cache_size: int):
        self.reader, self.boilerplate, self.cfg, self.cache_size = reader, HashSet(boilerplate), cfg, cache_size
        self.views: OrderedDict[int, Prepared] = OrderedDict()
        self.prepared = 0  # documents prepared (cache misses), for the summary

    def doc(self, k: int) -> Prepared:
        got = self.views.get(k)
        if got is None:
            got = self.views[k] = prepare(self.reader.get(k), self.cfg, self.boilerplate)
            self.prepared += 1
            if len(self.views) > self.cache_size:
                self.views.popitem(last=False)
        else:
            self.views.move_to_end(k)
        return got

    def job(self, pairs: tuple[np.ndarray, np.ndarray, list[str], list[str]]) -> _Verified:
        """Compare pairs (i, j) with ids (a, b), a < b; return JSON lines and, per reported pair, (i, j,
        near-duplicate?, characters credited to i, to j) and (share credited to i, to j) for source attribution
        (:func:`doublet.attribution.pair_credit` of the pair as written), the number of pairs compared, of
        documents prepared for them, and of pairs not reported because their passages were one formula with
        other figures (template matches)."""
        ii, jj, ida, idb = pairs
        before = self.prepared
        lines: list[str] = []
        kept: list[tuple[int, int, int, int, int]] = []
        shares: list[tuple[float, float]] = []
        matches = 0
        for i, j, a, b in zip(ii.tolist(), jj.tolist(), ida, idb):
            r = compare_prepared(a, b, self.doc(i), self.doc(j), self.cfg)
            matches += r.kind is None and r.other_facts > 0
            if r.kind is not None:
                d = r.to_dict()
                lines.append(json.dumps(d, ensure_ascii=False))
                ca, cb, _, _ = pair_credit(r)
                kept.append((i, j, r.kind == "near-duplicate", ca, cb))
                shares.append((d["containment_b"], d["containment_a"]))  # the rounded values, as written
        return (lines, np.array(kept, dtype=np.int64).reshape(-1, 5), np.array(shares, dtype=np.float64).reshape(-1, 2),
                len(ida), self.prepared - before, matches)


_VERIFIER: tuple[Any, _Verifier] | None = None


def _verify_job(args: tuple[tuple, tuple[np.ndarray, np.ndarray, list[str], list[str]]]) -> _Verified:
    """Verify one chunk of pairs. ``setup`` = (text reader, boilerplate file, cfg, cache size); a worker builds
    its verifier on the first job of a run (the boilerplate hashes are read from the run's folder)."""
    global _VERIFIER
    setup, pairs = args
    key = (setup[0].path, setup[1])
    if _VERIFIER is None or _VERIFIER[0] != key:
        reader, boiler_path, cfg, cache_size = setup
        _VERIFIER = (key, _Verifier(reader, np.load(boiler_path), cfg, cache_size))
    return _VERIFIER[1].job(pairs)


_OCCURRENCE_BITS = 6  # pair partitions (~2M occurrences each at 1M documents)


def _postings_job(args: tuple[Any, int, int, Any, Config, Any, Any, int, Any, int | None]
                  ) -> tuple[Templates, Counter, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Postings of one fingerprint partition ``p``; its pair occurrences go to one file ``occ_root/<p>``,
    grouped into ``2**_OCCURRENCE_BITS`` partitions by pair key. Returns the partition's templates, df histogram
    and the file's group offsets. ``sites_path``/``user_path``: the documents' site numbers and the user's
    template hashes (.npy files), or None. With the frequency rule on, the rows it needs to settle go to
    ``occ_root/pending-<p>`` and it also returns the cells it adds to the documents' df and own-text histograms
    (``n`` documents; keys ``doc * DF_BUCKETS + bucket``, then ``n * DF_BUCKETS + doc * POS_BUCKETS + bucket``,
    and counts). ``split``: only pairs across it (``--against``, :mod:`doublet.candidates`)."""
    fp_folder, fp_bits, p, occ_root, cfg, sites_path, user_path, n, words_path, split = args
    rows = GroupedSpill(fp_folder, FINGERPRINT_ROW, bits=fp_bits).read(p, drop=True)  # read once: free the disk
    pos, shape = unpack_shape(rows["pos"])
    rules = Rules.of(cfg)
    post = postings(rows["hash"], rows["doc"], pos, shape, cfg.max_df, rules=rules,
                    site_of_doc=None if sites_path is None else np.load(sites_path, mmap_mode="r"),
                    user=None if user_path is None else np.load(user_path),
                    defer_min_df=OUTLIER_MIN_DF if rules.frequency else None,
                    n_words=None if words_path is None else np.load(words_path, mmap_mode="r"), split=split)
    rec, bounds = grouped_occurrences(post, _OCCURRENCE_BITS)
    rec.tofile(str(occ_root / f"{p:03d}"))
    if post.pending is not None and post.doc_buckets is not None and post.doc_own is not None:
        h, d, q = post.pending
        pend = np.empty(h.shape[0], FINGERPRINT_ROW)
        pend["hash"], pend["doc"], pend["pos"] = h, d, q
        pend.tofile(str(occ_root / f"pending-{p:03d}"))
        # the documents' df and own-text position histogram cells this partition adds to (keys distinct), for
        # the parent to sum: a few bytes per row here, where adding into an n-document file per partition
        # wrote n x 44 cells each time (11 GB at 1M documents)
        keys = np.concatenate([post.doc_buckets[0], n * DF_BUCKETS + post.doc_own[0]])
        if n * (DF_BUCKETS + POS_BUCKETS) < 1 << 32:  # half the bytes through the pipe
            keys = keys.astype(np.uint32)
        c = common(pending_df(h), cfg.max_df, cfg.common_df)  # the common rows, in the file's order, for lone_rows
        return post.templates, post.df_histogram, bounds, (keys, d[c].astype(np.uint32), q[c])
    return post.templates, post.df_histogram, bounds, None


def _settle_job(args: tuple[Any, int, Any, Config, int | None]) -> tuple[Templates, np.ndarray]:
    """The frequency rule on partition ``p``'s pending rows (:func:`doublet.candidates.settle`), given the
    documents' typical df and where their own text lies (a .npy file of 3 rows); the pair occurrences of the rest
    go to ``occ_root/s<p>``. Returns the partition's frequency templates and the file's group offsets."""
    occ_root, p, docs_path, cfg, split = args
    path = occ_root / f"pending-{p:03d}"
    rows = np.fromfile(str(path), FINGERPRINT_ROW)
    path.unlink()
    lone_path = occ_root / f"lone-{p:03d}.npy"
    lone = np.zeros(rows.shape[0], bool)
    lone[common(pending_df(rows["hash"]), cfg.max_df, cfg.common_df)] = np.load(lone_path)
    lone_path.unlink()
    typical, own_lo, own_hi, n_words = np.load(docs_path, mmap_mode="r")
    keys, pos_a, pos_b, found = settle(rows["hash"], rows["doc"], rows["pos"], typical, own_lo, own_hi, n_words,
                                       cfg.max_df, lone=lone, split=split)
    rec, bounds = group_records(keys, pos_a, pos_b, _OCCURRENCE_BITS)
    rec.tofile(str(occ_root / f"s{p:03d}"))
    return found, bounds


def _blocks_job(args: tuple[Templates, dict[int, str], TextReader, int, int]) -> list[dict]:
    """``boilerplate.jsonl`` lines of some example documents (:func:`doublet.template.blocks`)."""
    found, names, reader, shingle_size, window = args
    return template_blocks(found, names, reader.get, shingle_size, window)


def _listed_templates(pool: Executor, templates: Templates, ids: list[str], reader: TextReader,
                      cfg: Config) -> list[dict]:
    """The recurring blocks taken as template, their example documents read and tokenized in the workers."""
    if not len(templates):
        return []
    docs = np.unique(templates.doc)
    chunks = np.array_split(docs, max(1, min(docs.shape[0] // 256, 64 * cfg.workers)))
    jobs = []
    for chunk in chunks:
        take = np.isin(templates.doc, chunk)
        part = Templates(*(getattr(templates, f)[take] for f in Templates.__slots__))
        jobs.append((part, {int(k): ids[k] for k in chunk.tolist()}, reader, cfg.shingle_size, cfg.rule.window))
    listed = [b for part in _ordered_map(pool, _blocks_job, jobs, 2 * cfg.workers) for b in part]
    listed.sort(key=lambda r: (-r["documents"], r["example"], r["start"]))
    return listed


def _judge_job(args: tuple[list[tuple[Any, np.ndarray]], int, Config]) -> np.ndarray:
    """Candidate pair keys of pair partition ``q``, from the occurrences of every fingerprint partition."""
    files, q, cfg = args
    rec = np.concatenate([read_group(path, OCCURRENCE, bounds, q) for path, bounds in files] or
                         [np.empty(0, OCCURRENCE)])
    return supported_pairs(rec["pair"], rec["pos_a"], rec["pos_b"],
                           cfg.rule.min_shared, cfg.rule.min_span, cfg.shingle_size, cfg.max_gap)[0]


# ------------------------------------------------------------------------------------------ helpers

def _batches(docs: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for d in docs:
        batch.append(d)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Serial(Executor):
    """An executor that runs jobs in this process (``workers=1``), with the same interface as a pool."""

    def __init__(self, initializer: Any = None, initargs: tuple = ()):
        if initializer is not None:
            initializer(*initargs)

    def map(self, fn: Any, *iterables: Any, timeout: Any = None, chunksize: int = 1) -> Iterator[Any]:
        return map(fn, *iterables)


def _die_with_parent(initializer: Any, initargs: tuple) -> None:
    """Worker start-up: end this worker if the main process dies (even by SIGKILL), then run ``initializer``."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if initializer is not None:
        initializer(*initargs)


def _pool(workers: int, initializer: Any = None, initargs: tuple = ()) -> Executor:
    if workers <= 1:
        return _Serial(initializer, initargs)
    return ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent, initargs=(initializer, initargs))


def _ordered_map(pool: Executor, fn: Any, jobs: Iterable[Any], ahead: int) -> Iterator[Any]:
    """Like ``pool.map`` but with at most ``ahead`` jobs in flight (bounded memory for streaming input)."""
    if isinstance(pool, _Serial):
        yield from map(fn, jobs)
        return
    pending: list[Any] = []
    for job in jobs:
        pending.append(pool.submit(fn, job))
        if len(pending) >= ahead:
            yield pending.pop(0).result()
    for fut in pending:
        yield fut.result()


def _write_sorted(src: Any, dst: Any, spans: np.ndarray, order: np.ndarray) -> None:
    """Copy the lines of ``src`` (byte spans ``spans[k] = (offset, size)``) to ``dst`` in ``order``."""
    fd = os.open(src, os.O_RDONLY)
    try:
        with open(dst, "wb") as out:
            buf: list[bytes] = []
            for off, size in spans[order].tolist():
                buf.append(os.pread(fd, size, off))
                if len(buf) >= 4096:
                    out.write(b"".join(buf))
                    buf.clear()
            out.write(b"".join(buf))
    finally:
        os.close(fd)


def peak_rss_bytes() -> int:
    """Peak resident memory of this process plus the largest of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int((own + kids) * 1024)


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------------------------------ the run

def run(documents: Iterable[Any], cfg: Config, *, problems: list[Any] | None = None,
        progress: Progress | None = None, keep_corpus: bool = False, against: Iterable[Any] | None = None) -> Result:
    """Find near-duplicate and reusing pairs among ``documents`` (objects with ``id`` and ``text``).

    ``keep_corpus`` keeps the texts readable through :meth:`Result.text` (for dedup and reports) until the
    result is closed. ``against`` (REFERENCE documents, read after ``documents``, the NEW ones): only the pairs
    with one document of each, and :attr:`Result.n_new` set (see :mod:`doublet.against`).
    """
    progress = progress or NullProgress()
    problems = problems if problems is not None else []
    work = WorkDir(cfg.tmp_dir)
    pool = _pool(cfg.workers)  # started now, while this process is small; serves stages 1 and 4
    try:
        groups = _Groups(documents, against)
        result = _run(groups, cfg, problems, progress, keep_corpus, work, pool, groups.split)
        result.n_new = groups.split()
        return result
    except BaseException:
        work.close()
        raise
    finally:
        pool.shutdown()


class _Groups:
    """The documents of a run, NEW then REFERENCE (``against``), counting the NEW ones as they go by."""

    def __init__(self, new: Iterable[Any], reference: Iterable[Any] | None):
        self.new, self.reference, self.n_new = new, reference, 0

    def __iter__(self) -> Iterator[Any]:
        for doc in self.new:
            self.n_new += 1
            yield doc
        if self.reference is not None:
            yield from self.reference

    def split(self) -> int | None:
        """The number of NEW documents (documents ``0..split-1``), or None for a plain run."""
        return None if self.reference is None else self.n_new


def _run(documents: Iterable[Any], cfg: Config, problems: list[Any], progress: Progress, keep_corpus: bool,
         work: WorkDir, pool: Executor, split_of: Any = lambda: None) -> Result:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    bands, rows = cfg.lsh_params()
    # spill layout: enough fingerprint partitions that one fits a quarter of the memory budget
    fp_bits = 6 if cfg.memory_limit is None or cfg.memory_limit >= 1 << 30 else 8
    store = TextStore(work.path / "texts.bin")
    fps = GroupedSpill(work.path / "fp", FINGERPRINT_ROW, bits=fp_bits)

    # --- 1. fingerprint
    ids: list[str] = []
    dates: list[str | None] = []  # from document metadata (web pages), for source attribution
    site_numbers = SiteNumbers()
    sites: list[int] = []  # each document's site number (0: none), for the site rule
    words: list[np.ndarray] = []
    chars: list[np.ndarray] = []
    has: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    progress.start("fingerprint", None)

    def jobs() -> Iterator[tuple[str, int, np.ndarray, int, int, Config]]:
        # the workers read each batch back from the text store (page cache): no texts pickled through pipes
        for batch in _batches(documents, _BATCH):
            base = len(ids)
            ids.extend(d.id for d in batch)
            dates.extend(getattr(d, "meta", {}).get("date") for d in batch)
            sites.extend(site_numbers.number(site_of(d)) for d in batch)
            start, sizes = store.append([d.text for d in batch])
            yield str(store.path), start, sizes, base, fp_bits, cfg

    for n_words, n_chars, has_sig, bkeys, rec, bounds in _ordered_map(pool, _fingerprint_job, jobs(),
                                                                      2 * cfg.workers + 2):
        fps.append(rec, bounds)
        words.append(n_words)
        chars.append(n_chars)
        has.append(has_sig)
        keys.append(bkeys)
        progress.advance(n_words.shape[0])
    progress.done()
    n = len(ids)
    split = split_of()  # with --against: documents below it are NEW, the others REFERENCE
    n_words_all = np.concatenate(words) if words else np.empty(0, np.uint32)
    n_chars_all = np.concatenate(chars) if chars else np.empty(0, np.int64)
    has_all = np.concatenate(has) if has else np.empty(0, bool)
    keys_all = np.concatenate(keys) if keys else np.empty((0, bands), np.uint64)
    del words, chars, has, keys
    timings["read+fingerprint"] = time.perf_counter() - t0

    # --- 2. LSH
    t = time.perf_counter()
    progress.start("lsh", None)
    with_sig = np.flatnonzero(has_all)
    # one band at a time: memory for one column of keys, not all of them
    lsh = np.unique(np.concatenate([lsh_pairs(keys_all[with_sig, b], with_sig, cfg.max_bucket, split=split)
                                    for b in range(bands)]
                                   or [np.empty(0, np.uint64)]))
    del keys_all
    progress.done()
    timings["lsh"] = time.perf_counter() - t

    # --- 3. fingerprint postings, partition by partition, in the workers: each fingerprint partition's pair
    # occurrences go to its own pair-partitioned folder; then each pair partition is judged from all of them.
    t = time.perf_counter()
    progress.start("candidates", len(fps) + (1 << _OCCURRENCE_BITS))
    fps.flush()
    occ_root = work.path / "pairs"
    occ_root.mkdir()
    sites_path = user_path = None
    if len(site_numbers) and "site" in cfg.template_rules:
        sites_path = work.path / "sites.npy"
        np.save(sites_path, np.asarray(sites, np.uint32))
    if cfg.template_texts:
        user_path = work.path / "user_templates.npy"
        np.save(user_path, user_hashes(cfg.template_texts, cfg.shingle_size))
    del sites
    words_path = None
    if Rules.of(cfg).frequency:
        words_path = work.path / "n_words.npy"
        np.save(words_path, n_words_all)
    post_jobs = [(fps.folder, fp_bits, p, occ_root, cfg, sites_path, user_path, n, words_path, split)
                 for p in range(len(fps))]
    boiler: list[Templates] = []
    hist: Counter = Counter()
    files: list[tuple[Any, np.ndarray]] = []
    counts = np.zeros(n * (DF_BUCKETS + POS_BUCKETS) if Rules.of(cfg).frequency else 0, np.int64)
    common_docs: list[np.ndarray] = []
    common_pos: list[np.ndarray] = []
    for p, (b_p, h_p, bounds_p, cells) in enumerate(_ordered_map(pool, _postings_job, post_jobs, 2 * cfg.workers)):
        boiler.append(b_p)
        hist.update(h_p)
        files.append((occ_root / f"{p:03d}", bounds_p))
        if cells is not None:
            add_counts(counts, cells[0])
            common_docs.append(cells[1])
            common_pos.append(cells[2])
        progress.advance()
    if Rules.of(cfg).frequency:  # every document's typical df, which common rows are alone in their document,
        # then the fingerprints left pending
        lone = lone_rows(np.concatenate(common_docs or [np.empty(0, np.uint32)]),
                         np.concatenate(common_pos or [np.empty(0, np.uint32)]), cfg.rule.passage_words)
        at = np.cumsum([0] + [c.shape[0] for c in common_docs])
        for p in range(len(common_docs)):
            np.save(occ_root / f"lone-{p:03d}.npy", lone[at[p]:at[p + 1]])
        del lone, common_docs, common_pos
        own_lo, own_hi = own_text_span(counts[n * DF_BUCKETS:].reshape(n, POS_BUCKETS))
        docs_path = work.path / "doc_text.npy"
        np.save(docs_path, np.stack([typical_df(counts[:n * DF_BUCKETS].reshape(n, DF_BUCKETS)), own_lo, own_hi,
                                     n_words_all]).astype(np.float64))
        del counts, own_lo, own_hi
        settle_jobs = [(occ_root, p, docs_path, cfg, split) for p in range(len(fps))]
        for p, (b_p, bounds_p) in enumerate(_ordered_map(pool, _settle_job, settle_jobs, 2 * cfg.workers)):
            boiler.append(b_p)
            settled_histogram(hist, b_p, cfg.max_df)
            files.append((occ_root / f"s{p:03d}", bounds_p))
    n_occurrences = int(sum(int(b[-1]) for _, b in files))
    timings["candidates:postings"] = time.perf_counter() - t
    judge_jobs = [(files, q, cfg) for q in range(1 << _OCCURRENCE_BITS)]
    fp_pairs = []
    for keys_q in _ordered_map(pool, _judge_job, judge_jobs, 2 * cfg.workers):
        fp_pairs.append(keys_q)
        progress.advance()
    fp_cand = np.concatenate(fp_pairs) if fp_pairs else np.empty(0, np.uint64)
    templates = Templates.concat(boiler)
    boilerplate = templates.hashes
    listed = _listed_templates(pool, templates, ids, store.reader(), cfg)
    cand = np.union1d(lsh, fp_cand)
    n_lsh, n_fp = int(lsh.shape[0]), int(fp_cand.shape[0])
    progress.done()
    timings["candidates"] = time.perf_counter() - t

    # --- 4. verify and align. Pairs are processed in a breadth-first order of the candidate graph (by the later
    # of their two documents' positions), so that the documents of nearby pairs are the ones a worker has
    # cached; results are spilled with their (a, b) rank and written out sorted at the end.
    t = time.perf_counter()
    order = id_order(ids)  # also names the clusters (stage 5)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    ci, cj = split_keys(cand)
    swap = rank[ci] > rank[cj]
    ci, cj = np.where(swap, cj, ci), np.where(swap, ci, cj)
    comp = components(n, ci, cj)
    pos = visit_order(n, ci, cj, comp)
    seq = np.lexsort((np.minimum(pos[ci], pos[cj]), np.maximum(pos[ci], pos[cj])))
    ci, cj = ci[seq], cj[seq]
    n_compared = int(ci.shape[0])
    progress.start("verify+align", n_compared)
    budget = (cfg.memory_limit or 8 << 30) // (4 * max(1, cfg.workers))
    cache_size = int(max(256, min(8192, budget // _VIEW_BYTES)))

    boiler_path = work.path / "boilerplate.npy"
    np.save(boiler_path, boilerplate)
    setup = (store.reader(), str(boiler_path), cfg, cache_size)

    def verify_jobs() -> Iterator[tuple[tuple, tuple[np.ndarray, np.ndarray, list[str], list[str]]]]:
        for lo in range(0, n_compared, _PAIRS_PER_JOB):
            a, b = ci[lo:lo + _PAIRS_PER_JOB], cj[lo:lo + _PAIRS_PER_JOB]
            yield setup, (a, b, [ids[k] for k in a.tolist()], [ids[k] for k in b.tolist()])

    unsorted_path = work.path / "pairs.unsorted"
    reported: list[np.ndarray] = []
    credited: list[np.ndarray] = []

    spans: list[np.ndarray] = []
    n_passages = 0
    n_prepared = 0
    n_matches = 0
    pos = 0
    with open(unsorted_path, "wb") as out:
        for lines, kept, shares, done, prepared, matches in _ordered_map(pool, _verify_job, verify_jobs(),
                                                                        2 * cfg.workers + 2):
            n_prepared += prepared
            n_matches += matches
            data = [(line + "\n").encode("utf-8") for line in lines]
            sizes = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
            spans.append(np.stack([pos + np.cumsum(sizes) - sizes, sizes], axis=1))
            pos += int(sizes.sum())
            out.write(b"".join(data))
            n_passages += sum(line.count('"a_start"') for line in lines)
            reported.append(kept)
            credited.append(shares)

            progress.advance(done)
    progress.done()
    del cand, lsh, fp_cand, comp, pos, seq
    kept_all = np.concatenate(reported) if reported else np.empty((0, 5), np.int64)
    shares_all = np.concatenate(credited) if credited else np.empty((0, 2), np.float64)
    spans_all = np.concatenate(spans) if spans else np.empty((0, 2), np.int64)
    pairs_path = work.path / "pairs.jsonl"
    written = np.lexsort((rank[kept_all[:, 1]], rank[kept_all[:, 0]]))
    _write_sorted(unsorted_path, pairs_path, spans_all, written)
    unsorted_path.unlink()
    # source attribution scores, summed in the written pairs' order (as attribution over pairs.jsonl would)
    kept_all, shares_all = kept_all[written], shares_all[written]

    scored = summed_credits(n, kept_all[:, :2], kept_all[:, 3:5], shares_all)
    timings["verify+align"] = time.perf_counter() - t

    # --- 5. clusters
    t = time.perf_counter()
    pi, pj, dup = kept_all[:, 0], kept_all[:, 1], kept_all[:, 2].astype(bool)
    strength = shares_all.max(axis=1) if shares_all.shape[0] else np.empty(0)
    index = copy_clusters(ids, pi, pj, dup | (strength >= COPY_SHARE), strength, order)
    dup_index = cluster_index(ids, pi[dup], pj[dup], order)
    clusters, dup_clusters = [ids[k] for k in index.tolist()], [ids[k] for k in dup_index.tolist()]
    timings["cluster"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0

    # drop what is no longer needed (in the background: writing the results need not wait for gigabytes to be
    # freed); keep the texts only if asked
    fps.flush()
    store.close()
    work.remove_later(work.path / "fp", work.path / "pairs", *(() if keep_corpus else (work.path / "texts.bin",)))

    n_dup = int(dup.sum())
    sizes = np.bincount(index, minlength=1)
    sizes = sizes[sizes > 0]
    dup_sizes = np.bincount(dup_index, minlength=1)
    dup_sizes = dup_sizes[dup_sizes > 0]
    actions = Counter((p.action, p.scope) for p in problems)
    total_chars = int(n_chars_all.sum())
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
            "characters": total_chars,
            "words": int(n_words_all.sum()),
            "pairs": int(kept_all.shape[0]),
            "near_duplicate_pairs": n_dup,
            "reuse_pairs": int(kept_all.shape[0]) - n_dup,
            "passages": n_passages,
            "clusters": int(sizes.shape[0]),
            "clusters_with_reuse": int((sizes > 1).sum()),
            "largest_cluster": int(sizes.max(initial=0)),
            "near_duplicate_clusters_with_copies": int((dup_sizes > 1).sum()),
            "documents_removable_as_near_duplicates": int((dup_sizes - 1).sum()),
        },
        "candidates": {
            "lsh": n_lsh,
            "fingerprint": n_fp,
            "pair_occurrences": n_occurrences,
            "compared": n_compared,
            "documents_prepared": n_prepared,
            "fingerprints": dict(hist),
            "boilerplate_fingerprints": int(boilerplate.shape[0]),
        },
        "templates": {**template_summary(templates, len(listed)), "template_matches": n_matches},
        "parameters": cfg.to_dict(),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "throughput": {
            "docs_per_s": round(n / timings["total"], 1) if timings["total"] else None,
            "mb_per_s": round(total_chars / 1e6 / timings["total"], 2) if timings["total"] else None,
        },
        "peak_rss_mb": round(peak_rss_bytes() / 1e6, 1),
        "problems": [p.to_dict() for p in problems],
    }
    if split is not None:
        summary["against"] = {"new": split, "reference": n - split}
    return Result(ids=ids, clusters=clusters, near_duplicate_clusters=dup_clusters, problems=list(problems),
                  summary=summary, pairs_path=pairs_path, work=work,
                  store=store.reader() if keep_corpus else None,
                  char_lengths=n_chars_all, dates=dates if any(dates) else None, scores=scored,
                  cluster_index=(index, dup_index), template_blocks=listed, templates=templates)


def fingerprint_texts(texts: list[str], cfg: Config) -> int:
    """The fingerprint stage alone, in this process: normalize, tokenize, shingle, MinHash and winnow.

    For benchmarks (MB/s per core); returns the number of fingerprints made.
    """
    made = 0
    for lo in range(0, len(texts), _BATCH):
        made += int(fingerprint_batch(texts[lo:lo + _BATCH], cfg).fp_hashes.shape[0])
    return made


__all__ = ["run", "fingerprint_texts", "default_workers", "peak_rss_bytes"]
