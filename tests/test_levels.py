"""Graded reuse: each passage's identity (share of its words in verbatim runs) and each pair's level
(verbatim / light / heavy), one implementation (``doublet.align``) written by find, compare and the index."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import doublet
from doublet.align import LEVELS, Passage, WordSpan, identity, reuse_level
from doublet.result import pair_from_dict

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "seeds"
CLOUGH = SHARED / "data" / "clough-stevenson-plagiarism"
WORDS = ("market bank shares rose percent company said government minister talks week year oil prices "
         "trade deal report officials statement london york tokyo analysts growth quarter profit").split()


def test_identity_and_level_by_example():
    assert identity(WordSpan(0, 40, 10, 50, 40)) == 1.0
    assert identity(WordSpan(0, 40, 10, 52, 21)) == 0.5  # the longer side counts
    assert identity(WordSpan(0, 3, 0, 3, 1)) == 0.333
    p = [Passage(0, 100, 0, 100, 1.0), Passage(200, 300, 200, 300, 0.88)]
    assert reuse_level(p) == "light"  # (100 x 1.0 + 100 x 0.88) / 200 = 0.94
    assert reuse_level([Passage(0, 100, 0, 100, 1.0), Passage(200, 300, 200, 300, 0.9)]) == "verbatim"  # 0.95
    assert reuse_level([Passage(0, 300, 0, 300, 1.0), Passage(300, 400, 300, 400, 0.85)]) == "verbatim"
    assert reuse_level([Passage(0, 100, 0, 100, 0.7)]) == "heavy"
    assert reuse_level([Passage(0, 100, 0, 100)]) is None and reuse_level([]) is None
    assert [name for name, _ in LEVELS] == ["verbatim", "light", "heavy"]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(n)) + "."


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(40, 120), st.integers(0, 12))
def test_more_edits_never_raise_the_level(seed, n, edits):
    """A passage copied into another text with ``edits`` single-word substitutions spaced at least 8 words apart:
    its identity is in [0, 1], an exact copy is verbatim with identity 1, and more edits never give a higher
    level than fewer."""
    rng = random.Random(seed)
    src = _text(rng, n).split()
    order = [name for name, _ in LEVELS]
    last = -1
    for k in range(0, edits + 1, 3):
        copy = list(src)
        for e in range(k):
            at = 4 + 8 * e
            if at < n - 4:
                copy[at] = "changed" + str(e)
        a = _text(rng, 30) + " " + " ".join(src) + " " + _text(rng, 30)
        b = _text(rng, 20) + " " + " ".join(copy) + " " + _text(rng, 20)
        r = doublet.compare(a, b)
        if r.kind is None:
            continue
        assert all(p.identity is not None and 0.0 <= p.identity <= 1.0 for p in r.passages)
        if k == 0:
            assert r.level == "verbatim" and all(p.identity == 1.0 for p in r.passages)
        rank = order.index(r.level)
        assert rank >= last
        last = rank


def test_seed_pair_level_written_by_find_and_compare(tmp_path):
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present")
    docs = [doublet.Document(p.name, p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
    found = doublet.find(docs).pairs
    assert len(found) == 1
    pair = found[0]
    assert pair.level == "verbatim" and min(p.identity for p in pair.passages) > 0.95
    line = pair.to_dict()
    assert line["level"] == "verbatim" and all("identity" in p for p in line["passages"])
    assert pair_from_dict(json.loads(json.dumps(line))).to_dict() == line
    assert doublet.compare(docs[0].text, docs[1].text).to_dict() == {**line, "a": "a", "b": "b"}


def test_clough_levels_follow_the_labels():
    """Clough & Stevenson's answers against their sources: copy-paste answers are reported mostly verbatim,
    heavily revised ones never mostly verbatim, independent ones never (the 4-way table in docs/quality.md)."""
    if not CLOUGH.is_dir():
        pytest.skip("../shared/data is not present")

    def read(name: str) -> str:
        raw = (CLOUGH / "texts" / name).read_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252")

    rows = list(csv.DictReader(open(CLOUGH / "file_information.csv", encoding="utf-8", newline="")))
    table: dict[str, dict[str | None, int]] = {}
    for r in rows:
        if r["Category"] == "orig":
            continue
        res = doublet.compare(read(r["File"]), read(f"orig_task{r['Task']}.txt"))
        level = res.level if res.kind is not None else None
        table.setdefault(r["Category"], {}).setdefault(level, 0)
        table[r["Category"]][level] += 1
    assert table["cut"].get("verbatim", 0) >= 12
    assert table["heavy"].get("verbatim", 0) <= 3 and table["light"].get("verbatim", 0) <= 3
    assert set(table["non"]) == {None}
