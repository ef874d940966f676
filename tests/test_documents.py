"""Tests for doublet.documents: readers, problem policy and writers."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doublet import documents
from doublet.documents import (
    Document,
    InputFormat,
    InputProblem,
    detect_format,
    read_documents,
    write_kept,
)

CLOUGH = Path(__file__).resolve().parents[2] / "shared" / "data" / "clough-stevenson-plagiarism" / "texts"


# --------------------------------------------------------------------------------------------
# helpers


def compress(data: bytes, compression: str | None) -> bytes:
    if compression == "gz":
        return gzip.compress(data)
    if compression == "zst":
        return zstandard.ZstdCompressor().compress(data)
    return data


def decompress(data: bytes, compression: str | None) -> bytes:
    if compression == "gz":
        return gzip.decompress(data)
    if compression == "zst":
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True).read()
    return data


def suffix(compression: str | None) -> str:
    return "" if compression is None else f".{compression}"


def jsonl_bytes(records: list[Any]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def read(inputs: Any, **kw: Any) -> tuple[list[Document], list[InputProblem]]:
    problems: list[InputProblem] = []
    docs = list(read_documents(inputs if isinstance(inputs, list) else [inputs], problems=problems, **kw))
    return docs, problems


def rejected(problems: list[InputProblem]) -> list[InputProblem]:
    return [p for p in problems if p.action == "rejected"]


def repaired(problems: list[InputProblem]) -> list[InputProblem]:
    return [p for p in problems if p.action == "repaired"]


def assert_accounted(docs: list[Document], problems: list[InputProblem], n_records: int) -> None:
    assert len(docs) + len(rejected(problems)) == n_records


def only(problems: list[InputProblem], action: str = "rejected") -> InputProblem:
    matching = [p for p in problems if p.action == action]
    assert len(matching) == 1, [p.message() for p in problems]
    return matching[0]


# --------------------------------------------------------------------------------------------
# formats


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.jsonl", InputFormat("jsonl", None)),
        ("a.ndjson.gz", InputFormat("jsonl", "gz")),
        ("A.JSON.ZST", InputFormat("jsonl", "zst")),
        ("a.csv", InputFormat("csv", None)),
        ("a.csv.gz", InputFormat("csv", "gz")),
        ("a.tsv.zst", InputFormat("csv", "zst", "\t")),
        ("a.parquet", InputFormat("parquet", None)),
    ],
)
def test_detect_format_by_suffix(name: str, expected: InputFormat) -> None:
    assert detect_format(name) == expected


def test_detect_format_folder_unknown_and_compressed_parquet(tmp_path: Path) -> None:
    assert detect_format(tmp_path) == InputFormat("txtdir", None)
    with pytest.raises(ValueError, match=r"\.jsonl.*\.csv.*\.parquet"):
        detect_format(tmp_path / "a.xml")
    with pytest.raises(ValueError, match="compressed internally"):
        detect_format(tmp_path / "a.parquet.gz")


def test_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="input not found"):
        read_documents([tmp_path / "nope.jsonl"])


@pytest.mark.parametrize("compression", [None, "gz", "zst"])
def test_jsonl_read(tmp_path: Path, compression: str | None) -> None:
    path = tmp_path / f"docs.jsonl{suffix(compression)}"
    body = (
        b'\xef\xbb\xbf{"id": "a", "text": "alpha", "lang": "en"}\n\n'
        b'{"id": 7, "text": "caf\xc3\xa9"}\r\n{"id": 8.0, "text": "x"}'
    )
    path.write_bytes(compress(body, compression))
    docs, problems = read(path)
    assert problems == []
    assert [(d.id, d.text) for d in docs] == [("a", "alpha"), ("7", "café"), ("8", "x")]
    assert [d.meta for d in docs] == [{"source": str(path), "line": n} for n in (1, 3, 4)]
    docs, _ = read(path, keep_fields=True)
    assert docs[0].meta["fields"] == {"lang": "en"}


@pytest.mark.parametrize("compression", [None, "gz", "zst"])
@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_csv_read(tmp_path: Path, compression: str | None, delimiter: str) -> None:
    ext = "csv" if delimiter == "," else "tsv"
    path = tmp_path / f"docs.{ext}{suffix(compression)}"
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(
        [
            ["title", "id", "text"],
            ["t1", "a", "one"],
            ["t2", "b", 'two\nlines, "quoted"'],
            ["t3", "c", "three"],
        ]
    )
    path.write_bytes(compress(buf.getvalue().encode(), compression))
    docs, problems = read(path, keep_fields=True)
    assert problems == []
    assert [(d.id, d.text) for d in docs] == [("a", "one"), ("b", 'two\nlines, "quoted"'), ("c", "three")]
    assert [d.meta["line"] for d in docs] == [2, 3, 5]  # physical line where each record starts
    assert docs[0].meta["fields"] == {"title": "t1"}


def test_parquet_read_across_batches(tmp_path: Path) -> None:
    n = 2500  # more than one record batch
    path = tmp_path / "docs.parquet"
    pq.write_table(
        pa.table({"doc": list(range(n)), "body": [f"text {i}" for i in range(n)], "x": [1] * n}), path
    )
    docs, problems = read(path, id_field="doc", text_field="body")
    assert problems == []
    assert len(docs) == n
    assert [d.id for d in docs] == [str(i) for i in range(n)]
    assert docs[2100].text == "text 2100"
    assert docs[2100].meta == {"source": str(path), "row": 2100}


def test_parquet_missing_column_names_available_columns(tmp_path: Path) -> None:
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), path)
    with pytest.raises(ValueError, match=r"no column 'text' \(columns: id, body\).*--text-field"):
        read_documents([path])


def make_txt_folder(root: Path) -> Path:
    folder = root / "corpus"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "b.txt").write_text("bee")
    (folder / "a.txt").write_text("\ufeffay")  # BOM dropped
    (folder / "sub" / "c.txt.gz").write_bytes(gzip.compress(b"sea"))
    (folder / "sub" / "deeper" / "d.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(b"dee"))
    (folder / "notes.md").write_text("ignored")
    (folder / ".hidden.txt").write_text("ignored")
    (folder / ".git" / "x.txt").write_text("ignored")
    return folder


def test_txt_folder_ids_order_and_compression(tmp_path: Path) -> None:
    folder = make_txt_folder(tmp_path)
    docs, problems = read(folder)
    assert problems == []
    assert [(d.id, d.text) for d in docs] == [
        ("a.txt", "ay"),
        ("b.txt", "bee"),
        ("sub/c.txt.gz", "sea"),
        ("sub/deeper/d.txt.zst", "dee"),
    ]
    assert docs[2].meta == {"source": str(folder), "path": "sub/c.txt.gz"}


def test_clough_stevenson_cp1252_files_are_repaired() -> None:
    if not CLOUGH.is_dir():
        pytest.skip(f"{CLOUGH} not available")
    docs, problems = read(CLOUGH)
    n_files = len([p for p in CLOUGH.iterdir() if p.name.endswith(".txt")])
    assert len(docs) == n_files and rejected(problems) == []
    fixes = repaired(problems)
    assert len(fixes) == 17
    assert all("not valid UTF-8" in p.reason and "Windows-1252" in p.reason for p in fixes)
    fix = next(p for p in fixes if p.id == "g1pB_taska.txt")
    assert fix.reason.startswith("not valid UTF-8 (first bad byte at offset 76)")
    text = next(d.text for d in docs if d.id == "g1pB_taska.txt")
    assert "It\u2019s objecti" in text and "\ufffd" not in text


def test_cp1252_undefined_bytes_fall_back_to_latin1(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"\x93quoted\x94 \x81")
    docs, problems = read(folder)
    assert docs[0].text == "\u201cquoted\u201d \x81"
    assert (
        only(problems, "repaired").reason
        == "not valid UTF-8 (first bad byte at offset 0); decoded as Windows-1252"
    )


def test_utf16_text_file_is_decoded(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_bytes("héllo".encode("utf-16"))
    docs, problems = read(folder)
    assert [d.text for d in docs] == ["héllo"]
    assert "UTF-16" in only(problems, "repaired").reason


# --------------------------------------------------------------------------------------------
# bad input: the run goes on and every record is accounted for


def test_empty_and_whitespace_documents_all_formats(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(
        jsonl_bytes(
            [{"id": "j1", "text": ""}, {"id": "j2", "text": " \n\t\u3000"}, {"id": "j3", "text": "ok"}]
        )
    )
    (tmp_path / "a.csv").write_text('id,text\nc1,\nc2,"  "\nc3,ok\n')
    pq.write_table(pa.table({"id": ["p1", "p2", "p3"], "text": ["", "\n", "ok"]}), tmp_path / "a.parquet")
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "t1.txt").write_bytes(b"")
    (folder / "t2.txt").write_bytes(b"\r\n  ")
    (folder / "t3.txt").write_text("ok")
    docs, problems = read([tmp_path / "a.jsonl", tmp_path / "a.csv", tmp_path / "a.parquet", folder])
    assert [d.id for d in docs] == ["j3", "c3", "p3", "t3.txt"]
    reasons = {p.id: p.reason for p in rejected(problems)}
    assert reasons == {
        "j1": "empty document",
        "j2": "whitespace-only document",
        "c1": "empty document",
        "c2": "whitespace-only document",
        "p1": "empty document",
        "p2": "whitespace-only document",
        "t1.txt": "empty document",
        "t2.txt": "whitespace-only document",
    }
    assert_accounted(docs, problems, 12)


def test_invalid_utf8_in_jsonl_line_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "bad \xff\xfe byte"}\n{"id": "c", "text": "ok"}\n'
    )
    docs, problems = read(path)
    assert [d.id for d in docs] == ["a", "b", "c"]
    assert docs[1].text == "bad \ufffd\ufffd byte"
    fix = only(problems, "repaired")
    assert (fix.where, fix.id) == ("line 2", "b")
    assert "first bad byte at offset 25 of the line" in fix.reason
    assert_accounted(docs, problems, 3)


def test_invalid_utf8_in_csv_line_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b'id,text\na,"first\nsecond \x92 line"\nb,ok\n')
    docs, problems = read(path)
    assert [(d.id, d.text) for d in docs] == [("a", "first\nsecond \ufffd line"), ("b", "ok")]
    fix = only(problems, "repaired")
    assert fix.where == "line 2" and "line 3 is not valid UTF-8" in fix.reason


def test_binary_files_in_txt_folder_are_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("fine")
    (folder / "b.txt").write_bytes(b"PK\x03\x04\x00\x00garbage")
    (folder / "c.txt").write_bytes(bytes(range(1, 32)) * 100)
    (folder / "d.txt").write_text("also fine")
    docs, problems = read(folder)
    assert [d.id for d in docs] == ["a.txt", "d.txt"]
    reasons = {p.id: p.reason for p in rejected(problems)}
    assert reasons["b.txt"] == "binary file (contains NUL bytes); not text"
    assert reasons["c.txt"].startswith("binary file (") and "control bytes" in reasons["c.txt"]
    assert all(p.where == "file" and p.source.startswith(str(folder)) for p in problems)
    assert_accounted(docs, problems, 4)


def test_malformed_and_non_object_jsonl_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"id": "a", "text": "ok"}\n{"id": "b", "text": "unterminated\n'
        '[1, 2]\n"just a string"\n{"id": "c", "text": "ok"}\n'
    )
    docs, problems = read(path)
    assert [d.id for d in docs] == ["a", "c"]
    bad = rejected(problems)
    assert [p.where for p in bad] == ["line 2", "line 3", "line 4"]
    assert (
        "line 2: invalid JSON: Unterminated string starting at column 21; fix or remove the line"
        in bad[0].message()
    )
    assert "not an object (got an array)" in bad[1].reason
    assert "not an object (got str)" in bad[2].reason
    assert_accounted(docs, problems, 5)


def test_json_array_file_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('[{"id": "a", "text": "x"}]\n')
    docs, problems = read(path)
    assert docs == [] and "JSON Lines needs one object per line" in only(problems).reason


def test_missing_id_and_text_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        jsonl_bytes(
            [
                {"doc_id": "x", "body": "y"},
                {"id": "a", "text": "ok"},
                {"id": "b", "body": "y"},
                {"text": "no id"},
            ]
        )
    )
    docs, problems = read(path)
    assert [d.id for d in docs] == ["a"]
    first, no_text, no_id = rejected(problems)
    assert first.where == "line 1"
    assert first.reason == (
        "no 'id' field (the record has fields: 'doc_id', 'body'); "
        "use --id-field to name the field that holds the id"
    )
    assert (no_text.id, no_text.reason) == (
        "b",
        "no 'text' field; use --text-field to name the field that holds the text",
    )
    assert no_id.reason == "no 'id' field; use --id-field to name the field that holds the id"
    assert_accounted(docs, problems, 4)


def test_csv_missing_column_and_wrong_field_count(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("name,body\nx,one\ny,two,extra\n")
    docs, problems = read(path)
    assert docs == []
    first, second = rejected(problems)
    assert "(the record has fields: 'name', 'body'); use --id-field" in first.reason
    assert (second.where, second.reason[:36]) == ("line 3", "has 3 fields but the header has 2; f")
    assert_accounted(docs, problems, 2)


def test_csv_unclosed_quote_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('id,text\na,ok\nb,"never closed\nc,more\n')
    docs, problems = read(path)
    assert [d.id for d in docs] == ["a"]
    assert only(problems).where == "line 3" and "malformed CSV" in only(problems).reason


def test_id_types(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    ids: list[Any] = [12, 3.0, "s", 2.5, [1], {"a": 1}, None, True, ""]
    path.write_bytes(jsonl_bytes([{"id": i, "text": "t"} for i in ids]))
    docs, problems = read(path)
    assert [d.id for d in docs] == ["12", "3", "s"]
    assert [p.reason for p in rejected(problems)] == [
        "id must be a string or an integer, got a number",
        "id must be a string or an integer, got an array",
        "id must be a string or an integer, got an object",
        "id is null; every record needs an id",
        "id must be a string or an integer, got a boolean",
        "id is empty; every record needs an id",
    ]
    assert_accounted(docs, problems, len(ids))


def test_text_null_or_not_string(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        jsonl_bytes([{"id": "a", "text": None}, {"id": "b", "text": 5}, {"id": "c", "text": "ok"}])
    )
    docs, problems = read(path)
    assert [d.id for d in docs] == ["c"]
    assert [p.reason for p in rejected(problems)] == [
        "text is null; nothing to process",
        "text must be a string, got int",
    ]


def test_parquet_null_values_are_rejected_per_row(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": ["a", None, "c"], "text": ["x", "y", None]}), path)
    docs, problems = read(path)
    assert [d.id for d in docs] == ["a"]
    assert [(p.where, p.id) for p in rejected(problems)] == [("row 1", None), ("row 2", "c")]
    assert_accounted(docs, problems, 3)


def test_duplicate_ids_within_and_across_inputs(tmp_path: Path) -> None:
    first = tmp_path / "a.jsonl"
    first.write_bytes(
        jsonl_bytes([{"id": "x", "text": "1"}, {"id": "y", "text": "2"}, {"id": "x", "text": "3"}])
    )
    second = tmp_path / "b.csv"
    second.write_text("id,text\nz,4\ny,5\n")
    docs, problems = read([first, second])
    assert [(d.id, d.text) for d in docs] == [("x", "1"), ("y", "2"), ("z", "4")]
    dup1, dup2 = rejected(problems)
    assert dup1.reason.startswith(f"duplicate id (first seen at {first}:line 1)")
    assert (dup2.source, dup2.where, dup2.id) == (str(second), "line 3", "y")
    assert dup2.reason.startswith(f"duplicate id (first seen at {first}:line 2)")
    assert_accounted(docs, problems, 5)


def test_small_max_chars_all_formats(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(
        jsonl_bytes([{"id": "j1", "text": "x" * 11}, {"id": "j2", "text": "x" * 10}])
    )
    (tmp_path / "a.csv").write_text("id,text\nc1,xxxxxxxxxxx\nc2,xxxxxxxxxx\n")
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": ["x" * 11, "x" * 10]}), tmp_path / "a.parquet")
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "t1.txt").write_text("é" * 11)
    (folder / "t2.txt").write_text("é" * 10)
    (folder / "t3.txt").write_text("é" * 100)  # beyond 4 * max_chars bytes: counted, not loaded
    docs, problems = read(
        [tmp_path / "a.jsonl", tmp_path / "a.csv", tmp_path / "a.parquet", folder], max_chars=10
    )
    assert [d.id for d in docs] == ["j2", "c2", "p2", "t2.txt"]
    reasons = {p.id: p.reason for p in rejected(problems)}
    expected = "document has 11 characters, over --max-chars 10; raise --max-chars to process it"
    assert reasons == {
        "j1": expected,
        "c1": expected,
        "p1": expected,
        "t1.txt": expected,
        "t3.txt": expected.replace("11", "100"),
    }
    assert_accounted(docs, problems, 9)


def test_50_mb_document_is_rejected_with_bounded_memory(tmp_path: Path) -> None:
    n = 52_428_800
    path = tmp_path / "big.jsonl"
    with path.open("w") as fh:
        fh.write('{"id": "a", "text": "small"}\n{"id": "big", "text": "')
        fh.write("a" * n)
        fh.write('"}\n{"id": "b", "text": "small"}\n')
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "big.txt").write_text("é" * n)
    tracemalloc.start()
    try:
        docs, problems = read([path, folder])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [d.id for d in docs] == ["a", "b"]
    expected = (
        "document has 52,428,800 characters, over --max-chars 10,000,000; raise --max-chars to process it"
    )
    assert [(p.id, p.reason) for p in rejected(problems)] == [("big", expected), ("big.txt", expected)]
    assert peak < 5 * n, f"peak {peak:,} bytes"  # a few copies of one line at most; never the 105 MB txt file
    assert_accounted(docs, problems, 4)


def test_overlong_jsonl_line_is_skipped_without_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "_record_byte_limit", lambda max_chars: 100)
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        jsonl_bytes([{"id": "a", "text": "ok"}, {"id": "big", "text": "x" * 5000}, {"id": "c", "text": "ok"}])
    )
    docs, problems = read(path)
    assert [d.id for d in docs] == ["a", "c"]
    bad = only(problems)
    assert bad.where == "line 2" and bad.reason.startswith("line is 5,026 bytes")
    assert [d.meta["line"] for d in docs] == [1, 3]


def test_overlong_csv_record_stops_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "_record_byte_limit", lambda max_chars: 100)
    path = tmp_path / "a.csv"
    path.write_text('id,text\na,ok\nb,"open quote\n' + "more text\n" * 50)
    docs, problems = read(path)
    assert [d.id for d in docs] == ["a"]
    bad = only(problems)
    assert bad.where == "line 3" and "unclosed quote" in bad.reason


@pytest.mark.parametrize("compression", ["gz", "zst"])
def test_truncated_compressed_jsonl_keeps_what_was_read(tmp_path: Path, compression: str) -> None:
    records = [{"id": str(i), "text": f"document number {i} " * 20} for i in range(2000)]
    data = compress(jsonl_bytes(records), compression)
    path = tmp_path / f"a.jsonl.{compression}"
    path.write_bytes(data[: len(data) * 2 // 3])
    other = tmp_path / "b.jsonl"
    other.write_bytes(jsonl_bytes([{"id": "after", "text": "still read"}]))
    docs, problems = read([path, other])
    assert 0 < len(docs) - 1 < 2000 and docs[-1].id == "after"
    assert [d.id for d in docs[:-1]] == [str(i) for i in range(len(docs) - 1)]
    stop = only(problems)
    assert stop.where == f"after line {len(docs) - 1}"
    assert "the rest of the file was skipped" in stop.reason


def test_unreadable_files_in_txt_folder(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("ok")
    (folder / "b.txt.gz").write_bytes(gzip.compress(b"some text " * 100)[:-10])
    (folder / "c.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(b"some text " * 100)[:-5])
    (folder / "d.txt").symlink_to(folder / "missing.txt")
    os.mkfifo(folder / "e.txt")  # must not block
    (folder / "z.txt").write_text("ok too")
    docs, problems = read(folder)
    assert [d.id for d in docs] == ["a.txt", "z.txt"]
    reasons = {p.id: p.reason for p in rejected(problems)}
    assert reasons["b.txt.gz"].startswith("cannot read the file: EOFError")
    assert reasons["c.txt.zst"].startswith(
        "cannot read the file: EOFError: zstd data ends in the middle of a frame"
    )
    assert reasons["d.txt"].startswith("cannot read the file: FileNotFoundError")
    assert reasons["e.txt"] == "not a regular file"
    assert_accounted(docs, problems, 6)


def test_permission_denied_file(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    locked = folder / "a.txt"
    locked.write_text("secret")
    (folder / "b.txt").write_text("ok")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running with privileges that ignore file permissions")
        docs, problems = read(folder)
    finally:
        locked.chmod(0o644)
    assert [d.id for d in docs] == ["b.txt"]
    assert "PermissionError" in only(problems).reason


def test_corrupt_parquet_is_rejected_and_run_continues(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    good = tmp_path / "good.jsonl"
    good.write_bytes(jsonl_bytes([{"id": "a", "text": "ok"}]))
    docs, problems = read([bad, good])
    assert [d.id for d in docs] == ["a"]
    assert only(problems).where == "file" and only(problems).reason.startswith("cannot read the file")


def test_problem_message_and_dict() -> None:
    p = InputProblem("in.jsonl", "line 12", "doc\n7", "empty document", "rejected")
    assert p.message() == "in.jsonl:line 12: id doc\\n7: empty document (rejected)"
    assert InputProblem("d", None, None, "r", "repaired").message() == "d: r (repaired)"
    assert p.to_dict() == {
        "source": "in.jsonl",
        "where": "line 12",
        "id": "doc\n7",
        "reason": "empty document",
        "action": "rejected",
        "scope": "record",
    }
    whole = InputProblem("in.jsonl.gz", "after line 3", None, "reading stopped", "rejected", "file")
    assert whole.to_dict()["scope"] == "file"


# --------------------------------------------------------------------------------------------
# write_kept


def kept_ids(ids: set[str], seen: list[Document]) -> Any:
    def kept(doc: Document) -> bool:
        seen.append(doc)
        return doc.id in ids

    return kept


@pytest.mark.parametrize("compression", [None, "gz", "zst"])
def test_write_kept_jsonl_copies_line_bytes(tmp_path: Path, compression: str | None) -> None:
    lines = [
        b'{"id": "a", "text": "one", "extra": [1, 2]}\n',
        b'{ "text" : "two",   "id":"b" }\r\n',
        b'{"id": "c", "text": "three \xff"}\n',
        b"\n",
        b'{"id": "d", "text": ""}\n',  # rejected: never written even though kept() would say yes
        b'{"id": "e", "text": "five"}',
    ]
    path = tmp_path / f"in.jsonl{suffix(compression)}"
    path.write_bytes(compress(b"".join(lines), compression))
    called: list[Document] = []
    out = write_kept(path, kept_ids({"b", "c", "d", "e"}, called), tmp_path / "out")
    assert out == tmp_path / "out" / path.name
    assert decompress(out.read_bytes(), compression) == lines[1] + lines[2] + lines[5]
    assert called == read(path)[0]


@pytest.mark.parametrize("compression", [None, "gz", "zst"])
@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_write_kept_csv_copies_header_and_rows(
    tmp_path: Path, compression: str | None, delimiter: str
) -> None:
    d = delimiter
    rows = [
        f"\ufeffid{d}text{d}note\r\n".encode(),
        f'a{d}"multi\nline"{d}x\r\n'.encode(),
        f"b{d}plain{d}y\r\n".encode(),
        f"c{d}{d}empty\r\n".encode(),
        f'd{d}"q ""quoted"""{d}z'.encode(),
    ]
    ext = "csv" if d == "," else "tsv"
    path = tmp_path / f"in.{ext}{suffix(compression)}"
    path.write_bytes(compress(b"".join(rows), compression))
    called: list[Document] = []
    out = write_kept(path, kept_ids({"a", "c", "d"}, called), tmp_path / "out")
    assert decompress(out.read_bytes(), compression) == rows[0] + rows[1] + rows[4]
    assert called == read(path)[0]
    assert [doc.text for doc in called] == ["multi\nline", "plain", 'q "quoted"']


def test_write_kept_csv_with_nothing_kept_keeps_the_header(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,text\na,x\n")
    out = write_kept(path, lambda doc: False, tmp_path / "out")
    assert out.read_text() == "id,text\n"


def test_write_kept_parquet_filters_rows_keeps_schema(tmp_path: Path) -> None:
    n = 3000
    table = pa.table(
        {
            "id": [f"d{i}" for i in range(n)],
            "text": [f"t{i}" if i != 5 else None for i in range(n)],
            "score": list(range(n)),
        }
    ).replace_schema_metadata({b"origin": b"test"})
    path = tmp_path / "in.parquet"
    pq.write_table(table, path, compression="zstd")
    called: list[Document] = []
    out = write_kept(path, kept_ids({f"d{i}" for i in range(0, n, 3)}, called), tmp_path / "out")
    result = pq.read_table(out)
    assert result.schema.equals(table.schema, check_metadata=True)
    expected = [i for i in range(0, n, 3) if i != 5]
    assert result.column("score").to_pylist() == expected
    assert result.column("id").to_pylist() == [f"d{i}" for i in expected]
    assert pq.ParquetFile(out).metadata.row_group(0).column(0).compression == "ZSTD"
    assert called == read(path)[0]


def test_write_kept_txt_folder_copies_files(tmp_path: Path) -> None:
    folder = make_txt_folder(tmp_path)
    (folder / "empty.txt").write_text("")
    called: list[Document] = []
    out = write_kept(
        folder, kept_ids({"a.txt", "sub/deeper/d.txt.zst", "empty.txt"}, called), tmp_path / "out"
    )
    assert out == tmp_path / "out" / "corpus"
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.txt", "sub/deeper/d.txt.zst"]
    for rel in written:
        assert (out / rel).read_bytes() == (folder / rel).read_bytes()
    assert called == read(folder)[0]


def test_write_kept_rejects_cross_input_duplicates_with_seen_ids(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(jsonl_bytes([{"id": "x", "text": "1"}]))
    second.write_bytes(jsonl_bytes([{"id": "x", "text": "dup"}, {"id": "y", "text": "2"}]))
    seen: set[str] = set()
    write_kept(first, lambda d: True, tmp_path / "out", seen_ids=seen)
    out = write_kept(second, lambda d: True, tmp_path / "out", seen_ids=seen)
    assert out.read_bytes() == jsonl_bytes([{"id": "y", "text": "2"}])
    assert seen == {"x", "y"}


def test_write_kept_refuses_to_overwrite_input(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(jsonl_bytes([{"id": "a", "text": "x"}]))
    with pytest.raises(ValueError, match="overwrite the input"):
        write_kept(path, lambda d: True, tmp_path)
    assert path.read_bytes() == jsonl_bytes([{"id": "a", "text": "x"}])


# --------------------------------------------------------------------------------------------
# properties

ids = st.text(min_size=1, max_size=20)
texts = st.text(min_size=1, max_size=200).filter(lambda s: not s.isspace())
pairs = st.lists(st.tuples(ids, texts), max_size=20, unique_by=lambda p: p[0])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=pairs, ensure_ascii=st.booleans())
def test_jsonl_roundtrip_property(tmp_path: Path, pairs: list[tuple[str, str]], ensure_ascii: bool) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        b"".join(
            json.dumps({"id": i, "text": t}, ensure_ascii=ensure_ascii).encode() + b"\n" for i, t in pairs
        )
    )
    docs, problems = read(path)
    assert problems == []
    assert [(d.id, d.text) for d in docs] == pairs


csv_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=200).filter(
    lambda s: not s.isspace()
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pairs=st.lists(
        st.tuples(ids.filter(lambda s: s.strip() != ""), csv_text), max_size=20, unique_by=lambda p: p[0]
    )
)
def test_csv_roundtrip_property(tmp_path: Path, pairs: list[tuple[str, str]]) -> None:
    path = tmp_path / "p.csv"
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL)
    writer.writerow(["id", "text"])
    writer.writerows(pairs)
    path.write_bytes(buf.getvalue().encode("utf-8", "surrogatepass"))
    docs, problems = read(path)
    assert problems == []
    assert [(d.id, d.text) for d in docs] == pairs
    out = write_kept(path, lambda d: True, tmp_path / "out")
    assert out.read_bytes() == path.read_bytes()


def test_truncated_file_is_a_file_problem_not_a_record(tmp_path: Path) -> None:
    """A file that stops part way is one file-scope problem: it is not counted as a rejected record."""
    import gzip

    good = b"".join(json.dumps({"id": f"d{k}", "text": "word " * 50}).encode() + b"\n" for k in range(200))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(good)[:-40])
    problems: list[InputProblem] = []
    docs = list(read_documents([path], problems=problems))
    assert 0 < len(docs) < 200
    assert [p.scope for p in problems] == ["file"] and problems[0].where.startswith("after line")
