"""``doublet index ...``: the persistent index from the command line (a typer sub-app, mounted by
:mod:`doublet.cli` as ``app.add_typer(index_app, name="index")``).

Commands: ``create PATH``, ``add PATH INPUT...``, ``query PATH INPUT... -o OUT``, ``templates PATH``,
``stats PATH``, ``check PATH``. Everything is done by :class:`doublet.index.Index`; this module parses options,
prints a short report on stderr and turns user mistakes into one ``error: ...`` line (exit 2; exit 1 when
another process is adding, or when ``check`` finds a problem). ``templates``, ``stats`` and ``check`` print
JSON on stdout.

This module does not import :mod:`doublet.cli` at import time (the main CLI imports this one), so the tuning
options of ``create`` are built here from :class:`doublet.Config`'s attribute docstrings the same way.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from .config import Config
from .console import MAX_PROBLEMS_SHOWN, RichProgress, line, plural, show_problems, stderr, unwrap
from .engines.local import default_workers
from .documents import InputProblem, SkippedFiles, read_documents
from .index import BATCH_SIZE, DoubletIndexError, Index, IndexBusy

EXIT_USAGE = 2
EXIT_FAILED = 1


_DOCS = Config.field_docs()
_DEFAULTS = {f.name: f.default for f in fields(Config) if f.default is not MISSING}
_PANEL = "Parameters (stored in the index; defaults from doublet.Config)"


def _tuning(name: str) -> Any:
    default = _DEFAULTS[name]
    shown = "derived from --threshold" if default is None else f"{default:,}" if isinstance(default, int) else default
    return typer.Option("--" + name.replace("_", "-"), show_default=False, rich_help_panel=_PANEL,
                        help=f"{escape(_DOCS.get(name, ''))} [dim]\\[default: {escape(str(shown))}][/dim]")


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    stderr().print(Text(f"error: {message}", style="bold red"), soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Index errors the user can act on become one ``error:`` line."""
    try:
        yield
    except IndexBusy as exc:
        raise _fail(str(exc), EXIT_FAILED) from None
    except DoubletIndexError as exc:
        raise _fail(str(exc)) from None


def _open(path: Path, workers: int | None = None, wait: float = 10.0) -> Index:
    with _user_errors():
        return Index.open(path, workers=workers, lock_timeout=wait)


def _read(inputs: list[str], idx: Index, id_field: str, text_field: str, problems: list[InputProblem],
          keep_boilerplate: bool = False, site_field: str | None = None,
          skipped_files: SkippedFiles | None = None) -> Any:
    try:
        return read_documents(inputs, id_field=id_field, text_field=text_field, max_chars=idx.config.max_chars,
                              problems=problems, keep_boilerplate=keep_boilerplate, workers=idx.config.workers,
                              site_field=site_field, skipped_files=skipped_files)
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None


def _nothing_read(n_documents: int, problems: list[InputProblem], skipped: SkippedFiles, where: str) -> None:
    """Exit 1 with what to do when not one document could be read (as doublet find does)."""
    if n_documents:
        return
    from .cli import RunFailed, check_read

    try:
        check_read({"counts": {"documents": 0}, "skipped_files": skipped.to_dict()}, problems, where)
    except RunFailed as exc:
        raise _fail(str(exc), EXIT_FAILED) from None


def _progress(quiet: bool) -> Any:
    return None if quiet else RichProgress(stderr())


def _close(progress: Any) -> None:
    if progress is not None:
        progress.close()


# --------------------------------------------------------------------------------------------

HELP = """\
A persistent index of documents that answers "has this, or part of this, been seen before — where?".

The index is a folder holding one SQLite file (no server). Add documents in any number of batches; query
new documents against everything added so far. Pairs, passages and template rules are those of
[bold]doublet find[/bold], decided again as documents arrive: after adding a corpus, querying its documents
gives find's pairs, and its templates are find's.

[bold]Examples[/bold]

  doublet index create news.idx
  doublet index add news.idx monday.jsonl.gz tuesday.jsonl.gz
  doublet index query news.idx incoming.jsonl -o out/
  doublet index templates news.idx > boilerplate.jsonl
  doublet index stats news.idx
  doublet index check news.idx
"""

index_app = typer.Typer(
    name="index",
    help=unwrap(HELP),
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

def _command(name: str) -> Any:
    """``index_app.command`` with the function's docstring unwrapped as help."""
    def register(fn: Any) -> Any:
        return index_app.command(name, help=unwrap(fn.__doc__ or ""), no_args_is_help=True)(fn)
    return register


IndexPath = Annotated[Path, typer.Argument(metavar="PATH", show_default=False, help="The index folder.")]
Inputs = Annotated[list[str], typer.Argument(metavar="INPUT", show_default=False,
                                              help="Folders of .txt / .html files, or JSONL / CSV / TSV / Parquet / "
                                                   "WARC files.")]
IdField = Annotated[str, typer.Option("--id-field", help="Field or column that holds the document id.")]
TextField = Annotated[str, typer.Option("--text-field", help="Field or column that holds the text.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no report on stderr (errors still shown).")]
Workers = Annotated[int | None, typer.Option("--workers", "-w", show_default=False,
                                             help="Processes for fingerprinting [default: all cores].")]
Wait = Annotated[float, typer.Option("--wait", help="Seconds to wait while another process is adding to the index.")]
SiteField = Annotated[str | None, typer.Option(
    "--site-field", show_default=False, help="JSON Lines / CSV / Parquet: the field or column saying which site each "
    "record comes from (a URL, host or site name). Text that recurs only within one site is that site's template; "
    "web pages carry their site already.")]


@_command("create")
def create_command(
    path: IndexPath,
    threshold: Annotated[float | None, _tuning("threshold")] = None,
    shingle_size: Annotated[int | None, _tuning("shingle_size")] = None,
    num_perm: Annotated[int | None, _tuning("num_perm")] = None,
    window: Annotated[int | None, _tuning("window")] = None,
    max_df: Annotated[int | None, _tuning("max_df")] = None,
    common_df: Annotated[int | None, _tuning("common_df")] = None,
    min_shared: Annotated[int | None, _tuning("min_shared")] = None,
    min_words: Annotated[int | None, _tuning("min_words")] = None,
    min_passage_words: Annotated[int | None, _tuning("min_passage_words")] = None,
    min_identity: Annotated[float | None, _tuning("min_identity")] = None,
    max_gap: Annotated[int | None, _tuning("max_gap")] = None,
    seed_size: Annotated[int | None, _tuning("seed_size")] = None,
    bands: Annotated[int | None, _tuning("bands")] = None,
    rows: Annotated[int | None, _tuning("rows")] = None,
    max_bucket: Annotated[int | None, _tuning("max_bucket")] = None,
    max_chars: Annotated[int | None, _tuning("max_chars")] = None,
    seed: Annotated[int | None, _tuning("seed")] = None,
    template_share: Annotated[float | None, _tuning("template_share")] = None,
    template_rules: Annotated[str | None, typer.Option(
        "--template-rules", show_default=False, rich_help_panel=_PANEL,
        help="Template rules that apply, comma-separated: shape (template-shaped lines: menus, headline lists, "
             "header lines, signatures, footers), site (text recurring within one site only), frequency (prose far "
             "more common than the texts around it, beyond them: a site's pitch or disclaimer); none turns all off. "
             "[dim]\\[default: shape,site,frequency][/dim]")] = None,
    template: Annotated[list[Path] | None, typer.Option(
        "--template", show_default=False, rich_help_panel=_PANEL,
        help="A file of text that is template (a site's footer, a disclaimer, a signature): every word 5-gram of "
             "it is masked, wherever it occurs. Repeatable; the texts are stored in the index.")] = None,
    quiet: Quiet = False,
) -> None:
    """Create an empty index in folder PATH (which must not exist, or be empty), with these parameters.

    The parameters are stored in the index and used by every later add and query.
    """
    given = {k: v for k, v in locals().items() if k in _DEFAULTS and v is not None}
    if isinstance(given.get("template_rules"), str):
        text = given["template_rules"].strip().lower()
        given["template_rules"] = () if text in ("", "none") else tuple(r.strip() for r in text.split(","))
    if template:
        try:
            given["template_texts"] = tuple(Path(f).read_text(encoding="utf-8", errors="replace") for f in template)
        except OSError as exc:
            raise _fail(f"cannot read --template file: {exc}") from None
    try:
        cfg = Config(**given)
    except ValueError as exc:  # "threshold must be ..." -> "--threshold must be ... (got 3.0)"
        message = str(exc)
        first = message.split(" ", 1)[0]
        for name in sorted(_DEFAULTS, key=len, reverse=True):
            message = re.sub(rf"\b{name}\b", "--" + name.replace("_", "-"), message)
        raise _fail(message + (f" (got {given[first]})" if first in given else "")) from None
    with _user_errors():
        Index.create(path, cfg).close()
    if not quiet:
        stderr().print(Text(f"doublet index create: created {path}", style="bold green"), soft_wrap=True)


@_command("add")
def add_command(
    path: IndexPath,
    inputs: Inputs,
    id_field: IdField = "id",
    text_field: TextField = "text",
    workers: Workers = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1,
                                            help="Documents per transaction (what a crash can lose).")] = BATCH_SIZE,
    wait: Wait = 10.0,
    report: Annotated[Path | None, typer.Option("--report", show_default=False,
                                                help="Write the report, with every added, replaced and unchanged "
                                                     "id, to this JSON file.")] = None,
    keep_boilerplate: Annotated[bool, typer.Option(
        "--keep-boilerplate", help="HTML and WARC input: keep each page's whole visible text instead of its main "
                                   "text.")] = False,
    site_field: SiteField = None,
    quiet: Quiet = False,
) -> None:
    """Add the documents of INPUT... to the index at PATH.

    A new id is added; an id already present with the same text (and site) is left unchanged; an id present
    with another text (or site) is replaced (and listed). Bad records are skipped and listed, as by doublet
    find. Template rules are decided again for every fingerprint the new documents hold. Killing the process
    leaves whole documents or nothing: running the same add again completes it.
    """
    idx = _open(path, workers if workers is not None else default_workers(), wait)
    problems: list[InputProblem] = []
    skipped = SkippedFiles()
    try:
        docs = _read(inputs, idx, id_field, text_field, problems, keep_boilerplate, site_field, skipped)
        progress = _progress(quiet)
        try:
            with _user_errors():
                rep = idx.add(docs, problems=problems, progress=progress, batch_size=batch_size)
        finally:
            _close(progress)
        stats = idx.stats() if not quiet else None
    finally:
        idx.close()
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps({"index": str(path), "inputs": inputs, "skipped_files": skipped.to_dict(),
                                      **rep.to_dict()}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    where = str(report) if report is not None else "the --report file"
    if quiet or stats is None:
        _nothing_read(rep.documents, rep.problems, skipped, where)
        return
    con = stderr()
    c = rep.to_dict(ids=False)
    con.print(Text(f"doublet index add: done in {rep.seconds:.2f} s", style="bold green"), soft_wrap=True)
    line(con, "documents", f"{rep.documents:,} read · {len(rep.added):,} added · {len(rep.replaced):,} replaced · "
          f"{len(rep.unchanged):,} unchanged · {rep.rejected:,} rejected")
    if rep.replaced:
        shown = ", ".join(rep.replaced[:MAX_PROBLEMS_SHOWN]) + (f", … ({len(rep.replaced):,} in all)"
                                                       if len(rep.replaced) > MAX_PROBLEMS_SHOWN else "")
        line(con, "replaced", shown)
    tp = c["throughput"]
    if tp["docs_per_s"] is not None:
        line(con, "throughput", f"{tp['docs_per_s']:,.0f} docs/s · {tp['mb_per_s']:,.2f} MB/s · "
              f"{plural(idx.config.workers, 'worker')}")
    if skipped.count:
        from .cli import skipped_files_line

        line(con, "skipped", skipped_files_line(skipped.to_dict()))
    line(con, "index", f"{path}: {plural(stats['documents'], 'document')} · {stats['bytes_on_disk'] / 1e6:,.1f} MB")
    show_problems(con, rep.problems, where)
    _nothing_read(rep.documents, rep.problems, skipped, where)


@_command("query")
def query_command(
    path: IndexPath,
    inputs: Inputs,
    outdir: Annotated[Path, typer.Option("--out", "-o", show_default=False, help="Output folder (created if needed).")],
    id_field: IdField = "id",
    text_field: TextField = "text",
    site_field: SiteField = None,
    quiet: Quiet = False,
) -> None:
    """Find, for each document of INPUT..., the indexed documents it reuses or nearly duplicates.

    Writes OUT/matches.jsonl — one line per (query, indexed document) pair: {"query", "match", "kind",
    "jaccard", "containment_query", "containment_match", "passages": [{"query_start", "query_end",
    "match_start", "match_end"}]} — and OUT/summary.json. Queries are not added to the index; each is
    answered as if it alone were added (its fingerprints counted, with its site). A query with the id and text
    of an indexed document is that document: it is not matched with itself.
    """
    if outdir.exists() and not outdir.is_dir():
        raise _fail(f"output folder {outdir} is an existing file; give -o a folder path")
    idx = _open(path)
    t0 = time.perf_counter()
    problems: list[InputProblem] = []
    skipped = SkippedFiles()
    counts = {"queries": 0, "queries_with_matches": 0, "matches": 0, "near_duplicate_matches": 0,
              "reuse_matches": 0, "passages": 0, "characters": 0}
    try:
        docs = _read(inputs, idx, id_field, text_field, problems, site_field=site_field, skipped_files=skipped)
        outdir.mkdir(parents=True, exist_ok=True)
        progress = _progress(quiet)
        try:
            if progress is not None:
                progress.start("query", None)
            with open(outdir / "matches.jsonl", "w", encoding="utf-8") as out, _user_errors():
                for doc, matches in idx.search_many(docs, problems=problems):
                    counts["queries"] += 1
                    counts["characters"] += len(doc.text)
                    counts["queries_with_matches"] += bool(matches)
                    for m in matches:
                        out.write(json.dumps(m.to_dict(), ensure_ascii=False) + "\n")
                        counts["matches"] += 1
                        counts["near_duplicate_matches" if m.kind == "near-duplicate" else "reuse_matches"] += 1
                        counts["passages"] += len(m.passages)
                    if progress is not None:
                        progress.advance()
        finally:
            _close(progress)
        n_docs = len(idx)
    finally:
        idx.close()
    seconds = time.perf_counter() - t0
    counts["rejected"] = sum(p.action == "rejected" and p.scope == "record" for p in problems)
    counts["skipped_files"] = skipped.count
    summary = {"index": str(path), "index_documents": n_docs, "inputs": inputs, "counts": counts,
               "skipped_files": skipped.to_dict(),
               "seconds": round(seconds, 3),
               "throughput": {"docs_per_s": round(counts["queries"] / seconds, 1) if seconds else None},
               "outputs": ["matches.jsonl", "summary.json"], "problems": [p.to_dict() for p in problems]}
    with open(outdir / "summary.json", "w", encoding="utf-8") as f:
        json.dump(summary, f, ensure_ascii=False, indent=1)
        f.write("\n")
    if not quiet:
        con = stderr()
        con.print(Text(f"doublet index query: done in {seconds:.2f} s", style="bold green"), soft_wrap=True)
        line(con, "queries", f"{counts['queries']:,} read · {counts['rejected']:,} rejected · "
              f"{counts['queries_with_matches']:,} with matches")
        line(con, "matches", f"{counts['matches']:,}: {counts['near_duplicate_matches']:,} near-duplicate, "
              f"{counts['reuse_matches']:,} reuse · {counts['passages']:,} passages")
        if skipped.count:
            from .cli import skipped_files_line

            line(con, "skipped", skipped_files_line(skipped.to_dict()))
        line(con, "outputs", f"{outdir}/  matches.jsonl, summary.json")
        show_problems(con, problems, str(outdir / "summary.json"))
    _nothing_read(counts["queries"], problems, skipped, str(outdir / "summary.json"))


@_command("templates")
def templates_command(
    path: IndexPath,
    out: Annotated[Path | None, typer.Option("--out", "-o", show_default=False,
                                             help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the recurring blocks the index takes as template, as find's boilerplate.jsonl (JSON Lines, most
    documents first): {"text", "example", "start", "end", "documents", "fingerprints", "rule", "rules"}."""
    idx = _open(path)
    try:
        with _user_errors():
            listed = idx.template_blocks()
    finally:
        idx.close()
    lines = "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in listed)
    if out is None:
        typer.echo(lines, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(lines, encoding="utf-8")


@_command("stats")
def stats_command(path: IndexPath) -> None:
    """Print the index's counts, document-frequency histogram, size on disk and parameters (JSON, stdout). Dates
    are ISO 8601 in UTC (``created``, ``last_write``), with the Unix times beside them (``created_unix``, ...)."""
    idx = _open(path)
    try:
        with _user_errors():
            stats = idx.stats()
    finally:
        idx.close()
    typer.echo(json.dumps(readable_dates(stats), ensure_ascii=False, indent=1))


def readable_dates(stats: dict[str, Any]) -> dict[str, Any]:
    """``stats`` with its Unix times (``created``, ``last_write``) as ISO 8601 UTC strings, the numbers kept under
    ``<name>_unix``."""
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if key in ("created", "last_write"):
            out[key] = None if value is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
            out[key + "_unix"] = value
        else:
            out[key] = value
    return out


@_command("check")
def check_command(
    path: IndexPath,
    deep: Annotated[bool, typer.Option("--deep", help="Also recompute every document's fingerprints from its "
                                                      "text.")] = False,
    quiet: Quiet = False,
) -> None:
    """Check the index: SQLite's integrity check, then that every document has exactly its text, fingerprint
    and band rows, and that every document frequency equals the recounted rows. Prints the report (JSON) on
    stdout; exit status 1 if anything is wrong."""
    idx = _open(path)
    try:
        with _user_errors():
            rep = idx.check(deep=deep)
    finally:
        idx.close()
    typer.echo(json.dumps(rep.to_dict(), ensure_ascii=False, indent=1))
    if not quiet:
        con = stderr()
        if rep.ok:
            con.print(Text(f"doublet index check: {path} is consistent ({rep.checked.get('documents', 0):,} "
                           f"documents, {rep.seconds:.2f} s)", style="bold green"), soft_wrap=True)
        else:
            con.print(Text(f"doublet index check: {len(rep.problems)} problem(s) in {path}", style="bold red"),
                      soft_wrap=True)
            for p in rep.problems[:MAX_PROBLEMS_SHOWN]:
                con.print(Text("  " + p, style="red"), soft_wrap=True)
    if not rep.ok:
        raise typer.Exit(EXIT_FAILED)


__all__ = ["index_app"]
