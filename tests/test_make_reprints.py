"""bench/make_reprints.py and bench/embed_corpus.py: a 200-document held-out corpus is deterministic, its gold
spans are exact (the normalised words of both sides line up), every document is in a cluster, gold and ignore
pairs are disjoint, score.py accepts the folder, and embedding keeps the labelled documents byte-identical.
Corpus tests need the real texts in ../shared/data (skipped when absent)."""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DOUBLET_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DATA = SHARED / "data"
N = 200

needs_data = pytest.mark.skipif(
    not all((DATA / d).is_dir() for d in ("reuters21578", "20newsgroups-bydate", "bbc-news")),
    reason="shared corpora (../shared/data) absent")


def _load(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def mr():
    return _load("make_reprints")


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def gen(mr, out: Path, seed: int = 5, **kw):
    args = mr.Args(out=out, docs=N, seed=seed, pool=kw.pop("pool", "mixed"), sites=kw.pop("sites", 8),
                   data=DATA, check="all", quiet=True, **kw)
    return mr.generate(args)


@pytest.fixture(scope="module")
def corpus(mr, tmp_path_factory):
    d = tmp_path_factory.mktemp("reprints") / "set"
    meta = gen(mr, d, popular=1, popular_copies=20, networks=0.5)
    return d, meta


# ------------------------------------------------------------------------------------------ no data needed


def test_normalisation_ignores_quotes_and_mojibake(mr):
    plain = "Don't say \"no\" to the café's 1,580 U.S. plans."
    fancy = "".join(mr.curly(t) + " " for t in plain.split()).strip()
    broken = fancy.translate(mr.MOJIBAKE)
    assert broken != fancy and fancy != plain
    assert mr.norm_words(plain) == mr.norm_words(fancy) == mr.norm_words(broken)
    h, starts = mr.word_hashes(broken)
    assert len(h) == len(mr.norm_words(broken)) == len(starts)


def test_title_case(mr):
    assert mr.title_case("GM TO CUT OUTPUT IN 1ST QTR") == "GM to Cut Output in 1st Qtr"


# ------------------------------------------------------------------------------------------ corpus


@needs_data
def test_deterministic(mr, corpus, tmp_path):
    d, _ = corpus
    gen(mr, tmp_path / "again", popular=1, popular_copies=20, networks=0.5)
    for f in ("corpus.jsonl", "gold_pairs.jsonl", "ignore_pairs.jsonl", "gold_clusters.jsonl", "doc_meta.jsonl",
              "sources.jsonl"):
        assert (tmp_path / "again" / f).read_bytes() == (d / f).read_bytes(), f

    def stable(meta: dict) -> dict:
        meta = dict(meta, runtime_s=None, self_check=None, args=dict(meta["args"], out=None))
        meta["pool"] = dict(meta["pool"], load_s=None)
        return meta
    assert stable(json.loads((tmp_path / "again" / "meta.json").read_text())) == \
        stable(json.loads((d / "meta.json").read_text()))
    gen(mr, tmp_path / "other", seed=6, popular=1, popular_copies=20, networks=0.5)
    assert (tmp_path / "other" / "corpus.jsonl").read_bytes() != (d / "corpus.jsonl").read_bytes()


@needs_data
def test_well_formed(corpus):
    d, meta = corpus
    docs = read(d / "corpus.jsonl")
    ids = [r["id"] for r in docs]
    assert len(ids) == len(set(ids)) == N == meta["counts"]["docs"]
    dm = {r["id"]: r for r in read(d / "doc_meta.jsonl")}
    assert set(dm) == set(ids)
    assert {m["role"] for m in dm.values()} <= {"original", "copy", "distractor"}
    assert all(isinstance(m["header"], bool) and isinstance(m["footer"], bool) for m in dm.values())
    assert any(m["header"] for m in dm.values()) and any(m["footer"] for m in dm.values())
    gold = read(d / "gold_pairs.jsonl")
    ignore = read(d / "ignore_pairs.jsonl")
    assert gold and all(g["a"] < g["b"] and g["shared_words"] >= 25 for g in gold)
    assert all(r["a"] < r["b"] and r["shared_words"] < 25 for r in ignore)
    gk, ik = {(g["a"], g["b"]) for g in gold}, {(r["a"], r["b"]) for r in ignore}
    assert not gk & ik and len(gk) == len(gold)
    assert all(dm[g["a"]]["role"] != "distractor" and dm[g["b"]]["role"] != "distractor" for g in gold)
    assert meta["counts"]["source_kinds"].get("popular") == 1
    assert meta["self_check"]["leaks_16"]["leak_ngrams"] == 0


@needs_data
def test_gold_spans_exact(mr, corpus):
    """Both sides of every span start and end on the same word, and the two sides' words line up except
    for the edits (difflib matching covers at least the shared words)."""
    d, _ = corpus
    text = {r["id"]: r["text"] for r in read(d / "corpus.jsonl")}
    for g in read(d / "gold_pairs.jsonl"):
        ta, tb = text[g["a"]], text[g["b"]]
        matched = total_a = 0
        for a0, a1, b0, b1 in g["spans"]:
            assert 0 <= a0 < a1 <= len(ta) and 0 <= b0 < b1 <= len(tb)
            wa, wb = mr.norm_words(ta[a0:a1]), mr.norm_words(tb[b0:b1])
            if not wa and not wb:
                continue
            assert wa[0] == wb[0] and wa[-1] == wb[-1], (g["a"], g["b"], ta[a0:a1][:60], tb[b0:b1][:60])
            sm = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
            matched += sum(m.size for m in sm.get_matching_blocks())
            total_a += len(wa)
        assert matched >= 0.9 * g["shared_words"], (g["a"], g["b"], matched, g["shared_words"])
        assert matched >= 0.8 * total_a


@needs_data
def test_clusters_are_components(corpus):
    d, _ = corpus
    ids = [r["id"] for r in read(d / "corpus.jsonl")]
    cl = {r["id"]: r["cluster"] for r in read(d / "gold_clusters.jsonl")}
    assert set(cl) == set(ids)
    for g in read(d / "gold_pairs.jsonl"):
        assert cl[g["a"]] == cl[g["b"]]
    assert all(cl[c] == c and c <= i for i, c in cl.items())   # named by the smallest member


@needs_data
def test_score_py_accepts_the_folder(corpus, tmp_path):
    """The gold pairs (with their spans as passages) score P = R = passage F1 = ARI = 1."""
    d, _ = corpus
    score = SHARED / "bench" / "score.py"
    if not score.is_file():
        pytest.skip("score.py absent")
    pred = tmp_path / "pairs.jsonl"
    pred.write_text("".join(json.dumps({"a": g["a"], "b": g["b"], "passages": [
        {"a_start": s[0], "a_end": s[1], "b_start": s[2], "b_end": s[3]} for s in g["spans"]]}) + "\n"
        for g in read(d / "gold_pairs.jsonl")))
    out = subprocess.run([sys.executable, str(score), str(d), str(pred), "--clusters", str(d / "gold_clusters.jsonl"),
                          "--json-only"], check=True, capture_output=True, text=True).stdout
    s = json.loads(out)
    assert s["precision"] == s["recall"] == s["passage"]["f1"] == s["ari_clusters"] == 1.0


@needs_data
def test_embed_keeps_labelled_docs(corpus, tmp_path):
    d, _ = corpus
    ec = _load("embed_corpus")
    info = ec.embed(d, tmp_path / "big", "makecorpus", factor=2.5, seed=3, data=DATA)
    big = tmp_path / "big"
    assert (big / "corpus.jsonl").read_bytes() == (d / "corpus.jsonl").read_bytes()
    for f in ("gold_pairs.jsonl", "ignore_pairs.jsonl", "gold_clusters.jsonl", "doc_meta.jsonl", "meta.json"):
        assert (big / f).read_bytes() == (d / f).read_bytes()
    full = (big / "full_corpus.jsonl").read_bytes().splitlines(keepends=True)
    labelled = (d / "corpus.jsonl").read_bytes().splitlines(keepends=True)
    assert len(full) == info["total_docs"] == N + info["filler_docs"] == round(2.5 * N)
    assert set(labelled) <= set(full)
    filler_ids = [json.loads(x)["id"] for x in full if x not in set(labelled)]
    assert all(i.startswith("zmc") for i in filler_ids) and len(set(filler_ids)) == len(filler_ids)
