"""The persistent, incremental index: add documents in any number of batches, then ask of any text "has this,
or part of this, been seen before — where?".

An index is a folder holding one SQLite database in WAL mode (``index.sqlite``, with its ``-wal``/``-shm``
companions while in use) and a writer lock file (``writer.lock``). No server runs; any number of processes
may read while one adds. Storage (schema, writes, counts, locking, check) is :mod:`doublet.index_store`;
queries (candidates, verification, pairs, clusters, templates) are :mod:`doublet.index_query`; this module is
the public class that joins them.

Python API
----------
>>> from doublet.index import Index
>>> idx = Index.create("news.idx")                  # or Index.create(path, Config(threshold=0.8))
>>> idx.add([("a", text_a), ("b", text_b)])        # -> AddReport(added, replaced, unchanged, problems)
>>> idx.add_files(["more.jsonl.gz"], site_field="site")  # find's readers and bad-record rules
>>> idx.search(some_text)                          # -> [Match(query, match, kind, jaccard, containment_query,
...                                                #            containment_match, passages)]
>>> idx.get("a")                                   # -> IndexedDocument(id, text, chars, words, added, updated, site)
>>> idx.cluster("a")                               # -> IndexCluster(id, cluster, members, pairs, ...)
>>> idx.pairs()                                    # every reporting pair among indexed documents (= find's)
>>> idx.clusters()                                 # find's clusters.jsonl rows (without attribution)
>>> idx.templates(); idx.template_blocks()         # the template set (= find's) and boilerplate.jsonl
>>> idx.template_spans(text)                       # [{"start", "end", "rule"}]: its words masked as template
>>> idx.stats(); idx.check(); idx.close()          # also a context manager

``Index.open(path)`` opens an existing index (``create=True`` creates it if absent). The :class:`Config` given
to :meth:`Index.create` is stored in the index (with the user's template texts) and used for every later
operation; opening with a Config that differs in any algorithmic parameter (everything but ``workers``,
``memory_limit``, ``tmp_dir``) is refused.

What the index decides, and when
--------------------------------
Boilerplate is decided as ``doublet find`` decides it (:mod:`doublet.template`): per recurring fingerprint, by
what the text is and where it occurs. The index keeps, for every fingerprint, the counts that decide it — the
documents holding it (df), how many show it in template-shaped lines, in their end zone or in their tail
paragraph (each document votes with its first occurrence), and the smallest and largest site among them — and
the rule those counts give (:func:`doublet.template.decide`; the user's texts: ``Config.template_texts``). Every
write updates the counts of the fingerprints it touches and decides their rules again, in the same transaction.
So a site's navigation becomes its template as soon as its pages hold it in two documents of one site, or most
of them show it template-shaped; a story stays content however many copies arrive (the shape of prose does not
change with its copies). ``max_df`` is a cost bound only: a content fingerprint in more than ``max_df``
documents proposes no pair, and is not masked.

The frequency rule (prose chrome: a site's newsletter pitch or disclaimer, far more common than the texts
around it and beyond them) depends on every document's typical df and own-text span, which other documents
change as they arrive. The index keeps each document's two histograms and each deferred fingerprint's count of
outlier documents, and every write updates them exactly — for the documents of the batch, for the documents
whose fingerprints' df bucket it moves, and for the fingerprints of documents whose typical df or own text it
moves, which may be fingerprints the batch does not hold (:mod:`doublet.index_frequency`). Its rules are
therefore find's on the documents added so far after every write, like the other rules.

What an answer means
--------------------
The index answers what ``doublet find`` answers on the indexed corpus (in order of first addition), with its
*current* counts, by the same stage functions (:func:`doublet.candidates.postings`,
:func:`doublet.candidates.supported_pairs`, :func:`doublet.candidates.lsh_pairs`,
:func:`doublet.analysis.compare_prepared`, :func:`doublet.cluster.copy_clusters`):

* after adding a corpus X in any number of batches (in X's order), :meth:`Index.pairs` is find's
  ``pairs.jsonl`` on X, :meth:`Index.clusters` (and :meth:`Index.cluster` of any document) find's clusters,
  :meth:`Index.templates` find's template fingerprints and :meth:`Index.template_blocks` find's
  ``boilerplate.jsonl``; the decisions after each batch are find's on the documents added so far;
* :meth:`Index.search` of one of X's documents (same id and text) gives exactly find's pairs of that document;
* a query that is *not* an indexed document (another id, or the same id with other text) is answered as if it
  had been added, alone, after every indexed document: its fingerprints count once more (with its shape flags
  and its site: ``meta["url"]``/``meta["site"]`` of a Document, or ``site=``; none by default), which may turn
  some of them (or, through the frequency rule, fingerprints of the documents sharing its text) template or
  content for this answer, and it joins the LSH buckets. The answer equals find's on the corpus plus the
  query. A query is never added by a search. A query without a site counts as a document of no site, as in
  find: text it shares with one site's pages is no longer that site's alone.

Adding
------
:meth:`Index.add` classifies each document by id: **added** (new id), **unchanged** (same id, same text and site:
a no-op), **replaced** (same id, new text or site: its old rows are removed and the counts updated; it keeps its
place in the order of addition). Records that are not documents (empty text, no id, duplicate id within one
call, ...) are rejected by the same rules as ``doublet find`` and listed in :attr:`AddReport.problems`.
Fingerprinting runs in ``workers`` processes; documents are written in transactions of ``batch_size``
documents, each holding whole documents with all their rows and the counts and rules they change, so a process
killed at any moment leaves whole documents or nothing: re-running the same add ends with exactly the intended
documents (the ones already there are "unchanged").

Concurrency
-----------
Readers use WAL snapshots: every search, pairs, cluster, templates, stats or check call sees one committed
state, even while another process adds. One writer at a time: :meth:`Index.add` takes ``writer.lock``
(waiting up to ``lock_timeout`` seconds) and otherwise raises :class:`IndexBusy` ("another process is adding
to this index; retry later"). An :class:`Index` object serialises its own calls and may be shared by threads,
but an add holds it for its whole duration: a service that answers queries while adding should give the
writer its own :class:`Index` (one SQLite connection each; they are cheap). ``meta.generation`` grows with
every committed write and ``meta.template_generation`` when the template set changes; readers keep their
prepared documents while a document's text and the template hashes among its fingerprints are unchanged.

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

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .analysis import PairResult
from .config import Config
from .documents import Document, InputProblem, documents_from_items, read_documents
from .index_query import IndexCluster, Match, MatchPassage, Searcher, clusters
from .index_store import (
    BATCH_SIZE,
    DB_NAME,
    EXECUTION_FIELDS,
    FORMAT,
    LOCK_NAME,
    AddReport,
    CheckReport,
    DoubletIndexError,
    IndexBusy,
    IndexConfigMismatch,
    IndexedDocument,
    IndexIncompatible,
    IndexNotFound,
    Store,
    batches,
)
from .progress import Progress
from .template import Templates

__all__ = [
    "AddReport", "CheckReport", "DoubletIndexError", "Index", "IndexBusy", "IndexCluster", "IndexConfigMismatch",
    "IndexIncompatible", "IndexNotFound", "IndexedDocument", "Match", "MatchPassage",
]
_ = (DB_NAME, EXECUTION_FIELDS, FORMAT, LOCK_NAME)  # importable from doublet.index as before

_QUERY_BATCH = 1000  # queries whose candidates are looked up together


class Index:
    """A persistent doublet index (see the module docstring). Open with :meth:`open` or :meth:`create`."""

    def __init__(self, store: Store):
        self._store = store
        self._searcher = Searcher(store)

    # --- opening

    @classmethod
    def create(cls, path: str | Path, config: Config | None = None, *, workers: int | None = None,
               lock_timeout: float = 10.0) -> Index:
        """Create a new, empty index in folder ``path`` (which must not exist or be empty)."""
        return cls(Store.create(path, config, workers=workers, lock_timeout=lock_timeout))

    @classmethod
    def open(cls, path: str | Path, config: Config | None = None, *, create: bool = False,
             workers: int | None = None, lock_timeout: float = 10.0) -> Index:
        """Open the index in folder ``path``.

        ``config``: refuse to open unless it equals the stored Config in every algorithmic parameter (its
        ``workers`` is used). ``create``: create the index (with ``config``) if there is none. ``workers``:
        processes for fingerprinting in :meth:`add` (default: ``config.workers``, else 1). ``lock_timeout``:
        seconds to wait for another writer (and for SQLite locks) before :class:`IndexBusy`.
        """
        return cls(Store.open(path, config, create=create, workers=workers, lock_timeout=lock_timeout))

    def close(self) -> None:
        """Close the database connection."""
        with self._store.lock:
            self._store.close()
            self._searcher.clear()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r})"

    @property
    def path(self) -> Path:
        return self._store.path

    @property
    def config(self) -> Config:
        return self._store.config

    @property
    def lock_timeout(self) -> float:
        return self._store.lock_timeout

    @lock_timeout.setter
    def lock_timeout(self, value: float) -> None:
        self._store.lock_timeout = value

    @property
    def con(self) -> Any:
        """The SQLite connection (e.g. for PRAGMAs)."""
        return self._store.con

    @contextmanager
    def _writer(self) -> Iterator[int]:
        """Hold the writer lock (see :meth:`doublet.index_store.Store.writer`)."""
        with self._store.writer() as fd:
            yield fd

    # --- reading documents

    def __len__(self) -> int:
        return len(self._store)

    def __bool__(self) -> bool:  # an open index is truthy even when empty
        return True

    def __contains__(self, doc_id: str) -> bool:
        return self._store.contains(doc_id)

    def get(self, doc_id: str) -> IndexedDocument | None:
        """The stored document with this id, or None."""
        return self._store.get(doc_id)

    def ids(self) -> list[str]:
        """Every indexed id, in order of first addition."""
        return self._store.ids()

    def overview(self, n: int = 10, tries: int = 10) -> dict[str, Any]:
        """What is indexed, for a start page: ``documents``, ``characters``, the ``n`` documents added last
        (``recent``: id, chars, site, added) and ``sample``: the best match of the first of the last ``tries``
        documents that has one (:meth:`search` of that document: ``Match.to_dict()``), or None."""
        count, chars, recent = self._store.recent(max(n, tries))
        sample = None
        for row in recent[:tries]:
            doc = self.get(row["id"])
            matches = self.search(doc, limit=1) if doc is not None else []
            if matches:
                sample = matches[0].to_dict()
                break
        return {"documents": count, "characters": chars, "recent": recent[:n], "sample": sample}

    # --- adding

    def add(self, documents: Iterable[Any], *, problems: list[InputProblem] | None = None,
            progress: Progress | None = None, batch_size: int = BATCH_SIZE) -> AddReport:
        """Add documents (Documents, ``(id, text)`` tuples, dicts with id/text, or strings); see the module
        docstring for what happens to ids already present. A Document's site is its ``meta["url"]`` host or
        ``meta["site"]``. Returns what was added, replaced or unchanged.

        Rejected records go to the report's ``problems``, which is ``problems`` when given (pass the list that
        :func:`doublet.documents.read_documents` fills, to report reading problems too)."""
        problems = problems if problems is not None else []
        docs = documents_from_items(documents, max_chars=self.config.max_chars, problems=problems)
        return self._store.add(docs, problems, progress, batch_size)

    def add_files(self, inputs: Sequence[str | Path], *, id_field: str = "id", text_field: str = "text",
                  site_field: str | None = None, progress: Progress | None = None,
                  batch_size: int = BATCH_SIZE) -> AddReport:
        """Add the documents of files and folders (every format ``doublet find`` reads, same rules;
        ``site_field`` as find's ``--site-field``)."""
        problems: list[InputProblem] = []
        docs = read_documents(list(inputs), id_field=id_field, text_field=text_field,
                              max_chars=self.config.max_chars, problems=problems, site_field=site_field)
        return self._store.add(docs, problems, progress, batch_size)

    # --- searching

    def search(self, query: Any, *, id: str | None = None, limit: int | None = None,
               site: str | None = None) -> list[Match]:
        """Indexed documents that ``query`` reuses or nearly duplicates, best first (by containment of the query).

        ``query`` is a text (its id is ``id``, default ``"<query>"``; its site ``site``, default none) or a
        document (a Document, IndexedDocument, ``(id, text)`` tuple or dict). Raises ValueError for a query that
        is not a document (e.g. empty text).
        """
        doc = self._query_document(query, id, site)
        matches = next(iter(self._search_documents([doc], 1)))[1]
        return matches[:limit] if limit is not None else matches

    def search_many(self, queries: Iterable[Any], *, problems: list[InputProblem] | None = None,
                    batch_size: int = _QUERY_BATCH) -> Iterator[tuple[Document, list[Match]]]:
        """``(query document, matches)`` for each query, in order; bad queries go to ``problems``."""
        docs = documents_from_items(queries, max_chars=self.config.max_chars, problems=problems)
        yield from self._search_documents(docs, batch_size)

    def search_files(self, inputs: Sequence[str | Path], *, id_field: str = "id", text_field: str = "text",
                     site_field: str | None = None,
                     problems: list[InputProblem] | None = None) -> Iterator[tuple[Document, list[Match]]]:
        """Like :meth:`search_many`, reading the queries from files and folders."""
        docs = read_documents(list(inputs), id_field=id_field, text_field=text_field,
                              max_chars=self.config.max_chars, problems=problems, site_field=site_field)
        yield from self._search_documents(docs, _QUERY_BATCH)

    def template_spans(self, query: Any, *, id: str | None = None, site: str | None = None) -> list[dict]:
        """The words of a text that template fingerprints mask (``[{"start", "end", "rule"}]``, character offsets):
        an indexed document's (same id and text), or what an outside text would mask if it were added."""
        doc = self._query_document(query, id, site)
        with self._store.read() as snap:
            return self._searcher.template_spans(snap, doc)

    def _query_document(self, query: Any, id: str | None, site: str | None) -> Document:
        if isinstance(query, str):
            item: Any = (id if id is not None else "<query>", query)
        elif hasattr(query, "id") and hasattr(query, "text"):
            item = Document(query.id, query.text, dict(getattr(query, "meta", None) or {}))
            if getattr(query, "site", None) is not None and not item.meta.get("site"):
                item.meta["site"] = query.site
        else:
            item = query
        problems: list[InputProblem] = []
        docs = list(documents_from_items([item], max_chars=self.config.max_chars, problems=problems))
        if not docs:
            raise ValueError(f"not a searchable document: {problems[0].reason if problems else 'no text'}")
        if site is not None:
            docs[0].meta = {**docs[0].meta, "site": site}
        return docs[0]

    def _search_documents(self, docs: Iterable[Document], batch_size: int) -> Iterator[tuple[Document, list[Match]]]:
        for batch in batches(docs, batch_size):
            with self._store.read() as snap:
                found = self._searcher.search(snap, batch)
            yield from zip(batch, found)

    # --- whole-index answers

    def pairs(self) -> list[PairResult]:
        """Every reporting pair among the indexed documents, sorted by (a, b): find's ``pairs.jsonl``."""
        with self._store.read() as snap:
            return self._searcher.pairs(snap, _QUERY_BATCH)

    def clusters(self) -> list[dict[str, Any]]:
        """One row per indexed document, in order of first addition: ``{"id", "cluster", "cluster_size",
        "near_duplicate_cluster"}`` as in find's ``clusters.jsonl`` (clusters of copies; without attribution)."""
        with self._store.read() as snap:
            pairs = self._searcher.pairs(snap, _QUERY_BATCH)
            ids = self._store.ids()
        return clusters(ids, pairs)

    def cluster(self, doc_id: str, *, max_members: int = 10_000) -> IndexCluster:
        """The cluster of copies holding ``doc_id`` (find's cluster of it), found by searching outward from it."""
        with self._store.read() as snap:
            return self._searcher.cluster(snap, doc_id, max_members, _QUERY_BATCH)

    def templates(self) -> tuple[Templates, list[str]]:
        """The template fingerprints (sorted by hash, with rule, df and example: ``doc`` is a position in the
        returned ids, which are in order of first addition) — find's Templates on the indexed corpus."""
        with self._store.read() as snap:
            return self._searcher.templates(snap)

    def template_blocks(self) -> list[dict]:
        """The recurring blocks taken as template, most documents first: find's ``boilerplate.jsonl``."""
        return list(self.template_report()[1])

    def template_report(self) -> tuple[dict[str, Any], list[dict]]:
        """find's ``summary["templates"]`` (template fingerprints and their occurrences by rule, blocks) and
        :meth:`template_blocks`; computed once per write generation and shared by the process's Index objects."""
        with self._store.read() as snap:
            return self._searcher.template_report(snap)

    # --- statistics and checks

    def stats(self) -> dict[str, Any]:
        """Counts, fingerprint histogram (as find's summary), templates by rule, sizes on disk, parameters."""
        return self._store.stats()

    def check(self, *, deep: bool = False) -> CheckReport:
        """SQLite's integrity check, then consistency: every document has its text (matching its hash), its
        fingerprint and band rows and no others exist, every per-fingerprint count equals the recount of the rows
        and every rule is the one its counts decide. ``deep`` also recomputes every document's fingerprints from
        its text."""
        return self._store.check(deep=deep)
