"""doublet on the labelled reprint benchmark ../shared/bench/dev-reuters, scored by the benchmark's own scorer.

Default settings only. Asserts the core engine's targets: pair F1 >= 0.90, recall >= 0.85 on gold pairs
with word 5-gram Jaccard below 0.2, passage F1 >= 0.80, and that no reported passage reaches into a
document's site header or navigation footer (so no pair rests on boilerplate). Takes about 20 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import doublet

SHARED = Path(__file__).resolve().parents[2] / "shared"
GOLD = SHARED / "bench" / "dev-reuters"
SCORER = SHARED / "bench" / "score.py"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (GOLD / "corpus.jsonl").exists(), reason="../shared/bench is not present")]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dev-reuters")
    result = doublet.find_files([str(GOLD / "corpus.jsonl")], doublet.Config(workers=2))
    result.write(out)
    proc = subprocess.run([sys.executable, str(SCORER), str(GOLD), str(out / "pairs.jsonl"), "--clusters",
                           str(out / "clusters.jsonl"), "--json-only"], capture_output=True, text=True, check=True)
    return out, result, json.loads(proc.stdout)


def test_scores_meet_targets(run):
    _, _, score = run
    assert score["f1"] >= 0.90, score
    assert score["recall_by_jaccard5"]["<0.2"]["recall"] >= 0.85, score
    assert score["passage"]["f1"] >= 0.80, score
    assert score["ari_clusters"] >= 0.90, score


def test_every_document_is_accounted_for(run):
    out, result, _ = run
    ids = [json.loads(line)["id"] for line in (GOLD / "corpus.jsonl").open(encoding="utf-8")]
    clustered = [json.loads(line)["id"] for line in (out / "clusters.jsonl").open(encoding="utf-8")]
    assert clustered == ids
    assert result.summary["counts"]["input_records"] == len(ids)


def test_no_passage_reaches_into_site_boilerplate(run):
    """Headers (URL, share counts, photo credit) open a document and footers (navigation, login prompt) close
    it; the benchmark's metadata says how many characters each takes. No passage may overlap them."""
    out, _, _ = run
    meta = {r["id"]: r for r in map(json.loads, (GOLD / "doc_meta.jsonl").open(encoding="utf-8"))}
    length = {r["id"]: len(r["text"]) for r in map(json.loads, (GOLD / "corpus.jsonl").open(encoding="utf-8"))}
    offending = []
    for pair in map(json.loads, (out / "pairs.jsonl").open(encoding="utf-8")):
        for side in "ab":
            doc = pair[side]
            header = meta[doc]["chars_by_kind"].get("hdr", 0)
            footer_start = length[doc] - meta[doc]["chars_by_kind"].get("ftr", 0)
            for p in pair["passages"]:
                if p[f"{side}_start"] < header or p[f"{side}_end"] > footer_start:
                    offending.append((pair["a"], pair["b"], side, p))
    assert offending == []
