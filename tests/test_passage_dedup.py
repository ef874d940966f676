"""``doublet dedup --passages``: reprinted passages removed with an exact account, in the input's format, and a
second run on the output removes nothing more."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import doublet
from conftest import reuters_rows
from doublet import cli
from doublet.passage_dedup import REUSE, SHORT, TEMPLATE, keep_order, plan



def _spans(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines()]


def _check_accounts(texts: dict[str, str], out: dict[str, str], spans: list[dict]) -> None:
    """Each output text is its input text without its listed spans; dropped documents have their remainder
    listed as short; every kept copy is text that stays in a written document, of an earlier document."""
    by_doc: dict[str, list[dict]] = {}
    for s in spans:
        by_doc.setdefault(s["id"], []).append(s)
    removed_at: dict[str, np.ndarray] = {}
    for d, text in texts.items():
        gone = np.zeros(len(text), bool)
        for s in by_doc.get(d, []):
            assert 0 <= s["start"] < s["end"] <= len(text)
            assert not gone[s["start"]:s["end"]].any(), "spans overlap"
            gone[s["start"]:s["end"]] = True
        removed_at[d] = gone
        left = "".join(c for c, g in zip(text, gone) if not g)
        if d in out:
            assert out[d] == left
        else:
            assert gone.all() and any(s["reason"] == SHORT for s in by_doc[d])
    order = {d: k for k, d in enumerate(texts)}
    for s in spans:
        if s["reason"] == REUSE:
            assert s["kept"] in out and order[s["kept"]] < order[s["id"]]
            assert not removed_at[s["kept"]][s["kept_start"]:s["kept_end"]].any()
            assert s["kept_end"] > s["kept_start"]


def test_cli_passages_on_dev_reuters_jsonl_then_nothing_more(tmp_path):
    rows = reuters_rows(800)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({**r, "extra": k}) + "\n" for k, r in enumerate(rows)), encoding="utf-8")
    assert cli.main(["dedup", "-q", str(src), "-o", str(tmp_path / "o1"), "--passages"]) == 0
    out = {json.loads(ln)["id"]: json.loads(ln) for ln in (tmp_path / "o1" / "in.jsonl").read_text().splitlines()}
    assert [o["extra"] for o in out.values()] == sorted(o["extra"] for o in out.values())  # other fields kept
    spans = _spans(tmp_path / "o1" / "removed_spans.jsonl")
    _check_accounts({r["id"]: r["text"] for r in rows}, {d: o["text"] for d, o in out.items()}, spans)
    summary = json.loads((tmp_path / "o1" / "summary.json").read_text())["dedup"]
    assert summary["characters_removed"]["reuse"] > 20_000 and summary["documents_changed"] > 30
    assert summary["documents_written"] + summary["documents_dropped"] == len(rows)
    assert cli.main(["dedup", "-q", str(tmp_path / "o1" / "in.jsonl"), "-o", str(tmp_path / "o2"), "--passages"]) == 0
    assert (tmp_path / "o2" / "removed_spans.jsonl").read_text() == ""
    assert (tmp_path / "o2" / "in.jsonl").read_bytes() == (tmp_path / "o1" / "in.jsonl").read_bytes()


def test_cli_passages_keeps_csv_parquet_and_txt_formats(tmp_path):
    rows = reuters_rows(300)
    texts = {r["id"]: r["text"] for r in rows}
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "n"])
        w.writerows([r["id"], r["text"], k] for k, r in enumerate(rows))
    pq.write_table(pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows],
                             "n": list(range(len(rows)))}), tmp_path / "in.parquet")
    (tmp_path / "txt").mkdir()
    for r in rows:
        (tmp_path / "txt" / f"{r['id']}.txt").write_text(r["text"], encoding="utf-8")
    got = {}
    for name in ("in.csv", "in.parquet", "txt"):
        assert cli.main(["dedup", "-q", str(tmp_path / name), "-o", str(tmp_path / f"o-{name}"), "--passages"]) == 0
        got[name] = _spans(tmp_path / f"o-{name}" / "removed_spans.jsonl")
    assert got["in.csv"] == got["in.parquet"] and len(got["in.csv"]) > 10
    with open(tmp_path / "o-in.csv" / "in.csv", newline="", encoding="utf-8") as f:
        csv_out = {r["id"]: r for r in csv.DictReader(f)}
    table = pq.read_table(tmp_path / "o-in.parquet" / "in.parquet").to_pylist()
    assert {r["id"]: r["text"] for r in table} == {d: r["text"] for d, r in csv_out.items()}
    assert [r["n"] for r in table] == [int(r["n"]) for r in csv_out.values()]
    _check_accounts(texts, {d: r["text"] for d, r in csv_out.items()}, got["in.csv"])
    txt_out = {p.stem: p.read_text(encoding="utf-8") for p in (tmp_path / "o-txt" / "txt").glob("*.txt")}
    assert txt_out == {d: r["text"] for d, r in csv_out.items()}


def test_cli_remove_templates_lists_template_spans(tmp_path):
    rows = reuters_rows(600)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert cli.main(["dedup", "-q", str(src), "-o", str(tmp_path / "o"), "--passages", "--remove-templates"]) == 0
    spans = _spans(tmp_path / "o" / "removed_spans.jsonl")
    assert sum(s["end"] - s["start"] for s in spans if s["reason"] == TEMPLATE) > 50_000
    out = {json.loads(ln)["id"]: json.loads(ln)["text"] for ln in (tmp_path / "o" / "in.jsonl").read_text().splitlines()}
    _check_accounts({r["id"]: r["text"] for r in rows}, out, spans)
    assert cli.main(["dedup", "-q", str(src), "-o", str(tmp_path / "x"), "--remove-templates"]) == 2


WORDS = ("harbour council budget repair wall storm channel northern river bridge market price farmer grain "
         "export minister said would begin month year report bank rate loan city school teacher strike union "
         "pay court judge ruling appeal police station road train").split()


@st.composite
def corpora(draw: st.DrawFn) -> list[tuple[str, str]]:
    rnd = random.Random(draw(st.integers(0, 10**6)))
    pool = [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(26, 34))).capitalize() + "." for _ in range(24)]
    n = draw(st.integers(2, 7))
    return [(f"d{k}", " ".join(rnd.choice(pool) for _ in range(rnd.randint(3, 9)))) for k in range(n)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.sampled_from(["first", "longest"]))
def test_passage_dedup_accounts_for_everything_and_is_idempotent(docs, keep):
    cfg = doublet.Config(workers=1)
    kept, spans = doublet.dedup_passages(docs, cfg, keep=keep, min_chars=20)
    texts = dict(docs)
    order = [docs[k][0] for k in keep_order(np.array([len(t) for _, t in docs]), keep).tolist()]
    _check_accounts({d: texts[d] for d in order}, dict(kept), spans)
    again, more = doublet.dedup_passages(kept, cfg, keep=keep, min_chars=20)
    assert more == [] and again == kept
    REMOVED.append(len(spans))


REMOVED: list[int] = []


def test_the_property_test_removed_passages():
    """The examples above were not all trivial (run after them: pytest keeps the file's order)."""
    if REMOVED:
        assert sum(n > 0 for n in REMOVED) >= len(REMOVED) // 3


@given(st.integers(1, 6), st.data())
def test_plan_chains_kept_copies_to_text_that_stays(n, data):
    """Synthetic passages (documents of 100 characters): every reuse span's kept copy is in a document kept
    earlier, in characters it keeps."""
    lengths = np.full(n, 100, np.int64)
    matches: dict[int, list] = {}
    for _ in range(data.draw(st.integers(0, 8))):
        i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
        if i == j:
            continue
        a, w, b = data.draw(st.integers(0, 90)), data.draw(st.integers(1, 10)), data.draw(st.integers(0, 90))
        w2 = data.draw(st.integers(1, 10))
        matches.setdefault(i, []).append((j, a, a + w, b, b + w2))
        matches.setdefault(j, []).append((i, b, b + w2, a, a + w))
    out = plan(keep_order(lengths, "first"), lengths, matches, lambda k: "x" * 100, min_chars=0)
    texts = {f"d{k}": "x" * 100 for k in range(n)}
    ids = list(texts)
    spans = [r.to_dict(ids) for r in out.removed]
    new = {ids[k]: out.new_text(k, "x" * 100) for k in range(n)}
    _check_accounts(texts, {d: t for d, t in new.items() if t is not None}, spans)
    for k in range(1, n):  # a passage shared with document 0 (kept whole) is removed from the later one
        gone = np.zeros(100, bool)
        for r in out.removed:
            if r.doc == k:
                gone[r.start:r.end] = True
        for other, s, e, _, _ in matches.get(k, []):
            assert other != 0 or gone[s:e].all()


def test_cli_reports_without_quiet(tmp_path, capsys):
    rows = reuters_rows(200)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert cli.main(["dedup", str(src), "-o", str(tmp_path / "o"), "--passages"]) == 0
    assert "characters removed" in capsys.readouterr().err
    half = tmp_path / "half.jsonl"
    half.write_text("".join(json.dumps(r) + "\n" for r in rows[:50]), encoding="utf-8")
    rest = tmp_path / "rest.jsonl"
    rest.write_text("".join(json.dumps(r) + "\n" for r in rows[50:]), encoding="utf-8")
    assert cli.main(["find", str(half), "--against", str(rest), "-o", str(tmp_path / "a")]) == 0
    assert "50 NEW documents against 150 REFERENCE" in capsys.readouterr().err
