"""bench/make_corpus.py on a 300-document corpus: deterministic, well-formed, ~25 % reprints whose sources come
earlier, and doublet finds most (reprint, source) pairs. Needs the real corpora in ../shared/data."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

import doublet

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
N = 300

pytestmark = pytest.mark.skipif(
    not all((DATA / d).is_dir() for d in ("reuters21578", "20newsgroups-bydate", "bbc-news")),
    reason="shared corpora (../shared/data) absent")


@pytest.fixture(scope="module")
def mc():
    spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "bench" / "make_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def corpus(mc, tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    res = mc.make_corpus(N, 1, d / "c.jsonl", workers=1, data=DATA)
    return d, res


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_deterministic(mc, corpus, tmp_path):
    d, _ = corpus
    mc.make_corpus(N, 1, tmp_path / "again.jsonl", workers=1, data=DATA)
    mc.make_corpus(N, 2, tmp_path / "other.jsonl", workers=1, data=DATA)
    first = (d / "c.jsonl").read_bytes()
    assert (tmp_path / "again.jsonl").read_bytes() == first
    assert (tmp_path / "again.truth.jsonl").read_bytes() == (d / "c.truth.jsonl").read_bytes()
    assert (tmp_path / "other.jsonl").read_bytes() != first
    # a smaller corpus is a prefix of a larger one (every document depends only on seed and index)
    mc.make_corpus(120, 1, tmp_path / "small.jsonl", workers=1, data=DATA)
    assert first.startswith((tmp_path / "small.jsonl").read_bytes())


def test_well_formed(corpus):
    d, res = corpus
    docs = read(d / "c.jsonl")
    assert len(docs) == N == res["docs"]
    ids = [x["id"] for x in docs]
    assert ids == [f"d{i:07d}" for i in range(N)]
    assert all(isinstance(x["text"], str) and x["text"].strip() for x in docs)
    assert res["bytes"] == (d / "c.jsonl").stat().st_size


def test_truth(corpus):
    d, _ = corpus
    truth = read(d / "c.truth.jsonl")
    assert 0.15 * N <= len(truth) <= 0.35 * N
    reprints = {t["id"] for t in truth}
    for t in truth:
        assert t["source"] < t["id"]                    # an earlier document ...
        assert t["source"] not in reprints              # ... that is an original
        assert t["mode"] in {"full", "excerpt", "embed"}
        assert t["words"] >= 20
    assert {t["mode"] for t in truth} == {"full", "excerpt", "embed"}


def test_doublet_finds_reprints(corpus):
    d, _ = corpus
    result = doublet.find_files([str(d / "c.jsonl")], doublet.Config(workers=1))
    found = {(p.a, p.b) for p in result.pairs}
    truth = read(d / "c.truth.jsonl")
    hits = [tuple(sorted((t["id"], t["source"]))) in found for t in truth]
    assert sum(hits) / len(hits) >= 0.8
