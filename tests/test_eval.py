"""``doublet eval``: the benchmark scorer's figures, computed by doublet itself.

The main test runs ``doublet find`` on ../shared/bench/dev-reuters, scores the run with the benchmark's own
``score.py`` and with ``doublet eval``, and compares every number. Unit tests check the vectorized passage
overlap and ARI against plain loops, and gold folders without the optional files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from doublet import cli
from doublet.evaluate import adjusted_rand_index, evaluate, load_gold, load_run, passage_scores

SHARED = Path(__file__).resolve().parents[2] / "shared"
GOLD = SHARED / "bench" / "dev-reuters"
SCORER = SHARED / "bench" / "score.py"
DOUBLET = [sys.executable, "-c", "import sys; from doublet.cli import main; sys.exit(main())"]


def numbers(tree: Any, path: str = "") -> dict[str, Any]:
    """Every number, null and string leaf of a JSON tree, by path."""
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out.update(numbers(v, f"{path}/{k}"))
        return out
    return {path: tree}


@pytest.mark.slow
@pytest.mark.skipif(not (GOLD / "corpus.jsonl").exists(), reason="../shared/bench is not present")
def test_eval_equals_score_py_on_a_real_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    subprocess.run([*DOUBLET, "find", str(GOLD / "corpus.jsonl"), "-o", str(out), "--workers", "2", "--quiet"],
                   check=True)
    theirs = subprocess.run([sys.executable, str(SCORER), str(GOLD), str(out / "pairs.jsonl"), "--clusters",
                             str(out / "clusters.jsonl")], capture_output=True, text=True, check=True).stdout
    ours = subprocess.run([*DOUBLET, "eval", str(GOLD), str(out), "-o", str(tmp_path / "eval.json")],
                          capture_output=True, text=True, check=True)
    their_json, their_line = theirs.rstrip("\n").rsplit("\n", 1)
    expected = numbers(json.loads(their_json))
    got = numbers(json.loads(ours.stdout))
    assert json.loads(ours.stdout) == json.loads((tmp_path / "eval.json").read_text())
    compared = {k: v for k, v in expected.items() if not isinstance(v, str)}  # paths are strings: same files
    assert len(compared) >= 80
    assert {k: got.get(k, "missing") for k in compared} == compared
    assert their_line in ours.stderr.replace("\n", " ")
    # the run is a real one, not an empty file scored equally badly by both
    assert expected["/f1"] >= 0.9 and expected["/passage/f1"] >= 0.8 and expected["/fp_boilerplate_only"] <= 5


def naive_covered(iv: list[tuple[int, int]]) -> set[int]:
    return {x for s, e in iv for x in range(s, e)}


spans = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 30), st.integers(0, 60), st.integers(0, 30)),
                 min_size=1, max_size=6).map(lambda xs: [(a, a + n, b, b + m) for a, n, b, m in xs])


@given(st.lists(st.tuples(spans, spans), min_size=1, max_size=5))
def test_passage_overlap_equals_plain_sets(pairs: list[tuple[list[tuple[int, ...]], list[tuple[int, ...]]]]) -> None:
    gold = [[list(s) for s in g] for g, _ in pairs]
    pred = [list(p) for _, p in pairs]
    got = passage_scores(gold, pred)  # type: ignore[arg-type]
    pc = gc = ov = 0
    for g, p in pairs:
        for lo, hi in ((0, 1), (2, 3)):
            gs, ps = naive_covered([(s[lo], s[hi]) for s in g]), naive_covered([(s[lo], s[hi]) for s in p])
            pc, gc, ov = pc + len(ps), gc + len(gs), ov + len(gs & ps)
    assert (got["pred_chars"], got["gold_chars"], got["overlap_chars"]) == (pc, gc, ov)


def naive_ari(a: list[int], b: list[int]) -> float:
    n = len(a)
    agree = sum(1 for i, j in combinations(range(n), 2) if a[i] == a[j] and b[i] == b[j])
    sa = sum(v * (v - 1) // 2 for v in Counter(a).values())
    sb = sum(v * (v - 1) // 2 for v in Counter(b).values())
    expected = sa * sb / (n * (n - 1) // 2)
    most = (sa + sb) / 2
    return (1.0 if agree == most else 0.0) if most == expected else (agree - expected) / (most - expected)


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=30))
def test_ari_equals_the_pair_counting_definition(labels: list[tuple[int, int]]) -> None:
    a, b = [x for x, _ in labels], [y for _, y in labels]
    assert adjusted_rand_index(np.array(a), np.array(b)) == pytest.approx(naive_ari(a, b), abs=1e-12)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_minimal_gold_folder_and_a_pairs_file(tmp_path: Path) -> None:
    """Only corpus.jsonl and gold_pairs.jsonl: no ignore list, clusters from the gold pairs, no FP kinds."""
    gold = tmp_path / "gold"
    gold.mkdir()
    write_jsonl(gold / "corpus.jsonl", [{"id": i} for i in "abcde"])
    write_jsonl(gold / "gold_pairs.jsonl", [{"a": "a", "b": "b", "spans": [[0, 10, 5, 15]]},
                                            {"a": "c", "b": "d", "spans": [[0, 4, 0, 4]], "jaccard5": 0.5}])
    write_jsonl(tmp_path / "pairs.jsonl", [
        {"a": "b", "b": "a", "passages": [{"a_start": 5, "a_end": 20, "b_start": 0, "b_end": 10}]},  # swapped
        {"a": "a", "b": "e", "passages": []}, {"a": "a", "b": "a"}, {"a": "a", "b": "zz"}])
    s = evaluate(load_gold(gold), load_run(tmp_path / "pairs.jsonl", set("abcde")))
    assert (s["tp"], s["fp"], s["fn"], s["n_pred_self"], s["n_pred_unknown_ids"]) == (1, 1, 1, 1, 1)
    assert s["recall_by_jaccard5"] == {"<0.2": {"recall": 1.0, "n": 1}, "0.4-0.6": {"recall": 0.0, "n": 1}}
    # a: pred [0,10) vs gold [0,10); b: pred [5,20) vs gold [5,15): 20 overlap of 25 predicted, 20 gold
    assert s["passage"]["precision"] == 0.8 and s["passage"]["recall"] == 1.0
    assert s["fp_breakdown"] == {"unknown": 1} and s["ari_clusters"] is None
    # gold clusters {a,b} {c,d} {e}; predicted components {a,b,e} {c} {d}
    assert s["ari_pair_components"] == round(naive_ari([0, 0, 1, 1, 2], [0, 0, 1, 2, 0]), 4)


def test_cli_errors_name_the_missing_file(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli.app, ["eval", str(tmp_path), str(tmp_path)])
    assert res.exit_code == 2 and "corpus.jsonl not found" in res.output
    (tmp_path / "corpus.jsonl").write_text('{"id": "a"}\n')
    (tmp_path / "gold_pairs.jsonl").write_text("")
    res = CliRunner().invoke(cli.app, ["eval", str(tmp_path), str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "nowhere not found: give a doublet output folder" in res.output
