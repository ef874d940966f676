#!/usr/bin/env python3
"""Speed and scale of doublet on 10k / 100k / 1M-document corpora, beside datasketch and rensa.

    python bench/speed.py                                   # sizes 10000,100000,1000000, 3 runs, all cores
    python bench/speed.py --sizes 10000 --runs 1            # quick check

Corpora
-------
Built by bench/make_corpus.py from the real text in ../shared/data (Reuters-21578, 20 Newsgroups, BBC;
~25 % reprints with edits, site boilerplate; see its docstring) into bench/results/tmp/corpora/
``corpus-N.jsonl``, and reused while the stored key (hash of N, seed and generator version) and the file
size match. Never committed.

What is measured, per corpus size (medians of ``--runs`` runs unless said otherwise)
----------------------------------------------------------------------------------
1. **doublet end to end**: ``doublet find CORPUS -o OUT --quiet --workers W`` in a subprocess. Wall time
   (process start to exit), documents/s, MB/s of raw text (UTF-8 bytes of the texts as stored in the JSONL),
   peak RSS of the process tree (psutil, every 0.1 s, RSS summed over the process and all its children:
   an upper bound, pages shared by forked workers count once per process), and the stage timings and
   counts of OUT/summary.json. If ``doublet find`` has ``--memory-limit``, one more run at sizes
   >= 1,000,000 with ``--memory-limit 2GB`` (``--memory-limit-value``).
2. **doublet fingerprint stage alone, single core**: ``doublet.engines.local.fingerprint_texts(texts,
   doublet.Config())`` (normalize + tokenize + MinHash signatures + passage fingerprints) in a child
   process pinned to one CPU (sched_setaffinity; thread pools limited to 1 through the usual environment
   variables). Texts are read ``--chunk`` (10,000) at a time and only the calls are timed; one warm-up call
   on 200 texts first (JIT compilers, caches). Reported as MB/s per core.
3. **peers**, same documents and shingles (lowercased text, regex ``\\w+`` words, word 5-grams joined by
   one space, UTF-8 bytes; a document of under 5 words is one shingle), 128 permutations, seed 1, each in
   a child process pinned to one CPU, texts read in chunks as above:

   * datasketch: ``MinHash.bulk(shingle sets, num_perm=128, seed=1)`` per chunk (its fastest bulk API),
     then ``MinHashLSH(threshold=0.5, num_perm=128)`` (datasketch's own bands x rows), every document
     inserted (insertion session) and then queried;
   * rensa: ``RMinHash(128, seed=1).update(list of shingle strings)`` per document, then
     ``RMinHashLSH(threshold=0.5, num_perm=128, num_bands=B)`` with B the divisor of 128 closest to
     datasketch's false-positive + false-negative optimum for 0.5 (32 bands x 4 rows), every document
     inserted, then queried. Also timed, for information: rensa's bulk
     ``RMinHash.digest_matrix_from_token_sets`` signature path (``rensa_bulk_sig_s``).

   Signature stage = tokenization + MinHash (what a user of the library must write, same texts as 2.);
   pipeline = signature stage + LSH insert + query of every document. Reading JSON is timed separately
   (``read_s``) and not included. Peak RSS of the child. datasketch is skipped above
   ``--skip-peers-above`` documents (it makes ~1,700 signatures/s); rensa runs at every size unless its
   previous size extrapolates past ``--peer-timeout`` (900 s), which is also a hard limit per run.
4. **ratios**: peer signature-stage time / doublet fingerprint-stage time (same texts, both on one core),
   and peer pipeline time / doublet end-to-end wall time (doublet with W workers, as shipped; peers as
   their users run them, one process). And the 100k -> 1M scaling of doublet's wall time, next to the
   ratio of corpus bytes (the 1M corpus has proportionally more long generated texts than 100k).
5. **quality** (``--no-quality`` to skip): ``doublet find`` on ../shared/bench/dev-reuters/corpus.jsonl
   with W workers, scored by ../shared/bench/score.py: P, R, F1, passage F1, ARI, wall time.

Output: bench/results/speed.json (the machine: cores, usable cores, RAM, CPU model, load average before
and after, Python and package versions, git commit; every run of every measurement; targets and whether
they are met) and a Markdown table (stdout and bench/results/speed.md). Progress goes to stderr. No network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
RESULTS = HERE / "results"
TMP = RESULTS / "tmp"
CORPORA = TMP / "corpora"
GOLD = SHARED / "bench" / "dev-reuters"
SCORER = SHARED / "bench" / "score.py"

SINGLE_THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                       "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS", "RAYON_NUM_THREADS",
                                       "POLARS_MAX_THREADS", "VECLIB_MAXIMUM_THREADS")}
TARGETS = {"fingerprint_mb_s_per_core": 50.0, "fingerprint_vs_rensa_sig": 3.0, "fingerprint_vs_datasketch_sig": 10.0,
           "find_1m_wall_s": 600.0, "find_1m_peak_rss_gb": 4.0, "scale_100k_to_1m": 11.0}
README_QUALITY_FALLBACK = {"precision": 0.983, "recall": 0.993, "f1": 0.988, "passage_f1": 0.993, "ari": 0.983}


def readme_quality() -> dict[str, float]:
    """The row '| dev-reuters | doublet (defaults) | P | R | F1 | R<0.2 | bp FPs | passage F1 | ARI |' of
    docs/quality.md."""
    try:
        for line in (ROOT / "docs" / "quality.md").read_text(encoding="utf-8").splitlines():
            if line.startswith("| dev-reuters | doublet (defaults) |"):
                c = [x.strip() for x in line.strip().strip("|").split("|")][1:]
                return {"precision": float(c[1]), "recall": float(c[2]), "f1": float(c[3]),
                        "passage_f1": float(c[6]), "ari": float(c[7])}
    except (OSError, ValueError, IndexError):
        pass
    return README_QUALITY_FALLBACK


def log(msg: str) -> None:
    print(f"[speed {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ machine


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for pkg in ("doublet", "numpy", "datasketch", "rensa", "psutil", "pyarrow", "zstandard", "xxhash"):
        try:
            from importlib.metadata import version

            versions[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 - not installed
            versions[pkg] = None
    commit = dirty = None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                                    text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return {"cpu_count": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)), "cpu_model": model,
            "ram_gb": round(psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
            "platform": platform.platform(), "packages": versions, "git_commit": commit,
            "src_uncommitted_changes": dirty}


# ------------------------------------------------------------------------------------------ processes


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_measured(cmd: list[str], timeout: float, env: dict[str, str] | None = None,
                 rss_limit: int | None = None) -> dict[str, Any]:
    """Run cmd: wall time (start to exit), CPU time (rusage of the process and the children it waited for),
    peak RSS of the process tree (a thread samples it every 0.1 s), exit status, stdout, stderr tail.
    The tree is killed past ``timeout`` seconds or ``rss_limit`` bytes."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, text=True)
    ps = psutil.Process(p.pid)
    state: dict[str, Any] = {"peak": 0, "killed": None}
    done = threading.Event()
    out: dict[str, str] = {}

    def drain(name: str, stream: Any) -> None:
        out[name] = stream.read()

    def monitor() -> None:
        while not done.is_set():
            state["peak"] = max(state["peak"], tree_rss(ps))
            if rss_limit and state["peak"] > rss_limit:
                state["killed"] = f"peak RSS over {rss_limit / 2**30:.1f} GB"
            elif time.perf_counter() - t0 > timeout:
                state["killed"] = f"timeout after {timeout:.0f} s"
            if state["killed"]:
                try:
                    victims = ps.children(recursive=True) + [ps]
                except psutil.Error:
                    victims = []
                for c in victims:
                    try:
                        c.kill()
                    except psutil.Error:
                        pass
                return
            done.wait(0.1)

    threads = [threading.Thread(target=drain, args=(n, st), daemon=True)
               for n, st in (("stdout", p.stdout), ("stderr", p.stderr))]
    threads.append(threading.Thread(target=monitor, daemon=True))
    for t in threads:
        t.start()
    _, status, ru = os.wait4(p.pid, 0)  # reaped here (not by Popen) to get its rusage
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    for t in threads:
        t.join(timeout=10)
    return {"wall_s": round(wall, 3), "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
            "peak_rss_mb": round(state["peak"] / 2**20, 1), "returncode": p.returncode,
            "killed": state["killed"], "stdout": out.get("stdout", ""),
            "stderr_tail": out.get("stderr", "")[-2000:]}


def doublet_cmd() -> list[str]:
    script = Path(sys.executable).with_name("doublet")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "doublet.cli"]


def median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3)


# ------------------------------------------------------------------------------------------ corpora


def corpus_key(n: int, seed: int, version: str) -> str:
    return hashlib.sha256(f"doublet-speed-corpus|{n}|{seed}|{version}".encode()).hexdigest()


def ensure_corpus(n: int, seed: int, workers: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import make_corpus as mc

    path = CORPORA / f"corpus-{n}.jsonl"
    meta_path = CORPORA / f"corpus-{n}.meta.json"
    key = corpus_key(n, seed, mc.GENERATOR_VERSION)
    if path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key and meta.get("text_bytes") and path.stat().st_size == meta.get("file_bytes"):
            log(f"corpus {n:,}: reusing {path} ({meta['mb']:,} MB)")
            meta["reused"] = True
            return meta
    log(f"corpus {n:,}: building {path} (seed {seed}, generator v{mc.GENERATOR_VERSION}, {workers} workers)")
    res = mc.make_corpus(n, seed, path, workers=workers, progress=True)
    res.update(key=key, file_bytes=path.stat().st_size, path=str(path))
    meta_path.write_text(json.dumps(res, indent=1))
    log(f"corpus {n:,}: {res['mb']:,} MB in {res['seconds']} s")
    res["reused"] = False
    return res


# ------------------------------------------------------------------------------------------ child stages

WORD = re.compile(r"\w+")


def shingle_strings(text: str, n: int = 5) -> list[str]:
    """The tokenization a datasketch / rensa user writes: lowercased \\w+ words, word 5-grams (a set)."""
    words = WORD.findall(text.lower())
    if len(words) < n:
        return [" ".join(words)]
    return list({" ".join(words[i:i + n]) for i in range(len(words) - n + 1)})


def read_chunks(path: str, chunk: int):
    """(texts, read seconds) per chunk of the corpus."""
    texts: list[str] = []
    t0 = time.perf_counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                texts.append(json.loads(line)["text"])
            if len(texts) == chunk:
                yield texts, time.perf_counter() - t0
                texts = []
                t0 = time.perf_counter()
    if texts:
        yield texts, time.perf_counter() - t0


def rensa_bands(num_perm: int = 128, threshold: float = 0.5) -> int:
    """Divisor of num_perm whose bands x rows minimise FP + FN probability mass at threshold (as datasketch)."""
    def integral(f, a, b, steps=200):
        h = (b - a) / steps
        return sum(f(a + (k + 0.5) * h) for k in range(steps)) * h

    best, best_err = 1, float("inf")
    for b in (d for d in range(1, num_perm + 1) if num_perm % d == 0):
        r = num_perm // b
        fp = integral(lambda s, r=r, b=b: 1 - (1 - s ** r) ** b, 0.0, threshold)
        fn = integral(lambda s, r=r, b=b: 1 - (1 - (1 - s ** r) ** b), threshold, 1.0)
        if fp + fn < best_err:
            best, best_err = b, fp + fn
    return best


def stage_main(stage: str, corpus: str, chunk: int, result: str) -> int:
    """Child process: one stage on one core; writes its timings to ``result``."""
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {allowed[-1]})
    res: dict[str, Any] = {"stage": stage, "cpu": allowed[-1]}
    read_s = 0.0
    n_docs = 0
    n_bytes = 0
    if stage == "fingerprint":
        import doublet
        from doublet.engines.local import fingerprint_texts

        cfg = doublet.Config()
        first = next(read_chunks(corpus, 200))[0]
        t = time.perf_counter()
        fingerprint_texts(first, cfg)
        res["warmup_s"] = round(time.perf_counter() - t, 3)
        call_s = 0.0
        made = 0
        for texts, rs in read_chunks(corpus, chunk):
            read_s += rs
            n_docs += len(texts)
            n_bytes += sum(len(t.encode("utf-8")) for t in texts)
            t = time.perf_counter()
            made += fingerprint_texts(texts, cfg)
            call_s += time.perf_counter() - t
        res.update(fingerprint_s=round(call_s, 3), fingerprints=made)
    elif stage == "datasketch":
        import datasketch
        from datasketch import MinHash, MinHashLSH

        sig_s = 0.0
        mhs: list[Any] = []
        for texts, rs in read_chunks(corpus, chunk):
            read_s += rs
            n_docs += len(texts)
            n_bytes += sum(len(t.encode("utf-8")) for t in texts)
            t = time.perf_counter()
            sets = [[s.encode("utf-8") for s in shingle_strings(x)] for x in texts]
            mhs.extend(MinHash.bulk(sets, num_perm=128, seed=1))
            sig_s += time.perf_counter() - t
        t = time.perf_counter()
        lsh = MinHashLSH(threshold=0.5, num_perm=128)
        with lsh.insertion_session() as session:
            for k, m in enumerate(mhs):
                session.insert(k, m, check_duplication=False)
        cand = 0
        for k, m in enumerate(mhs):
            cand += sum(1 for o in lsh.query(m) if o > k)
        lsh_s = time.perf_counter() - t
        res.update(sig_s=round(sig_s, 3), lsh_s=round(lsh_s, 3), pipeline_s=round(sig_s + lsh_s, 3),
                   candidate_pairs=cand, bands=lsh.b, rows=lsh.r, version=datasketch.__version__)
    elif stage == "rensa":
        from rensa import RMinHash, RMinHashLSH

        sig_s = 0.0
        bulk_s = 0.0
        mhs = []
        for texts, rs in read_chunks(corpus, chunk):
            read_s += rs
            n_docs += len(texts)
            n_bytes += sum(len(t.encode("utf-8")) for t in texts)
            t = time.perf_counter()
            for x in texts:
                m = RMinHash(128, 1)
                m.update(shingle_strings(x))
                mhs.append(m)
            sig_s += time.perf_counter() - t
            t = time.perf_counter()  # for information: the bulk matrix API on the same shingles
            RMinHash.digest_matrix_from_token_sets([shingle_strings(x) for x in texts], 128, 1)
            bulk_s += time.perf_counter() - t
        bands = rensa_bands()
        t = time.perf_counter()
        lsh = RMinHashLSH(0.5, 128, bands)
        for k, m in enumerate(mhs):
            lsh.insert(k, m)
        cand = 0
        for k, m in enumerate(mhs):
            cand += sum(1 for o in lsh.query(m) if o > k)
        lsh_s = time.perf_counter() - t
        res.update(sig_s=round(sig_s, 3), lsh_s=round(lsh_s, 3), pipeline_s=round(sig_s + lsh_s, 3),
                   rensa_bulk_sig_s=round(bulk_s, 3), candidate_pairs=cand, bands=bands, rows=128 // bands)
    else:
        raise SystemExit(f"unknown stage {stage}")
    res.update(docs=n_docs, bytes=n_bytes, read_s=round(read_s, 3))
    Path(result).write_text(json.dumps(res))
    return 0


def run_stage(stage: str, corpus: str, chunk: int, timeout: float) -> dict[str, Any]:
    out = TMP / "speed" / f"stage-{stage}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_stage", stage, "--_corpus", corpus,
           "--chunk", str(chunk), "--_result", str(out)]
    m = run_measured(cmd, timeout, env=SINGLE_THREAD_ENV)
    res = {k: m[k] for k in ("wall_s", "cpu_s", "peak_rss_mb", "returncode", "killed")}
    if m["returncode"] == 0 and out.is_file():
        res.update(json.loads(out.read_text()))
    else:
        res["error"] = m["killed"] or m["stderr_tail"][-800:]
    return res


# ------------------------------------------------------------------------------------------ doublet runs


def run_doublet(corpus: str, out: Path, workers: int, timeout: float, rss_limit: int,
                extra: list[str] | None = None) -> dict[str, Any]:
    if out.exists():
        shutil.rmtree(out)
    cmd = doublet_cmd() + ["find", corpus, "-o", str(out), "--quiet", "--workers", str(workers)] + (extra or [])
    m = run_measured(cmd, timeout, rss_limit=rss_limit)
    res = {k: m[k] for k in ("wall_s", "cpu_s", "peak_rss_mb", "returncode", "killed")}
    if m["returncode"] != 0:
        res["error"] = m["killed"] or m["stderr_tail"][-800:]
        return res
    summary = json.loads((out / "summary.json").read_text())
    res["timings_s"] = summary.get("timings_s")
    res["counts"] = {k: summary.get("counts", {}).get(k) for k in
                     ("documents", "characters", "pairs", "near_duplicate_pairs", "reuse_pairs", "passages",
                      "clusters_with_reuse")}
    res["candidates"] = {k: v for k, v in summary.get("candidates", {}).items() if not isinstance(v, dict)}
    for k in ("peak_rss_mb", "memory", "memory_limit"):
        if k in summary:
            res["summary_" + k] = summary[k]
    return res


def truth_recall(pairs_path: Path, truth_path: Path) -> dict[str, Any]:
    """Share of (reprint, source) pairs of the corpus's truth file among doublet's pairs, per mode."""
    found = set()
    with open(pairs_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                found.add((r["a"], r["b"]))
    by_mode: dict[str, list[int]] = {}
    with open(truth_path, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            hit = tuple(sorted((t["id"], t["source"]))) in found
            by_mode.setdefault(t["mode"], [0, 0])
            by_mode[t["mode"]][0] += hit
            by_mode[t["mode"]][1] += 1
    tot = [sum(v[0] for v in by_mode.values()), sum(v[1] for v in by_mode.values())]
    return {"recall": round(tot[0] / max(tot[1], 1), 4), "n": tot[1],
            "by_mode": {m: round(h / n, 4) for m, (h, n) in sorted(by_mode.items())}}


def repeat_stage(n: int, stage: str, label: str, corpus: Path, args: argparse.Namespace, timeout: float,
                 describe: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run a one-core stage ``args.runs`` times (stopping at the first failure), logging each result with
    ``describe(result)``; return all runs and the successful ones."""
    runs: list[dict[str, Any]] = []
    for k in range(args.runs):
        log(f"{n:,}: {label} run {k + 1}/{args.runs} (one core)")
        r = run_stage(stage, corpus, args.chunk, timeout)
        log(f"{n:,}: {describe(r)}" + (f" FAILED: {r.get('error', '')[-300:]}" if "error" in r else ""))
        runs.append(r)
        if "error" in r:
            break
    return runs, [r for r in runs if "error" not in r]


def quality(workers: int, timeout: float) -> dict[str, Any]:
    out = TMP / "speed" / "dev-reuters"
    run = run_doublet(str(GOLD / "corpus.jsonl"), out, workers, timeout, rss_limit=0)
    if run["returncode"] != 0:
        return {"error": run.get("error")}
    sc = subprocess.run([sys.executable, str(SCORER), str(GOLD), str(out / "pairs.jsonl"), "--clusters",
                         str(out / "clusters.jsonl"), "--json-only"], capture_output=True, text=True, check=True)
    s = json.loads(sc.stdout)
    passage = s.get("passage") or s.get("passages") or {}
    pf1 = passage.get("f1") if isinstance(passage, dict) else None
    if pf1 is None:
        pf1 = next((v for k, v in s.items() if "passage" in k and isinstance(v, (int, float))), None)
    return {"precision": s.get("precision"), "recall": s.get("recall"), "f1": s.get("f1"), "passage_f1": pf1,
            "ari": s.get("ari_clusters"), "boilerplate_only_fps": s.get("fp_boilerplate_only"),
            "recall_jaccard_lt_0.2": s.get("recall_by_jaccard5", {})
            .get("<0.2", {}).get("recall"), "wall_s": run["wall_s"], "peak_rss_mb": run["peak_rss_mb"],
            "readme": readme_quality()}


# ------------------------------------------------------------------------------------------ report


def fmt(x: Any, spec: str = ",.1f") -> str:
    return "–" if x is None else format(x, spec)


def table(res: dict[str, Any]) -> str:
    m = res["machine"]
    lines = [f"Machine: {m['cpu_model'] or 'unknown CPU'}, {m['usable_cores']} usable cores "
             f"({m['cpu_count']} online), {m['ram_gb']} GB RAM, Python {m['python']}; doublet with "
             f"--workers {res['params']['workers']}; fingerprint stage and peers on one core; medians of "
             f"{res['params']['runs']} runs.", "",
             "| docs | MB | doublet wall s | docs/s | MB/s | peak RSS MB | fingerprint MB/s/core "
             "| datasketch sig s / pipeline s | rensa sig s / pipeline s | sig ratio ds / rensa "
             "| pipeline ratio ds / rensa |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in res["sizes"]:
        d, fp, ds, rn, r = s.get("doublet", {}), s.get("fingerprint", {}), s.get("datasketch"), s.get("rensa"), \
            s.get("ratios", {})

        def peer(p: dict | None) -> str:
            if not p or p.get("sig_s") is None:
                return (p or {}).get("skipped", "–") if p else "–"
            return f"{p['sig_s']:,.1f} / {p['pipeline_s']:,.1f}"

        lines.append(
            f"| {s['docs']:,} | {s['mb']:,.0f} | {fmt(d.get('wall_s'))} | {fmt(d.get('docs_per_s'), ',.0f')} "
            f"| {fmt(d.get('mb_per_s'), ',.2f')} | {fmt(d.get('peak_rss_mb'), ',.0f')} "
            f"| {fmt(fp.get('mb_per_s_per_core'), ',.2f')} | {peer(ds)} | {peer(rn)} "
            f"| {fmt(r.get('datasketch_sig'), '.2f')} / {fmt(r.get('rensa_sig'), '.2f')} "
            f"| {fmt(r.get('datasketch_pipeline'), '.2f')} / {fmt(r.get('rensa_pipeline'), '.2f')} |")
    if res.get("warning"):
        lines += ["", f"Note: {res['warning']}."]
    q = res.get("quality")
    if q and "f1" in q:
        lines += ["", f"dev-reuters re-scored: P {q['precision']} · R {q['recall']} · F1 {q['f1']} · passage F1 "
                  f"{q['passage_f1']} · ARI {q['ari']} ({q['wall_s']:.1f} s)"]
    sc = res.get("scaling")
    if sc:
        lines += ["", f"100k -> 1M: wall time x{sc['wall_ratio']}, corpus bytes x{sc['bytes_ratio']}, "
                  f"documents x{sc['docs_ratio']} (time ratio per 10x bytes: x{sc['wall_ratio_per_10x_bytes']})."]
    return "\n".join(lines)


def targets(res: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    by = {s["docs"]: s for s in res["sizes"]}
    fps = [s["fingerprint"].get("mb_per_s_per_core") for s in res["sizes"] if s.get("fingerprint")]
    fps = [x for x in fps if x]
    if fps:
        out["fingerprint_mb_s_per_core"] = {"value": min(fps), "target": TARGETS["fingerprint_mb_s_per_core"],
                                            "met": min(fps) >= TARGETS["fingerprint_mb_s_per_core"]}
    for peer, key in (("rensa", "fingerprint_vs_rensa_sig"), ("datasketch", "fingerprint_vs_datasketch_sig")):
        vals = [s["ratios"].get(f"{peer}_sig") for s in res["sizes"] if s.get("ratios", {}).get(f"{peer}_sig")]
        if vals:  # peer signature pipeline (tokenize + MinHash) time / doublet fingerprint-stage time, one core
            out[key] = {"value": min(vals), "target": TARGETS[key], "met": min(vals) >= TARGETS[key]}
    big = by.get(1_000_000, {}).get("doublet")
    if big and big.get("wall_s"):
        out["find_1m_wall_s"] = {"value": big["wall_s"], "target": TARGETS["find_1m_wall_s"],
                                 "met": big["wall_s"] < TARGETS["find_1m_wall_s"]}
        gb = big["peak_rss_mb"] / 1024
        out["find_1m_peak_rss_gb"] = {"value": round(gb, 2), "target": TARGETS["find_1m_peak_rss_gb"],
                                      "met": gb < TARGETS["find_1m_peak_rss_gb"]}
    if res.get("scaling"):
        v = res["scaling"]["wall_ratio"]
        out["scale_100k_to_1m"] = {"value": v, "target": TARGETS["scale_100k_to_1m"],
                                   "met": v <= TARGETS["scale_100k_to_1m"],
                                   "bytes_ratio": res["scaling"]["bytes_ratio"],
                                   "wall_ratio_per_10x_bytes": res["scaling"]["wall_ratio_per_10x_bytes"]}
    q = res.get("quality")
    if q and q.get("f1") is not None:
        ref = q["readme"]
        for k in ("f1", "passage_f1"):
            if q.get(k) is not None:  # docs/quality.md figures have 3 decimals
                out[f"quality_{k}_not_below_readme"] = {"value": q[k], "target": ref[k],
                                                         "met": round(q[k], 3) >= ref[k]}
    return out


def scaling(res: dict[str, Any]) -> None:
    """res["scaling"]: the 100k -> 1M ratio of doublet's wall time, beside the ratios of bytes and documents."""
    by = {s["docs"]: s for s in res["sizes"]}
    if 100_000 in by and 1_000_000 in by and by[100_000]["doublet"].get("wall_s") \
            and by[1_000_000]["doublet"].get("wall_s"):
        big, small = by[1_000_000], by[100_000]
        res["scaling"] = {"wall_ratio": round(big["doublet"]["wall_s"] / small["doublet"]["wall_s"], 2),
                          "bytes_ratio": round(big["corpus"]["text_bytes"] / small["corpus"]["text_bytes"], 2),
                          "docs_ratio": 10.0}
        # the time ratio had the 1M corpus exactly 10x the bytes of the 100k one (it has more: see make_corpus)
        res["scaling"]["wall_ratio_per_10x_bytes"] = round(
            res["scaling"]["wall_ratio"] * 10 / res["scaling"]["bytes_ratio"], 2)


def merge(files: list[Path], out: Path) -> int:
    """Combine the sizes of several result files (see --merge) and write ``out`` and its Markdown table."""
    runs = [json.loads(f.read_text()) for f in files]
    by: dict[int, dict[str, Any]] = {}
    for f, r in zip(files, runs):
        for size in r["sizes"]:
            by[size["docs"]] = {**size, "measured_in": {"file": f.name, "git_commit": r["machine"].get("git_commit"),
                                                        "load_avg_start": r.get("load_avg_start"),
                                                        "load_avg_end": r.get("load_avg_end"),
                                                        "peers": r["params"].get("peers")}}
    res: dict[str, Any] = {**runs[-1], "sizes": [by[n] for n in sorted(by)],
                           "merged_from": [{"file": f.name, "sizes": [s["docs"] for s in r["sizes"]]}
                                           for f, r in zip(files, runs)]}
    res.pop("scaling", None)
    quality_runs = [r["quality"] for r in runs if r.get("quality")]
    if quality_runs:
        res["quality"] = quality_runs[-1]
    scaling(res)
    res["targets"] = targets(res)
    warnings = [r["warning"] for r in runs if r.get("warning")]
    if warnings:
        res["warning"] = "; ".join(dict.fromkeys(warnings))
    out.write_text(json.dumps(res, indent=1))
    md = table(res) + "\n\nMerged from " + ", ".join(
        f"{m['file']} ({', '.join(f'{n:,}' for n in m['sizes'])})" for m in res["merged_from"]) + "."
    out.with_suffix(".md").write_text(md + "\n")
    print(md)
    return 0


# ------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000", help="corpus sizes in documents")
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement; medians are reported")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                    help="doublet --workers (default: usable cores)")
    ap.add_argument("--peers", default="datasketch,rensa", help="peers to run ('' for none)")
    ap.add_argument("--skip-peers-above", type=int, default=100_000,
                    help="skip datasketch above this many documents (rensa: see --peer-timeout)")
    ap.add_argument("--peer-timeout", type=float, default=900.0, help="seconds per peer run (default 900)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per doublet run (default 3600)")
    ap.add_argument("--rss-limit-gb", type=float, default=0.8 * psutil.virtual_memory().total / 2**30,
                    help="kill a doublet run whose process tree exceeds this RSS (default 80%% of RAM)")
    ap.add_argument("--memory-limit-value", default="2GB", help="the extra --memory-limit run's budget at >= 1M")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed")
    ap.add_argument("--chunk", type=int, default=10_000, help="texts per fingerprint_texts / peer chunk")
    ap.add_argument("--no-quality", action="store_true", help="skip the dev-reuters re-score")
    ap.add_argument("--skip-fingerprint", action="store_true", help="skip the single-core fingerprint stage")
    ap.add_argument("--out", type=Path, default=RESULTS / "speed.json", help="result JSON")
    ap.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                    help="combine the sizes of earlier result files (later files win for a size measured twice; "
                         "each size keeps the machine, commit and load of its own run) into --out and its .md, "
                         "recomputing the 100k -> 1M scaling and the targets; measures nothing")
    ap.add_argument("--_stage", help=argparse.SUPPRESS)
    ap.add_argument("--_corpus", help=argparse.SUPPRESS)
    ap.add_argument("--_result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._stage:
        return stage_main(args._stage, args._corpus, args.chunk, args._result)

    if args.merge:
        return merge(args.merge, args.out)
    sizes = [int(x.replace("_", "")) for x in args.sizes.split(",") if x]
    peers = [p for p in args.peers.split(",") if p]
    help_text = subprocess.run(doublet_cmd() + ["find", "--help"], capture_output=True, text=True).stdout
    has_memory_limit = "--memory-limit" in help_text
    res: dict[str, Any] = {"machine": machine(), "load_avg_start": os.getloadavg(),
                           "params": {"sizes": sizes, "runs": args.runs, "workers": args.workers, "peers": peers,
                                      "skip_peers_above": args.skip_peers_above, "seed": args.seed,
                                      "chunk": args.chunk, "peer_timeout_s": args.peer_timeout,
                                      "doublet_has_memory_limit": has_memory_limit},
                           "targets_spec": TARGETS, "sizes": []}
    t_start = time.perf_counter()
    prev_peer: dict[str, tuple[int, float]] = {}
    for n in sizes:
        c = ensure_corpus(n, args.seed, args.workers)
        corpus = c.get("path") or str(CORPORA / f"corpus-{n}.jsonl")
        mb = c["text_bytes"] / 1e6  # raw text: UTF-8 bytes of the texts (the JSONL file is a little larger)
        entry: dict[str, Any] = {"docs": n, "mb": round(mb, 1), "corpus": {k: c.get(k) for k in (
            "path", "text_bytes", "bytes", "avg_bytes", "counts", "seconds", "workers", "generator_version",
            "seed", "reused")}}

        # 1. doublet end to end
        runs = []
        for k in range(args.runs):
            log(f"{n:,}: doublet find run {k + 1}/{args.runs} (--workers {args.workers})")
            r = run_doublet(corpus, TMP / "speed" / f"find-{n}", args.workers, args.timeout,
                            int(args.rss_limit_gb * 2**30))
            log(f"{n:,}: doublet find {r['wall_s']:.1f} s, peak RSS {r['peak_rss_mb']:,.0f} MB"
                + (f" FAILED: {r.get('error', '')[-300:]}" if r["returncode"] else ""))
            runs.append(r)
            if r["returncode"] != 0:
                break
        ok = [r for r in runs if r["returncode"] == 0]
        d: dict[str, Any] = {"runs": runs}
        if ok:
            wall = median([r["wall_s"] for r in ok])
            d.update(wall_s=wall, docs_per_s=round(n / wall, 1), mb_per_s=round(mb / wall, 3),
                     peak_rss_mb=max(r["peak_rss_mb"] for r in ok),
                     peak_rss_mb_median=median([r["peak_rss_mb"] for r in ok]),
                     timings_s_median={k: median([r["timings_s"][k] for r in ok if r.get("timings_s")])
                                       for k in (ok[0].get("timings_s") or {})},
                     counts=ok[-1].get("counts"))
            truth = Path(corpus).with_name(f"corpus-{n}.truth.jsonl")
            if truth.is_file():
                d["truth_recall"] = truth_recall(TMP / "speed" / f"find-{n}" / "pairs.jsonl", truth)
        entry["doublet"] = d
        if has_memory_limit and n >= 1_000_000 and ok:
            log(f"{n:,}: doublet find --memory-limit {args.memory_limit_value}")
            entry["doublet_memory_limit"] = run_doublet(
                corpus, TMP / "speed" / f"find-{n}-memlimit", args.workers, args.timeout,
                int(args.rss_limit_gb * 2**30), ["--memory-limit", args.memory_limit_value])
            entry["doublet_memory_limit"]["memory_limit"] = args.memory_limit_value

        # 2. fingerprint stage, one core
        if not args.skip_fingerprint:
            fruns, fok = repeat_stage(
                n, "fingerprint", "fingerprint stage", corpus, args, args.timeout,
                lambda f: f"fingerprint {f.get('fingerprint_s', float('nan')):.1f} s")
            fp: dict[str, Any] = {"runs": fruns}
            if fok:
                s = median([f["fingerprint_s"] for f in fok])
                fp.update(fingerprint_s=s, mb_per_s_per_core=round(mb / s, 3), docs_per_s_per_core=round(n / s, 1),
                          peak_rss_mb=max(f["peak_rss_mb"] for f in fok))
            entry["fingerprint"] = fp

        # 3. peers
        for peer in peers:
            if peer == "datasketch" and n > args.skip_peers_above:
                entry[peer] = {"skipped": f"above --skip-peers-above {args.skip_peers_above:,}"}
                continue
            if peer in prev_peer:
                pn, ps = prev_peer[peer]
                est = ps * n / pn * 1.1
                if est > args.peer_timeout:
                    entry[peer] = {"skipped": f"estimated {est:.0f} s > {args.peer_timeout:.0f} s"}
                    continue
            pruns, pok = repeat_stage(
                n, peer, peer, corpus, args, args.peer_timeout,
                lambda p: f"{peer} sig {p.get('sig_s', float('nan')):.1f} s, pipeline "
                          f"{p.get('pipeline_s', float('nan')):.1f} s, peak RSS {p['peak_rss_mb']:,.0f} MB")
            pe: dict[str, Any] = {"runs": pruns}
            if pok:
                pe.update(sig_s=median([p["sig_s"] for p in pok]), lsh_s=median([p["lsh_s"] for p in pok]),
                          pipeline_s=median([p["pipeline_s"] for p in pok]),
                          peak_rss_mb=max(p["peak_rss_mb"] for p in pok), candidate_pairs=pok[-1]["candidate_pairs"],
                          bands=pok[-1]["bands"], rows=pok[-1]["rows"])
                if "rensa_bulk_sig_s" in pok[-1]:
                    pe["rensa_bulk_sig_s"] = median([p["rensa_bulk_sig_s"] for p in pok])
                pe["sig_mb_per_s"] = round(mb / pe["sig_s"], 3)
                prev_peer[peer] = (n, pe["pipeline_s"])
            entry[peer] = pe

        # 4. ratios
        ratios: dict[str, Any] = {}
        fp_s = entry.get("fingerprint", {}).get("fingerprint_s")
        wall = entry["doublet"].get("wall_s")
        for peer in peers:
            pe = entry.get(peer, {})
            if pe.get("sig_s") and fp_s:
                ratios[f"{peer}_sig"] = round(pe["sig_s"] / fp_s, 3)
            if pe.get("rensa_bulk_sig_s") and fp_s:
                ratios["rensa_bulk_sig"] = round(pe["rensa_bulk_sig_s"] / fp_s, 3)
            if pe.get("pipeline_s") and wall:
                ratios[f"{peer}_pipeline"] = round(pe["pipeline_s"] / wall, 3)
        entry["ratios"] = ratios
        res["sizes"].append(entry)
        RESULTS.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=1))  # partial results survive an interrupted run

    scaling(res)
    if not args.no_quality:
        log("dev-reuters: doublet find + score.py")
        res["quality"] = quality(args.workers, args.timeout)
        log(f"dev-reuters: {res['quality']}")
    res["targets"] = targets(res)
    res["load_avg_end"] = os.getloadavg()
    if max(res["load_avg_start"][0], res["load_avg_end"][0]) > 0.5 * res["machine"]["usable_cores"] + 0.5:
        res["warning"] = ("other processes were busy on this machine during the run (load average "
                          f"{res['load_avg_start'][0]:.1f} at start, {res['load_avg_end'][0]:.1f} at end): "
                          "timings are pessimistic; cpu_s beside wall_s shows the CPU time actually used")
        log("WARNING: " + res["warning"])
    res["total_s"] = round(time.perf_counter() - t_start, 1)
    args.out.write_text(json.dumps(res, indent=1))
    md = table(res)
    (args.out.with_suffix(".md")).write_text(md + "\n")
    print(md)
    log(f"wrote {args.out} and {args.out.with_suffix('.md')} in {res['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
