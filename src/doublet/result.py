"""The outcome of a run and its files: ``pairs.jsonl``, ``clusters.jsonl``, ``summary.json``.

Schemas (see docs/inputs-and-outputs.md): one line per reusing pair ``{"a","b","kind","jaccard","containment_a",
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
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .align import Passage
from .analysis import PairResult
from .attribution import Attribution, attribute, attribute_scored


def pair_from_dict(d: dict[str, Any]) -> PairResult:
    """Inverse of :meth:`PairResult.to_dict`."""
    return PairResult(d["a"], d["b"], d["kind"], d["jaccard"], d["containment_a"], d["containment_b"],
                      tuple(Passage(p["a_start"], p["a_end"], p["b_start"], p["b_end"], p.get("identity"))
                            for p in d["passages"]))


CLUSTER_COLUMNS = ("id", "cluster", "cluster_size", "near_duplicate_cluster", "original", "original_reason")
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'  # what json.dumps(..., ensure_ascii=False) escapes in a string (RE2 syntax)


def _json_strings(col: pa.Array) -> pa.Array:
    """``json.dumps(s, ensure_ascii=False)`` of each string (nulls stay null)."""
    col = col.cast(pa.string())
    plain = pc.binary_join_element_wise('"', col, '"', "")
    needs = pc.match_substring_regex(col, _NEEDS_ESCAPE)
    if not pc.any(needs).as_py():
        return plain  # the usual case: vectorized, a million ids in a fraction of a second
    slow = pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in col.to_pylist()], pa.string())
    return pc.if_else(needs, slow, plain)


def cluster_lines(id: pa.Array, cluster: pa.Array, cluster_size: pa.Array, near_duplicate_cluster: pa.Array,
                  original: pa.Array, original_reason: pa.Array, end: str = "") -> pa.Array:
    """``clusters.jsonl`` lines from Arrow columns (:data:`CLUSTER_COLUMNS`), byte for byte
    ``json.dumps(row, ensure_ascii=False)`` of the row's dict, each followed by ``end``. Vectorized (Arrow
    compute): every engine formats its rows with this."""
    reason = pc.if_else(pc.is_null(original_reason), "null", _json_strings(original_reason).fill_null("null"))
    return pc.binary_join_element_wise(
        '{"id": ', _json_strings(id), ', "cluster": ', _json_strings(cluster),
        ', "cluster_size": ', cluster_size.cast(pa.string()),
        ', "near_duplicate_cluster": ', _json_strings(near_duplicate_cluster),
        ', "original": ', pc.if_else(original, "true", "false"), ', "original_reason": ', reason, "}" + end, "")


def _string_bytes(arr: pa.Array) -> memoryview:
    """The UTF-8 bytes of a string array's values back to back (no copy)."""
    offsets = np.frombuffer(arr.buffers()[1], np.int32, count=len(arr) + 1, offset=4 * arr.offset)
    return memoryview(arr.buffers()[2])[int(offsets[0]):int(offsets[-1])]


def _link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` becomes a copy of ``src``: a hard link where both are on one file system (no bytes copied; the
    run's working folder holds the other name only until it is removed), else a copy."""
    if dst.exists() and dst.samefile(src):
        return
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


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
    scores: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    """Per document (input order): source attribution scores summed over the reported pairs by the engine
    (:func:`doublet.attribution.attribute_scored`), so that writing clusters need not re-read the pairs."""
    cluster_index: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    """Per document (input order): the index of the document naming its cluster and its near-duplicate cluster
    (:func:`doublet.cluster.cluster_index`; ``clusters[k] == ids[cluster_index[0][k]]``), when the engine has
    them: writing clusters then groups integers instead of strings."""
    template_blocks: list[dict[str, Any]] | None = field(default=None, repr=False)
    """The recurring blocks taken as template (:func:`doublet.template.blocks`), for ``boilerplate.jsonl``."""
    templates: Any = field(default=None, repr=False)
    """Every fingerprint taken as template (:class:`doublet.template.Templates`), for ``templates.parquet``."""
    n_new: int | None = None
    """With ``--against``: the number of NEW documents (the first ``n_new`` ids; the others are REFERENCE), and
    :meth:`write` adds ``against.jsonl`` (:mod:`doublet.against`)."""
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

    def against(self) -> Iterator[dict[str, Any]]:
        """``against.jsonl`` rows of a run made with ``--against`` (:func:`doublet.against.rows`): per NEW
        document, the share of it found in REFERENCE and the matches."""
        if self.n_new is None or self.char_lengths is None:
            raise ValueError("not a run made with --against (against=... in the API)")
        from .against import rows

        return rows(self.ids, self.n_new, self.char_lengths, self.iter_pairs())

    def cluster_of(self) -> dict[str, str]:
        """Map document id -> cluster id (smallest id of its reuse component)."""
        return dict(zip(self.ids, self.clusters))

    def _attribution(self, reused: bool) -> Attribution:
        """Attribution from the engine's scores, else from the pairs on disk (read only if a cluster has two
        or more documents)."""
        if self.scores is not None:
            return attribute_scored(self.ids, self.clusters, *self.scores, self.dates,
                                    self.cluster_index[0] if self.cluster_index is not None else None)
        return attribute(self.ids, self.clusters, self.iter_pairs() if reused else (), self.dates)

    def cluster_rows(self) -> Iterator[dict[str, Any]]:
        """One ``clusters.jsonl`` row per document, with its cluster's original marked (see attribution)."""
        sizes = Counter(self.clusters)
        att = self._attribution(any(s > 1 for s in sizes.values()))
        for i, c, d, o, r in zip(self.ids, self.clusters, self.near_duplicate_clusters, att.original, att.reason):
            yield {"id": i, "cluster": c, "cluster_size": sizes[c], "near_duplicate_cluster": d, "original": o,
                   "original_reason": r}

    def _write_clusters(self, path: Path, rows: int = 1 << 16) -> None:
        """``clusters.jsonl`` (:func:`cluster_lines`), ``rows`` documents at a time."""
        ids = pa.array(self.ids, pa.string())
        if self.cluster_index is not None:  # labels are ids: take them, group by index
            index, dup_index = (pa.array(x) for x in self.cluster_index)
            clusters, dups = ids.take(index), ids.take(dup_index)
            member = self.cluster_index[0]
        else:
            enc = pa.array(self.clusters, pa.string()).dictionary_encode()
            clusters, dups = enc.dictionary.take(enc.indices), pa.array(self.near_duplicate_clusters, pa.string())
            member = enc.indices.to_numpy()
        per_doc = np.bincount(member)[member] if len(member) else member
        att = self._attribution(bool(len(per_doc)) and int(per_doc.max()) > 1)
        with open(path, "wb") as f:
            for lo in range(0, len(self.ids), rows):
                cut = slice(lo, lo + rows)
                f.write(_string_bytes(cluster_lines(
                    ids[cut], clusters[cut], pa.array(per_doc[cut]), dups[cut],
                    pa.array(att.original[cut], pa.bool_()), pa.array(att.reason[cut], pa.string()), end="\n")))

    def write(self, outdir: str | Path) -> Path:
        """Write pairs.jsonl, clusters.jsonl, boilerplate.jsonl and templates.parquet (when the engine listed
        templates), against.jsonl (with ``--against``) and summary.json into ``outdir`` (created if needed)."""
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        if self._pairs is None and self.pairs_path is not None:
            _link_or_copy(self.pairs_path, out / "pairs.jsonl")
        else:
            with open(out / "pairs.jsonl", "w", encoding="utf-8") as f:
                for p in self.iter_pairs():
                    f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        self._write_clusters(out / "clusters.jsonl")
        if self.template_blocks is not None:
            with open(out / "boilerplate.jsonl", "w", encoding="utf-8") as f:
                f.writelines(json.dumps(b, ensure_ascii=False) + "\n" for b in self.template_blocks)
        if self.n_new is not None:
            with open(out / "against.jsonl", "w", encoding="utf-8") as f:
                f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in self.against())
        if self.templates is not None:
            from .template import write_table

            write_table(self.templates, self.ids, out / "templates.parquet")
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
