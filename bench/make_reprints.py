#!/usr/bin/env python3
"""Held-out reprint corpora: labelled reuse benchmarks built *differently* from the dev sets.

    python bench/make_reprints.py --out DIR --docs 3000 --seed 11 --pool bbc|reuters|20ng|mixed \\
        --sites 30 --popular 0 --popular-copies 120 --template-style nav|prose|hybrid|mixed|devlike

Writes DIR/ in the dev sets' format (``/work/shared/bench/dev-*``), so ``score.py DIR PRED/pairs.jsonl`` and
``doublet eval DIR PRED`` work unchanged: ``corpus.jsonl`` (``{"id","text"}``), ``gold_pairs.jsonl``,
``ignore_pairs.jsonl``, ``gold_clusters.jsonl``, ``doc_meta.jsonl``, ``meta.json`` and ``sources.jsonl``.

Why a second generator
----------------------
The dev sets come from one generator (reprint_bench.py) with its own habits: Reuters-21578 bodies only,
one kind of page chrome (URL/count/photo-credit header; a footer of a label, 8-19 *truncated* headline lines,
"All news", a login prompt and a copyright line), uniform site sizes, a fixed mode mix. A system can learn
those habits instead of the task. This generator keeps the *task and the gold rule* and changes the rest:

* **Material**: BBC News articles (with their headlines), Reuters-21578 bodies (with title-cased titles),
  20 Newsgroups posts cleaned for use as articles (headers, quoted ``>`` lines, attributions, signatures and
  PGP/uuencode blocks dropped), or a mix. Sources keep their headline as a first paragraph 70 % of the time.
  Exact duplicates are dropped, and an article is only used if it shares no word 8-gram (title included)
  with any article used before it (all pools together), so sources, distractors, embedding hosts and
  inserted filler never share text except through the reuse the gold records (Reuters-21578 re-issues
  stories; 20NG replies quote and share subjects). A small pool (BBC: ~2,100 articles) gets more copies per
  story (up to x3) on big corpora; distractors, hosts and filler then come from the other pools.
* **Templates** (``bench/reprint_templates.py``): navigation menus, breadcrumbs, bylines/datelines,
  "Related stories"/"Most read" lists of *full* headlines (some ending in a period, per-page samples on
  rotating sites), tag lists, share counters, comment prompts, and *prose-shaped* boilerplate (newsletter
  pitches, cookie notices, author bios, legal/republication notices, corrections policies, support appeals)
  in seven languages, plus mid-article sidebars. ``--template-style prose`` builds sites whose chrome is
  mostly sentences -- the hardest case for shape-based boilerplate detection; ``devlike`` imitates the dev
  footer for comparison. Site sizes follow a Zipf law (a few big sites, many small ones); each site has
  its own paragraph separator habit and header/footer/sidebar probabilities; ``--networks`` makes sister
  sites that share their chrome under different names.
* **Reuse modes**: ``full`` (light edits), ``excerpt`` (contiguous sentences, often the lede), ``scattered``
  (a subset of sentences in order), ``embedded`` (a 25-120-word passage, sometimes cut mid-sentence, inside
  an unrelated host article, as its own paragraph or glued into one), ``brief`` (a 25-60-word item reprinted
  whole), ``chain`` (a reprint of another reprint, inheriting its edits and cuts) and ``roundup`` (passages
  of 2-3 stories in one digest document, which joins their clusters). Edits: word substitutions, deletions,
  insertions and British/American spelling switches (numbers never touched). Noise: a rewritten lede, a
  replaced headline, inserted unrelated paragraphs, curly/straight quotes, mojibake (UTF-8 read as cp1252)
  over part of a page, glued sentences, hard wraps at 60-90 columns, paragraph separators "\\n\\n"/"\\n"/" ".
* **Popular stories**: ``--popular K --popular-copies N`` adds K stories reprinted ~N times each (all modes).

Gold rule (same as the dev sets)
--------------------------------
Every token of a document remembers where it came from (a source word, an edit, or foreign material).
Two documents of the same source form a gold pair when they share at least 25 source words, each intact
in both (edited words excluded; a "word" is a whitespace token with a letter or digit, so "--" or "(" do
not count); 1-24 shared words (or none, ``--zero-overlap ignore``) make an ignore pair. Spans are
half-open character offsets of maximal runs of shared tokens that are not interrupted, in either document,
by foreign material (boilerplate, inserted paragraphs, host text, a rewritten lede) or by more than 4
unshared source tokens. ``jaccard5``/``containment5`` are word 5-gram Jaccard and containment of the whole
documents (``norm_words``: lower-cased ASCII letter/digit runs, so quotes and mojibake do not matter).

Self-checks (results in meta.json ``self_check``; a failure aborts): for every checked gold pair (all, or
a sample of 5,000 with ``--check auto``) the normalised shared source words are a subsequence of the words
of each span on both sides, spans start and end on shared words and are dense (>= 80 % shared words);
gold and ignore pairs are disjoint and ordered; every document is in a cluster; and no run of 16 words of
content text (source words, hosts, filler, distractors) is shared by two documents unless it is the same
source's text. Shared 8-grams are counted too but only reported: they occur by chance where a scattered
copy joins two sentences ("... wait and see. I ...").

Everything is a function of ``--seed`` (one sequential random stream; Python's salted ``hash`` is never
used), so the same arguments give byte-identical folders (meta.json differs only in timings). The parsed
pools and their shared-8-gram index are cached in ``$DOUBLET_BENCH_CACHE`` (default
``~/.cache/doublet-bench``): ~13 s the first time, then ~0.3 s. 25,000 documents take ~25 s.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import importlib.util
import json
import os
import pickle
import random
import re
import sys
import tarfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np



def _sibling(name: str) -> Any:
    """A module of bench/ imported by path (bench/ is not a package; sys.path is left alone)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


tpl = _sibling("reprint_templates")

GENERATOR = "make_reprints.py"
VERSION = "1"
LIBRARY_VERSION = "4"   # bump when loading/cleaning/8-gram grouping changes (disk cache key)
SHARED = Path(os.environ.get("DOUBLET_SHARED", "/work/shared"))
DATA = SHARED / "data"

MIN_SHARED = 25          # gold: shared source words
MIN_SOURCE_WORDS = 80    # long enough sources only
MAX_SOURCE_WORDS = 1200  # longer articles are cut at a sentence end
EDIT_GAP = 4             # a span bridges at most this many unshared source words
STRIDE = 1 << 16         # provenance id = source index * STRIDE + word index

# provenance codes of non-source tokens (source words have their id >= 0)
EDIT, HOST, FILL, INTRO, DIS, TITLE, HDR, FTR, SIDE = -1, -2, -3, -4, -5, -6, -7, -8, -9
KIND = {EDIT: "edit", HOST: "host", FILL: "fill", INTRO: "intro", DIS: "dis", TITLE: "title", HDR: "hdr",
        FTR: "ftr", SIDE: "side"}
BOILERPLATE = (HDR, FTR, SIDE)

# reuse modes and noise: deliberately not the dev generator's mix
COPY_MODES = {"full": 0.28, "excerpt": 0.26, "scattered": 0.13, "embedded": 0.22, "chain": 0.095, "roundup": 0.015}
POPULAR_MODES = {"full": 0.3, "excerpt": 0.28, "scattered": 0.15, "embedded": 0.2, "chain": 0.07}
N_COPIES = [0.30, 0.25, 0.18, 0.12, 0.09, 0.06]   # 1..6 copies
P_ORIGINAL = 0.6
P_BRIEF = 0.08
P_TITLE = 0.7
DISTRACTOR_SHARE = 0.32
NOISE = dict(p_intro=0.3, p_retitle=0.15, p_insert=0.35, edit_max=0.04, p_spelling=0.25, p_curly=0.4,
             p_straight=0.15, p_mojibake=0.15, p_glue=0.25, p_hardwrap=0.25, wrap=(60, 90), p_own_psep=0.15)

# ------------------------------------------------------------------------------------------ text helpers

_NORM_WORD = re.compile(r"[a-z0-9]+")
_WORDCHAR = re.compile(r"[A-Za-z0-9]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SENT_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")
_ABBREV = {"mr.", "mrs.", "ms.", "dr.", "st.", "jr.", "sr.", "inc.", "corp.", "co.", "ltd.", "plc.", "u.s.",
           "u.k.", "no.", "vs.", "e.g.", "i.e.", "gen.", "gov.", "sen.", "rep.", "prof.", "mt.", "ft.", "jan.",
           "feb.", "mar.", "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "oct.", "nov.", "dec.", "etc.",
           "approx.", "dept.", "est.", "fig.", "vol.", "bros.", "messrs.", "cie.", "s.a.", "n.v.", "a.g."}


def norm_words(text: str) -> list[str]:
    """Lower-cased ASCII letter/digit runs; any non-ASCII character breaks words, so curly and straight
    quotes and their mojibake all give the same words ("don’t", "don't", "donâ€™t" -> don, t)."""
    return _NORM_WORD.findall(_NON_ASCII.sub(" ", text).lower())


_P = np.uint64(0x100000001B3)
_POW = np.ones(1, dtype=np.uint64)
_INV = np.ones(1, dtype=np.uint64)


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P**i and P**-i (mod 2**64) for i < n (P is odd, so it has an inverse)."""
    global _POW, _INV
    if _POW.shape[0] < n:
        size = max(n, 2 * _POW.shape[0])
        inv = pow(int(_P), -1, 1 << 64)
        _POW = np.cumprod(np.r_[np.uint64(1), np.full(size - 1, _P, dtype=np.uint64)], dtype=np.uint64)
        _INV = np.cumprod(np.r_[np.uint64(1), np.full(size - 1, np.uint64(inv), dtype=np.uint64)], dtype=np.uint64)
    return _POW[:n], _INV[:n]


def word_hashes(text: str) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes and start offsets of the words ``norm_words(text)`` returns, computed with NumPy
    (a polynomial prefix hash over the ASCII-folded text)."""
    a = np.frombuffer(_NON_ASCII.sub(" ", text).lower().encode("ascii"), dtype=np.uint8)
    isw = ((a >= 97) & (a <= 122)) | ((a >= 48) & (a <= 57))
    edges = np.diff(np.r_[np.int8(0), isw.astype(np.int8), np.int8(0)])
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    if not starts.shape[0]:
        return np.empty(0, dtype=np.uint64), starts
    pw, inv = _powers(a.shape[0] + 1)
    pre = np.r_[np.uint64(0), np.cumsum(a.astype(np.uint64) * pw[:a.shape[0]], dtype=np.uint64)]
    h = (pre[ends] - pre[starts]) * inv[starts]
    h ^= (ends - starts).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return h, starts


def ngram_hashes(words: np.ndarray, n: int) -> np.ndarray:
    """Hashes of the word n-grams of a word-hash sequence (position i: words i..i+n-1)."""
    m = words.shape[0] - n + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    h = np.zeros(m, dtype=np.uint64)
    for j in range(n):
        h = (h ^ words[j:j + m]) * np.uint64(0x100000001B3) + np.uint64(j + 1)
    return h


def ends_sentence(tok: str, nxt: str) -> bool:
    """Whether ``tok`` closes a sentence followed by ``nxt``."""
    if not _SENT_END.search(tok) or tok.lower() in _ABBREV or re.fullmatch(r"[A-Z]\.", tok):
        return False
    c = nxt[:1]
    return c.isupper() or c.isdigit() or c in "\"'\u201c\u2018("


def stable_hash(s: str) -> int:
    """A 64-bit hash that does not change between processes."""
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little")


# ------------------------------------------------------------------------------------------ material


@dataclass
class Article:
    """One real text of a pool: headline (may be empty) and body paragraphs (whitespace-normalised)."""

    key: str
    pool: str
    title: str
    paras: list[str]
    n_words: int = 0

    def __post_init__(self) -> None:
        self.n_words = sum(len(p.split()) for p in self.paras)


def _reflow(p: str) -> str:
    return " ".join(p.split())


_SMALL = {"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with", "from", "as", "vs",
          "up", "is", "be", "it", "its", "his", "her", "off", "out", "into", "over"}
_COMMON = {"oil", "say", "set", "cut", "buy", "net", "new", "bid", "pct", "dlr", "mln", "bln", "see", "ups", "low",
           "may", "sea", "tin", "tax", "war", "end", "two", "six", "ten", "one", "add", "aid", "cts", "qtr", "rev",
           "not", "all", "sun", "but", "due", "get", "has", "had", "was", "yen", "ask", "win", "law", "now", "sees",
           "says", "year", "rate", "loss", "gain", "debt", "deal", "pact", "unit", "sale", "talk", "plan", "rise",
           "fall", "bank", "hits", "gets", "ends", "near", "nil", "off", "out", "lift", "hike", "firm", "rule",
           "vote", "set", "top", "job", "jobs", "cuts", "bids", "buys", "sell", "ban", "key", "big", "far",
           "more", "less", "corn", "beef", "gold", "soy", "us"}


def title_case(title: str) -> str:
    """Reuters' ALL-CAPS titles in headline case: short all-caps words that are not common words are kept
    as acronyms (IBM, GM, U.S.), ordinals lowered (1ST -> 1st), <TICKER> symbols kept."""
    out = []
    for i, w in enumerate(title.split()):
        core = w.strip(".,;:'\"()").lower()
        if "<" in w:
            out.append(w)
        elif any(ch.isdigit() for ch in w):
            out.append(w.lower())
        elif core in _SMALL and i > 0:
            out.append(w.lower())
        elif len(core.replace(".", "")) <= 3 and core not in _COMMON and core not in _SMALL:
            out.append(w)
        else:
            out.append(w[:1].upper() + w[1:].lower())
    return " ".join(out)


def load_bbc(data: Path) -> list[Article]:
    """BBC News: first line headline, then paragraphs."""
    out = []
    with tarfile.open(data / "bbc-news" / "bbc.tar.gz") as t:
        members = sorted((m.name, t.extractfile(m).read()) for m in t if m.isfile())
    for name, raw in members:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", "replace")
        lines = text.strip().split("\n")
        title = _reflow(lines[0])
        paras = [_reflow(p) for p in re.split(r"\n\s*\n", "\n".join(lines[1:]))]
        out.append(Article("bbc:" + name.split("/", 1)[-1].removesuffix(".txt"), "bbc", title, [p for p in paras if p]))
    return out


def load_reuters(data: Path) -> list[Article]:
    """Reuters-21578 stories with a body: title-cased title, body paragraphs (indent-separated), sign-off cut."""
    out = []
    for f in sorted((data / "reuters21578").glob("reut2-*.sgm.gz")):
        raw = gzip.open(f).read().decode("latin-1")
        for story in re.findall(r"<REUTERS.*?</REUTERS>", raw, re.S):
            body = re.search(r"<BODY>(.*?)</BODY>", story, re.S)
            if not body:
                continue
            newid = re.search(r'NEWID="(\d+)"', story).group(1)
            title = re.search(r"<TITLE>(.*?)</TITLE>", story, re.S)
            text = html.unescape(body.group(1)).replace("\x03", "")
            text = re.sub(r"\s*Reuter\s*$", "", text.rstrip(), flags=re.I)
            paras = [_reflow(p) for p in re.split(r"\n(?=\s{2,})|\n\s*\n", text)]
            ttl = title_case(_reflow(html.unescape(title.group(1)))) if title else ""
            out.append(Article(f"reuters:{newid}", "reuters", ttl, [p for p in paras if p]))
    return out


_ATTRIB = re.compile(r"(writes|wrote|says|said)\s*:\s*$|^\s*In (article|message)\b|^\s*>|^\s*\||^\s*:", re.I)
_JUNK_LINE = re.compile(r"@|^\s*[-=_*#~+]{3,}|^\s*(begin \d{3}|M[\x21-\x60]{60})|-----BEGIN|-----END|^\s*Version:")


def _clean_post(body: str) -> list[str]:
    """Paragraphs of a newsgroup post usable as article text: no quoting, attributions, signature, PGP,
    uuencode, ASCII art, e-mail/URL lines or short sign-off lines."""
    body = re.split(r"\n--\s*\n|\n-- ?$|\n_{5,}\s*\n|\n={5,}\s*\n(?=[^\n]*\n?[^\n]*$)", body, maxsplit=1)[0]
    body = re.sub(r"-----BEGIN PGP.*?-----END PGP[^\n]*", "", body, flags=re.S)
    paras = []
    for block in re.split(r"\n\s*\n", body):
        lines = [ln for ln in block.split("\n") if ln.strip() and not _ATTRIB.search(ln) and not _JUNK_LINE.search(ln)]
        if not lines:
            continue
        para = _reflow(" ".join(lines))
        words = para.split()
        letters = sum(ch.isalpha() for ch in para)
        if len(words) < 6 or letters < 0.7 * len(para.replace(" ", "")):
            continue
        if sum(1 for w in words if re.fullmatch(r"[A-Za-z][a-z'’]*[.,;:!?)\"]*", w)) < 0.6 * len(words):
            continue
        paras.append(para)
    return paras


def load_20ng(data: Path) -> list[Article]:
    """20 Newsgroups posts cleaned into articles (Subject without "Re:" as headline)."""
    out = []
    with tarfile.open(data / "20newsgroups-bydate" / "20news-bydate.tar.gz") as t:
        members = sorted((m.name, t.extractfile(m).read()) for m in t if m.isfile())
    for name, raw in members:
        post = raw.decode("utf-8", "replace").replace("\r", "")
        header, _, body = post.partition("\n\n")
        subject = re.search(r"^Subject:\s*(.*)$", header, re.M)
        title = re.sub(r"^(\s*(re|fwd?)\s*:\s*)+", "", subject.group(1), flags=re.I).strip() if subject else ""
        paras = _clean_post(body)
        if paras:
            out.append(Article("20ng:" + name.split("/", 1)[-1], "20ng", _reflow(title), paras))
    return out


LOADERS = {"bbc": load_bbc, "reuters": load_reuters, "20ng": load_20ng}


def load_pool(name: str, data: Path) -> list[Article]:
    """Articles of one pool, exact duplicates (same normalised words) and <25-word texts removed."""
    seen: set[str] = set()
    arts = []
    for a in LOADERS[name](data):
        sig = " ".join(norm_words(" ".join(a.paras)))
        if a.n_words < 25 or sig in seen:
            continue
        seen.add(sig)
        arts.append(a)
    return arts


def shared_ngram_groups(texts: list[str], n: int = 8) -> tuple[np.ndarray, np.ndarray, int]:
    """Which normalised word n-grams each text shares with another text.

    Returns ``(ptr, groups, n_groups)``: the n-grams found in two or more texts are numbered
    ``0..n_groups-1`` and text ``k`` holds ``groups[ptr[k]:ptr[k+1]]``. Two texts share an n-gram iff their
    group lists intersect, so a greedy "no shared n-gram with anything already used" is a mask lookup."""
    vocab: dict[str, int] = {}
    ids: list[int] = []
    owner: list[int] = []
    for k, t in enumerate(texts):
        w = norm_words(t)
        ids.extend(vocab.setdefault(x, len(vocab)) for x in w)
        owner.extend([k] * len(w))
    a = np.asarray(ids, dtype=np.uint64)
    d = np.asarray(owner, dtype=np.int64)
    m = a.shape[0] - n + 1
    h = np.zeros(max(m, 0), dtype=np.uint64)
    for j in range(n):
        h = h * np.uint64(1_000_003) + a[j:j + m] + np.uint64(j + 1)
    valid = d[:m] == d[n - 1:]
    h, dd = h[valid], d[:m][valid]
    order = np.lexsort((dd, h))
    h, dd = h[order], dd[order]
    uniq = np.r_[True, (h[1:] != h[:-1]) | (dd[1:] != dd[:-1])]
    h, dd = h[uniq], dd[uniq]                       # distinct (n-gram, text)
    new_h = np.r_[True, h[1:] != h[:-1]]
    gid = np.cumsum(new_h) - 1
    owners = np.bincount(gid)
    keep = owners[gid] >= 2
    kept_gid = gid[keep]
    remap = np.full(gid[-1] + 1 if gid.shape[0] else 0, -1, dtype=np.int64)
    shared = np.unique(kept_gid)
    remap[shared] = np.arange(shared.shape[0])
    g, o = remap[kept_gid], dd[keep]
    order = np.argsort(o, kind="stable")
    g, o = g[order].astype(np.int32), o[order]
    ptr = np.r_[0, np.cumsum(np.bincount(o, minlength=len(texts)))].astype(np.int64)
    return ptr, g, int(shared.shape[0])


@dataclass
class Library:
    """All articles of the three pools (fixed order) and their shared 8-gram groups; seed-independent."""

    articles: list[Article]
    ptr: np.ndarray
    groups: np.ndarray
    n_groups: int


_LIBRARY: dict[str, Library] = {}


def _cache_dir() -> Path | None:
    env = os.environ.get("DOUBLET_BENCH_CACHE")
    if env is not None:
        return None if env.lower() in ("", "0", "none", "off") else Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "doublet-bench"


def library(data: Path = DATA) -> Library:
    """The article library, from memory, from the disk cache (``$DOUBLET_BENCH_CACHE``, default
    ``~/.cache/doublet-bench``; keyed by generator version and data file sizes/times) or built (~15 s)."""
    key = str(Path(data).resolve())
    if key in _LIBRARY:
        return _LIBRARY[key]
    files = sorted((data / "reuters21578").glob("reut2-*.sgm.gz")) + [
        data / "20newsgroups-bydate" / "20news-bydate.tar.gz", data / "bbc-news" / "bbc.tar.gz"]
    stamp = json.dumps([LIBRARY_VERSION] + [(f.name, f.stat().st_size, int(f.stat().st_mtime)) for f in files])
    cdir = _cache_dir()
    path = cdir / f"reprints-library-{stable_hash(stamp):016x}.pkl" if cdir else None
    lib = None
    if path is not None and path.is_file():
        try:   # plain tuples and arrays in the pickle: loadable whether this file runs as a script or a module
            with open(path, "rb") as f:
                rows, ptr, groups, n_groups = pickle.load(f)
            lib = Library([Article(*r) for r in rows], ptr, groups, n_groups)
        except Exception:  # a damaged or foreign cache is rebuilt
            lib = None
    if lib is None:
        arts = [a for name in ("bbc", "reuters", "20ng") for a in load_pool(name, data)]
        ptr, groups, n_groups = shared_ngram_groups([" ".join([a.title] + a.paras) for a in arts])
        lib = Library(arts, ptr, groups, n_groups)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.part")
            with open(tmp, "wb") as f:
                pickle.dump(([(a.key, a.pool, a.title, a.paras) for a in arts], ptr, groups, n_groups), f,
                            protocol=5)
            os.replace(tmp, path)
    _LIBRARY[key] = lib
    return lib


SIZE_CLASSES = (25, 40, 60, 80, 100, 250)   # lower bounds (words) of the material queues


def size_class(n_words: int) -> int:
    """Index of the largest SIZE_CLASSES bound <= n_words."""
    return max(i for i, lo in enumerate(SIZE_CLASSES) if n_words >= lo)


class Material:
    """The library's articles in this seed's order, each handed out once.

    An article is handed out only if it shares no word 8-gram with any article handed out before (else it
    is dropped: Reuters-21578 re-issues stories, newsgroup posts quote each other), so sources, distractors,
    embedding hosts and filler never share text unless the gold says so. Sources come from the chosen pool
    (``mixed``: any); distractors, hosts and filler prefer the chosen pool and top up from the others when
    it runs out (recorded in ``stats``)."""

    def __init__(self, pool: str, rng: random.Random, data: Path):
        t0 = time.perf_counter()
        self.lib = library(data)
        order = list(range(len(self.lib.articles)))
        rng.shuffle(order)
        self.pool = pool
        # per pool and size class, articles in this seed's order (pop() from the end takes the next one)
        self.queues: dict[str, list[list[int]]] = {n: [[] for _ in SIZE_CLASSES] for n in ("bbc", "reuters", "20ng")}
        self.rank = np.empty(len(order), dtype=np.int64)
        self.rank[order] = np.arange(len(order))
        for k in reversed(order):
            art = self.lib.articles[k]
            self.queues[art.pool][size_class(art.n_words)].append(k)
        self.used = np.zeros(self.lib.n_groups, dtype=bool)
        self.titles = [self.lib.articles[k].title for k in order
                       if 4 <= len(self.lib.articles[k].title.split()) <= 16 and self.lib.articles[k].pool != "20ng"]
        self.stats: dict[str, Any] = dict(library=len(self.lib.articles), shared_8gram_groups=self.lib.n_groups,
                                          per_pool={k: sum(map(len, v)) for k, v in self.queues.items()},
                                          taken=Counter(), topped_up=Counter(), dropped_shared_8gram=0,
                                          load_s=round(time.perf_counter() - t0, 2))
        self.rng = rng

    def _order(self, prefer_chosen: bool) -> list[str]:
        if self.pool == "mixed":
            names = [n for n in ("reuters", "bbc", "20ng") if any(self.queues[n])]
            self.rng.shuffle(names)
            return names
        others = [n for n in ("reuters", "20ng", "bbc") if n != self.pool]
        return [self.pool] + others if prefer_chosen else [self.pool]

    def take(self, purpose: str, min_words: int, strict_pool: bool = False) -> Article | None:
        """The next unused article (in this seed's order) of at least ``min_words`` words (a SIZE_CLASSES
        bound) that shares no 8-gram with any article taken before; None when none is left."""
        lib = self.lib
        first_class = SIZE_CLASSES.index(min_words)
        for name in self._order(not strict_pool):
            qs = self.queues[name][first_class:]
            while True:
                heads = [(self.rank[q[-1]], c) for c, q in enumerate(qs) if q]
                if not heads:
                    break
                k = qs[min(heads)[1]].pop()
                g = lib.groups[lib.ptr[k]:lib.ptr[k + 1]]
                if g.shape[0] and self.used[g].any():
                    self.stats["dropped_shared_8gram"] += 1
                    continue
                self.used[g] = True
                self.stats["taken"][purpose] += 1
                if self.pool != "mixed" and name != self.pool:
                    self.stats["topped_up"][purpose] += 1
                return lib.articles[k]
        return None

    def available(self, min_words: int) -> int:
        """Unused articles of the chosen pool(s) with at least ``min_words`` words (a SIZE_CLASSES bound)."""
        names = ("bbc", "reuters", "20ng") if self.pool == "mixed" else (self.pool,)
        c = SIZE_CLASSES.index(min_words)
        return sum(len(q) for n in names for q in self.queues[n][c:])


# ------------------------------------------------------------------------------------------ sources


Para = tuple[list[str], list[int]]   # tokens and their provenance


@dataclass
class Source:
    """A reprinted text: its words (headline first when ``title``), sentences and paragraphs."""

    idx: int
    key: str
    pool: str
    words: list[str]
    sents: list[tuple[int, int]]
    sent_para: list[int]
    title: bool
    kind: str = "article"          # article / brief / popular
    docs: list[int] = field(default_factory=list)

    def text(self) -> str:
        paras: dict[int, list[str]] = {}
        for (a, b), p in zip(self.sents, self.sent_para):
            paras.setdefault(p, []).extend(self.words[a:b])
        return "\n\n".join(" ".join(w) for w in paras.values())


def split_sentences(tokens: list[str]) -> list[tuple[int, int]]:
    """Sentence ranges of a paragraph's tokens."""
    out, start = [], 0
    for i in range(len(tokens) - 1):
        if ends_sentence(tokens[i], tokens[i + 1]):
            out.append((start, i + 1))
            start = i + 1
    out.append((start, len(tokens)))
    return out


def make_source(idx: int, art: Article, rng: random.Random, kind: str = "article") -> Source:
    """A source from an article: optional headline paragraph, body cut at a sentence end near MAX_SOURCE_WORDS."""
    paras = list(art.paras)
    title = bool(art.title) and rng.random() < P_TITLE and kind != "brief"
    if title:
        paras = [art.title] + paras
    words: list[str] = []
    sents: list[tuple[int, int]] = []
    sent_para: list[int] = []
    for p, para in enumerate(paras):
        toks = para.split()
        ranges = [(0, len(toks))] if (title and p == 0) else split_sentences(toks)
        for a, b in ranges:
            if len(words) + (b - a) > MAX_SOURCE_WORDS and len(words) >= MIN_SOURCE_WORDS:
                break
            sents.append((len(words) + 0, len(words) + (b - a)))
            words.extend(toks[a:b])
            sent_para.append(p)
        else:
            continue
        break
    return Source(idx, art.key, art.pool, words, sents, sent_para, title, kind)


def make_brief(idx: int, art: Article, rng: random.Random) -> Source | None:
    """A 25-60-word brief: the lead sentences of an article (None when they do not fit)."""
    limit = rng.randint(30, 60)
    words: list[str] = []
    sents: list[tuple[int, int]] = []
    for para in art.paras:
        toks = para.split()
        for a, b in split_sentences(toks):
            if len(words) + (b - a) > limit:
                break
            sents.append((len(words), len(words) + b - a))
            words.extend(toks[a:b])
        else:
            continue
        break
    if len(words) < MIN_SHARED:
        return None
    return Source(idx, art.key, art.pool, words, sents, [0] * len(sents), False, "brief")


def paras_of(src: Source, sent_ids: Iterable[int]) -> list[Para]:
    """Paragraphs carrying the given sentences (source paragraphing kept)."""
    out: list[Para] = []
    last = None
    base = src.idx * STRIDE
    for s in sent_ids:
        a, b = src.sents[s]
        if src.sent_para[s] != last:
            out.append(([], []))
            last = src.sent_para[s]
        out[-1][0].extend(src.words[a:b])
        out[-1][1].extend(range(base + a, base + b))
    return out


def body_sents(src: Source) -> list[int]:
    return list(range(1 if src.title else 0, len(src.sents)))


def n_words_of(src: Source, sent_ids: Iterable[int]) -> int:
    return sum(src.sents[s][1] - src.sents[s][0] for s in sent_ids)


def select_excerpt(src: Source, rng: random.Random) -> list[int]:
    """Contiguous sentences: 20-75 % of the article, at least 30 words, half of the time from the lede."""
    body = body_sents(src)
    m = len(body)
    want = max(1, round(m * rng.uniform(0.2, 0.75)))
    a = 0 if rng.random() < 0.5 else rng.randint(0, m - want)
    b = a + want
    while n_words_of(src, body[a:b]) < 30 and (a > 0 or b < m):
        if b < m:
            b += 1
        else:
            a -= 1
    sel = body[a:b]
    if src.title and a == 0 and rng.random() < 0.5:
        sel = [0] + sel
    return sel


def select_scattered(src: Source, rng: random.Random) -> list[int]:
    """A subset of the sentences in source order (30-70 % kept), at least 2 sentences and 30 words."""
    body = body_sents(src)
    p = rng.uniform(0.3, 0.7)
    for _ in range(20):
        sel = [s for s in body if rng.random() < p]
        if len(sel) >= 2 and n_words_of(src, sel) >= 30 and len(sel) < len(body):
            return sel
    return body[: max(2, len(body) // 2)]


def select_passage(src: Source, rng: random.Random, lo: int = 25, hi: int = 120) -> tuple[int, int]:
    """Word range of an embedded passage of ~lo+5..hi words: whole sentences, or (30 %) cut at word
    boundaries inside the first and last sentence."""
    body = body_sents(src)
    target = rng.randint(lo + 5, hi)
    s0 = s1 = rng.randrange(len(body))

    def size() -> int:
        return src.sents[body[s1]][1] - src.sents[body[s0]][0]
    while s1 + 1 < len(body) and size() < target:
        s1 += 1
    while s0 > 0 and size() < lo + 5:
        s0 -= 1
    a, b = src.sents[body[s0]][0], src.sents[body[s1]][1]
    b = min(b, a + hi)
    if rng.random() < 0.3 and b - a > lo + 12:
        a += rng.randint(1, 5)
        b -= rng.randint(0, 5)
    return a, b


def passage_para(src: Source, a: int, b: int) -> Para:
    base = src.idx * STRIDE
    return list(src.words[a:b]), list(range(base + a, base + b))


# ------------------------------------------------------------------------------------------ edits and noise

_SYNONYMS = {
    "said": ["says", "stated", "added"], "says": ["said", "stated"], "company": ["firm", "group"],
    "companies": ["firms", "groups"], "rose": ["climbed", "increased", "gained"], "fell": ["dropped", "declined",
    "slipped"], "increase": ["rise", "gain"], "decrease": ["drop", "fall"], "big": ["large", "major"],
    "large": ["big", "major"], "also": ["too"], "expected": ["forecast", "predicted"], "about": ["around",
    "roughly"], "officials": ["authorities"], "government": ["administration"], "announced": ["unveiled",
    "revealed"], "plans": ["intends"], "but": ["however,", "yet"], "because": ["as", "since"], "told": ["informed"],
    "country": ["nation"], "week": ["weekend"], "new": ["fresh"], "help": ["aid", "assist"], "buy": ["acquire",
    "purchase"], "sell": ["divest"], "market": ["sector"], "strong": ["robust", "solid"], "weak": ["soft", "poor"],
    "very": ["highly", "extremely"], "important": ["key", "crucial"], "show": ["reveal", "indicate"],
    "shows": ["reveals", "indicates"], "think": ["believe"], "start": ["begin"], "started": ["began"],
    "end": ["close"], "quickly": ["rapidly", "swiftly"], "people": ["residents", "citizens"],
    "reported": ["posted", "recorded"], "added": ["noted", "continued"], "however": ["but", "though"],
}
_FILLER_WORDS = ["also", "now", "still", "reportedly", "however", "already", "then", "further", "indeed", "recently",
                 "currently", "again", "officially", "largely", "roughly"]
_SPELLING = {"color": "colour", "favor": "favour", "labor": "labour", "center": "centre", "organization":
             "organisation", "organizations": "organisations", "organize": "organise", "organized": "organised",
             "recognize": "recognise", "recognized": "recognised", "program": "programme", "programs": "programmes",
             "defense": "defence", "license": "licence", "analyze": "analyse", "analyzed": "analysed", "traveled":
             "travelled", "catalog": "catalogue", "gray": "grey", "honor": "honour", "neighbor": "neighbour",
             "neighbors": "neighbours", "behavior": "behaviour", "theater": "theatre", "fiber": "fibre",
             "privatization": "privatisation", "realize": "realise", "realized": "realised", "criticize":
             "criticise", "criticized": "criticised", "apologize": "apologise", "emphasize": "emphasise",
             "favorable": "favourable", "canceled": "cancelled", "modeling": "modelling", "jewelry": "jewellery",
             "tire": "tyre", "tires": "tyres", "aluminum": "aluminium", "percent": "per cent", "authorize":
             "authorise", "authorized": "authorised", "liberalization": "liberalisation", "stabilize": "stabilise",
             "subsidize": "subsidise", "harbor": "harbour", "rumor": "rumour", "rumors": "rumours"}
_SPELLING.update({v: k for k, v in list(_SPELLING.items()) if " " not in v})
_TOKEN_CORE = re.compile(r"^([\"'(\u201c\u2018]*)([A-Za-z][A-Za-z-]*)([^A-Za-z]*)$")


def _swap_core(tok: str, table: dict[str, Any], rng: random.Random | None) -> str | None:
    """``tok`` with its word replaced from ``table`` (case and punctuation kept), or None."""
    m = _TOKEN_CORE.match(tok)
    if not m:
        return None
    pre, core, post = m.groups()
    alt = table.get(core.lower())
    if alt is None:
        return None
    new = rng.choice(alt) if isinstance(alt, list) else alt
    if core[0].isupper():
        new = new[:1].upper() + new[1:]
    return pre + new + post


def edit_paras(paras: list[Para], rate: float, spelling: bool, rng: random.Random) -> tuple[list[Para], int]:
    """Light word edits of the source words: substitutions, deletions, insertions (numbers untouched), and
    with ``spelling`` every British/American variant switched. Edited words get provenance EDIT."""
    n = 0
    out: list[Para] = []
    for toks, prov in paras:
        nt: list[str] = []
        npv: list[int] = []
        for t, p in zip(toks, prov):
            if p >= 0 and spelling:
                alt = _swap_core(t, _SPELLING, None)
                if alt is not None:
                    nt.append(alt)
                    npv.append(EDIT)
                    n += 1
                    continue
            if p >= 0 and rate > 0 and rng.random() < rate and not any(ch.isdigit() for ch in t):
                op = rng.random()
                if op < 0.5:
                    alt = _swap_core(t, _SYNONYMS, rng)
                    if alt is None and _TOKEN_CORE.match(t) and len(t) > 3:
                        alt = rng.choice(_FILLER_WORDS) + (t[-1] if t[-1] in ".,;:" else "")
                    if alt is not None:
                        nt.append(alt)
                        npv.append(EDIT)
                        n += 1
                        continue
                elif op < 0.75 and len(toks) > 3:
                    n += 1
                    continue
                else:
                    nt.extend([t, rng.choice(_FILLER_WORDS)])
                    npv.extend([p, EDIT])
                    n += 1
                    continue
            nt.append(t)
            npv.append(p)
        if nt:
            out.append((nt, npv))
    return out, n


def _cp1252_table() -> list[str]:
    out = []
    for b in range(256):
        try:
            out.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(b))  # undefined cp1252 bytes pass through as Latin-1 (what browsers do)
    return out


class _Mojibake(dict):
    """str.translate table: a non-ASCII character -> its UTF-8 bytes read as cp1252."""

    _cp = _cp1252_table()

    def __missing__(self, code: int) -> str:
        s = "".join(self._cp[b] for b in chr(code).encode("utf-8"))
        self[code] = s
        return s


MOJIBAKE = _Mojibake()
_STRAIGHT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def curly(tok: str) -> str:
    """Typographic quotes for one token."""
    if '"' in tok:
        tok = re.sub(r'^"', "\u201c", tok)
        tok = tok.replace('"', "\u201d")
    if "'" in tok:
        tok = re.sub(r"^'", "\u2018", tok)
        tok = tok.replace("'", "\u2019")
    return tok


def tokens_of(lines: list[str], code: int) -> list[Para]:
    """Boilerplate lines as paragraphs of one provenance code."""
    out = []
    for line in lines:
        toks = line.split()
        if toks:
            out.append((toks, [code] * len(toks)))
    return out


def insert_at(paras: list[Para], items: list[Para], rng: random.Random, first_ok: bool = False) -> list[Para]:
    """``paras`` with each of ``items`` inserted at a random paragraph boundary."""
    out = list(paras)
    for it in items:
        out.insert(rng.randint(0 if first_ok or not out else 1, len(out)), it)
    return out


# ------------------------------------------------------------------------------------------ documents


@dataclass
class Doc:
    """A document being built: its content paragraphs and how it was made; ``finish`` renders it."""

    role: str
    mode: str | None
    sources: list[int]
    site: int = -1
    paras: list[Para] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    prov: np.ndarray | None = None
    starts: np.ndarray | None = None
    ends: np.ndarray | None = None
    id: str = ""


class Stock:
    """Unrelated filler (rewritten ledes, inserted paragraphs, new headlines), each piece used once."""

    def __init__(self, mat: Material, rng: random.Random):
        self.mat, self.rng = mat, rng
        self.sents: list[list[str]] = []
        self.paras: list[list[str]] = []
        self.titles: list[str] = []
        self.used_articles = 0

    def _refill(self, want: str) -> None:
        """Cut the next unused article into sentences *or* paragraphs (never both, so no piece of text is
        handed out twice)."""
        art = self.mat.take("filler", 40)
        if art is None:
            raise RuntimeError("material exhausted (filler); use fewer documents")
        self.used_articles += 1
        if art.title:
            self.titles.append(art.title)
        seen: set[tuple[str, ...]] = set()

        def fresh(toks: list[str]) -> bool:
            """False when the piece repeats 8 words of an earlier piece of the same article."""
            w = norm_words(" ".join(toks))
            grams = {tuple(w[i:i + 8]) for i in range(len(w) - 7)}
            if grams & seen:
                return False
            seen.update(grams)
            return True
        for para in art.paras:
            toks = para.split()
            if want == "para":
                if len(toks) > 90:
                    toks = toks[: split_sentences(toks[:90])[-1][0] or 90]
                if 20 <= len(toks) and fresh(toks):
                    self.paras.append(toks)
            else:
                for a, b in split_sentences(toks):
                    if 8 <= b - a <= 40 and fresh(toks[a:b]):
                        self.sents.append(toks[a:b])

    def sentence(self) -> list[str]:
        while not self.sents:
            self._refill("sent")
        return self.sents.pop()

    def paragraph(self) -> list[str]:
        while not self.paras:
            self._refill("para")
        return self.paras.pop()

    def title(self) -> list[str]:
        while not self.titles:
            self._refill("sent")
        return self.titles.pop(0).split()   # oldest first: not the article whose filler is in use now


def copy_noise(doc: Doc, src: Source, stock: Stock, rng: random.Random, scale: float = 1.0) -> None:
    """Edits, rewritten lede, new headline and inserted paragraphs of a reprint (in place)."""
    info = doc.info
    rate = rng.uniform(0, NOISE["edit_max"]) * scale
    spelling = rng.random() < NOISE["p_spelling"]
    doc.paras, info["n_edits"] = edit_paras(doc.paras, rate, spelling, rng)
    info["edit_rate"] = round(rate, 4)
    info["spelling_switch"] = spelling
    title_end = src.sents[0][1] if src.title else 0
    base = src.idx * STRIDE
    if rng.random() < NOISE["p_intro"] * scale:
        for k, (toks, prov) in enumerate(doc.paras):
            srcw = [p for p in prov if p >= 0]
            if not srcw or srcw[0] - base < title_end:
                continue
            end = next((i + 1 for i in range(len(toks) - 1) if ends_sentence(toks[i], toks[i + 1])), None)
            if end is not None and end < len(toks) - 3:
                new = stock.sentence()
                doc.paras[k] = (new + toks[end:], [INTRO] * len(new) + prov[end:])
                info["intro_rewrite"] = True
            break
    if rng.random() < NOISE["p_retitle"]:
        if src.title and doc.paras and doc.paras[0][1][0] == base:
            doc.paras.pop(0)
        t = stock.title()
        doc.paras.insert(0, (t, [TITLE] * len(t)))
        info["retitled"] = True
    if rng.random() < NOISE["p_insert"] * scale and len(doc.paras) >= 2:
        k = 1 if rng.random() < 0.7 else 2
        items = []
        for _ in range(k):
            p = stock.paragraph()
            items.append((p, [FILL] * len(p)))
        doc.paras = insert_at(doc.paras, items, rng)
        info["inserted_paras"] = k


def strip_foreign(paras: list[Para]) -> list[Para]:
    """Only the source-derived tokens (source words and edits) of a document's content."""
    out = []
    for toks, prov in paras:
        keep = [(t, p) for t, p in zip(toks, prov) if p >= EDIT]
        if any(p >= 0 for _, p in keep):
            out.append(([t for t, _ in keep], [p for _, p in keep]))
    return out


def host_paras(art: Article, rng: random.Random) -> list[Para]:
    """A host (or distractor) article's paragraphs, cut to 120-450 words at a paragraph end."""
    limit = rng.randint(120, 450)
    out: list[Para] = []
    n = 0
    for para in art.paras:
        toks = para.split()
        out.append((toks, [HOST] * len(toks)))
        n += len(toks)
        if n >= limit:
            break
    return out


def embed(host: list[Para], passage: Para, rng: random.Random) -> tuple[list[Para], str]:
    """Put a passage into a host: as its own paragraph (70 %) or glued to the end of a host paragraph."""
    if rng.random() < 0.7 or not host:
        return insert_at(host, [passage], rng, first_ok=True), "paragraph"
    k = rng.randrange(len(host))
    toks, prov = host[k]
    out = list(host)
    out[k] = (toks + passage[0], prov + passage[1])
    return out, "inline"


# ------------------------------------------------------------------------------------------ rendering


def render(doc: Doc, site: tpl.Site, rng: random.Random) -> None:
    """Dress a document with its site's chrome and the page noise, and fix its text and token offsets."""
    info = doc.info
    first = next((t for t, p in doc.paras if p and p[0] >= 0), doc.paras[0][0] if doc.paras else ["story"])
    n_words = sum(len(t) for t, _ in doc.paras)
    page = tpl.new_page(site, rng, first, n_words)
    header, footer, sidebars = tpl.render_page(site, page, len(doc.paras))
    paras = list(doc.paras)
    for at, line in sorted(sidebars, key=lambda x: -x[0]):
        toks = line.split()
        paras.insert(at, (toks, [SIDE] * len(toks)))
    paras = tokens_of(header, HDR) + paras + tokens_of(footer, FTR)
    info["header"], info["footer"], info["sidebar"] = bool(header), bool(footer), bool(sidebars)

    # typography, then mojibake over a contiguous part of the page
    u = rng.random()
    typo = "curly" if u < NOISE["p_curly"] else "straight" if u < NOISE["p_curly"] + NOISE["p_straight"] else None
    if typo:
        fix = curly if typo == "curly" else (lambda t: t.translate(_STRAIGHT))
        paras = [([fix(t) if ("'" in t or '"' in t or not t.isascii()) else t for t in toks], prov)
                 for toks, prov in paras]
    info["typography"] = typo
    moji = rng.random() < NOISE["p_mojibake"]
    if moji:
        a = rng.randrange(len(paras)) if rng.random() < 0.6 else 0
        b = rng.randint(a + 1, len(paras))
        for k in range(a, b):
            toks, prov = paras[k]
            paras[k] = ([t if t.isascii() else t.translate(MOJIBAKE) for t in toks], prov)
        info["mojibake_paras"] = [a, b]
    info["mojibake"] = moji

    psep = site.psep if rng.random() >= NOISE["p_own_psep"] else rng.choice(["\n\n", "\n", " "])
    glue = rng.uniform(0.2, 0.8) if rng.random() < NOISE["p_glue"] else 0.0
    wrap = rng.randint(*NOISE["wrap"]) if rng.random() < NOISE["p_hardwrap"] else 0
    info.update(para_sep=psep, glue_rate=round(glue, 3), hardwrap=wrap)

    pieces: list[str] = []
    prov_all: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = col = 0
    for pi, (toks, prov) in enumerate(paras):
        boiler = prov[0] in BOILERPLATE
        for j, t in enumerate(toks):
            if j == 0:
                sep = psep if pi else ""
            elif glue and not boiler and ends_sentence(toks[j - 1], t) and rng.random() < glue:
                sep = ""
            else:
                sep = " "
            if wrap and sep == " " and col + 1 + len(t) > wrap:
                sep = "\n"
            col = len(t) if "\n" in sep else col + len(sep) + len(t)
            pos += len(sep)
            starts.append(pos)
            pos += len(t)
            ends.append(pos)
            pieces.append(sep)
            pieces.append(t)
            prov_all.extend(prov[j:j + 1])
    doc.text = "".join(pieces)
    doc.prov = np.asarray(prov_all, dtype=np.int64)
    doc.starts = np.asarray(starts, dtype=np.int64)
    doc.ends = np.asarray(ends, dtype=np.int64)
    kinds: Counter[str] = Counter()
    lens = doc.ends - doc.starts
    for code, name in KIND.items():
        c = int(lens[doc.prov == code].sum())
        if c:
            kinds[name] = c
    c = int(lens[doc.prov >= 0].sum())
    if c:
        kinds["src"] = c
    info["chars_by_kind"] = dict(sorted(kinds.items()))


# ------------------------------------------------------------------------------------------ sites


def make_sites(n: int, style: str, networks: float, rng: random.Random, mat: Material) -> list[tpl.Site]:
    """``n`` sites of ``style`` (mixed: nav/prose/hybrid/devlike 3:3:3:1) with Zipf weights; a share
    ``networks`` of them are sister sites sharing a template with another site."""
    bank = [t for t in mat.titles]
    rng.shuffle(bank)
    bank = bank[:3000]
    trunc = []
    for q in mat.queues.values():
        for k in q[3][:60]:
            w = mat.lib.articles[k].paras[0].split()
            trunc.append(" ".join(w[: rng.randint(min(4, len(w)), min(11, len(w)))]))
    sites: list[tpl.Site] = []
    n_net = int(round(networks * n))
    for i in range(n):
        st = style if style != "mixed" else rng.choices(["nav", "prose", "hybrid", "devlike"], [3, 3, 3, 1])[0]
        sites.append(tpl.make_site(i, st, rng, bank, trunc))
    # networks: groups of 2-3 consecutive sites copy the first one's template
    i = 0
    net = 0
    while i < n_net - 1:
        size = min(rng.choice([2, 3]), n_net - i)
        for j in range(i + 1, i + size):
            sites[j] = tpl.sister_site(sites[i], j, rng)
            sites[j].network = net
        sites[i].network = net
        net += 1
        i += size
    order = list(range(n))
    rng.shuffle(order)
    for rank, k in enumerate(order):
        sites[k].weight = 1.0 / (rank + 1) ** 0.8
    return sites


class SitePicker:
    """Weighted site choice, avoiding sites a story already appeared on when possible."""

    def __init__(self, sites: list[tpl.Site], rng: random.Random):
        self.rng = rng
        self.n = len(sites)
        w = np.array([s.weight for s in sites])
        self.cum = np.cumsum(w / w.sum())

    def pick(self, avoid: set[int] | None = None) -> int:
        for _ in range(8):
            k = int(np.searchsorted(self.cum, self.rng.random(), side="right"))
            k = min(k, self.n - 1)
            if not avoid or k not in avoid:
                return k
        return k


# ------------------------------------------------------------------------------------------ plan


@dataclass
class Args:
    out: Path
    docs: int = 3000
    seed: int = 1
    pool: str = "mixed"
    sites: int = 30
    popular: int = 0
    popular_copies: int = 120
    template_style: str = "mixed"
    networks: float = 0.0
    zero_overlap: str = "ignore"
    data: Path = DATA
    check: str = "auto"
    quiet: bool = False


def weighted(rng: random.Random, table: dict[str, float]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


class Builder:
    """Plans and builds all documents of one corpus."""

    def __init__(self, args: Args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.mat = Material(args.pool, random.Random(self.rng.getrandbits(64)), args.data)
        self.stock = Stock(self.mat, random.Random(self.rng.getrandbits(64)))
        self.sites = make_sites(args.sites, args.template_style, args.networks, random.Random(self.rng.getrandbits(64)),
                                self.mat)
        self.picker = SitePicker(self.sites, random.Random(self.rng.getrandbits(64)))
        self.sources: list[Source] = []
        self.docs: list[Doc] = []
        self.notes: dict[str, Any] = {}

    # -- sources
    def new_source(self, kind: str) -> Source | None:
        rng = self.rng
        strict = self.args.pool != "mixed"
        idx = len(self.sources)
        if kind == "brief":
            for _ in range(20):
                art = self.mat.take("brief", MIN_SHARED, strict_pool=strict)
                if art is None:
                    return None
                src = make_brief(idx, art, rng)
                if src is not None:
                    break
            else:
                return None
        else:
            art = self.mat.take("source" if kind != "popular" else "popular", 250 if kind == "popular" else
                                MIN_SOURCE_WORDS, strict_pool=strict)
            if art is None:
                return None
            src = make_source(idx, art, rng, kind)
        self.sources.append(src)
        return src

    def add(self, doc: Doc) -> Doc:
        for s in doc.sources:
            self.sources[s].docs.append(len(self.docs))
        self.docs.append(doc)
        return doc

    # -- documents
    def original(self, src: Source) -> Doc:
        return Doc("original", "original", [src.idx], paras=paras_of(src, range(len(src.sents))))

    def copy(self, src: Source, mode: str, siblings: list[Doc]) -> Doc:
        """One reprint of ``src`` in ``mode`` (content only; site and rendering come later)."""
        rng = self.rng
        info: dict[str, Any] = {}
        if mode == "chain":
            parents = [d for d in siblings if d.mode in ("full", "excerpt", "scattered", "chain", "original")]
            if not parents:
                mode = "full"
            else:
                parent = rng.choice(parents)
                content = strip_foreign(parent.paras)
                if rng.random() < 0.5 and len(content) > 2:
                    a = rng.randrange(len(content) - 1)
                    b = rng.randint(a + 1, len(content))
                    if sum(1 for _, p in content[a:b] for x in p if x >= 0) >= 30:
                        content = content[a:b]
                doc = Doc("copy", "chain", [src.idx], paras=content, info=dict(parent=parent.info["tmp_id"],
                                                                                parent_mode=parent.mode))
                doc.paras, doc.info["n_edits"] = edit_paras(doc.paras, rng.uniform(0, 0.02), False, rng)
                if rng.random() < NOISE["p_insert"] and len(doc.paras) >= 2:
                    p = self.stock.paragraph()
                    doc.paras = insert_at(doc.paras, [(p, [FILL] * len(p))], rng)
                    doc.info["inserted_paras"] = 1
                return doc
        if mode == "brief":
            doc = Doc("copy", "brief", [src.idx], paras=paras_of(src, range(len(src.sents))), info=info)
            if rng.random() < 0.4:
                doc.paras, info["n_edits"] = edit_paras(doc.paras, 1.5 / max(1, len(src.words)), False, rng)
            return doc
        if mode == "embedded":
            a, b = select_passage(src, rng)
            host = self.mat.take("host", 100)
            if host is None:
                raise RuntimeError("material exhausted (hosts)")
            paras, how = embed(host_paras(host, rng), passage_para(src, a, b), rng)
            doc = Doc("copy", "embedded", [src.idx], paras=paras, info=dict(window=[a, b], host=host.key, placed=how))
            doc.paras, doc.info["n_edits"] = edit_paras(doc.paras, rng.uniform(0, 0.02), False, rng)
            return doc
        if mode == "roundup":
            near = self.sources[max(0, src.idx - 30):src.idx + 30]
            others = [s for s in near if s.idx != src.idx and s.kind == "article"]
            picks = rng.sample(others, min(len(others), rng.randint(1, 2)))
            parts: list[Para] = []
            for s in [src] + picks:
                a, b = select_passage(s, rng, 25, 70)
                lead = self.stock.sentence()
                parts.append((lead, [INTRO] * len(lead)))
                parts.append(passage_para(s, a, b))
            doc = Doc("copy", "roundup", [src.idx] + [s.idx for s in picks], paras=parts,
                      info=dict(roundup_sources=[s.key for s in [src] + picks]))
            return doc
        if mode == "full":
            sel = list(range(len(src.sents)))
            if src.title and rng.random() < 0.4:
                sel = sel[1:]
        elif mode == "excerpt":
            sel = select_excerpt(src, rng)
        elif mode == "scattered":
            sel = select_scattered(src, rng)
        else:
            raise ValueError(mode)
        doc = Doc("copy", mode, [src.idx], paras=paras_of(src, sel), info=dict(src_sents=len(sel)))
        copy_noise(doc, src, self.stock, rng, scale=0.6 if mode == "full" else 1.0)
        return doc

    def cluster(self, src: Source, n_copies: int, with_original: bool, modes: dict[str, float]) -> int:
        """The original (maybe) and ``n_copies`` reprints of one source; returns documents made."""
        made: list[Doc] = []
        used_sites: set[int] = set()

        def stage(d: Doc, avoid: set[int] | None) -> None:
            d.site = self.picker.pick(avoid)
            used_sites.add(d.site)
            d.info["tmp_id"] = len(self.docs) + len(made)   # its index once added (chain parents refer to it)
            made.append(d)
        if with_original:
            stage(self.original(src), None)
        for _ in range(n_copies):
            mode = "brief" if src.kind == "brief" else weighted(self.rng, modes)
            stage(self.copy(src, mode, made), used_sites)
        for d in made:
            self.add(d)
        return len(made)

    def plan(self) -> list[tuple[Source, int, bool, dict[str, float]]]:
        """All stories up front (so the chosen pool goes to sources before hosts and filler take from it):
        ``(source, copies, with original, mode mix)``. Popular stories first; then ordinary ones until the
        cluster budget (all documents but the distractor share) is planned. When the chosen pool has too
        few articles for the corpus size, stories get proportionally more copies (up to x3)."""
        a, rng = self.args, self.rng
        plans: list[tuple[Source, int, bool, dict[str, float]]] = []
        budget = a.docs
        for _ in range(a.popular):
            src = self.new_source("popular")
            if src is None:
                raise RuntimeError("no source left for a popular story")
            n = max(2, int(round(a.popular_copies * rng.uniform(0.85, 1.15))))
            n = min(n, max(1, budget - 1))
            plans.append((src, n, True, POPULAR_MODES))
            budget -= n + 1
        cluster_budget = budget - int(round(DISTRACTOR_SHARE * budget))
        mean = P_ORIGINAL + sum((k + 1) * w for k, w in enumerate(N_COPIES))
        avail = self.mat.available(MIN_SOURCE_WORDS)
        scale = min(3.0, max(1.0, cluster_budget / mean / max(1.0, 0.85 * avail)))
        self.notes["copies_scale"] = round(scale, 3)
        planned = 0
        while cluster_budget - planned >= 2:
            src = self.new_source("brief" if rng.random() < P_BRIEF else "article")
            if src is None:
                break
            n_copies = 1 + rng.choices(range(len(N_COPIES)), N_COPIES)[0]
            if scale > 1:
                n_copies = max(1, int(round(n_copies * scale * rng.uniform(0.8, 1.2))))
            with_orig = rng.random() < P_ORIGINAL
            n_copies = min(n_copies, cluster_budget - planned - int(with_orig))
            plans.append((src, n_copies, with_orig, COPY_MODES))
            planned += n_copies + int(with_orig)
        self.notes["sources_short_of_budget"] = max(0, cluster_budget - planned)
        return plans

    def build(self) -> None:
        """Plan the stories, make their documents, fill up with distractors, render, shuffle and name."""
        a, rng = self.args, self.rng
        for src, n_copies, with_orig, modes in self.plan():
            self.cluster(src, n_copies, with_orig, modes)
        n_dis = a.docs - len(self.docs)
        for _ in range(n_dis):
            art = self.mat.take("distractor", 60)
            if art is None:
                raise RuntimeError("material exhausted (distractors); use fewer documents or another pool")
            paras = [(t, [DIS] * len(t)) for t in (p.split() for p in art.paras)]
            if art.title and rng.random() < 0.6:
                t = art.title.split()
                paras.insert(0, (t, [DIS] * len(t)))
            d = Doc("distractor", None, [], site=self.picker.pick(), paras=paras, info=dict(article=art.key))
            self.add(d)
        for d in self.docs:
            render(d, self.sites[d.site], random.Random(rng.getrandbits(64)))
        order = list(range(len(self.docs)))
        rng.shuffle(order)
        for new, k in enumerate(order):
            self.docs[k].id = f"h{new:06d}"
        for d in self.docs:
            if "parent" in d.info:
                d.info["parent"] = self.docs[d.info["parent"]].id


# ------------------------------------------------------------------------------------------ gold


class Grams:
    """Word 5-gram hash sets of documents (for jaccard5/containment5), computed on demand."""

    def __init__(self, docs: list[Doc]):
        self.docs = docs
        self.cache: dict[int, np.ndarray] = {}

    def __call__(self, k: int) -> np.ndarray:
        if k not in self.cache:
            self.cache[k] = np.unique(ngram_hashes(word_hashes(self.docs[k].text)[0], 5))
        return self.cache[k]

    def scores(self, i: int, j: int) -> tuple[float, float]:
        a, b = self(i), self(j)
        if not a.shape[0] or not b.shape[0]:
            return 0.0, 0.0
        inter = np.intersect1d(a, b, assume_unique=True).shape[0]
        return inter / (a.shape[0] + b.shape[0] - inter), inter / min(a.shape[0], b.shape[0])


def pair_spans(is_word: np.ndarray, pos_a: np.ndarray, pos_b: np.ndarray, da: Doc, db: Doc, fca: np.ndarray,
               fcb: np.ndarray) -> tuple[int, list[list[int]]]:
    """Shared source words and spans of two documents of one source (positions: token index per source
    token, -1 when absent or edited). Only tokens with a letter or digit count as words ("--", "(" do not),
    but spans run over every shared token."""
    sh = np.flatnonzero((pos_a >= 0) & (pos_b >= 0))
    if not sh.shape[0]:
        return 0, []
    pa, pb = pos_a[sh], pos_b[sh]
    brk = ((np.diff(sh) > EDIT_GAP + 1) | (np.diff(fca[pa]) != 0) | (np.diff(fcb[pb]) != 0)
           | (np.diff(pa) <= 0) | (np.diff(pb) <= 0))
    cuts = np.flatnonzero(brk) + 1
    first = np.r_[0, cuts]
    last = np.r_[cuts, sh.shape[0]] - 1
    spans = [[int(da.starts[pa[s]]), int(da.ends[pa[e]]), int(db.starts[pb[s]]), int(db.ends[pb[e]])]
             for s, e in zip(first.tolist(), last.tolist())]
    return int(is_word[sh].sum()), spans


def compute_gold(b: Builder, zero_overlap: str) -> tuple[list[dict], list[dict], dict[tuple[int, int], Any]]:
    """Gold pairs, ignore pairs and (for the self-check) the shared source words of each gold pair."""
    docs = b.docs
    fc = {}
    acc: dict[tuple[int, int], list[tuple[int, int, list[list[int]], np.ndarray]]] = {}
    for src in b.sources:
        members = sorted(set(src.docs))
        if len(members) < 2:
            continue
        L = len(src.words)
        base = src.idx * STRIDE
        is_word = np.fromiter((bool(_WORDCHAR.search(w)) for w in src.words), dtype=bool, count=L)
        pos = np.full((len(members), L), -1, dtype=np.int64)
        for r, k in enumerate(members):
            d = docs[k]
            if k not in fc:
                fc[k] = np.cumsum(d.prov <= HOST)
            sel = np.flatnonzero((d.prov >= base) & (d.prov < base + L))
            pos[r, d.prov[sel] - base] = sel
        present = (pos >= 0).astype(np.int32)
        counts = (present * is_word) @ present.T
        for r1 in range(len(members)):
            for r2 in range(r1 + 1, len(members)):
                i, j = members[r1], members[r2]
                key = (i, j) if docs[i].id < docs[j].id else (j, i)
                if counts[r1, r2] == 0:
                    acc.setdefault(key, [])
                    continue
                x, y = (r1, r2) if key[0] == i else (r2, r1)
                n, spans = pair_spans(is_word, pos[x], pos[y], docs[key[0]], docs[key[1]], fc[key[0]], fc[key[1]])
                shared_idx = np.flatnonzero((pos[x] >= 0) & (pos[y] >= 0))
                acc.setdefault(key, []).append((src.idx, n, spans, shared_idx))
    grams = Grams(docs)
    gold, ignore = [], []
    shared_words: dict[tuple[int, int], Any] = {}
    for key in sorted(acc, key=lambda k: (docs[k[0]].id, docs[k[1]].id)):
        parts = acc[key]
        da, db = docs[key[0]], docs[key[1]]
        total = sum(p[1] for p in parts)
        if total >= MIN_SHARED:
            main = max(parts, key=lambda p: p[1])
            spans = sorted(s for p in parts for s in p[2])
            j5, c5 = grams.scores(*key)
            shared_words[key] = [(p[0], p[3], p[2]) for p in parts]
            gold.append(dict(a=da.id, b=db.id, shared_words=total, spans=spans,
                             shared_sents=_shared_sents(b, shared_words[key]), source=b.sources[main[0]].key,
                             mode_a=da.mode, mode_b=db.mode, jaccard5=round(j5, 4), containment5=round(c5, 4)))
        elif total > 0:
            ignore.append(dict(a=da.id, b=db.id, shared_words=total, reason="small_overlap"))
        elif zero_overlap == "ignore":
            ignore.append(dict(a=da.id, b=db.id, shared_words=0, reason="same_source_no_overlap"))
    return gold, ignore, shared_words


def _shared_sents(b: Builder, parts: list[tuple[int, np.ndarray, Any]]) -> int:
    n = 0
    for s, idx, _ in parts:
        starts = np.array([a for a, _ in b.sources[s].sents])
        n += np.unique(np.searchsorted(starts, idx, side="right")).shape[0]
    return int(n)


def clusters_of(ids: list[str], pairs: list[dict]) -> dict[str, str]:
    """Connected components of the gold pairs, named by their smallest id (singletons included)."""
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for p in pairs:
        ra, rb = find(p["a"]), find(p["b"])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {i: find(i) for i in ids}


# ------------------------------------------------------------------------------------------ self-check


def _is_subsequence(needle: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(w in it for w in needle)


def check_spans(b: Builder, gold: list[dict], shared: dict[tuple[int, int], Any], limit: int | None,
                rng: random.Random) -> dict[str, Any]:
    """The normalised shared source words must be a subsequence of each span's words on both sides; spans
    start and end on shared words and are dense. Returns counts; raises on a failure."""
    by_id = {d.id: k for k, d in enumerate(b.docs)}
    pick = list(range(len(gold)))
    if limit is not None and len(pick) > limit:
        pick = sorted(rng.sample(pick, limit))
    norm_src: dict[int, list[list[str]]] = {}
    words_total = words_shared = 0
    for gi in pick:
        ka, kb = by_id[gold[gi]["a"]], by_id[gold[gi]["b"]]
        da, db = b.docs[ka], b.docs[kb]
        for s, idx, spans in shared[(ka, kb)]:
            if s not in norm_src:
                norm_src[s] = [norm_words(w) for w in b.sources[s].words]
            nw = norm_src[s]
            base = s * STRIDE
            for side, d in ((0, da), (1, db)):
                for sp in spans:
                    st, en = sp[2 * side], sp[2 * side + 1]
                    lo = int(np.searchsorted(d.starts, st))
                    hi = int(np.searchsorted(d.ends, en, side="right"))
                    tp = d.prov[lo:hi]
                    tp = tp[(tp >= base) & (tp < base + STRIDE)] - base
                    want_idx = tp[np.isin(tp, idx)].tolist()
                    want = [w for i in want_idx for w in nw[i]]
                    got = norm_words(d.text[st:en])
                    if not want and not got:      # a lone punctuation token ("-", "&") between breaks
                        continue
                    if not want or not _is_subsequence(want, got):
                        raise AssertionError(f"span words differ: {d.id} {sp} {want[:12]} / {got[:12]}")
                    w0, w1 = nw[want_idx[0]], nw[want_idx[-1]]
                    if got[:len(w0)] != w0 or got[len(got) - len(w1):] != w1:
                        raise AssertionError(f"span not tight: {d.id} {sp}")
                    words_total += len(got)
                    words_shared += len(want)
    density = words_shared / max(1, words_total)
    if density < 0.8:
        raise AssertionError(f"spans not dense: {density:.3f} of span words are shared source words")
    return dict(pairs_checked=len(pick), span_words=words_total, shared_words=words_shared,
                density=round(density, 4))


def check_leaks(b: Builder, ns: tuple[int, ...] = (8, 16)) -> dict[int, dict[str, Any]]:
    """Normalised word n-grams of content text (source words, hosts, filler, distractors; not boilerplate
    or edits) shared by documents must be the same source's text. Per n: count and a few examples."""
    n_src = len(b.sources)
    content = np.array([HOST, FILL, INTRO, DIS, TITLE])
    hs, labs, docs, where = [], [], [], []
    for k, d in enumerate(b.docs):
        h, st = word_hashes(d.text)
        tok = np.searchsorted(d.starts, st, side="right") - 1
        p = d.prov[tok]
        lab = np.where(p >= 0, p // STRIDE, np.where(np.isin(p, content), n_src + k, -1))
        hs.append(h)
        labs.append(lab)
        docs.append(np.full(h.shape[0], k, dtype=np.int64))
        where.append(st)
    h_all, lab, dn, st_all = (np.concatenate(x) for x in (hs, labs, docs, where))
    out: dict[int, dict[str, Any]] = {}
    for n in ns:
        g = ngram_hashes(h_all, n)
        m = g.shape[0]
        ok = lab[:m] >= 0
        for j in range(1, n):                 # one label and one document throughout the window
            ok &= (lab[j:j + m] == lab[:m]) & (dn[j:j + m] == dn[:m])
        pos = np.flatnonzero(ok)
        g, lb = g[ok], lab[:m][ok]
        order = np.lexsort((lb, g))
        gs, ls, ps = g[order], lb[order], pos[order]
        first = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]]) if gs.shape[0] else np.empty(0, dtype=np.int64)
        bad = first[np.minimum.reduceat(ls, first) != np.maximum.reduceat(ls, first)] if first.shape[0] else first
        examples = []
        for i in bad[:5].tolist():
            k0 = int(dn[ps[i]])
            examples.append(" ".join(norm_words(b.docs[k0].text[int(st_all[ps[i]]):])[:n]))
        out[n] = dict(leak_ngrams=int(bad.shape[0]), examples=examples)
    return out


# ------------------------------------------------------------------------------------------ output


def _jsonl(path: Path, rows: Iterable[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def doc_meta(b: Builder, d: Doc) -> dict[str, Any]:
    site = b.sites[d.site]
    src = b.sources[d.sources[0]] if d.sources else None
    m: dict[str, Any] = dict(id=d.id, role=d.role, source=src.key if src else None, mode=d.mode,
                             chars=len(d.text), site=d.site, header=d.info["header"], footer=d.info["footer"],
                             sidebar=d.info["sidebar"], style=site.style, lang=site.lang, network=site.network)
    if src is not None:
        m["source_kind"] = src.kind
        m["src_words"] = int((d.prov >= 0).sum())
        m["n_src_words"] = len(src.words)
    if len(d.sources) > 1:
        m["sources"] = [b.sources[s].key for s in d.sources]
    skip = {"tmp_id", "header", "footer", "sidebar"}
    m.update({k: v for k, v in d.info.items() if k not in skip})
    return m


def write(b: Builder, gold: list[dict], ignore: list[dict], checks: dict[str, Any], t0: float) -> dict[str, Any]:
    out = b.args.out
    out.mkdir(parents=True, exist_ok=True)
    docs = sorted(b.docs, key=lambda d: d.id)
    _jsonl(out / "corpus.jsonl", ({"id": d.id, "text": d.text} for d in docs))
    _jsonl(out / "gold_pairs.jsonl", gold)
    _jsonl(out / "ignore_pairs.jsonl", ignore)
    ids = [d.id for d in docs]
    cl = clusters_of(ids, gold)
    _jsonl(out / "gold_clusters.jsonl", ({"id": i, "cluster": cl[i]} for i in ids))
    _jsonl(out / "doc_meta.jsonl", (doc_meta(b, d) for d in docs))
    _jsonl(out / "sources.jsonl", ({"source": s.key, "kind": s.kind, "pool": s.pool, "text": s.text()}
                                   for s in b.sources))
    sizes = Counter(Counter(cl.values()).values())
    jb = Counter()
    for g in gold:
        j = g["jaccard5"]
        jb["<0.2" if j < .2 else "0.2-0.4" if j < .4 else "0.4-0.6" if j < .6 else "0.6-0.8" if j < .8 else ">=0.8"] += 1
    noise = Counter()
    for d in b.docs:
        i = d.info
        for k in ("header", "footer", "sidebar", "mojibake", "intro_rewrite", "retitled", "spelling_switch"):
            noise[k] += bool(i.get(k))
        noise["typography_" + str(i.get("typography"))] += 1
        noise["glued"] += i.get("glue_rate", 0) > 0
        noise["hardwrap"] += i.get("hardwrap", 0) > 0
        noise["inserted_paras"] += i.get("inserted_paras", 0)
        noise["para_sep_" + repr(i["para_sep"])] += 1
    a = b.args
    meta = dict(
        generator=GENERATOR, version=VERSION,
        args=dict(out=str(a.out), docs=a.docs, seed=a.seed, pool=a.pool, sites=a.sites, popular=a.popular,
                  popular_copies=a.popular_copies, template_style=a.template_style, networks=a.networks,
                  zero_overlap=a.zero_overlap, data=str(a.data), min_shared_words=MIN_SHARED),
        params=dict(copy_modes=COPY_MODES, popular_modes=POPULAR_MODES, n_copies=N_COPIES, p_original=P_ORIGINAL,
                    p_brief=P_BRIEF, p_title=P_TITLE, distractor_share=DISTRACTOR_SHARE, edit_gap=EDIT_GAP,
                    min_source_words=MIN_SOURCE_WORDS, max_source_words=MAX_SOURCE_WORDS, noise=NOISE),
        counts=dict(
            docs=len(docs), roles=dict(sorted(Counter(d.role for d in docs).items())),
            copy_modes=dict(sorted(Counter(d.mode for d in docs if d.role == "copy").items())),
            sources=len(b.sources), source_kinds=dict(Counter(s.kind for s in b.sources)),
            gold_pairs=len(gold), ignore_pairs=dict(Counter(r["reason"] for r in ignore)),
            gold_pair_modes=dict(sorted(Counter("|".join(sorted([g["mode_a"], g["mode_b"]])) for g in gold).items())),
            gold_clusters_nonsingleton=sum(v for k, v in sizes.items() if k > 1),
            cluster_size_hist={str(k): v for k, v in sorted(sizes.items())},
            jaccard5_buckets=dict(sorted(jb.items())), noise=dict(sorted(noise.items())),
            site_styles=dict(Counter(s.style for s in b.sites)),
            docs_per_site=sorted(Counter(d.site for d in docs).values(), reverse=True),
        ),
        pool=dict(b.mat.stats, taken=dict(b.mat.stats["taken"]), topped_up=dict(b.mat.stats["topped_up"]),
                  stock_articles=b.stock.used_articles, **b.notes),
        self_check=checks,
        sites=[tpl.describe(s) for s in b.sites],
        runtime_s=round(time.perf_counter() - t0, 2),
    )
    with open(out / "meta.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)
    return meta


def generate(args: Args) -> dict[str, Any]:
    """Build, check and write one corpus; returns its meta.json content."""
    t0 = time.perf_counter()
    if args.docs < 50:
        raise ValueError("--docs must be at least 50")
    b = Builder(args)
    b.build()
    t_build = time.perf_counter() - t0
    gold, ignore, shared = compute_gold(b, args.zero_overlap)
    t_gold = time.perf_counter() - t0 - t_build
    checks: dict[str, Any] = dict(build_s=round(t_build, 2), gold_s=round(t_gold, 2))
    if not args.quiet:
        print(f"make_reprints: built {len(b.docs):,} docs in {t_build:.1f} s, gold in {t_gold:.1f} s",
              file=sys.stderr)
    gk = {(g["a"], g["b"]) for g in gold}
    ik = {(r["a"], r["b"]) for r in ignore}
    assert not gk & ik, "gold and ignore pairs overlap"
    assert all(g["a"] < g["b"] for g in gold) and all(r["a"] < r["b"] for r in ignore)
    assert len({d.id for d in b.docs}) == len(b.docs) == args.docs, "document count or ids wrong"
    if args.check != "none":
        limit = None if args.check == "all" else 5_000
        t1 = time.perf_counter()
        checks["spans"] = check_spans(b, gold, shared, limit, random.Random(args.seed))
        # a shared 8-gram can arise by chance where scattered sentences meet ("... wait and see. I ..."),
        # so 8-grams are only reported; a shared run of 16 words would be unlabelled reuse
        leaks = check_leaks(b, (8, 16))
        checks["leaks_8"], checks["leaks_16"] = leaks[8], leaks[16]
        if leaks[16]["leak_ngrams"]:
            raise AssertionError(f"unlabelled reuse between documents: {leaks[16]}")
        checks["check_s"] = round(time.perf_counter() - t1, 2)
    return write(b, gold, ignore, checks, t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pool", choices=["bbc", "reuters", "20ng", "mixed"], default="mixed")
    ap.add_argument("--sites", type=int, default=30)
    ap.add_argument("--popular", type=int, default=0, help="stories reprinted ~--popular-copies times each")
    ap.add_argument("--popular-copies", type=int, default=120)
    ap.add_argument("--template-style", choices=["nav", "prose", "hybrid", "mixed", "devlike"], default="mixed")
    ap.add_argument("--networks", type=float, default=0.0, help="share of sites that are sister sites (shared chrome)")
    ap.add_argument("--zero-overlap", choices=["ignore", "negative"], default="ignore",
                    help="same-source pairs sharing no word: ignore pairs (as the dev sets) or negatives")
    ap.add_argument("--data", type=Path, default=DATA, help=f"shared data folder (default {DATA}; env DOUBLET_SHARED)")
    ap.add_argument("--check", choices=["auto", "all", "none"], default="auto",
                    help="self-check of spans (auto: a sample of 5,000 gold pairs) and of unlabelled reuse")
    ns = ap.parse_args(argv)
    if not (ns.data / "reuters21578").is_dir():
        print(f"error: shared data not found at {ns.data}", file=sys.stderr)
        return 2
    args = Args(**vars(ns))
    meta = generate(args)
    c = meta["counts"]
    print(f"make_reprints: {c['docs']:,} docs ({c['roles']}), {c['gold_pairs']:,} gold pairs, "
          f"{sum(c['ignore_pairs'].values()):,} ignore pairs, {len(meta['sites'])} sites "
          f"{c['site_styles']} -> {args.out} in {meta['runtime_s']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
