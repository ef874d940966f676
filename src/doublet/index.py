"""The persistent, incremental index: add documents in any number of batches, then ask of any text "has this,
or part of this, been seen before — where?".

An index is a folder holding one SQLite database in WAL mode (``index.sqlite``, with its ``-wal``/``-shm``
companions while in use) and a writer lock file (``writer.lock``). No server runs; any number of processes
may read while one adds.

Python API
----------
>>> from doublet.index import Index
>>> idx = Index.create("news.idx")                  # or Index.create(path, Config(threshold=0.8))
>>> idx.add([("a", text_a), ("b", text_b)])        # -> AddReport(added, replaced, unchanged, problems)
>>> idx.add_files(["more.jsonl.gz"])               # the same readers and bad-record rules as ``doublet find``
>>> idx.search(some_text)                          # -> [Match(query, match, kind, jaccard, containment_query,
...                                                #            containment_match, passages)]
>>> idx.get("a")                                   # -> IndexedDocument(id, text, chars, words, added, updated)
>>> idx.cluster("a")                               # -> IndexCluster(id, cluster, members, pairs, ...)
>>> idx.pairs()                                    # every reporting pair among indexed documents (= find's)
>>> idx.stats(); idx.check(); idx.close()          # also a context manager

``Index.open(path)`` opens an existing index (``create=True`` creates it if absent). The :class:`Config` given
to :meth:`Index.create` is stored in the index and used for every later operation; opening with a Config that
differs in any algorithmic parameter (everything but ``workers``, ``memory_limit``, ``tmp_dir``) is refused.

What an answer means
--------------------
The index answers exactly what ``doublet find`` would answer on the indexed corpus, computed by the engine's
own stage functions (:func:`doublet.analysis.fingerprint_batch`, :func:`doublet.minhash.band_keys`,
:func:`doublet.candidates.supported_pairs`, :func:`doublet.analysis.prepare` and
:func:`doublet.analysis.compare_prepared`, :func:`doublet.cluster.cluster_ids`) with the index's *current*
document frequencies:

* **candidates** — documents sharing an LSH bucket (a bucket of more than ``max_bucket`` documents pairs
  only with its first-added member, as find's star does), or sharing at least ``min_shared`` fingerprints
  whose document frequency is 2..``max_df``, spread over at least ``min_passage_words`` words in one of them;
* **boilerplate** — fingerprints held by more than ``max_df`` documents: they propose nothing and are masked
  out of alignment;
* **verdict and passages** — exact Jaccard/containment and alignment, compared in id order like find.

So :meth:`Index.pairs` after adding corpus X (in any number of batches, in X's order) equals find's
``pairs.jsonl`` on X, and :meth:`Index.search` of one of X's documents gives exactly find's pairs of that
document. A query that is *not* an indexed document (another id, or the same id with other text) is answered
as if it had been added: its fingerprints count once more in the document frequencies and it joins the LSH
buckets, so the answer equals find's on the corpus plus the query. It is never added by a search. A query
with the id *and* text of an indexed document is that document (not matched with itself).

Adding
------
:meth:`Index.add` classifies each document by id: **added** (new id), **unchanged** (same id, same text: a
no-op), **replaced** (same id, new text: its old rows are removed and the document frequencies updated; it
keeps its place in the order of addition). Records that are not documents (empty text, no id, duplicate id
within one call, ...) are rejected by the same rules as ``doublet find`` and listed in
:attr:`AddReport.problems`. Fingerprinting runs in ``workers`` processes; documents are written in
transactions of ``batch_size`` documents, each holding whole documents with all their rows, so a process
killed at any moment leaves whole documents or nothing: re-running the same add ends with exactly the
intended documents (the ones already there are "unchanged").

Concurrency
-----------
Readers use WAL snapshots: every search, pairs, cluster, stats or check call sees one committed state, even
while another process adds. One writer at a time: :meth:`Index.add` takes ``writer.lock`` (waiting up to
``lock_timeout`` seconds) and otherwise raises :class:`IndexBusy` ("another process is adding to this index;
retry later"). An :class:`Index` object serialises its own calls and may be shared by threads, but an add
holds it for its whole duration: a service that answers queries while adding should give the writer its own
:class:`Index` (one SQLite connection each; they are cheap).

Schema (SQLite)
---------------
Ids and texts are stored as UTF-8 BLOBs (``surrogatepass``, so every Python string round-trips); hashes as
signed 64-bit integers (the uint64 bits).

============  ================================================================================================
``meta``      ``key``, ``value``: format, config (JSON), doublet version, kernel probe, created, generation
``docs``      ``doc`` (INTEGER PRIMARY KEY, order of first addition), ``id`` (UNIQUE), ``sha`` (blake2b-128 of
              the text), ``chars``, ``words``, ``fps`` (the distinct fingerprint hashes, int64 ascending),
              ``bands`` (the LSH band keys; empty when the text has no words), ``added``, ``updated``
``texts``     ``doc`` (INTEGER PRIMARY KEY), ``body`` (the text exactly as read)
``fp``        ``(hash, doc)``, primary key, and ``pos`` (the word where the fingerprint first starts in the
              document) — one row per distinct fingerprint of each document
``df``        ``hash`` (primary key), ``n`` = rows of ``fp`` with that hash; partial index ``df_boilerplate``
              on the hashes with ``n > max_df``
``band``      ``(key, doc)``, primary key — one row per LSH band of each document with words
============  ================================================================================================

``meta.generation`` grows with every committed write; readers use it to invalidate their caches.

``doublet index query`` output
------------------------------
``OUT/matches.jsonl``: one line per (query document, indexed document) reusing pair, queries in input order
and their matches by decreasing ``containment_query``::

    {"query": id, "match": id, "kind": "near-duplicate"|"reuse", "jaccard", "containment_query",
     "containment_match", "passages": [{"query_start", "query_end", "match_start", "match_end"}]}

``containment_query`` is the share of the query's word 5-grams found in the match; offsets are ``str``
indices into the query's and the match's texts as read. ``OUT/summary.json`` has counts, timings and every
rejected input record.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .analysis import PairResult, Prepared, compare_prepared, fingerprint_batch, prepare
from .candidates import pair_keys, ranges, split_keys, supported_pairs
from .cluster import cluster_ids
from .config import Config
from .documents import Document, InputProblem, documents_from_items, read_documents
from .minhash import band_keys
from .progress import NullProgress, Progress

__all__ = [
    "AddReport", "CheckReport", "DoubletIndexError", "Index", "IndexBusy", "IndexCluster", "IndexConfigMismatch",
    "IndexIncompatible", "IndexNotFound", "IndexedDocument", "Match", "MatchPassage",
]

FORMAT = 2  # 2: fingerprint positions (fp.pos), for the candidate rule's spread test
DB_NAME = "index.sqlite"
LOCK_NAME = "writer.lock"
EXECUTION_FIELDS = frozenset({"workers", "memory_limit", "tmp_dir", "extra"})
"""Config fields that only say how to run, not what to compute: they may differ from the stored Config."""

BATCH_SIZE = 1000  # documents per write transaction
_QUERY_BATCH = 1000  # queries whose candidates are looked up together
_IN_CHUNK = 4000  # values per ``IN (...)`` list
_CACHE_DOCS = 4096  # prepared documents kept between calls
_WAL_PAGES_WHILE_ADDING = 16384  # checkpoint every ~64 MB of WAL during an add (default: ~4 MB)
_CREATING = ".creating"
_ROWS_PER_INSERT = 500  # rows per multi-row INSERT statement
_PROBE = ("The kernel probe: doublet's fingerprints of this text must not change, or stored hashes lose their "
          "meaning. Ünïcödé, ﬁ ligatures, Кириллица, 漢字かな交じり文, 123 456, e-mail a@b.c, "
          "http://example.com/x — and a word hyphen-\nated across a line.")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE docs (
    doc INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    sha BLOB NOT NULL,
    chars INTEGER NOT NULL,
    words INTEGER NOT NULL,
    fps BLOB NOT NULL,
    bands BLOB NOT NULL,
    added REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE texts (doc INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE fp (hash INTEGER NOT NULL, doc INTEGER NOT NULL, pos INTEGER NOT NULL, PRIMARY KEY (hash, doc))
    WITHOUT ROWID;
CREATE TABLE df (hash INTEGER PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX df_boilerplate ON df (hash) WHERE n > {max_df};
CREATE TABLE band (key INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (key, doc)) WITHOUT ROWID;
"""


# ------------------------------------------------------------------------------------------ errors

class DoubletIndexError(Exception):
    """Something about an index that the user must fix or wait for."""


class IndexNotFound(DoubletIndexError, FileNotFoundError):
    """No index at the path given."""


class IndexConfigMismatch(DoubletIndexError, ValueError):
    """The index was created with other parameters than the ones given."""


class IndexIncompatible(DoubletIndexError):
    """The index was written in another format, or by a doublet whose fingerprints differ."""


class IndexBusy(DoubletIndexError):
    """Another process holds the writer lock."""


# ------------------------------------------------------------------------------------------ results

@dataclass(frozen=True, slots=True)
class MatchPassage:
    """``query_text[query_start:query_end]`` is reused as ``match_text[match_start:match_end]``."""

    query_start: int
    query_end: int
    match_start: int
    match_end: int

    def to_dict(self) -> dict[str, int]:
        return {"query_start": self.query_start, "query_end": self.query_end,
                "match_start": self.match_start, "match_end": self.match_end}


@dataclass(frozen=True, slots=True)
class Match:
    """An indexed document that a query reuses (or is a near-duplicate of), with the reused passages."""

    query: str
    match: str
    kind: str  # "near-duplicate" | "reuse"
    jaccard: float
    containment_query: float  # share of the query's word shingles found in the match
    containment_match: float  # share of the match's word shingles found in the query
    passages: tuple[MatchPassage, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "match": self.match, "kind": self.kind, "jaccard": round(self.jaccard, 4),
                "containment_query": round(self.containment_query, 4),
                "containment_match": round(self.containment_match, 4),
                "passages": [p.to_dict() for p in self.passages]}

    @staticmethod
    def from_pair(pair: PairResult, query: str, query_is_a: bool) -> Match:
        if query_is_a:
            match, cq, cm = pair.b, pair.containment_a, pair.containment_b
            ps = [MatchPassage(p.a_start, p.a_end, p.b_start, p.b_end) for p in pair.passages]
        else:
            match, cq, cm = pair.a, pair.containment_b, pair.containment_a
            ps = [MatchPassage(p.b_start, p.b_end, p.a_start, p.a_end) for p in pair.passages]
        ps.sort(key=lambda p: (p.query_start, p.match_start))
        return Match(query, match, pair.kind or "", pair.jaccard, cq, cm, tuple(ps))


@dataclass(slots=True)
class AddReport:
    """What one :meth:`Index.add` did, by document id."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # same id, new text: the old text is gone
    unchanged: list[str] = field(default_factory=list)  # same id, same text: nothing written
    problems: list[InputProblem] = field(default_factory=list)  # rejected or repaired input records
    characters: int = 0  # characters of the documents read
    seconds: float = 0.0

    @property
    def documents(self) -> int:
        return len(self.added) + len(self.replaced) + len(self.unchanged)

    @property
    def rejected(self) -> int:
        return sum(p.action == "rejected" and p.scope == "record" for p in self.problems)

    def to_dict(self, ids: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "counts": {"documents": self.documents, "added": len(self.added), "replaced": len(self.replaced),
                       "unchanged": len(self.unchanged), "rejected": self.rejected,
                       "repaired": sum(p.action == "repaired" for p in self.problems),
                       "characters": self.characters},
            "seconds": round(self.seconds, 3),
            "throughput": {"docs_per_s": round(self.documents / self.seconds, 1) if self.seconds else None,
                           "mb_per_s": round(self.characters / 1e6 / self.seconds, 2) if self.seconds else None},
            "problems": [p.to_dict() for p in self.problems],
        }
        if ids:
            d.update(added=self.added, replaced=self.replaced, unchanged=self.unchanged)
        return d


@dataclass(frozen=True, slots=True)
class IndexedDocument:
    """A document as stored in the index."""

    id: str
    text: str
    chars: int
    words: int
    added: float  # Unix time of its first addition
    updated: float  # Unix time its current text was written


@dataclass(frozen=True, slots=True)
class IndexCluster:
    """The connected component of reporting pairs that holds one document (like find's clusters.jsonl)."""

    id: str
    cluster: str  # smallest id of the component
    near_duplicate_cluster: str  # smallest id of the document's component of near-duplicate pairs
    members: list[str]  # sorted
    pairs: list[PairResult]  # the reporting pairs among the members, sorted by (a, b)
    complete: bool  # False when the search stopped at max_members

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "cluster": self.cluster, "cluster_size": len(self.members),
                "near_duplicate_cluster": self.near_duplicate_cluster, "members": self.members,
                "complete": self.complete}


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Outcome of :meth:`Index.check`: ``ok`` when the database and every consistency rule hold."""

    ok: bool
    problems: list[str]
    checked: dict[str, int]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "checked": self.checked, "seconds": round(self.seconds, 3)}


# ------------------------------------------------------------------------------------------ helpers

def _enc(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


def _dec(b: bytes) -> str:
    return bytes(b).decode("utf-8", "surrogatepass")


def _sha(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).digest()


def _i64(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.int64)


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for lo in range(0, len(values), size):
        yield values[lo:lo + size]


def _select_in(con: sqlite3.Connection, sql: str, values: Sequence[Any]) -> list[tuple]:
    """Rows of ``sql`` (with one ``{in}`` placeholder for an IN list) for all ``values``, chunked."""
    rows: list[tuple] = []
    for part in _chunks(values):
        rows.extend(con.execute(sql.format(**{"in": ",".join("?" * len(part))}), part).fetchall())
    return rows


def _insert_rows(con: sqlite3.Connection, head: str, columns: Sequence[np.ndarray], tail: str = "") -> None:
    """``head VALUES (?, ..), (?, ..), ... tail`` for parallel integer columns, ``_ROWS_PER_INSERT`` rows per
    statement: binding one flat list per statement costs far less than ``executemany``'s row-by-row binding."""
    n = int(columns[0].shape[0]) if columns else 0
    if n == 0:
        return
    width = len(columns)
    flat = np.stack([np.asarray(c, np.int64) for c in columns], 1).ravel().tolist()
    row = "(" + ",".join("?" * width) + ")"
    k = _ROWS_PER_INSERT
    full = n // k
    if full:
        sql = f"{head} VALUES {','.join([row] * k)} {tail}"
        for i in range(full):
            con.execute(sql, flat[i * k * width:(i + 1) * k * width])
    if n > full * k:
        con.execute(f"{head} VALUES {','.join([row] * (n - full * k))} {tail}", flat[full * k * width:])


def _algorithmic(cfg: Config) -> dict[str, Any]:
    return {k: v for k, v in cfg.to_dict().items() if k not in EXECUTION_FIELDS}


def _kernel_probe(cfg: Config) -> str:
    bp = fingerprint_batch([_PROBE], cfg)
    bands, rows = cfg.lsh_params()
    h = hashlib.blake2b(digest_size=16)
    for arr in (bp.n_words, bp.sigs, bp.fp_hashes, bp.fp_pos, band_keys(bp.sigs, bands, rows)):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def _default_workers() -> int:
    from .engines.local import default_workers

    return default_workers()


# ------------------------------------------------------------------------------------------ fingerprint jobs

@dataclass(frozen=True, slots=True)
class _Prints:
    """What the index stores about a batch of texts (document ``i`` owns ``counts[i]`` distinct hashes)."""

    words: np.ndarray  # int64 per document
    has_sig: np.ndarray  # bool per document
    keys: np.ndarray  # (n, bands) int64 LSH band keys
    counts: np.ndarray  # int64 distinct fingerprints per document
    hashes: np.ndarray  # int64, per document ascending, documents back to back
    positions: np.ndarray  # int64 per hash: the word where it first starts in its document

    def blobs(self, i: int, bounds: np.ndarray) -> tuple[bytes, bytes]:
        fps = self.hashes[bounds[i]:bounds[i + 1]].tobytes()
        return fps, (self.keys[i].tobytes() if self.has_sig[i] else b"")


def _prints_job(texts: list[str], cfg: Config) -> _Prints:
    """Fingerprint a batch (find's stage functions) and reduce it to what the index stores."""
    n = len(texts)
    bp = fingerprint_batch(texts, cfg)
    bands, rows = cfg.lsh_params()
    keys = band_keys(bp.sigs, bands, rows).view(np.int64) if n else np.empty((0, bands), np.int64)
    doc = np.repeat(np.arange(n, dtype=np.int64), bp.fp_counts)
    h = bp.fp_hashes.view(np.int64)
    order = np.lexsort((h, doc))  # stable: a repeated hash keeps its first position first
    doc, h, pos = doc[order], h[order], bp.fp_pos.astype(np.int64)[order]
    keep = np.r_[True, (doc[1:] != doc[:-1]) | (h[1:] != h[:-1])] if h.shape[0] else np.empty(0, bool)
    doc, h, pos = doc[keep], h[keep], pos[keep]
    return _Prints(bp.n_words.astype(np.int64), bp.has_sig.copy(), np.ascontiguousarray(keys),
                   np.bincount(doc, minlength=n).astype(np.int64), np.ascontiguousarray(h), pos)


def _worker_init(lock_fd: int, parent: int) -> None:
    """In a fingerprint worker: drop the inherited writer lock, and die with the parent.

    Forked workers share the parent's lock file descriptor; if the parent is killed, workers that outlive it
    would keep the index locked. They close their copy, and ask Linux to kill them when the parent dies.
    """
    try:
        os.close(lock_fd)
    except OSError:
        pass
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG = 1, SIGKILL = 9
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


@dataclass(slots=True)
class _Pending:
    """A document of an add batch that must be written."""

    doc: Document
    body: bytes
    sha: bytes
    rowid: int | None = None  # set when it replaces a stored document
    old_fps: bytes = b""
    old_bands: bytes = b""


@dataclass(frozen=True, slots=True)
class _Cached:
    """A prepared document in an Index's cache: valid at generation ``gen`` for the text whose hash is ``sha``."""

    gen: str | None
    sha: bytes
    prepared: Prepared


class _SharedBoilerplate:
    """The boilerplate hashes of the latest generation read, per index (its folder and creation time), shared by
    the Index objects of a process (a server's readers): each generation's hashes are read from SQLite once, not
    once per connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[tuple[Path, str], tuple[str, np.ndarray]] = {}

    def get(self, key: tuple[Path, str], gen: str, load: Any) -> np.ndarray:
        with self._lock:
            got = self._latest.get(key)
            if got is not None and got[0] == gen:
                return got[1]
            boiler = load()
            if got is None or int(gen) >= int(got[0]):
                self._latest[key] = (gen, boiler)
            return boiler


_BOILERPLATE = _SharedBoilerplate()


@dataclass(slots=True)
class _Query:
    """One query of a search batch. ``rowid`` is set when the query *is* that indexed document."""

    id: str
    text: str
    rowid: int
    fps: np.ndarray  # int64 distinct fingerprint hashes
    bands: np.ndarray  # int64 band keys (empty: no words)
    pos: np.ndarray | None = None  # external queries: where each fingerprint starts (stored ones: in fp.pos)

    @property
    def external(self) -> bool:
        return self.rowid < 0


# ------------------------------------------------------------------------------------------ the index

class Index:
    """A persistent doublet index (see the module docstring). Open with :meth:`open` or :meth:`create`."""

    def __init__(self, path: Path, con: sqlite3.Connection, cfg: Config, lock_timeout: float):
        self.path = path
        self.config = cfg
        self.lock_timeout = lock_timeout
        self._con = con
        self._lock = threading.RLock()
        self._read_depth = 0
        self._gen: str | None = None
        self._boiler = np.empty(0, np.uint64)
        self._cache: OrderedDict[int, _Cached] = OrderedDict()
        self._cache_size = _CACHE_DOCS

    # --- opening

    @classmethod
    def create(cls, path: str | Path, config: Config | None = None, *, workers: int | None = None,
               lock_timeout: float = 10.0) -> Index:
        """Create a new, empty index in folder ``path`` (which must not exist or be empty)."""
        cfg = config or Config()
        p = Path(path)
        building = p / (DB_NAME + _CREATING)
        if p.exists() and (not p.is_dir() or any(not f.name.startswith(building.name) for f in p.iterdir())):
            raise DoubletIndexError(f"{p} already exists and is not an empty folder; choose another path")
        p.mkdir(parents=True, exist_ok=True)
        for f in p.glob(building.name + "*"):  # left by a create that was killed
            f.unlink()
        # built under another name and renamed when complete: a killed create leaves no half-made index
        con = cls._connect(building)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("BEGIN IMMEDIATE")
            for stmt in _SCHEMA.format(max_df=int(cfg.max_df)).split(";"):
                if stmt.strip():
                    con.execute(stmt)
            meta = {"format": str(FORMAT), "config": json.dumps(_algorithmic(cfg), sort_keys=True),
                    "doublet_version": __version__, "kernel_probe": _kernel_probe(cfg),
                    "created": repr(time.time()), "generation": "0"}
            con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            con.execute("COMMIT")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
        for suffix in ("-wal", "-shm"):
            Path(str(building) + suffix).unlink(missing_ok=True)
        os.rename(building, p / DB_NAME)
        return cls.open(p, cfg, workers=workers, lock_timeout=lock_timeout)

    @classmethod
    def open(cls, path: str | Path, config: Config | None = None, *, create: bool = False,
             workers: int | None = None, lock_timeout: float = 10.0) -> Index:
        """Open the index in folder ``path``.

        ``config``: refuse to open unless it equals the stored Config in every algorithmic parameter (its
        ``workers`` is used). ``create``: create the index (with ``config``) if there is none. ``workers``:
        processes for fingerprinting in :meth:`add` (default: ``config.workers``, else 1). ``lock_timeout``:
        seconds to wait for another writer (and for SQLite locks) before :class:`IndexBusy`.
        """
        p = Path(path)
        db = p / DB_NAME
        if not db.is_file():
            if create and (not p.exists() or (p.is_dir() and not any(p.iterdir()))):
                return cls.create(p, config, workers=workers, lock_timeout=lock_timeout)
            what = "is not a doublet index" if p.exists() else "does not exist"
            raise IndexNotFound(f"{p} {what}; create one with `doublet index create {p}` (or Index.create)")
        con = cls._connect(db)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            con.close()
            raise IndexIncompatible(f"{p} is not a readable doublet index ({exc})") from None
        if meta.get("format") != str(FORMAT):
            con.close()
            raise IndexIncompatible(f"{p} has index format {meta.get('format')!r}; this doublet reads format "
                                    f"{FORMAT}: rebuild the index")
        stored = json.loads(meta["config"])
        if config is not None:
            given = _algorithmic(config)
            diff = [f"{k}={stored.get(k)!r} (given {given[k]!r})" for k in sorted(given) if stored.get(k) != given[k]]
            if diff:
                con.close()
                raise IndexConfigMismatch(f"{p} was created with other parameters: " + ", ".join(diff)
                                          + "; open it without them or create a new index")
        n_workers = workers if workers is not None else (config.workers if config is not None else 1)
        params: dict[str, Any] = {**stored, "workers": max(1, n_workers)}
        if config is not None:
            params.update(memory_limit=config.memory_limit, tmp_dir=config.tmp_dir)
        cfg = Config(**params)
        if meta.get("kernel_probe") != _kernel_probe(cfg):
            con.close()
            raise IndexIncompatible(
                f"{p} was built by doublet {meta.get('doublet_version')}, whose fingerprints differ from this "
                f"version's ({__version__}): rebuild the index")
        con.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
        return cls(p, con, cfg, lock_timeout)

    @staticmethod
    def _connect(db: Path) -> sqlite3.Connection:
        con = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False, timeout=10.0)
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA cache_size=-262144")  # up to 256 MB of page cache
        con.execute("PRAGMA temp_store=MEMORY")
        con.execute(f"PRAGMA journal_size_limit={64 << 20}")  # truncate the WAL to this after checkpoints
        return con

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None  # type: ignore[assignment]
                self._cache.clear()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r})"

    @property
    def con(self) -> sqlite3.Connection:
        if self._con is None:
            raise DoubletIndexError("the index is closed")
        return self._con

    # --- snapshots and caches

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction (one consistent snapshot), re-entrant; refreshes caches on a new generation."""
        with self._lock:
            con = self.con
            if self._read_depth:
                self._read_depth += 1
                try:
                    yield con
                finally:
                    self._read_depth -= 1
                return
            con.execute("BEGIN")
            self._read_depth = 1
            try:
                meta = dict(con.execute("SELECT key, value FROM meta WHERE key IN ('generation', 'created')"))
                gen = meta["generation"]
                if gen != self._gen:
                    boiler = _BOILERPLATE.get((self.path.resolve(), meta["created"]), gen,
                                              lambda: self._load_boilerplate(con))
                    if not np.array_equal(boiler, self._boiler):
                        self._cache.clear()  # boilerplate masks changed; otherwise _prepared rechecks texts
                    self._boiler = boiler
                    self._gen = gen
                yield con
            finally:
                self._read_depth = 0
                if con.in_transaction:
                    con.execute("COMMIT")

    def _load_boilerplate(self, con: sqlite3.Connection) -> np.ndarray:
        """The sorted hashes of the fingerprints held by more than max_df documents (read-only array)."""
        boiler = np.sort(np.array(
            [h for (h,) in con.execute(f"SELECT hash FROM df WHERE n > {int(self.config.max_df)}")],
            dtype=np.int64).view(np.uint64))
        boiler.setflags(write=False)
        return boiler

    def _prepared(self, con: sqlite3.Connection, rowids: Iterable[int]) -> dict[int, Prepared]:
        """Prepared documents (cached), with the index's boilerplate.

        A cached document stays valid across writes while the boilerplate is unchanged (``_read`` clears the
        cache when it changes) and its text is the same: entries cached before the current generation are
        checked against the stored text hash, so a replaced document is prepared again."""
        out: dict[int, Prepared] = {}
        missing: list[int] = []
        stale: list[int] = []
        for r in rowids:
            got = self._cache.get(r)
            if got is None:
                missing.append(r)
                continue
            self._cache.move_to_end(r)
            if got.gen == self._gen:
                out[r] = got.prepared
            else:
                stale.append(r)
        if stale:
            shas = {int(r): bytes(h) for r, h in _select_in(con, "SELECT doc, sha FROM docs WHERE doc IN ({in})",
                                                             stale)}
            for r in stale:
                got = self._cache[r]
                if shas.get(r) == got.sha:
                    self._cache[r] = _Cached(self._gen, got.sha, got.prepared)
                    out[r] = got.prepared
                else:
                    missing.append(r)
        if missing:
            for r, body in _select_in(con, "SELECT doc, body FROM texts WHERE doc IN ({in})", missing):
                b = bytes(body)
                prepared = prepare(_dec(b), self.config, self._boiler)
                self._cache[r] = _Cached(self._gen, _sha(b), prepared)
                out[r] = prepared
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return out

    # --- reading documents

    def __len__(self) -> int:
        with self._read() as con:
            return int(con.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    def __bool__(self) -> bool:  # an open index is truthy even when empty
        return True

    def __contains__(self, doc_id: str) -> bool:
        with self._read() as con:
            return con.execute("SELECT 1 FROM docs WHERE id = ?", (_enc(doc_id),)).fetchone() is not None

    def get(self, doc_id: str) -> IndexedDocument | None:
        """The stored document with this id, or None."""
        with self._read() as con:
            row = con.execute("SELECT d.chars, d.words, d.added, d.updated, t.body FROM docs d "
                              "JOIN texts t ON t.doc = d.doc WHERE d.id = ?", (_enc(doc_id),)).fetchone()
        if row is None:
            return None
        return IndexedDocument(doc_id, _dec(row[4]), int(row[0]), int(row[1]), float(row[2]), float(row[3]))

    def ids(self) -> list[str]:
        """Every indexed id, in order of first addition."""
        with self._read() as con:
            return [_dec(i) for (i,) in con.execute("SELECT id FROM docs ORDER BY doc")]

    # --- adding

    @contextmanager
    def _writer(self) -> Iterator[int]:
        """Hold the writer lock (``writer.lock``) for the duration, or raise IndexBusy after lock_timeout."""
        path = self.path / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                        who = f" (pid {holder})" if holder.isdigit() else ""
                        raise IndexBusy(f"another process{who} is adding to this index ({self.path}); "
                                        "retry later") from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            try:
                yield fd
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def add(self, documents: Iterable[Any], *, problems: list[InputProblem] | None = None,
            progress: Progress | None = None, batch_size: int = BATCH_SIZE) -> AddReport:
        """Add documents (Documents, ``(id, text)`` tuples, dicts with id/text, or strings); see the module
        docstring for what happens to ids already present. Returns what was added, replaced or unchanged.

        Rejected records go to the report's ``problems``, which is ``problems`` when given (pass the list that
        :func:`doublet.documents.read_documents` fills, to report reading problems too)."""
        problems = problems if problems is not None else []
        docs = documents_from_items(documents, max_chars=self.config.max_chars, problems=problems)
        return self._add(docs, problems, progress, batch_size)

    def add_files(self, inputs: Sequence[str | Path], *, id_field: str = "id", text_field: str = "text",
                  progress: Progress | None = None, batch_size: int = BATCH_SIZE) -> AddReport:
        """Add the documents of files and folders (every format ``doublet find`` reads, same rules)."""
        problems: list[InputProblem] = []
        docs = read_documents(list(inputs), id_field=id_field, text_field=text_field,
                              max_chars=self.config.max_chars, problems=problems)
        return self._add(docs, problems, progress, batch_size)

    def _add(self, docs: Iterable[Document], problems: list[InputProblem], progress: Progress | None,
             batch_size: int) -> AddReport:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        t0 = time.perf_counter()
        progress = progress or NullProgress()
        report = AddReport(problems=problems)
        with self._lock, self._writer() as lock_fd:
            con = self.con
            con.execute(f"PRAGMA wal_autocheckpoint={_WAL_PAGES_WHILE_ADDING}")
            pool: ProcessPoolExecutor | None = None
            try:
                progress.start("add", None)
                inflight: list[tuple[list[_Pending], Future | _Prints]] = []
                ahead = 2 * self.config.workers + 1
                for k, batch in enumerate(self._batches(docs, batch_size)):
                    todo = self._classify(con, batch, report)
                    texts = [p.doc.text for p in todo]
                    if pool is None and k >= 1 and self.config.workers > 1:  # more than one batch: worth a pool
                        pool = ProcessPoolExecutor(self.config.workers, initializer=_worker_init,
                                                   initargs=(lock_fd, os.getpid()))
                    job: Future | _Prints
                    job = pool.submit(_prints_job, texts, self.config) if pool is not None and todo else \
                        _prints_job(texts, self.config)
                    inflight.append((todo, job))
                    progress.advance(len(batch))
                    while len(inflight) > (ahead if pool is not None else 0):
                        self._write(con, *self._resolve(inflight.pop(0)), report)
                while inflight:
                    self._write(con, *self._resolve(inflight.pop(0)), report)
                progress.done()
            finally:
                if pool is not None:
                    pool.shutdown(cancel_futures=True)
                if con.in_transaction:
                    con.execute("ROLLBACK")
                con.execute("PRAGMA wal_autocheckpoint=1000")
            try:
                con.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.OperationalError:
                pass
        report.seconds = time.perf_counter() - t0
        return report

    @staticmethod
    def _resolve(item: tuple[list[_Pending], Future | _Prints]) -> tuple[list[_Pending], _Prints]:
        todo, job = item
        return todo, (job.result() if isinstance(job, Future) else job)

    @staticmethod
    def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
        batch: list[Document] = []
        for d in docs:
            batch.append(d)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _classify(self, con: sqlite3.Connection, batch: list[Document], report: AddReport) -> list[_Pending]:
        """Split a batch into unchanged documents (reported now) and documents to write (returned)."""
        bodies = [_enc(d.text) for d in batch]
        ids = [_enc(d.id) for d in batch]
        stored = {bytes(i): (r, bytes(s), f, b) for r, i, s, f, b in
                  _select_in(con, "SELECT doc, id, sha, fps, bands FROM docs WHERE id IN ({in})", ids)}
        todo: list[_Pending] = []
        for d, body, i in zip(batch, bodies, ids):
            report.characters += len(d.text)
            sha = _sha(body)
            old = stored.get(i)
            if old is None:
                todo.append(_Pending(d, body, sha))
            elif old[1] == sha:
                report.unchanged.append(d.id)
            else:
                todo.append(_Pending(d, body, sha, old[0], bytes(old[2]), bytes(old[3])))
        return todo

    def _write(self, con: sqlite3.Connection, todo: list[_Pending], pr: _Prints, report: AddReport) -> None:
        """One transaction: the documents of a batch with all their rows, and the df counts they change."""
        if not todo:
            return
        now = time.time()
        bounds = np.r_[0, np.cumsum(pr.counts)]
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise IndexBusy(f"another process is writing to this index ({self.path}); retry later ({exc})") from None
        try:
            nxt = int(con.execute("SELECT COALESCE(MAX(doc), 0) FROM docs").fetchone()[0]) + 1
            rowids = np.empty(len(todo), np.int64)
            old_h: list[np.ndarray] = []
            old_rows: list[tuple[int, int]] = []
            old_bands: list[tuple[int, int]] = []
            new_docs, upd_docs, new_texts, upd_texts = [], [], [], []
            for k, p in enumerate(todo):
                fps, bands = pr.blobs(k, bounds)
                if p.rowid is None:
                    rowids[k] = nxt
                    new_docs.append((nxt, _enc(p.doc.id), p.sha, len(p.doc.text), int(pr.words[k]), fps, bands,
                                     now, now))
                    new_texts.append((nxt, p.body))
                    nxt += 1
                else:
                    rowids[k] = p.rowid
                    oh = _i64(p.old_fps)
                    old_h.append(oh)
                    old_rows.extend(zip(oh.tolist(), [p.rowid] * oh.shape[0]))
                    old_bands.extend(zip(_i64(p.old_bands).tolist(), [p.rowid] * (len(p.old_bands) // 8)))
                    upd_docs.append((p.sha, len(p.doc.text), int(pr.words[k]), fps, bands, now, p.rowid))
                    upd_texts.append((p.body, p.rowid))
            # remove what replaced documents stored
            if old_rows:
                con.executemany("DELETE FROM fp WHERE hash = ? AND doc = ?", old_rows)
            if old_bands:
                con.executemany("DELETE FROM band WHERE key = ? AND doc = ?", old_bands)
            if upd_docs:
                con.executemany("UPDATE docs SET sha = ?, chars = ?, words = ?, fps = ?, bands = ?, updated = ? "
                                "WHERE doc = ?", upd_docs)
                con.executemany("UPDATE texts SET body = ? WHERE doc = ?", upd_texts)
            if new_docs:
                con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", new_docs)
                con.executemany("INSERT INTO texts VALUES (?, ?)", new_texts)
            # fingerprint rows, in (hash, doc) order
            h = pr.hashes
            d = np.repeat(rowids, pr.counts)
            order = np.lexsort((d, h))
            h, d = h[order], d[order]
            _insert_rows(con, "INSERT INTO fp", (h, d, pr.positions[order]))
            # document frequencies: +1 per new row, -1 per removed row
            if old_h:
                allh = np.concatenate([h, *old_h])
                w = np.r_[np.ones(h.shape[0], np.int64), -np.ones(allh.shape[0] - h.shape[0], np.int64)]
                uh, inv = np.unique(allh, return_inverse=True)
                delta = np.bincount(inv, weights=w, minlength=uh.shape[0]).astype(np.int64)
                nz = delta != 0
                uh, delta = uh[nz], delta[nz]
            else:
                uh, delta = np.unique(h, return_counts=True)
            _insert_rows(con, "INSERT INTO df", (uh, delta), "ON CONFLICT (hash) DO UPDATE SET n = n + excluded.n")
            gone = uh[delta < 0]
            if gone.shape[0]:
                con.executemany("DELETE FROM df WHERE hash = ? AND n <= 0", zip(gone.tolist()))
            # LSH band rows
            sig = np.flatnonzero(pr.has_sig)
            if sig.shape[0]:
                keys = pr.keys[sig]
                kd = np.repeat(rowids[sig], keys.shape[1])
                _insert_rows(con, "INSERT OR IGNORE INTO band", (keys.ravel(), kd))
            con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        for p in todo:
            (report.added if p.rowid is None else report.replaced).append(p.doc.id)

    # --- searching

    def search(self, query: Any, *, id: str | None = None, limit: int | None = None) -> list[Match]:
        """Indexed documents that ``query`` reuses or nearly duplicates, best first (by containment of the query).

        ``query`` is a text (its id is ``id``, default ``"<query>"``) or a document (a Document, IndexedDocument,
        ``(id, text)`` tuple or dict). Raises ValueError for a query that is not a document (e.g. empty text).
        """
        if isinstance(query, str):
            item: Any = (id if id is not None else "<query>", query)
        elif hasattr(query, "id") and hasattr(query, "text"):
            item = (query.id, query.text)
        else:
            item = query
        problems: list[InputProblem] = []
        results = list(self.search_many([item], problems=problems))
        if not results:
            raise ValueError(f"not a searchable document: {problems[0].reason if problems else 'no text'}")
        matches = results[0][1]
        return matches[:limit] if limit is not None else matches

    def search_many(self, queries: Iterable[Any], *, problems: list[InputProblem] | None = None,
                    batch_size: int = _QUERY_BATCH) -> Iterator[tuple[Document, list[Match]]]:
        """``(query document, matches)`` for each query, in order; bad queries go to ``problems``."""
        docs = documents_from_items(queries, max_chars=self.config.max_chars, problems=problems)
        yield from self._search_documents(docs, batch_size)

    def search_files(self, inputs: Sequence[str | Path], *, id_field: str = "id", text_field: str = "text",
                     problems: list[InputProblem] | None = None) -> Iterator[tuple[Document, list[Match]]]:
        """Like :meth:`search_many`, reading the queries from files and folders."""
        docs = read_documents(list(inputs), id_field=id_field, text_field=text_field,
                              max_chars=self.config.max_chars, problems=problems)
        yield from self._search_documents(docs, _QUERY_BATCH)

    def _search_documents(self, docs: Iterable[Document], batch_size: int) -> Iterator[tuple[Document, list[Match]]]:
        for batch in self._batches(docs, batch_size):
            with self._read() as con:
                queries = self._queries(con, batch)
                found = self._compare(con, queries, *self._candidates(con, queries))
            for k, d in enumerate(batch):
                ms = [Match.from_pair(r, d.id, a_is_query) for r, a_is_query in found.get(k, [])]
                ms.sort(key=lambda m: (-m.containment_query, -m.jaccard, m.match))
                yield d, ms

    def _queries(self, con: sqlite3.Connection, batch: list[Document]) -> list[_Query]:
        """Resolve a batch of query documents: indexed ones (same id and text) or external (fingerprinted)."""
        stored = {bytes(i): (r, bytes(s), f, b) for r, i, s, f, b in _select_in(
            con, "SELECT doc, id, sha, fps, bands FROM docs WHERE id IN ({in})", [_enc(d.id) for d in batch])}
        out: list[_Query | None] = []
        external: list[int] = []
        for k, d in enumerate(batch):
            hit = stored.get(_enc(d.id))
            if hit is not None and hit[1] == _sha(_enc(d.text)):
                out.append(_Query(d.id, d.text, int(hit[0]), _i64(hit[2]), _i64(hit[3])))
            else:
                out.append(None)
                external.append(k)
        if external:
            pr = _prints_job([batch[k].text for k in external], self.config)
            bounds = np.r_[0, np.cumsum(pr.counts)]
            for j, k in enumerate(external):
                bands = pr.keys[j] if pr.has_sig[j] else np.empty(0, np.int64)
                out[k] = _Query(batch[k].id, batch[k].text, -1, pr.hashes[bounds[j]:bounds[j + 1]], bands,
                                pr.positions[bounds[j]:bounds[j + 1]])
        return out  # type: ignore[return-value]

    def _candidates(self, con: sqlite3.Connection, queries: list[_Query]) -> tuple[np.ndarray, np.ndarray, dict]:
        """Candidate (query index, indexed doc) pairs — find's LSH and fingerprint rules — and, per external
        query, the df of its fingerprints (for the boilerplate it adds)."""
        cfg = self.config
        n_q = len(queries)
        rowid = np.array([q.rowid for q in queries], np.int64)
        ext = (rowid < 0).astype(np.int64)
        found: list[np.ndarray] = []

        # LSH buckets: the query joins each of its buckets; find's rule decides which members pair with it
        lens = np.array([q.bands.shape[0] for q in queries], np.int64)
        if lens.sum():
            qk = np.concatenate([q.bands for q in queries])
            qi = np.repeat(np.arange(n_q, dtype=np.int64), lens)
            uk = np.unique(qk)
            rows = np.array(_select_in(con, "SELECT key, doc FROM band WHERE key IN ({in}) ORDER BY key, doc",
                                       uk.tolist()), dtype=np.int64).reshape(-1, 2)
            bk, bd = rows[:, 0], rows[:, 1]
            lo, hi = np.searchsorted(bk, qk, "left"), np.searchsorted(bk, qk, "right")
            cnt = hi - lo
            small = cnt + ext[qi] <= cfg.max_bucket
            first = np.full(qk.shape[0], -1, np.int64)
            first[cnt > 0] = bd[lo[cnt > 0]]
            leads = ~small & (first >= 0) & (rowid[qi] == first)  # the query is a big bucket's first member
            every = small | leads  # ... then it pairs with every member, as in a small bucket
            found.append(pair_keys(np.repeat(qi[every], cnt[every]), bd[ranges(lo[every], cnt[every])]))
            star = ~every & (first >= 0)  # otherwise only the bucket's first member pairs with the query
            found.append(pair_keys(qi[star], first[star]))

        # fingerprints shared with documents holding them in 2..max_df documents (the query counted once)
        lens = np.array([q.fps.shape[0] for q in queries], np.int64)
        ext_df: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        if lens.sum():
            qh = np.concatenate([q.fps for q in queries])
            qi = np.repeat(np.arange(n_q, dtype=np.int64), lens)
            uh = np.unique(qh)
            dfr = np.array(_select_in(con, "SELECT hash, n FROM df WHERE hash IN ({in})", uh.tolist()),
                           dtype=np.int64).reshape(-1, 2)
            df_u = np.zeros(uh.shape[0], np.int64)
            df_u[np.searchsorted(uh, dfr[:, 0])] = dfr[:, 1]
            df_stored = df_u[np.searchsorted(uh, qh)]
            df_q = df_stored + ext[qi]
            usable = (df_q >= 2) & (df_q <= cfg.max_df) & (df_stored >= 1)
            need = np.unique(qh[usable])
            prow = np.array(_select_in(con, "SELECT hash, doc, pos FROM fp WHERE hash IN ({in}) ORDER BY hash, doc",
                                       need.tolist()), dtype=np.int64).reshape(-1, 3)
            ph, pd, pp = prow[:, 0], prow[:, 1], prow[:, 2]
            uq, uhs = qi[usable], qh[usable]
            lo, hi = np.searchsorted(ph, uhs, "left"), np.searchsorted(ph, uhs, "right")
            group = np.repeat(np.arange(uq.shape[0]), hi - lo)  # (query, hash) of each matching row
            rows = ranges(lo, hi - lo)
            oq, od, op = uq[group], pd[rows], pp[rows]
            # the query's own position of each shared fingerprint: from its fp rows if it is indexed
            own = od == rowid[oq]
            q_pos = np.zeros(uq.shape[0], np.int64)
            q_pos[group[own]] = op[own]
            if ext.any():
                q_pos_all = np.concatenate([q.pos if q.pos is not None else np.zeros(q.fps.shape[0], np.int64)
                                            for q in queries])
                from_ext = ext[uq].astype(bool)
                q_pos[from_ext] = q_pos_all[usable][from_ext]
            other = ~own
            keys, _ = supported_pairs(pair_keys(oq[other], od[other]), q_pos[group[other]], op[other],
                                      cfg.min_shared, cfg.min_passage_words, cfg.shingle_size, cfg.max_gap)
            found.append(keys)
            bounds = np.r_[0, np.cumsum(lens)]
            for k in np.flatnonzero(ext).tolist():  # external queries: df of their fingerprints, for boilerplate
                ext_df[k] = (qh[bounds[k]:bounds[k + 1]], df_stored[bounds[k]:bounds[k + 1]])
        keys = np.unique(np.concatenate(found)) if found else np.empty(0, np.uint64)
        ci, cd = split_keys(keys)
        keep = cd != rowid[ci]
        return ci[keep], cd[keep], ext_df

    def _compare(self, con: sqlite3.Connection, queries: list[_Query], ci: np.ndarray, cd: np.ndarray,
                 ext_df: dict) -> dict[int, list[tuple[PairResult, bool]]]:
        """Verify candidates with find's stage functions; reporting pairs per query index."""
        cfg = self.config
        names = {r: _dec(i) for r, i in _select_in(con, "SELECT doc, id FROM docs WHERE doc IN ({in})",
                                                   np.unique(cd).tolist())}
        prepared = self._prepared(con, set(np.unique(cd).tolist()) | {q.rowid for q in queries if q.rowid >= 0})
        out: dict[int, list[tuple[PairResult, bool]]] = {}
        every = np.arange(len(queries))
        starts, ends = np.searchsorted(ci, every, "left"), np.searchsorted(ci, every, "right")  # ci is sorted
        for k in np.flatnonzero(ends > starts).tolist():
            q = queries[k]
            docs = cd[starts[k]:ends[k]].tolist()
            extra = np.empty(0, np.uint64)
            if q.external:  # boilerplate the query adds: fingerprints it brings to max_df + 1 documents
                h, df = ext_df.get(k, (np.empty(0, np.int64), np.empty(0, np.int64)))
                extra = h[df == cfg.max_df].view(np.uint64)
            if q.rowid >= 0:
                pq = prepared[q.rowid]
                boiler = self._boiler
            else:
                boiler = np.union1d(self._boiler, extra) if extra.shape[0] else self._boiler
                pq = prepare(q.text, cfg, boiler)
            res: list[tuple[PairResult, bool]] = []
            for r in docs:
                mid = names[r]
                pm = prepared[r] if not extra.shape[0] else self._prepare_text(con, r, boiler)
                if q.id <= mid:
                    pair = compare_prepared(q.id, mid, pq, pm, cfg)
                    a_is_query = True
                else:
                    pair = compare_prepared(mid, q.id, pm, pq, cfg)
                    a_is_query = False
                if pair.kind is not None:
                    res.append((pair, a_is_query))
            if res:
                out[k] = res
        return out

    def _prepare_text(self, con: sqlite3.Connection, rowid: int, boiler: np.ndarray) -> Prepared:
        body = con.execute("SELECT body FROM texts WHERE doc = ?", (rowid,)).fetchone()[0]
        return prepare(_dec(body), self.config, boiler)

    # --- whole-index answers

    def pairs(self) -> list[PairResult]:
        """Every reporting pair among the indexed documents, sorted by (a, b): find's ``pairs.jsonl``."""
        with self._read() as con:
            names: dict[int, str] = {}
            keys: list[np.ndarray] = []
            cur = con.execute("SELECT doc, id, fps, bands FROM docs ORDER BY doc")
            while True:
                rows = cur.fetchmany(_QUERY_BATCH)
                if not rows:
                    break
                queries = []
                for r, i, f, b in rows:
                    names[r] = _dec(i)
                    queries.append(_Query(names[r], "", int(r), _i64(f), _i64(b)))
                ci, cd, _ = self._candidates(con, queries)
                q_rowid = np.array([q.rowid for q in queries], np.int64)[ci]
                keys.append(pair_keys(np.minimum(q_rowid, cd), np.maximum(q_rowid, cd)))
            cand = np.unique(np.concatenate(keys)) if keys else np.empty(0, np.uint64)
            pi, pj = split_keys(cand)
            ordered = sorted(((names[i], names[j]) if names[i] < names[j] else (names[j], names[i]), i, j)
                             for i, j in zip(pi.tolist(), pj.tolist()))
            rowid_of = {v: k for k, v in names.items()}
            old_size, self._cache_size = self._cache_size, max(self._cache_size, min(len(names), 16384))
            out: list[PairResult] = []
            try:
                for lo in range(0, len(ordered), 2000):
                    part = ordered[lo:lo + 2000]
                    need = {rowid_of[a] for (a, _), _, _ in part} | {rowid_of[b] for (_, b), _, _ in part}
                    prep = self._prepared(con, need)
                    for (a, b), _, _ in part:
                        r = compare_prepared(a, b, prep[rowid_of[a]], prep[rowid_of[b]], self.config)
                        if r.kind is not None:
                            out.append(r)
            finally:
                self._cache_size = old_size
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out

    def cluster(self, doc_id: str, *, max_members: int = 10_000) -> IndexCluster:
        """The component of reporting pairs holding ``doc_id`` (found by searching outward from it)."""
        with self._read() as con:
            if con.execute("SELECT 1 FROM docs WHERE id = ?", (_enc(doc_id),)).fetchone() is None:
                raise KeyError(doc_id)
            members = {doc_id}
            pairs: dict[tuple[str, str], PairResult] = {}
            frontier = [doc_id]
            complete = True
            while frontier:
                nxt: list[str] = []
                for lo in range(0, len(frontier), _QUERY_BATCH):
                    part = frontier[lo:lo + _QUERY_BATCH]
                    rows = _select_in(con, "SELECT d.doc, d.id, d.fps, d.bands FROM docs d WHERE d.id IN ({in})",
                                      [_enc(i) for i in part])
                    queries = [_Query(_dec(i), "", int(r), _i64(f), _i64(b)) for r, i, f, b in rows]
                    for found in self._compare(con, queries, *self._candidates(con, queries)).values():
                        for pair, _ in found:
                            pairs[(pair.a, pair.b)] = pair
                            for m in (pair.a, pair.b):
                                if m not in members:
                                    if len(members) >= max_members:
                                        complete = False
                                        continue
                                    members.add(m)
                                    nxt.append(m)
                frontier = nxt
        ids = sorted(members)
        pos = {m: k for k, m in enumerate(ids)}
        kept = [p for p in pairs.values() if p.a in pos and p.b in pos]
        i = np.array([pos[p.a] for p in kept], np.int64)
        j = np.array([pos[p.b] for p in kept], np.int64)
        dup = np.array([p.kind == "near-duplicate" for p in kept], bool)
        me = pos[doc_id]
        return IndexCluster(doc_id, cluster_ids(ids, i, j)[me], cluster_ids(ids, i[dup], j[dup])[me], ids,
                            sorted(kept, key=lambda p: (p.a, p.b)), complete)

    # --- statistics and checks

    def stats(self) -> dict[str, Any]:
        """Counts, document-frequency histogram, sizes on disk and the stored parameters."""
        cfg = self.config
        with self._read() as con:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            n, chars, words, last = con.execute(
                "SELECT COUNT(*), COALESCE(SUM(chars), 0), COALESCE(SUM(words), 0), MAX(updated) FROM docs").fetchone()
            df1, dfmid, dfbig, distinct, rows = con.execute(
                f"SELECT COALESCE(SUM(n = 1), 0), COALESCE(SUM(n BETWEEN 2 AND {int(cfg.max_df)}), 0), "
                f"COALESCE(SUM(n > {int(cfg.max_df)}), 0), COUNT(*), COALESCE(SUM(n), 0) FROM df").fetchone()
            bands = con.execute("SELECT COUNT(*) FROM band").fetchone()[0]
        files = {f.name: f.stat().st_size for f in sorted(self.path.glob(DB_NAME + "*")) if f.is_file()}
        return {
            "path": str(self.path),
            "documents": int(n), "characters": int(chars), "words": int(words),
            "fingerprint_rows": int(rows), "distinct_fingerprints": int(distinct),
            "fingerprints": {"df=1": int(df1), f"df=2..{cfg.max_df}": int(dfmid), f"df>{cfg.max_df}": int(dfbig)},
            "boilerplate_fingerprints": int(dfbig),
            "band_rows": int(bands),
            "bytes_on_disk": sum(files.values()), "files": files,
            "created": float(meta["created"]), "last_write": float(last) if last is not None else None,
            "generation": int(meta["generation"]),
            "format": int(meta["format"]), "doublet_version": meta["doublet_version"],
            "parameters": json.loads(meta["config"]),
        }

    def check(self, *, deep: bool = False) -> CheckReport:
        """SQLite's integrity check, then consistency: every document has its text (matching its hash), its
        fingerprint and band rows and no others exist, and every df count equals the recounted rows.
        ``deep`` also recomputes every document's fingerprints from its text."""
        t0 = time.perf_counter()
        problems: list[str] = []
        checked: dict[str, int] = {}
        with self._read() as con:
            res = [r for (r,) in con.execute("PRAGMA integrity_check")]
            if res != ["ok"]:
                problems.extend(f"sqlite: {r}" for r in res[:20])
                return CheckReport(False, problems, checked, time.perf_counter() - t0)
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            for key in ("format", "config", "kernel_probe", "generation", "created", "doublet_version"):
                if key not in meta:
                    problems.append(f"meta: {key} missing")
            docs = con.execute("SELECT d.doc, d.id, d.sha, d.chars, d.fps, d.bands, t.body FROM docs d "
                               "LEFT JOIN texts t ON t.doc = d.doc ORDER BY d.doc").fetchall()
            checked["documents"] = len(docs)
            n_texts = con.execute("SELECT COUNT(*) FROM texts").fetchone()[0]
            if n_texts != len(docs):
                problems.append(f"texts: {n_texts} rows for {len(docs)} documents")
            fp_exp: list[np.ndarray] = []
            fp_doc: list[np.ndarray] = []
            band_exp: list[np.ndarray] = []
            band_doc: list[np.ndarray] = []
            for r, i, sha, chars, f, b, body in docs:
                if body is None:
                    problems.append(f"document {_dec(i)!r}: no text")
                    continue
                if _sha(bytes(body)) != bytes(sha) or len(_dec(body)) != chars:
                    problems.append(f"document {_dec(i)!r}: text does not match its hash or length")
                h = _i64(f)
                if h.shape[0] > 1 and not (h[1:] > h[:-1]).all():  # (np.diff would overflow)
                    problems.append(f"document {_dec(i)!r}: fingerprints not sorted and distinct")
                fp_exp.append(h)
                fp_doc.append(np.full(h.shape[0], r, np.int64))
                bk = _i64(b)
                band_exp.append(bk)
                band_doc.append(np.full(bk.shape[0], r, np.int64))
            # fp rows == the documents' fingerprints
            got = np.array(con.execute("SELECT hash, doc FROM fp ORDER BY hash, doc").fetchall(),
                           np.int64).reshape(-1, 2)
            exp_h = np.concatenate(fp_exp) if fp_exp else np.empty(0, np.int64)
            exp_d = np.concatenate(fp_doc) if fp_doc else np.empty(0, np.int64)
            o = np.lexsort((exp_d, exp_h))
            checked["fingerprint_rows"] = int(got.shape[0])
            if not (np.array_equal(got[:, 0], exp_h[o]) and np.array_equal(got[:, 1], exp_d[o])):
                problems.append(f"fp: {got.shape[0]} rows, but the documents hold {exp_h.shape[0]} fingerprints "
                                "(or others)")
            # df == recount
            uh, cnt = np.unique(got[:, 0], return_counts=True)
            df = np.array(con.execute("SELECT hash, n FROM df ORDER BY hash").fetchall(), np.int64).reshape(-1, 2)
            checked["df_rows"] = int(df.shape[0])
            if not (np.array_equal(df[:, 0], uh) and np.array_equal(df[:, 1], cnt)):
                bad = df.shape[0] + uh.shape[0] - 2 * np.intersect1d(df[:, 0], uh).shape[0]
                problems.append(f"df: counts differ from the fingerprint rows ({df.shape[0]} rows for {uh.shape[0]} "
                                f"distinct fingerprints, {bad} unmatched)")
            boiler = {h for (h,) in con.execute(f"SELECT hash FROM df WHERE n > {int(self.config.max_df)}")}
            if boiler != set(uh[cnt > self.config.max_df].tolist()):
                problems.append("df_boilerplate: the partial index disagrees with the counts")
            # band rows == the documents' band keys
            gotb = np.array(con.execute("SELECT key, doc FROM band ORDER BY key, doc").fetchall(),
                            np.int64).reshape(-1, 2)
            eb = np.concatenate(band_exp) if band_exp else np.empty(0, np.int64)
            ed = np.concatenate(band_doc) if band_doc else np.empty(0, np.int64)
            o = np.lexsort((ed, eb))
            pairs_exp = np.unique(np.stack([eb[o], ed[o]], 1), axis=0) if eb.shape[0] else np.empty((0, 2), np.int64)
            checked["band_rows"] = int(gotb.shape[0])
            if not np.array_equal(gotb, pairs_exp):
                problems.append(f"band: {gotb.shape[0]} rows, but the documents hold {pairs_exp.shape[0]} band keys")
            orphans = con.execute("SELECT COUNT(*) FROM texts WHERE doc NOT IN (SELECT doc FROM docs)").fetchone()[0]
            if orphans:
                problems.append(f"texts: {orphans} rows without a document")
            if deep and docs:
                differ = 0
                for lo in range(0, len(docs), BATCH_SIZE):
                    part = [d for d in docs[lo:lo + BATCH_SIZE] if d[6] is not None]
                    pr = _prints_job([_dec(d[6]) for d in part], self.config)
                    bounds = np.r_[0, np.cumsum(pr.counts)]
                    for k, d in enumerate(part):
                        fps, bands = pr.blobs(k, bounds)
                        stored_pos = con.execute("SELECT hash, pos FROM fp WHERE doc = ? ORDER BY hash", (d[0],)).fetchall()
                        o = np.argsort(pr.hashes[bounds[k]:bounds[k + 1]], kind="stable")
                        want_pos = list(zip(pr.hashes[bounds[k]:bounds[k + 1]][o].tolist(),
                                            pr.positions[bounds[k]:bounds[k + 1]][o].tolist()))
                        if fps != bytes(d[4]) or bands != bytes(d[5]) or stored_pos != want_pos:
                            differ += 1
                            if differ <= 10:
                                problems.append(f"document {_dec(d[1])!r}: stored fingerprints differ from its text's")
                checked["recomputed"] = len(docs)
        if len(problems) > 50:
            problems = problems[:50] + [f"... and {len(problems) - 50} more"]
        return CheckReport(not problems, problems, checked, time.perf_counter() - t0)
