"""doublet inside a Spark job: the same pairs, passages and clusters as ``doublet find``, as DataFrames.

>>> import doublet.spark
>>> pairs, clusters = doublet.spark.find(df, id_col="id", text_col="text")     # df: any DataFrame
>>> kept, removed = doublet.spark.dedup(df, keep="first")                      # near-duplicate copies removed

``pairs`` has ``pairs.jsonl``'s columns (``a < b``, ``kind``, ``level``, ``jaccard``, ``containment_a``,
``containment_b``, ``passages`` as an array of ``{a_start, a_end, b_start, b_end, identity}``); ``clusters`` has
one row per document with ``clusters.jsonl``'s columns plus ``doc`` (the document's position in the input).
Rows are read in the DataFrame's own order (partition by partition); ids must be unique (the first row of an id
wins, the others are listed in :attr:`SparkRun.problems`). Everything runs distributed: see
:mod:`doublet.engines.spark`.

Needs ``pip install 'doublet[spark]'`` on the driver and the executors (the C kernel is imported there),
Java 17+, and executors that run the same Python (``PYSPARK_PYTHON``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .config import Config
from .engines.spark import CLUSTER_COLUMNS, SparkRun, run_files, run_frame

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def run(df: "DataFrame", id_col: str = "id", text_col: str = "text", config: Config | None = None, *,
        partitions: int | None = None, site_col: str | None = None) -> SparkRun:
    """The whole run on a DataFrame: :class:`SparkRun` with ``pairs``, ``clusters``, ``summary`` (the
    summary.json dict), ``template_blocks`` (boilerplate.jsonl's), ``problems``, ``removed(keep)``,
    ``write(outdir)`` and ``close()``.

    ``partitions`` is the number of groups of the shuffled stages (default: ``spark.sql.shuffle.partitions``);
    ``site_col`` (optional) the column naming each row's site (a URL, host or site name: text recurring within
    one site only is that site's template, as with ``--site-field``).
    """
    return run_frame(df, config or Config(), id_col=id_col, text_col=text_col, partitions=partitions,
                     site_col=site_col)


def find(df: "DataFrame", id_col: str = "id", text_col: str = "text", config: Config | None = None, *,
         partitions: int | None = None, site_col: str | None = None) -> tuple["DataFrame", "DataFrame"]:
    """``(pairs, clusters)`` DataFrames for ``df`` (cached; ``.unpersist()`` them when done)."""
    result = run(df, id_col, text_col, config, partitions=partitions, site_col=site_col)
    result.release()
    return result.pairs, result.clusters.select("doc", *CLUSTER_COLUMNS)


def dedup(df: "DataFrame", id_col: str = "id", text_col: str = "text", config: Config | None = None, *,
          keep: str = "first", partitions: int | None = None,
          site_col: str | None = None) -> tuple["DataFrame", "DataFrame"]:
    """``(kept, removed)``: ``df``'s rows without the near-duplicate copies (one document kept per
    near-duplicate cluster: the first in ``df``'s order, or the ``"longest"``), and one row per removed
    document ``(doc, id, kept, jaccard, cluster, via)`` as in ``removed.jsonl``. Rows rejected as input
    problems (e.g. empty text, a repeated id) are not in ``kept``."""
    result = run(df, id_col, text_col, config, partitions=partitions, site_col=site_col)
    removed = result.removed(keep).drop("line").cache()
    removed.count()
    result.release()
    ids = result.clusters.select("id").join(removed.select("id").hint("merge"), "id", "left_anti")
    kept = df.join(ids.withColumnRenamed("id", id_col).hint("merge"), id_col, "left_semi")  # never broadcast
    return kept, removed


def find_files(spark: "SparkSession", inputs: Sequence[str], config: Config | None = None, *, id_field: str = "id",
               text_field: str = "text", partitions: int | None = None,
               site_field: str | None = None) -> SparkRun:
    """Read JSON Lines / Parquet files or txt folders (local paths or Hadoop URIs) with Spark and run; the
    documents' order and indices are the local engine's, so the answer is ``doublet find``'s (with
    ``site_field`` as ``--site-field``)."""
    return run_files(spark, inputs, config or Config(), id_field=id_field, text_field=text_field,
                     partitions=partitions, site_field=site_field)


__all__ = ["SparkRun", "dedup", "find", "find_files", "run"]
