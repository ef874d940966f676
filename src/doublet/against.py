"""One collection against another: per document of NEW, how much of it is found in REFERENCE, and where.

``doublet find NEW... --against REFERENCE...`` numbers the NEW documents first and makes only the candidate
pairs with one document in each group (``split`` in :mod:`doublet.candidates`); its ``pairs.jsonl`` holds exactly
the cross pairs a ``find`` over both groups reports, judged the same way (document frequencies and templates are
counted over both groups). This module turns those pairs into ``against.jsonl``: one line per NEW document, in
input order, with the share of its characters inside a passage found in some REFERENCE document (the union of
the passages' spans over all its matches, so text found in several documents counts once) and the matches::

    {"id": "q17", "chars": 2140, "found_chars": 492, "found_share": 0.2299,
     "matches": [{"reference": "crawl-88", "kind": "reuse", "level": "verbatim", "containment": 0.23,
                  "passages": [{"start": 10, "end": 502, "ref_start": 1403, "ref_end": 1897}]}]}

``containment`` is the pair's own share of the NEW document's words found in that REFERENCE document (the
``containment_*`` field of ``pairs.jsonl`` for the NEW side). A near-duplicate pair without passages counts the
whole document as found. Matches are sorted by found characters, most first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .analysis import PairResult
from .attribution import covered_chars as union_length


def _match(pair: PairResult, new_is_a: bool, chars: int) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """One ``matches`` entry of a NEW document and the spans of it the pair covers."""
    if new_is_a:
        spans = [(p.a_start, p.a_end, p.b_start, p.b_end) for p in pair.passages]
        ref, containment = pair.b, pair.containment_a
    else:
        spans = [(p.b_start, p.b_end, p.a_start, p.a_end) for p in pair.passages]
        ref, containment = pair.a, pair.containment_b
    covered = [(s, e) for s, e, _, _ in spans] or ([(0, chars)] if pair.kind == "near-duplicate" else [])
    entry = {"reference": ref, "kind": pair.kind, "level": pair.level, "containment": round(containment, 4),
             "found_chars": union_length(covered),
             "passages": [{"start": s, "end": e, "ref_start": rs, "ref_end": re} for s, e, rs, re in spans]}
    return entry, covered


def rows(ids: list[str], n_new: int, char_lengths: np.ndarray, pairs: Iterable[PairResult]) -> Iterator[dict]:
    """``against.jsonl`` rows: one per NEW document (``ids[:n_new]``, lengths ``char_lengths``), from the run's
    pairs (each with one NEW and one REFERENCE document)."""
    new = {d: k for k, d in enumerate(ids[:n_new])}
    matches: dict[int, list[dict[str, Any]]] = {}
    covered: dict[int, list[tuple[int, int]]] = {}
    for pair in pairs:
        new_is_a = pair.a in new
        k = new[pair.a] if new_is_a else new.get(pair.b)
        if k is None:
            raise ValueError(f"pair ({pair.a}, {pair.b}) has no NEW document: not a run made with --against")
        entry, spans = _match(pair, new_is_a, int(char_lengths[k]))
        matches.setdefault(k, []).append(entry)
        covered.setdefault(k, []).extend(spans)
    for k, doc_id in enumerate(ids[:n_new]):
        chars = int(char_lengths[k])
        found = union_length(covered.get(k, []))
        got = sorted(matches.get(k, []), key=lambda m: (-m["found_chars"], m["reference"]))
        yield {"id": doc_id, "chars": chars, "found_chars": found,
               "found_share": round(found / chars, 4) if chars else 0.0, "matches": got}


__all__ = ["rows", "union_length"]
