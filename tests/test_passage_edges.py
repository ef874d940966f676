"""Passage edges on token boundaries (align.to_passages, the C kernel's ``passages``): never inside a number,
an abbreviation, a URL or an e-mail address; extended over the rest of such a token when the other text has it
too, else moved past it; extended to a clause's end over words both texts share, never into text that differs."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

import doublet
from doublet.align import WordSpan, to_passages
from doublet.tokens import tokenize

STORY = ("The central bank said on Tuesday that it would keep interest rates unchanged for another month while "
         "it studied new figures on inflation and growth")


def convert(a: str, b: str, a0: int, a1: int, b0: int, b1: int, **masks) -> list[tuple[str, str]]:
    """The texts of the passages one word span (word indices) becomes."""
    ps = to_passages([WordSpan(a0, a1, b0, b1, a1 - a0)], tokenize(a), tokenize(b), a, b, 3, **masks)
    return [(a[p.a_start:p.a_end], b[p.b_start:p.b_end]) for p in ps]


def words(text: str) -> list[str]:
    t = tokenize(text)
    return [text[s:e] for s, e in zip(t.starts.tolist(), t.ends.tolist())]


# ---------------------------------------------------------------- numbers

def test_start_inside_a_decimal_is_extended_when_the_other_text_has_it():
    a = "Alpha beta 29.1 mln dlrs were paid to the company for its shares on Monday"
    b = a.replace("Alpha beta", "Quite other")
    assert words(a)[3] == "1"
    assert convert(a, b, 3, 12, 3, 12) == [("29.1 mln dlrs were paid to the company for its shares on Monday",) * 2]


def test_start_inside_a_decimal_moves_past_it_when_the_other_text_differs():
    a = "Alpha beta 29.1 mln dlrs were paid to the company for its shares on Monday"
    b = "Quite other 28.1 mln dlrs were paid to the company for its shares on Monday"
    assert convert(a, b, 3, 12, 3, 12) == [("mln dlrs were paid to the company for its shares on Monday",) * 2]


def test_end_inside_a_decimal():
    a = "Net profit of the company rose to 29.1 mln dlrs in the year"
    same = convert(a, a, 0, 8, 0, 8)  # ends after "29"; the same words follow up to the text's end
    assert same == [(a, a)]
    b = a.replace("mln dlrs in the year", "bln stg last week")
    assert convert(a, b, 0, 8, 0, 8) == [("Net profit of the company rose to 29.1",) * 2]  # not further
    other = convert(a, a.replace("29.1", "29.5"), 0, 8, 0, 8)
    assert other == [("Net profit of the company rose to",) * 2]


def test_thousands_separators():
    a = "He paid 1,250,000 dlrs for the shares of the company on Monday and then left"
    assert convert(a, a, 0, 4, 0, 4) == [("He paid 1,250,000",) * 2]  # ended after "1,250"
    assert convert(a, a.replace("1,250,000", "1,250,500"), 0, 4, 0, 4) == [("He paid",) * 2]
    assert convert(a, a.replace("1,250,000", "1.250.000"), 0, 4, 0, 4) == [("He paid",) * 2]  # other joiners


def test_fraction():
    a = "The bonds were quoted at 3/4 pct above the rate set by the bank"
    b = "The notes were quoted at 1/4 pct above the rate set by the bank"
    assert convert(a, b, 6, 14, 6, 14) == [("pct above the rate set by the bank",) * 2]  # started at "4"


def test_a_sentence_end_is_not_read_inside_a_number():
    """A passage ending "… rose to 29.1 mln" where the texts part lost "1 mln" to the sentence-end trim before."""
    a = f"{STORY}. Net profit rose to 29.1 mln dlrs from 20.3 mln a year earlier, it said."
    b = f"{STORY}. Net profit rose to 29.1 mln stg after several quarters of losses at its mines in Peru."
    r = doublet.compare(a, b)
    assert len(r.passages) == 1
    p = r.passages[0]
    assert a[p.a_start:p.a_end].endswith("rose to 29.1 mln") and b[p.b_start:p.b_end].endswith("29.1 mln")


# ---------------------------------------------------------------- abbreviations

def test_start_inside_dotted_initials():
    a = "Asked why, U.S. officials said on Monday that the dollar would fall further"
    b = "When asked, U.S. officials said on Monday that the dollar would fall further"
    assert words(a)[3] == "S"
    assert convert(a, b, 3, 13, 3, 13) == [("U.S. officials said on Monday that the dollar would fall further",) * 2]
    c = b.replace("U.S.", "A.S.")
    assert convert(a, c, 3, 13, 3, 13) == [("officials said on Monday that the dollar would fall further",) * 2]


def test_abbreviation_dot_before_a_lower_case_word_is_no_sentence_end():
    """"U.S. officials" and "Inc. said" stay whole at a passage's start (the trim took them for sentence ends)."""
    for lead in ("U.S. officials", "Acme Inc. said"):
        a = f"Something else entirely. {lead} {STORY}"
        b = f"Another text altogether here. {lead} {STORY}"
        r = doublet.compare(a, b)
        assert len(r.passages) == 1 and a[r.passages[0].a_start:].startswith(lead), lead


def test_dotted_initials_before_a_name_are_no_sentence_end():
    """"U.S. Agriculture Secretary" and "E.H. Clark" open a passage whole; "… the U.S. The …" ends a sentence."""
    for lead in ("U.S. Agriculture Secretary", "E.H. Clark, chairman of the company,"):
        a = f"Something else entirely.\n{lead} {STORY}"
        b = f"{lead} {STORY}"
        r = doublet.compare(a, b)
        assert len(r.passages) == 1 and a[r.passages[0].a_start:].startswith(lead), lead
    a = f"Grain was shipped to the U.S. {STORY}"  # STORY opens with "The"
    b = f"Many tonnes were sold in U.S. {STORY}"
    r = doublet.compare(a, b)
    assert len(r.passages) == 1 and a[r.passages[0].a_start:].startswith("The central bank")


def test_glued_sentence_is_not_a_host_name():
    """"picture.In this" (a sentence glued to the next) is two sentences, not a host name."""
    a = f"Nobody saw too dark a picture.In {STORY}"
    b = f"The board members said nothing.\n\nIn {STORY}"
    r = doublet.compare(a, b)
    assert len(r.passages) == 1 and a[r.passages[0].a_start:].startswith("In The central")


def test_listed_abbreviation_keeps_its_dot():
    a = "The shares were bought by Acme Corp. and then sold again"
    b = "The shares were bought by Acme Corp. but never sold again"
    assert convert(a, b, 0, 7, 0, 7) == [("The shares were bought by Acme Corp.",) * 2]


# ---------------------------------------------------------------- URLs and e-mail addresses

def test_url_and_email_are_never_cut():
    """Every span of words around a URL and an e-mail address: no edge inside either (they hold no words)."""
    a = "Details at http://www.reuters.com/article/29.1-mln or from desk@reuters.com and on reuters.com today"
    t = tokenize(a)
    assert "http" not in words(a) and "desk" not in words(a)
    addresses = spans_of(a, ["http://www.reuters.com/article/29.1-mln", "desk@reuters.com", "reuters.com"])
    assert len(addresses) == 3
    for a0 in range(len(t)):
        for a1 in range(a0 + 1, len(t) + 1):
            for p in to_passages([WordSpan(a0, a1, a0, a1, a1 - a0)], t, t, a, a, 3):
                assert not any(s < pos < e for s, e in addresses for pos in (p.a_start, p.a_end)), (a0, a1)


def test_host_name_edge():
    a = "Readers of reuters.com said the site was slow on Monday morning"
    b = "Visitors to reuters.com said the site was slow on Monday morning"
    assert words(a)[3] == "com"
    assert convert(a, b, 3, 11, 3, 11) == [("reuters.com said the site was slow on Monday morning",) * 2]
    c = b.replace("reuters.com", "nytimes.com")
    assert convert(a, c, 3, 11, 3, 11) == [("said the site was slow on Monday morning",) * 2]


# ---------------------------------------------------------------- clauses

def test_end_extends_to_the_clause_end_over_shared_words():
    a = "The company said it would buy the rest of the shares, it said in a statement"
    b = a.replace("statement", "release")
    assert convert(a, b, 0, 8, 0, 8) == [("The company said it would buy the rest of the shares,",) * 2]


def test_no_extension_into_text_that_differs():
    a = "The company said it would buy the rest of the shares, it said in a statement"
    b = a.replace("of the shares", "of the stock")
    assert convert(a, b, 0, 8, 0, 8) == [("The company said it would buy the rest",) * 2]


def test_no_extension_into_boilerplate():
    import numpy as np
    a = "The company said it would buy the rest of the shares, it said in a statement"
    mask = np.zeros(len(tokenize(a)), np.uint8)
    mask[9:] = 1  # "the shares it said …"
    got = convert(a, a, 0, 8, 0, 8, mask_a=mask, mask_b=mask)
    assert got == [("The company said it would buy the rest",) * 2]


def test_start_goes_back_to_the_clause_start():
    a = "Prices fell. The company said it would buy the rest of the shares on Monday"
    b = "Prices rose. The company said it would buy the rest of the shares on Monday"
    assert convert(a, b, 4, 14, 4, 14) == [("The company said it would buy the rest of the shares on Monday",) * 2]


def test_extension_stops_at_another_passage():
    a = "The company said it would buy the rest of the shares, it said in a statement on Monday"
    t = tokenize(a)
    spans = [WordSpan(0, 8, 0, 8, 8), WordSpan(9, 17, 9, 17, 8)]
    ps = to_passages(spans, t, t, a, a, 3)
    assert [a[p.a_start:p.a_end] for p in ps] == ["The company said it would buy the rest",
                                                   "the shares, it said in a statement on Monday"]


# ---------------------------------------------------------------- property

COMPOUND_SAMPLES = ["29.1", "1,250", "3/4", "9-13/16", "14:30", "1,250,000.50", "U.S.", "U.K.", "a.m.", "Inc.",
                    "Corp.", "Jan.", "reuters.com", "news.bbc.co.uk", "http://www.example.com/a/b.html",
                    "www.example.org", "desk@example.com", "john.smith@mail.example.co.uk"]
VARIANTS = {"29.1": "29.5", "1,250": "1,350", "3/4": "1/4", "U.S.": "U.N.", "14:30": "15:30",
            "reuters.com": "reuters.net", "desk@example.com": "desk@example.org"}
PLAIN = ["the", "bank", "said", "rates", "profit", "rose", "mln", "dlrs", "shares", "company", "year", "pct",
         "officials", "on", "Monday", "and", "of", "to", "in", "a", "week", "market", "prices", "trade"]


def spans_of(text: str, tokens: list[str]) -> list[tuple[int, int]]:
    """Character spans of every whitespace-delimited chunk of ``text`` that is one of ``tokens``."""
    out, pos = [], 0
    for chunk in text.split():
        pos = text.index(chunk, pos)
        if chunk in tokens:
            out.append((pos, pos + len(chunk)))
        pos += len(chunk)
    return out


def random_text(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        w = rng.choice(COMPOUND_SAMPLES) if rng.random() < 0.3 else rng.choice(PLAIN)
        if rng.random() < 0.08 and w in PLAIN:
            w += rng.choice([",", ".", ";"])
        out.append(w)
    return out


def edited(rng: random.Random, toks: list[str]) -> list[str]:
    out = []
    for w in toks:
        r = rng.random()
        if r < 0.1 and w in VARIANTS:
            out.append(VARIANTS[w])
        elif r < 0.15:
            out.append(rng.choice(PLAIN))
        else:
            out.append(w)
    return out


def check(a: str, b: str, passages) -> None:
    prev = -1
    for p in passages:
        assert 0 <= p.a_start < p.a_end <= len(a) and 0 <= p.b_start < p.b_end <= len(b)
        assert p.a_start >= prev
        prev = p.a_start
        for text, ends in ((a, (p.a_start, p.a_end)), (b, (p.b_start, p.b_end))):
            for s, e in spans_of(text, COMPOUND_SAMPLES + list(VARIANTS.values())):
                for pos in ends:
                    assert not s < pos < e, (text[max(0, pos - 20):pos] + "|" + text[pos:pos + 20])


@given(st.integers(0, 10**9))
@settings(max_examples=150, deadline=None)
def test_no_boundary_inside_a_compound_token_random_spans(seed):
    """Any word spans (as alignment could give them) over texts full of compound tokens."""
    rng = random.Random(seed)
    toks = random_text(rng, rng.randint(5, 60))
    a, b = " ".join(toks), " ".join(edited(rng, toks))
    na, nb = len(tokenize(a)), len(tokenize(b))
    if min(na, nb) < 2:
        return
    spans, pos = [], 0
    while pos < min(na, nb) - 1 and len(spans) < 4:
        a0 = rng.randint(pos, min(na, nb) - 2)
        a1 = rng.randint(a0 + 1, min(na, nb, a0 + 25))
        shift = rng.randint(0, min(2, nb - a1)) if not spans else 0
        spans.append(WordSpan(a0, a1, a0 + shift, a1 + shift, a1 - a0))
        pos = a1 + shift + 1
    ps = to_passages(spans, tokenize(a), tokenize(b), a, b, 3)
    assert len(ps) <= len(spans)
    check(a, b, ps)


@given(st.integers(0, 10**9))
@settings(max_examples=60, deadline=None)
def test_no_boundary_inside_a_compound_token_end_to_end(seed):
    """doublet.compare on a shared edited passage inside unrelated text."""
    rng = random.Random(seed)
    shared = random_text(rng, rng.randint(20, 80))
    a = " ".join(random_text(rng, rng.randint(0, 20)) + shared + random_text(rng, rng.randint(0, 20)))
    b = " ".join(random_text(rng, rng.randint(0, 20)) + edited(rng, shared) + random_text(rng, rng.randint(0, 20)))
    check(a, b, doublet.compare(a, b).passages)
