"""Web input: WARC files and folders of HTML pages, on real bytes from ../shared.

* The Common Crawl excerpt (../shared/data/warc-samples): every record classified, the 16 HTML responses
  read with their metadata and charsets (UTF-8, windows-1251, GB2312/GBK, ISO-8859-1), the rest counted.
* Charsets: real Latin-1, Windows-1252 and UTF-8 bytes under a wrong or missing declaration decode to the
  right characters (no mojibake).
* Broken WARC files (truncated, a corrupt gzip member, not a WARC) give problems that name the file, the
  record's offset and id, and the run goes on.
* The command line: find, dedup (records copied byte for byte) and index add on WARC and HTML input.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from doublet import cli
from doublet.documents import Document, InputProblem, detect_format, read_documents
from doublet.extract import decode_html, extract_page
from doublet.warc import WarcPage, read_warc

SHARED = Path(__file__).resolve().parents[2] / "shared"
WARC = SHARED / "data" / "warc-samples" / "cc-main-2020-34-excerpt.warc.gz"
AEB = SHARED / "data" / "article-extraction-benchmark"
CLOUGH = SHARED / "data" / "clough-stevenson-plagiarism" / "texts"

pytestmark = pytest.mark.skipif(not WARC.exists() or not AEB.exists(), reason="../shared/data is not present")

MOJIBAKE = re.compile("[ÃÂÐÑ][\u0080-\u00bf]|â€|Ã©|Ã¼")


def read(inputs: list[Path], **kw: object) -> tuple[list[Document], list[InputProblem], Counter[str]]:
    problems: list[InputProblem] = []
    skipped: Counter[str] = Counter()
    docs = list(read_documents([str(p) for p in inputs], problems=problems, skipped=skipped, **kw))  # type: ignore[arg-type]
    return docs, problems, skipped


def pages() -> dict[str, WarcPage]:
    return {it.uri: it for it in read_warc(WARC) if isinstance(it, WarcPage) and it.uri}


# ------------------------------------------------------------------------------------------------- WARC


def test_common_crawl_excerpt_is_read_whole() -> None:
    docs, problems, skipped = read([WARC])
    assert problems == []
    assert len(docs) == 16
    assert dict(skipped) == {"request": 17, "metadata": 16, "warcinfo": 1}  # 50 records in all
    assert len({d.id for d in docs}) == 16 and all(d.id.startswith("<urn:uuid:") for d in docs)
    first = docs[0]
    assert first.id == "<urn:uuid:c4c112a5-3503-4483-abf8-51a0dd86dd53>"
    assert first.meta["offset"] == 940 and first.meta["url"] == "http://003338.cn/l41/481397.html"
    assert first.meta["fetched"] == "2020-08-08T17:27:41Z" and first.meta["date"]
    assert all(d.meta["source"] == str(WARC) and d.meta.get("title") and d.meta.get("site") for d in docs)
    by_url = {d.meta["url"]: d for d in docs}
    russian = by_url["http://01spb.ru/company/"]  # windows-1251
    assert russian.meta["charset"] == "cp1251" and "Стратегия пожарной безопасности" in russian.text
    chinese = by_url["http://037426.cn/"]  # gb2312, read as its superset
    assert chinese.meta["charset"] == "gb18030" and re.search(r"[\u4e00-\u9fff]{4}", chinese.meta["title"])
    for d in docs:
        assert not MOJIBAKE.search(d.text), (d.meta["url"], MOJIBAKE.search(d.text))


def test_warc_reading_is_stable_and_uncompressed_warc_reads_the_same(tmp_path: Path) -> None:
    plain = tmp_path / "excerpt.warc"
    plain.write_bytes(gzip.decompress(WARC.read_bytes()))
    a, _, _ = read([WARC])
    b, _, skipped = read([plain])
    assert [(d.id, d.text) for d in a] == [(d.id, d.text) for d in b]
    assert sum(skipped.values()) == 34
    assert detect_format(plain).kind == detect_format(WARC).kind == "warc"


def test_latin1_page_is_read_right_even_when_declared_utf8() -> None:
    """live-radsport.ch serves ISO-8859-1 bytes (German umlauts); a wrong UTF-8 label must not spoil them."""
    body = pages()["http://06.live-radsport.ch/tippspiel/stats_140_petzi.html"].body
    assert re.search(rb"[\xc0-\xff][\x00-\x7f]", body)  # real Latin-1 bytes: not valid UTF-8
    expected = body.decode("cp1252")
    assert decode_html(body).text == expected  # declared iso-8859-1 in a meta tag
    wrong = body.replace(b"charset=iso-8859-1", b"charset=utf-8")
    got = decode_html(wrong, "utf-8")
    assert got.text == wrong.decode("cp1252") and got.encoding == "cp1252"
    assert "declared utf-8" in (got.note or "")
    assert any(ch in got.text for ch in "äöüÄÖÜß")


def test_cp1252_file_with_curly_quotes_declared_utf8() -> None:
    """A Clough & Stevenson answer saved as Windows-1252 (curly quotes, ellipsis) inside a page labelled UTF-8."""
    raw = (CLOUGH / "g1pB_taska.txt").read_bytes()
    assert {0x85, 0x92, 0x93, 0x94} <= set(raw)
    page = b'<html><head><meta charset="utf-8"><title>t</title></head><body><p>' + raw + b"</p></body></html>"
    for declared in ("utf-8", None):
        got = decode_html(page, declared)
        assert raw.decode("cp1252") in got.text
        assert "\u201c" in got.text and "\u2026" in got.text and not MOJIBAKE.search(got.text)


def test_utf8_page_declared_latin1_is_utf8() -> None:
    html = gzip.decompress(next(iter(sorted((AEB / "html").glob("*.html.gz")))).read_bytes())
    text = html.decode("utf-8")
    assert not text.isascii()
    wrong = re.sub(rb"charset=[\"']?utf-8", b"charset=iso-8859-1", html, flags=re.I)
    for declared in ("iso-8859-1", "windows-1252", None):
        got = decode_html(wrong, declared)
        assert got.encoding == "utf-8" and got.text == wrong.decode("utf-8") and not got.repaired


def test_utf8_with_a_stray_cp1252_byte_is_repaired_not_mojibake() -> None:
    body = pages()["http://0900-hovenier.nl/gelderland/oosterbeek/"].body
    broken = body.replace(b"</title>", b" \x93quoted\x94</title>", 1)
    got = decode_html(broken, "utf-8")
    assert got.repaired and got.encoding == "utf-8"
    assert "\u201cquoted\u201d" in got.text and got.text.replace(" \u201cquoted\u201d", "", 1) == body.decode("utf-8")


def test_gb2312_label_reads_gbk_characters() -> None:
    body = pages()["http://0760.jxtdw.com/area/sanxiang/"].body
    got = decode_html(body, "gb2312")
    assert got.encoding == "gb18030" and "\ufffd" not in got.text and "三乡" in got.text


# ------------------------------------------------------------------------------------------------- bad records


def warc_bytes(*records: bytes) -> bytes:
    return b"".join(gzip.compress(r, mtime=0) for r in records)


def record(rtype: str, rid: str, uri: str, block: bytes, content_type: str = "application/http; msgtype=response",
           date: str = "2021-03-04T05:06:07Z", extra: str = "") -> bytes:
    head = (f"WARC/1.0\r\nWARC-Type: {rtype}\r\nWARC-Record-ID: <urn:uuid:{rid}>\r\nWARC-Date: {date}\r\n"
            f"WARC-Target-URI: {uri}\r\nContent-Type: {content_type}\r\n{extra}Content-Length: {len(block)}\r\n\r\n")
    return head.encode() + block + b"\r\n\r\n"


def http(body: bytes, ctype: str = "text/html; charset=utf-8", status: str = "200 OK") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


def article(k: int) -> bytes:
    return gzip.decompress(sorted((AEB / "html").glob("*.html.gz"))[k].read_bytes())


def test_non_html_records_are_skipped_and_counted(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    path = tmp_path / "mixed.warc.gz"
    path.write_bytes(warc_bytes(
        record("request", "r1", "http://a.example/", b"GET / HTTP/1.1\r\n\r\n", "application/http; msgtype=request"),
        record("response", "p1", "http://a.example/", http(article(0))),
        record("response", "i1", "http://a.example/x.png", http(png, "image/png")),
        record("response", "f1", "http://a.example/x.pdf", http(b"%PDF-1.4 ...", "application/pdf")),
        record("response", "n1", "http://a.example/gone", http(b"<html>gone</html>", status="404 Not Found")),
        record("response", "m1", "http://a.example/moved", http(b"", status="301 Moved Permanently")),
        record("response", "u1", "http://a.example/untyped", http(article(1), "application/octet-stream")),
        record("metadata", "x1", "http://a.example/", b"fetchTimeMs: 5\r\n", "application/warc-fields"),
    ))
    docs, problems, skipped = read([path])
    assert [d.id for d in docs] == ["<urn:uuid:p1>", "<urn:uuid:u1>"]  # the untyped page is sniffed as HTML
    assert problems == []
    assert dict(skipped) == {"request": 1, "metadata": 1, "response: image/png": 1, "response: application/pdf": 1,
                             "response: HTTP 404": 1, "response: HTTP 301": 1}


def test_bad_records_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    data = WARC.read_bytes()
    corrupt = bytearray(data)
    corrupt[13000:13100] = b"x" * 100  # inside the gzip member of the response at offset 12685
    (tmp_path / "corrupt.warc.gz").write_bytes(bytes(corrupt))
    (tmp_path / "truncated.warc.gz").write_bytes(data[:60000])  # ends inside the response at 48321
    (tmp_path / "junk.warc").write_bytes(b"this is not a WARC file\n" * 10)
    empty_page = record("response", "e1", "http://b.example/", http(b"<html><head><title>t</title></head><body><script>var a = 1;</script><img src=x></body></html>"))
    (tmp_path / "empty.warc.gz").write_bytes(warc_bytes(empty_page))

    docs, problems, _ = read([tmp_path / "corrupt.warc.gz"])
    assert len(docs) == 15
    intact = {d.id: d.meta["offset"] for d in read([WARC])[0]}
    assert all(intact[d.id] == d.meta["offset"] for d in docs)  # offsets after the resync are the file's
    [p] = problems
    assert p.source.endswith("corrupt.warc.gz") and p.where.startswith("bytes 12685-") and p.action == "rejected"
    assert "unreadable WARC data" in p.reason and "next record" in p.reason

    docs, problems, _ = read([tmp_path / "truncated.warc.gz"])
    assert len(docs) == 5
    [p] = problems
    assert p.where == "offset 48321 (http://044545.com/topic/20200207/015849.html)"
    assert p.id == "<urn:uuid:bed28f39-c643-401a-b49c-7e936df0cac6>" and "truncated" in p.reason

    docs, problems, _ = read([tmp_path / "junk.warc"])
    assert docs == [] and len(problems) == 1 and "the rest of the file was skipped" in problems[0].reason

    docs, problems, _ = read([tmp_path / "empty.warc.gz"])
    assert docs == [] and problems[0].id == "<urn:uuid:e1>" and "no main text" in problems[0].reason
    assert "--keep-boilerplate" in problems[0].reason


# ------------------------------------------------------------------------------------------------- HTML folders


def test_html_folder_ids_are_relative_paths_and_text_is_the_article(tmp_path: Path) -> None:
    gold = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    names = sorted(gold)[:3]
    (tmp_path / "site" / "sub").mkdir(parents=True)
    (tmp_path / "site" / "a.html").write_bytes(gzip.decompress((AEB / "html" / f"{names[0]}.html.gz").read_bytes()))
    (tmp_path / "site" / "sub" / "b.html.gz").write_bytes((AEB / "html" / f"{names[1]}.html.gz").read_bytes())
    (tmp_path / "site" / "c.htm").write_bytes(gzip.decompress((AEB / "html" / f"{names[2]}.html.gz").read_bytes()))
    (tmp_path / "site" / "notes.txt").write_text("a plain text file is still a document", encoding="utf-8")
    (tmp_path / "site" / "style.css").write_text("body {}", encoding="utf-8")
    docs, problems, _ = read([tmp_path / "site"])
    assert problems == []
    assert [d.id for d in docs] == ["a.html", "c.htm", "notes.txt", "sub/b.html.gz"]
    by_id = {d.id: d for d in docs}
    for doc_id, name in (("a.html", names[0]), ("sub/b.html.gz", names[1]), ("c.htm", names[2])):
        body = gold[name]["articleBody"]
        first = max(body.split("\n"), key=len)[:80]  # a long paragraph of the gold article text
        assert first in by_id[doc_id].text, (doc_id, first)
        assert by_id[doc_id].meta["path"] == doc_id and by_id[doc_id].meta.get("title")
    assert "date" not in by_id["notes.txt"].meta


def test_keep_boilerplate_keeps_the_whole_page(tmp_path: Path) -> None:
    html = article(3).decode("utf-8")
    main = extract_page(html).text
    whole = extract_page(html, keep_boilerplate=True).text
    assert len(whole) > 1.3 * len(main)
    assert max(main.split("\n"), key=len)[:60] in whole


# ------------------------------------------------------------------------------------------------- CLI


def page_html(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><nav><a href='/'>Home</a>"
            f"</nav><article><h1>{title}</h1>{body}</article><footer>Contact us</footer></body></html>").encode()


def reprint_warc(path: Path) -> None:
    """Two copies of one article (the later-fetched one first in the file) and an unrelated page."""
    gold = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    texts = [v["articleBody"] for _, v in sorted(gold.items())]
    story = [p for p in texts[5].split("\n") if len(p) > 80][:6]
    other = [p for p in texts[6].split("\n") if len(p) > 80][:6]
    path.write_bytes(warc_bytes(
        record("request", "q-copy", "http://copy.example/s", b"GET /s HTTP/1.1\r\n\r\n",
               "application/http; msgtype=request", "2021-05-02T00:00:00Z"),
        record("response", "copy", "http://copy.example/s", http(page_html("Copy", story)), date="2021-05-02T00:00:00Z",
               extra="WARC-Concurrent-To: <urn:uuid:q-copy>\r\n"),
        record("metadata", "m-copy", "http://copy.example/s", b"fetchTimeMs: 5\r\n", "application/warc-fields",
               "2021-05-02T00:00:00Z", "WARC-Concurrent-To: <urn:uuid:copy>\r\n"),
        record("response", "orig", "http://orig.example/s", http(page_html("Original", story)),
               date="2021-05-01T00:00:00Z"),
        record("response", "other", "http://other.example/t", http(page_html("Other", other))),
    ))


def test_find_and_dedup_on_warc(tmp_path: Path) -> None:
    warc = tmp_path / "crawl.warc.gz"
    reprint_warc(warc)
    runner = CliRunner()
    res = runner.invoke(cli.app, ["find", str(warc), "-o", str(tmp_path / "out"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"]["documents"] == 3 and summary["counts"]["skipped_records"] == 2
    assert summary["skipped"] == {"metadata": 1, "request": 1}
    assert "2 WARC records that are not HTML pages" in res.output
    [pair] = [json.loads(x) for x in (tmp_path / "out" / "pairs.jsonl").read_text().splitlines()]
    assert (pair["a"], pair["b"], pair["kind"]) == ("<urn:uuid:copy>", "<urn:uuid:orig>", "near-duplicate")
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "out" / "clusters.jsonl").read_text().splitlines())}
    assert rows["<urn:uuid:orig>"]["original"] and rows["<urn:uuid:orig>"]["original_reason"] == "earliest_date"
    assert not rows["<urn:uuid:copy>"]["original"] and rows["<urn:uuid:copy>"]["original_reason"] is None
    assert rows["<urn:uuid:other>"]["original_reason"] == "singleton"

    res = runner.invoke(cli.app, ["dedup", str(warc), "-o", str(tmp_path / "dd"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    removed = [json.loads(x) for x in (tmp_path / "dd" / "removed.jsonl").read_text().splitlines()]
    assert [r["id"] for r in removed] == ["<urn:uuid:orig>"]  # --keep first: the copy comes first in the file
    ids = [it.record_id for it in read_warc(tmp_path / "dd" / "crawl.warc.gz")]
    assert ids == ["<urn:uuid:q-copy>", "<urn:uuid:copy>", "<urn:uuid:m-copy>", "<urn:uuid:other>"]
    assert set(members(tmp_path / "dd" / "crawl.warc.gz")) < set(members(warc))  # byte for byte


def members(path: Path) -> list[bytes]:
    """The stored bytes of each record (gzip member) of a WARC file."""
    data = path.read_bytes()
    offsets = [it.offset for it in read_warc(path)] + [len(data)]
    return [data[s:e] for s, e in zip(offsets, offsets[1:])]


def test_dedup_drops_a_removed_page_with_its_request_and_metadata(tmp_path: Path) -> None:
    warc = tmp_path / "crawl.warc.gz"
    reprint_warc(warc)
    out = tmp_path / "dd"
    res = CliRunner().invoke(cli.app, ["dedup", str(warc), "-o", str(out), "--keep", "longest", "--workers", "1"])
    assert res.exit_code == 0, res.output
    removed = json.loads((out / "removed.jsonl").read_text())
    kept_ids = [it.record_id for it in read_warc(out / "crawl.warc.gz")]
    if removed["id"] == "<urn:uuid:copy>":  # its request and metadata records go with it
        assert kept_ids == ["<urn:uuid:orig>", "<urn:uuid:other>"]
    else:
        assert kept_ids == ["<urn:uuid:q-copy>", "<urn:uuid:copy>", "<urn:uuid:m-copy>", "<urn:uuid:other>"]
    kept = members(out / "crawl.warc.gz")
    assert kept == [m for m in members(warc) if m in kept]  # the input's bytes, in the input's order
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dedup"]["kept"] == 2 and summary["dedup"]["removed"] == 1


def test_find_on_an_html_folder_with_keep_boilerplate_and_index_add(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    story = ["The harbour authority said on Monday that the new container terminal would open in the spring, "
             "two years later than planned, after a dispute over dredging permits delayed the works."] * 1
    story += [f"Paragraph {k} of the report describes the cranes, the rail link and the jobs the terminal brings "
              f"to the town, with figures from the authority's annual statement number {k}." for k in range(5)]
    (site / "a.html").write_bytes(page_html("Terminal", story))
    (site / "b.html").write_bytes(page_html("Terminal reprint", story[::-1]))
    runner = CliRunner()
    for extra in ([], ["--keep-boilerplate"]):
        out = tmp_path / ("out" + "".join(extra))
        res = runner.invoke(cli.app, ["find", str(site), "-o", str(out), "--workers", "1", *extra])
        assert res.exit_code == 0, res.output
        [pair] = [json.loads(x) for x in (out / "pairs.jsonl").read_text().splitlines()]
        assert (pair["a"], pair["b"]) == ("a.html", "b.html")
    idx = tmp_path / "idx"
    assert runner.invoke(cli.app, ["index", "create", str(idx)]).exit_code == 0
    res = runner.invoke(cli.app, ["index", "add", str(idx), str(site), "--keep-boilerplate", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "2 added" in res.output


def test_parallel_extraction_gives_the_same_documents_in_the_same_order(tmp_path: Path) -> None:
    data = bytearray(WARC.read_bytes())
    data[13000:13100] = b"x" * 100  # one unreadable record among the pages
    path = tmp_path / "corrupt.warc.gz"
    path.write_bytes(bytes(data))
    serial = read([path], workers=1)
    parallel = read([path], workers=2)
    assert [(d.id, d.text, d.meta) for d in parallel[0]] == [(d.id, d.text, d.meta) for d in serial[0]]
    assert parallel[1] == serial[1] and len(serial[1]) == 1 and parallel[2] == serial[2]
    folder = tmp_path / "mixed"  # text files and pages interleaved in id order
    folder.mkdir()
    for k in range(4):
        (folder / f"{k}a.txt").write_text(f"plain text file number {k}", encoding="utf-8")
        (folder / f"{k}b.html").write_bytes(article(k))
    serial = read([folder], workers=1)
    parallel = read([folder], workers=2)
    assert [d.id for d in parallel[0]] == sorted(p.name for p in folder.iterdir())
    assert [(d.id, d.text, d.meta) for d in parallel[0]] == [(d.id, d.text, d.meta) for d in serial[0]]


def test_dedup_of_a_corrupt_warc_leaves_the_bad_bytes_out(tmp_path: Path) -> None:
    data = bytearray(WARC.read_bytes())
    data[13000:13100] = b"x" * 100
    path = tmp_path / "corrupt.warc.gz"
    path.write_bytes(bytes(data))
    out = tmp_path / "dd"
    res = CliRunner().invoke(cli.app, ["dedup", str(path), "-o", str(out), "--workers", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    docs, problems, skipped = read([out / "corrupt.warc.gz"])
    assert len(docs) == 15 and problems == [] and sum(skipped.values()) == 34
    original = members(WARC)  # the corrupt response is the 6th record, at offset 12685; the rest is copied as is
    assert members(out / "corrupt.warc.gz") == original[:5] + original[6:]


def test_extraction_bench_scores_as_the_benchmark_defines_them() -> None:
    """bench/extraction.py: word 4-gram multisets per page, tp/fp/fn normalised, P and R averaged over pages."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("extraction", Path(__file__).resolve().parents[1] / "bench" /
                                                  "extraction.py")
    assert spec is not None and spec.loader is not None
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    assert ex.page_counts("a b c d e", "a b c d x", 4) == (1 / 3, 1 / 3, 1 / 3)
    assert ex.page_counts("a b c d e", "", 4) == (0.0, 0.0, 1.0)  # nothing predicted: no precision, recall 0
    got = ex.prf([ex.page_counts("a b c d e", "a b c d x", 4), ex.page_counts("a b c d e", "", 4),
                  ex.page_counts("p q r s", "p q r s", 4)])
    assert got["precision"] == pytest.approx((0.5 + 1.0) / 2) and got["recall"] == pytest.approx((0.5 + 0 + 1) / 3)
