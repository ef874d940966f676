"""``find`` of two documents reports exactly what ``compare`` of them says, at any min_words /
min_passage_words: the candidate rule follows the verifier (:func:`doublet.config.candidate_rule`).

Documents are built from real sentences (the example seeds, split into three disjoint pools: filler for each
document and the shared passage), with a shared passage of random length at least ``max(min_words,
min_passage_words)`` words and random edits spaced as the rule's guarantee states."""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import doublet
from doublet.config import CandidateRuleWarning, candidate_rule
from doublet.tokens import ngram_hashes, tokenize

SEEDS = Path(__file__).resolve().parent.parent / "examples" / "seeds"


@lru_cache(maxsize=1)
def pools() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Three disjoint pools of real sentences (filler of a, filler of b, passages), sharing no 5-gram: the
    second seed reprints parts of the first, so its sentences that share a 5-gram with earlier ones are left
    out."""
    seen: set[int] = set()
    kept: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for s in re.split(r"(?<=[.!?])[\"']?\s*(?=[A-Z\"])|\n+", text):
            s = " ".join(s.split())
            grams = set(ngram_hashes(tokenize(s).hashes, 5).tolist())
            if len(s.split()) >= 6 and not grams & seen:
                kept.append(s)
            seen |= grams
    return tuple(kept[0::3]), tuple(kept[1::3]), tuple(kept[2::3])


def passage_words(start: int, count: int) -> list[str]:
    """``count`` consecutive words of the passage pool (cyclic), from word ``start``."""
    words = " ".join(pools()[2]).split()
    return [words[(start + i) % len(words)] for i in range(count)]


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, doublet.Config]:
    min_words = draw(st.integers(10, 40))
    min_passage = draw(st.integers(8, 25))
    cfg = doublet.Config(min_words=min_words, min_passage_words=min_passage, workers=1)
    rule = cfg.rule
    spacing, n = rule.edit_spacing, rule.passage_words
    n_edits = draw(st.integers(0, 3))
    runs = [draw(st.integers(spacing, spacing + 3)) for _ in range(n_edits + 1)]  # passages near the shortest
    if sum(runs) < n:
        runs[-1] += n - sum(runs) + draw(st.integers(0, 3))
    words = passage_words(draw(st.integers(0, 10_000)), sum(runs))
    side_a: list[str] = []
    side_b: list[str] = []
    at = 0
    for k, r in enumerate(runs):
        side_a += words[at:at + r]
        side_b += words[at:at + r]
        at += r
        if k < n_edits:  # an edit between two runs: substitution, insertion or deletion of a few words
            kind = draw(st.sampled_from(["substitute", "insert", "delete"]))
            extra = [f"qx{draw(st.integers(0, 999))}" for _ in range(draw(st.integers(1, 3)))]
            if kind == "substitute":
                side_a.append("zq" + extra[0])
                side_b.append(extra[0])
            elif kind == "insert":
                side_b += extra
            else:
                side_a += extra
    fill_a, fill_b, _ = pools()
    before_a = draw(st.lists(st.sampled_from(fill_a), max_size=4))
    after_a = draw(st.lists(st.sampled_from(fill_a), max_size=4))
    before_b = draw(st.lists(st.sampled_from(fill_b), max_size=4))
    after_b = draw(st.lists(st.sampled_from(fill_b), max_size=4))
    text_a = " ".join([*before_a, " ".join(side_a) + ".", *after_a])
    text_b = "\n".join([*before_b, '"' + " ".join(side_b) + '"', *after_b])
    return text_a, text_b, cfg


@settings(max_examples=40)
@given(cases())
def test_find_reports_what_compare_says(case: tuple[str, str, doublet.Config]) -> None:
    text_a, text_b, cfg = case
    said = doublet.compare(text_a, text_b, cfg)
    found = doublet.find([("a", text_a), ("b", text_b)], cfg).pairs
    event(f"compare: {said.kind}")
    if said.kind is None:
        assert found == []
    else:  # as reported (pairs.jsonl rounds the figures to 4 decimals)
        assert [p.to_dict() for p in found] == [said.to_dict()]


def test_quote_of_min_words_is_found_at_low_settings() -> None:
    """The issue's case: a 15-word quote inside other text, --min-words 15 --min-passage-words 12."""
    fill_a, fill_b, _ = pools()
    quote = " ".join(passage_words(40, 15))
    text_a = " ".join(fill_a[:4]) + " " + quote + ". " + " ".join(fill_a[4:8])
    text_b = " ".join(fill_b[:3]) + ' "' + quote + '" ' + " ".join(fill_b[3:6])
    cfg = doublet.Config(min_words=15, min_passage_words=12, workers=1)
    said = doublet.compare(text_a, text_b, cfg)
    assert said.kind == "reuse"
    assert [p.to_dict() for p in doublet.find([("a", text_a), ("b", text_b)], cfg).pairs] == [said.to_dict()]


def test_derived_rule_keeps_the_defaults() -> None:
    rule = doublet.Config().rule
    assert (rule.window, rule.min_shared, rule.min_span, rule.edit_spacing) == (6, 2, 15, 10) and rule.guaranteed
    assert doublet.Config().to_dict()["window"] == 6 and doublet.Config().to_dict()["min_shared"] == 2
    low = doublet.Config(min_words=15, min_passage_words=12).rule
    assert (low.window, low.min_shared, low.min_span) == (2, 2, 12) and low.guaranteed


@pytest.mark.parametrize("k", [3, 5, 8])
@pytest.mark.parametrize("n", [6, 10, 15, 25, 40, 100])
@pytest.mark.parametrize("span", [5, 12, 15, 30])
def test_derived_window_meets_its_guarantee(k: int, n: int, span: int) -> None:
    """The derived window puts two fingerprints spread over min_span words in every verbatim passage of
    passage_words words (the winnowing bounds), whenever the passage holds two shingles."""
    rule = candidate_rule(k, n, span)
    w, big = rule.window, rule.passage_words
    if big - k + 1 >= 2:
        assert rule.guaranteed
        assert (big - k + 1) // w >= 2 and big - 2 * w + 2 >= rule.min_span
    else:
        assert not rule.guaranteed


def test_explicit_window_is_honoured_with_a_warning() -> None:
    with pytest.warns(CandidateRuleWarning, match="window = 9"):
        cfg = doublet.Config(window=9)
    assert cfg.rule.window == 9 and not cfg.rule.guaranteed
    with pytest.warns(CandidateRuleWarning, match="min_shared = 3"):
        doublet.Config(min_shared=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert doublet.Config(window=4).rule.guaranteed  # narrower than derived: the guarantee holds
        doublet.Config.from_dict(doublet.Config().to_dict())  # a run's summary reads back without a warning


def test_verbatim_passage_brute_force() -> None:
    """Winnowing bound behind the rule, checked by brute force on random hashes: every verbatim run of
    passage_words shingle words holds >= 2 fingerprints spread over >= min_span words."""
    import numpy as np

    from doublet import _kernel

    rng = np.random.default_rng(3)
    for k, n, span in [(5, 25, 15), (5, 15, 12), (5, 15, 15), (5, 20, 15), (3, 12, 8)]:
        rule = candidate_rule(k, n, span)
        for _ in range(200):
            words = rng.integers(1, 2**63, size=n + 30, dtype=np.uint64)
            at = int(rng.integers(0, 30))
            _, h, p = _kernel.doc_view(words, k, rule.window)
            pos = np.frombuffer(p, np.uint32).astype(np.int64)
            inside = pos[(pos >= at) & (pos + k <= at + n)]
            assert inside.shape[0] >= 2
            assert inside.max() - inside.min() + k >= rule.min_span
