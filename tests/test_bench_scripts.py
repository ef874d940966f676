"""Smoke test for bench/clough_stevenson.py (small: 100 short files, runs doublet.compare 95 times).

The datasketch baseline is deliberately not tested here (it needs the 7,869-document bench corpus).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "clough_stevenson.py"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clough-stevenson-plagiarism"


@pytest.mark.skipif(not (DATA / "file_information.csv").is_file(), reason="shared Clough & Stevenson data absent")
def test_clough_stevenson_script(tmp_path):
    out = tmp_path / "cs.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--data", str(DATA), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "| cut |" in proc.stdout
    res = json.loads(out.read_text(encoding="utf-8"))
    cats = res["categories"]
    assert set(cats) == {"cut", "light", "heavy", "non"}
    assert {c: cats[c]["n"] for c in cats} == {"cut": 19, "light": 19, "heavy": 19, "non": 38}
    assert res["n_answers"] == 95
    assert cats["cut"]["containment_a"]["mean"] > cats["non"]["containment_a"]["mean"]
    for c in cats.values():
        for m in ("containment_a", "coverage_a"):
            assert 0.0 <= c[m]["min"] <= c[m]["mean"] <= c[m]["max"] <= 1.0
    for m in ("containment_a", "coverage_a"):
        assert 0.0 <= res["best_threshold"][m]["accuracy"] <= 1.0
    assert 0.0 <= res["doublet_decision"]["accuracy"] <= 1.0


SPEED = ROOT / "bench" / "speed.py"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data absent")
def test_speed_script_measures_a_small_corpus_and_merges_results(tmp_path):
    """bench/speed.py end to end on a 300-document corpus (doublet only, one run), then --merge of two result
    files: the later file wins for a size both measured, and each size says where it was measured."""
    first, second, merged = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "m.json"
    proc = subprocess.run([sys.executable, str(SPEED), "--sizes", "300", "--runs", "1", "--peers", "",
                           "--no-quality", "--out", str(first)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(first.read_text())
    (size,) = res["sizes"]
    assert size["docs"] == 300 and size["doublet"]["wall_s"] > 0 and size["doublet"]["counts"]["documents"] == 300
    assert size["fingerprint"]["mb_per_s_per_core"] > 0
    other = {**res, "sizes": [{**size, "docs": 1_000_000}, {**size, "doublet": {**size["doublet"], "wall_s": 99.0}}]}
    second.write_text(json.dumps(other))
    proc = subprocess.run([sys.executable, str(SPEED), "--merge", str(first), str(second), "--out", str(merged)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(merged.read_text())
    assert [s["docs"] for s in out["sizes"]] == [300, 1_000_000]
    assert out["sizes"][0]["doublet"]["wall_s"] == 99.0 and out["sizes"][0]["measured_in"]["file"] == "b.json"
    assert "find_1m_wall_s" in out["targets"] and "Merged from a.json (300), b.json (1,000,000, 300)" in \
        merged.with_suffix(".md").read_text()
