"""The template model (doublet.template): what is boilerplate, and what is reuse.

* The frequency rule, as engines run it in two steps (candidates.postings defers, candidates.settle decides),
  equals a naive reading of its definition: typical df and own-text span per document, outliers per occurrence.
* The facts rule (template.other_facts): a formula repeated with other figures is not reuse; a reprint that
  keeps its figures is.
* Copy clusters (cluster.copy_clusters) never chain two clusters of copies through one passage.
* templates.parquet (template.write_table / read_table) keeps every template fingerprint and its rule.
* Real posts (20 Newsgroups, talk.politics.mideast): header blocks and a prolific poster's signature are templates,
  passages almost never start in a header, and quoted replies are found as reuse.
* Real wire stories (Reuters-21578): the daily formula families are mostly not reported as reuse.
"""

from __future__ import annotations

import itertools
import json
import re
import tarfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doublet import template
from doublet import candidates
from doublet.candidates import fingerprint_pairs, split_keys
from doublet.cli import main
from doublet.cluster import copy_clusters
from doublet.template import (OUTLIER_MIN_DF, OUTLIER_RATIO, OUTLIER_SHARE, POS_BUCKETS, Templates, df_bucket,
                              other_facts, pos_bucket, read_table, site_key, write_table)
from doublet.tokens import tokenize

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# ------------------------------------------------------------------------------------- frequency rule


def naive_frequency(holders: dict[int, dict[int, int]], content: set[int], n_words: list[int]) -> set[int]:
    """The FREQUENCY templates by the definition, one document and one fingerprint at a time.
    ``holders[h][d]`` = first position of hash h in doc d; ``content`` = hashes no other rule took."""
    df = {h: len(ds) for h, ds in holders.items()}
    docs = range(len(n_words))
    typical, lo, hi = {}, {}, {}
    for d in docs:
        buckets = sorted(int(df_bucket(np.array([df[h]]))[0]) for h in content if d in holders[h])
        if buckets:
            b = buckets[(len(buckets) + 1) // 2 - 1]  # the lower median
            typical[d] = 1.0 if b == 0 else 2.0 ** ((b + 0.5) / 2.0)
        else:
            typical[d] = 1.0
        own = [int(pos_bucket(np.array([holders[h][d]]), np.array([n_words[d]]))[0])
               for h in content if d in holders[h] and df[h] < OUTLIER_MIN_DF]
        hist = [own.count(b) for b in range(POS_BUCKETS)]
        total = sum(hist)
        cum = list(itertools.accumulate(hist))
        lo[d] = POS_BUCKETS if not total else sum(c <= 0.1 * total for c in cum)
        hi[d] = -1 if not total else sum(c < 0.9 * total for c in cum)
    out = set()
    for h in content:
        if df[h] < OUTLIER_MIN_DF:
            continue
        n_out = 0
        for d, p in holders[h].items():
            b = int(pos_bucket(np.array([p]), np.array([n_words[d]]))[0])
            n_out += df[h] >= OUTLIER_RATIO * typical[d] and (b < lo[d] or b > hi[d])
        if n_out >= OUTLIER_SHARE * df[h]:
            out.add(h)
    return out


@settings(max_examples=150)
@given(st.integers(6, 16), st.lists(st.tuples(st.integers(0, 5), st.integers(0, 15), st.integers(0, 59)),
                                    max_size=120), st.integers(2, 12))
def test_frequency_rule_matches_its_definition(n_docs, common, max_df):
    """Each document has its own text (hashes found in it alone, or in a few) in its middle; common hashes
    lie anywhere. Templates and pairs of fingerprint_pairs (postings defers, settle decides) equal the naive
    reading of the frequency rule."""
    rows = []
    for d in range(n_docs):
        rows += [(10_000 + 100 * d + k, d, 15 + k) for k in range(20)]  # own text at positions 15..34
        rows += [(20_000 + (d // 2), d, 36)]  # a few shared by two documents (df 2)
    rows += [(h, d % n_docs, p) for h, d, p in common]
    rows.sort(key=lambda r: (r[1], r[2]))
    n_words = [60] * n_docs
    hashes = np.array([r[0] for r in rows], np.uint64)
    docs = np.array([r[1] for r in rows], np.int64)
    pos = np.array([r[2] for r in rows], np.uint32)
    rules = template.Rules(shape=False, site=False, frequency=True)
    got = fingerprint_pairs(hashes, docs, pos, None, max_df, 1, 1, 5, -1, rules=rules,
                            n_words=np.array(n_words, np.int64))
    holders: dict[int, dict[int, int]] = {}
    for h, d, p in rows:
        holders.setdefault(h, {}).setdefault(d, p)
    freq = naive_frequency(holders, set(holders), n_words)
    assert set(got.template.tolist()) == freq
    want = {(i, j) for h, ds in holders.items() if h not in freq and 2 <= len(ds) <= max_df
            for i, j in itertools.combinations(sorted(ds), 2)}
    gi, gj = split_keys(got.pairs)
    assert set(zip(gi.tolist(), gj.tolist())) == want


def test_lone_rows_by_example():
    """Rows of one document within ``reach`` words of another vouch for each other; a row alone does not."""
    docs = np.array([0, 0, 0, 1, 1, 2, 0], np.int64)
    pos = np.array([10, 30, 200, 5, 5, 7, 36], np.int64)
    assert candidates.lone_rows(docs, pos, 25).tolist() == [False, False, True, False, False, True, False]
    assert candidates.lone_rows(docs, pos, 6).tolist() == [True, False, True, False, False, True, False]
    assert candidates.lone_rows(docs, pos, 5).tolist() == [True, True, True, False, False, True, True]
    assert candidates.lone_rows(docs[:1], pos[:1], 25).tolist() == [True]


@settings(max_examples=150)
@given(st.integers(6, 16), st.lists(st.tuples(st.integers(0, 5), st.integers(0, 15), st.integers(0, 59)),
                                    max_size=120), st.integers(5, 40), st.integers(4, 6), st.integers(1, 12))
def test_lone_common_rows_match_their_definition(n_docs, common, max_df, common_df, reach):
    """Pairs of fingerprint_pairs with the lone rule (common fingerprints held by more than ``common_df`` and at
    most ``max_df`` documents propose pairs only from documents with another such fingerprint within ``reach``
    words) equal the naive reading: every common row of a document, FREQUENCY templates included, vouches."""
    rows = []
    for d in range(n_docs):
        rows += [(10_000 + 100 * d + k, d, 15 + k) for k in range(20)]
        rows += [(20_000 + (d // 2), d, 36)]
    rows += [(h, d % n_docs, p) for h, d, p in common]
    rows.sort(key=lambda r: (r[1], r[2]))
    n_words = [60] * n_docs
    got = fingerprint_pairs(np.array([r[0] for r in rows], np.uint64), np.array([r[1] for r in rows], np.int64),
                            np.array([r[2] for r in rows], np.uint32), None, max_df, 1, 1, 5, -1,
                            rules=template.Rules(shape=False, site=False, frequency=True),
                            n_words=np.array(n_words, np.int64), common_df=common_df, reach=reach)
    holders: dict[int, dict[int, int]] = {}
    for h, d, p in rows:
        holders.setdefault(h, {}).setdefault(d, p)
    freq = naive_frequency(holders, set(holders), n_words)
    is_common = {h for h, ds in holders.items() if common_df < len(ds) <= max_df}
    by_doc: dict[int, list[tuple[int, int]]] = {}
    for h in is_common:
        for d, p in holders[h].items():
            by_doc.setdefault(d, []).append((h, p))

    def lone(h: int, d: int) -> bool:
        p = holders[h][d]
        return not any(h2 != h and abs(p2 - p) <= reach for h2, p2 in by_doc[d])

    want = set()
    for h, ds in holders.items():
        if h in freq or not 2 <= len(ds) <= max_df:
            continue
        members = [d for d in sorted(ds) if h not in is_common or not lone(h, d)]
        want |= set(itertools.combinations(members, 2))
    gi, gj = split_keys(got.pairs)
    assert set(zip(gi.tolist(), gj.tolist())) == want


def test_frequency_rule_takes_a_footer_not_a_story():
    """A pitch at the end of 30 pages (around text found once) is a template; a story printed in 30 pages
    is not, nor is a quotation embedded in the middle of 10 pages."""
    rows = []
    for d in range(60):
        rows += [(10_000 + 100 * d + k, d, 5 + k) for k in range(40)]  # own text
        if d < 30:
            rows.append((1, d, 50))  # the pitch after the text
        else:
            rows += [(2, d, 20), (3, d, 21)] if d < 40 else []  # a quotation inside the text
    story = [(d, [(5000 + k, d, 5 + k) for k in range(40)]) for d in range(60, 90)]  # the same story, 30 copies
    for d, rs in story:
        rows += rs + [(1, d, 47)]  # ... which also carry the pitch
    rows.sort(key=lambda r: (r[1], r[2]))
    n = 90
    got = fingerprint_pairs(np.array([r[0] for r in rows], np.uint64), np.array([r[1] for r in rows], np.int64),
                            np.array([r[2] for r in rows], np.uint32), None, 1000, 1, 1, 5, -1,
                            rules=template.Rules(shape=False, site=False), n_words=np.full(n, 50, np.int64))
    assert 1 in got.template.tolist()
    assert not {2, 3} & set(got.template.tolist())
    assert not any(5000 <= h < 5040 for h in got.template.tolist())


# ------------------------------------------------------------------------------------- facts rule

def facts_of(text: str) -> np.ndarray:
    return template.word_figures(text, tokenize(text))


def passages(a: str, b: str) -> list[SimpleNamespace]:
    return [SimpleNamespace(a0=0, a1=len(tokenize(a).hashes), b0=0, b1=len(tokenize(b).hashes))]


@pytest.mark.parametrize("a, b, other", [
    # a weekly formula with this week's figures
    ("Treasury balances at the Federal Reserve rose on March 30 to 3.324 billion dlrs from 2.982 billion",
     "Treasury balances at the Federal Reserve rose on April 6 to 4.118 billion dlrs from 3.324 billion", True),
    # a reprint keeps its figures (however written: 2,978 and 6-3/8 are one figure each)
    ("Sales rose 2,978 mln dlrs, or 6-3/8 pct, in the first quarter, the company said on Tuesday",
     "Sales rose 2,978 mln dlrs, or 6-3/8 pct, in the first quarter, the company said on Tuesday", False),
    # one figure updated in a longer reprint
    ("The storm killed 35 people on Monday in three provinces, officials said, and 1,200 homes were lost",
     "The storm killed 38 people on Monday in three provinces, officials said, and 1,200 homes were lost", False),
    # too few figures to judge: not a formula
    ("He said the talks would go on for another week before any decision",
     "He said the talks would go on for another month before any decision", False),
    # names are facts too: another bank, another day
    ("The issue is guaranteed by Mitsui Bank Ltd and final terms will be set on March 3, lead manager Nomura said",
     "The issue is guaranteed by Mitsubishi Bank Ltd and final terms will be set on March 10, lead manager Daiwa said",
     True),
    ("Hecla Mining Co said it has agreed to purchase a 28 pct interest in the Greens Creek Joint Venture",
     "Hecla Mining Co said it has agreed to purchase a 28 pct interest in the Greens Creek Joint Venture", False),
    # units are no facts: only the amounts count, and they differ
    ("The bank gave the market 345 mln stg of help, 56 mln stg in band two",
     "The bank gave the market 75 mln stg of help, 15 mln stg in band three", True),
])
def test_other_facts(a, b, other):
    assert other_facts(passages(a, b), facts_of(a), facts_of(b)) == [other]


@given(st.lists(st.integers(0, 9), min_size=2, max_size=12), st.lists(st.integers(0, 9), min_size=2, max_size=12))
def test_other_facts_is_symmetric_and_spares_identical_figures(fa, fb):
    a = "figures " + " ".join(f"{x}.5" for x in fa)
    b = "figures " + " ".join(f"{x}.5" for x in fb)
    ab = other_facts(passages(a, b), facts_of(a), facts_of(b))
    ba = other_facts(passages(b, a), facts_of(b), facts_of(a))
    assert ab == ba
    assert other_facts(passages(a, a), facts_of(a), facts_of(a)) == [False]


# ------------------------------------------------------------------------------------- copy clusters

@given(st.integers(2, 14), st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13), st.booleans(),
                                               st.floats(0.01, 1.0)), max_size=30))
def test_copy_clusters(n, edges):
    """Copy pairs connect; a document in no copy pair joins one partner's cluster (or stays alone), so two
    clusters of copies never merge through it; clusters are named by their smallest member."""
    edges = [(min(i, j) % n, max(i, j) % n, s, w) for i, j, s, w in edges if i % n != j % n]
    ids = [f"d{k:02d}" for k in range(n)]
    i = np.array([e[0] for e in edges], np.int64)
    j = np.array([e[1] for e in edges], np.int64)
    strong = np.array([e[2] for e in edges], bool)
    strength = np.array([e[3] for e in edges], np.float64)
    label = copy_clusters(ids, i, j, strong, strength)
    for a, b, s, _ in edges:
        if s:
            assert label[a] == label[b]
    copied = {x for a, b, s, _ in edges if s for x in (a, b)}
    # the clusters of copies, before anyone joined
    from doublet.cluster import components
    comp = components(n, i[strong], j[strong])
    for c in set(label.tolist()):
        members = [k for k in range(n) if label[k] == c]
        assert c == min(members)
        assert len({comp[k] for k in members if k in copied}) <= 1  # never two clusters of copies
    for k in range(n):
        if k not in copied and not any(k in (a, b) for a, b, _, _ in edges):
            assert label[k] == k  # no pair: alone


# ------------------------------------------------------------------------------------- tables and sites

def test_templates_table_round_trip(tmp_path: Path):
    t = Templates(np.array([3, 2**63 + 5, 2**64 - 1], np.uint64), np.array([1, 5, 2], np.uint8),
                  np.array([7, 12, 3], np.int64), np.array([0, 2, 1], np.int64), np.array([4, 0, 9], np.uint32))
    write_table(t, ["x", "y", "z"], tmp_path / "t.parquet")
    hashes, rules = read_table(tmp_path / "t.parquet")
    assert hashes.tolist() == [3, 2**63 + 5, 2**64 - 1] and rules.tolist() == [1, 5, 2]
    import pyarrow.parquet as pq
    rows = pq.read_table(tmp_path / "t.parquet").to_pylist()
    assert [(r["rule"], r["documents"], r["example"], r["position"]) for r in rows] == [
        ("shape", 7, "x", 4), ("frequency", 12, "z", 0), ("site", 3, "y", 9)]


@pytest.mark.parametrize("value, key", [("https://www.Example.com:443/a/b", "example.com"), ("m.bbc.co.uk", "bbc.co.uk"),
                                        ("Example Daily", "example daily"), ("", None), ("  ", None), (None, None),
                                        ("www.com", "www.com"), ("news.example.org/page", "news.example.org")])
def test_site_key(value, key):
    assert site_key(value) == key


# ------------------------------------------------------------------------------------- real posts

needs_data = pytest.mark.skipif(not (DATA / "20newsgroups-bydate").is_dir() or not (DATA / "reuters21578").is_dir(),
                                reason="../shared/data is not there")


def newsgroup(tmp_path: Path, group: str) -> Path:
    out = tmp_path / f"{group}.jsonl"
    with tarfile.open(DATA / "20newsgroups-bydate" / "20news-bydate.tar.gz", "r:gz") as t, open(out, "w") as f:
        for m in t:
            if m.isfile() and f"/{group}/" in m.name:
                f.write(json.dumps({"id": m.name, "text": t.extractfile(m).read().decode("utf-8", "replace")}) + "\n")
    return out


@needs_data
def test_newsgroup_headers_and_signatures_are_templates_quotes_are_reuse(tmp_path: Path):
    src = newsgroup(tmp_path, "talk.politics.mideast")
    out = tmp_path / "out"
    assert main(["find", str(src), "-o", str(out), "-q", "-w", "1"]) == 0
    texts = {d["id"]: d["text"] for d in map(json.loads, open(src))}
    assert len(texts) == 940
    blocks = [json.loads(x) for x in open(out / "boilerplate.jsonl")]
    # a prolific poster's signature (a quotation under his name, in 100+ posts) and header lines are templates
    assert any(b["documents"] >= 100 and "(Ohanus Appressian - 1919)" in b["text"] for b in blocks)
    assert sum(b["rule"] == "shape" and re.search(r"^(Organization|Reply-To|Subject): ", b["text"], re.M) is not None
               for b in blocks) >= 20
    pairs = [json.loads(x) for x in open(out / "pairs.jsonl")]
    n_passages = in_header = quoted = 0
    for p in pairs:
        for s in p["passages"]:
            n_passages += 1
            starts = [texts[p[x]].find("\n\n") for x in "ab"]
            in_header += any(s[f"{x}_start"] < e for x, e in zip("ab", starts))
        q = [texts[p[x]][s[f"{x}_start"]:s[f"{x}_end"]] for s in p["passages"] for x in "ab"]
        lines = [ln for seg in q for ln in seg.split("\n") if ln.strip()]
        quoted += sum(ln.lstrip().startswith(">") for ln in lines) >= 0.5 * len(lines)
    assert n_passages > 1000
    assert in_header <= 0.01 * n_passages  # passages (almost) never start in a post's headers
    assert quoted >= 300  # replies quoting the post they answer (>= 25 words) are reuse


@needs_data
def test_wire_formulas_with_other_figures_are_not_reuse(tmp_path: Path):
    """Reuters-21578's daily formula stories (money market help, bill sales, reserve operations) repeat word for
    word with other figures: most of their pairs are template matches, not reuse."""
    families = ("U.K. MONEY MARKET", "BANK OF JAPAN TO SELL", "FED ADDS RESERVES", "TREASURY BALANCES AT FED")
    raw = []
    for f in sorted((DATA / "reuters21578").glob("reut2-*.sgm.gz")):
        import gzip
        import html
        for story in re.findall(r"<REUTERS.*?</REUTERS>", gzip.open(f).read().decode("latin-1"), re.S):
            title, body = re.search(r"<TITLE>(.*?)</TITLE>", story, re.S), re.search(r"<BODY>(.*?)</BODY>", story, re.S)
            if title and body and title.group(1).startswith(families):
                newid = re.search(r'NEWID="(\d+)"', story).group(1)
                raw.append({"id": f"reuters-{newid}", "text": html.unescape(title.group(1) + "\n" + body.group(1))})
    src = tmp_path / "wire.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in raw))
    out = tmp_path / "out"
    assert main(["find", str(src), "-o", str(out), "-q", "-w", "1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    n = len(raw)
    assert n > 100
    reuse = summary["counts"]["reuse_pairs"]
    assert summary["templates"]["template_matches"] > reuse  # more formula matches dropped than reuse kept


# ------------------------------------------------------------------------------------- the command line

def site_pages(tmp_path: Path) -> Path:
    """Six pages of one site ending with its prose footer (no other text shared) and a page of another site."""
    footer = ("Example Daily is published by the Example Media Group in Springfield and reaches its subscribers "
              "every morning before seven o'clock, weekends and holidays included.")
    rows = [{"id": f"p{k}", "site": "https://example-daily.com/",
             "text": f"Page {k}. " + " ".join(f"w{k}x{j}" for j in range(60)) + ".\n\n" + footer} for k in range(6)]
    rows.append({"id": "q", "site": "other.org", "text": " ".join(f"q{j}" for j in range(80)) + "."})
    src = tmp_path / "pages.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return src


def find_run(tmp_path: Path, name: str, *options: str) -> tuple[dict, list[dict]]:
    out = tmp_path / name
    assert main(["find", str(site_pages(tmp_path)), "-o", str(out), "-q", "-w", "1", *options]) == 0
    return (json.loads((out / "summary.json").read_text()),
            [json.loads(x) for x in open(out / "pairs.jsonl")])


def test_cli_template_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    # the footer is the site's template by the site rule, and shared prose otherwise
    s, pairs = find_run(tmp_path, "site", "--site-field", "site")
    assert s["templates"]["by_rule"]["site"] > 0 and pairs == []
    s, pairs = find_run(tmp_path, "nosite", "--site-field", "site", "--template-rules", "shape,frequency")
    assert s["templates"]["by_rule"]["site"] == 0 and s["templates"]["by_rule"]["frequency"] > 0 and pairs == []
    assert s["parameters"]["template_rules"] == ["shape", "frequency"]  # a footer after texts found once
    s, pairs = find_run(tmp_path, "shape", "--site-field", "site", "--template-rules", "shape")
    assert s["templates"]["fingerprints"] == 0 and len(pairs) == 15  # every two pages share it
    # the user's own template text, whatever the rules
    (tmp_path / "footer.txt").write_text("Example Daily is published by the Example Media Group in Springfield")
    s, pairs = find_run(tmp_path, "user", "--template-rules", "shape", "--template", str(tmp_path / "footer.txt"))
    assert s["templates"]["by_rule"]["user"] > 0 and s["parameters"]["template_texts"] == 1
    assert pairs == []  # what remains of the footer is under 25 words
    # mistakes are named
    assert main(["find", str(site_pages(tmp_path)), "-o", str(tmp_path / "x"), "--template-rules", "shape,sites"]) == 2
    assert "sites" in capsys.readouterr().err
    assert main(["find", str(site_pages(tmp_path)), "-o", str(tmp_path / "x"), "--template",
                 str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt" in capsys.readouterr().err


def test_find_files_site_field(tmp_path: Path):
    """The Python API reads a site field as the CLI does: the footer is each site's template."""
    import doublet

    src = site_pages(tmp_path)
    with doublet.find_files([str(src)], doublet.Config(workers=1), site_field="site") as with_sites:
        assert with_sites.summary["templates"]["by_rule"]["site"] > 0 and with_sites.pairs == []
    with doublet.find_files([str(src)], doublet.Config(workers=1, template_rules=("shape",))) as without:
        assert len(without.pairs) == 15
