#!/usr/bin/env python3
"""Load benchmark of `doublet serve`: POST /search latency and throughput on a 100k-document index, with
concurrent POST /documents writes, and a check that no accepted write was lost.

    python bench/load.py                                        # builds (or reuses) the 100k corpus and index
    python bench/load.py --corpus bench/results/tmp/corpora/corpus-100000.jsonl --clients 1,4,16 --workers 1,2

What it does
------------
1. **Corpus**: ``--corpus PATH`` (JSONL with id/text), or the ``--docs`` (100,000) document corpus of
   bench/make_corpus.py, built or reused by bench/speed.py's ``ensure_corpus`` under
   bench/results/tmp/corpora/.
2. **Index**: ``doublet index create`` + ``doublet index add CORPUS -w 2``, cached under
   bench/results/tmp/load/ (reused while the corpus file's path, size and mtime and the doublet version
   match). Each run works on a fresh copy (the writes below change it).
3. **Queries**: news-sized documents, half drawn at random from the corpus (already indexed: the answer is
   its pairs), half *unseen* — documents ``N .. N+k`` of the same generator run (make_corpus's corpus of N
   documents is a prefix of any larger one with the same seed): tomorrow's news, with its ~25 % reprints of
   indexed stories, never indexed. Unseen documents not used as queries are the writes' material.
4. **Server**: ``doublet serve COPY --workers W --readers R`` as a subprocess on 127.0.0.1, once per value of
   ``--workers`` (1 and 2: one process, or one per core), with ``--readers`` (4) reading connections each.
5. **Load**, per level of ``--clients`` (``1,4,16,16@100``): ``C`` = that many concurrent clients sending
   POST /search back to back (closed loop: the server's saturation throughput, and the latency that comes
   with it); ``C@R`` = R queries per second offered, spread over C connections (open loop: the latency a
   service shows below saturation; it counts from the scheduled send time, so waiting for a free connection
   is included). Clients are asyncio + httpx in this process; each level runs ``--seconds`` after a short
   warm-up, while one more client posts ``--write-rate`` POST /documents per second (1-4 new unseen
   documents each). Latency is measured by the client (request sent -> answer read); the server's own time
   (its ``Server-Timing`` header: request headers in -> answer out) is kept beside it.
6. **Writes**: after the run the server is stopped and the index opened: every document of every request
   answered 200 must be there with its text; ``writes_lost`` counts those that are not.

Output: bench/results/load.json (machine, settings, per level: requests, errors, queries/s, p50/p95/p99/max
latency in ms, server-side p50/p95, matches per query; writes) and bench/results/load.md (a table). The
target is POST /search p95 < 50 ms on the 100k index. Loopback only; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from doublet.serve import ServerProcess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
WORK = RESULTS / "tmp" / "load"
TARGET_P95_MS = 50.0
sys.path.insert(0, str(HERE))


def log(msg: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ corpus and index

def corpus_for(args: argparse.Namespace) -> tuple[Path, int]:
    """The corpus file and the generator seed its unseen continuation is made with."""
    if args.corpus:
        path = Path(args.corpus)
        if not path.is_file():
            raise SystemExit(f"{path} not found")
        meta = path.with_name(path.name.replace(".jsonl", ".meta.json"))
        seed = json.loads(meta.read_text()).get("seed", args.seed) if meta.is_file() else args.seed
        return path, int(seed)
    from speed import ensure_corpus

    meta = ensure_corpus(args.docs, args.seed, workers=2)
    return Path(meta["path"]), args.seed


def doublet_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "doublet.cli", *args]


def cached_index(corpus: Path) -> tuple[Path, dict[str, Any]]:
    """An index of the whole corpus, built once per corpus file, doublet version and index format."""
    import doublet
    from doublet.index_store import FORMAT

    st = corpus.stat()
    key = hashlib.sha256(f"{corpus.resolve()}|{st.st_size}|{st.st_mtime_ns}|{doublet.__version__}|{FORMAT}"
                         .encode()).hexdigest()
    path = WORK / f"index-{corpus.stem}"
    meta_path = WORK / f"index-{corpus.stem}.meta.json"
    if path.is_dir() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            log(f"index: reusing {path} ({meta['documents']:,} documents)")
            return path, meta
    shutil.rmtree(path, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    log(f"index: building {path} from {corpus} (doublet index add -w 2)")
    t0 = time.perf_counter()
    subprocess.run(doublet_cmd("index", "create", str(path), "-q"), check=True)
    subprocess.run(doublet_cmd("index", "add", str(path), str(corpus), "-q", "-w", "2"), check=True)
    stats = json.loads(subprocess.run(doublet_cmd("index", "stats", str(path)), check=True, capture_output=True,
                                      text=True).stdout)
    meta = {"key": key, "corpus": str(corpus), "documents": stats["documents"], "bytes_on_disk": stats["bytes_on_disk"],
            "boilerplate_fingerprints": stats["boilerplate_fingerprints"],
            "build_s": round(time.perf_counter() - t0, 1)}
    meta_path.write_text(json.dumps(meta, indent=1))
    log(f"index: {meta['documents']:,} documents, {meta['bytes_on_disk'] / 1e6:,.0f} MB in {meta['build_s']} s")
    return path, meta


def working_copy(index: Path) -> Path:
    copy = WORK / "run.idx"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    for f in index.iterdir():
        if f.name.startswith("index.sqlite"):
            shutil.copyfile(f, copy / f.name)
    return copy


def sample_corpus(corpus: Path, k: int, seed: int) -> tuple[list[dict[str, str]], int]:
    """``k`` documents drawn uniformly from the corpus (reservoir sampling, one pass), and its size."""
    rng = random.Random(seed)
    picked: list[str] = []
    n = 0
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            if len(picked) < k:
                picked.append(line)
            else:
                j = rng.randrange(n + 1)
                if j < k:
                    picked[j] = line
            n += 1
    return [json.loads(x) for x in picked], n


def unseen_documents(n_indexed: int, k: int, seed: int) -> list[dict[str, str]]:
    """Documents ``n_indexed .. n_indexed + k - 1`` of the generator run that made the corpus."""
    import make_corpus as mc

    mat = mc.material(seed)
    plan = mc.make_plan(n_indexed + k, seed, len(mat.articles))
    mc._init(mat, plan, mc.make_sites(seed))
    data, _, _ = mc.build_chunk(n_indexed, n_indexed + k)
    return [json.loads(x) for x in data.decode("utf-8").splitlines()]


# ------------------------------------------------------------------------------------------ load

def pct(xs: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of xs."""
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))] if s else float("nan")


async def run_level(base: str, clients: int, rate: float, seconds: float, warmup: float,
                    queries: list[dict[str, str]], writes: list[dict[str, str]], write_rate: float,
                    level: int) -> dict[str, Any]:
    """One level: ``clients`` connections sending POST /search back to back (``rate`` 0: closed loop), or
    ``rate`` requests per second spread over them (open loop: latency counts from the scheduled send time, so
    waiting for a free connection is included), with concurrent writes."""
    lat: list[float] = []
    server_s: list[float] = []
    app_ms: list[float] = []
    matches: list[int] = []
    errors: list[str] = []
    w_lat: list[float] = []
    accepted: dict[str, str] = {}
    w_errors: list[str] = []
    counter = 0
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        t_start = time.perf_counter()
        t_measure = t_start + warmup
        t_end = t_measure + seconds
        slots = asyncio.Semaphore(clients)

        async def search(q: dict[str, str], t: float) -> None:
            """One query (sent at or after ``t``), recorded if ``t`` is in the measured window."""
            async with slots:
                r = await http.post("/search", json={"text": q["text"]})  # a pasted text, as the page sends
            dt = time.perf_counter() - t
            if t < t_measure:
                return
            if r.status_code != 200:
                errors.append(f"{r.status_code}: {r.text[:200]}")
                return
            body = r.json()
            lat.append(dt)
            server_s.append(body["seconds"])
            app_ms.append(float(r.headers.get("server-timing", "app;dur=nan").split("dur=")[1]))
            matches.append(len(body["matches"]))

        async def closed_loop() -> None:
            nonlocal counter
            while time.perf_counter() < t_end:
                q = queries[counter % len(queries)]
                counter += 1
                await search(q, time.perf_counter())

        async def open_loop() -> None:
            pending = []
            for k in range(int((t_end - t_start) * rate)):
                t = t_start + k / rate
                await asyncio.sleep(max(0.0, t - time.perf_counter()))
                pending.append(asyncio.create_task(search(queries[k % len(queries)], t)))
            await asyncio.gather(*pending)

        async def writer() -> None:
            k = 0
            gap = 1.0 / write_rate if write_rate > 0 else None
            while gap is not None:
                nxt = t_start + k * gap
                if nxt >= t_end:
                    return
                await asyncio.sleep(max(0.0, nxt - time.perf_counter()))
                size = 1 + k % 4
                docs = [{"id": f"load{level}-w{k}-{j}", "text": writes[(k * 4 + j) % len(writes)]["text"]}
                        for j in range(size)]
                k += 1
                t = time.perf_counter()
                r = await http.post("/documents", json={"documents": docs})
                w_lat.append(time.perf_counter() - t)
                if r.status_code == 200:
                    accepted.update({d["id"]: d["text"] for d in docs})
                else:
                    w_errors.append(f"{r.status_code}: {r.text[:200]}")

        load = [open_loop()] if rate > 0 else [closed_loop() for _ in range(clients)]
        await asyncio.gather(writer(), *load)
    ms = [x * 1000 for x in lat]
    return {
        "clients": clients, "offered_per_s": rate or None, "seconds": seconds, "requests": len(lat), "errors": len(errors),
        "error_samples": errors[:3], "queries_per_s": round(len(lat) / seconds, 1),
        "latency_ms": {"p50": round(pct(ms, 0.50), 1), "p95": round(pct(ms, 0.95), 1),
                       "p99": round(pct(ms, 0.99), 1), "max": round(max(ms), 1) if ms else None,
                       "mean": round(statistics.fmean(ms), 1) if ms else None},
        "server_search_ms": {"p50": round(pct(server_s, 0.5) * 1000, 1), "p95": round(pct(server_s, 0.95) * 1000, 1)},
        "server_app_ms": {"p50": round(pct(app_ms, 0.5), 1), "p95": round(pct(app_ms, 0.95), 1)},
        "matches_per_query": round(statistics.fmean(matches), 2) if matches else None,
        "queries_with_matches": round(sum(m > 0 for m in matches) / len(matches), 3) if matches else None,
        "writes": {"requests": len(w_lat), "accepted_documents": len(accepted), "errors": len(w_errors),
                   "error_samples": w_errors[:3],
                   "latency_ms": {"p50": round(pct(w_lat, 0.5) * 1000, 1), "p95": round(pct(w_lat, 0.95) * 1000, 1),
                                  "max": round(max(w_lat) * 1000, 1) if w_lat else None}},
        "_accepted": accepted,
    }


def verify_writes(index: Path, accepted: dict[str, str], before: int) -> dict[str, Any]:
    from doublet.index import Index

    lost = []
    with Index.open(index) as idx:
        for doc_id, text in accepted.items():
            got = idx.get(doc_id)
            if got is None or got.text != text:
                lost.append(doc_id)
        after = len(idx)
    return {"accepted_documents": len(accepted), "writes_lost": len(lost), "lost_samples": lost[:5],
            "documents_before": before, "documents_after": after,
            "count_ok": after == before + len(accepted)}


# ------------------------------------------------------------------------------------------ report

def table(res: dict[str, Any]) -> str:
    m = res["machine"]
    idx = res["index"]
    lines = [
        f"Machine: {m['cpu_model'] or 'CPU'}, {m['usable_cores']} cores, {m['ram_gb']} GB RAM, Python {m['python']}; "
        f"the clients run on the same cores as the server. Load average (1, 5, 15 min) before the run "
        f"{', '.join(map(str, m['load_average_before']))}, after {', '.join(map(str, m['load_average_after']))}"
        f"{' (other processes were busy: figures are pessimistic)' if m['load_average_before'][0] > 1.0 else ''}.",
        "",
        f"Index: {idx['documents']:,} documents ({idx['bytes_on_disk'] / 1e6:,.0f} MB); queries: "
        f"{res['queries']['count']} news-sized documents (mean {res['queries']['mean_chars']:,} characters), half "
        f"indexed, half unseen, sent as text; `doublet serve --workers W --readers {res['settings']['readers']}`; "
        f"concurrent writes: "
        f"{res['settings']['write_rate']} POST /documents per second (1-4 documents each).",
        "",
        "| workers | clients | offered q/s | queries/s | p50 ms | p95 ms | p99 ms | max ms | server p50 / p95 ms | "
        "matches/query | writes (docs) | write p95 ms | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lv in res["levels"]:
        la, w = lv["latency_ms"], lv["writes"]
        offered = f"{lv['offered_per_s']:g}" if lv["offered_per_s"] else "all they can"
        sv = lv["server_app_ms"]
        lines.append(f"| {lv['workers']} | {lv['clients']} | {offered} | {lv['queries_per_s']:,.1f} | {la['p50']} | "
                     f"{la['p95']} | {la['p99']} | {la['max']} | {sv['p50']} / {sv['p95']} | "
                     f"{lv['matches_per_query']} | {w['requests']} ({w['accepted_documents']}) | "
                     f"{w['latency_ms']['p95']} | {lv['errors'] + w['errors']} |")
    v = res["writes"]
    lines += ["", f"Writes: {v['accepted_documents']} documents accepted, {v['writes_lost']} lost; index "
                  f"{v['documents_before']:,} -> {v['documents_after']:,} documents. Target POST /search p95 < "
                  f"{TARGET_P95_MS:g} ms: " + ", ".join(
                      f"{lv['workers']}w/{lv['clients']}c{'@' + format(lv['offered_per_s'], 'g') if lv['offered_per_s'] else ''} "
                      f"{'met' if lv['latency_ms']['p95'] < TARGET_P95_MS else 'not met'}" for lv in res["levels"]) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", help="JSONL corpus to index (default: make_corpus's, built or reused)")
    ap.add_argument("--docs", type=int, default=100_000, help="documents of the default corpus")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clients", default="1,4,16,16@100",
                    help="levels, comma-separated: C = C clients back to back; C@R = R queries/s over C connections")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured seconds per level")
    ap.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each level")
    ap.add_argument("--queries", type=int, default=400, help="query documents (half indexed, half unseen)")
    ap.add_argument("--write-rate", type=float, default=2.0, help="POST /documents per second during each level")
    ap.add_argument("--readers", type=int, default=4, help="doublet serve --readers")
    ap.add_argument("--workers", default="1,2", help="doublet serve --workers: one run per value, comma-separated")
    ap.add_argument("--out", default=str(RESULTS / "load.json"))
    args = ap.parse_args(argv)
    levels = [(int(c), float(r or 0)) for c, _, r in (x.strip().partition("@") for x in args.clients.split(",")
                                                     if x.strip())]
    worker_counts = [int(x) for x in args.workers.split(",") if x.strip()]

    from speed import machine

    load_before = [round(x, 2) for x in os.getloadavg()]
    corpus, seed = corpus_for(args)
    index, index_meta = cached_index(corpus)
    half = args.queries // 2
    indexed, n_corpus = sample_corpus(corpus, half, args.seed)
    unseen = unseen_documents(n_corpus, half + 400, seed)
    corpus_ids = {d["id"] for d in indexed}
    queries = [q for pair in zip(indexed, unseen[:half]) for q in pair]  # alternate indexed / unseen
    writes = unseen[half:]
    log(f"queries: {len(queries)} ({half} from the corpus, {half} unseen); {len(writes)} documents for writes")
    copy = working_copy(index)
    results = []
    accepted: dict[str, str] = {}
    before = None
    for workers in worker_counts:
        options = ("--workers", str(workers), "--readers", str(args.readers), "--log-level", "warning")
        with ServerProcess(copy, *options, log=WORK / "serve.log") as base:
            if before is None:
                before = httpx.get(base + "/health").json()["documents"]
                if any(httpx.get(base + "/documents", params={"id": d["id"]}).status_code == 200 for d in unseen[:20]):
                    log("warning: some 'unseen' documents are in the index (is --corpus a make_corpus output of "
                        "--seed?)")
            for c, rate in levels:
                how = f"{c} client(s)" + (f" at {rate:g} queries/s" if rate else "")
                log(f"{workers} worker(s), {how}: {args.warmup:g} s warm-up + {args.seconds:g} s")
                res = asyncio.run(run_level(base, c, rate, args.seconds, args.warmup, queries, writes,
                                            args.write_rate, len(results)))
                accepted.update(res.pop("_accepted"))
                la = res["latency_ms"]
                log(f"  {res['queries_per_s']:,.1f} q/s, p50 {la['p50']} ms, p95 {la['p95']} ms, p99 {la['p99']} "
                    f"ms; {res['writes']['requests']} writes; {res['errors']} errors")
                results.append({"workers": workers, **res})
    writes_check = verify_writes(copy, accepted, before)
    log(f"writes: {writes_check['accepted_documents']} accepted, {writes_check['writes_lost']} lost")
    out = {
        "machine": {**machine(), "load_average_before": load_before,
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "settings": {"clients": args.clients, "workers": worker_counts, "seconds": args.seconds, "warmup": args.warmup,
                     "readers": args.readers, "write_rate": args.write_rate},
        "corpus": str(corpus),
        "index": index_meta,
        "queries": {"count": len(queries), "indexed": half, "unseen": half,
                    "mean_chars": round(statistics.fmean(len(q["text"]) for q in queries)),
                    "indexed_ids_sample": sorted(corpus_ids)[:3]},
        "levels": results,
        "writes": writes_check,
        "target_p95_ms": TARGET_P95_MS,
    }
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    md = table(out)
    Path(args.out).with_suffix(".md").write_text(md)
    print(md)
    shutil.rmtree(copy, ignore_errors=True)
    return 0 if writes_check["writes_lost"] == 0 and writes_check["count_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
