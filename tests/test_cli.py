"""Tests for the command line (doublet.cli): the seed run, bad input end to end, dedup round trips per
format, usage errors and help.  Small inputs only; corpus-scale runs live elsewhere."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from doublet import cli, console
from doublet.config import Config
from doublet.engines import local

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "examples" / "seeds"
SEED_A, SEED_B = "000_b11279ffa2e6de7c.txt", "003_f7c337c5b85d0f0e.txt"

runner = CliRunner()


# --------------------------------------------------------------------------------------------
# helpers


def doublet_command() -> list[str]:
    """The installed console script, or the module when the script is not next to this Python."""
    script = Path(sys.executable).with_name("doublet")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "doublet.cli"]


def run_script(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*doublet_command(), *map(str, args)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, check=False)


def invoke(*args: str | Path) -> Any:
    return runner.invoke(cli.app, [str(a) for a in args])


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def load_run(out: Path) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any]]:
    """pairs, {doc id: cluster}, summary."""
    clusters = {row["id"]: row["cluster"] for row in read_jsonl(out / "clusters.jsonl")}
    return read_jsonl(out / "pairs.jsonl"), clusters, json.loads((out / "summary.json").read_text("utf-8"))


_VOCAB_RNG = random.Random(7)
VOCAB = sorted({"".join(_VOCAB_RNG.choice("bcdfghklmnprstvz") + _VOCAB_RNG.choice("aeiou")
                        for _ in range(_VOCAB_RNG.randint(2, 4))) for _ in range(3000)})


def words(seed: int, n: int = 80) -> str:
    """n pseudo-words; texts from different seeds share no 5-word run."""
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCAB) for _ in range(n)) + "."


def light_edit(text: str, word: str = "substitution") -> str:
    """One word replaced (by a longer one): word 5-gram Jaccard about 0.88 for 80 words."""
    w = text.split(" ")
    w[len(w) // 2] = word
    return " ".join(w)


def assert_usage_error(result: Any) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


# --------------------------------------------------------------------------------------------
# 1. the seed run, as a user runs it (installed script in a subprocess)


def test_find_seeds_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_script("find", "examples/seeds", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # everything for humans goes to stderr
    pairs, clusters, summary = load_run(out)

    assert len(pairs) == 1
    pair = pairs[0]
    assert pair["kind"] == "reuse"
    assert (pair["a"], pair["b"]) == (SEED_A, SEED_B) and pair["a"] < pair["b"]
    text_a = (SEEDS / SEED_A).read_text(encoding="utf-8")
    text_b = (SEEDS / SEED_B).read_text(encoding="utf-8")
    assert pair["passages"]
    for p in pair["passages"]:
        assert all(isinstance(p[k], int) for k in ("a_start", "a_end", "b_start", "b_end"))
        assert 0 <= p["a_start"] < p["a_end"] <= len(text_a)
        assert 0 <= p["b_start"] < p["b_end"] <= len(text_b)

    assert set(clusters) == {SEED_A, SEED_B}
    assert clusters[SEED_A] == clusters[SEED_B]
    assert all(row["cluster_size"] == 2 for row in read_jsonl(out / "clusters.jsonl"))

    counts = summary["counts"]
    assert counts["documents"] == counts["input_records"] == 2
    assert counts["reuse_pairs"] == 1 and counts["passages"] == len(pair["passages"])
    assert summary["parameters"]["threshold"] == Config().threshold
    assert summary["workers"] == summary["parameters"]["workers"] == local.default_workers()
    assert set(summary["timings_s"]) >= {"total"} and summary["timings_s"]["total"] >= 0
    assert summary["problems"] == []
    assert summary["inputs"] == ["examples/seeds"]
    assert summary["outputs"] == ["pairs.jsonl", "clusters.jsonl", "boilerplate.jsonl", "templates.parquet", "summary.json"]

    # the end-of-run summary on stderr
    for label in ("documents", "pairs", "clusters", "time", "throughput", "outputs"):
        assert label in proc.stderr
    assert "1 reuse" in proc.stderr and "docs/s" in proc.stderr and "MB/s" in proc.stderr
    assert str(out) in proc.stderr


def test_usage_error_end_to_end(tmp_path: Path) -> None:
    proc = run_script("find", tmp_path / "missing", "-o", tmp_path / "out")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "missing" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "out").exists()


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"doublet {cli.__version__}"


# --------------------------------------------------------------------------------------------
# 2. bad input, end to end: every record is a document or a problem with file and line


def test_bad_txt_folder(tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    base = words(1)
    (folder / "a.txt").write_text(base, encoding="utf-8")
    (folder / "b.txt").write_text(light_edit(base), encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_bytes(b"  \n\t \n")
    (folder / "binary.txt").write_bytes(b"\x00\x01PK\x03\x04" + bytes(range(256)))
    (folder / "cp1252.txt").write_bytes(("Caf\u00e9 \u201cquoted\u201d \u2014 " + words(2)).encode("cp1252"))
    (folder / "cut.txt.gz").write_bytes(gzip.compress(words(3).encode())[:-12])
    (folder / "ignored.md").write_text("not a txt file")
    out = tmp_path / "out"

    result = invoke("find", folder, "-o", out, "--workers", "1")
    assert result.exit_code == 0, result.stderr
    pairs, clusters, summary = load_run(out)
    problems = summary["problems"]
    by_file = {Path(p["source"]).name: p for p in problems}

    assert set(clusters) == {"a.txt", "b.txt", "cp1252.txt"}
    rejected = {name for name, p in by_file.items() if p["action"] == "rejected"}
    assert rejected == {"empty.txt", "blank.txt", "binary.txt", "cut.txt.gz"}
    assert by_file["cp1252.txt"]["action"] == "repaired" and "Windows-1252" in by_file["cp1252.txt"]["reason"]
    assert "empty" in by_file["empty.txt"]["reason"]
    assert "whitespace" in by_file["blank.txt"]["reason"]
    assert "binary" in by_file["binary.txt"]["reason"]
    assert "cut.txt.gz" in by_file and by_file["cut.txt.gz"]["where"] == "file"
    assert all(p["source"] == str(folder / name) for name, p in by_file.items())

    counts = summary["counts"]
    assert counts["input_records"] == 7 == counts["documents"] + counts["rejected"]
    assert (counts["documents"], counts["rejected"], counts["repaired"]) == (3, 4, 1)
    assert [(p["a"], p["b"], p["kind"]) for p in pairs] == [("a.txt", "b.txt", "near-duplicate")]
    for name in ("empty.txt", "blank.txt", "binary.txt", "cp1252.txt", "cut.txt.gz"):
        assert f"{folder / name}: id {name}:" in result.stderr


def test_bad_jsonl(tmp_path: Path) -> None:
    base = words(1)
    lines: list[bytes] = [
        json.dumps({"id": "good-1", "text": base}).encode(),                              # 1
        json.dumps({"id": "good-2", "text": light_edit(base)}).encode(),                  # 2
        b'{"id": "broken", "text": "no closing brace"',                                   # 3 malformed
        json.dumps({"text": words(2)}).encode(),                                          # 4 no id
        json.dumps({"id": "no-text", "body": words(3)}).encode(),                         # 5 no text
        json.dumps({"id": "good-1", "text": words(4)}).encode(),                          # 6 duplicate id
        b'{"id": "latin-1", "text": "caf\xe9 ' + words(5).encode() + b'"}',               # 7 invalid UTF-8
        json.dumps({"id": "too-long", "text": words(6, 400)}).encode(),                   # 8 > --max-chars
        b"",                                                                              # 9 blank: skipped
    ]
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"

    result = invoke("find", path, "-o", out, "--max-chars", "1000", "--workers", "1")
    assert result.exit_code == 0, result.stderr
    pairs, clusters, summary = load_run(out)
    problems = {int(p["where"].removeprefix("line ")): p for p in summary["problems"]}
    assert all(p["source"] == str(path) for p in problems.values())

    documents = {1: "good-1", 2: "good-2", 7: "latin-1"}
    assert set(clusters) == set(documents.values())
    assert {n for n, p in problems.items() if p["action"] == "rejected"} == {3, 4, 5, 6, 8}
    assert problems[7]["action"] == "repaired" and problems[7]["id"] == "latin-1"
    assert "invalid JSON" in problems[3]["reason"]
    assert "'id'" in problems[4]["reason"] and "--id-field" in problems[4]["reason"]
    assert "'text'" in problems[5]["reason"] and "--text-field" in problems[5]["reason"]
    assert "duplicate id" in problems[6]["reason"] and "line 1" in problems[6]["reason"]
    assert "--max-chars" in problems[8]["reason"] and problems[8]["id"] == "too-long"
    # every non-blank line is exactly one of: a document, a rejected record
    rejected = {n for n, p in problems.items() if p["action"] == "rejected"}
    assert set(documents) | rejected == set(range(1, 9)) and not set(documents) & rejected

    counts = summary["counts"]
    assert counts["input_records"] == 8 == counts["documents"] + counts["rejected"]
    assert (counts["documents"], counts["rejected"], counts["repaired"]) == (3, 5, 1)
    assert [(p["a"], p["b"], p["kind"]) for p in pairs] == [("good-1", "good-2", "near-duplicate")]
    for n in (3, 4, 5, 6, 7, 8):
        assert f"{path}:line {n}:" in result.stderr
    assert "(rejected)" in result.stderr and "(repaired)" in result.stderr


def test_many_problems_are_cut_short_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"id": "ok", "text": words(1)}) + "\n" + "not json\n" * 13, encoding="utf-8")
    result = invoke("find", path, "-o", tmp_path / "out", "--workers", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count(f"{path}:line ") == console.MAX_PROBLEMS_SHOWN
    assert "… and 3 more in" in result.stderr and "summary.json" in result.stderr
    assert len(load_run(tmp_path / "out")[2]["problems"]) == 13


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    result = invoke("find", SEEDS, "-o", tmp_path / "out", "-q", "--workers", "1")
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""
    assert (tmp_path / "out" / "summary.json").is_file()


def test_options_build_the_config(tmp_path: Path) -> None:
    result = invoke("find", SEEDS, "-o", tmp_path / "out", "-q", "--threshold", "0.8", "--num-perm", "64",
                    "--min-words", "30", "--max-df", "9", "--min-identity", "0.7", "--workers", "1")
    assert result.exit_code == 0, result.stderr
    params = load_run(tmp_path / "out")[2]["parameters"]
    expected = Config(threshold=0.8, num_perm=64, min_words=30, max_df=9, min_identity=0.7, workers=1)
    assert params == expected.to_dict()  # every option left out keeps Config's own default


def test_tuning_options_document_config() -> None:
    command = get_command(cli.app).commands["find"]  # type: ignore[attr-defined]
    options = {p.name: p for p in command.params}
    tuning = ["threshold", "num_perm", "shingle_size", "window", "max_df", "min_shared", "min_words",
              "min_passage_words", "min_identity", "max_gap", "max_chars", "seed", "workers"]
    for name in tuning:
        opt = options[name]
        assert "--" + name.replace("_", "-") in opt.opts
        assert opt.default is None  # so that Config, not the CLI, supplies the default
        doc = cli._DOCS[name]
        assert doc and cli.escape(doc) in opt.help
    assert "[default: 0.7]" in cli._help("x", Config().threshold).replace("\\", "")


# --------------------------------------------------------------------------------------------
# 3. dedup round trips: same format out, kept records byte for byte


def dedup_corpus() -> list[tuple[str, str]]:
    base = words(10)
    return [("doc1", base), ("doc2", base), ("doc3", light_edit(base, "extraordinarily")),
            ("doc4", words(11)), ("doc5", 'quoted "text", with commas,\nand a line break ' + words(12))]


def write_input(fmt: str, folder: Path) -> tuple[Path, dict[str, bytes]]:
    """The dedup corpus in ``fmt``; returns the path and each id's record bytes as they are stored."""
    docs = dedup_corpus()
    if fmt == "txt":
        path = folder / "corpus"
        path.mkdir()
        for i, t in docs:
            (path / f"{i}.txt").write_text(t, encoding="utf-8")
        return path, {f"{i}.txt": (path / f"{i}.txt").read_bytes() for i, _ in docs}
    if fmt == "jsonl.gz":  # varied key order, spacing and escaping: the output must copy, not re-encode
        raw = {i: (json.dumps({"text": t, "id": i, "n": k}, ensure_ascii=k % 2 == 0,
                              separators=(",", ":") if k % 2 else (", ", ": ")) + "\n").encode()
               for k, (i, t) in enumerate(docs)}
        path = folder / "corpus.jsonl.gz"
        path.write_bytes(gzip.compress(b"".join(raw.values())))
        return path, raw
    if fmt == "csv":
        raw = {}
        for k, (i, t) in enumerate(docs):
            buf = io.StringIO()
            csv.writer(buf, quoting=csv.QUOTE_ALL if k % 2 else csv.QUOTE_MINIMAL).writerow([i, t, k])
            raw[i] = buf.getvalue().encode()
        path = folder / "corpus.csv"
        path.write_bytes(b"id,text,n\r\n" + b"".join(raw.values()))
        return path, raw
    if fmt == "parquet":
        path = folder / "corpus.parquet"
        pq.write_table(pa.table({"id": [i for i, _ in docs], "text": [t for _, t in docs],
                                 "n": list(range(len(docs)))}), path, compression="zstd")
        return path, {}
    raise AssertionError(fmt)


@pytest.mark.parametrize("keep, kept_dup", [("first", "doc1"), ("longest", "doc3")])
@pytest.mark.parametrize("fmt", ["jsonl.gz", "csv", "parquet", "txt"])
def test_dedup_round_trip(tmp_path: Path, fmt: str, keep: str, kept_dup: str) -> None:
    path, raw = write_input(fmt, tmp_path)
    out = tmp_path / "out"
    result = invoke("dedup", path, "-o", out, "--keep", keep, "--workers", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""

    sfx = ".txt" if fmt == "txt" else ""
    dups = {f"doc{k}{sfx}" for k in (1, 2, 3)}
    kept_ids = {f"{kept_dup}{sfx}", f"doc4{sfx}", f"doc5{sfx}"}
    _, clusters, summary = load_run(out)
    counts, d = summary["counts"], summary["dedup"]
    assert len(clusters) == counts["documents"] == 5
    assert (d["keep"], d["kept"], d["removed"], d["rejected"]) == (keep, 3, 2, 0)
    assert d["kept"] + d["removed"] == counts["documents"]
    assert d["kept"] + d["removed"] + d["rejected"] == counts["input_records"]

    removed = read_jsonl(out / "removed.jsonl")
    assert {r["id"] for r in removed} == dups - {f"{kept_dup}{sfx}"}
    for r in removed:
        assert r["kept"] == f"{kept_dup}{sfx}" and set(r) >= {"id", "kept", "jaccard"}
        identical = {r["id"], r["kept"]} <= {f"doc1{sfx}", f"doc2{sfx}"}
        assert r["jaccard"] == 1.0 if identical else 0.7 <= r["jaccard"] < 1.0

    target = out / path.name
    assert d["output"] == str(target)
    assert summary["outputs"][0] in (path.name, path.name + "/")
    assert {"removed.jsonl", "pairs.jsonl", "clusters.jsonl", "summary.json"} <= set(summary["outputs"])
    assert all((out / name.rstrip("/")).exists() for name in summary["outputs"])
    order = list(raw)
    if fmt == "txt":
        assert sorted(p.name for p in target.iterdir()) == sorted(kept_ids)
        for name in kept_ids:
            assert (target / name).read_bytes() == raw[name]
    elif fmt == "jsonl.gz":
        assert gzip.decompress(target.read_bytes()) == b"".join(raw[i] for i in order if i in kept_ids)
    elif fmt == "csv":
        assert target.read_bytes() == b"id,text,n\r\n" + b"".join(raw[i] for i in order if i in kept_ids)
    else:
        source, written = pq.read_table(path), pq.read_table(target)
        assert written.schema == source.schema
        assert written.to_pylist() == [row for row in source.to_pylist() if row["id"] in kept_ids]
        assert str(pq.ParquetFile(target).metadata.row_group(0).column(0).compression).lower() == "zstd"
    assert "dedup" in result.stderr and "removed 2" in result.stderr


def test_dedup_rerun_into_same_folder_is_refused_up_front(tmp_path: Path) -> None:
    path, _ = write_input("txt", tmp_path)
    out = tmp_path / "out"
    assert invoke("dedup", path, "-o", out, "-q", "--workers", "1").exit_code == 0
    result = invoke("dedup", path, "-o", out, "--workers", "1")
    assert_usage_error(result)
    assert "already exists" in result.stderr


def test_dedup_counts_rejected_records(tmp_path: Path) -> None:
    base = words(20)
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([json.dumps({"id": "x", "text": base}), json.dumps({"id": "y", "text": base}),
                               "{oops", json.dumps({"id": "x", "text": words(21)})]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("dedup", path, "-o", out, "--workers", "1")
    assert result.exit_code == 0, result.stderr
    d = json.loads((out / "summary.json").read_text("utf-8"))["dedup"]
    assert (d["kept"], d["removed"], d["rejected"]) == (1, 1, 2)
    assert (out / "in.jsonl").read_text("utf-8") == json.dumps({"id": "x", "text": base}) + "\n"


# --------------------------------------------------------------------------------------------
# 4. usage errors: one red line, exit code 2, no traceback


def _parquet_without_id(tmp_path: Path) -> Path:
    path = tmp_path / "noid.parquet"
    pq.write_table(pa.table({"key": ["a"], "text": ["some text"]}), path)
    return path


USAGE_ERRORS = {
    "missing path": (lambda t: ["find", t / "nope.jsonl", "-o", t / "out"], "input not found"),
    "unknown extension": (lambda t: ["find", _touch(t / "docs.xml"), "-o", t / "out"], "cannot tell the format"),
    "threshold out of range": (lambda t: ["find", SEEDS, "-o", t / "out", "--threshold", "1.5"], "--threshold"),
    "threshold not a number": (lambda t: ["find", SEEDS, "-o", t / "out", "--threshold", "high"], "--threshold"),
    "zero workers": (lambda t: ["find", SEEDS, "-o", t / "out", "--workers", "0"], "--workers"),
    "unknown keep policy": (lambda t: ["dedup", SEEDS, "-o", t / "out", "--keep", "biggest"], "--keep"),
    "parquet without id column": (lambda t: ["find", _parquet_without_id(t), "-o", t / "out"], "--id-field"),
    "outdir is a file": (lambda t: ["find", SEEDS, "-o", _touch(t / "out")], "existing file"),
    "dedup would overwrite input": (lambda t: ["dedup", SEEDS, "-o", SEEDS.parent], "overwrite the input"),
    "missing input argument": (lambda t: ["find", "-o", t / "out"], "Missing argument"),
    "unknown option": (lambda t: ["find", SEEDS, "-o", t / "out", "--treshold", "0.5"], "--treshold"),
}


def _touch(path: Path) -> Path:
    path.write_text("x")
    return path


@pytest.mark.parametrize("case", list(USAGE_ERRORS))
def test_usage_errors(tmp_path: Path, case: str) -> None:
    make_args, needle = USAGE_ERRORS[case]
    result = invoke(*make_args(tmp_path))
    assert_usage_error(result)
    assert needle in result.stderr


def test_a_bug_keeps_its_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("engine bug")

    monkeypatch.setattr(local, "run", broken)
    result = invoke("find", SEEDS, "-o", tmp_path / "out", "--workers", "1")
    assert isinstance(result.exception, RuntimeError)  # not turned into an "error:" line
    assert result.exit_code == 1 and "error:" not in result.stderr


# --------------------------------------------------------------------------------------------
# 5. help


@pytest.mark.parametrize("args", [["--help"], ["find", "--help"], ["dedup", "--help"]])
def test_help_teaches_formats_and_examples(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for fmt in (".txt", "JSON Lines", "CSV", "TSV", "Parquet", ".gz", ".zst"):
        assert fmt in text, fmt
    assert "Examples" in text and ("doublet find" in text or "doublet dedup" in text)
    assert "pairs.jsonl" in text


def test_app_help_names_both_commands() -> None:
    text = " ".join(invoke("--help").stdout.split())
    assert "find" in text and "dedup" in text and "boilerplate" in text.lower()
    assert "doublet find corpus/ -o out/" in text and "doublet dedup" in text


def test_index_commands_are_mounted(tmp_path: Path) -> None:
    """`doublet index ...` reaches the index sub-commands from the installed entry point."""
    idx = tmp_path / "seeds.idx"
    for args in (["index", "create", str(idx)], ["index", "add", str(idx), str(SEEDS)], ["index", "check", str(idx)]):
        proc = subprocess.run([sys.executable, "-m", "doublet.cli", *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True


def test_explicit_window_warns_that_the_guarantee_is_lost(tmp_path: Path) -> None:
    """--window wider than the derived one is honoured (the run records it) with a warning on stderr; the
    derived rule itself, and a narrower window, run silently."""
    result = invoke("find", SEEDS, "-o", tmp_path / "wide", "-q", "--window", "9", "--workers", "1")
    assert result.exit_code == 0, result.stderr
    assert "warning: --window = 9 is wider than 6" in " ".join(result.stderr.split())
    assert load_run(tmp_path / "wide")[2]["parameters"]["window"] == 9
    result = invoke("find", SEEDS, "-o", tmp_path / "low", "-q", "--min-words", "15", "--min-passage-words", "12",
                    "--workers", "1")
    assert result.exit_code == 0 and result.stderr == ""
    assert load_run(tmp_path / "low")[2]["parameters"]["window"] == 2
