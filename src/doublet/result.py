"""The outcome of a run and its files: ``pairs.jsonl``, ``clusters.jsonl``, ``summary.json``.

Schemas (see the README): one line per reusing pair ``{"a","b","kind","jaccard","containment_a",
"containment_b","passages":[{"a_start","a_end","b_start","b_end"}]}`` with ``a < b``; one line per input
document ``{"id","cluster","cluster_size","near_duplicate_cluster","original","original_reason"}``, singletons
included (``original``: the cluster's most likely original, by :mod:`doublet.attribution`); a summary with
counts, parameters, timings and every rejected or repaired input record with its reason.

A result of the local engine keeps its pairs in a file of its private working folder (so millions of
pairs need no memory) and reads them on demand; the folder goes away with :meth:`Result.close` or when the
result is garbage-collected.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .align import Passage
from .analysis import PairResult
from .attribution import attribute


def pair_from_dict(d: dict[str, Any]) -> PairResult:
    """Inverse of :meth:`PairResult.to_dict`."""
    return PairResult(d["a"], d["b"], d["kind"], d["jaccard"], d["containment_a"], d["containment_b"],
                      tuple(Passage(p["a_start"], p["a_end"], p["b_start"], p["b_end"]) for p in d["passages"]))


@dataclass
class Result:
    """Pairs, clusters and summary of one run. Documents are in input order."""

    ids: list[str]
    clusters: list[str]
    near_duplicate_clusters: list[str]
    problems: list[Any] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    pairs_path: Path | None = None
    """JSON Lines file of the reported pairs, sorted by (a, b)."""
    work: Any = field(default=None, repr=False)
    """The run's working folder (:class:`doublet.spill.WorkDir`), removed by :meth:`close`."""
    store: Any = field(default=None, repr=False)
    """Texts by document index (:class:`doublet.spill.TextReader`), when the run kept them."""
    char_lengths: np.ndarray | None = field(default=None, repr=False)
    dates: list[str | None] | None = field(default=None, repr=False)
    """Per document (input order): its date from the input's metadata (web pages), for source attribution."""
    _pairs: list[PairResult] | None = field(default=None, repr=False)

    def iter_pairs(self) -> Iterator[PairResult]:
        """Reported pairs in (a, b) order, read from disk one at a time."""
        if self._pairs is not None:
            yield from self._pairs
            return
        if self.pairs_path is None:
            return
        with open(self.pairs_path, encoding="utf-8") as f:
            for line in f:
                yield pair_from_dict(json.loads(line))

    @property
    def pairs(self) -> list[PairResult]:
        """All reported pairs (loaded into memory on first use)."""
        if self._pairs is None:
            self._pairs = list(self.iter_pairs())
        return self._pairs

    def text(self, k: int) -> str:
        """Text of document ``k`` (input order); needs a run made with ``keep_corpus=True``."""
        if self.store is None:
            raise ValueError("texts were not kept: run with keep_corpus=True")
        return self.store.get(k)

    def cluster_of(self) -> dict[str, str]:
        """Map document id -> cluster id (smallest id of its reuse component)."""
        return dict(zip(self.ids, self.clusters))

    def cluster_rows(self) -> Iterator[dict[str, Any]]:
        """One ``clusters.jsonl`` row per document, with its cluster's original marked (see attribution)."""
        sizes = Counter(self.clusters)
        reused = any(s > 1 for s in sizes.values())
        att = attribute(self.ids, self.clusters, self.iter_pairs() if reused else (), self.dates)
        for i, c, d, o, r in zip(self.ids, self.clusters, self.near_duplicate_clusters, att.original, att.reason):
            yield {"id": i, "cluster": c, "cluster_size": sizes[c], "near_duplicate_cluster": d, "original": o,
                   "original_reason": r}

    def _cluster_lines(self) -> Iterator[str]:
        """``clusters.jsonl`` lines, byte for byte ``json.dumps(row, ensure_ascii=False)`` of
        :meth:`cluster_rows`, with each id encoded once (a million rows in seconds)."""
        enc = {i: json.dumps(i, ensure_ascii=False) for i in self.ids}
        names = {None: "null", True: "true", False: "false"}
        for row in self.cluster_rows():
            reason = row["original_reason"]
            yield (f'{{"id": {enc[row["id"]]}, "cluster": {enc[row["cluster"]]}, "cluster_size": {row["cluster_size"]}, '
                   f'"near_duplicate_cluster": {enc[row["near_duplicate_cluster"]]}, "original": {names[row["original"]]}, '
                   f'"original_reason": {names[reason] if reason is None else json.dumps(reason)}}}\n')

    def write(self, outdir: str | Path) -> Path:
        """Write pairs.jsonl, clusters.jsonl and summary.json into ``outdir`` (created if needed)."""
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        if self._pairs is None and self.pairs_path is not None:
            shutil.copyfile(self.pairs_path, out / "pairs.jsonl")
        else:
            with open(out / "pairs.jsonl", "w", encoding="utf-8") as f:
                for p in self.iter_pairs():
                    f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        with open(out / "clusters.jsonl", "w", encoding="utf-8") as f:
            f.writelines(self._cluster_lines())
        with open(out / "summary.json", "w", encoding="utf-8") as f:
            json.dump(self.summary, f, ensure_ascii=False, indent=1)
            f.write("\n")
        return out

    def close(self) -> None:
        """Remove the run's working folder (pairs stay available if they were loaded)."""
        if self.work is not None:
            self.work.close()
            self.work = None

    def __enter__(self) -> "Result":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
