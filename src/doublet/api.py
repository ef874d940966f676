"""The Python API: ``doublet.find``, ``doublet.find_files`` and ``doublet.compare``, mirroring the CLI.

>>> import doublet
>>> result = doublet.find([("a", "some text ..."), ("b", "some other text ...")])
>>> for pair in result.pairs:
...     print(pair.a, pair.b, pair.kind, pair.jaccard, pair.passages)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .analysis import PairResult, compare_prepared, fingerprint_batch, prepare
from .candidates import postings
from .config import Config
from .documents import Document, InputProblem, documents_from_items, read_documents
from .engines import local
from .progress import Progress
from .result import Result
from .template import Rules, user_hashes

DocumentLike = Document | tuple[str, str] | dict[str, Any] | str


def find(documents: Iterable[DocumentLike], config: Config | None = None, *, progress: Progress | None = None) -> Result:
    """Find near-duplicate and reusing pairs, passages and clusters among in-memory documents."""
    cfg = config or Config()
    problems: list[InputProblem] = []
    return local.run(documents_from_items(documents, max_chars=cfg.max_chars, problems=problems), cfg, problems=problems, progress=progress)


def find_files(inputs: Iterable[str], config: Config | None = None, *, id_field: str = "id",
               text_field: str = "text", site_field: str | None = None, progress: Progress | None = None,
               engine: str = "local") -> Result:
    """Like :func:`find`, reading documents from files and folders (see :mod:`doublet.documents`);
    ``site_field`` names the JSON Lines / CSV / Parquet field saying which site each record comes from (the
    site rule of :mod:`doublet.template`).

    ``engine="spark"`` reads and processes them with Apache Spark (the active session, or ``local[workers]``;
    see :mod:`doublet.spark`): the same Result.
    """
    cfg = config or Config()
    if engine == "spark":
        from .engines import spark

        run = spark.run_files(spark.session(cfg), list(inputs), cfg, id_field=id_field, text_field=text_field,
                              site_field=site_field)
        try:
            return run.to_result()
        finally:
            run.close()
    if engine != "local":
        raise ValueError(f"engine must be 'local' or 'spark', not {engine!r}")
    problems: list[InputProblem] = []
    docs = read_documents(list(inputs), id_field=id_field, text_field=text_field, site_field=site_field,
                          max_chars=cfg.max_chars, problems=problems)
    return local.run(docs, cfg, problems=problems, progress=progress)


def compare(text_a: str, text_b: str, config: Config | None = None) -> PairResult:
    """Compare two texts directly: exact overlap, aligned passages and verdict.

    The two texts are treated as a corpus of two documents without sites, as ``find([("a", text_a), ("b",
    text_b)])`` treats them: text in template-shaped lines in both, and the user's template texts, are
    template (:func:`two_document_templates`); the site and frequency rules need more documents. When the
    verdict is not ``None``, ``find`` of the two reports this very pair (the candidate rule proposes every
    passage verification accepts, see :func:`doublet.config.candidate_rule`)."""
    cfg = config or Config()
    boilerplate = two_document_templates(text_a, text_b, cfg)
    return compare_prepared("a", "b", prepare(text_a, cfg, boilerplate), prepare(text_b, cfg, boilerplate), cfg)


def two_document_templates(text_a: str, text_b: str, cfg: Config) -> np.ndarray:
    """Sorted hashes of the fingerprints that the template rules judge template in a corpus of these two
    documents (no sites): the same decision as the engines' (:func:`doublet.candidates.postings`)."""
    prints = fingerprint_batch([text_a, text_b], cfg)
    docs = np.repeat(np.arange(2, dtype=np.int64), prints.fp_counts)
    user = user_hashes(cfg.template_texts, cfg.shingle_size) if cfg.template_texts else None
    post = postings(prints.fp_hashes, docs, prints.fp_pos, prints.fp_shape, cfg.max_df, rules=Rules.of(cfg),
                    user=user)
    return post.templates.hashes
