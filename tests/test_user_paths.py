"""A new user's first hour (issue 15, part A), end to end through the command line: single files and mixed
inputs on every reading command, skipped-file accounting, repaired records told from rejected ones,
``doublet compare`` (the same answer as ``find``), ``doublet show`` (passage text; offsets on CRLF text), exit
codes a pipeline can trust, plurals, the report's order, readable index dates and the start page's overview."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from doublet import cli
from doublet.index import Index
from doublet.report import load_run as load_report
from doublet.show import strength

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "examples" / "seeds"
A, B = "000_b11279ffa2e6de7c.txt", "003_f7c337c5b85d0f0e.txt"

runner = CliRunner()


def invoke(*args: str | Path, stdin: str | None = None) -> Any:
    return runner.invoke(cli.app, [str(a) for a in args], input=stdin)


def one_line(text: str) -> str:
    return " ".join(text.split())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture()
def seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The two seeds as a.txt and b.md in the current folder (ids are paths as given)."""
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(SEEDS / A, tmp_path / "a.txt")
    shutil.copyfile(SEEDS / B, tmp_path / "b.md")
    return tmp_path


# --------------------------------------------------------------------------------------------- 1. inputs

def test_find_takes_single_files(seeds: Path) -> None:
    r = invoke("find", "a.txt", "b.md", "-o", "out", "-w", "1")
    assert r.exit_code == 0, r.stderr
    pairs = read_jsonl(seeds / "out" / "pairs.jsonl")
    assert [(p["a"], p["b"]) for p in pairs] == [("a.txt", "b.md")]
    r = invoke("find", "./a.txt", "-o", "one", "-w", "1")  # one document: a run with nothing to pair, exit 0
    assert r.exit_code == 0, r.stderr
    assert [c["id"] for c in read_jsonl(seeds / "one" / "clusters.jsonl")] == ["a.txt"]
    text = one_line(r.stderr)
    assert "(1 input record," in text and "largest 1 document" in text and "1 input records" not in text


def test_single_files_give_the_folder_answer(seeds: Path) -> None:
    """The same pair (offsets and figures) whether the seeds come as a folder or as two files."""
    assert invoke("find", SEEDS, "-o", "folder", "-w", "1", "-q").exit_code == 0
    assert invoke("find", SEEDS / A, SEEDS / B, "-o", "files", "-w", "1", "-q").exit_code == 0
    (f,), (g,) = read_jsonl(seeds / "folder" / "pairs.jsonl"), read_jsonl(seeds / "files" / "pairs.jsonl")
    assert {k: v for k, v in f.items() if k not in "ab"} == {k: v for k, v in g.items() if k not in "ab"}
    assert g["a"] == str(SEEDS / A) and g["b"] == str(SEEDS / B)


def test_mixed_inputs_and_skipped_files(seeds: Path) -> None:
    folder = seeds / "corpus"
    folder.mkdir()
    shutil.copyfile(SEEDS / A, folder / "copy.txt")
    (folder / "LICENSE").write_text("MIT", encoding="utf-8")
    (folder / "more.jsonl").write_text('{"id": "j", "text": "x"}\n', encoding="utf-8")
    (folder / ".hidden").write_text("not counted", encoding="utf-8")
    jsonl = seeds / "docs.jsonl"
    jsonl.write_text(json.dumps({"id": "j1", "text": (SEEDS / B).read_text(encoding="utf-8")}) + "\n",
                     encoding="utf-8")
    r = invoke("find", "a.txt", "corpus", "docs.jsonl", "-o", "out", "-w", "1")
    assert r.exit_code == 0, r.stderr
    summary = json.loads((seeds / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["documents"] == 3 and summary["counts"]["skipped_files"] == 2
    assert summary["skipped_files"] == {"count": 2, "examples": ["corpus/LICENSE", "corpus/more.jsonl"]}
    assert "2 files in input folders not read" in one_line(r.stderr) and "corpus/LICENSE" in r.stderr
    ids = {c["id"] for c in read_jsonl(seeds / "out" / "clusters.jsonl")}
    assert ids == {"a.txt", "copy.txt", "j1"}


def test_repaired_is_not_a_problem(seeds: Path) -> None:
    """A Windows-1252 file decoded correctly is counted as repaired, listed apart from rejected records."""
    (seeds / "cp.txt").write_bytes("Caf\u00e9 \u201cquoted\u201d text, repaired".encode("cp1252"))
    (seeds / "empty.txt").write_bytes(b"")
    r = invoke("find", "a.txt", "cp.txt", "empty.txt", "-o", "out", "-w", "1")
    assert r.exit_code == 0, r.stderr
    text = one_line(r.stderr)
    assert "1 input record rejected:" in text and "1 input record repaired (read after a fix):" in text
    assert "problem" not in text
    counts = json.loads((seeds / "out" / "summary.json").read_text(encoding="utf-8"))["counts"]
    assert (counts["documents"], counts["rejected"], counts["repaired"]) == (2, 1, 1)


def test_dedup_of_text_files(seeds: Path) -> None:
    shutil.copyfile(seeds / "a.txt", seeds / "a2.txt")
    r = invoke("dedup", "a.txt", "a2.txt", "b.md", "-o", "out", "-w", "1")
    assert r.exit_code == 0, r.stderr
    d = json.loads((seeds / "out" / "summary.json").read_text(encoding="utf-8"))["dedup"]
    assert (d["kept"], d["removed"]) == (2, 1)
    assert sorted(p.name for p in (seeds / "out").iterdir() if p.suffix in (".txt", ".md")) == ["a.txt", "b.md"]
    assert (seeds / "out" / "a.txt").read_bytes() == (seeds / "a.txt").read_bytes()
    assert read_jsonl(seeds / "out" / "removed.jsonl")[0]["id"] == "a2.txt"


def test_dedup_refuses_inputs_with_one_name(seeds: Path) -> None:
    (seeds / "sub").mkdir()
    shutil.copyfile(seeds / "a.txt", seeds / "sub" / "a.txt")
    r = invoke("dedup", "a.txt", "sub/a.txt", "-o", "out")
    assert r.exit_code == 2 and "two inputs have the name a.txt" in one_line(r.stderr)


def test_index_add_and_query_take_single_files(seeds: Path) -> None:
    assert invoke("index", "create", "i.idx", "-q").exit_code == 0
    (seeds / "more").mkdir()
    (seeds / "more" / "LICENSE").write_text("MIT", encoding="utf-8")
    r = invoke("index", "add", "i.idx", "a.txt", "more", "-w", "1", "--report", "rep.json")
    assert r.exit_code == 0, r.stderr
    assert "1 file in input folders not read" in one_line(r.stderr) and "1 worker" in r.stderr
    assert json.loads((seeds / "rep.json").read_text(encoding="utf-8"))["skipped_files"]["count"] == 1
    r = invoke("index", "query", "i.idx", "b.md", "more", "-o", "q", "-q")
    assert r.exit_code == 0, r.stderr
    (m,) = read_jsonl(seeds / "q" / "matches.jsonl")
    assert (m["query"], m["match"], m["kind"]) == ("b.md", "a.txt", "reuse")
    summary = json.loads((seeds / "q" / "summary.json").read_text(encoding="utf-8"))
    assert summary["skipped_files"] == {"count": 1, "examples": ["more/LICENSE"]}


# --------------------------------------------------------------------------------------------- 2. compare

def test_compare_is_find_on_the_two(seeds: Path) -> None:
    assert invoke("find", "a.txt", "b.md", "-o", "out", "-w", "1", "-q").exit_code == 0
    (found,) = read_jsonl(seeds / "out" / "pairs.jsonl")
    r = invoke("compare", "a.txt", "b.md", "--json")
    assert r.exit_code == 0, r.stderr
    got = json.loads(r.stdout)
    assert (got["a"], got["b"]) == ("a.txt", "b.md")
    for key in ("kind", "level", "jaccard", "containment_a", "containment_b"):
        assert got[key] == found[key], key
    texts = {"a": (seeds / "a.txt").read_text(encoding="utf-8"), "b": (seeds / "b.md").read_text(encoding="utf-8")}
    assert [{k: v for k, v in p.items() if not k.endswith("_text")} for p in got["passages"]] == found["passages"]
    for p in got["passages"]:
        assert p["a_text"] == texts["a"][p["a_start"]:p["a_end"]] and p["b_text"] == texts["b"][p["b_start"]:p["b_end"]]


def test_compare_reads_stdin_and_shows_passages_side_by_side(seeds: Path) -> None:
    text_b = (seeds / "b.md").read_text(encoding="utf-8")
    r = invoke("compare", "a.txt", "-", stdin=text_b)
    assert r.exit_code == 0, r.stderr
    out = one_line(r.stdout)
    assert "reuse · verbatim" in out and "of A is in B" in out and "stdin" in out and "passage 1" in out
    assert "The Russian president said that he" in out  # a passage's text, in the terminal
    assert json.loads(invoke("compare", "-", "a.txt", "--json", stdin=text_b).stdout)["a"] == "stdin"


def test_compare_errors(seeds: Path) -> None:
    r = invoke("compare", "-", "-")
    assert r.exit_code == 2 and "only one of A and B" in r.stderr
    (seeds / "empty.txt").write_text("", encoding="utf-8")
    r = invoke("compare", "a.txt", "empty.txt")
    assert r.exit_code == 1 and "empty" in r.stderr
    (seeds / "two.jsonl").write_text('{"id": 1, "text": "x"}\n{"id": 2, "text": "y"}\n', encoding="utf-8")
    r = invoke("compare", "a.txt", "two.jsonl")
    assert r.exit_code == 2 and "more than one document" in one_line(r.stderr)


# --------------------------------------------------------------------------------------------- 3. passage text

def test_show_prints_passage_text(seeds: Path) -> None:
    assert invoke("find", "a.txt", "b.md", "-o", "out", "-w", "1", "-q").exit_code == 0
    for args in (["--pair", "a.txt", "b.md"], ["--pair", "b.md", "a.txt"], []):
        r = invoke("show", "out", *args)
        assert r.exit_code == 0, r.stderr
        assert "reuse · verbatim" in r.stdout and "The Russian president said that he" in one_line(r.stdout)
    r = invoke("show", "out", "--json")
    (row,) = [json.loads(x) for x in r.stdout.splitlines()]
    text_a = (seeds / "a.txt").read_text(encoding="utf-8")
    assert all(p["a_text"] == text_a[p["a_start"]:p["a_end"]] for p in row["passages"])
    r = invoke("show", "out", "--pair", "a.txt", "nope.txt")
    assert r.exit_code == 2 and "not a pair of this run" in one_line(r.stderr)


def test_offsets_count_crlf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a CRLF file, offsets count each \\r: slicing the text read with newline='' gives the passage, the
    default (newline translation) does not; show prints the right text."""
    monkeypatch.chdir(tmp_path)
    crlf = (SEEDS / A).read_text(encoding="utf-8").replace("\n", "\r\n")
    (tmp_path / "win.txt").write_bytes(crlf.encode("utf-8"))
    shutil.copyfile(SEEDS / B, tmp_path / "b.txt")
    assert invoke("find", "win.txt", "b.txt", "-o", "out", "-w", "1", "-q").exit_code == 0
    (pair,) = read_jsonl(tmp_path / "out" / "pairs.jsonl")
    side = "a" if pair["a"] == "win.txt" else "b"
    with open(tmp_path / "win.txt", encoding="utf-8", newline="") as f:
        exact = f.read()
    translated = (tmp_path / "win.txt").read_text(encoding="utf-8")
    spans = [(p[f"{side}_start"], p[f"{side}_end"]) for p in pair["passages"]]
    assert exact.count("\r\n") > 5 and spans[-1][0] > exact.index("\r\n")
    shown = [p[f"{side}_text"] for p in json.loads(invoke("show", "out", "--json").stdout)["passages"]]
    assert shown == [exact[s:e] for s, e in spans]
    assert shown != [translated[s:e] for s, e in spans]  # what open(path).read()[s:e] would wrongly give


# --------------------------------------------------------------------------------------------- 4. exit codes

def test_no_document_read_exits_1(seeds: Path) -> None:
    (seeds / "docs.jsonl").write_text('{"doc": "1", "body": "some text"}\n{"doc": "2", "body": "more"}\n',
                                      encoding="utf-8")
    r = invoke("find", "docs.jsonl", "-o", "out")
    assert r.exit_code == 1
    text = one_line(r.stderr)
    assert "no document could be read: 2 input records rejected" in text and "--id-field" in text
    assert (seeds / "out" / "summary.json").is_file()  # written, for diagnosis
    assert invoke("find", "docs.jsonl", "-o", "ok", "--id-field", "doc", "--text-field", "body", "-q").exit_code == 0
    assert invoke("dedup", "docs.jsonl", "-o", "dd", "-q").exit_code == 1
    (seeds / "empty").mkdir()
    (seeds / "empty" / "notes.pdf").write_bytes(b"%PDF")
    r = invoke("find", "empty", "-o", "out2")
    assert r.exit_code == 1 and "hold no documents" in one_line(r.stderr) and "notes.pdf" in r.stderr
    assert invoke("index", "create", "i.idx", "-q").exit_code == 0
    r = invoke("index", "add", "i.idx", "docs.jsonl")
    assert r.exit_code == 1 and "--id-field" in r.stderr
    r = invoke("index", "query", "i.idx", "docs.jsonl", "-o", "q")
    assert r.exit_code == 1 and "no document could be read" in r.stderr


def test_eval_of_another_corpus_exits_1(tmp_path: Path) -> None:
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "corpus.jsonl").write_text("".join(json.dumps({"id": i}) + "\n" for i in ("g1", "g2")), encoding="utf-8")
    (gold / "gold_pairs.jsonl").write_text(json.dumps({"a": "g1", "b": "g2", "spans": [[0, 5, 0, 5]]}) + "\n",
                                           encoding="utf-8")
    assert invoke("find", SEEDS, "-o", tmp_path / "run", "-w", "1", "-q").exit_code == 0
    r = invoke("eval", gold, tmp_path / "run")
    assert r.exit_code == 1 and r.stdout == ""
    text = one_line(r.stderr)
    assert "is not a run of" in text and "not in the gold's corpus.jsonl" in text and "doublet find" in text
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "pairs.jsonl").write_text(json.dumps({"a": "g1", "b": "g2", "passages": []}) + "\n",
                                                  encoding="utf-8")
    assert invoke("eval", gold, tmp_path / "own", "-q").exit_code == 0


# --------------------------------------------------------------------------------------------- 5. small things

def test_report_sorts_by_strength_and_counts_in_words(tmp_path: Path) -> None:
    base = (SEEDS / A).read_text(encoding="utf-8")
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "x0.txt").write_text(base, encoding="utf-8")
    (folder / "x1.txt").write_text(base + " one more sentence at the end of it.", encoding="utf-8")
    shutil.copyfile(SEEDS / B, folder / "y.txt")
    assert invoke("find", folder, "-o", tmp_path / "out", "-w", "1", "-q").exit_code == 0
    data = load_report(tmp_path / "out")
    assert data.pairs == sorted(data.pairs, key=strength, reverse=True)
    assert data.pairs[0]["kind"] == "near-duplicate" and data.pairs[0]["a"] == "x0.txt"
    assert load_report(tmp_path / "out", max_pairs=1).pairs == data.pairs[:1]
    r = invoke("report", tmp_path / "out", "-o", tmp_path / "r.html", "--max-pairs", "1")
    assert r.exit_code == 0 and "1 of 3 pairs shown · 1 cluster · 2 documents" in one_line(r.stderr)


def test_index_stats_dates_are_readable(tmp_path: Path) -> None:
    with Index.create(tmp_path / "i.idx") as idx:
        idx.add_files([SEEDS])
    r = invoke("index", "stats", tmp_path / "i.idx")
    stats = json.loads(r.stdout)
    assert stats["created"].endswith("Z") and stats["created"][4] == "-" and "T" in stats["created"]
    assert isinstance(stats["created_unix"], float) and stats["last_write"] >= stats["created"]


def test_overview_of_the_index(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from doublet.serve import create_app

    path = tmp_path / "i.idx"
    with Index.create(path) as idx:
        idx.add_files([SEEDS])
    with TestClient(create_app(path)) as client:
        o = client.get("/overview").json()
    assert (o["documents"], o["characters"]) == (2, sum(len((SEEDS / n).read_text("utf-8")) for n in (A, B)))
    assert [r["id"] for r in o["recent"]] == [B, A]
    assert {o["sample"]["query"], o["sample"]["match"]} == {A, B} and o["sample"]["kind"] == "reuse"
    with Index.create(tmp_path / "empty.idx") as empty:
        assert empty.overview() == {"documents": 0, "characters": 0, "recent": [], "sample": None}


def test_show_and_report_read_with_the_runs_fields(seeds: Path) -> None:
    """A run made with --id-field/--text-field is shown and reported without repeating them."""
    rows = [{"doc": "a", "body": (seeds / "a.txt").read_text(encoding="utf-8")},
            {"doc": "b", "body": (seeds / "b.md").read_text(encoding="utf-8")}]
    (seeds / "docs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert invoke("find", "docs.jsonl", "-o", "out", "--id-field", "doc", "--text-field", "body", "-q").exit_code == 0
    summary = json.loads((seeds / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["fields"] == {"id": "doc", "text": "body"}
    r = invoke("show", "out", "--pair", "a", "b")
    assert r.exit_code == 0 and "The Russian president said that he" in one_line(r.stdout), r.stderr
    r = invoke("report", "out", "-o", "r.html", "-q")
    assert r.exit_code == 0 and (seeds / "r.html").is_file(), r.stderr
