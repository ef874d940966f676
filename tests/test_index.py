"""The persistent index (doublet.index, doublet.cli_index).

* It answers what `doublet find` answers: after adding a corpus in batches, Index.pairs() equals find's pairs
  (dev-reuters in 3 batches, and the two seeds), searching an indexed document gives find's pairs of that
  document, clusters agree, and an outside query is answered as if it had been added.
* Adding is idempotent (same id + same text: unchanged), replaces (same id + new text) and keeps the
  document frequencies exact (check() recounts them); bad records follow find's rules.
* Crash safety: an `index add` killed with SIGKILL at random moments leaves an index that opens and passes
  check(), holding whole documents only; re-running the add ends with exactly the intended documents.
* Concurrency: readers query while a writer adds and only ever see whole batches; a second writer waits or
  gets IndexBusy, never corrupts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import doublet
from doublet.analysis import fingerprint_batch
from doublet.candidates import postings, settle, split_keys
from doublet.cli_index import index_app
from doublet.config import Config
from doublet.documents import read_documents
from doublet.engines import local
from doublet.template import (OUTLIER_MIN_DF, POS_BUCKETS, Rules, SiteNumbers, Templates, doc_histogram, own_text_span,
                              site_of, typical_df, user_hashes)
from doublet.index import (
    DB_NAME,
    DoubletIndexError,
    Index,
    IndexBusy,
    IndexConfigMismatch,
    IndexIncompatible,
    IndexNotFound,
    Match,
)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "examples" / "seeds"
BENCH = ROOT.parent / "shared" / "bench"
GOLD = BENCH / "dev-reuters"

runner = CliRunner()

# `doublet index ...` in a fresh process, mounted under the main CLI as doublet.cli will mount it
INDEX_CLI = ("import sys; from doublet.cli import app; from doublet.cli_index import index_app\n"
             "if not any(g.name == 'index' for g in app.registered_groups): app.add_typer(index_app, name='index')\n"
             "app()")


def index_cmd(*args: object) -> list[str]:
    return [sys.executable, "-c", INDEX_CLI, "index", *map(str, args)]


def as_pair_dict(m: Match) -> dict:
    """A match in find's pairs.jsonl schema (a < b)."""
    d = m.to_dict()
    q, t = d["query"], d["match"]
    a_is_query = q < t
    qs, ms = ("query", "match") if a_is_query else ("match", "query")
    ps = [{"a_start": p[f"{qs}_start"], "a_end": p[f"{qs}_end"], "b_start": p[f"{ms}_start"],
           "b_end": p[f"{ms}_end"], **({"identity": p["identity"]} if "identity" in p else {})} for p in d["passages"]]
    return {"a": d[qs], "b": d[ms], "kind": d["kind"], "level": d["level"], "jaccard": d["jaccard"],
            "containment_a": d[f"containment_{qs}"], "containment_b": d[f"containment_{ms}"],
            "passages": sorted(ps, key=lambda p: (p["a_start"], p["b_start"]))}


def sorted_passages(d: dict) -> dict:
    return {**d, "passages": sorted(d["passages"], key=lambda p: (p["a_start"], p["b_start"]))}


def seed_docs() -> list[doublet.Document]:
    return [doublet.Document(p.name, p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]


@pytest.fixture(scope="module")
def reuters() -> list[doublet.Document]:
    if not (GOLD / "corpus.jsonl").exists():
        pytest.skip("../shared/bench is not present")
    with open(GOLD / "corpus.jsonl", encoding="utf-8") as f:
        return [doublet.Document(r["id"], r["text"]) for r in map(json.loads, f)]


@pytest.fixture(scope="module")
def reuters_find(reuters):
    result = local.run(reuters, Config(workers=2))
    return result


@pytest.fixture(scope="module")
def reuters_index(reuters, tmp_path_factory):
    path = tmp_path_factory.mktemp("idx") / "reuters.idx"
    idx = Index.create(path, workers=2)
    third = len(reuters) // 3
    reports = [idx.add(reuters[:third]), idx.add(reuters[third:2 * third]), idx.add(reuters[2 * third:])]
    yield idx, reports
    idx.close()


def write_jsonl(path: Path, docs: list[doublet.Document]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": d.id, "text": d.text}, ensure_ascii=False) + "\n" for d in docs)
    return path


# --------------------------------------------------------------------------------------------- same as find

def test_seeds_in_two_batches_equal_find(tmp_path):
    docs = seed_docs()
    find_pairs = [p.to_dict() for p in doublet.find(docs).pairs]
    assert len(find_pairs) == 1
    with Index.create(tmp_path / "seeds.idx") as idx:
        assert [len(idx.add([d]).added) for d in docs] == [1, 1]
        assert [p.to_dict() for p in idx.pairs()] == find_pairs
        # searching an indexed document: find's pair, seen from the query's side
        matches = idx.search(docs[1])
        assert len(matches) == 1 and matches[0].query == docs[1].id and matches[0].match == docs[0].id
        assert as_pair_dict(matches[0]) == sorted_passages(find_pairs[0])
        for p in matches[0].passages:  # offsets index the query's and the match's texts
            assert docs[1].text[p.query_start:p.query_end] and docs[0].text[p.match_start:p.match_end]
        # a plain text (not an indexed document) that is seed 0: a copy of seed 0, and reuses seed 1
        got = {m.match: m for m in idx.search(docs[0].text)}
        assert got[docs[0].id].kind == "near-duplicate" and got[docs[0].id].jaccard == 1.0
        assert got[docs[1].id].kind == "reuse"
        assert idx.get(docs[0].id).text == docs[0].text and idx.get("nope") is None
        assert len(idx) == 2 and idx.ids() == [d.id for d in docs] and docs[1].id in idx
        c = idx.cluster(docs[1].id)
        assert c.cluster == docs[0].id and c.members == sorted(d.id for d in docs) and c.complete
        assert idx.check(deep=True).ok


def test_reuters_in_three_batches_pairs_equal_find(reuters, reuters_find, reuters_index):
    idx, reports = reuters_index
    assert sum(len(r.added) for r in reports) == len(reuters)
    assert all(not r.replaced and not r.unchanged and not r.problems for r in reports)
    find_pairs = [p.to_dict() for p in reuters_find.pairs]
    assert len(find_pairs) > 6000
    assert [p.to_dict() for p in idx.pairs()] == find_pairs
    stats = idx.stats()
    assert stats["documents"] == len(reuters)
    # the df statistics kept while adding in batches are find's, over the whole corpus
    assert stats["fingerprints"] == reuters_find.summary["candidates"]["fingerprints"]
    assert stats["boilerplate_fingerprints"] == reuters_find.summary["candidates"]["boilerplate_fingerprints"]
    report = idx.check()
    assert report.ok, report.problems
    assert report.checked["fingerprint_rows"] == stats["fingerprint_rows"]


def test_reuters_search_gives_finds_pairs_of_each_document(reuters, reuters_find, reuters_index):
    idx, _ = reuters_index
    by_doc: dict[str, list[dict]] = {}
    for p in reuters_find.pairs:
        d = sorted_passages(p.to_dict())
        by_doc.setdefault(p.a, []).append(d)
        by_doc.setdefault(p.b, []).append(d)
    rng = random.Random(7)
    paired = sorted(by_doc)
    sample = list(dict.fromkeys(rng.sample(paired, 250) + rng.sample([d.id for d in reuters], 150)))
    texts = {d.id: d.text for d in reuters}
    results = list(idx.search_many([(i, texts[i]) for i in sample]))
    assert [d.id for d, _ in results] == sample
    for doc, matches in results:
        got = sorted((as_pair_dict(m) for m in matches), key=lambda d: (d["a"], d["b"]))
        want = sorted(by_doc.get(doc.id, []), key=lambda d: (d["a"], d["b"]))
        assert got == want, doc.id
        assert all(m.query == doc.id != m.match for m in matches)


def test_reuters_clusters_equal_find(reuters_find, reuters_index):
    idx, _ = reuters_index
    members: dict[str, list[str]] = {}
    for i, c in zip(reuters_find.ids, reuters_find.clusters):
        members.setdefault(c, []).append(i)
    dup = dict(zip(reuters_find.ids, reuters_find.near_duplicate_clusters))
    rng = random.Random(3)
    big = sorted(c for c, m in members.items() if len(m) > 2)
    for name in rng.sample(big, 15):
        doc = rng.choice(members[name])
        c = idx.cluster(doc)
        assert c.cluster == name and c.members == sorted(members[name]) and c.complete
        assert c.near_duplicate_cluster == dup[doc]
        assert all(p.kind is not None and p.a < p.b for p in c.pairs)
    with pytest.raises(KeyError):
        idx.cluster("no such id")


def test_outside_query_is_answered_as_if_added(reuters, tmp_path):
    """A query that is not in the index counts in the document frequencies: find on index + query."""
    cfg = Config(max_df=3)
    base, queries = reuters[:600], reuters[600:700]
    with Index.create(tmp_path / "q.idx", cfg) as idx:
        idx.add(base)
        assert_outside_queries_are_find(idx, base, queries, cfg)
        assert len(idx) == 600  # searching adds nothing


def assert_outside_queries_are_find(idx: Index, base: list, queries: list, cfg: Config, at_least: int = 4) -> None:
    """Searching each outside query gives find's pairs of it on ``base`` plus the query, until ``at_least``
    queries with pairs have been checked."""
    checked = 0
    for q in queries:
        want = sorted((sorted_passages(p.to_dict()) for p in doublet.find(base + [q], cfg).pairs
                       if q.id in (p.a, p.b)), key=lambda d: (d["a"], d["b"]))
        got = sorted((as_pair_dict(m) for m in idx.search(q)), key=lambda d: (d["a"], d["b"]))
        assert got == want, q.id
        checked += bool(want)
        if checked >= at_least:
            break
    assert checked >= at_least


def test_lone_common_rows_in_batches_and_outside_queries_equal_find(reuters, tmp_path):
    """With ``common_df`` 4, most of Reuters' recurring fingerprints are common and many stand alone in their
    documents (so propose no pair): batches and outside queries still give find's pairs. Outside queries count in
    the document frequencies of the other documents' fingerprints, so they can make another document's row
    common or not."""
    cfg = Config(common_df=4, max_df=200, workers=1)
    base, queries = reuters[:500], reuters[500:600]
    with Index.create(tmp_path / "c.idx", cfg) as idx:
        for lo in range(0, len(base), 250):
            idx.add(base[lo:lo + 250])
        assert_index_is_find(idx, base, cfg)
        assert_outside_queries_are_find(idx, base, queries, cfg)
    default = local.run(base, Config(workers=1))
    lone = local.run(base, cfg)
    assert lone.summary["candidates"]["pair_occurrences"] < default.summary["candidates"]["pair_occurrences"]


def test_max_df_boundary_counts_the_query(tmp_path):
    """A passage held by max_df indexed documents is evidence between them, but no longer once a query carrying
    it arrives (it would then be in max_df + 1 documents: past the cost bound, it proposes no pair)."""
    words = [f"w{i}" for i in range(400)]
    shared = " ".join(words[:40]) + "."
    docs = [(f"d{k}", (f"Intro {k} {' '.join(f'x{k}y{j}' for j in range(30))}. {shared} "
                       f"Outro {' '.join(f'z{k}y{j}' for j in range(30))}.")) for k in range(3)]
    cfg = Config(max_df=3)
    with Index.create(tmp_path / "b.idx", cfg) as idx:
        idx.add(docs)
        assert {m.match for m in idx.search(docs[0])} == {"d1", "d2"}  # df = 3: not boilerplate
        outside = "Something else entirely, " + " ".join(f"q{j}" for j in range(30)) + ". " + shared
        assert idx.search(outside) == []  # df would be 4 > max_df: no evidence
        assert [p.to_dict() for p in doublet.find(docs + [("zz", outside)], cfg).pairs] == []
        assert [p.to_dict() for p in idx.pairs()] == [p.to_dict() for p in doublet.find(docs, cfg).pairs]


def test_big_lsh_buckets_pair_like_finds_star(reuters, tmp_path):
    """A bucket of more than max_bucket documents pairs only its first-added member with the others."""
    base = reuters[:200]
    notice = "Markets will close early today because of the national holiday, the exchange said."
    copies = [doublet.Document(f"copy{k:02d}", notice) for k in range(9)]  # too short to share 2 fingerprints:
    docs = base[:100] + copies[5:] + base[100:] + copies[:5]  # only LSH pairs them (first added: copy05)
    cfg = Config(max_bucket=3)
    find = doublet.find(docs, cfg)
    star = [p.to_dict() for p in find.pairs if p.a.startswith("copy")]
    assert len(star) == 8 and all("copy05" in (p["a"], p["b"]) for p in star)
    with Index.create(tmp_path / "star.idx", cfg) as idx:
        for lo in range(0, len(docs), 70):
            idx.add(docs[lo:lo + 70])
        assert [p.to_dict() for p in idx.pairs()] == [p.to_dict() for p in find.pairs]
        for d in copies + base[:20]:
            want = sorted((sorted_passages(p.to_dict()) for p in find.pairs if d.id in (p.a, p.b)),
                          key=lambda x: (x["a"], x["b"]))
            got = sorted((as_pair_dict(m) for m in idx.search(d)), key=lambda x: (x["a"], x["b"]))
            assert got == want, d.id
        # an outside copy joins the big bucket last: it pairs with the bucket's first member only
        assert [m.match for m in idx.search(notice)] == ["copy05"]


# --------------------------------------------------------------------------------------------- templates

def bench_meta(name: str) -> dict[str, dict]:
    with open(BENCH / name / "doc_meta.jsonl", encoding="utf-8") as f:
        return {m["id"]: m for m in map(json.loads, f)}


def bench_docs(name: str, sites: bool = False) -> list[doublet.Document]:
    """A dev set of ../shared/bench; ``sites``: each document's site (from doc_meta.jsonl) in ``meta["site"]``."""
    folder = BENCH / name
    if not (folder / "corpus.jsonl").exists():
        pytest.skip("../shared/bench is not present")
    site = {}
    if sites:
        with open(folder / "doc_meta.jsonl", encoding="utf-8") as f:
            site = {m["id"]: f"site{m['site']}.example" for m in map(json.loads, f)}
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        return [doublet.Document(r["id"], r["text"], {"site": site[r["id"]]} if sites else {})
                for r in map(json.loads, f)]


def find_templates(docs: list[doublet.Document], cfg: Config) -> Templates:
    """find's template fingerprints: the local engine's postings over the whole corpus at once, then the frequency
    rule on the fingerprints they defer (candidates.settle)."""
    bp = fingerprint_batch([d.text for d in docs], cfg)
    numbers = SiteNumbers()
    sites = np.array([numbers.number(site_of(d)) for d in docs], np.int64)
    doc = np.repeat(np.arange(len(docs)), bp.fp_counts)
    user = user_hashes(cfg.template_texts, cfg.shingle_size) if cfg.template_texts else None
    rules = Rules.of(cfg)
    post = postings(bp.fp_hashes, doc, bp.fp_pos, bp.fp_shape, cfg.max_df, rules=rules,
                    site_of_doc=sites if len(numbers) and "site" in cfg.template_rules else None, user=user,
                    defer_min_df=OUTLIER_MIN_DF if rules.frequency else None, n_words=bp.n_words)
    if not rules.frequency:
        return post.templates
    n = len(docs)
    lo, hi = own_text_span(doc_histogram(n, *post.doc_own, POS_BUCKETS))
    *_, frequent = settle(*post.pending, typical_df(doc_histogram(n, *post.doc_buckets)), lo, hi, bp.n_words,
                          cfg.max_df)
    return Templates.concat([post.templates, frequent])


def assert_index_is_find(idx: Index, docs: list[doublet.Document], cfg: Config, pairs: bool = True) -> None:
    """Pairs, clusters, template fingerprints, boilerplate.jsonl and the fingerprint histogram of the index are
    find's on ``docs`` (added in that order)."""
    res = local.run(docs, cfg)
    t, ids = idx.templates()
    want = find_templates(docs, cfg)
    assert ids == [d.id for d in docs]
    for name in Templates.__slots__:
        assert np.array_equal(getattr(t, name), getattr(want, name)), name
    assert idx.template_blocks() == res.template_blocks
    stats = idx.stats()
    assert stats["fingerprints"] == res.summary["candidates"]["fingerprints"]
    assert stats["templates"] == {k: v for k, v in res.summary["templates"].items()
                                  if k in ("fingerprints", "by_rule", "occurrences_by_rule")}
    if pairs:
        assert [p.to_dict() for p in idx.pairs()] == [p.to_dict() for p in res.pairs]
        rows = idx.clusters()
        assert [r["cluster"] for r in rows] == res.clusters
        assert [r["near_duplicate_cluster"] for r in rows] == res.near_duplicate_clusters
    check = idx.check()
    assert check.ok, check.problems


def test_postings_anchors_restrict_pairs_to_the_anchors():
    rng = np.random.default_rng(5)
    n = 4000
    hashes = rng.integers(0, 300, n).astype(np.uint64)
    docs = np.sort(rng.integers(0, 400, n)).astype(np.uint32)
    pos = np.arange(n, dtype=np.uint32) % 997
    shape = rng.integers(0, 4, n).astype(np.uint8)
    full = postings(hashes, docs, pos, shape, 50)
    anchors = np.array([3, 17, 18, 200, 399], np.int64)
    part = postings(hashes, docs, pos, shape, 50, anchors=anchors)
    i, j = split_keys(full.pair_keys)
    sel = np.isin(i, anchors) | np.isin(j, anchors)
    want = sorted(zip(full.pair_keys[sel].tolist(), full.pos_a[sel].tolist(), full.pos_b[sel].tolist()))
    got = sorted(zip(part.pair_keys.tolist(), part.pos_a.tolist(), part.pos_b.tolist()))
    assert got == want and len(got) > 100
    assert np.array_equal(part.templates.hashes, full.templates.hashes) and part.df_histogram == full.df_histogram


@pytest.mark.parametrize("name,batches", [("dev-sites-small", 3), ("dev-popular", 2)])
def test_dev_sets_in_batches_equal_find(name, batches, tmp_path):
    """The two dev sets of the template model (small sites' templates in 10-20 pages; stories reprinted ~120
    times), added in batches: pairs, clusters and templates are find's."""
    docs = bench_docs(name)
    cfg = Config(workers=2)
    with Index.create(tmp_path / "dev.idx", cfg) as idx:
        size = -(-len(docs) // batches)
        for lo in range(0, len(docs), size):
            idx.add(docs[lo:lo + size])
        assert_index_is_find(idx, docs, cfg)
        if name == "dev-popular":  # a popular story's copies: searching one gives find's pairs of it
            res = local.run(docs, cfg)
            degree: dict[str, int] = {}
            for p in res.pairs:
                degree[p.a] = degree.get(p.a, 0) + 1
                degree[p.b] = degree.get(p.b, 0) + 1
            busiest = sorted(degree, key=lambda x: -degree[x])[:3]
            texts = {d.id: d.text for d in docs}
            for doc_id in busiest:
                want = sorted((sorted_passages(p.to_dict()) for p in res.pairs if doc_id in (p.a, p.b)),
                              key=lambda d: (d["a"], d["b"]))
                got = sorted((as_pair_dict(m) for m in idx.search((doc_id, texts[doc_id]))),
                             key=lambda d: (d["a"], d["b"]))
                assert got == want and len(got) > 100


def test_site_field_corpus_and_site_changes_equal_find(tmp_path):
    """JSON Lines with a site field, added file by file: the site rule's templates are find's; documents moved to
    another site (same text) are replaced, and the site counts recounted exactly."""
    docs = bench_docs("dev-sites-small", sites=True)
    parts = []
    for k in range(3):
        path = tmp_path / f"part{k}.jsonl"
        with open(path, "w", encoding="utf-8") as f:
            for d in docs[k::3]:
                f.write(json.dumps({"id": d.id, "text": d.text, "site": d.meta["site"]}) + "\n")
        parts.append(path)
    cfg = Config(workers=2)
    with Index.create(tmp_path / "sites.idx", cfg) as idx:
        for path in parts:
            rep = idx.add_files([path], site_field="site")
            assert len(rep.added) == 96 and not rep.problems
        order = list(read_documents([str(p) for p in parts], site_field="site"))
        assert [d.meta["site"] for d in order] == [d.meta["site"] for d in docs[0::3] + docs[1::3] + docs[2::3]]
        assert_index_is_find(idx, order, cfg)
        assert idx.stats()["templates"]["by_rule"]["site"] > 0 and idx.stats()["sites"] == 15
        assert idx.get(order[0].id).site == order[0].meta["site"]
        # move a third of site 3's pages, and a few others, to other sites: same texts, new sites -> replaced
        rng = random.Random(2)
        moved = [d for d in order if d.meta["site"] == "site3.example"][::3] + rng.sample(order, 8)
        new = {d.id: doublet.Document(d.id, d.text, {"site": f"site{rng.randrange(20)}.example"}) for d in moved}
        rep = idx.add(list(new.values()))
        assert sorted(rep.replaced) == sorted(d.id for d in moved if new[d.id].meta["site"] != d.meta["site"])
        now = [new.get(d.id, d) for d in order]
        assert_index_is_find(idx, now, cfg)


def test_incremental_site_template_recognised_after_a_few_pages(tmp_path):
    """Pages arrive a few at a time, one site's pages one by one: after every batch the index's decisions, pairs
    and clusters are find's on the documents so far, and that site's template is recognised as soon as two of its
    pages hold it (its first three pages carry no footer: the 4th and 6th do)."""
    docs = bench_docs("dev-sites-small", sites=True)
    footer = {i: m["footer"] for i, m in bench_meta("dev-sites-small").items()}
    site = "site12.example"
    mine = [d for d in docs if d.meta["site"] == site]
    rest = [d for d in docs if d.meta["site"] != site]
    cfg = Config(workers=1)
    added: list[doublet.Document] = []
    seen = []  # per batch: pages of the site with its footer so far, and whether the site has templates
    with Index.create(tmp_path / "inc.idx", cfg) as idx:
        for k in range(8):
            batch = rest[k * 25:(k + 1) * 25] + mine[k:k + 1]
            idx.add(batch)
            added += batch
            assert_index_is_find(idx, added, cfg)
            t, ids = idx.templates()
            own = {ids[x] for x in t.doc.tolist()} & {d.id for d in mine}
            seen.append((sum(footer[d.id] for d in mine[:k + 1]), bool(own)))
        assert [has for _, has in seen] == [n >= 2 for n, _ in seen] and seen[-1] == (4, True), seen
        # the rest of the corpus, in one batch
        rest_batch = [d for d in docs if d.id not in {x.id for x in added}]
        idx.add(rest_batch)
        assert_index_is_find(idx, added + rest_batch, cfg)


def test_incremental_story_stays_reuse_as_its_copies_pile_up(tmp_path):
    """A story reprinted ~120 times arrives 20 copies at a time beside ordinary documents: after every batch its
    copies pair as find pairs them (no fingerprint of the story becomes a template) and the pairs grow."""
    docs = bench_docs("dev-popular")
    with open(BENCH / "dev-popular" / "doc_meta.jsonl", encoding="utf-8") as f:
        source = {m["id"]: m.get("source") for m in map(json.loads, f)}
    story = [d for d in docs if source[d.id] == "reuters:9672"]
    others = [d for d in docs if source[d.id] not in ("reuters:9672", "reuters:2400", "reuters:9391")][:300]
    assert len(story) == 121
    cfg = Config(workers=1)
    added: list[doublet.Document] = []
    story_pairs = []
    with Index.create(tmp_path / "story.idx", cfg) as idx:
        for k in range(7):
            batch = others[k * 50:(k + 1) * 50] + story[k * 20:(k + 1) * 20]
            idx.add(batch)
            added += batch
            assert_index_is_find(idx, added, cfg, pairs=False)
            pairs = [p for p in idx.pairs() if p.a in {d.id for d in story} and p.b in {d.id for d in story}]
            want = [p for p in doublet.find(added, cfg).pairs
                    if p.a in {d.id for d in story} and p.b in {d.id for d in story}]
            assert [p.to_dict() for p in pairs] == [p.to_dict() for p in want]
            story_pairs.append(len(pairs))
            # the story's text (fingerprints held by at least a fifth of its copies so far) is never a template
            t, _ = idx.templates()
            copies = [d for d in added if d in story]
            bp = fingerprint_batch([d.text for d in copies], cfg)
            own = np.split(bp.fp_hashes, np.cumsum(bp.fp_counts)[:-1])
            h, n = np.unique(np.concatenate([np.unique(x) for x in own]), return_counts=True)
            body = h[n >= max(5, len(copies) // 5)]
            assert body.shape[0] > 40 and not np.isin(body, t.hashes).any()
    assert all(b > a for a, b in zip(story_pairs, story_pairs[1:])) and story_pairs[-1] > 3000, story_pairs


def test_outside_query_with_and_without_site_is_find_on_corpus_plus_query(tmp_path):
    """An outside page is answered as if added: with its site, the site's template stays template; without one
    it counts as a page of no site, as in find."""
    docs = bench_docs("dev-sites-small", sites=True)
    meta = bench_meta("dev-sites-small")
    held = [d for d in docs if d.meta["site"] in ("site12.example", "site3.example") and meta[d.id]["footer"]][:6]
    base = [d for d in docs if d not in held]
    cfg = Config(workers=1)
    with Index.create(tmp_path / "out.idx", cfg) as idx:
        idx.add(base)
        seen = 0
        for q in held:
            for meta in (q.meta, {}):
                query = doublet.Document(q.id, q.text, dict(meta))
                want = sorted((sorted_passages(p.to_dict()) for p in local.run(base + [query], cfg).pairs
                               if q.id in (p.a, p.b)), key=lambda d: (d["a"], d["b"]))
                got = sorted((as_pair_dict(m) for m in idx.search(query)), key=lambda d: (d["a"], d["b"]))
                assert got == want, (q.id, meta)
                seen += len(want)
                site = meta.get("site")
                assert idx.search(q.text, id=q.id, site=site) == idx.search(query)
        assert seen > 0
        # the words a query masks: with its site, its site's template lines
        spans = idx.template_spans(held[0])
        assert spans and all(held[0].text[s["start"]:s["end"]].strip() and s["rule"] in ("shape", "site", "edge")
                             for s in spans)


def test_user_template_texts_are_stored_and_masked_like_find(tmp_path):
    docs = bench_docs("dev-sites-small")
    block = local.run(docs, Config(workers=1)).template_blocks[0]["text"]
    disclaimer = " ".join(docs[5].text.split()[10:60])  # a passage of one document, declared template
    cfg = Config(workers=1, template_texts=(block, disclaimer), template_rules=("site",))
    path = tmp_path / "user.idx"
    with Index.create(path, cfg) as idx:
        idx.add(docs[:150])
        idx.add(docs[150:])
        assert_index_is_find(idx, docs, cfg)
        assert idx.stats()["templates"]["by_rule"]["user"] > 0
    with Index.open(path) as idx:  # the texts are stored with the parameters
        assert idx.config.template_texts == (block, disclaimer) and idx.config.template_rules == ("site",)
    with pytest.raises(IndexConfigMismatch, match="template_texts"):
        Index.open(path, cfg.with_(template_texts=(block,)))


# --------------------------------------------------------------------------------------------- frequency rule

def prose_chrome_corpus(seed: int, n_sites: int = 6, pages: int = 14) -> list[doublet.Document]:
    """Pages of a few sites whose chrome is prose (a newsletter pitch after every article, a disclaimer before
    some), sentences that shape rules read as text: only the frequency rule can call them template. Articles are
    unique, some reprinted whole or in part on other sites (reuse the rule must leave alone). Words are made up
    (no two sentences share a 5-gram by chance)."""
    rng = random.Random(seed)

    def sentence(k: int) -> str:
        return " ".join(f"{rng.choice('bcdfgklmnprstvz')}{rng.choice('aeiou')}{rng.randrange(10**5)}"
                        for _ in range(k)).capitalize() + "."

    def paragraph(k: int) -> str:
        return " ".join(sentence(rng.randint(9, 16)) for _ in range(k))

    def long_paragraph(k: int) -> str:  # a paragraph of long sentences (> 60 words): prose to the shape rules
        return " ".join(sentence(rng.randint(12, 16)) for _ in range(k))

    sites = [(long_paragraph(5), long_paragraph(2) if k % 2 else "") for k in range(n_sites)]
    docs: list[doublet.Document] = []
    articles: list[list[str]] = []
    for n in range(n_sites * pages):
        s = n % n_sites
        pitch, disclaimer = sites[s]
        if articles and rng.random() < 0.3:  # a reprint: whole, or a run of paragraphs
            art = rng.choice(articles)
            lo = rng.randrange(len(art))
            body = art if rng.random() < 0.5 else art[lo:lo + rng.randint(2, 3)]
        else:
            body = [paragraph(rng.randint(2, 4)) for _ in range(rng.randint(3, 6))]
            articles.append(body)
        tail = [paragraph(1)] if rng.random() < 0.5 else []  # a caption or a correction, now and then
        parts = ([disclaimer] if disclaimer and rng.random() < 0.7 else []) + body + [pitch] + tail
        docs.append(doublet.Document(f"s{s}-{n:03d}", "\n\n".join(parts)))
    return docs


def test_prose_chrome_in_batches_equal_find_after_every_batch(tmp_path):
    """Sites whose chrome is prose, pages arriving in batches (the index's frequency rule: per-document df and
    own-text histograms and per-fingerprint outlier counts kept as documents arrive), then pages replaced (moved
    to another site's chrome, cut, rewritten): after every batch the index's templates, boilerplate.jsonl,
    pairs and clusters are find's, and the prose chrome is template by the frequency rule."""
    docs = prose_chrome_corpus(4)
    cfg = Config(workers=1)
    rng = random.Random(9)
    added: list[doublet.Document] = []
    by_rule = []
    with Index.create(tmp_path / "chrome.idx", cfg) as idx:
        for lo in range(0, len(docs), 17):
            batch = docs[lo:lo + 17]
            idx.add(batch, batch_size=rng.choice([5, 1000]))
            added += batch
            assert_index_is_find(idx, added, cfg)
            by_rule.append(idx.stats()["templates"]["by_rule"]["frequency"])
        assert by_rule[0] == 0 < by_rule[-1] and by_rule[-1] > 50, by_rule
        assert idx.stats()["templates"]["by_rule"]["shape"] < by_rule[-1]
        # replacements: other chrome, cut pages, new text; twice
        for round_ in range(2):
            new = {}
            for d in rng.sample(added, 12):
                kind = rng.randrange(3)
                if kind == 0:
                    text = rng.choice(added).text.split("\n\n")[-1] + "\n\n" + d.text.split("\n\n")[0]
                elif kind == 1:
                    text = d.text[: len(d.text) // 2]
                else:
                    text = prose_chrome_corpus(100 + round_, 1, 1)[0].text
                new[d.id] = doublet.Document(d.id, text)
            rep = idx.add(list(new.values()), batch_size=5)
            assert sorted(rep.replaced) == sorted(new)
            added = [new.get(d.id, d) for d in added]
            assert_index_is_find(idx, added, cfg)
        # searching an outside page: find on the corpus plus the page
        for q in prose_chrome_corpus(4, pages=16)[-6:]:
            want = sorted((sorted_passages(p.to_dict()) for p in local.run(added + [q], cfg).pairs
                           if q.id in (p.a, p.b)), key=lambda d: (d["a"], d["b"]))
            got = sorted((as_pair_dict(m) for m in idx.search(q)), key=lambda d: (d["a"], d["b"]))
            assert got == want, q.id
        spans = idx.template_spans(added[-1])
        assert any(s["rule"] == "frequency" for s in spans)


def test_frequency_rule_changes_fingerprints_the_new_document_does_not_hold(tmp_path):
    """A new document can turn frequency templates it does not hold back into content: six pages carry the same
    prose chrome after their own text (a frequency template: far more common than their text); four of those
    texts have a copy each, and a digest of the four arrives, so their text is found three times — the chrome is
    no longer far more common than the text around it in four of its six pages. The index, adding the digest or
    searching with it, decides as find does."""
    rng = random.Random(1)

    def sentences(n: int, k: int = 12) -> str:
        return " ".join(" ".join(f"w{rng.randrange(10**6):06d}" for _ in range(k)).capitalize() + "."
                        for _ in range(n))

    chrome = sentences(3, 14)
    own = [sentences(8) for _ in range(6)]
    docs = [doublet.Document(f"d{i}", own[i] + "\n\n" + sentences(6) + "\n\n" + chrome) for i in range(6)]
    docs += [doublet.Document(f"e{i}", sentences(3) + "\n\n" + own[i] + "\n\n" + sentences(3)) for i in range(4)]
    digest = doublet.Document("q", "\n\n".join(own[:4]))
    cfg = Config(workers=1)
    assert find_templates(docs, cfg).rule.tolist() == [5] * 11  # FREQUENCY
    assert len(find_templates(docs + [digest], cfg)) == 0
    with Index.create(tmp_path / "digest.idx", cfg) as idx:
        idx.add(docs)
        assert_index_is_find(idx, docs, cfg)
        with idx._store.read() as snap:  # what the digest would do, as a query: the chrome (not its own) flips
            searcher = idx._searcher
            decisions = searcher.decisions(snap, searcher.queries(snap, [digest]))
        t, _ = idx.templates()
        assert np.array_equal(decisions.of(0)[3], t.hashes) and len(t) == 11
        want = sorted((sorted_passages(p.to_dict()) for p in local.run(docs + [digest], cfg).pairs
                       if "q" in (p.a, p.b)), key=lambda d: (d["a"], d["b"]))
        assert sorted((as_pair_dict(m) for m in idx.search(digest)), key=lambda d: (d["a"], d["b"])) == want
        assert len(want) == 8
        idx.add([digest])
        assert_index_is_find(idx, docs + [digest], cfg)
        assert idx.stats()["templates"]["fingerprints"] == 0


@pytest.mark.slow
def test_reprint_set_with_prose_chrome_in_batches_equal_find(tmp_path):
    """A held-out reprint set whose sites' chrome is mostly prose (bench/make_reprints.py --template-style prose:
    newsletter pitches, cookie notices, bios, legal notices in seven languages), added in four batches: find's
    answers after every batch, FREQUENCY templates among them."""
    spec = importlib.util.spec_from_file_location("make_reprints", ROOT / "bench" / "make_reprints.py")
    mr = sys.modules.get("make_reprints")
    if mr is None:
        mr = importlib.util.module_from_spec(spec)
        sys.modules["make_reprints"] = mr
        spec.loader.exec_module(mr)
    data = Path(os.environ.get("DOUBLET_SHARED", ROOT.parent / "shared")) / "data"
    if not all((data / d).is_dir() for d in ("reuters21578", "20newsgroups-bydate", "bbc-news")):
        pytest.skip("shared corpora (../shared/data) absent")
    out = tmp_path / "prose"
    mr.generate(mr.Args(out=out, docs=600, seed=3, pool="mixed", sites=12, template_style="prose", data=data,
                        check="auto", quiet=True))
    with open(out / "corpus.jsonl", encoding="utf-8") as f:
        docs = [doublet.Document(r["id"], r["text"]) for r in map(json.loads, f)]
    cfg = Config(workers=2)
    with Index.create(tmp_path / "prose.idx", cfg) as idx:
        for k in range(4):
            idx.add(docs[k * 150:(k + 1) * 150])
            assert_index_is_find(idx, docs[:(k + 1) * 150], cfg)
        assert idx.stats()["templates"]["by_rule"]["frequency"] > 100


# --------------------------------------------------------------------------------------------- adding

def test_add_again_is_a_noop_and_new_text_replaces(reuters, tmp_path):
    docs = reuters[:1200]
    with Index.create(tmp_path / "r.idx") as idx:
        first = idx.add(docs)
        assert len(first.added) == 1200
        gen = idx.stats()["generation"]
        again = idx.add(docs)
        assert again.unchanged == [d.id for d in docs] and not again.added and not again.replaced
        assert idx.stats()["generation"] == gen  # nothing written
        # replace: some texts become copies of other documents, some are cut in half, some get new text
        rng = random.Random(11)
        new = list(docs)
        changed = rng.sample(range(1200), 60)
        for k in changed[:20]:
            new[k] = doublet.Document(docs[k].id, docs[rng.randrange(1200)].text + " Appended.")
        for k in changed[20:40]:
            new[k] = doublet.Document(docs[k].id, docs[k].text[: len(docs[k].text) // 2])
        for k in changed[40:]:
            new[k] = doublet.Document(docs[k].id, f"Entirely new text number {k}, " * 20)
        rep = idx.add([new[k] for k in sorted(changed)] + [doublet.Document("extra", "An extra document.")])
        assert sorted(rep.replaced) == sorted(docs[k].id for k in changed) and rep.added == ["extra"]
        assert idx.get(docs[changed[0]].id).text == new[changed[0]].text
        check = idx.check(deep=True)
        assert check.ok, check.problems
        # df counts and pairs are those of the corpus as it now stands
        want = doublet.find(new + [doublet.Document("extra", "An extra document.")])
        assert [p.to_dict() for p in idx.pairs()] == [p.to_dict() for p in want.pairs]
        assert idx.stats()["fingerprints"] == want.summary["candidates"]["fingerprints"]


def test_bad_records_follow_finds_rules(tmp_path):
    with Index.create(tmp_path / "bad.idx") as idx:
        rep = idx.add([("a", "   "), {"text": "no id"}, ("b", "a fine text"), ("b", "a second b"), 42,
                       {"id": "c", "text": "another fine text"}])
        assert rep.added == ["b", "c"]
        reasons = [p.reason for p in rep.problems]
        assert len(reasons) == 4 and all(p.action == "rejected" for p in rep.problems)
        assert any("duplicate id" in r for r in reasons)
        assert rep.to_dict()["counts"] == {"documents": 2, "added": 2, "replaced": 0, "unchanged": 0, "rejected": 4,
                                           "repaired": 0, "characters": len("a fine text") + len("another fine text")}
        assert idx.get("b").text == "a fine text"
        with pytest.raises(ValueError):
            idx.search("   ")
        assert idx.check().ok


def test_config_is_stored_and_enforced(tmp_path):
    path = tmp_path / "c.idx"
    cfg = Config(threshold=0.8, max_df=20, min_words=30)
    Index.create(path, cfg).close()
    with Index.open(path) as idx:
        assert idx.config.threshold == 0.8 and idx.config.max_df == 20 and idx.config.min_words == 30
        assert idx.config.lsh_params() == cfg.lsh_params()
    with Index.open(path, cfg.with_(workers=2)) as idx:  # execution parameters may differ
        assert idx.config.workers == 2
    with pytest.raises(IndexConfigMismatch, match="shingle_size=5"):
        Index.open(path, cfg.with_(shingle_size=4))
    with pytest.raises(IndexConfigMismatch):
        Index.open(path, Config())
    with pytest.raises(IndexNotFound):
        Index.open(tmp_path / "absent")
    with pytest.raises(DoubletIndexError, match="not an empty folder"):
        Index.create(path)
    with Index.open(tmp_path / "made", create=True) as idx:
        assert len(idx) == 0 and idx.check().ok
    (tmp_path / "killed").mkdir()  # a create killed part way leaves only its work file: not an index
    (tmp_path / "killed" / (DB_NAME + ".creating")).write_bytes(b"partial")
    with pytest.raises(IndexNotFound):
        Index.open(tmp_path / "killed")
    Index.create(tmp_path / "killed").close()
    assert [f.name for f in (tmp_path / "killed").iterdir()] == [DB_NAME]
    con = sqlite3.connect(path / DB_NAME)
    con.execute("UPDATE meta SET value = 'x' WHERE key = 'kernel_probe'")
    con.commit()
    con.close()
    with pytest.raises(IndexIncompatible, match="rebuild"):
        Index.open(path)


def test_check_finds_inconsistencies(reuters, tmp_path):
    path = tmp_path / "k.idx"
    with Index.create(path) as idx:
        idx.add(reuters[:300])
        assert idx.check().ok
    con = sqlite3.connect(path / DB_NAME)
    first = "(SELECT MIN(hash) FROM hashes)"
    for change, undo, what in [
            (f"UPDATE hashes SET df = df + 1 WHERE hash = {first}", f"UPDATE hashes SET df = df - 1 WHERE hash = {first}",
             "hashes: df"),
            (f"UPDATE hashes SET site_hi = 7 WHERE hash = {first}", f"UPDATE hashes SET site_hi = 0 WHERE hash = {first}",
             "hashes: site_hi"),
            (f"UPDATE hashes SET rule = 2 WHERE hash = {first}", f"UPDATE hashes SET rule = 0 WHERE hash = {first}",
             "hashes: the rule of 1 fingerprints"),
            ("UPDATE fp SET shape = 3 - shape WHERE hash = (SELECT MIN(hash) FROM fp)",
             "UPDATE fp SET shape = 3 - shape WHERE hash = (SELECT MIN(hash) FROM fp)", "fp: shape flags")]:
        con.execute(change)
        con.commit()
        with Index.open(path) as idx:
            rep = idx.check()
            assert not rep.ok and any(p.startswith(what) for p in rep.problems), (what, rep.problems)
        con.execute(undo)
        con.commit()
        with Index.open(path) as idx:
            assert idx.check().ok
    con.execute("DELETE FROM fp WHERE hash = (SELECT MAX(hash) FROM fp)")
    con.commit()
    con.close()
    result = runner.invoke(index_app, ["check", str(path)])
    assert result.exit_code == 1 and "fp:" in result.stderr
    assert json.loads(result.stdout)["ok"] is False


# --------------------------------------------------------------------------------------------- command line

def test_cli_create_add_query_stats_check(tmp_path):
    path, out = tmp_path / "cli.idx", tmp_path / "out"
    assert runner.invoke(index_app, ["create", str(path), "--threshold", "0.75"]).exit_code == 0
    r = runner.invoke(index_app, ["add", str(path), str(SEEDS), "-w", "1", "--report", str(tmp_path / "rep.json")])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "rep.json").read_text())["counts"]["added"] == 2
    r = runner.invoke(index_app, ["add", str(path), str(SEEDS), "-w", "1", "--report", str(tmp_path / "rep.json")])
    rep = json.loads((tmp_path / "rep.json").read_text())
    assert r.exit_code == 0 and rep["counts"]["unchanged"] == 2 and rep["unchanged"] == sorted(rep["unchanged"])
    # a changed text replaces, and the report says so
    changed = tmp_path / "changed"
    changed.mkdir()
    a, b = seed_docs()
    (changed / a.id).write_text(a.text + "\nAn added closing line.", encoding="utf-8")
    r = runner.invoke(index_app, ["add", str(path), str(changed), "-w", "1"])
    assert r.exit_code == 0 and "1 replaced" in r.stderr and a.id in r.stderr
    stats = json.loads(runner.invoke(index_app, ["stats", str(path)]).stdout)
    assert stats["documents"] == 2 and stats["parameters"]["threshold"] == 0.75
    # query: matches.jsonl, one line per (query, indexed document) pair
    queries = write_jsonl(tmp_path / "q.jsonl", [doublet.Document("new", b.text[:1500]), b,
                                                doublet.Document("empty", " ")])
    r = runner.invoke(index_app, ["query", str(path), str(queries), "-o", str(out)])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in (out / "matches.jsonl").read_text().splitlines()]
    assert {(m["query"], m["match"]) for m in lines} == {("new", b.id), ("new", a.id), (b.id, a.id)}
    for m in lines:
        assert set(m) == {"query", "match", "kind", "level", "jaccard", "containment_query", "containment_match",
                          "passages"}
        assert m["level"] in ("verbatim", "light", "heavy")
        for p in m["passages"]:
            assert set(p) == {"query_start", "query_end", "match_start", "match_end", "identity"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["queries"] == 2 and summary["counts"]["rejected"] == 1
    assert summary["counts"]["matches"] == 3
    r = runner.invoke(index_app, ["check", str(path), "--deep"])
    assert r.exit_code == 0 and json.loads(r.stdout)["ok"] is True


def test_cli_sites_templates_and_template_files(tmp_path):
    docs = bench_docs("dev-sites-small", sites=True)[:120]
    corpus = tmp_path / "sites.jsonl"
    with open(corpus, "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": d.id, "text": d.text, "where": "https://www." + d.meta["site"] + "/a/b"})
                     + "\n" for d in docs)
    disclaimer = tmp_path / "disclaimer.txt"
    disclaimer.write_text(" ".join(docs[3].text.split()[:40]), encoding="utf-8")
    path = tmp_path / "cli-sites.idx"
    r = runner.invoke(index_app, ["create", str(path), "--template-rules", "site", "--template", str(disclaimer)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(index_app, ["add", str(path), str(corpus), "--site-field", "where", "-w", "1", "-q"])
    assert r.exit_code == 0, r.output
    with Index.open(path) as idx:
        assert idx.config.template_rules == ("site",) and len(idx.config.template_texts) == 1
        assert idx.get(docs[0].id).site == docs[0].meta["site"]  # the host, without www.
        stats = idx.stats()
        assert stats["sites"] == len({d.meta["site"] for d in docs})
        assert stats["templates"]["by_rule"]["site"] > 0 and stats["templates"]["by_rule"]["user"] > 0
        assert stats["templates"]["by_rule"]["shape"] == 0
        blocks = idx.template_blocks()
    out = runner.invoke(index_app, ["templates", str(path)])
    assert out.exit_code == 0 and [json.loads(x) for x in out.stdout.splitlines()] == blocks and blocks
    r = runner.invoke(index_app, ["query", str(path), str(corpus), "--site-field", "where", "-o", str(tmp_path / "q")])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "q" / "summary.json").read_text())["counts"]["queries"] == 120


def test_cli_usage_errors(tmp_path):
    r = runner.invoke(index_app, ["add", str(tmp_path / "none"), str(SEEDS)])
    assert r.exit_code == 2 and r.stderr.startswith("error:") and "index create" in r.stderr
    assert runner.invoke(index_app, ["create", str(tmp_path / "i")]).exit_code == 0
    r = runner.invoke(index_app, ["create", str(tmp_path / "i")])
    assert r.exit_code == 2 and "not an empty folder" in r.stderr
    r = runner.invoke(index_app, ["add", str(tmp_path / "i"), str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2 and "missing.jsonl" in r.stderr
    r = runner.invoke(index_app, ["create", str(tmp_path / "j"), "--max-df", "1"])
    assert r.exit_code == 2 and "--max-df" in r.stderr
    r = runner.invoke(index_app, ["query", str(tmp_path / "i"), str(SEEDS), "-o", str(tmp_path / "i" / DB_NAME)])
    assert r.exit_code == 2


# --------------------------------------------------------------------------------------------- crashes

def _kill_at_random(proc: subprocess.Popen, path: Path, start_count: int, rng: random.Random, mode: str) -> None:
    """SIGKILL the writer: after a random delay, or a random moment after its first commit."""
    if mode == "delay":
        time.sleep(rng.uniform(0.3, 1.5))
    else:
        deadline = time.monotonic() + 20
        with Index.open(path) as reader:
            while proc.poll() is None and len(reader) == start_count and time.monotonic() < deadline:
                time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.25))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_sigkill_during_add_leaves_whole_documents_and_retry_completes(reuters, tmp_path):
    intended = reuters[:3000]
    old = {d.id: d.text[: len(d.text) // 2] + " (an earlier version)" for d in intended[:300:3]}
    corpus = write_jsonl(tmp_path / "corpus.jsonl", intended)
    path = tmp_path / "crash.idx"
    with Index.create(path) as idx:  # some ids are present with other texts: the add must replace them
        idx.add(list(old.items()))
    want = {d.id: d.text for d in intended}
    rng = random.Random(int.from_bytes(os.urandom(4), "little"))
    kills = interrupted = 0
    stored = dict(old)
    for attempt in range(12):
        before, prior = len(stored), stored
        workers = str(1 + attempt % 2)  # with -w 2 the fingerprint workers must die with the writer
        proc = subprocess.Popen(index_cmd("add", path, corpus, "-q", "-w", workers, "--batch-size", "50"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _kill_at_random(proc, path, before, rng, "delay" if attempt % 3 == 2 else "after-commit")
        kills += proc.returncode == -signal.SIGKILL
        with Index.open(path, lock_timeout=3) as idx:  # opens, passes the check, holds whole documents only
            idx.add([])  # and nothing holds the writer lock any more
            report = idx.check()
            assert report.ok, report.problems
            stored = {i: idx.get(i).text for i in idx.ids()}
        assert set(stored) <= set(want) | set(old)
        assert all(t == want[i] or t == old.get(i) for i, t in stored.items())
        interrupted += stored != prior and stored != want  # killed part way through writing
        if kills >= 6 and interrupted >= 3:
            break
    print(f"{attempt + 1} attempts, {kills} kills, {interrupted} part way; {len(stored)} of 3000 documents in")
    assert kills >= 5 and interrupted >= 3
    done = subprocess.run(index_cmd("add", path, corpus, "-q", "-w", "2"), capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    with Index.open(path) as idx:
        assert idx.ids() and sorted(idx.ids()) == sorted(want)
        assert all(idx.get(i).text == t for i, t in want.items())
        report = idx.check(deep=True)
        assert report.ok, report.problems
        again = idx.add(intended)
        assert len(again.unchanged) == 3000


# --------------------------------------------------------------------------------------------- concurrency

def test_readers_see_whole_batches_while_a_writer_adds(reuters, tmp_path):
    path = tmp_path / "conc.idx"
    with Index.create(path) as idx:
        idx.add(reuters[:1000])
    corpus = write_jsonl(tmp_path / "more.jsonl", reuters[1000:4000])
    probe = [reuters[k] for k in range(0, 1000, 50)]
    proc = subprocess.Popen(index_cmd("add", path, corpus, "-q", "-w", "1", "--batch-size", "200"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen: set[int] = set()
    busy_checked = False
    with Index.open(path) as reader:
        while proc.poll() is None:
            n = len(reader)
            assert (n - 1000) % 200 == 0  # whole transactions only
            seen.add(n)
            for doc, matches in reader.search_many(probe):
                assert all(m.query == doc.id and m.kind in ("near-duplicate", "reuse") for m in matches)
            if 1000 < n < 4000 and not busy_checked:
                try:
                    Index.open(path, lock_timeout=0.2).add([("late", "a late writer")])
                    assert proc.poll() is not None, "a second writer got in while the first was adding"
                except IndexBusy as exc:
                    assert "another process" in str(exc) and "retry later" in str(exc)
                    assert f"pid {proc.pid}" in str(exc)
                    busy_checked = True
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
    print(f"reader saw {sorted(seen)}; busy checked: {busy_checked}")
    assert len(seen) >= 3 and busy_checked
    with Index.open(path) as idx:
        assert len(idx) in (4000, 4001) and idx.check().ok


def test_second_writer_waits_or_gets_a_clear_error(tmp_path):
    path = tmp_path / "w.idx"
    first, second = Index.create(path), Index.open(path, lock_timeout=0.2)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with first._writer():
            held.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    with pytest.raises(IndexBusy, match="another process .*is adding to this index.*retry later"):
        second.add([("a", "some text")])
    second.lock_timeout = 5.0
    threading.Timer(0.3, release.set).start()
    t0 = time.monotonic()
    assert second.add([("a", "some text")]).added == ["a"]  # waited for the first writer
    assert time.monotonic() - t0 >= 0.2
    t.join()
    first.close()
    second.close()
    with Index.open(path) as idx:
        assert idx.ids() == ["a"] and idx.check().ok
