"""The Python API: ``doublet.find``, ``doublet.dedup_plan`` and ``doublet.compare``, mirroring the CLI.

>>> import doublet
>>> result = doublet.find([("a", "some text ..."), ("b", "some other text ...")])
>>> for pair in result.pairs:
...     print(pair.a, pair.b, pair.kind, pair.jaccard, pair.passages)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .analysis import PairResult, compare_prints, fingerprint
from .config import Config
from .documents import Document, InputProblem, read_documents
from .engines import local
from .progress import Progress
from .result import Result

DocumentLike = Document | tuple[str, str] | dict[str, Any] | str


def _as_documents(items: Iterable[DocumentLike], cfg: Config, problems: list[InputProblem]) -> Iterator[Document]:
    """Turn API inputs into Documents, rejecting (with a problem record) what cannot be processed."""
    seen: dict[str, int] = {}
    for k, item in enumerate(items):
        where = f"item {k}"
        if isinstance(item, Document):
            doc_id, text = item.id, item.text
        elif isinstance(item, tuple) and len(item) == 2:
            doc_id, text = item
        elif isinstance(item, dict):
            doc_id, text = item.get("id"), item.get("text")
        elif isinstance(item, str):
            doc_id, text = str(k), item
        else:
            problems.append(InputProblem("<api>", where, None, f"unsupported item type {type(item).__name__}; "
                                         "pass Document, (id, text), {'id','text'} or str", "rejected"))
            continue
        reason = None
        if doc_id is None or not isinstance(doc_id, (str, int)):
            reason = "missing or non-string id"
        elif not isinstance(text, str):
            reason = "missing or non-string text"
        elif not text.strip():
            reason = "empty document" if not text else "whitespace-only document"
        elif len(text) > cfg.max_chars:
            reason = (f"document has {len(text):,} characters, over max_chars {cfg.max_chars:,}; "
                      "raise max_chars to process it")
        elif str(doc_id) in seen:
            reason = f"duplicate id (first seen at item {seen[str(doc_id)]})"
        if reason:
            problems.append(InputProblem("<api>", where, None if doc_id is None else str(doc_id), reason, "rejected"))
            continue
        seen[str(doc_id)] = k
        yield item if isinstance(item, Document) else Document(str(doc_id), text, {"source": "<api>", "item": k})


def find(documents: Iterable[DocumentLike], config: Config | None = None, *, progress: Progress | None = None) -> Result:
    """Find near-duplicate and reusing pairs, passages and clusters among in-memory documents."""
    cfg = config or Config()
    problems: list[InputProblem] = []
    return local.run(_as_documents(documents, cfg, problems), cfg, problems=problems, progress=progress)


def find_files(inputs: Iterable[str], config: Config | None = None, *, id_field: str = "id",
               text_field: str = "text", progress: Progress | None = None) -> Result:
    """Like :func:`find`, reading documents from files and folders (see :mod:`doublet.documents`)."""
    cfg = config or Config()
    problems: list[InputProblem] = []
    docs = read_documents(list(inputs), id_field=id_field, text_field=text_field, max_chars=cfg.max_chars,
                          problems=problems)
    return local.run(docs, cfg, problems=problems, progress=progress)


def compare(text_a: str, text_b: str, config: Config | None = None) -> PairResult:
    """Compare two texts directly: exact overlap, aligned passages and verdict (no boilerplate statistics)."""
    cfg = config or Config()
    pa, pb = fingerprint(text_a, cfg), fingerprint(text_b, cfg)
    no_a, no_b = np.zeros(len(pa.tokens), bool), np.zeros(len(pb.tokens), bool)
    return compare_prints("a", "b", text_a, text_b, pa, pb, no_a, no_b, cfg)
