"""`doublet serve` (doublet.serve): the HTTP API over an index.

* Every endpoint answers what the Index answers (search = find's pair of the seeds, documents, clusters).
* Client mistakes get a clear 4xx JSON error (validation, unknown ids, wrong methods, bodies over the size
  limit — with and without Content-Length), a bug gets a 500 whose body holds no traceback nor the exception's
  text (logged on the server instead), another process's write gets 503 with Retry-After.
* Concurrent writers through a real uvicorn on loopback lose nothing: every id answered 200 is in the index
  with its text, and the index passes check().
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest
import uvicorn

with warnings.catch_warnings():  # starlette asks for httpx2, which is not released; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

import doublet
from doublet.index import Index
from doublet.serve import ServeSettings, ServerProcess, _Pool, create_app

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "examples" / "seeds"
A, B = "000_b11279ffa2e6de7c.txt", "003_f7c337c5b85d0f0e.txt"
LIMIT = 64 * 1024


def seed_text(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


@pytest.fixture()
def index_path(tmp_path: Path) -> Path:
    path = tmp_path / "seeds.idx"
    with Index.create(path) as idx:
        idx.add_files([SEEDS])
    return path


@pytest.fixture()
def client(index_path: Path) -> Iterator[TestClient]:
    app = create_app(index_path, max_request_bytes=LIMIT, lock_timeout=0.2)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    """A JSON error with a message, and nothing of a traceback."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["error"] == code and body["message"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


class LiveServer:
    """The app under a real uvicorn on 127.0.0.1 (a free port), in a thread of this process."""

    def __init__(self, app: object) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


# --------------------------------------------------------------------------------------------- endpoints

def test_health_and_schema(client: TestClient) -> None:
    r = client.get("/health")
    assert float(r.headers["server-timing"].removeprefix("app;dur=")) >= 0  # server-side milliseconds
    h = r.json()
    assert h["status"] == "ok" and h["documents"] == 2 and h["version"] == doublet.__version__
    schema = client.get("/openapi.json").json()
    assert {"/health", "/documents", "/search", "/documents/{doc_id}", "/clusters/{doc_id}"} <= set(schema["paths"])
    assert {"post", "get"} <= set(schema["paths"]["/documents"])
    assert "SearchIn" in schema["components"]["schemas"] and "MatchOut" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 404  # its scripts come from a CDN: off


def test_search_by_text_is_finds_pair(client: TestClient) -> None:
    text_a, text_b = seed_text(A), seed_text(B)
    pair = doublet.find([(A, text_a), (B, text_b)]).pairs[0]
    r = client.post("/search", json={"text": text_a})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == {"id": "<query>", "chars": len(text_a), "indexed": False}
    got = {m["match"]: m for m in body["matches"]}
    assert got[A]["kind"] == "near-duplicate" and got[A]["jaccard"] == 1.0  # the pasted text is seed 000 itself
    m = got[B]
    assert m["kind"] == "reuse" == pair.kind
    assert (m["jaccard"], m["containment_query"], m["containment_match"]) == (
        round(pair.jaccard, 4), round(pair.containment_a, 4), round(pair.containment_b, 4))
    assert [(p["query_start"], p["query_end"], p["match_start"], p["match_end"]) for p in m["passages"]] == [
        (p.a_start, p.a_end, p.b_start, p.b_end) for p in pair.passages]
    for p in m["passages"]:
        assert text_a[p["query_start"]:p["query_end"]].strip() and text_b[p["match_start"]:p["match_end"]].strip()
    assert body["total"] == 2 and [x["match"] for x in client.post(
        "/search", json={"text": text_a, "limit": 1}).json()["matches"]] == [A]  # best first, limited


def test_search_by_id(client: TestClient) -> None:
    body = client.post("/search", json={"id": B}).json()
    assert body["query"] == {"id": B, "chars": len(seed_text(B)), "indexed": True}
    assert [m["match"] for m in body["matches"]] == [A]  # not matched with itself
    # the id and text of an indexed document is that document; another text under its id is a new query
    assert client.post("/search", json={"id": B, "text": seed_text(B)}).json()["query"]["indexed"] is True
    other = client.post("/search", json={"id": B, "text": seed_text(A)}).json()
    assert other["query"]["indexed"] is False and {m["match"] for m in other["matches"]} == {A, B}


def test_search_sees_replaced_texts(index_path: Path) -> None:
    """One reader has seed 003 prepared in its cache; 003's text is then replaced through the API: the next
    search must compare with the new text (offsets into it), never the cached old one."""
    text_a, text_b = seed_text(A), seed_text(B)
    with TestClient(create_app(index_path, readers=1)) as client:
        first = client.post("/search", json={"text": text_a}).json()
        assert B in {m["match"] for m in first["matches"]}
        tail = text_b[text_b.index("During the talks"):]
        new_b = "A short new introduction that shares nothing.\n" + tail
        assert client.post("/documents", json={"id": B, "text": new_b}).json()["replaced"] == [B]
        again = {m["match"]: m for m in client.post("/search", json={"text": text_a}).json()["matches"]}
        assert len(again[B]["passages"]) == 1
        p = again[B]["passages"][0]
        assert new_b[p["match_start"]:p["match_end"]].startswith("During the talks")
        assert text_a[p["query_start"]:p["query_end"]].startswith("During the talks")
        client.post("/documents", json={"id": B, "text": "Nothing in common with seed 000 at all, really."})
        assert [m["match"] for m in client.post("/search", json={"text": text_a}).json()["matches"]] == [A]


def test_search_errors(client: TestClient) -> None:
    assert "no indexed document" in assert_error(client.post("/search", json={"id": "nope"}), 404, "not_found")[
        "message"]
    assert_error(client.post("/search", json={}), 422, "invalid_request")
    assert "whitespace-only" in assert_error(client.post("/search", json={"text": "  \n"}), 422,
                                             "invalid_request")["message"]
    for bad in ({"text": "x", "limit": 0}, {"text": "x", "limit": 10_001}, {"text": 5}, {"text": "x", "extra": 1},
                {"text": ["a"]}):
        body = assert_error(client.post("/search", json=bad), 422, "invalid_request")
        assert body["problems"] and all("input" not in p for p in body["problems"])
    body = assert_error(client.post("/search", content=b'{"text": "unterminated',
                                    headers={"content-type": "application/json"}), 422, "invalid_request")
    assert "not valid JSON" in body["message"]


def test_documents_added_unchanged_replaced(client: TestClient) -> None:
    r = client.post("/documents", json={"id": "news/1", "text": "A first story about nothing at all."})
    assert r.status_code == 200 and r.json()["added"] == ["news/1"] and r.json()["documents"] == 3
    r = client.post("/documents", json={"documents": [
        {"id": "news/1", "text": "A first story about nothing at all."},  # same text
        {"id": A, "text": "Seed 000 rewritten."},  # new text for an indexed id
        {"id": "Ünïcödé ✓ 😀", "text": "another one"}]})
    body = r.json()
    assert (body["added"], body["unchanged"], body["replaced"]) == (["Ünïcödé ✓ 😀"], ["news/1"], [A])
    assert body["documents"] == 4
    assert client.get(f"/documents/{A}").json()["text"] == "Seed 000 rewritten."
    got = client.get("/documents/news/1").json()  # an id with a slash, in the path
    assert got["id"] == "news/1" and got["chars"] == len("A first story about nothing at all.") and got["words"] > 0
    assert client.get("/documents", params={"id": "Ünïcödé ✓ 😀"}).json()["text"] == "another one"
    assert_error(client.get("/documents/nope"), 404, "not_found")
    assert_error(client.get("/documents", params={"id": ""}), 422, "invalid_request")


def test_documents_invalid_writes_nothing(client: TestClient, index_path: Path) -> None:
    cases = [
        ({"id": "x", "text": ""}, "empty"),
        ({"documents": [{"id": "y", "text": "one"}, {"id": "y", "text": "two"}]}, "duplicate id"),
        ({"id": 5, "text": "x"}, "valid string"),
        ({"id": "x"}, "Field required"),
        ({"documents": []}, "at least 1"),
        ({"documents": [{"id": "ok", "text": "fine"}, {"id": "", "text": "no id"}]}, "at least 1 character"),
        ([{"id": "x", "text": "y"}], "dictionary"),
        ({"id": "x", "text": "y", "meta": {}}, "Extra inputs"),
    ]
    for body, words in cases:
        err = assert_error(client.post("/documents", json=body), 422, "invalid_documents" if words in (
            "empty", "duplicate id") else "invalid_request")
        assert words in err["message"] or any(words in p.get("problem", p.get("reason", "")) for p in err["problems"])
    assert client.get("/health").json()["documents"] == 2
    with Index.open(index_path) as idx:
        assert idx.ids() == [A, B]


def test_clusters(client: TestClient) -> None:
    c = client.get(f"/clusters/{B}").json()
    assert c["cluster"] == A and c["members"] == [A, B] and c["cluster_size"] == 2 and c["complete"]
    assert [(p["a"], p["b"], p["kind"]) for p in c["pairs"]] == [(A, B, "reuse")]
    assert client.get("/clusters", params={"id": A}).json()["members"] == [A, B]
    assert_error(client.get("/clusters/nope"), 404, "not_found")
    assert_error(client.get(f"/clusters/{A}", params={"max_members": 0}), 422, "invalid_request")


def test_unknown_routes_and_methods(client: TestClient) -> None:
    assert_error(client.get("/nothing"), 404, "not_found")
    assert_error(client.delete("/documents/x"), 405, "method_not_allowed")
    assert_error(client.get("/search"), 405, "method_not_allowed")
    assert_error(client.get("/static/../serve.py"), 404, "not_found")


def test_page_and_assets(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert 'src="static/render.js"' in r.text and "http" not in r.text.replace("http-equiv", "")  # no CDN
    for name in ("render.js", "app.js", "style.css"):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and "//cdn" not in asset.text and "https://" not in asset.text
    assert "innerHTML" not in client.get("/static/render.js").text + client.get("/static/app.js").text


# --------------------------------------------------------------------------------------------- limits and errors

def test_request_size_limit(client: TestClient) -> None:
    big = {"id": "big", "text": "word " * (LIMIT // 5 + 10)}
    body = assert_error(client.post("/documents", json=big), 413, "request_too_large")
    assert f"{LIMIT:,} bytes" in body["message"] and "--max-request-size" in body["message"]
    assert_error(client.post("/search", json={"text": big["text"]}), 413, "request_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while the body streams in
        yield b'{"id": "big", "text": "'
        for _ in range(LIMIT // 1000 + 2):
            yield b"x" * 1000
        yield b'"}'

    assert_error(client.post("/documents", content=chunks(), headers={"content-type": "application/json"}), 413,
                 "request_too_large")
    assert client.get("/health").json()["documents"] == 2
    just_under = {"id": "ok", "text": "word " * ((LIMIT - 100) // 5)}
    assert client.post("/documents", json=just_under).status_code == 200


def test_settings_are_checked(index_path: Path) -> None:
    with pytest.raises(ValueError, match="max_request_bytes"):
        create_app(index_path, max_request_bytes=10)
    with pytest.raises(ValueError, match="readers"):
        ServeSettings(readers=0)
    with pytest.raises(doublet.index.IndexNotFound, match="doublet index create"):
        create_app(index_path.parent / "missing.idx")


def test_bug_is_500_without_traceback(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    def broken(self: Index, *a: object, **k: object) -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(Index, "search", broken)
    with caplog.at_level(logging.ERROR, logger="doublet.serve"):
        r = client.post("/search", json={"text": "anything at all"})
    body = assert_error(r, 500, "internal_error")
    assert "secret" not in r.text and "RuntimeError" not in r.text and "ref " in body["message"]
    logged = "\n".join(rec.getMessage() + (rec.exc_text or "") for rec in caplog.records)
    assert "secret internal detail" in logged and "Traceback" in logged  # the server keeps the details


def test_other_process_writing_is_503(client: TestClient, index_path: Path) -> None:
    with Index.open(index_path) as other, other._writer():  # another writer holds writer.lock
        r = client.post("/documents", json={"id": "late", "text": "some text to add"})
        body = assert_error(r, 503, "busy")
        assert r.headers["retry-after"] and "nothing was written" in body["message"]
    r = client.post("/documents", json={"id": "late", "text": "some text to add"})
    assert r.status_code == 200 and r.json()["added"] == ["late"]


# --------------------------------------------------------------------------------------------- concurrency

def hammer(base: str, writers: int, requests: int) -> tuple[dict[str, str], list[str]]:
    """``writers`` clients post ``requests`` requests of 1-3 documents each (every fifth also replaces an earlier
    document) while 2 others search; returns the last text of every document answered 200, and the failures."""
    words = seed_text(A).split()
    expected: dict[str, str] = {}
    lock = threading.Lock()
    failures: list[str] = []
    stop = threading.Event()

    def writer(w: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            for k in range(requests):
                docs = [{"id": f"w{w}/d{k}/{j}", "text": " ".join(words[(w * 7 + k + j) % 50:][:120]) + f" w{w} k{k}"}
                        for j in range(1 + k % 3)]
                if k % 5 == 4:
                    docs.append({"id": f"w{w}/d0/0", "text": f"replaced by writer {w} at {k}: " + " ".join(words[:80])})
                r = http.post("/documents", json={"documents": docs})
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text}")
                    continue
                with lock:
                    expected.update({d["id"]: d["text"] for d in docs})

    def searcher() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while not stop.is_set():
                r = http.post("/search", json={"text": seed_text(B)})
                if r.status_code != 200 or not r.json()["matches"]:
                    failures.append(f"search: {r.status_code} {r.text[:200]}")

    readers = [threading.Thread(target=searcher) for _ in range(2)]
    for t in readers:
        t.start()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))
    stop.set()
    for t in readers:
        t.join()
    return expected, failures


def assert_all_written(index_path: Path, expected: dict[str, str], documents_seen: int) -> None:
    with Index.open(index_path) as idx:
        assert documents_seen == len(idx) == len(expected) + 2
        for doc_id, text in expected.items():
            got = idx.get(doc_id)
            assert got is not None and got.text == text, doc_id
        assert idx.check().ok


def test_concurrent_writers_lose_nothing(index_path: Path) -> None:
    """Through a real uvicorn (one process): every document answered 200 is in the index with its last text."""
    with LiveServer(create_app(index_path, readers=2)) as base:
        expected, failures = hammer(base, writers=8, requests=20)
        documents = httpx.get(base + "/health").json()["documents"]
    assert not failures, failures[:3]
    assert len(expected) == 8 * sum(1 + k % 3 for k in range(20))
    assert_all_written(index_path, expected, documents)


def test_two_worker_processes_lose_nothing(index_path: Path) -> None:
    """`doublet serve --workers 2`: two processes, each with its own writer; writes wait for the index's writer
    lock across processes, and none is lost."""
    server = ServerProcess(index_path, "--workers", "2", "--readers", "1", "--log-level", "warning",
                           log=index_path.parent / "serve.log")
    with server as base:
        workers = [p for p in psutil.Process(server.proc.pid).children() if "resource_tracker" not in " ".join(
            p.cmdline())]
        assert len(workers) == 2
        with httpx.Client(base_url=base) as http:  # keep-alive: no ~40 ms wait for a delayed ACK (TCP_NODELAY)
            times = []
            for _ in range(21):
                t = time.perf_counter()
                http.get("/static/style.css").raise_for_status()
                times.append(time.perf_counter() - t)
        assert sorted(times)[10] < 0.025, times
        expected, failures = hammer(base, writers=6, requests=15)
        documents = httpx.get(base + "/health").json()["documents"]
    assert not failures, failures[:3]
    assert len(expected) == 6 * sum(1 + k % 3 for k in range(15))
    assert_all_written(index_path, expected, documents)


def test_pool_hands_out_in_arrival_order() -> None:
    """The reader/writer pool: waiters are served first come, first served (a released Index goes to the oldest
    waiter, never to a newcomer), a waiter that gives up (cancelled, or timed out) takes nothing with it."""
    async def main() -> None:
        pool = _Pool(["the index"])  # type: ignore[list-item]
        held = await pool.acquire()
        order: list[int] = []

        async def take(k: int) -> None:
            item = await pool.acquire()
            order.append(k)
            await asyncio.sleep(0)
            pool.release(item)

        tasks = [asyncio.create_task(take(k)) for k in range(5)]
        await asyncio.sleep(0)
        tasks[2].cancel()
        pool.release(held)
        late = asyncio.create_task(take(9))  # arrives after the release: waits for the others
        await asyncio.gather(*tasks, late, return_exceptions=True)
        assert order == [0, 1, 3, 4, 9]
        held = await pool.acquire()
        with pytest.raises(TimeoutError):
            await pool.acquire(timeout=0.05)
        pool.release(held)
        assert await pool.acquire(timeout=0.05) == "the index"

    asyncio.run(main())


# --------------------------------------------------------------------------------------------- command line

def test_cli_serve_errors(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "doublet.cli", "serve"]
    r = subprocess.run([*run, str(tmp_path / "none.idx")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "error:" in r.stderr and "doublet index create" in r.stderr
    r = subprocess.run([*run, str(tmp_path), "--max-request-size", "lots"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "--max-request-size" in r.stderr


def test_json_error_shapes_are_documented(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    responses = schema["paths"]["/search"]["post"]["responses"]
    assert {"200", "404", "413", "422", "500"} <= set(responses)
    assert json.dumps(responses["413"]).count("ErrorOut") == 1


FOOTER = ("Example Daily is published by the Example Media Group in Springfield and reaches its subscribers every "
          "morning before seven o'clock, weekends and holidays included.")


def site_page(k: int, site: str = "example-daily.com") -> dict:
    words = " ".join(f"w{k}x{j}" for j in range(60))
    return {"id": f"{site}/{k}", "text": f"Story number {k}. {words}.\n\n{FOOTER}", "site": site}


def test_templates_endpoint_and_template_words(client: TestClient) -> None:
    """A site's recurring footer (prose: the site rule) is listed by GET /templates and shown as template words of
    its pages and of a query of that site; a query of no site counts as another site, as in find."""
    none = {"shape": 0, "site": 0, "user": 0, "edge": 0, "frequency": 0}
    assert client.get("/templates").json() == {"fingerprints": 0, "by_rule": none, "occurrences_by_rule": none,
                                               "blocks": [], "total": 0}
    pages = [site_page(k) for k in range(3)]
    assert client.post("/documents", json={"documents": pages}).json()["added"] == [p["id"] for p in pages]
    got = client.get("/templates", params={"limit": 5}).json()
    assert got["by_rule"]["site"] > 0 and got["total"] == len(got["blocks"]) == 1
    block = got["blocks"][0]
    assert block["rule"] == "site" and block["documents"] == 3 and block["example"] == pages[0]["id"]
    assert block["text"] == FOOTER and pages[0]["text"][block["start"]:block["end"]] == FOOTER
    doc = client.get(f"/documents/{pages[1]['id']}", params={"templates": "true"}).json()
    assert doc["site"] == "example-daily.com"
    assert [(s["rule"], pages[1]["text"][s["start"]:s["end"]]) for s in doc["templates"]] == [("site", FOOTER)]
    assert "templates" not in client.get(f"/documents/{pages[1]['id']}").json()
    # a new page of the site, as a query with its site: the footer is template, nothing matches
    new = site_page(7)
    body = client.post("/search", json={"text": new["text"], "site": "https://www.example-daily.com/x",
                                        "templates": True}).json()
    assert body["matches"] == []
    assert [new["text"][s["start"]:s["end"]] for s in body["query"]["templates"]] == [FOOTER]
    # the same text of no site: the footer is on two sites now, content, and pairs the pages
    body = client.post("/search", json={"text": new["text"], "templates": True}).json()
    assert body["query"]["templates"] == [] and {m["match"] for m in body["matches"]} == {p["id"] for p in pages}
    assert doublet.find([doublet.Document(p["id"], p["text"], {"site": p["site"]}) for p in pages]
                        + [doublet.Document("<query>", new["text"])]).pairs
    # by id: the stored page's template words
    body = client.post("/search", json={"id": pages[2]["id"], "templates": True}).json()
    assert body["query"]["indexed"] and [s["rule"] for s in body["query"]["templates"]] == ["site"]
