"""Input of the Spark engine: records read by Spark itself, checked by the local readers' own rules.

The functions above "on the driver" run on executors, on Arrow batches; :func:`read_files` and
:func:`read_frame` plan the reading on the driver.

Every input format is read by Spark (JSON Lines and Parquet files, local or on any Hadoop file system) or
distributed by it (the files of a txt folder), and each record goes through the same functions as in
:mod:`doublet.documents`: ``_jsonl_record`` / ``_batch_records`` / ``_txt_record`` make the record and the
reader's ``_Checker`` decides whether it is a document, with the same messages. Only the duplicate-id rule
(the first record with an id wins) needs the whole corpus; it runs as a distributed aggregation on ids.

Each record gets ``ord``, its position among all records of all inputs in the order the local reader
yields them, and each accepted document gets ``doc``, its position among documents (the local engine's
document index, 0..n-1). Both are computed without sorting the corpus: Spark reads every file split
(a *segment*: file + first byte) into one partition, in file order, so a first pass counts the lines or
rows of each segment, the driver turns these counts (one row per segment) into offsets, and a second pass
numbers the rows. The driver receives only such counts and the input problems (which the summary lists).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from .. import documents as D
from .. import template
from ..documents import InputFormat, InputProblem

# The columns of a checked record: its order, where the first-seen message would point (``src``, ``locv``),
# status (0 = document, 1 = rejected), the document (with its site number, :func:`site_number`), and the problem
# the record's checker reported (if any).
RECORD_SCHEMA = ("ord long, src int, locv string, status byte, id string, text string, site long, p_source string, "
                 "p_where string, p_id string, p_reason string, p_action string, p_scope string")
_RECORD_TYPES = [pa.int64(), pa.int32(), pa.string(), pa.int8(), pa.string(), pa.string(), pa.int64()] + [pa.string()] * 6
_RECORD_NAMES = [c.split()[0] for c in RECORD_SCHEMA.split(", ")]
SOURCE_DATAFRAME = "<dataframe>"
DOCS_SCHEMA = "doc long, id string, text string, site long"
"""The documents as the engine uses them: index (input order), id, text, site number (0 = none)."""


class _RecordChecker(D._Checker):
    """The local reader's record rules, except the duplicate-id rule (applied across partitions later)."""

    def _claim(self, doc_id: str | None, rec: Any, src: int) -> str | None:
        return None


def duplicate_message(sources: list[tuple[str, str]], doc_id: str, first_src: int, first_locv: str) -> str:
    """The local reader's message for a duplicate id first seen at (``first_src``, ``first_locv``)."""
    checker = D._Checker(D._Spec("id", "text", 1, False), None)
    checker._sources = sources
    checker._seen[doc_id] = (first_src, first_locv)
    message = checker._claim(doc_id, None, first_src)
    assert message is not None
    return message


@dataclass(frozen=True)
class Source:
    """One input: its path as given and its format."""

    path: str
    fmt: InputFormat


class _Rows:
    """Accumulates checked records as Arrow columns."""

    def __init__(self) -> None:
        self.cols: list[list[Any]] = [[] for _ in _RECORD_NAMES]

    def add(self, checker: _RecordChecker, rec: Any, src: int, ord_: int, problems: list[InputProblem]) -> None:
        problems.clear()
        doc = checker.check(rec, src)
        if problems:
            p = problems[0]
            problem = [p.source, p.where, p.id, p.reason, p.action, p.scope]
        else:  # no problem: where one would be reported if this record's id turns out to be a duplicate
            problem = [rec.source if rec.source is not None else checker._sources[src][0], D._where(rec)] + [None] * 4
        values = [ord_, src, str(rec.locator[1]), 0 if doc is not None else 1,
                  doc.id if doc is not None else None, doc.text if doc is not None else None,
                  site_number(template.site_of(doc)) if doc is not None else 0, *problem]
        for col, v in zip(self.cols, values):
            col.append(v)

    def batch(self) -> pa.RecordBatch:
        out = pa.RecordBatch.from_arrays([pa.array(c, t) for c, t in zip(self.cols, _RECORD_TYPES)],
                                         names=_RECORD_NAMES)
        self.cols = [[] for _ in _RECORD_NAMES]
        return out


def site_number(value: Any) -> int:
    """A document's site number for the template rules (0 = no site): 63 bits of a digest of
    :func:`doublet.template.site_key` of its site (``meta["url"]`` or ``meta["site"]``, as
    :func:`doublet.template.site_of` reads it), never 0.

    The local engine numbers sites 1, 2, ... in order of first appearance (:class:`doublet.template.SiteNumbers`);
    the rule only asks whether the documents holding a fingerprint all have one and the same site
    (``site_lo == site_hi > 0``), so any injective positive numbering gives its answer, and a digest needs no
    pass over the corpus. Two sites share a number with probability about ``sites**2 / 2**64`` (1e-7 for a
    million sites).
    """
    key = template.site_key(value)
    if key is None:
        return 0
    return (int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") >> 1) or 1


def _checker(sources: Sequence[Source], spec: D._Spec, problems: list[InputProblem]) -> _RecordChecker:
    checker = _RecordChecker(spec, problems)
    for s in sources:
        checker.add_source(s.path, s.fmt)
    return checker


def _runs(files: list[str], blocks: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of rows of one segment in a batch."""
    n = len(files)
    cuts = [0] + [k for k in range(1, n) if files[k] != files[k - 1] or blocks[k] != blocks[k - 1]] + [n]
    return [(cuts[k], cuts[k + 1]) for k in range(len(cuts) - 1) if cuts[k] < cuts[k + 1]]


# ------------------------------------------------------------------------------------------ JSON Lines

@dataclass(frozen=True)
class _LineSegment:
    """Offsets of one segment of a JSON Lines file (from the counting pass)."""

    src: int
    first_line: int  # line number of its first line - 1
    first_record: int  # ord of its first record
    first_content: int  # the file's first line with content (its first record), 0 if none
    first_object: int  # the file's first line that is a JSON object, 0 if none


def _is_blank(line: bytes, lineno_is_1: bool) -> bool:
    body = line[len(D._UTF8_BOM):] if lineno_is_1 and line.startswith(D._UTF8_BOM) else line
    return not body.strip()


def jsonl_counts(batches: Iterator[pa.RecordBatch], limit: int) -> Iterator[pa.RecordBatch]:
    """Counting pass over (file, block, line) rows: per segment, lines, records (non-blank lines), and the
    first line (1-based within the segment, 0 = none) that holds content and that parses as an object."""
    seen: dict[tuple[str, int], list[int]] = {}
    for batch in batches:
        files, blocks = batch.column("file").to_pylist(), batch.column("block").to_numpy()
        lines = batch.column("line").to_pylist()
        for k, line in enumerate(lines):
            key = (files[k], int(blocks[k]))
            st = seen.setdefault(key, [0, 0, 0, 0])  # lines, records, first content, first object
            st[0] += 1
            if len(line) > limit:
                st[1] += 1
                continue
            if _is_blank(line, key[1] == 0 and st[0] == 1):
                continue
            st[1] += 1
            st[2] = st[2] or st[0]
            if not st[3]:
                body = line[len(D._UTF8_BOM):] if key[1] == 0 and st[0] == 1 and line.startswith(D._UTF8_BOM) else line
                text, _ = D._decode_line(body.rstrip(b"\r\n"))
                if D._parse_object(text, False)[0] is not None:
                    st[3] = st[0]
    if seen:
        keys = list(seen)
        yield pa.RecordBatch.from_arrays(
            [pa.array([k[0] for k in keys]), pa.array([k[1] for k in keys], pa.int64())]
            + [pa.array([seen[k][c] for k in keys], pa.int64()) for c in range(4)],
            names=["file", "block", "lines", "records", "first_content", "first_object"])


JSONL_COUNTS_SCHEMA = "file string, block long, lines long, records long, first_content long, first_object long"


def jsonl_segments(rows: list[Any], src: int, first_ord: int) -> tuple[dict[tuple[str, int], _LineSegment], int]:
    """Offsets of the segments of one JSON Lines input from its counting rows; and its number of records."""
    rows = sorted(rows, key=lambda r: (r["file"], r["block"]))
    line = rec = 0
    first_content = first_object = 0
    for r in rows:
        if not first_content and r["first_content"]:
            first_content = line + r["first_content"]
        if not first_object and r["first_object"]:
            first_object = line + r["first_object"]
        line += r["lines"]
    out: dict[tuple[str, int], _LineSegment] = {}
    line = 0
    for r in rows:
        out[(r["file"], r["block"])] = _LineSegment(src, line, first_ord + rec, first_content, first_object)
        line += r["lines"]
        rec += r["records"]
    return out, rec


def jsonl_records(batches: Iterator[pa.RecordBatch], sources: Sequence[Source], spec: D._Spec,
                  segments: dict[tuple[str, int], _LineSegment]) -> Iterator[pa.RecordBatch]:
    """Checked records of (file, block, line) rows, numbered with the counting pass's offsets."""
    problems: list[InputProblem] = []
    checker = _checker(sources, spec, problems)
    limit = D._record_byte_limit(spec.max_chars)
    state: dict[tuple[str, int], list[int]] = {}
    for batch in batches:
        out = _Rows()
        files, blocks = batch.column("file").to_pylist(), batch.column("block").to_numpy()
        lines = batch.column("line").to_pylist()
        for k, line in enumerate(lines):
            key = (files[k], int(blocks[k]))
            seg = segments[key]
            st = state.setdefault(key, [0, 0])  # lines, records seen in this segment
            st[0] += 1
            lineno = seg.first_line + st[0]
            if len(line) > limit:
                rec = D._Record(("line", lineno), reject=D._line_too_long(len(line) + 1, spec.max_chars))
            elif _is_blank(line, lineno == 1):
                continue
            else:
                body = line[len(D._UTF8_BOM):] if lineno == 1 and line.startswith(D._UTF8_BOM) else line
                rec = D._jsonl_record(lineno, body, spec, not seg.first_object or lineno <= seg.first_object,
                                      lineno == seg.first_content)
            out.add(checker, rec, seg.src, seg.first_record + st[1], problems)
            st[1] += 1
        yield out.batch()


# ------------------------------------------------------------------------------------------ Parquet

def parquet_segments(rows: list[Any], src: int, first_ord: int) -> tuple[dict[tuple[str, int], tuple[int, int]], int]:
    """(src, first row) of each segment of one Parquet input, from (file, block, count) rows; and its rows."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    row = 0
    for r in sorted(rows, key=lambda r: (r["file"], r["block"])):
        out[(r["file"], r["block"])] = (src, row)
        row += r["count"]
    return out, row


def parquet_records(batches: Iterator[pa.RecordBatch], sources: Sequence[Source], spec: D._Spec,
                    segments: dict[tuple[str, int], tuple[int, int]], first_ords: Sequence[int]) -> Iterator[pa.RecordBatch]:
    """Checked records of Parquet rows (file, block, id and text columns under their own names)."""
    problems: list[InputProblem] = []
    checker = _checker(sources, spec, problems)
    state: dict[tuple[str, int], int] = {}
    for batch in batches:
        out = _Rows()
        files, blocks = batch.column("file").to_pylist(), batch.column("block").to_numpy()
        data = batch.drop_columns(["file", "block"])
        for start, end in _runs(files, blocks):
            key = (files[start], int(blocks[start]))
            src, first_row = segments[key]
            done = state.get(key, 0)
            for rec in D._batch_records(data.slice(start, end - start), first_row + done, spec):
                out.add(checker, rec, src, first_ords[src] + rec.locator[1], problems)
            state[key] = done + end - start
        yield out.batch()


# ------------------------------------------------------------------------------------------ txt folders

def txt_files(folder: Path, src: int, spec: D._Spec, checker: D._Checker) -> list[str]:
    """The files of a txt folder in the local reader's order; listing errors go to ``checker``'s problems."""
    files, errors = D._list_txt_files(folder)
    for exc in errors:
        rec = D._Record(("path", ""), where="folder", source=str(exc.filename or folder),
                        reject=f"cannot list this folder ({D._describe(exc)}); the files in it were skipped")
        checker.check(rec, src)
    return files


def txt_records(batches: Iterator[pa.RecordBatch], sources: Sequence[Source], spec: D._Spec) -> Iterator[pa.RecordBatch]:
    """Checked records of (ord, src, rel) rows: each file read by the local reader's ``_txt_record``."""
    problems: list[InputProblem] = []
    checker = _checker(sources, spec, problems)
    for batch in batches:
        out = _Rows()
        for ord_, src, rel in zip(*(batch.column(c).to_pylist() for c in ("ord", "src", "rel"))):
            out.add(checker, D._txt_record(Path(sources[src].path) / rel, rel, spec.max_chars), src, ord_, problems)
        yield out.batch()


# ------------------------------------------------------------------------------------------ DataFrames

def partition_rows(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Number the rows of each partition: (part, k, value...) in the partition's order."""
    from pyspark import TaskContext

    part = TaskContext.get().partitionId()  # type: ignore[union-attr]
    k = 0
    for batch in batches:
        n = batch.num_rows
        yield pa.RecordBatch.from_arrays([pa.array(np.full(n, part, np.int32)), pa.array(np.arange(k, k + n))]
                                         + batch.columns, names=["part", "k"] + batch.schema.names)
        k += n


def frame_records(batches: Iterator[pa.RecordBatch], spec: D._Spec, offsets: dict[int, int]) -> Iterator[pa.RecordBatch]:
    """Checked records of (part, k, id, text[, site]) rows of a DataFrame; ``offsets[part]`` = ord of its first row."""
    problems: list[InputProblem] = []
    checker = _checker([Source(SOURCE_DATAFRAME, InputFormat("parquet", None))], spec, problems)
    for batch in batches:
        out = _Rows()
        parts, ks = batch.column("part").to_numpy(), batch.column("k").to_numpy()
        ords = np.array([offsets[int(p)] for p in parts], np.int64) + ks if len(parts) else ks
        data = batch.drop_columns(["part", "k"])
        for k, rec in enumerate(D._batch_records(data, 0, spec)):
            rec.locator = ("row", int(ords[k]))
            out.add(checker, rec, 0, int(ords[k]), problems)
        yield out.batch()


# ------------------------------------------------------------------------------------------ documents

def documents(batches: Iterator[pa.RecordBatch], skipped: Any) -> Iterator[pa.RecordBatch]:
    """(doc, id, text, site) of the accepted records; ``skipped`` = broadcast sorted ords of the records that are not
    documents (rejected or duplicate), so a document's index is its ord less the skipped records before it."""
    skipped = skipped.value
    for batch in batches:
        ords = batch.column("ord").to_numpy()
        idx = np.searchsorted(skipped, ords)
        dup = (idx < skipped.shape[0]) & (skipped[np.minimum(idx, max(skipped.shape[0] - 1, 0))] == ords) \
            if skipped.shape[0] else np.zeros(ords.shape[0], bool)
        keep = pa.array(~dup)
        yield pa.RecordBatch.from_arrays([pa.array(ords[~dup] - idx[~dup]), batch.column("id").filter(keep),
                                          batch.column("text").filter(keep), batch.column("site").filter(keep)],
                                         names=["doc", "id", "text", "site"])


def reader_of(fmt: InputFormat, path: str) -> str:
    """Which Spark reading path serves ``fmt``; a message saying what to do for the formats it does not read."""
    if fmt.kind in ("jsonl", "parquet", "txtdir"):
        if fmt.kind == "jsonl" and path.lower().endswith(".zstd"):
            raise ValueError(f"{path}: Spark reads Zstandard files named .zst; rename the file to .zst")
        return fmt.kind
    what = "a single text file" if fmt.kind == "textfile" else fmt.kind.upper()
    raise ValueError(f"{path}: the Spark engine reads JSON Lines, Parquet and txt folders, not {what}; "
                     "convert the file (e.g. to Parquet) or use --engine local")


# ------------------------------------------------------------------------------------------ on the driver

def persist(df: DataFrame, cached: list[Any]) -> DataFrame:
    """``df`` cached on the executors (memory, then disk), and remembered in ``cached`` to be released."""
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    cached.append(df)
    return df


def shuffled(df: DataFrame) -> DataFrame:
    """``df`` as the side of a join that Spark must shuffle, never broadcast: a broadcast join first collects
    its smaller side to the driver, and the sides here are documents, ids or pairs."""
    return df.hint("merge")


def check_inputs(inputs: Sequence[str], *, id_field: str = "id", text_field: str = "text") -> list[Source]:
    """The inputs' formats, after the local reader's checks of local paths (exists, Parquet columns): raises
    FileNotFoundError or ValueError with what to do, before any Spark work."""
    spec = D._make_spec(id_field, text_field, 1, False)
    sources = [Source(str(p), D.detect_format(p)) for p in inputs]
    for s in sources:
        if "://" not in s.path:
            D._prepare_input(Path(s.path), spec)
        reader_of(s.fmt, s.path)
    return sources


def read_files(spark: SparkSession, inputs: Sequence[str], spec: D._Spec,
               cached: list[Any], first_docs: bool = False) -> Any:
    """(doc, id, text, site) rows of the documents of ``inputs`` (cached), and the input problems in record order.
    ``spec.site_field``: the JSON Lines field or Parquet column of each record's site, read by the local
    reader's rule (a string or a number, stripped; empty: none). With ``first_docs``, also the index of the
    first document of each input (and, last, the number of documents): ``find --against`` splits there."""
    sources = check_inputs(inputs, id_field=spec.id_field, text_field=spec.text_field)
    listing_problems: list[InputProblem] = []
    checker = _checker(sources, spec, listing_problems)
    keyed: list[tuple[tuple[int, int], InputProblem]] = []
    parts: list[DataFrame] = []
    first = 0
    firsts: list[int] = []  # each input's first record ord
    for src in range(len(sources)):
        firsts.append(first)
        part, count = _read_source(spark, sources, src, spec, first, checker)
        keyed += [((first, -1), p) for p in listing_problems]  # a txt folder's listing errors come first
        listing_problems.clear()
        parts.append(part)
        first += count
    records = parts[0]
    for p in parts[1:]:
        records = records.unionByName(p)
    firsts.append(first)
    docs, problems, skipped = _documents_of(spark, records, sources, keyed, cached)
    if first_docs:  # a document's index is its ord less the records skipped before it
        return docs, problems, [int(f - np.searchsorted(skipped, f)) for f in firsts]
    return docs, problems


def _read_source(spark: SparkSession, sources: list[Source], src: int, spec: D._Spec, first: int,
                 checker: D._Checker) -> tuple[DataFrame, int]:
    """Checked records of one input (RECORD_SCHEMA rows), and how many records it has."""
    s = sources[src]
    meta = [F.col("_metadata.file_path").alias("file"), F.col("_metadata.file_block_start").alias("block")]
    if s.fmt.kind == "jsonl":
        scan = spark.read.option("lineSep", "\n").text(s.path).select(*meta, F.col("value").cast("binary").alias("line"))
        rows = scan.mapInArrow(partial(jsonl_counts, limit=D._record_byte_limit(spec.max_chars)),
                               JSONL_COUNTS_SCHEMA).collect()  # one row per file split
        segments, count = jsonl_segments(rows, src, first)
        return scan.mapInArrow(partial(jsonl_records, sources=sources, spec=spec, segments=segments),
                               RECORD_SCHEMA), count
    if s.fmt.kind == "parquet":
        found = spark.read.parquet(s.path)
        # the site column when the file has one, as the local reader reads it (a missing one: no sites)
        cols = list(dict.fromkeys([spec.id_field, spec.text_field]
                                  + ([spec.site_field] if spec.site_field in found.columns else [])))
        scan = found.select(*meta, *cols)
        rows = scan.groupBy("file", "block").count().collect()  # one row per file split
        psegments, count = parquet_segments(rows, src, first)
        first_ords = [0] * len(sources)
        first_ords[src] = first
        return scan.mapInArrow(partial(parquet_records, sources=sources, spec=spec, segments=psegments,
                                       first_ords=first_ords), RECORD_SCHEMA), count
    files = txt_files(Path(s.path), src, spec, checker)
    listing = spark.createDataFrame([(first + k, src, rel) for k, rel in enumerate(files)],
                                    "ord long, src int, rel string")
    return listing.mapInArrow(partial(txt_records, sources=sources, spec=spec), RECORD_SCHEMA), len(files)


def read_frame(df: DataFrame, spec: D._Spec, cached: list[Any]) -> tuple[DataFrame, list[InputProblem]]:
    """(doc, id, text, site) rows of a DataFrame's documents in its own row order (cached), and its input
    problems. ``spec.site_field`` (optional) names the column of each row's site (a URL, host or name)."""
    named = [(spec.id_field, "id"), (spec.text_field, "text")] + ([(spec.site_field, "site")] if spec.site_field else [])
    for name, what in named:
        if name not in df.columns:
            raise ValueError(f"the DataFrame has no column {name!r} (columns: {', '.join(df.columns)}); "
                             f"pass {what}_col= to name the column that holds the {what}")
    cols = list(dict.fromkeys(name for name, _ in named))
    types = dict(df.dtypes)
    schema = ", ".join(["part int", "k long"] + [f"`{c}` {types[c]}" for c in cols])
    numbered = persist(df.select(*cols).mapInArrow(partition_rows, schema), cached)  # one order for both passes
    counts = {int(r["part"]): int(r["count"]) for r in numbered.groupBy("part").count().collect()}
    offsets, first = {}, 0
    for part in sorted(counts):
        offsets[part], first = first, first + counts[part]
    records = numbered.mapInArrow(partial(frame_records, spec=spec, offsets=offsets), RECORD_SCHEMA)
    docs, problems, _ = _documents_of(df.sparkSession, records,
                                      [Source(SOURCE_DATAFRAME, InputFormat("parquet", None))], [], cached)
    return docs, problems


def _documents_of(spark: SparkSession, records: DataFrame, sources: list[Source],
                  keyed: list[tuple[tuple[int, int], InputProblem]],
                  cached: list[Any]) -> tuple[DataFrame, list[InputProblem], np.ndarray]:
    """Documents of checked records: the first record of each id wins; each document gets its index. Also
    returns the sorted ords of the records that are not documents."""
    records = persist(records, cached)
    # input problems (the summary lists them all, as the local engine's does)
    problem_rows = records.filter("p_reason is not null").select("ord", "p_source", "p_where", "p_id", "p_reason",
                                                                 "p_action", "p_scope").collect()
    accepted = records.filter("status = 0")
    firsts = (accepted.groupBy("id").agg(F.count("*").alias("n"), F.min(F.struct("ord", "src", "locv")).alias("first"))
              .filter("n > 1").select("id", "first"))
    dup_rows = (accepted.select("id", "ord", "p_source", "p_where").join(shuffled(firsts), "id")
                .filter(F.col("ord") != F.col("first.ord")).collect())
    src_list = [(s.path, {"txtdir": "path", "parquet": "row"}.get(s.fmt.kind, "line")) for s in sources]
    dup_ords = {int(r["ord"]) for r in dup_rows}
    keyed = keyed + [((int(r["ord"]), 0), InputProblem(r["p_source"], r["p_where"], r["p_id"], r["p_reason"],
                                                        r["p_action"], r["p_scope"]))
                     for r in problem_rows if int(r["ord"]) not in dup_ords]  # a duplicate is not "repaired"
    keyed += [((int(r["ord"]), 0), InputProblem(r["p_source"], r["p_where"], r["id"],
                                                duplicate_message(src_list, r["id"], r["first"]["src"],
                                                                  r["first"]["locv"]), D.REJECTED, "record"))
              for r in dup_rows]
    skipped = np.array(sorted({int(r["ord"]) for r in problem_rows if r["p_action"] == D.REJECTED} | dup_ords),
                       np.int64)
    skipped_bc = spark.sparkContext.broadcast(skipped)
    cached.append(skipped_bc)
    docs = persist(accepted.select("ord", "id", "text", "site").mapInArrow(partial(documents, skipped=skipped_bc),
                                                                          DOCS_SCHEMA), cached)
    docs.count()
    records.unpersist()
    return docs, [p for _, p in sorted(keyed, key=lambda r: r[0])], skipped


__all__ = ["RECORD_SCHEMA", "Source", "check_inputs", "documents", "duplicate_message", "frame_records",
           "jsonl_counts", "jsonl_records", "jsonl_segments", "parquet_records", "parquet_segments",
           "partition_rows", "persist", "read_files", "read_frame", "reader_of", "shuffled", "txt_files",
           "txt_records"]
