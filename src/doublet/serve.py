"""``doublet serve``: an HTTP API and a web page over a persistent index (:class:`doublet.index.Index`).

Build the app with :func:`create_app` (tests use it with FastAPI's TestClient) and run it with :func:`run`
(uvicorn). The schema is at ``GET /openapi.json``; FastAPI's interactive docs are off, since they load their
scripts from a CDN.

=========================  ===========================================================================================
``GET /health``            ``{"status": "ok", "documents", "index", "version"}``
``POST /documents``        add ``{"id", "text"}`` or ``{"documents": [{"id", "text"}, ...]}``; the answer lists the ids
                           ``added``, ``replaced`` (same id, new text) and ``unchanged`` (same id, same text)
``POST /search``           ``{"text": ...}`` (optionally ``"id"``, ``"site"``) or ``{"id": ...}`` of an indexed
                           document, and ``limit``: the indexed documents it reuses, best first, with scores and
                           passages; ``"templates": true`` adds the query's template words (``query.templates``)
``GET /documents/{id}``    the stored document: ``id``, ``text``, ``chars``, ``words``, ``added``, ``updated``,
                           ``site``; ``?templates=true`` adds its template words (``templates``: spans with rule)
``GET /clusters/{id}``     the document's cluster of copies (as find's clusters): members and pairs
``GET /templates``         the recurring blocks the index takes as template (find's ``boilerplate.jsonl``), most
                           documents first, and the template fingerprints by rule
``GET /``                  the web page (``doublet/web/``): paste or upload a text, see reused passages side by side
=========================  ===========================================================================================

Errors are JSON, ``{"error": code, "message": what to do}`` (validation errors add ``problems``), with status
400/404/405/413/422 for the client's mistakes, 503 when the index is busy with another process's writes, and
500 for bugs: those are logged with their traceback on the server and never show one to the client.

Concurrency: each request takes an :class:`Index` from a pool, in arrival order, and runs on it in a thread,
so the event loop stays free. Reads (search, documents, clusters, health) run in parallel on ``readers``
Index objects (one SQLite connection and one cache of prepared documents each; SQLite's WAL lets them read
while a write commits). Writes go through one writer Index, one request at a time, in arrival order: an
answer 200 to ``POST /documents`` means the documents are committed; a write that cannot start within
``write_timeout`` seconds gets 503 and wrote nothing. Another process adding to the same index (``doublet
index add``, or another worker of ``doublet serve --workers N``) is waited for up to ``lock_timeout``
seconds, then 503 as well. Python runs one thread at a time, so one process uses about one core for
searches; ``--workers N`` runs N processes (see :func:`run`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string

from . import __version__
from .documents import Document, InputProblem, documents_from_items
from .index import AddReport, Index, IndexBusy, Match

__all__ = ["ApiError", "DEFAULT_MAX_REQUEST_BYTES", "ServeSettings", "ServerProcess", "app_from_environment",
           "create_app", "run"]

log = logging.getLogger("doublet.serve")
T = TypeVar("T")

DEFAULT_MAX_REQUEST_BYTES = 16 << 20
"""Largest request body accepted (16 MB): a news site's biggest pages are far below; raise it for books."""
MAX_ID_CHARS = 1024
MAX_DOCUMENTS_PER_REQUEST = 10_000
MAX_LIMIT = 1000
READER_MMAP_BYTES = 1 << 40
"""Each reader memory-maps the index file up to this size (SQLite caps it at its build's maximum, 2 GB by default)."""

WEB_FILES = {"style.css": "text/css; charset=utf-8", "render.js": "text/javascript; charset=utf-8",
             "app.js": "text/javascript; charset=utf-8"}
"""The page's assets, served from ``doublet/web/`` under ``/static/``; nothing else is served from there."""

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
"""Content-Security-Policy of the page: its own scripts and styles only, no inline code, no other origin."""


# ------------------------------------------------------------------------------------------ settings and state

@dataclass(frozen=True, slots=True)
class ServeSettings:
    """How the server runs; every field has a safe default."""

    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    """Request bodies over this many bytes get 413 before they are parsed."""
    readers: int = 4
    """Index objects for reading (each one SQLite connection and a cache of prepared documents)."""
    write_timeout: float = 120.0
    """Seconds a write waits for the writes queued before it; then 503."""
    lock_timeout: float = 10.0
    """Seconds to wait while another process adds to the index; then 503."""
    content_security_policy: str | None = PAGE_CSP
    """Sent with the web page; None sends none (only tests turn it off, to show the page is safe without it)."""
    create: bool = False
    """Create the index if the folder does not exist."""

    def __post_init__(self) -> None:
        if self.max_request_bytes < 1024:
            raise ValueError(f"max_request_bytes must be >= 1024 (got {self.max_request_bytes})")
        if self.readers < 1:
            raise ValueError(f"readers must be >= 1 (got {self.readers})")


class _Pool:
    """Index objects handed out first come, first served, on the event loop.

    A released object goes straight to the oldest waiter (no barging), so under load every request waits its
    turn instead of some waiting many turns (a thread queue lets newcomers overtake woken waiters)."""

    def __init__(self, items: list[Index]) -> None:
        self._free: deque[Index] = deque(items)
        self._waiters: deque[asyncio.Future[Index]] = deque()

    async def acquire(self, timeout: float | None = None) -> Index:
        if self._free and not self._waiters:
            return self._free.popleft()
        fut: asyncio.Future[Index] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except BaseException:
            if fut.done() and not fut.cancelled():
                self.release(fut.result())  # handed over just as this request gave up: pass it on
            else:
                fut.cancel()
            raise

    def release(self, item: Index) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(item)
                return
        self._free.append(item)


class _State:
    """The open index: a pool of readers, one writer, and the threads they work in.

    Each request takes an Index from its pool (in arrival order) and runs on it in a thread, so the event loop
    stays free for other requests; the Index goes back to the pool when the work is done, even if the client
    has gone away meanwhile (the work is never interrupted halfway)."""

    def __init__(self, path: Path, settings: ServeSettings) -> None:
        self.path = path
        self.settings = settings
        self.writer = Index.open(path, create=settings.create, workers=1, lock_timeout=settings.lock_timeout)
        self.config = self.writer.config
        self._readers: list[Index] = []
        try:
            for _ in range(settings.readers):
                idx = Index.open(path, lock_timeout=settings.lock_timeout)
                # read through the OS page cache (shared by the readers) instead of copying pages into each
                # connection's own cache
                idx.con.execute(f"PRAGMA mmap_size={READER_MMAP_BYTES}")
                self._readers.append(idx)
        except BaseException:
            self.close()
            raise
        self._read_pool = _Pool(list(self._readers))
        self._write_pool = _Pool([self.writer])
        self._read_threads = ThreadPoolExecutor(settings.readers, thread_name_prefix="doublet-read")
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="doublet-write")

    async def read(self, work: Callable[[Index], T]) -> T:
        """``work(reader)`` in a read thread, with the next free reader."""
        idx = await self._read_pool.acquire()
        return await self._run(self._read_threads, self._read_pool, idx, work)

    async def write(self, work: Callable[[Index], T]) -> T:
        """``work(writer)`` in the write thread, after the writes that came before it."""
        try:
            idx = await self._write_pool.acquire(self.settings.write_timeout)
        except TimeoutError:
            raise ApiError(503, "busy", f"other writes kept the index busy for {self.settings.write_timeout:g} s; "
                                        "nothing was written: retry later", retry_after=5) from None
        return await self._run(self._write_thread, self._write_pool, idx, work)

    @staticmethod
    async def _run(threads: ThreadPoolExecutor, pool: _Pool, idx: Index, work: Callable[[Index], T]) -> T:
        fut = asyncio.get_running_loop().run_in_executor(threads, work, idx)
        fut.add_done_callback(lambda _: pool.release(idx))
        return await asyncio.shield(fut)

    def close(self) -> None:
        for threads in (getattr(self, "_read_threads", None), getattr(self, "_write_thread", None)):
            if threads is not None:
                threads.shutdown(wait=True)
        for idx in [self.writer, *self._readers]:
            idx.close()


# ------------------------------------------------------------------------------------------ errors

class ApiError(Exception):
    """An answer other than 200 that the client can act on: status, short code, message saying what to do."""

    def __init__(self, status: int, code: str, message: str, *, problems: list[dict[str, Any]] | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.problems = problems
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.problems is not None:
            body["problems"] = self.problems
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return JSONResponse(body, status_code=self.status, headers=headers)


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large",
               415: "unsupported_media_type"}


def _validation_problems(exc: RequestValidationError) -> list[dict[str, Any]]:
    """FastAPI's validation errors without the ``input`` they echo (it may be a whole document)."""
    out = []
    for e in exc.errors()[:50]:
        loc = [str(x) for x in e.get("loc", ())[1:] if x not in _UNION_TAGS]  # drop "body" and union tags
        msg = e.get("msg", "invalid")
        if e.get("type") == "json_invalid":
            loc, msg = [], "the request body is not valid JSON"
        out.append({"where": ".".join(loc) or "body", "problem": msg})
    return out


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _validation_problems(exc)
        first = problems[0] if problems else {"where": "body", "problem": "invalid"}
        return ApiError(422, "invalid_request", f"{first['where']}: {first['problem']} (see the schema at "
                        "/openapi.json)", problems=problems).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = {404: f"no such endpoint: {request.method} {request.url.path} (see /openapi.json)",
                   405: f"{request.method} is not allowed on {request.url.path} (see /openapi.json)"}.get(
            exc.status_code, str(exc.detail))
        return ApiError(exc.status_code, code, message).response()

    @app.exception_handler(IndexBusy)
    async def _busy(request: Request, exc: IndexBusy) -> JSONResponse:
        return ApiError(503, "busy", f"{exc}; nothing was written", retry_after=5).response()

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        ref = f"{time.time():.6f}"
        log.exception("unhandled error in %s %s (ref %s)", request.method, request.url.path, ref)
        return ApiError(500, "internal_error", f"the server failed on this request (ref {ref}); it is logged on "
                        "the server").response()


# ------------------------------------------------------------------------------------------ request guard

Asgi = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


class _Guard:
    """ASGI middleware: bounds request bodies (413 before anything parses them) and adds headers.

    The body is read here, up to ``max_bytes``, and replayed to the app; a ``Content-Length`` over the limit is
    refused without reading. The page gets the Content-Security-Policy; every answer gets ``nosniff`` and a
    ``Server-Timing: app;dur=MS`` header (milliseconds from the request's headers to the answer's).
    """

    def __init__(self, app: Asgi, max_bytes: int, csp: str | None) -> None:
        self.app, self.max_bytes, self.csp = app, max_bytes, csp

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await self._refuse(send, ApiError(400, "bad_request", "Content-Length is not a number"))
                return
            if int(length) > self.max_bytes:
                await self._refuse(send, self._too_large(int(length)))
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, self._too_large(None))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        html_page = scope.get("path") == "/"

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                         (b"server-timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}".encode())]
                if html_page and self.csp:
                    extra.append((b"content-security-policy", self.csp.encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, replay, send_with_headers)

    def _too_large(self, length: int | None) -> ApiError:
        got = f" ({length:,} bytes)" if length is not None else ""
        return ApiError(413, "request_too_large", f"the request body is over the server's limit of "
                        f"{self.max_bytes:,} bytes{got}: send fewer documents per request, or start the server "
                        "with a larger --max-request-size")

    @staticmethod
    async def _refuse(send: Callable[[dict], Awaitable[None]], err: ApiError) -> None:
        body = json.dumps({"error": err.code, "message": err.message}).encode()
        await send({"type": "http.response.start", "status": err.status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close"), (b"x-content-type-options", b"nosniff")]})
        await send({"type": "http.response.body", "body": body})


# ------------------------------------------------------------------------------------------ schemas

class DocumentIn(BaseModel):
    """One document to add."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=MAX_ID_CHARS, description="The document's id (unique in the index).")
    text: str = Field(description="The text exactly as it should be stored; offsets refer to it.")
    site: str | None = Field(default=None, max_length=MAX_ID_CHARS,
                             description="The site it comes from (a URL, host or site name): text recurring only "
                                         "within one site's pages is that site's template.")


class DocumentsIn(BaseModel):
    """Several documents to add in one request (one transaction per 1,000 documents)."""

    model_config = ConfigDict(extra="forbid")
    documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_DOCUMENTS_PER_REQUEST)


def _add_shape(value: Any) -> str:
    return "many" if isinstance(value, dict) and "documents" in value else "one"


AddIn = Annotated[Annotated[DocumentsIn, Tag("many")] | Annotated[DocumentIn, Tag("one")], Discriminator(_add_shape)]
"""The body of ``POST /documents``: one document, or ``{"documents": [...]}``."""
_UNION_TAGS = {"many", "one"}


class Rejected(BaseModel):
    item: int | None = Field(description="Position of the document in the request (0-based).")
    id: str | None
    reason: str


class AddOut(BaseModel):
    added: list[str] = Field(description="New ids.")
    replaced: list[str] = Field(description="Ids already present with another text: the new text replaced it.")
    unchanged: list[str] = Field(description="Ids already present with this same text: nothing was written.")
    repaired: list[Rejected] = Field(description="Documents stored after a repair (e.g. invalid characters).")
    documents: int = Field(description="Documents in the index after this request.")
    seconds: float


class SearchIn(BaseModel):
    """A text to look up, or the id of an indexed document."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, description="The query text (not added to the index).")
    id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_CHARS,
                           description="Without text: the indexed document to search with. With text: the "
                                       "query's name (the same id and text as an indexed document is that "
                                       "document, not matched with itself).")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT, description="Most matches returned, best first.")
    site: str | None = Field(default=None, max_length=MAX_ID_CHARS,
                             description="The query's site (a URL, host or site name); none by default. The query "
                                         "is answered as if it were added with it.")
    templates: bool = Field(default=False, description="Also return the query's template words (query.templates).")


class PassageOut(BaseModel):
    query_start: int
    query_end: int
    match_start: int
    match_end: int
    identity: float | None = Field(default=None, description="Share of the passage's words in verbatim runs.")


class MatchOut(BaseModel):
    query: str
    match: str = Field(description="The indexed document's id.")
    kind: str = Field(description="near-duplicate or reuse")
    level: str | None = Field(default=None, description="How the text was reused: verbatim, light or heavy (by the "
                                                        "identity of its passages).")
    jaccard: float = Field(description="Word 5-gram Jaccard of the query and the match.")
    containment_query: float = Field(description="Share of the query's word 5-grams found in the match.")
    containment_match: float = Field(description="Share of the match's word 5-grams found in the query.")
    passages: list[PassageOut] = Field(description="Reused passages: str offsets into both texts.")


class TemplateSpanOut(BaseModel):
    start: int = Field(description="str offset of the first character of a run of template words.")
    end: int
    rule: str = Field(description="The rule that made most of its fingerprints template: shape, site, user, edge, "
                                  "frequency.")


class QueryOut(BaseModel):
    id: str
    chars: int
    indexed: bool = Field(description="True when the query is an indexed document (same id and text).")
    templates: list[TemplateSpanOut] | None = Field(
        default=None, description="With \"templates\": true: the query's words masked as template (as if it were "
                                  "added), which no passage can hold.")


class SearchOut(BaseModel):
    query: QueryOut
    matches: list[MatchOut]
    total: int = Field(description="Matches found before the limit.")
    seconds: float


class DocumentOut(BaseModel):
    id: str
    text: str
    chars: int
    words: int
    added: float = Field(description="Unix time of its first addition.")
    updated: float = Field(description="Unix time its current text was written.")
    site: str | None = Field(default=None, description="Its site, if it has one.")
    templates: list[TemplateSpanOut] | None = Field(
        default=None, description="With ?templates=true: its words masked as template.")


class TemplateBlockOut(BaseModel):
    text: str = Field(description="The block's text in its example document (whole lines, cut at 2,000 characters).")
    example: str = Field(description="The first-added document holding it.")
    start: int
    end: int
    documents: int = Field(description="The most documents holding one of its fingerprints.")
    fingerprints: int
    rule: str = Field(description="The rule of most of its fingerprints: shape, site, user, edge or frequency.")
    rules: dict[str, int]


class TemplatesOut(BaseModel):
    fingerprints: int = Field(description="Template fingerprints in the index.")
    by_rule: dict[str, int]
    occurrences_by_rule: dict[str, int]
    blocks: list[TemplateBlockOut]
    total: int = Field(description="Blocks before the limit.")


class PairPassageOut(BaseModel):
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    identity: float | None = None


class PairOut(BaseModel):
    a: str
    b: str
    kind: str
    level: str | None = None
    jaccard: float
    containment_a: float
    containment_b: float
    passages: list[PairPassageOut]


class ClusterOut(BaseModel):
    id: str
    cluster: str = Field(description="The component's name: its smallest id.")
    cluster_size: int
    near_duplicate_cluster: str
    members: list[str]
    complete: bool = Field(description="False when the search stopped at max_members.")
    pairs: list[PairOut]


class HealthOut(BaseModel):
    status: str
    documents: int
    index: str
    version: str


class RecentOut(BaseModel):
    id: str
    chars: int
    site: str | None = None
    added: float


class OverviewOut(BaseModel):
    documents: int
    characters: int
    recent: list[RecentOut]
    sample: dict[str, Any] | None = None


class ErrorOut(BaseModel):
    error: str
    message: str
    problems: list[dict[str, Any]] | None = None


_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut} for s in (400, 404, 413, 422, 500, 503)}


# ------------------------------------------------------------------------------------------ the app

def _problem_rows(problems: list[InputProblem]) -> list[dict[str, Any]]:
    rows = []
    for p in problems:
        item = int(p.where.split()[-1]) if p.where and p.where.startswith("item ") else None
        rows.append({"item": item, "id": p.id, "reason": p.reason})
    return rows


def _web_file(name: str) -> bytes:
    return resources.files("doublet").joinpath("web", name).read_bytes()


def create_app(index_path: str | Path, settings: ServeSettings | None = None, **overrides: Any) -> FastAPI:
    """The FastAPI app over the index at ``index_path`` (opened now: a missing index raises IndexNotFound).

    ``settings`` or keyword overrides of :class:`ServeSettings` (e.g. ``max_request_bytes=1 << 20``).
    The index is closed when the app shuts down (uvicorn, or leaving a ``with TestClient(app)`` block).
    """
    settings = settings or ServeSettings()
    if overrides:
        settings = ServeSettings(**{**{f: getattr(settings, f) for f in ServeSettings.__slots__}, **overrides})
    path = Path(index_path)
    state = _State(path, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.close()

    app = FastAPI(title="doublet", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Find which indexed documents a text reuses, with the reused passages at character "
                              "offsets into both texts. Errors are JSON: {\"error\", \"message\"}.")
    app.state.doublet = state
    _install_error_handlers(app)
    page = _web_file("index.html")
    assets = {name: (_web_file(name), media) for name, media in WEB_FILES.items()}

    @app.get("/health", response_model=HealthOut, tags=["index"])
    async def health() -> dict[str, Any]:
        """Liveness and the index's size."""
        n = await state.read(len)
        return {"status": "ok", "documents": n, "index": str(path), "version": __version__}

    @app.get("/overview", response_model=OverviewOut, tags=["index"])
    async def overview(recent: int = Query(10, ge=0, le=100)) -> dict[str, Any]:
        """What is indexed (the page's start): document and character counts, the documents added last, and a
        sample match to open (the best match of the first of the last ten documents that has one; null if
        none)."""
        return await state.read(lambda idx: idx.overview(recent))

    @app.post("/documents", response_model=AddOut, responses=_ERRORS, tags=["documents"])
    async def add_documents(body: AddIn) -> dict[str, Any]:
        """Add one document ``{"id", "text"}`` or several ``{"documents": [...]}``.

        Each is **added** (new id), **unchanged** (same id and text: nothing written) or **replaced** (same id,
        new text). Documents that break doublet's input rules (empty text, duplicate id in the request, over
        the index's max_chars) make the whole request 422, and nothing is written. A 200 answer means every
        document is committed.
        """
        items = [Document(d.id, d.text, {"site": d.site} if d.site else {})
                 for d in (body.documents if isinstance(body, DocumentsIn) else [body])]
        problems: list[InputProblem] = []
        docs = list(documents_from_items(items, max_chars=state.config.max_chars, problems=problems,
                                         source="request"))
        rejected = [p for p in problems if p.action == "rejected"]
        if rejected:
            rows = _problem_rows(rejected)
            first = rows[0]
            where = f"document {first['item']}" if first["item"] is not None else "a document"
            raise ApiError(422, "invalid_documents", f"{where}: {first['reason']}; nothing was written",
                           problems=rows)
        t0 = time.perf_counter()

        def add(writer: Index) -> tuple[AddReport, int]:
            return writer.add(docs), len(writer)

        report, n = await state.write(add)
        return {"added": report.added, "replaced": report.replaced, "unchanged": report.unchanged,
                "repaired": _problem_rows([p for p in problems if p.action == "repaired"]), "documents": n,
                "seconds": round(time.perf_counter() - t0, 4)}

    @app.post("/search", response_model=SearchOut, responses=_ERRORS, tags=["search"])
    async def search(body: SearchIn) -> JSONResponse:
        """The indexed documents that a text (or an indexed document) reuses or nearly duplicates.

        Matches come best first (by containment of the query, then Jaccard), each with ``kind``
        (near-duplicate or reuse), Jaccard, containment both ways and the reused passages as ``str`` offsets
        into the query and the match. The query is never added to the index.
        """
        t0 = time.perf_counter()
        if body.text is None and body.id is None:
            raise ApiError(422, "invalid_request", "give \"text\" (a text to look up) or \"id\" (an indexed document)",
                           problems=[{"where": "body", "problem": "text or id required"}])
        if body.text is not None and len(body.text) > state.config.max_chars:
            raise ApiError(422, "invalid_request", f"the text has {len(body.text):,} characters, over the index's "
                                                   f"max_chars ({state.config.max_chars:,})")
        query, matches = await state.read(lambda idx: _search(idx, body))
        # a JSONResponse skips re-validating the answer against SearchOut (the schema it documents)
        return JSONResponse({"query": query, "matches": [m.to_dict() for m in matches[:body.limit]],
                             "total": len(matches), "seconds": round(time.perf_counter() - t0, 4)})

    @app.get("/documents/{doc_id:path}", response_model=DocumentOut, response_model_exclude_none=True,
             responses=_ERRORS, tags=["documents"])
    async def get_document(doc_id: str, templates: bool = False) -> dict[str, Any]:
        """The stored document (its text exactly as added). Ids may contain ``/``; percent-encode the rest, or
        use ``GET /documents?id=...``. ``?templates=true`` adds its words masked as template (``templates``:
        character spans with the rule that made them template)."""

        def get(idx: Index) -> tuple[Any, list[dict] | None]:
            doc = idx.get(doc_id)
            return doc, (idx.template_spans(doc) if doc is not None and templates else None)

        doc, spans = await state.read(get)
        if doc is None:
            raise ApiError(404, "not_found", f"no indexed document has id {doc_id!r}")
        return {"id": doc.id, "text": doc.text, "chars": doc.chars, "words": doc.words, "added": doc.added,
                "updated": doc.updated, "site": doc.site, "templates": spans}

    @app.get("/documents", response_model=DocumentOut, response_model_exclude_none=True, responses=_ERRORS,
             tags=["documents"])
    async def get_document_by_query(id: str = Query(min_length=1, max_length=MAX_ID_CHARS),
                                    templates: bool = False) -> dict[str, Any]:
        """``GET /documents/{id}`` with the id as a query parameter (any id, e.g. ``.``, stays one value)."""
        return await get_document(id, templates)

    @app.get("/templates", response_model=TemplatesOut, responses=_ERRORS, tags=["templates"])
    async def get_templates(limit: int = Query(50, ge=1, le=10_000)) -> dict[str, Any]:
        """The recurring blocks the index takes as template — site navigation, headers, footers, signatures —
        as ``doublet find`` writes them to ``boilerplate.jsonl`` (most documents first), and the template
        fingerprints by rule. Template words never propose a pair nor sit inside a passage."""
        summary, listed = await state.read(lambda idx: idx.template_report())
        return {**summary, "blocks": listed[:limit], "total": len(listed)}

    @app.get("/clusters/{doc_id:path}", response_model=ClusterOut, responses=_ERRORS, tags=["documents"])
    async def get_cluster(doc_id: str, max_members: int = Query(1000, ge=1, le=10_000)) -> dict[str, Any]:
        """The document's cluster of copies (as ``doublet find``'s clusters: near-duplicates and documents mostly
        made of each other's text; a document sharing only a passage joins the one it shares most with), found
        by searching outward from it, with the pairs among its members."""
        try:
            cluster = await state.read(lambda idx: idx.cluster(doc_id, max_members=max_members))
        except KeyError:
            raise ApiError(404, "not_found", f"no indexed document has id {doc_id!r}") from None
        return {**cluster.to_dict(), "pairs": [p.to_dict() for p in cluster.pairs]}

    @app.get("/clusters", response_model=ClusterOut, responses=_ERRORS, tags=["documents"])
    async def get_cluster_by_query(id: str = Query(min_length=1, max_length=MAX_ID_CHARS),
                                   max_members: int = Query(1000, ge=1, le=10_000)) -> dict[str, Any]:
        """``GET /clusters/{id}`` with the id as a query parameter."""
        return await get_cluster(id, max_members)

    @app.get("/", include_in_schema=False)
    async def index_page() -> Response:
        return Response(page, media_type="text/html; charset=utf-8")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in assets:
            raise ApiError(404, "not_found", f"no such file: /static/{name}")
        data, media = assets[name]
        return Response(data, media_type=media, headers={"Cache-Control": "no-cache"})

    app.add_middleware(_Guard, max_bytes=settings.max_request_bytes, csp=settings.content_security_policy)
    return app


def _search(idx: Index, body: SearchIn) -> tuple[dict[str, Any], list[Match]]:
    """The query (``id``, ``chars``, ``indexed``; ``templates`` when asked) and its matches, for POST /search
    (in a read thread)."""
    site = body.site
    if body.text is None:
        assert body.id is not None
        doc = idx.get(body.id)
        if doc is None:
            raise ApiError(404, "not_found", f"no indexed document has id {body.id!r}; send its text instead")
        query_id, text, indexed = doc.id, doc.text, True
    else:
        query_id, text = (body.id if body.id is not None else "<query>"), body.text
        indexed = False
        if body.id is not None:
            stored = idx.get(body.id)
            indexed = stored is not None and stored.text == text
    try:
        matches = idx.search(text, id=query_id, site=site)
        spans = idx.template_spans(text, id=query_id, site=site) if body.templates else None
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    query: dict[str, Any] = {"id": query_id, "chars": len(text), "indexed": indexed}
    if spans is not None:
        query["templates"] = spans
    return query, matches


# ------------------------------------------------------------------------------------------ running

def run(index_path: str | Path, host: str = "127.0.0.1", port: int = 8000, *, settings: ServeSettings | None = None,
        workers: int = 1, log_level: str = "info") -> None:
    """Serve the index with uvicorn until interrupted (Ctrl+C, SIGTERM).

    ``workers`` > 1 runs that many server processes on the same port (uvicorn's supervisor), each with its
    own readers and writer: searches use more than one core, and writes stay one at a time across processes
    through the index's writer lock (a process waits up to ``settings.lock_timeout`` for the others)."""
    import uvicorn

    settings = settings or ServeSettings()
    if workers < 1:
        raise ValueError(f"workers must be >= 1 (got {workers})")
    options: dict[str, Any] = {"host": host, "port": port, "log_level": log_level, "access_log": log_level == "debug",
                               "http": NoDelayHTTPProtocol}
    if workers == 1:
        uvicorn.run(create_app(index_path, settings), **options)
        return
    os.environ[_SETTINGS_ENV] = json.dumps({"index": str(Path(index_path).resolve()),
                                            "settings": {f: getattr(settings, f) for f in ServeSettings.__slots__}})
    uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=workers, **options)


_SETTINGS_ENV = "DOUBLET_SERVE_SETTINGS"


class NoDelayHTTPProtocol(import_from_string(HTTP_PROTOCOLS["auto"])):  # type: ignore[misc]
    """uvicorn's HTTP protocol, with TCP_NODELAY set on every connection.

    With ``--workers`` uvicorn binds the listening socket itself, without ``IPPROTO_TCP``, and asyncio then leaves
    Nagle's algorithm on for the connections it accepts: every keep-alive answer after the first waits ~40 ms for
    the client's delayed ACK (uvicorn issue #3149). Single-process serving is not affected; this is harmless there.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        super().connection_made(transport)  # type: ignore[arg-type]


def app_from_environment() -> FastAPI:
    """The app of one worker process of :func:`run` (index and settings passed in ``DOUBLET_SERVE_SETTINGS``)."""
    given = json.loads(os.environ[_SETTINGS_ENV])
    return create_app(given["index"], ServeSettings(**given["settings"]))


class ServerProcess:
    """``doublet serve`` in a child process on a free loopback port, for scripts, benchmarks and tests::

        with ServerProcess("news.idx", "--readers", "2") as base:   # "http://127.0.0.1:PORT" once /health answers
            ...

    The server's output goes to ``log`` (a file path; default: discarded). Leaving the block stops it (SIGTERM,
    then SIGKILL after 30 s).
    """

    def __init__(self, index_path: str | Path, *options: str, log: str | Path | None = None,
                 start_timeout: float = 60.0) -> None:
        self.index_path, self.options, self.log, self.start_timeout = Path(index_path), options, log, start_timeout
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> str:
        port = _free_port()
        out = open(self.log, "w") if self.log is not None else subprocess.DEVNULL  # noqa: SIM115 - closed below
        self.proc = subprocess.Popen([sys.executable, "-m", "doublet.cli", "serve", str(self.index_path), "--host",
                                      "127.0.0.1", "--port", str(port), *self.options],
                                     stdout=out, stderr=subprocess.STDOUT)
        if out is not subprocess.DEVNULL:
            out.close()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as r:
                    if r.status == 200:
                        return base
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                where = f"; see {self.log}" if self.log is not None else ""
                raise RuntimeError(f"doublet serve {self.index_path} did not start{where}")
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
