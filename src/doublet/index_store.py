"""Storage of the persistent index: the SQLite schema, writes, per-fingerprint counts and template rules, the
writer lock, statistics and the consistency check. Queries live in :mod:`doublet.index_query`; the public
class is :class:`doublet.index.Index` (see its module docstring for what the index answers).

Schema (format 4)
-----------------
Ids and texts are stored as UTF-8 BLOBs (``surrogatepass``, so every Python string round-trips); hashes as
signed 64-bit integers (the uint64 bits).

============  ================================================================================================
``meta``      ``key``, ``value``: format, config (JSON, with the user's template texts), doublet version,
              kernel probe, created, ``generation`` (grows with every committed write) and
              ``template_generation`` (grows when the set of template fingerprints changes)
``sites``     ``site`` (INTEGER PRIMARY KEY: 1, 2, ... in order of first appearance), ``key`` (UNIQUE: the site
              as :func:`doublet.template.site_key` writes it, e.g. ``example.com``)
``docs``      ``doc`` (INTEGER PRIMARY KEY, order of first addition), ``id`` (UNIQUE), ``sha`` (blake2b-128 of
              the text), ``chars``, ``words``, ``site`` (0 = none), ``fps`` (the distinct fingerprint hashes,
              int64 ascending), ``shapes`` (each one's shape flag, uint8, aligned with ``fps``), ``pos`` (where
              each first starts, uint32, aligned with ``fps``), ``bands`` (the LSH band keys; empty when the
              text has no words), ``added``, ``updated``
``texts``     ``doc`` (INTEGER PRIMARY KEY), ``body`` (the text exactly as read)
``fp``        ``(hash, doc)``, primary key, ``pos`` (the word where the fingerprint first starts in the
              document) and ``shape`` (the shape flag of that first occurrence: 0; 1 template-shaped line,
              2 end zone, 3 tail paragraph) — one row per distinct fingerprint of each document
``hashes``    ``hash`` (primary key) and what decides its template rule over the documents holding it
              (:func:`doublet.template.decide`): ``df`` (documents), ``votes``/``weak``/``tail`` (documents whose
              row has shape flag 1/2/3), ``site_lo``/``site_hi`` (smallest and largest site number among them),
              ``rule`` (0 content; 1 shape, 2 site, 3 user, 4 edge, 5 frequency) and ``outl`` (for content held
              by OUTLIER_MIN_DF documents or more: how many hold it as a frequency outlier; else 0); partial index
              ``hashes_template`` on ``(hash, rule, df)`` where ``rule != 0``: the template set is one indexed read
``band``      ``(key, doc)``, primary key — one row per LSH band of each document with words
``docfreq``   ``doc`` (INTEGER PRIMARY KEY), ``words``, ``hist`` (int32: the document's content fingerprints by
              df bucket, then its own-text fingerprints by position bucket) — what its typical df and own-text
              span are computed from (:mod:`doublet.index_frequency`); kept when the frequency rule is on
============  ================================================================================================

Counts stay exact under replacement: a batch's transaction deletes the replaced documents' rows and inserts
the new ones, reads the touched hashes' rows, adds to their counts the difference (new rows minus old rows:
df, votes, weak, tail), widens ``site_lo``/``site_hi`` by the new rows, and writes them back. A minimum or
maximum cannot be decremented, so a hash whose removed row carried its current ``site_lo`` or ``site_hi`` (and
whose documents are not all of one site) has both recounted from its rows. The rule of every touched hash is
decided again from its counts in the same transaction, and the frequency rule's histograms, outlier counts and
rules — of touched fingerprints and of others the change reaches — are brought up to date
(:func:`doublet.index_frequency.apply`); :meth:`Store.check` recounts everything from the rows with find's
functions.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from . import index_frequency as frequency
from .analysis import fingerprint_batch
from .config import Config
from .documents import Document, InputProblem
from .minhash import band_keys
from .progress import NullProgress, Progress
from .candidates import postings
from .template import (CONTENT, FREQUENCY, OUTLIER_MIN_DF, POS_BUCKETS, RULES, USER, Rules, Templates, decide,
                       doc_histogram, frequent, outlier_rows, site_key, site_of, user_hashes)

FORMAT = 4  # 2: fingerprint positions (fp.pos); 3: shape flags, sites, per-hash template counts and rules;
# 4: the frequency rule (docs.pos, docfreq, hashes.outl)
DB_NAME = "index.sqlite"
LOCK_NAME = "writer.lock"
EXECUTION_FIELDS = frozenset({"workers", "memory_limit", "tmp_dir", "extra"})
"""Config fields that only say how to run, not what to compute: they may differ from the stored Config."""

BATCH_SIZE = 1000  # documents per write transaction
IN_CHUNK = 4000  # values per ``IN (...)`` list
_WAL_PAGES_WHILE_ADDING = 16384  # checkpoint every ~64 MB of WAL during an add (default: ~4 MB)
_CREATING = ".creating"
_ROWS_PER_INSERT = 500  # rows per multi-row INSERT statement
_NO_SITE_LO = 1 << 62  # "no new row": leaves site_lo as it is in the upsert's MIN()
_PROBE = ("The kernel probe: doublet's fingerprints of this text must not change, or stored hashes lose their "
          "meaning. Ünïcödé, ﬁ ligatures, Кириллица, 漢字かな交じり文, 123 456, e-mail a@b.c, "
          "http://example.com/x — and a word hyphen-\nated across a line.\n\nHome | News | Sport | Contact\n"
          "© 2024 Example Media. All rights reserved.")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sites (site INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE);
CREATE TABLE docs (
    doc INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    sha BLOB NOT NULL,
    chars INTEGER NOT NULL,
    words INTEGER NOT NULL,
    site INTEGER NOT NULL,
    fps BLOB NOT NULL,
    shapes BLOB NOT NULL,
    pos BLOB NOT NULL,
    bands BLOB NOT NULL,
    added REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE texts (doc INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE fp (hash INTEGER NOT NULL, doc INTEGER NOT NULL, pos INTEGER NOT NULL, shape INTEGER NOT NULL,
    PRIMARY KEY (hash, doc)) WITHOUT ROWID;
CREATE TABLE hashes (hash INTEGER PRIMARY KEY, df INTEGER NOT NULL, votes INTEGER NOT NULL, weak INTEGER NOT NULL,
    tail INTEGER NOT NULL, site_lo INTEGER NOT NULL, site_hi INTEGER NOT NULL, rule INTEGER NOT NULL,
    outl INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX hashes_template ON hashes (hash, rule, df) WHERE rule != 0;
CREATE TABLE band (key INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (key, doc)) WITHOUT ROWID;
CREATE TABLE docfreq (doc INTEGER PRIMARY KEY, words INTEGER NOT NULL, hist BLOB NOT NULL);
"""

STAT_COLUMNS = ("df", "votes", "weak", "tail", "site_lo", "site_hi")
"""The per-hash counts of ``hashes``, in :class:`doublet.candidates.HashStats`'s order."""


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

@dataclass(slots=True)
class AddReport:
    """What one :meth:`Index.add` did, by document id."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # same id, new text (or site): the old text is gone
    unchanged: list[str] = field(default_factory=list)  # same id, same text and site: nothing written
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
    site: str | None = None  # its site (template.site_key of its URL or site), if it has one


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

def enc(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


def dec(b: bytes) -> str:
    return bytes(b).decode("utf-8", "surrogatepass")


def sha(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).digest()


def i64(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.int64)


def u8(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint8)


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for lo in range(0, len(values), size):
        yield values[lo:lo + size]


def select_in(con: sqlite3.Connection, sql: str, values: Sequence[Any]) -> list[tuple]:
    """Rows of ``sql`` (with one ``{in}`` placeholder for an IN list) for all ``values``, chunked."""
    rows: list[tuple] = []
    for part in _chunks(values):
        rows.extend(con.execute(sql.format(**{"in": ",".join("?" * len(part))}), part).fetchall())
    return rows


def select_array(con: sqlite3.Connection, sql: str, values: np.ndarray, width: int) -> np.ndarray:
    """:func:`select_in` of integer values whose rows are ``width`` integers, as an int64 (n, width) array."""
    rows = select_in(con, sql, values.tolist())
    return np.array(rows, np.int64).reshape(-1, width)


def insert_rows(con: sqlite3.Connection, head: str, columns: Sequence[np.ndarray], tail: str = "") -> list[tuple]:
    """``head VALUES (?, ..), (?, ..), ... tail`` for parallel integer columns, ``_ROWS_PER_INSERT`` rows per
    statement: binding one flat list per statement costs far less than ``executemany``'s row-by-row binding.
    Returns what the statements return (with a ``RETURNING`` tail)."""
    n = int(columns[0].shape[0]) if columns else 0
    out: list[tuple] = []
    if n == 0:
        return out
    width = len(columns)
    flat = np.stack([np.asarray(c, np.int64) for c in columns], 1).ravel().tolist()
    row = "(" + ",".join("?" * width) + ")"
    k = _ROWS_PER_INSERT
    full = n // k
    if full:
        sql = f"{head} VALUES {','.join([row] * k)} {tail}"
        for i in range(full):
            out.extend(con.execute(sql, flat[i * k * width:(i + 1) * k * width]).fetchall())
    if n > full * k:
        out.extend(con.execute(f"{head} VALUES {','.join([row] * (n - full * k))} {tail}",
                               flat[full * k * width:]).fetchall())
    return out


def algorithmic(cfg: Config) -> dict[str, Any]:
    """The parameters that decide what the index computes, as stored (the user's template texts in full)."""
    d = {k: v for k, v in cfg.to_dict().items() if k not in EXECUTION_FIELDS}
    d["template_texts"] = list(cfg.template_texts)
    return d


def config_from(stored: dict[str, Any], workers: int, given: Config | None) -> Config:
    """The Config an index runs with: the stored parameters, and the execution ones given."""
    params: dict[str, Any] = {**stored, "workers": max(1, workers)}
    params["template_rules"] = tuple(params.get("template_rules", ()))
    params["template_texts"] = tuple(params.get("template_texts", ()))
    if given is not None:
        params.update(memory_limit=given.memory_limit, tmp_dir=given.tmp_dir)
    return Config(**params)


def kernel_probe(cfg: Config) -> str:
    bp = fingerprint_batch([_PROBE], cfg)
    bands, rows = cfg.lsh_params()
    h = hashlib.blake2b(digest_size=16)
    for arr in (bp.n_words, bp.sigs, bp.fp_hashes, bp.fp_pos, bp.fp_shape, band_keys(bp.sigs, bands, rows)):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


# ------------------------------------------------------------------------------------------ fingerprint jobs

@dataclass(frozen=True, slots=True)
class Prints:
    """What the index stores about a batch of texts (document ``i`` owns ``counts[i]`` distinct hashes)."""

    words: np.ndarray  # int64 per document
    has_sig: np.ndarray  # bool per document
    keys: np.ndarray  # (n, bands) int64 LSH band keys
    counts: np.ndarray  # int64 distinct fingerprints per document
    hashes: np.ndarray  # int64, per document ascending, documents back to back
    positions: np.ndarray  # int64 per hash: the word where it first starts in its document
    shapes: np.ndarray  # uint8 per hash: the shape flag of that first occurrence

    def bounds(self) -> np.ndarray:
        return np.r_[0, np.cumsum(self.counts)]

    def blobs(self, i: int, bounds: np.ndarray) -> tuple[bytes, bytes, bytes, bytes]:
        """``fps``, ``shapes``, ``pos`` and ``bands`` of document ``i`` as stored in ``docs``."""
        lo, hi = bounds[i], bounds[i + 1]
        return (self.hashes[lo:hi].tobytes(), self.shapes[lo:hi].tobytes(),
                self.positions[lo:hi].astype(np.uint32).tobytes(), self.keys[i].tobytes() if self.has_sig[i] else b"")


def prints_job(texts: list[str], cfg: Config) -> Prints:
    """Fingerprint a batch (find's stage functions) and reduce it to what the index stores: each document's
    distinct fingerprints with the position and shape flag of their first occurrence (the row find's postings
    keep for a document)."""
    n = len(texts)
    bp = fingerprint_batch(texts, cfg)
    bands, rows = cfg.lsh_params()
    keys = band_keys(bp.sigs, bands, rows).view(np.int64) if n else np.empty((0, bands), np.int64)
    doc = np.repeat(np.arange(n, dtype=np.int64), bp.fp_counts)
    h = bp.fp_hashes.view(np.int64)
    order = np.lexsort((h, doc))  # stable: a repeated hash keeps its first occurrence first
    doc, h, pos, shape = doc[order], h[order], bp.fp_pos.astype(np.int64)[order], bp.fp_shape[order]
    keep = np.r_[True, (doc[1:] != doc[:-1]) | (h[1:] != h[:-1])] if h.shape[0] else np.empty(0, bool)
    doc, h, pos, shape = doc[keep], h[keep], pos[keep], shape[keep]
    return Prints(bp.n_words.astype(np.int64), bp.has_sig.copy(), np.ascontiguousarray(keys),
                  np.bincount(doc, minlength=n).astype(np.int64), np.ascontiguousarray(h), pos,
                  np.ascontiguousarray(shape, np.uint8))


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


@dataclass(frozen=True, slots=True)
class _Rows:
    """Fingerprint rows of a write (int64 arrays): hash, document, position, shape flag, the document's site."""

    hash: np.ndarray
    doc: np.ndarray
    pos: np.ndarray
    shape: np.ndarray
    site: np.ndarray


@dataclass(slots=True)
class _Pending:
    """A document of an add batch that must be written."""

    doc: Document
    body: bytes
    sha: bytes
    site: str | None  # its site key
    rowid: int | None = None  # set when it replaces a stored document
    old_fps: bytes = b""
    old_shapes: bytes = b""
    old_pos: bytes = b""
    old_bands: bytes = b""
    old_site: int = 0


def batches(docs: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for d in docs:
        batch.append(d)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One read transaction: the connection and the generations it sees."""

    con: sqlite3.Connection
    generation: str
    template_generation: str
    created: str


# ------------------------------------------------------------------------------------------ the store

class Store:
    """The index's database: one SQLite connection, its writes and the reads that queries build on."""

    def __init__(self, path: Path, con: sqlite3.Connection, cfg: Config, lock_timeout: float):
        self.path = path
        self.config = cfg
        self.lock_timeout = lock_timeout
        self.rules = Rules.of(cfg)
        self.user = user_hashes(cfg.template_texts, cfg.shingle_size).view(np.int64) if cfg.template_texts else \
            np.empty(0, np.int64)
        self._con: sqlite3.Connection | None = con
        self.lock = threading.RLock()
        self._read_depth = 0
        self._snapshot: Snapshot | None = None

    # --- opening

    @classmethod
    def create(cls, path: str | Path, config: Config | None = None, *, workers: int | None = None,
               lock_timeout: float = 10.0) -> Store:
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
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    con.execute(stmt)
            meta = {"format": str(FORMAT), "config": json.dumps(algorithmic(cfg), sort_keys=True),
                    "doublet_version": __version__, "kernel_probe": kernel_probe(cfg),
                    "created": repr(time.time()), "generation": "0", "template_generation": "0"}
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
             workers: int | None = None, lock_timeout: float = 10.0) -> Store:
        """Open the index in folder ``path`` (see :meth:`doublet.index.Index.open`)."""
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
            given = algorithmic(config)
            diff = [f"{k}={_shown(stored.get(k))} (given {_shown(given[k])})" for k in sorted(given)
                    if stored.get(k) != given[k]]
            if diff:
                con.close()
                raise IndexConfigMismatch(f"{p} was created with other parameters: " + ", ".join(diff)
                                          + "; open it without them or create a new index")
        n_workers = workers if workers is not None else (config.workers if config is not None else 1)
        cfg = config_from(stored, n_workers, config)
        if meta.get("kernel_probe") != kernel_probe(cfg):
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
        with self.lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    @property
    def con(self) -> sqlite3.Connection:
        if self._con is None:
            raise DoubletIndexError("the index is closed")
        return self._con

    # --- snapshots

    @contextmanager
    def read(self) -> Iterator[Snapshot]:
        """A read transaction (one consistent snapshot), re-entrant."""
        with self.lock:
            con = self.con
            if self._read_depth:
                self._read_depth += 1
                try:
                    assert self._snapshot is not None
                    yield self._snapshot
                finally:
                    self._read_depth -= 1
                return
            con.execute("BEGIN")
            self._read_depth = 1
            try:
                meta = dict(con.execute("SELECT key, value FROM meta WHERE key IN "
                                        "('generation', 'template_generation', 'created')"))
                self._snapshot = Snapshot(con, meta["generation"], meta["template_generation"], meta["created"])
                yield self._snapshot
            finally:
                self._read_depth = 0
                self._snapshot = None
                if con.in_transaction:
                    con.execute("COMMIT")

    # --- reads that queries build on (inside a snapshot)

    def hash_stats(self, con: sqlite3.Connection, hashes: np.ndarray) -> np.ndarray:
        """(n, 8) int64: df, votes, weak, tail, site_lo, site_hi, rule, outl of each of the sorted unique
        ``hashes`` (int64); zeros for hashes no document holds."""
        out = np.zeros((hashes.shape[0], 8), np.int64)
        got = select_array(con, "SELECT hash, df, votes, weak, tail, site_lo, site_hi, rule, outl FROM hashes "
                                "WHERE hash IN ({in})", hashes, 9)
        out[np.searchsorted(hashes, got[:, 0])] = got[:, 1:]
        return out

    def fp_rows(self, con: sqlite3.Connection, hashes: np.ndarray) -> np.ndarray:
        """(n, 3) int64: hash, doc, pos of every row of the given hashes, sorted by (hash, doc)."""
        rows = select_array(con, "SELECT hash, doc, pos FROM fp WHERE hash IN ({in})", hashes, 3)
        return rows[np.lexsort((rows[:, 1], rows[:, 0]))]

    def band_rows(self, con: sqlite3.Connection, keys: np.ndarray) -> np.ndarray:
        """(n, 2) int64: key, doc of every band row with one of the given keys, sorted by (key, doc)."""
        rows = select_array(con, "SELECT key, doc FROM band WHERE key IN ({in})", keys, 2)
        return rows[np.lexsort((rows[:, 1], rows[:, 0]))]

    def template_hashes(self, con: sqlite3.Connection) -> np.ndarray:
        """The sorted hashes of every template fingerprint (uint64, read-only): what verification masks."""
        out = np.array([h for (h,) in con.execute("SELECT hash FROM hashes WHERE rule != 0")],
                       np.int64).view(np.uint64)
        out = np.sort(out)
        out.setflags(write=False)
        return out

    def template_rules_of(self, con: sqlite3.Connection, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The template fingerprints among ``hashes`` (int64): sorted hashes and their rules."""
        got = select_array(con, "SELECT hash, rule FROM hashes WHERE hash IN ({in}) AND rule != 0",
                           np.unique(hashes), 2)
        order = np.argsort(got[:, 0])
        return got[order, 0], got[order, 1].astype(np.uint8)

    def templates(self, con: sqlite3.Connection) -> Templates:
        """Every template fingerprint with its rule, df and example (the first-added document holding it and
        its position there; ``doc`` = the document's row number)."""
        rows = np.array(con.execute(
            "SELECT t.hash, t.rule, t.df, f.doc, f.pos FROM hashes t JOIN fp f ON f.hash = t.hash "
            "AND f.doc = (SELECT MIN(doc) FROM fp WHERE hash = t.hash) WHERE t.rule != 0").fetchall(),
            np.int64).reshape(-1, 5)
        h = rows[:, 0].view(np.uint64)
        order = np.argsort(h)
        return Templates(h[order], rows[order, 1].astype(np.uint8), rows[order, 2], rows[order, 3],
                         rows[order, 4].astype(np.uint32))

    def site_numbers(self, con: sqlite3.Connection, keys: Sequence[str | None]) -> list[int]:
        """The stored site number of each site key (0: no site; -1: a site no document has)."""
        wanted = sorted({k for k in keys if k is not None})
        known = {dec(k): int(s) for s, k in select_in(con, "SELECT site, key FROM sites WHERE key IN ({in})",
                                                      [enc(k) for k in wanted])}
        return [0 if k is None else known.get(k, -1) for k in keys]

    def docs_by_id(self, con: sqlite3.Connection, ids: Sequence[str]) -> dict[bytes, tuple]:
        """Stored rows of documents by id: doc, sha, site, fps, shapes, bands, site key, pos."""
        return {bytes(i): (int(r), bytes(s), int(site), f, sh, b, None if k is None else dec(k), p)
                for r, i, s, site, f, sh, b, k, p in select_in(
                    con, "SELECT d.doc, d.id, d.sha, d.site, d.fps, d.shapes, d.bands, s.key, d.pos FROM docs d "
                         "LEFT JOIN sites s ON s.site = d.site WHERE d.id IN ({in})", [enc(i) for i in ids])}

    def names(self, con: sqlite3.Connection, rowids: Iterable[int]) -> dict[int, str]:
        return {int(r): dec(i) for r, i in select_in(con, "SELECT doc, id FROM docs WHERE doc IN ({in})",
                                                      sorted(set(rowids)))}

    def texts(self, con: sqlite3.Connection, rowids: Iterable[int]) -> dict[int, bytes]:
        return {int(r): bytes(b) for r, b in select_in(con, "SELECT doc, body FROM texts WHERE doc IN ({in})",
                                                        sorted(set(rowids)))}

    def shas(self, con: sqlite3.Connection, rowids: Iterable[int]) -> dict[int, bytes]:
        return {int(r): bytes(h) for r, h in select_in(con, "SELECT doc, sha FROM docs WHERE doc IN ({in})",
                                                        sorted(set(rowids)))}

    # --- reading documents

    def __len__(self) -> int:
        with self.read() as snap:
            return int(snap.con.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    def contains(self, doc_id: str) -> bool:
        with self.read() as snap:
            return snap.con.execute("SELECT 1 FROM docs WHERE id = ?", (enc(doc_id),)).fetchone() is not None

    def get(self, doc_id: str) -> IndexedDocument | None:
        with self.read() as snap:
            row = snap.con.execute(
                "SELECT d.chars, d.words, d.added, d.updated, t.body, s.key FROM docs d JOIN texts t ON t.doc = d.doc "
                "LEFT JOIN sites s ON s.site = d.site WHERE d.id = ?", (enc(doc_id),)).fetchone()
        if row is None:
            return None
        return IndexedDocument(doc_id, dec(row[4]), int(row[0]), int(row[1]), float(row[2]), float(row[3]),
                               None if row[5] is None else dec(row[5]))

    def ids(self) -> list[str]:
        with self.read() as snap:
            return [dec(i) for (i,) in snap.con.execute("SELECT id FROM docs ORDER BY doc")]

    def recent(self, n: int) -> tuple[int, int, list[dict[str, Any]]]:
        """(documents, characters, the ``n`` documents added last: ``{"id", "chars", "site", "added"}``)."""
        with self.read() as snap:
            count, chars = snap.con.execute("SELECT COUNT(*), COALESCE(SUM(chars), 0) FROM docs").fetchone()
            rows = snap.con.execute("SELECT d.id, d.chars, s.key, d.added FROM docs d LEFT JOIN sites s ON "
                                    "s.site = d.site ORDER BY d.doc DESC LIMIT ?", (n,)).fetchall()
        return int(count), int(chars), [{"id": dec(i), "chars": int(c), "site": None if k is None else dec(k),
                                          "added": float(t)} for i, c, k, t in rows]

    # --- adding

    @contextmanager
    def writer(self) -> Iterator[int]:
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

    def add(self, docs: Iterable[Document], problems: list[InputProblem], progress: Progress | None,
            batch_size: int) -> AddReport:
        """Add documents in transactions of ``batch_size`` (see :meth:`doublet.index.Index.add`)."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        t0 = time.perf_counter()
        progress = progress or NullProgress()
        report = AddReport(problems=problems)
        with self.lock, self.writer() as lock_fd:
            con = self.con
            con.execute(f"PRAGMA wal_autocheckpoint={_WAL_PAGES_WHILE_ADDING}")
            pool: ProcessPoolExecutor | None = None
            try:
                progress.start("add", None)
                inflight: list[tuple[list[_Pending], Future | Prints]] = []
                ahead = 2 * self.config.workers + 1
                for k, batch in enumerate(batches(docs, batch_size)):
                    todo = self._classify(con, batch, report)
                    texts = [p.doc.text for p in todo]
                    if pool is None and k >= 1 and self.config.workers > 1:  # more than one batch: worth a pool
                        pool = ProcessPoolExecutor(self.config.workers, initializer=_worker_init,
                                                   initargs=(lock_fd, os.getpid()))
                    job: Future | Prints
                    job = pool.submit(prints_job, texts, self.config) if pool is not None and todo else \
                        prints_job(texts, self.config)
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
    def _resolve(item: tuple[list[_Pending], Future | Prints]) -> tuple[list[_Pending], Prints]:
        todo, job = item
        return todo, (job.result() if isinstance(job, Future) else job)

    def _classify(self, con: sqlite3.Connection, batch: list[Document], report: AddReport) -> list[_Pending]:
        """Split a batch into unchanged documents (reported now) and documents to write (returned)."""
        stored = self.docs_by_id(con, [d.id for d in batch])
        todo: list[_Pending] = []
        for d in batch:
            report.characters += len(d.text)
            body = enc(d.text)
            digest = sha(body)
            key = site_key(site_of(d))
            old = stored.get(enc(d.id))
            if old is None:
                todo.append(_Pending(d, body, digest, key))
            elif old[1] == digest and old[6] == key:
                report.unchanged.append(d.id)
            else:
                todo.append(_Pending(d, body, digest, key, old[0], bytes(old[3]), bytes(old[4]), bytes(old[7]),
                                     bytes(old[5]), old[2]))
        return todo

    def _site_numbers_for_write(self, con: sqlite3.Connection, keys: list[str | None]) -> np.ndarray:
        """Site numbers of the keys, numbering new sites (inside the write transaction)."""
        new = sorted({k for k in keys if k is not None})
        if new:
            con.executemany("INSERT OR IGNORE INTO sites (key) VALUES (?)", [(enc(k),) for k in new])
        return np.array(self.site_numbers(con, keys), np.int64)

    def _write(self, con: sqlite3.Connection, todo: list[_Pending], pr: Prints, report: AddReport) -> None:
        """One transaction: the documents of a batch with all their rows, and the counts and rules they change."""
        if not todo:
            return
        now = time.time()
        bounds = pr.bounds()
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise IndexBusy(f"another process is writing to this index ({self.path}); retry later ({exc})") from None
        try:
            nxt = first = int(con.execute("SELECT COALESCE(MAX(doc), 0) FROM docs").fetchone()[0]) + 1
            sites = self._site_numbers_for_write(con, [p.site for p in todo])
            rowids = np.empty(len(todo), np.int64)
            old_h: list[np.ndarray] = []
            old_s: list[np.ndarray] = []
            old_site: list[np.ndarray] = []
            old_doc: list[np.ndarray] = []
            old_pos: list[np.ndarray] = []
            old_rows: list[tuple[int, int]] = []
            old_bands: list[tuple[int, int]] = []
            new_docs, upd_docs, new_texts, upd_texts = [], [], [], []
            for k, p in enumerate(todo):
                fps, shapes, pos, bands = pr.blobs(k, bounds)
                site = int(sites[k])
                if p.rowid is None:
                    rowids[k] = nxt
                    new_docs.append((nxt, enc(p.doc.id), p.sha, len(p.doc.text), int(pr.words[k]), site, fps, shapes,
                                     pos, bands, now, now))
                    new_texts.append((nxt, p.body))
                    nxt += 1
                else:
                    rowids[k] = p.rowid
                    oh = i64(p.old_fps)
                    old_h.append(oh)
                    old_s.append(u8(p.old_shapes))
                    old_site.append(np.full(oh.shape[0], p.old_site, np.int64))
                    old_doc.append(np.full(oh.shape[0], p.rowid, np.int64))
                    old_pos.append(np.frombuffer(p.old_pos, np.uint32).astype(np.int64))
                    old_rows.extend(zip(oh.tolist(), [p.rowid] * oh.shape[0]))
                    old_bands.extend(zip(i64(p.old_bands).tolist(), [p.rowid] * (len(p.old_bands) // 8)))
                    upd_docs.append((p.sha, len(p.doc.text), int(pr.words[k]), site, fps, shapes, pos, bands, now,
                                     p.rowid))
                    upd_texts.append((p.body, p.rowid))
            # remove what replaced documents stored
            if old_rows:
                con.executemany("DELETE FROM fp WHERE hash = ? AND doc = ?", old_rows)
            if old_bands:
                con.executemany("DELETE FROM band WHERE key = ? AND doc = ?", old_bands)
            if upd_docs:
                con.executemany("UPDATE docs SET sha = ?, chars = ?, words = ?, site = ?, fps = ?, shapes = ?, "
                                "pos = ?, bands = ?, updated = ? WHERE doc = ?", upd_docs)
                con.executemany("UPDATE texts SET body = ? WHERE doc = ?", upd_texts)
            if new_docs:
                con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", new_docs)
                con.executemany("INSERT INTO texts VALUES (?, ?)", new_texts)
            # fingerprint rows, in (hash, doc) order
            d = np.repeat(rowids, pr.counts)
            order = np.lexsort((d, pr.hashes))
            h, d, pos, shape = pr.hashes[order], d[order], pr.positions[order], pr.shapes[order]
            insert_rows(con, "INSERT INTO fp", (h, d, pos, shape))
            added = _Rows(h, d, pos, shape, np.repeat(sites, pr.counts)[order])
            removed = _Rows(*(np.concatenate(x) for x in (old_h, old_doc, old_pos, old_s, old_site))) if old_h else None
            batch = np.argsort(rowids)
            changed = self._update_counts(con, added, removed, rowids[batch], pr.words[batch], first)
            # LSH band rows
            sig = np.flatnonzero(pr.has_sig)
            if sig.shape[0]:
                keys = pr.keys[sig]
                kd = np.repeat(rowids[sig], keys.shape[1])
                insert_rows(con, "INSERT OR IGNORE INTO band", (keys.ravel(), kd))
            con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
            if changed:
                con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'template_generation'")
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        for p in todo:
            (report.added if p.rowid is None else report.replaced).append(p.doc.id)

    def _update_counts(self, con: sqlite3.Connection, added: _Rows, removed: _Rows | None, batch: np.ndarray,
                       words: np.ndarray, below: int) -> bool:
        """Apply the batch's new rows and removed ones to ``hashes``; decide the rules of every touched hash
        again, and keep the frequency rule's counts (:mod:`doublet.index_frequency`: ``docfreq``, ``outl``, and
        the rules of untouched fingerprints they change). ``batch``: the batch's documents (sorted), ``words``
        their lengths, ``below``: the first new document's number. Returns whether the set of template
        fingerprints changed.

        The touched hashes' stored rows are read, the batch's difference added (new rows minus removed ones:
        df, votes, weak, tail; the new rows' sites widen site_lo/site_hi), and the rows written back: new hashes
        inserted, the others updated, emptied ones deleted. A removed row that carried a hash's smallest or
        largest site (its documents not all of one site) has both recounted from the fingerprint rows, which
        already hold the batch."""
        h, shape, site = added.hash, added.shape, added.site
        if removed is not None:
            rh = removed.hash
            allh = np.concatenate([h, rh])
            w = np.concatenate([np.ones(h.shape[0], np.int64), -np.ones(rh.shape[0], np.int64)])
            allshape = np.concatenate([shape, removed.shape])
            lo_of = np.concatenate([site, np.full(rh.shape[0], _NO_SITE_LO, np.int64)])
            hi_of = np.concatenate([site, np.full(rh.shape[0], -1, np.int64)])
        else:
            allh, w, allshape, lo_of, hi_of = h, np.ones(h.shape[0], np.int64), shape, site, site
        uh, inv = np.unique(allh, return_inverse=True)
        inv = inv.ravel()
        new = np.zeros((uh.shape[0], 8), np.int64)  # df, votes, weak, tail, site_lo, site_hi, rule, outl
        for col, sel in enumerate((1, allshape == 1, allshape == 2, allshape == 3)):
            new[:, col] = np.bincount(inv, weights=w * sel, minlength=uh.shape[0])
        new[:, 4], new[:, 5] = _NO_SITE_LO, -1
        np.minimum.at(new[:, 4], inv, lo_of)
        np.maximum.at(new[:, 5], inv, hi_of)
        old = select_array(con, "SELECT hash, df, votes, weak, tail, site_lo, site_hi, rule, outl FROM hashes "
                                "WHERE hash IN ({in})", uh, 9)
        held = np.zeros(uh.shape[0], bool)
        at = np.searchsorted(uh, old[:, 0])
        held[at] = True
        old_df, old_rule, old_outl = (np.zeros(uh.shape[0], np.int64) for _ in range(3))
        old_df[at], old_rule[at], old_outl[at] = old[:, 1], old[:, 7], old[:, 8]
        new[at, :4] += old[:, 1:5]
        new[at, 4] = np.minimum(new[at, 4], old[:, 5])
        new[at, 5] = np.maximum(new[at, 5], old[:, 6])
        df = new[:, 0]
        if removed is not None:  # a removed row carrying the smallest or largest site: recount both from the rows
            k = np.searchsorted(uh, removed.hash)
            recount = np.zeros(uh.shape[0], bool)
            recount[k[(removed.site == new[k, 4]) | (removed.site == new[k, 5])]] = True
            recount &= (new[:, 4] != new[:, 5]) & (df > 0)
            if recount.any():
                again = select_array(con, "SELECT f.hash, MIN(d.site), MAX(d.site) FROM fp f JOIN docs d ON "
                                          "d.doc = f.doc WHERE f.hash IN ({in}) GROUP BY f.hash", uh[recount], 3)
                k = np.searchsorted(uh, again[:, 0])
                new[k, 4], new[k, 5] = again[:, 1], again[:, 2]
        new[:, 6] = self.decide(uh, *new[:, :6].T)
        changed = False
        if self.rules.frequency:
            none = np.empty((0, 3), np.int64)
            out = frequency.apply(frequency.StoredSource(con, below), frequency.Change(
                uh, old_df, old_rule, old_outl, df.copy(), new[:, 6].copy(),
                np.stack([added.hash, added.doc, added.pos], 1),
                none if removed is None else np.stack([removed.hash, removed.doc, removed.pos], 1), batch, words))
            new[:, 6], new[:, 7] = out.rule, out.outl
            if out.docs.shape[0]:
                con.executemany("INSERT OR REPLACE INTO docfreq VALUES (?, ?, ?)",
                                zip(out.docs.tolist(), out.words.tolist(),
                                    (r.tobytes() for r in out.hist.astype(np.int32))))
            if out.other_hashes.shape[0]:
                con.executemany("UPDATE hashes SET outl = ?, rule = ? WHERE hash = ?",
                                zip(out.other_outl.tolist(), out.other_rule.tolist(), out.other_hashes.tolist()))
                changed = bool((out.other_rule != out.other_rule_old).any())
        gone = df <= 0
        if gone.any():
            con.executemany("DELETE FROM hashes WHERE hash = ?", zip(uh[gone].tolist()))
        fresh = ~held
        insert_rows(con, "INSERT INTO hashes", (uh[fresh], *new[fresh].T))
        kept = held & ~gone
        insert_rows(con, "INSERT INTO hashes", (uh[kept], *new[kept].T),
                    "ON CONFLICT (hash) DO UPDATE SET df = excluded.df, votes = excluded.votes, weak = excluded.weak, "
                    "tail = excluded.tail, site_lo = excluded.site_lo, site_hi = excluded.site_hi, rule = excluded.rule, "
                    "outl = excluded.outl")
        return changed or bool(((old_rule != CONTENT) != ((new[:, 6] != CONTENT) & ~gone)).any())

    def decide(self, h: np.ndarray, df: np.ndarray, votes: np.ndarray, weak: np.ndarray, tail: np.ndarray,
               site_lo: np.ndarray, site_hi: np.ndarray) -> np.ndarray:
        """The rule of each hash from its counts: :func:`doublet.template.decide`, and the user's template texts
        (as :func:`doublet.candidates.postings` applies them)."""
        rule = decide(df, votes, weak, tail, site_lo, site_hi, self.rules).astype(np.int64)
        if self.user.shape[0]:
            rule[(rule == CONTENT) & np.isin(h, self.user)] = USER
        return rule

    # --- statistics and checks

    def stats(self) -> dict[str, Any]:
        """Counts, document-frequency histogram (as find's summary), templates by rule, sizes, parameters."""
        cfg = self.config
        m = int(cfg.max_df)
        with self.read() as snap:
            con = snap.con
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            n, chars, words, last = con.execute(
                "SELECT COUNT(*), COALESCE(SUM(chars), 0), COALESCE(SUM(words), 0), MAX(updated) FROM docs").fetchone()
            df1, dfmid, dfbig, templ, distinct, rows = (int(x) for x in con.execute(
                f"SELECT COALESCE(SUM(df = 1 AND rule = 0), 0), COALESCE(SUM(rule = 0 AND df BETWEEN 2 AND {m}), 0), "
                f"COALESCE(SUM(rule = 0 AND df > {m}), 0), COALESCE(SUM(rule != 0), 0), COUNT(*), "
                "COALESCE(SUM(df), 0) FROM hashes").fetchone())
            by_rule = {int(r): (int(c), int(o)) for r, c, o in con.execute(
                "SELECT rule, COUNT(*), SUM(df) FROM hashes WHERE rule != 0 GROUP BY rule")}
            bands = con.execute("SELECT COUNT(*) FROM band").fetchone()[0]
            n_sites = con.execute("SELECT COUNT(*) FROM sites").fetchone()[0]
        files = {f.name: f.stat().st_size for f in sorted(self.path.glob(DB_NAME + "*")) if f.is_file()}
        return {
            "path": str(self.path),
            "documents": int(n), "characters": int(chars), "words": int(words), "sites": int(n_sites),
            "fingerprint_rows": rows, "distinct_fingerprints": distinct,
            "fingerprints": {"df=1": df1, f"df=2..{m}": dfmid, f"df>{m}": dfbig, "template": templ},
            "boilerplate_fingerprints": templ,
            "templates": {"fingerprints": templ,
                          "by_rule": {name: by_rule.get(c, (0, 0))[0] for c, name in enumerate(RULES, 1)},
                          "occurrences_by_rule": {name: by_rule.get(c, (0, 0))[1] for c, name in enumerate(RULES, 1)}},
            "band_rows": int(bands),
            "bytes_on_disk": sum(files.values()), "files": files,
            "created": float(meta["created"]), "last_write": float(last) if last is not None else None,
            "generation": int(meta["generation"]), "template_generation": int(meta["template_generation"]),
            "format": int(meta["format"]), "doublet_version": meta["doublet_version"],
            "parameters": {k: v for k, v in json.loads(meta["config"]).items() if k != "template_texts"}
            | {"template_texts": len(cfg.template_texts)},
        }

    def check(self, *, deep: bool = False) -> CheckReport:
        """SQLite's integrity check, then consistency: every document has its text (matching its hash), its
        fingerprint and band rows and no others exist, every per-hash count equals the recount from the rows,
        and every rule is the one those counts decide. ``deep`` also recomputes every document's fingerprints
        (and shape flags) from its text."""
        t0 = time.perf_counter()
        problems: list[str] = []
        checked: dict[str, int] = {}
        with self.read() as snap:
            con = snap.con
            res = [r for (r,) in con.execute("PRAGMA integrity_check")]
            if res != ["ok"]:
                problems.extend(f"sqlite: {r}" for r in res[:20])
                return CheckReport(False, problems, checked, time.perf_counter() - t0)
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            for key in ("format", "config", "kernel_probe", "generation", "template_generation", "created",
                        "doublet_version"):
                if key not in meta:
                    problems.append(f"meta: {key} missing")
            docs = con.execute("SELECT d.doc, d.id, d.sha, d.chars, d.site, d.fps, d.shapes, d.bands, t.body, "
                               "d.words, d.pos FROM docs d LEFT JOIN texts t ON t.doc = d.doc ORDER BY d.doc").fetchall()
            checked["documents"] = len(docs)
            n_texts = con.execute("SELECT COUNT(*) FROM texts").fetchone()[0]
            if n_texts != len(docs):
                problems.append(f"texts: {n_texts} rows for {len(docs)} documents")
            site_ids = {int(s) for (s,) in con.execute("SELECT site FROM sites")}
            fp_exp: list[np.ndarray] = []
            fp_doc: list[np.ndarray] = []
            fp_shape: list[np.ndarray] = []
            fp_pos: list[np.ndarray] = []
            band_exp: list[np.ndarray] = []
            band_doc: list[np.ndarray] = []
            site_of_doc: dict[int, int] = {}
            words_of_doc: dict[int, int] = {}
            for r, i, digest, chars, site, f, s, b, body, nw, pp in docs:
                site_of_doc[int(r)] = int(site)
                words_of_doc[int(r)] = int(nw)
                if site and site not in site_ids:
                    problems.append(f"document {dec(i)!r}: site {site} is not in the sites table")
                if body is None:
                    problems.append(f"document {dec(i)!r}: no text")
                    continue
                if sha(bytes(body)) != bytes(digest) or len(dec(body)) != chars:
                    problems.append(f"document {dec(i)!r}: text does not match its hash or length")
                h = i64(f)
                if h.shape[0] > 1 and not (h[1:] > h[:-1]).all():  # (np.diff would overflow)
                    problems.append(f"document {dec(i)!r}: fingerprints not sorted and distinct")
                if len(s) != h.shape[0]:
                    problems.append(f"document {dec(i)!r}: {len(s)} shape flags for {h.shape[0]} fingerprints")
                    s = bytes(h.shape[0])
                if len(pp) != 4 * h.shape[0]:
                    problems.append(f"document {dec(i)!r}: {len(pp) // 4} positions for {h.shape[0]} fingerprints")
                    pp = bytes(4 * h.shape[0])
                fp_pos.append(np.frombuffer(pp, np.uint32).astype(np.int64))
                fp_exp.append(h)
                fp_doc.append(np.full(h.shape[0], r, np.int64))
                fp_shape.append(u8(s))
                bk = i64(b)
                band_exp.append(bk)
                band_doc.append(np.full(bk.shape[0], r, np.int64))
            # fp rows == the documents' fingerprints and shape flags
            got = np.array(con.execute("SELECT hash, doc, shape, pos FROM fp ORDER BY hash, doc").fetchall(),
                           np.int64).reshape(-1, 4)
            exp_h = np.concatenate(fp_exp) if fp_exp else np.empty(0, np.int64)
            exp_d = np.concatenate(fp_doc) if fp_doc else np.empty(0, np.int64)
            exp_s = np.concatenate(fp_shape).astype(np.int64) if fp_shape else np.empty(0, np.int64)
            exp_p = np.concatenate(fp_pos) if fp_pos else np.empty(0, np.int64)
            o = np.lexsort((exp_d, exp_h))
            checked["fingerprint_rows"] = int(got.shape[0])
            if not (np.array_equal(got[:, 0], exp_h[o]) and np.array_equal(got[:, 1], exp_d[o])):
                problems.append(f"fp: {got.shape[0]} rows, but the documents hold {exp_h.shape[0]} fingerprints "
                                "(or others)")
            elif not np.array_equal(got[:, 2], exp_s[o]):
                problems.append("fp: shape flags differ from the documents' (docs.shapes)")
            elif not np.array_equal(got[:, 3], exp_p[o]):
                problems.append("fp: positions differ from the documents' (docs.pos)")
            # hashes == recount from the rows, rules == decided from the counts
            problems.extend(self._check_counts(con, got, site_of_doc, words_of_doc, checked))
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
                problems.extend(self._check_deep(con, docs, checked))
        if len(problems) > 50:
            problems = problems[:50] + [f"... and {len(problems) - 50} more"]
        return CheckReport(not problems, problems, checked, time.perf_counter() - t0)

    def _check_counts(self, con: sqlite3.Connection, rows: np.ndarray, site_of_doc: dict[int, int],
                      words_of_doc: dict[int, int], checked: dict[str, int]) -> list[str]:
        problems: list[str] = []
        stored = np.array(con.execute("SELECT hash, df, votes, weak, tail, site_lo, site_hi, rule, outl FROM hashes "
                                      "ORDER BY hash").fetchall(), np.int64).reshape(-1, 9)
        checked["hash_rows"] = int(stored.shape[0])
        h = rows[:, 0]
        starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]]) if h.shape[0] else np.empty(0, np.int64)
        uh = h[starts]
        if not np.array_equal(stored[:, 0], uh):
            bad = stored.shape[0] + uh.shape[0] - 2 * np.intersect1d(stored[:, 0], uh).shape[0]
            return [f"hashes: {stored.shape[0]} rows for {uh.shape[0]} distinct fingerprints, {bad} unmatched"]
        if not uh.shape[0]:
            return problems
        lookup = np.zeros(max(max(site_of_doc, default=0), max(words_of_doc, default=0)) + 1, np.int64)
        lookup[list(site_of_doc)] = list(site_of_doc.values())
        site = lookup[rows[:, 1]]
        counts = [np.diff(np.r_[starts, h.shape[0]])] + [np.add.reduceat((rows[:, 2] == f).astype(np.int64), starts)
                                                         for f in (1, 2, 3)]
        counts += [np.minimum.reduceat(site, starts), np.maximum.reduceat(site, starts)]
        for name, want, have in zip(STAT_COLUMNS, counts, stored[:, 1:7].T):
            if not np.array_equal(want, have):
                problems.append(f"hashes: {name} differs from the recount of the fingerprint rows for "
                                f"{int((want != have).sum())} fingerprints")
        rule = self.decide(uh, *counts)
        outl = np.zeros(uh.shape[0], np.int64)
        if self.rules.frequency:
            more, rule, outl = self._check_frequency(con, rows, lookup, words_of_doc, uh, rule, checked)
            problems.extend(more)
        if not np.array_equal(rule, stored[:, 7]):
            problems.append(f"hashes: the rule of {int((rule != stored[:, 7]).sum())} fingerprints is not the one "
                            "their counts decide")
        if not np.array_equal(outl, stored[:, 8]):
            problems.append(f"hashes: outl differs from the recount of outlier documents for "
                            f"{int((outl != stored[:, 8]).sum())} fingerprints")
        part = {int(x) for (x,) in con.execute("SELECT hash FROM hashes WHERE rule != 0")}
        if part != set(uh[stored[:, 7] != 0].tolist()):
            problems.append("hashes_template: the partial index disagrees with the rules")
        return problems

    def _check_frequency(self, con: sqlite3.Connection, rows: np.ndarray, site: np.ndarray,
                         words_of_doc: dict[int, int], uh: np.ndarray, rule: np.ndarray,
                         checked: dict[str, int]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """find's frequency rule over every fingerprint row (rows: hash, doc, shape, pos sorted by hash; ``site``
        per document number): :func:`doublet.candidates.postings` deferring the fingerprints held by
        OUTLIER_MIN_DF documents, the documents' histograms it counts (compared with ``docfreq``), the outlier
        counts of the deferred ones and their rules. Returns the problems, the rules with FREQUENCY set where the
        rule says so, and every hash's expected ``outl``."""
        problems: list[str] = []
        n = site.shape[0]
        words = np.zeros(n, np.int64)
        words[list(words_of_doc)] = list(words_of_doc.values())
        o = np.lexsort((rows[:, 3], rows[:, 1]))  # postings takes rows in (document, position) order
        post = postings(rows[o, 0].view(np.uint64), rows[o, 1], rows[o, 3], rows[o, 2], self.config.max_df,
                        rules=self.rules, site_of_doc=site, user=self.user.view(np.uint64) if self.user.shape[0] else None,
                        defer_min_df=OUTLIER_MIN_DF, n_words=words, anchors=np.empty(0, np.int64))
        assert post.pending is not None and post.doc_buckets is not None and post.doc_own is not None
        hist = np.concatenate([doc_histogram(n, *post.doc_buckets), doc_histogram(n, *post.doc_own, POS_BUCKETS)], 1)
        got = con.execute("SELECT doc, words, hist FROM docfreq ORDER BY doc").fetchall()
        docs = sorted(words_of_doc)
        checked["docfreq_rows"] = len(got)
        if [r for r, _, _ in got] != docs:
            problems.append(f"docfreq: {len(got)} rows for {len(docs)} documents (or others)")
        else:
            have = np.frombuffer(b"".join(bytes(b) for _, _, b in got), np.int32).reshape(-1, frequency.WIDTH)
            if not np.array_equal(have, hist[docs]) or [w for _, w, _ in got] != words[docs].tolist():
                bad = int((have != hist[docs]).any(axis=1).sum())
                problems.append(f"docfreq: the histograms of {bad} documents differ from the recount of their rows")
        typ, lo, hi = frequency.params(hist)
        ph, pd, pp = post.pending
        ph = ph.view(np.int64)
        starts = np.flatnonzero(np.r_[True, ph[1:] != ph[:-1]]) if ph.shape[0] else np.empty(0, np.int64)
        runs = np.diff(np.r_[starts, ph.shape[0]])
        bits = outlier_rows(np.repeat(runs, runs), pd, pp, typ, lo, hi, words).astype(np.int64)
        n_out = np.add.reduceat(bits, starts) if starts.shape[0] else np.empty(0, np.int64)
        k = np.searchsorted(uh, ph[starts])
        outl = np.zeros(uh.shape[0], np.int64)
        outl[k] = n_out
        rule = rule.copy()
        rule[k[frequent(runs, n_out)]] = FREQUENCY
        return problems, rule, outl

    def _check_deep(self, con: sqlite3.Connection, docs: list[tuple], checked: dict[str, int]) -> list[str]:
        problems: list[str] = []
        differ = 0
        for lo in range(0, len(docs), BATCH_SIZE):
            part = [d for d in docs[lo:lo + BATCH_SIZE] if d[8] is not None]
            pr = prints_job([dec(d[8]) for d in part], self.config)
            bounds = pr.bounds()
            for k, d in enumerate(part):
                fps, shapes, pos, bands = pr.blobs(k, bounds)
                stored_pos = con.execute("SELECT hash, pos, shape FROM fp WHERE doc = ? ORDER BY hash",
                                         (d[0],)).fetchall()
                h = pr.hashes[bounds[k]:bounds[k + 1]]
                o = np.argsort(h, kind="stable")
                want = list(zip(h[o].tolist(), pr.positions[bounds[k]:bounds[k + 1]][o].tolist(),
                                pr.shapes[bounds[k]:bounds[k + 1]][o].tolist()))
                if (fps != bytes(d[5]) or shapes != bytes(d[6]) or bands != bytes(d[7]) or pos != bytes(d[10])
                        or stored_pos != want):
                    differ += 1
                    if differ <= 10:
                        problems.append(f"document {dec(d[1])!r}: stored fingerprints differ from its text's")
        checked["recomputed"] = len(docs)
        return problems


def _shown(value: Any) -> str:
    """A stored parameter for an error message (template texts by their count: they can be long)."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value) and len(repr(value)) > 60:
        return f"<{len(value)} texts>"
    return repr(value)
