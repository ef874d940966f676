"""The local engine gives the same answer however it is run: one or several workers, with or without a
memory budget (which changes how fingerprints are partitioned on disk); and it cleans up after itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import doublet
from doublet.attribution import attribute, attribute_scored, pair_credit
from doublet.engines import local

GOLD = Path(__file__).resolve().parents[2] / "shared" / "bench" / "dev-reuters"


@pytest.fixture(scope="module")
def docs():
    if not (GOLD / "corpus.jsonl").exists():
        pytest.skip("../shared/bench is not present")
    with open(GOLD / "corpus.jsonl", encoding="utf-8") as f:
        return [doublet.Document(r["id"], r["text"]) for r in map(json.loads, f)][:1500]


def _answer(result: doublet.Result) -> tuple[list[dict], list[str], list[str]]:
    return [p.to_dict() for p in result.pairs], result.clusters, result.near_duplicate_clusters


def test_same_answer_for_workers_and_memory_budgets(docs, tmp_path):
    base = local.run(docs, doublet.Config(workers=1))
    assert base.summary["counts"]["pairs"] > 100
    for cfg in (doublet.Config(workers=2), doublet.Config(workers=2, memory_limit=256 << 20, tmp_dir=str(tmp_path))):
        assert _answer(local.run(docs, cfg)) == _answer(base)


def test_input_order_does_not_change_pairs_or_cluster_names(docs):
    forward = local.run(docs, doublet.Config())
    backward = local.run(list(reversed(docs)), doublet.Config())
    assert [p.to_dict() for p in forward.pairs] == [p.to_dict() for p in backward.pairs]
    assert forward.cluster_of() == backward.cluster_of()


def test_attribution_scores_summed_in_workers_match_the_written_pairs(docs):
    result = local.run(docs, doublet.Config(workers=2))
    assert result.scores is not None and result.scores[0].sum() > 0
    from_pairs = attribute(result.ids, result.clusters, result.iter_pairs(), result.dates)
    chars, share = np.zeros(len(result.ids), np.int64), np.zeros(len(result.ids))
    index = {d: k for k, d in enumerate(result.ids)}
    for p in result.iter_pairs():
        ca, cb, sa, sb = pair_credit(p)
        chars[index[p.a]] += ca
        chars[index[p.b]] += cb
        share[index[p.a]] += sa
        share[index[p.b]] += sb
    assert np.array_equal(result.scores[0], chars) and np.array_equal(result.scores[1], share)
    assert attribute_scored(result.ids, result.clusters, *result.scores, result.dates) == from_pairs
    assert result.cluster_index is not None  # the engine's integer cluster numbers give the same decision
    assert [result.ids[k] for k in result.cluster_index[0]] == result.clusters
    assert attribute_scored(result.ids, result.clusters, *result.scores, result.dates,
                            result.cluster_index[0]) == from_pairs


def test_pairs_are_sorted_and_unique(docs):
    keys = [(p.a, p.b) for p in local.run(docs, doublet.Config()).pairs]
    assert all(a < b for a, b in keys)
    assert keys == sorted(set(keys))


def test_working_folder_is_removed(docs, tmp_path):
    result = local.run(docs[:200], doublet.Config(tmp_dir=str(tmp_path)), keep_corpus=True)
    assert result.text(3) == docs[3].text
    assert any(tmp_path.iterdir())
    result.close()
    assert not any(tmp_path.iterdir())


def test_parse_size():
    assert doublet.Config.parse_size("2GB") == 2 << 30
    assert doublet.Config.parse_size("512mb") == 512 << 20
    assert doublet.Config.parse_size("1.5G") == int(1.5 * (1 << 30))
    with pytest.raises(ValueError, match="as a size"):
        doublet.Config.parse_size("lots")
