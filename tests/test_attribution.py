"""Source attribution: one original per cluster, by earliest date, else by most reused text, ties by id.

Unit tests of the pure function, a property (exactly one original per cluster, whatever the input), and the
end-to-end path: dates from document metadata through the local engine into clusters.jsonl.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import doublet
from doublet.align import Passage
from doublet.analysis import PairResult
from doublet.attribution import EARLIEST_DATE, MOST_REUSED_TEXT, SINGLETON, attribute, parse_date


def pair(a: str, b: str, a_span: tuple[int, int], b_span: tuple[int, int], ca: float = 0.5, cb: float = 0.5,
         ) -> PairResult:
    return PairResult(a, b, "reuse", 0.3, ca, cb, (Passage(a_span[0], a_span[1], b_span[0], b_span[1]),))


def originals(ids: list[str], att: object) -> dict[str, str | None]:
    return {i: r for i, o, r in zip(ids, att.original, att.reason) if o}  # type: ignore[attr-defined]


def test_singletons_are_their_own_original() -> None:
    att = attribute(["x", "y"], ["x", "y"], [])
    assert att.original == [True, True] and att.reason == [SINGLETON, SINGLETON]


def test_most_reused_text_without_dates() -> None:
    """s holds 900 characters of a's text and 400 of b's; a and b hold less of the others."""
    ids = ["a", "b", "s"]
    pairs = [pair("a", "s", (0, 900), (0, 900)), pair("b", "s", (0, 400), (1000, 1400)),
             pair("a", "b", (100, 200), (0, 100))]
    att = attribute(ids, ["a", "a", "a"], pairs)
    # credit: a <- 900 (s) + 100 (b) = 1000; b <- 400 (s) + 100 (a) = 500; s <- 900 + 400 = 1300
    assert originals(ids, att) == {"s": MOST_REUSED_TEXT}
    assert att.reason == [None, None, MOST_REUSED_TEXT]


def test_overlapping_passages_count_once() -> None:
    p = PairResult("a", "b", "reuse", 0.3, 0.5, 0.5, (Passage(0, 100, 0, 500), Passage(100, 200, 400, 450)))
    q = pair("a", "c", (0, 450), (0, 450))
    att = attribute(["a", "b", "c"], ["a"] * 3, [p, q])
    # a <- b's [0, 500) = 500 (not 550) + c's 450 = 950; b <- 200; c <- 450
    assert originals(["a", "b", "c"], att) == {"a": MOST_REUSED_TEXT}


def test_earliest_date_wins_and_undated_members_cannot() -> None:
    ids = ["a", "b", "c"]
    pairs = [pair("a", "b", (0, 900), (0, 900)), pair("a", "c", (0, 900), (0, 900))]
    dates = ["2020-08-08T17:27:41Z", "2020-08-08", None]  # b: midnight, earlier than a
    att = attribute(ids, ["a"] * 3, pairs, dates)
    assert originals(ids, att) == {"b": EARLIEST_DATE}


def test_time_zones_are_compared_in_utc() -> None:
    ids = ["a", "b"]
    dates = ["2020-01-01T10:00:00+02:00", "2020-01-01T09:00:00Z"]  # a is 08:00 UTC
    att = attribute(ids, ["a", "a"], [pair("a", "b", (0, 10), (0, 10))], dates)
    assert originals(ids, att) == {"a": EARLIEST_DATE}


def test_date_tie_is_settled_by_reused_text_then_id() -> None:
    ids = ["a", "b", "c"]
    pairs = [pair("a", "b", (0, 100), (0, 800)), pair("b", "c", (0, 800), (0, 100))]
    att = attribute(ids, ["a"] * 3, pairs, ["2021-01-01", "2021-01-01", "2020-12-31"])
    assert originals(ids, att) == {"c": EARLIEST_DATE}
    att = attribute(ids, ["a"] * 3, pairs, ["2021-01-01", "2021-01-01", "2021-01-01"])
    assert originals(ids, att) == {"a": EARLIEST_DATE}  # a <- 800, b <- 200, c <- 800: tie a/c, share tie, id
    att = attribute(ids, ["a"] * 3, pairs, ["2021-01-01", "2021-01-01", "not a date"])
    assert originals(ids, att) == {"a": EARLIEST_DATE}


def test_full_tie_goes_to_the_smallest_id_whatever_the_order() -> None:
    ids = ["z", "m", "b"]
    pairs = [pair("b", "m", (0, 50), (0, 50)), pair("m", "z", (0, 50), (0, 50)), pair("b", "z", (0, 50), (0, 50))]
    assert originals(ids, attribute(ids, ["b"] * 3, pairs)) == {"b": MOST_REUSED_TEXT}


def test_bad_input_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="parallel"):
        attribute(["a", "b"], ["a"], [])
    with pytest.raises(ValueError, match="parallel"):
        attribute(["a"], ["a"], [], ["2020-01-01", None])


def test_parse_date() -> None:
    assert parse_date("1970-01-02") == 86400.0
    assert parse_date("1970-01-01T00:01:00Z") == 60.0
    assert parse_date("yesterday") is None and parse_date(None) is None and parse_date("") is None


@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7), st.integers(0, 300)), max_size=20),
       st.lists(st.one_of(st.none(), st.dates().map(str)), min_size=8, max_size=8))
def test_exactly_one_original_per_cluster(edges: list[tuple[int, int, int]], dates: list[str | None]) -> None:
    ids = [f"d{k}" for k in range(8)]
    pairs = [pair(ids[min(i, j)], ids[max(i, j)], (0, n), (0, n)) for i, j, n in edges if i != j]
    parent = list(range(8))

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for i, j, _ in edges:
        parent[max(root(i), root(j))] = min(root(i), root(j))
    clusters = [ids[root(k)] for k in range(8)]
    att = attribute(ids, clusters, pairs, dates)
    for c in set(clusters):
        members = [k for k in range(8) if clusters[k] == c]
        assert sum(att.original[k] for k in members) == 1
        [k] = [k for k in members if att.original[k]]
        if len(members) == 1:
            assert att.reason[k] == SINGLETON
        elif any(dates[m] for m in members):
            assert att.reason[k] == EARLIEST_DATE
            assert dates[k] == min(dates[m] for m in members if dates[m])
        else:
            assert att.reason[k] == MOST_REUSED_TEXT


def test_dates_flow_from_metadata_to_clusters_jsonl(tmp_path: Path) -> None:
    story = ("The committee approved the budget for the new library on Tuesday after a long debate about the "
             "cost of the building, the opening hours and the number of staff it will need in its first year. ")
    docs = [doublet.Document("late", story * 3, {"date": "2022-03-01"}),
            doublet.Document("early", story * 3 + "An extra closing line for this copy.", {"date": "2022-02-01"}),
            doublet.Document("alone", "A different text about the weather in the mountains this week. " * 5)]
    result = doublet.find(docs, doublet.Config(workers=1))
    result.write(tmp_path)
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "clusters.jsonl").read_text().splitlines())}
    assert rows["early"]["original"] and rows["early"]["original_reason"] == EARLIEST_DATE
    assert rows["late"]["original"] is False and rows["late"]["original_reason"] is None
    assert rows["alone"]["original"] and rows["alone"]["original_reason"] == SINGLETON
