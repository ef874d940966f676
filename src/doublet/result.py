"""The outcome of a run and its files: ``pairs.jsonl``, ``clusters.jsonl``, ``summary.json``.

Schemas (see the README): one line per reusing pair ``{"a","b","kind","jaccard","containment_a",
"containment_b","passages":[{"a_start","a_end","b_start","b_end"}]}`` with ``a < b``; one line per input
document ``{"id","cluster","cluster_size","near_duplicate_cluster"}``, singletons included; a summary with
counts, parameters, timings and every rejected or repaired input record with its reason.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analysis import PairResult


@dataclass
class Result:
    """Pairs, clusters and summary of one run. Documents are in input order."""

    ids: list[str]
    pairs: list[PairResult]
    clusters: list[str]
    near_duplicate_clusters: list[str]
    problems: list[Any] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    texts: list[str] | None = field(default=None, repr=False)
    """Document texts, kept only when the run was asked to (``keep_corpus=True``)."""

    def cluster_of(self) -> dict[str, str]:
        """Map document id -> cluster id (smallest id of its reuse component)."""
        return dict(zip(self.ids, self.clusters))

    def cluster_rows(self) -> list[dict[str, Any]]:
        sizes = Counter(self.clusters)
        return [{"id": i, "cluster": c, "cluster_size": sizes[c], "near_duplicate_cluster": d}
                for i, c, d in zip(self.ids, self.clusters, self.near_duplicate_clusters)]

    def write(self, outdir: str | Path) -> Path:
        """Write pairs.jsonl, clusters.jsonl and summary.json into ``outdir`` (created if needed)."""
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "pairs.jsonl", "w", encoding="utf-8") as f:
            for p in self.pairs:
                f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        with open(out / "clusters.jsonl", "w", encoding="utf-8") as f:
            for row in self.cluster_rows():
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        with open(out / "summary.json", "w", encoding="utf-8") as f:
            json.dump(self.summary, f, ensure_ascii=False, indent=1)
            f.write("\n")
        return out
