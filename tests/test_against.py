"""``doublet find NEW --against REFERENCE``: exactly the cross pairs of a full run, and against.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import doublet
from conftest import reuters_rows
from doublet import cli
from doublet.against import union_length
from doublet.candidates import cross_mask, lsh_pairs, run_pairs, split_keys



def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_cli_against_reports_exactly_the_cross_pairs_of_a_full_find(tmp_path):
    rows = reuters_rows(1500)
    # NEW: every third document, so that NEW documents are not a prefix of the full run's input
    new_rows = rows[::3]
    ref_rows = [r for k, r in enumerate(rows) if k % 3]
    new, ref = _write(tmp_path / "new.jsonl", new_rows), _write(tmp_path / "ref.jsonl", ref_rows)
    full = _write(tmp_path / "all.jsonl", rows)
    assert cli.main(["find", "-q", str(full), "-o", str(tmp_path / "full")]) == 0
    assert cli.main(["find", "-q", str(new), "--against", str(ref), "-o", str(tmp_path / "ag")]) == 0
    new_ids = {r["id"] for r in new_rows}
    lines = (tmp_path / "full" / "pairs.jsonl").read_text().splitlines()
    cross = [ln for ln in lines if (json.loads(ln)["a"] in new_ids) != (json.loads(ln)["b"] in new_ids)]
    got = (tmp_path / "ag" / "pairs.jsonl").read_text().splitlines()
    assert len(cross) > 50 and got == cross
    against = [json.loads(ln) for ln in (tmp_path / "ag" / "against.jsonl").read_text().splitlines()]
    assert [a["id"] for a in against] == [r["id"] for r in new_rows]  # every NEW document, in input order
    for a in against:
        assert 0 <= a["found_chars"] <= a["chars"]
        assert a["found_chars"] >= max((m["found_chars"] for m in a["matches"]), default=0)
        assert all(m["reference"] not in new_ids for m in a["matches"])
    assert sum(len(a["matches"]) for a in against) == len(cross)
    summary = json.loads((tmp_path / "ag" / "summary.json").read_text())
    assert summary["against"] == {"new": len(new_rows), "reference": len(ref_rows)}
    assert "against.jsonl" in summary["outputs"]
    # far fewer pair occurrences than the full run: none inside REFERENCE
    full_summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["candidates"]["pair_occurrences"] < full_summary["candidates"]["pair_occurrences"] / 2


def test_api_against_and_shared_ids(tmp_path):
    base = "The committee approved the new budget for the harbour district after a long debate about repairs " \
           "to the old sea wall and the cost of dredging the northern channel before the winter storms arrive."
    new = [("q1", base + " Officials said work would begin in March."), ("q2", "Nothing in common here at all.")]
    ref = [("r1", "Archive. " + base), ("q1", "a reused id is rejected"), ("r2", "Other unrelated words only.")]
    result = doublet.find(new, against=ref)
    assert [(p.a, p.b) for p in result.pairs] == [("q1", "r1")]
    rows = list(result.against())
    assert [r["id"] for r in rows] == ["q1", "q2"]
    assert rows[0]["matches"][0]["reference"] == "r1" and rows[0]["found_share"] > 0.7
    assert rows[1] == {"id": "q2", "chars": len(new[1][1]), "found_chars": 0, "found_share": 0.0, "matches": []}
    assert any("already used" in p.reason for p in result.problems)


def test_against_refuses_an_input_in_both_groups(tmp_path):
    path = _write(tmp_path / "a.jsonl", [{"id": "x", "text": "some words here"}])
    assert cli.main(["find", "-q", str(path), "--against", str(path), "-o", str(tmp_path / "o")]) == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=40), st.integers(0, 12), st.integers(2, 5))
def test_split_pairs_are_the_cross_pairs_of_all_pairs(keys, split, max_bucket):
    """lsh_pairs and run_pairs with ``split`` make the cross pairs of what they make without it."""
    k = np.array(keys, np.uint64)
    d = np.arange(k.shape[0], dtype=np.int64)[::-1].copy()
    full = lsh_pairs(k, d, max_bucket)
    assert np.array_equal(lsh_pairs(k, d, max_bucket, split=split), full[cross_mask(full, split)])
    order = np.lexsort((d, k))
    ks, ds = k[order], d[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    lengths = np.diff(np.r_[starts, ks.shape[0]])
    pos = (ds * 7 % 11).astype(np.uint32)
    a = [np.frombuffer(x, t) for x, t in zip(run_pairs(starts, lengths, ds, pos), (np.uint64, np.uint32, np.uint32))]
    b = [np.frombuffer(x, t) for x, t in zip(run_pairs(starts, lengths, ds, pos, split=split),
                                               (np.uint64, np.uint32, np.uint32))]
    want = sorted(zip(*(x[cross_mask(a[0], split)].tolist() for x in a)))
    assert sorted(zip(*(x.tolist() for x in b))) == want
    i, j = split_keys(b[0])
    assert np.all((i < split) & (j >= split))


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 20)), max_size=20))
def test_union_length_counts_each_character_once(spans):
    spans = [(s, s + w) for s, w in spans]
    covered = set()
    for s, e in spans:
        covered.update(range(s, e))
    assert union_length(spans) == len(covered)


def test_find_files_against_matches_the_cli(tmp_path):
    rows = reuters_rows(400)
    new, ref = _write(tmp_path / "new.jsonl", rows[:100]), _write(tmp_path / "ref.jsonl", rows[100:])
    assert cli.main(["find", "-q", str(new), "--against", str(ref), "-o", str(tmp_path / "cli")]) == 0
    with doublet.find_files([str(new)], against=[str(ref)]) as result:
        assert result.n_new == 100
        lines = [json.dumps(r, ensure_ascii=False) for r in result.against()]
    assert lines == (tmp_path / "cli" / "against.jsonl").read_text(encoding="utf-8").splitlines()
