"""Connected components of pair graphs on Spark DataFrames, nothing collected to the driver.

Several graphs at once: an edge is ``(g, u, v)``, ``g`` naming its graph (the Spark engine runs the graph of
copies, :func:`copy_edges`, and the graph of near-duplicate pairs together); every step is keyed by ``(g, node)``.
:func:`components` alternates large-star and small-star (Kiveris et al., "Connected Components in
MapReduce and Beyond", 2014), the distributed form of :mod:`doublet.cluster`'s hook-and-compress; a
component is named by its smallest id, as :mod:`doublet.cluster` names it (:func:`named`).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from .spark_input import shuffled


def _pairs_of(edges: DataFrame) -> DataFrame:
    """Undirected edges as (g, hi, lo), hi > lo, without repeats."""
    return (edges.select("g", F.greatest("u", "v").alias("hi"), F.least("u", "v").alias("lo"))
            .filter("hi != lo").distinct())


def _large_star(e: DataFrame) -> DataFrame:
    """Each node's larger neighbours are linked to the smallest node of its closed neighbourhood."""
    both = e.select("g", F.col("hi").alias("x"), F.col("lo").alias("y")).union(e.select("g", "lo", "hi"))
    smallest = F.least(F.min("y").over(Window.partitionBy("g", "x")), F.col("x"))
    return both.select("g", "x", "y", smallest.alias("m")).filter("y > x").select(
        "g", F.col("y").alias("u"), F.col("m").alias("v"))


def _small_star(e: DataFrame) -> DataFrame:
    """Each node and its smaller neighbours are linked to the smallest of them."""
    linked = e.select("g", "hi", "lo", F.min("lo").over(Window.partitionBy("g", "hi")).alias("m"))
    return linked.select("g", F.col("lo").alias("u"), F.col("m").alias("v")).union(linked.select("g", "hi", "m"))


def _is_star_forest(e: DataFrame) -> bool:
    """Every node has at most one smaller neighbour, which has none: each component is one star."""
    ends = e.select("g", F.col("hi").alias("n"), F.lit(1).alias("child")).union(e.select("g", "lo", F.lit(0)))
    bad = ends.groupBy("g", "n").agg(F.sum("child").alias("parents"), F.min("child").alias("lo_end"))
    return bad.filter("parents > 1 or (parents = 1 and lo_end = 0)").limit(1).count() == 0


def components(edges: DataFrame, max_rounds: int = 100) -> DataFrame:
    """(g, node, root) for every node on an edge (g, u, v): root = the smallest node of its connected component
    in graph g.

    Alternates large-star and small-star (Kiveris et al., "Connected Components in MapReduce and Beyond",
    2014) until every graph is a forest of stars around each component's smallest node; O(log² n) rounds,
    each a few shuffles of the edges; nothing is collected but one flag per round.
    """
    e = _pairs_of(edges).localCheckpoint()
    for _ in range(max_rounds):
        if _is_star_forest(e):
            break
        e = _pairs_of(_small_star(_pairs_of(_large_star(e)))).localCheckpoint()
    else:  # pragma: no cover - the algorithm converges in O(log² n) rounds
        raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
    return e.select("g", F.col("hi").alias("node"), F.col("lo").alias("root")).union(
        e.select("g", F.col("lo").alias("node"), F.col("lo").alias("root"))).distinct()


def copy_edges(pairs: DataFrame, near_duplicate: str, share: float) -> DataFrame:
    """(u, v): the edges whose connected components are :func:`doublet.cluster.copy_clusters`' clusters, from
    reported pairs (doc_a, doc_b, a, b, kind, containment_a, containment_b; containments as written).

    A pair is a copy (strong) when it is a near-duplicate or its larger containment is at least ``share``
    (:data:`doublet.cluster.COPY_SHARE`); copies are edges. A document in no copy follows one pair: to a partner
    in a copy pair if it has one (the story's core), its strongest (largest containment), ties to the partner
    with the smallest id (string order, as ``copy_clusters`` ranks them). A few shuffles of the pairs and a
    window per document; nothing is collected.
    """
    strength = F.greatest("containment_a", "containment_b")
    marked = pairs.select("doc_a", "doc_b", "a", "b", strength.alias("w"),
                          ((F.col("kind") == near_duplicate) | (strength >= share)).alias("strong"))
    strong = marked.filter("strong").select(F.col("doc_a").alias("u"), F.col("doc_b").alias("v"))
    copied = strong.select(F.col("u").alias("src")).union(strong.select("v")).distinct()
    weak = marked.filter("not strong")
    ends = weak.select(F.col("doc_a").alias("src"), F.col("doc_b").alias("dst"), F.col("b").alias("dst_id"), "w") \
        .union(weak.select("doc_b", "doc_a", "a", "w"))
    core = copied.select(F.col("src").alias("dst"), F.lit(True).alias("core"))
    best = F.row_number().over(Window.partitionBy("src").orderBy(F.col("core").desc(), F.col("w").desc(),
                                                                   F.col("dst_id")))
    chosen = (ends.join(shuffled(copied), "src", "left_anti").join(shuffled(core), "dst", "left")
              .withColumn("core", F.coalesce("core", F.lit(False))).withColumn("nth", best).filter("nth = 1")
              .select(F.col("src").alias("u"), F.col("dst").alias("v")))
    return strong.union(chosen)


def named(comp: DataFrame, ids: DataFrame) -> DataFrame:
    """(g, doc, cluster, size) of every node of ``comp``: its component's smallest id (cluster.py's name)."""
    members = comp.withColumnRenamed("node", "doc").join(shuffled(ids), "doc").select("g", "root", "doc", "id")
    names = members.groupBy("g", "root").agg(F.min("id").alias("cluster"), F.count("*").alias("size"))
    return members.join(shuffled(names), ["g", "root"]).select("g", "doc", "cluster", "size")


__all__ = ["components", "copy_edges", "named"]
