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
