"""The Python API: ``doublet.find``, ``doublet.find_files`` and ``doublet.compare``, mirroring the CLI.

>>> import doublet
>>> result = doublet.find([("a", "some text ..."), ("b", "some other text ...")])
>>> for pair in result.pairs:
...     print(pair.a, pair.b, pair.kind, pair.jaccard, pair.passages)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .analysis import PairResult, compare_prepared, prepare
from .config import Config
from .documents import Document, InputProblem, documents_from_items, read_documents
from .engines import local
from .progress import Progress
from .result import Result

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
    """Compare two texts directly: exact overlap, aligned passages and verdict (no boilerplate statistics)."""
    cfg = config or Config()
    return compare_prepared("a", "b", prepare(text_a, cfg), prepare(text_b, cfg), cfg)
