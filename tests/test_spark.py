"""The Spark engine gives the local engine's answer: the same pairs (every field, passages included), clusters,
templates (boilerplate.jsonl and the summary's templates), counts and input problems, through the command line
(`--engine spark`), Spark's own readers (JSON Lines, Parquet, txt folders; `--site-field`, `--template`) and the
DataFrame API.

One real local SparkSession (`local[2]`, no mocks) serves the whole module. Its driver may receive at most
1 MB per job (`spark.driver.maxResultSize`), less than the dev-reuters corpus (16 MB) or its fingerprints
(9 MB): a stage that collected them would fail here.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import doublet
from doublet import cli
from doublet.cluster import components as local_components

pyspark = pytest.importorskip("pyspark", reason="pip install 'doublet[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (apt-get install default-jre-headless)", allow_module_level=True)

import doublet.spark  # noqa: E402
from doublet import dedup  # noqa: E402
from doublet.engines import local as local_engine  # noqa: E402
from doublet.engines import spark_graph  # noqa: E402
from doublet.engines.spark import PLAN_STRING_CHARS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "examples" / "seeds"
REUTERS = ROOT.parent / "shared" / "bench" / "dev-reuters" / "corpus.jsonl"


@pytest.fixture(scope="module")
def spark():
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("doublet-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.driver.maxResultSize", "1m")
               .config("spark.driver.memory", "2g")
               .config("spark.sql.maxPlanStringLength", PLAN_STRING_CHARS)  # as the engine's own session
               .config("spark.sql.ui.retainedExecutions", "100")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _reuters(n: int | None = None) -> list[dict]:
    if not REUTERS.exists():
        pytest.skip("../shared/bench is not present")
    with open(REUTERS, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return rows[:n] if n else rows


def _find(*args: str) -> None:
    assert cli.main(["find", "-q", *args]) == 0


def _same_outputs(local: Path, spark: Path) -> dict:
    """Byte-identical pairs.jsonl, clusters.jsonl, boilerplate.jsonl and templates.parquet; the same counts,
    candidates, templates and problems."""
    for name in ("pairs.jsonl", "clusters.jsonl", "boilerplate.jsonl", "templates.parquet"):
        assert (spark / name).read_bytes() == (local / name).read_bytes(), name
    a, b = (json.loads((d / "summary.json").read_text()) for d in (local, spark))
    assert b["engine"] == "spark"
    for key in ("counts", "parameters", "problems", "inputs", "templates"):
        assert b[key] == a[key], key
    # how many documents a worker prepared depends on the engine's caching, like its timings
    assert b["candidates"] == {k: v for k, v in a["candidates"].items() if k != "documents_prepared"}
    return b


def test_cli_on_dev_reuters_same_files_as_local(spark, tmp_path):
    _reuters(1)
    _find(str(REUTERS), "-o", str(tmp_path / "local"))
    _find(str(REUTERS), "-o", str(tmp_path / "spark"), "--engine", "spark")
    summary = _same_outputs(tmp_path / "local", tmp_path / "spark")
    assert summary["counts"]["pairs"] > 6000 and summary["counts"]["passages"] > 9000
    shuffled = summary["spark"]["shuffle"]
    assert shuffled["candidates"]["write"] > 0 and shuffled["verify+align"]["write"] > 0


@pytest.mark.parametrize("name", ["dev-sites-small", "dev-popular"])
def test_cli_on_template_dev_sets_same_files_as_local(spark, tmp_path, name):
    """Sites' navigation and footers (dev-sites-small) and stories reprinted by hundreds of outlets beside
    their chrome (dev-popular): the template model decides the same fingerprints in both engines (and the
    facts rule the same pairs: dev-popular's wire formulas with other figures)."""
    corpus = ROOT.parent / "shared" / "bench" / name / "corpus.jsonl"
    if not corpus.exists():
        pytest.skip("../shared/bench is not present")
    _find(str(corpus), "-o", str(tmp_path / "local"))
    _find(str(corpus), "-o", str(tmp_path / "spark"), "--engine", "spark")
    summary = _same_outputs(tmp_path / "local", tmp_path / "spark")
    assert summary["templates"]["fingerprints"] > 300 and summary["templates"]["blocks"] > 20
    assert summary["templates"]["template_matches"] >= (10 if name == "dev-popular" else 0)


FOOTERS = {
    "valley": "This report was prepared by the newsroom of the Northern Valley Courier and may be shared with "
              "attribution to its authors. Readers who notice an error in this article are asked to write to the "
              "editors, who review every correction request within two working days of receiving it.",
    "harbour": "The Harbour Gazette is an independent paper owned by its readers and staff since its founding in "
               "the old port district. Subscribers receive the weekend edition at home and may cancel their "
               "subscription at any time by calling the office during ordinary business hours.",
}


def _site_corpus(tmp_path: Path) -> list[str]:
    """Stories of two sites, each with its site's prose footer, and of no site; site values in the forms the
    local reader accepts (URLs and hosts of one site, numbers and number strings) and ignores (empty, boolean):
    half in JSON Lines, half in Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _reuters(60)
    valley = ["https://www.Valley-Courier.example/news/1", "valley-courier.example", " m.valley-courier.example ",
              "http://valley-courier.example:8080/a?b=c", "VALLEY-COURIER.EXAMPLE", "valley-courier.example/x"]
    harbour = [42, "42", " 42", 42, "42 ", 42]
    records = []
    for k in range(6):
        records.append({"id": f"v{k}", "text": rows[k]["text"] + "\n\n" + FOOTERS["valley"], "site": valley[k]})
        records.append({"id": f"h{k}", "text": rows[10 + k]["text"] + "\n\n" + FOOTERS["harbour"], "site": harbour[k]})
    for k, site in enumerate(["", "   ", True, None, 3.5]):  # no site
        records.append({"id": f"n{k}", "text": rows[20 + k]["text"], "site": site})
    records.append({"id": "reprint", "text": rows[3]["text"], "site": "other.example"})  # reuse across sites
    records += [{"id": r["id"], "text": r["text"]} for r in rows[30:]]
    # the valley footer on another site, after the valley documents: the same text on two sites is not a site's
    # template (a count over only the first max_df + 1 documents of its fingerprints would say it is)
    records.append({"id": "w0", "text": rows[50]["text"] + "\n\n" + FOOTERS["valley"], "site": "elsewhere.example"})
    first, second = records[::2], records[1::2]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in first), encoding="utf-8")
    pq.write_table(pa.table({"id": [r["id"] for r in second], "text": [r["text"] for r in second],
                             "site": [None if not isinstance(r.get("site"), (str, int)) or isinstance(r["site"], bool)
                                      else str(r["site"]) for r in second]}), tmp_path / "b.parquet")
    return [str(tmp_path / "a.jsonl"), str(tmp_path / "b.parquet")]


@pytest.mark.parametrize("max_df", [1000, 3])
def test_site_field_same_templates_as_local(spark, tmp_path, max_df):
    """--site-field: a prose footer repeated within each of two sites is that site's template in both engines
    (with max_df 3, the footer's hashes are in more than max_df + 1 documents: Spark's counts over all of them,
    not the rows it keeps, decide). Without the field the footers are reuse. The site rule alone beside shape:
    the frequency rule takes both footers (prose beyond the text of 6-7 pages) as templates whatever their
    sites (test_frequency_rule_same_as_local; with sites: test_dataframe_site_col_same_answer_as_local)."""
    inputs = _site_corpus(tmp_path)
    rules = ["--template-rules", "shape,site", "--max-df", str(max_df)]
    options = ["--site-field", "site", *rules]
    _find(*inputs, "-o", str(tmp_path / "plain"), *rules)  # no site field
    _find(*inputs, "-o", str(tmp_path / "local"), *options)
    _find(*inputs, "-o", str(tmp_path / "spark"), "--engine", "spark", *options)
    summary = _same_outputs(tmp_path / "local", tmp_path / "spark")
    assert summary["templates"]["by_rule"]["site"] >= 8  # the harbour footer's
    pairs = [json.loads(line) for line in (tmp_path / "spark" / "pairs.jsonl").read_text().splitlines()]
    assert {(p["a"], p["b"]) for p in pairs} >= {("reprint", "v3")}
    assert not [p for p in pairs if p["a"][0] == p["b"][0] == "h"]  # a site's footer is not reuse
    # the valley footer is on two sites: content, found in 7 documents (reuse under max_df 1000, no pair over 3)
    valley = [p for p in pairs if {p["a"][0], p["b"][0]} <= {"v", "w"}]
    assert len(valley) == (21 if max_df >= 7 else 0)
    if max_df >= 7:  # without the field, the harbour footer (6 documents) is reuse too
        plain = [json.loads(line) for line in (tmp_path / "plain" / "pairs.jsonl").read_text().splitlines()]
        assert len([p for p in plain if p["a"][0] == p["b"][0] == "h"]) == 15


def test_dataframe_site_col_same_answer_as_local(spark, tmp_path):
    """doublet.spark.run(df, site_col=...) on a DataFrame: the local engine's answer on the same records read
    with site_field (site names, numbers and values that are no site)."""
    inputs = _site_corpus(tmp_path)
    records = [json.loads(line) for line in Path(inputs[0]).read_text().splitlines()]
    items = [(r["id"], r["text"], None if r.get("site") is None else str(r["site"])) for r in records]
    source = tmp_path / "c.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": t, "site": st}) + "\n" for i, t, st in items),
                      encoding="utf-8")
    cfg = doublet.Config(workers=1)
    local = local_engine.run(doublet.documents.read_documents([source], site_field="site"), cfg)
    df = spark.createDataFrame(items, "id string, text string, site string")
    run = doublet.spark.run(df, config=cfg, site_col="site")
    try:
        got = [r.asDict(recursive=True) for r in run.pairs.orderBy("a", "b").toLocalIterator()]
        assert got == [p.to_dict() for p in local.pairs]
        assert [r["cluster"] for r in run.clusters.orderBy("doc").toLocalIterator()] == local.clusters
        assert run.template_blocks == local.template_blocks
        assert run.summary["templates"] == local.summary["templates"]
        assert run.summary["templates"]["by_rule"]["site"] > 0
    finally:
        run.close()
        local.close()


def test_template_texts_same_as_local(spark, tmp_path):
    """--template FILE: the user's template text is masked in both engines (its fingerprints by the user
    rule), wherever it sits in a document."""
    rows = _reuters(300)
    footer = FOOTERS["harbour"]
    source = tmp_path / "corpus.jsonl"
    source.write_text("".join(json.dumps({"id": r["id"], "text": (footer + "\n\n" + r["text"]) if k % 40 == 0 else
                                          (r["text"] + " " + footer) if k % 40 == 1 else r["text"]}) + "\n"
                              for k, r in enumerate(rows)), encoding="utf-8")
    (tmp_path / "footer.txt").write_text(footer, encoding="utf-8")
    options = ["--template", str(tmp_path / "footer.txt")]
    _find(str(source), "-o", str(tmp_path / "local"), *options)
    _find(str(source), "-o", str(tmp_path / "spark"), "--engine", "spark", *options)
    summary = _same_outputs(tmp_path / "local", tmp_path / "spark")
    assert summary["templates"]["by_rule"]["user"] > 5
    assert summary["parameters"]["template_texts"] == 1


PITCH = ("Sign up for our morning briefing to receive the most important business stories of the day in your inbox "
         "before the markets open, and join the thousands of readers who start their working day with the picks of "
         "our editors.")


@pytest.mark.parametrize("max_df", [1000, 5])
def test_frequency_rule_same_as_local(spark, tmp_path, max_df):
    """The frequency rule: a prose pitch on 40 pages of different stories, before the story on some and after it
    on others (too few at a page's edge for the edge rule), is far more common than the text around it and
    lies beyond each page's own text: a template (FREQUENCY) in both engines, not 780 pairs of reuse. On its
    first 6 pages it sits inside the story; with max_df 5 only those reach settle (the rows of a hash's first
    max_df + 1 documents), so the outliers must be counted over every row, as the local engine counts them."""
    rows = _reuters(200)
    records = []
    for k in range(40):
        paras = rows[100 + k]["text"].split("\n")
        if k < 6:
            text = "\n".join(paras[:len(paras) // 2] + ["", PITCH, ""] + paras[len(paras) // 2:])
        else:
            text = rows[100 + k]["text"] + "\n\n" + PITCH if k % 2 else PITCH + "\n\n" + rows[100 + k]["text"]
        records.append({"id": f"p{k:02d}", "text": text})
    records += [{"id": r["id"], "text": r["text"]} for r in rows[:60]]
    source = tmp_path / "corpus.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    options = ["--max-df", str(max_df)]
    _find(str(source), "-o", str(tmp_path / "local"), *options)
    _find(str(source), "-o", str(tmp_path / "spark"), "--engine", "spark", *options)
    summary = _same_outputs(tmp_path / "local", tmp_path / "spark")
    assert summary["templates"]["by_rule"]["frequency"] >= 9
    assert summary["templates"]["occurrences_by_rule"]["frequency"] >= 9 * 40
    blocks = [json.loads(line) for line in (tmp_path / "spark" / "boilerplate.jsonl").read_text().splitlines()]
    assert blocks[0]["text"] == PITCH and blocks[0]["rule"] == "frequency" and blocks[0]["documents"] == 40
    assert summary["counts"]["pairs"] < 10  # the pitch is no reuse


def test_lone_common_rows_same_as_local(spark, tmp_path):
    """With ``--common-df 4`` many of Reuters' recurring fingerprints are common and alone in their documents
    (they propose no pair): the Spark engine finds the lone rows per document bucket and gives the local engine's
    files, from fewer pair occurrences than at the default."""
    rows = _reuters(400)
    source = tmp_path / "corpus.jsonl"
    source.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in rows), encoding="utf-8")
    options = ["--common-df", "4", "--max-df", "200"]
    _find(str(source), "-o", str(tmp_path / "local"), *options)
    _find(str(source), "-o", str(tmp_path / "spark"), "--engine", "spark", *options)
    summary = _same_outputs(tmp_path / "local", tmp_path / "spark")
    _find(str(source), "-o", str(tmp_path / "default"), "--max-df", "200")
    default = json.loads((tmp_path / "default" / "summary.json").read_text())
    assert summary["candidates"]["pair_occurrences"] < default["candidates"]["pair_occurrences"]


def test_cli_on_seed_folder_same_files_as_local(spark, tmp_path):
    _find(str(SEEDS), "-o", str(tmp_path / "local"))
    _find(str(SEEDS), "-o", str(tmp_path / "spark"), "--engine", "spark")
    _same_outputs(tmp_path / "local", tmp_path / "spark")
    pair = json.loads((tmp_path / "spark" / "pairs.jsonl").read_text())
    assert pair["kind"] == "reuse" and len(pair["passages"]) == 4
    with doublet.find_files([str(SEEDS)], engine="spark") as result:  # the Python API's engine= (a Result)
        assert [p.to_dict() for p in result.pairs] == [pair]
        assert result.cluster_of() == doublet.find_files([str(SEEDS)]).cluster_of()


def test_bad_records_and_every_format_read_by_spark(spark, tmp_path):
    """JSON Lines (BOM, CRLF, blank lines, bad JSON, missing fields, empty texts, too long), Parquet and a
    txt folder in one run; ids repeated within and across inputs. Same documents, problems and pairs."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _reuters(400)
    lines = ["\ufeff" + json.dumps({"id": "j0", "text": rows[0]["text"]})]
    lines += ["", "  ", "{not json", "[1, 2]", json.dumps({"text": "no id"}), json.dumps({"id": "j1"}),
              json.dumps({"id": 7, "text": rows[1]["text"]}), json.dumps({"id": "j2", "text": "   "}),
              json.dumps({"id": "j3", "text": "x" * 5000}), json.dumps({"id": "j0", "text": "again"})]
    lines += [json.dumps({"id": r["id"], "text": r["text"]}) for r in rows[2:200]]
    (tmp_path / "a.jsonl").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    pq.write_table(pa.table({"id": [r["id"] for r in rows[150:400]] + ["j1", None],
                             "text": [r["text"] for r in rows[150:400]] + ["dup of nothing", "no id"]}),
                   tmp_path / "b.parquet", row_group_size=60)
    folder = tmp_path / "txt"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "x.txt").write_text(rows[3]["text"] + " extra words at the end", encoding="utf-8")
    (folder / "y.txt").write_bytes(rows[5]["text"].encode("cp1252", "replace"))
    (folder / "empty.txt").write_text("")
    (folder / ".hidden.txt").write_text(rows[6]["text"])
    inputs = [str(tmp_path / "a.jsonl"), str(tmp_path / "b.parquet"), str(folder)]
    options = ["--max-chars", "4000"]
    _find(*inputs, "-o", str(tmp_path / "local"), *options)
    _find(*inputs, "-o", str(tmp_path / "spark"), "--engine", "spark", *options)
    summary = _same_outputs(tmp_path / "local", tmp_path / "spark")
    assert summary["counts"]["rejected"] > 50 and summary["counts"]["repaired"] >= 1
    assert summary["counts"]["pairs"] > 10  # 18 since the frequency rule (27 before it)
    assert {p["reason"].split(" ")[0] for p in summary["problems"]} >= {"invalid", "duplicate", "empty", "document"}


def test_dataframe_run_same_answer_with_large_buckets(spark):
    """A DataFrame in several partitions: LSH buckets over max_bucket (many copies of one text, ids not in input
    order) give the local engine's stars, so the same pairs, clusters and dedup plan."""
    rows = _reuters(1200)
    copies = [(f"copy-{k:02d}", rows[10]["text"]) for k in random.Random(5).sample(range(30), 12)]
    items = [(r["id"], r["text"]) for r in rows[:600]] + copies + [(r["id"], r["text"]) for r in rows[600:]]
    cfg = doublet.Config(max_bucket=4, workers=1)
    local = local_engine.run(doublet.documents.documents_from_items(items), cfg, keep_corpus=True)
    df = spark.createDataFrame(items, "id string, text string")  # partitions in list order
    assert df.rdd.getNumPartitions() > 1
    run = doublet.spark.run(df, config=cfg)
    try:
        got = [r.asDict(recursive=True) for r in run.pairs.orderBy("a", "b").toLocalIterator()]
        assert got == [p.to_dict() for p in local.pairs]
        rows_c = list(run.clusters.orderBy("doc").toLocalIterator())
        assert [r["id"] for r in rows_c] == local.ids
        assert [r["cluster"] for r in rows_c] == local.clusters
        assert [r["near_duplicate_cluster"] for r in rows_c] == local.near_duplicate_clusters
        assert sum(p.kind == "near-duplicate" for p in local.pairs) >= 11
        for keep in ("first", "longest"):
            want = [r.to_dict() for r in dedup.plan(local, keep, cfg)[1]]
            assert [json.loads(r["line"]) for r in run.removed(keep).orderBy("doc").toLocalIterator()] == want
    finally:
        run.close()
        local.close()


def test_dataframe_find_and_dedup(spark):
    """doublet.spark.find / dedup on a DataFrame with integer ids and other columns; rows with bad input are
    reported, not kept."""
    text = _reuters(3)[2]["text"]
    rows = [(1, "a", text), (2, "b", "Another text entirely, about something else. " * 5), (3, "c", text),
            (4, "d", text + " One more sentence at the end of it."), (5, "e", "   "), (3, "f", "repeated id")]
    df = spark.createDataFrame(rows, "key long, other string, body string")
    pairs, clusters = doublet.spark.find(df, id_col="key", text_col="body")
    assert {(r["a"], r["b"], r["kind"]) for r in pairs.collect()} == {
        ("1", "3", "near-duplicate"), ("1", "4", "near-duplicate"), ("3", "4", "near-duplicate")}
    assert {r["id"]: r["cluster"] for r in clusters.collect()} == {"1": "1", "2": "2", "3": "1", "4": "1"}
    kept, removed = doublet.spark.dedup(df, id_col="key", text_col="body", keep="longest")
    assert sorted((r["key"], r["other"]) for r in kept.collect()) == [(2, "b"), (4, "d")]
    assert {(r["id"], r["kept"], r["via"]) for r in removed.collect()} == {("1", "4", "pair"), ("3", "4", "pair")}


def test_dedup_cli_same_output_as_local(spark, tmp_path):
    rows = _reuters(1500)
    source = tmp_path / "in" / "corpus.jsonl"
    source.parent.mkdir()
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for engine_name in ("local", "spark"):
        args = ["dedup", "-q", str(source), "-o", str(tmp_path / engine_name), "--keep", "longest",
                "--engine", engine_name]
        assert cli.main(args) == 0
    for name in ("corpus.jsonl", "removed.jsonl", "pairs.jsonl", "clusters.jsonl"):
        assert (tmp_path / "spark" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    summary = json.loads((tmp_path / "spark" / "summary.json").read_text())
    assert summary["dedup"]["removed"] >= 5


def test_usage_errors_before_spark_starts(tmp_path, capsys):
    (tmp_path / "a.csv").write_text("id,text\na,some text\n")
    assert cli.main(["find", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o"), "--engine", "spark"]) == 2
    assert "input not found" in capsys.readouterr().err
    assert cli.main(["find", str(tmp_path / "a.csv"), "-o", str(tmp_path / "o"), "--engine", "spark"]) == 2
    assert "convert the file" in capsys.readouterr().err


def test_components_are_cluster_py_components(spark):
    rng = np.random.default_rng(3)
    n = 300
    i, j = rng.integers(0, n, 260), rng.integers(0, n, 260)
    i, j = np.r_[i, np.arange(100, 139)], np.r_[j, np.arange(101, 140)]  # and one long path
    edges = spark.createDataFrame([(0, int(a), int(b)) for a, b in zip(i, j)], "g int, u long, v long")
    got = {r["node"]: r["root"] for r in spark_graph.components(edges).collect()}
    want = local_components(n, i, j)
    on_edges = {int(x) for a, b in zip(i, j) if a != b for x in (a, b)}
    assert got == {k: int(want[k]) for k in on_edges}


def test_cli_shows_stages_and_keeps_java_quiet(tmp_path):
    """`doublet find --engine spark` as a user runs it (its own JVM): each stage shown as it runs, and none of
    Java's log4j WARN lines nor PySpark's "Setting default log level" notice on stderr; the same pairs as the
    local engine."""
    import subprocess

    script = Path(sys.executable).with_name("doublet")
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "COLUMNS": "120"}
    proc = subprocess.run([str(script), "find", str(SEEDS), "-o", str(tmp_path / "spark"), "--engine", "spark",
                           "-w", "2"], capture_output=True, text=True, timeout=900, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    for stage in ("spark start", "spark read", "spark fingerprint", "spark candidates", "spark cluster"):
        assert stage in err, stage
    assert " WARN " not in err and "log4j" not in err and "Setting default log level" not in err, err[:2000]
    _find(str(SEEDS), "-o", str(tmp_path / "local"), "-w", "1")
    assert (tmp_path / "spark" / "pairs.jsonl").read_bytes() == (tmp_path / "local" / "pairs.jsonl").read_bytes()


def test_against_same_files_as_local(spark, tmp_path):
    """``find NEW --against REFERENCE``: the Spark engine writes the local engine's pairs.jsonl (the cross pairs
    only) and against.jsonl, byte for byte."""
    rows = _reuters(1200)
    new, ref = tmp_path / "new.jsonl", tmp_path / "ref.jsonl"
    new.write_text("".join(json.dumps(r) + "\n" for r in rows[:400]))
    ref.write_text("".join(json.dumps(r) + "\n" for r in rows[400:]))
    _find(str(new), "--against", str(ref), "-o", str(tmp_path / "local"))
    _find(str(new), "--against", str(ref), "-o", str(tmp_path / "spark"), "--engine", "spark")
    for name in ("pairs.jsonl", "against.jsonl", "clusters.jsonl"):
        assert (tmp_path / "spark" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    summary = json.loads((tmp_path / "spark" / "summary.json").read_text())
    assert summary["against"] == {"new": 400, "reference": 800}
    assert summary["counts"]["pairs"] > 20
