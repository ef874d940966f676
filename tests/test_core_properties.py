"""Invariants of the pure core (tokens, shingles, winnowing, MinHash/LSH, candidates, overlap, alignment,
clusters), checked on generated inputs with hypothesis and against naive reference implementations."""

from __future__ import annotations

import itertools
import random
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import doublet
from doublet.align import align_words, seeds, to_passages
from doublet import template
from doublet.candidates import fingerprint_pairs, lsh_pairs, split_keys
from doublet.cluster import cluster_ids, cluster_index, components
from doublet import _kernel
from doublet.fingerprints import boilerplate_mask
from doublet.minhash import optimal_bands
from doublet.tokens import ngram_hashes, tokenize
from doublet.verify import overlap

WORDS = ("putin erdogan ankara moscow syria aleppo pipeline turkish stream energy hub talks leaders agreed "
         "military operation humanitarian aid civilians city monday president said during construction "
         "nuclear plant signed agreement presence media deal plans forward major").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


# ---------------------------------------------------------------- tokens and normalization

@given(st.text(max_size=300))
def test_token_spans_are_ordered_and_inside_text(text):
    """Spans are non-empty, inside the text and in order. Words repaired out of one garbled (mojibake) chunk
    all get that chunk's raw span, so spans may coincide there, but never go backwards."""
    t = tokenize(text)
    assert len(t.starts) == len(t.ends) == len(t.hashes)
    prev_s = prev_e = 0
    for s, e in zip(t.starts.tolist(), t.ends.tolist()):
        assert 0 <= s < e <= len(text)
        assert s >= prev_s and e >= prev_e
        prev_s, prev_e = s, e


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=40), st.sampled_from([" ", "  ", "\n", " \n "]))
def test_noise_does_not_change_words(words, sep):
    """Case, curly quotes, hard wraps, glued sentences and full-width forms leave the word hashes unchanged."""
    plain = " ".join(words) + "."
    base = tokenize(plain).hashes.tolist()
    variants = [
        plain.upper(),
        sep.join(words) + ".",
        '"' + plain + '"',
        "\u201c" + plain + "\u201d",
        plain.replace(" ", ". ", 1).replace(". ", ".", 1),  # a glued sentence boundary
        unicodedata.normalize("NFKC", plain).translate({c: c + 0xFEE0 for c in range(0x61, 0x7B)}),  # full width
    ]
    for v in variants:
        assert tokenize(v).hashes.tolist() == base, v


def test_mojibake_and_accents_are_repaired_with_raw_offsets():
    clean = "Russia\u2019s caf\u00e9 \u00a9 Reuters said \u201cyes\u201d"
    # UTF-8 read as Windows-1252 (bytes it leaves undefined read as Latin-1): 'Russiaâ€™s cafÃ© Â© ...'
    garbled = "".join(bytes([c]).decode("cp1252", errors="ignore") or chr(c) for c in clean.encode("utf-8"))
    tc, tg = tokenize(clean), tokenize(garbled)
    assert tg.hashes.tolist() == tc.hashes.tolist()
    # offsets point into the garbled raw text and cover the garbled word
    words = [garbled[s:e] for s, e in zip(tg.starts.tolist(), tg.ends.tolist())]
    assert words[0] == "Russia" and "caf" in words[2]
    assert tokenize("cafe").hashes.tolist() == tokenize("caf\u00e9").hashes.tolist()  # accents dropped


def test_scripts():
    assert len(tokenize("Привет мир, как дела").hashes) == 4
    assert len(tokenize("Καλημέρα κόσμε").hashes) == 2
    assert len(tokenize("مَرْحَبًا بالعالم").hashes) == 2
    assert tokenize("مَرْحَبًا").hashes.tolist() == tokenize("مرحبا").hashes.tolist()  # harakat dropped
    assert len(tokenize("東京は日本の首都です").hashes) == 10  # CJK by characters
    assert tokenize("inter-\nnational").hashes.tolist() == tokenize("international").hashes.tolist()


@given(st.lists(st.integers(0, 2**64 - 1), max_size=50), st.integers(1, 6))
def test_ngram_hash_count(values, n):
    h = ngram_hashes(np.array(values, dtype=np.uint64), n)
    assert len(h) == (0 if not values else max(1, len(values) - n + 1))


# ---------------------------------------------------------------- winnowing

@given(st.integers(0, 10_000), st.integers(1, 10), st.integers(1, 6))
@settings(max_examples=60)
def test_winnowing_guarantee(seed, window, n):
    """Any shared run of window + n - 1 words yields a shared fingerprint."""
    rng = random.Random(seed)
    shared = [rng.choice(WORDS) for _ in range(window + n - 1)]
    a = [rng.choice(WORDS) for _ in range(rng.randint(0, 30))] + shared + [rng.choice(WORDS) for _ in range(5)]
    b = [rng.choice(WORDS) for _ in range(rng.randint(0, 30))] + shared
    fa = set(np.frombuffer(_kernel.prints_from_hashes(tokenize(" ".join(a)).hashes, n, window, 16, 1)[2],
                           np.uint64).tolist())
    fb = set(np.frombuffer(_kernel.prints_from_hashes(tokenize(" ".join(b)).hashes, n, window, 16, 1)[2],
                           np.uint64).tolist())
    assert fa & fb


@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=60), st.integers(1, 8))
def test_winnowing_matches_reference(values, window):
    """The kernel's winnowing equals the definition: rightmost minimum of every window, deduplicated."""
    words = np.array(values, dtype=np.uint64)
    shingles = ngram_hashes(words, 1)
    _, _, fph, fpp, _ = _kernel.prints_from_hashes(words, 1, window, 8, 1)
    s = shingles.tolist()
    if len(s) <= window:
        want = [max(range(len(s)), key=lambda i: (-s[i], i))]
    else:
        want = sorted({max(range(st_, st_ + window), key=lambda i: (-s[i], i)) for st_ in range(len(s) - window + 1)})
    assert np.frombuffer(fpp, np.uint32).tolist() == want
    assert np.frombuffer(fph, np.uint64).tolist() == [s[i] for i in want]


def _words_text(lines: list[int]) -> tuple[str, "doublet.tokens.Tokens"]:
    """A text of lines with the given numbers of words ('w0 w1 ...'), and its tokens."""
    text = "\n".join(" ".join(f"w{k}" for k in range(n)) for n in lines)
    return text, tokenize(text)


def test_boilerplate_mask_bridges_close_fingerprints():
    text, tokens = _words_text([30])
    mask = boilerplate_mask(text, tokens, np.array([2, 8, 25]), shingle_size=3, window=6).astype(bool)
    assert mask[2:11].all() and not mask[11:17].any() and mask[25:].all()


def test_boilerplate_mask_widens_to_whole_lines():
    """A boilerplate run that starts or ends within window + shingle_size - 1 words of a line break (or of the
    text's start or end) is widened to it; runs further from a break are left as they are."""
    text, tokens = _words_text([20, 20, 20])  # lines: words 0-19, 20-39, 40-59
    mask = boilerplate_mask(text, tokens, np.array([44, 50]), 3, 6).astype(bool)
    assert mask[40:].all() and not mask[:40].any()  # back to the line start, on to the end of the text
    mask = boilerplate_mask(text, tokens, np.array([26]), 3, 6).astype(bool)
    assert mask.nonzero()[0].tolist() == list(range(20, 29))  # 6 words after the break: widened back only
    text, tokens = _words_text([30, 30, 30])
    mask = boilerplate_mask(text, tokens, np.array([44]), 3, 6).astype(bool)
    assert mask.nonzero()[0].tolist() == [44, 45, 46]  # mid-line, far from both breaks


# ---------------------------------------------------------------- MinHash and LSH

@pytest.mark.parametrize("size", [20, 100, 1000])
def test_minhash_estimates_jaccard(size):
    """One-permutation MinHash with densification: the share of equal values estimates the Jaccard index,
    for small sets (many empty bins, densified) and large ones; averaged over seeds the bias is small."""
    rng = np.random.default_rng(size)
    universe = rng.integers(0, 2**63, size=3 * size, dtype=np.uint64)
    a, b = universe[:size], universe[size // 2: size // 2 + size]  # Jaccard 1/3
    true = (size - size // 2) / (size + size // 2)
    ests = []
    for seed in range(40):
        sa = np.frombuffer(_kernel.prints_from_hashes(a, 1, 4, 128, seed)[0], np.uint32)
        sb = np.frombuffer(_kernel.prints_from_hashes(b, 1, 4, 128, seed)[0], np.uint32)
        ests.append(float(np.mean(sa == sb)))
    assert abs(np.mean(ests) - true) < 0.03
    assert max(abs(e - true) for e in ests) < 0.2


def test_optimal_bands_respect_budget_and_threshold():
    for t in (0.3, 0.5, 0.7, 0.9):
        b, r = optimal_bands(t, 128)
        assert b * r <= 128
        # the S-curve's inflection (1/b)^(1/r) lies near the threshold
        assert abs((1 / b) ** (1 / r) - t) < 0.15
    assert optimal_bands(0.9, 128)[1] > optimal_bands(0.3, 128)[1]


@given(st.lists(st.integers(0, 5), min_size=2, max_size=40), st.integers(2, 6))
def test_lsh_pairs_match_naive_buckets(bucket_of_doc, max_bucket):
    keys = np.array(bucket_of_doc, dtype=np.uint64)
    docs = np.arange(len(keys), dtype=np.int64)
    got = {tuple(p) for p in zip(*map(np.ndarray.tolist, split_keys(lsh_pairs(keys, docs, max_bucket))))}
    want = set()
    for k in set(bucket_of_doc):
        members = [d for d, kk in enumerate(bucket_of_doc) if kk == k]
        if len(members) <= max_bucket:
            want |= set(itertools.combinations(members, 2))
        else:
            want |= {(members[0], m) for m in members[1:]}
    assert got == want


@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 14), st.integers(0, 40), st.integers(0, 3)), max_size=120),
       st.integers(2, 5), st.integers(1, 3), st.integers(1, 30), st.integers(-1, 12),
       st.lists(st.integers(0, 2), min_size=15, max_size=15), st.booleans(), st.booleans())
def test_fingerprint_pairs_match_naive(occurrences, max_df, min_shared, min_span, drift, doc_sites, shape_on, site_on):
    """Candidate pairs and templates equal a naive reading of the rules (template.decide and the band rule)."""
    occurrences = sorted(occurrences, key=lambda o: (o[1], o[2]))  # engines give rows in (doc, position) order
    hashes = np.array([h for h, _, _, _ in occurrences], dtype=np.uint64)
    docs = np.array([d for _, d, _, _ in occurrences], dtype=np.int64)
    pos = np.array([p for _, _, p, _ in occurrences], dtype=np.uint32)
    flags = np.array([f for _, _, _, f in occurrences], dtype=np.uint8)
    rules = template.Rules(shape=shape_on, site=site_on, frequency=False)
    got = fingerprint_pairs(hashes, docs, pos, flags, max_df, min_shared, min_span, 5, drift, rules=rules,
                            site_of_doc=np.array(doc_sites, np.int64))
    first: dict[tuple[int, int], tuple[int, int]] = {}  # (hash, doc) -> first (position, flag)
    for h, d, p, f in occurrences:
        first.setdefault((h, d), (p, f))
    holders: dict[int, set[int]] = {}
    for h, d in first:
        holders.setdefault(h, set()).add(d)

    def is_template(h: int) -> bool:
        ds = holders[h]
        votes = sum(first[(h, d)][1] == 1 for d in ds)
        weak = sum(first[(h, d)][1] == 2 for d in ds)
        tail = sum(first[(h, d)][1] == 3 for d in ds)
        sites = {doc_sites[d] for d in ds}
        return len(ds) >= 2 and (
            (shape_on and ((votes >= 0.5 * len(ds) and votes >= template.SHAPE_MIN_VOTES)
                           or (len(ds) >= template.EDGE_MIN_DF and votes + weak >= template.EDGE_SHARE * len(ds))
                           or (len(ds) >= template.TAIL_MIN_DF
                               and votes + weak + tail >= template.TAIL_SHARE * len(ds))))
            or (site_on and len(sites) == 1 and 0 not in sites))

    shared: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for h, ds in holders.items():
        if 2 <= len(ds) <= max_df and not is_template(h):
            for i, j in itertools.combinations(sorted(ds), 2):
                shared.setdefault((i, j), []).append((first[(h, i)][0], first[(h, j)][0]))

    def spread(ps: list[int]) -> int:
        return max(ps) - min(ps) + 5

    def supports(o: list[tuple[int, int]]) -> bool:
        return len(o) >= min_shared and max(spread([a for a, _ in o]), spread([b for _, b in o])) >= min_span

    def banded(o: list[tuple[int, int]]) -> list[tuple[int, int]]:  # occurrences with a band-mate
        o = sorted(o, key=lambda ab: ab[1] - ab[0])
        cuts = [k for k in range(1, len(o)) if (o[k][1] - o[k][0]) - (o[k - 1][1] - o[k - 1][0]) > drift]
        return [x for s, e in zip([0, *cuts], [*cuts, len(o)]) if e - s >= 2 for x in o[s:e]]

    want = {p: len(o) for p, o in shared.items()
            if supports(o) and (drift < 0 or (len(banded(o)) >= 2 and supports(banded(o))))}
    gi, gj = split_keys(got.pairs)
    assert dict(zip(zip(gi.tolist(), gj.tolist()), got.shared.tolist())) == want
    assert set(got.template.tolist()) == {h for h in holders if is_template(h)}


# ---------------------------------------------------------------- exact overlap

@given(st.sets(st.integers(0, 60)), st.sets(st.integers(0, 60)))
def test_overlap_matches_sets(a, b):
    ov = overlap(np.array(sorted(a), dtype=np.uint64), np.array(sorted(b), dtype=np.uint64))
    if not a or not b:
        assert ov.jaccard == 0.0
        return
    assert ov.shared == len(a & b)
    assert ov.jaccard == len(a & b) / len(a | b)
    assert ov.containment_a == len(a & b) / len(a)
    assert ov.containment_b == len(a & b) / len(b)


# ---------------------------------------------------------------- clusters

@given(st.integers(1, 30), st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=40))
def test_components_match_naive_union_find(n, edges):
    edges = [(i % n, j % n) for i, j in edges]
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for i, j in edges:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    want = [min(k for k in range(n) if find(k) == find(x)) for x in range(n)]
    i = np.array([e[0] for e in edges], dtype=np.int64)
    j = np.array([e[1] for e in edges], dtype=np.int64)
    assert components(n, i, j).tolist() == want


def test_cluster_ids_are_smallest_member_ids():
    ids = ["d", "b", "c", "a", "e"]
    assert cluster_ids(ids, np.array([0, 2]), np.array([1, 3])) == ["b", "b", "a", "a", "e"]
    assert cluster_index(ids, np.array([0, 2]), np.array([1, 3])).tolist() == [1, 1, 3, 3, 4]


# ---------------------------------------------------------------- alignment

@given(st.integers(0, 100_000))
@settings(max_examples=40, deadline=None)
def test_alignment_finds_an_embedded_edited_passage(seed):
    """A 40-word passage copied into unrelated text with one word changed is found, at the right offsets."""
    rng = random.Random(seed)
    passage = [rng.choice(WORDS) + str(rng.randint(0, 9)) for _ in range(40)]
    edited = list(passage)
    edited[rng.randint(5, 34)] = "CHANGED"
    pre_a, post_a = sentence(rng, rng.randint(0, 50)), sentence(rng, rng.randint(0, 50))
    pre_b = "zz " * rng.randint(0, 60)
    a = f"{pre_a} {' '.join(passage)}. {post_a}"
    b = f"{pre_b}\n{' '.join(edited)}.\n\nunrelated closing words here"
    r = doublet.compare(a, b)
    assert r.kind == "reuse"
    assert len(r.passages) == 1
    p = r.passages[0]
    start_a = a.index(passage[0]) if pre_a == "" else len(pre_a) + 1
    start_b = b.index(edited[0], len(pre_b))
    assert abs(p.a_start - start_a) <= 30 and abs(p.b_start - start_b) <= 30
    assert abs((p.a_end - p.a_start) - len(" ".join(passage))) <= 40


def test_alignment_never_enters_boilerplate():
    rng = random.Random(7)
    story = " ".join(rng.choice(WORDS) + str(rng.randint(0, 99)) for _ in range(60))
    footer = "all news log in to leave a comment share this story on social media subscribe to our newsletter"
    a, b = f"{story} {footer}", f"{story}\n{footer}"
    ta, tb = tokenize(a), tokenize(b)
    n_story = len(tokenize(story))
    mask_a = np.zeros(len(ta), bool)
    mask_a[n_story:] = True
    mask_b = np.zeros(len(tb), bool)
    mask_b[n_story:] = True
    spans = align_words(seeds(ta.hashes, mask_a, 3), seeds(tb.hashes, mask_b, 3), mask_a, mask_b, seed_size=3,
                        max_gap=8, min_passage_words=15, min_identity=0.65)
    assert spans and all(w.a1 <= n_story and w.b1 <= n_story for w in spans)
    for p in to_passages(spans, ta, tb, a, b):
        assert p.a_end <= len(story) + 1 and p.b_end <= len(story) + 1


def test_unrelated_texts_share_nothing():
    rng = random.Random(1)
    r = doublet.compare(sentence(rng, 200), sentence(random.Random(2), 200))
    assert r.kind is None and not r.passages


@given(st.lists(st.integers(0, 2**64 - 1), max_size=60), st.integers(1, 6), st.integers(1, 8))
def test_doc_view_matches_the_fingerprint_stage(values, n, window):
    """Verification's view of a document has the fingerprints the fingerprint stage made, and its shingle set."""
    words = np.array(values, dtype=np.uint64)
    shingles, fph, fpp = _kernel.doc_view(words, n, window)
    _, _, h, p, _ = _kernel.prints_from_hashes(words, n, window, 8, 1)
    assert (fph, fpp) == (h, p)
    assert np.frombuffer(shingles, np.uint64).tolist() == np.unique(ngram_hashes(words, n)).tolist()
