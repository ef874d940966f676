"""doublet's command line: arguments -> Config -> engine -> files, and a report on stderr.

Kept thin on purpose: reading, finding, dedup planning and writing all live in the library
(:mod:`doublet.documents`, :mod:`doublet.engines.local`, :mod:`doublet.dedup`, :mod:`doublet.result`).
This module only parses options, shows progress and the end-of-run summary on stderr, and turns
mistakes a user can make into one ``error: ...`` line and exit code 2.  Bugs keep their traceback.
"""

from __future__ import annotations

import heapq
import json
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, fields
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from typer.core import TyperGroup

from . import __version__, dedup
from .config import CandidateRuleWarning, Config
from .console import RichProgress, line, plural, show_problems, stderr, unwrap
from .documents import Document, InputProblem, SkippedFiles, decode_text, read_documents, read_groups, write_kept
from .engines import local
from .progress import NullProgress, Progress
from .result import Result
from .show import DEFAULT_SHOWN_CHARS, pair_with_text, render_pair, strength

EXIT_USAGE = 2
EXIT_FAILED = 1
FIND_OUTPUTS = ("pairs.jsonl", "clusters.jsonl", "boilerplate.jsonl", "templates.parquet", "summary.json")

# typer >= 0.20 vendors click; older versions use click itself. Both raise this class for usage errors.
_ClickException: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class CliError(Exception):
    """A mistake the user can fix (bad path, format or option value): one red line, exit code 2."""

    code = EXIT_USAGE


class RunFailed(CliError):
    """The command ran but could not do its job (no document could be read; a run scored against the wrong
    gold): one red line saying what to do, exit code 1. Outputs already written stay, for diagnosis."""

    code = EXIT_FAILED


# --------------------------------------------------------------------------------------------
# Option help comes from Config itself: its attribute docstrings and its defaults.


_DOCS = Config.field_docs()
_DEFAULTS = {f.name: f.default for f in fields(Config) if f.default is not MISSING}
TUNING_PANEL = "Tuning (defaults from doublet.Config)"
ADVANCED_PANEL = "Advanced tuning"
INPUT_PANEL = "Input"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _tuning(name: str, panel: str = TUNING_PANEL) -> Any:
    """A ``--name`` option for Config field ``name``: help = its docstring, shown default = its default."""
    default = _DEFAULTS[name]
    derived_from = "--min-words and --min-passage-words" if name in ("window", "min_shared") else "--threshold"
    shown = f"derived from {derived_from}" if default is None else f"{default:,}" if isinstance(default, int) else default
    return typer.Option(_flag(name), help=_help(_DOCS.get(name, ""), shown), show_default=False,
                        rich_help_panel=panel)


def _help(text: str, default: Any) -> str:
    return f"{escape(text)} [dim]\\[default: {escape(str(default))}][/dim]"


Threshold = Annotated[float | None, _tuning("threshold")]
NumPerm = Annotated[int | None, _tuning("num_perm")]
ShingleSize = Annotated[int | None, _tuning("shingle_size")]
Window = Annotated[int | None, _tuning("window")]
MaxDf = Annotated[int | None, _tuning("max_df")]
CommonDf = Annotated[int | None, _tuning("common_df", ADVANCED_PANEL)]
MinShared = Annotated[int | None, _tuning("min_shared")]
MinWords = Annotated[int | None, _tuning("min_words")]
MinPassageWords = Annotated[int | None, _tuning("min_passage_words")]
MinIdentity = Annotated[float | None, _tuning("min_identity")]
MaxGap = Annotated[int | None, _tuning("max_gap")]
MaxChars = Annotated[int | None, _tuning("max_chars", INPUT_PANEL)]
Seed = Annotated[int | None, _tuning("seed")]
SeedSize = Annotated[int | None, _tuning("seed_size", ADVANCED_PANEL)]
Bands = Annotated[int | None, _tuning("bands", ADVANCED_PANEL)]
Rows = Annotated[int | None, _tuning("rows", ADVANCED_PANEL)]
MaxBucket = Annotated[int | None, _tuning("max_bucket", ADVANCED_PANEL)]
MemoryLimit = Annotated[str | None, typer.Option(
    "--memory-limit", help=_help("Memory budget, e.g. 2GB or 512MB: sizes spill partitions and caches; texts and "
                                 "fingerprints always live on disk during a run.", "none"),
    show_default=False, rich_help_panel=TUNING_PANEL)]
TmpDir = Annotated[str | None, typer.Option(
    "--tmp-dir", help=_help(_DOCS.get("tmp_dir", ""), "the system temp folder"), show_default=False,
    rich_help_panel=ADVANCED_PANEL)]
Workers = Annotated[int | None, typer.Option(
    "--workers", "-w", help=_help(_DOCS.get("workers", ""), "all cores"), show_default=False,
    rich_help_panel=TUNING_PANEL)]

IdField = Annotated[str, typer.Option("--id-field", help="Field or column that holds the document id.",
                                      rich_help_panel=INPUT_PANEL)]
TextField = Annotated[str, typer.Option("--text-field", help="Field or column that holds the text.",
                                        rich_help_panel=INPUT_PANEL)]
OutDir = Annotated[Path, typer.Option("--out", "-o", help="Output folder (created if needed).", show_default=False)]
EngineName = Enum("EngineName", {e: e for e in ("local", "spark")}, type=str)  # type: ignore[misc]
EngineOpt = Annotated[EngineName, typer.Option(  # type: ignore[valid-type]
    "--engine", help="local: this machine's cores; spark: Apache Spark (pip install 'doublet[spark]'), on the "
    "master of spark-submit or local[workers]; same pairs and clusters.", rich_help_panel=ADVANCED_PANEL)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary on stderr (errors still shown).")]
Verbose = Annotated[bool, typer.Option("--verbose", help="--engine spark: show Spark's own log (Java warnings); by "
                                                         "default only its errors are.", rich_help_panel=ADVANCED_PANEL)]
TemplateShare = Annotated[float | None, _tuning("template_share", ADVANCED_PANEL)]
SiteField = Annotated[str | None, typer.Option(
    "--site-field", help="JSON Lines / CSV / Parquet: the field or column saying which site each record comes "
    "from (a URL, host or site name). Text that recurs only within one site is that site's template; web pages "
    "carry their site already.", rich_help_panel=INPUT_PANEL, show_default=False)]
TemplateFiles = Annotated[list[Path] | None, typer.Option(
    "--template", help="A file of text that is template (a site's footer, a disclaimer, a signature): every word "
    "5-gram of it is masked, wherever it occurs. Repeatable.", rich_help_panel=TUNING_PANEL, show_default=False)]
TemplateRules = Annotated[str | None, typer.Option(
    "--template-rules", help=_help("Template rules that apply, comma-separated: shape (template-shaped lines: "
                                   "menus, headline lists, header lines, signatures, footers; and text in most "
                                   "pages' end zones), site (text recurring within one site only), frequency "
                                   "(text far more common than the pages around it, beyond their own text); "
                                   "none turns them all off. --template texts and the facts rule always apply.",
                                   "shape,site,frequency"),
    show_default=False, rich_help_panel=TUNING_PANEL)]
KeepBoilerplate = Annotated[bool, typer.Option(
    "--keep-boilerplate", help="HTML and WARC input: keep each page's whole visible text (navigation, footers) "
                               "instead of its main text.", rich_help_panel=INPUT_PANEL)]

FORMATS_HELP = (
    "INPUT is a folder of .txt files (.txt, .txt.gz, .txt.zst; the id is the path inside the folder; other files "
    "in it are counted as skipped), a single .txt, .md or .html file (one document; the id is the path as given), "
    "or a JSON Lines (.jsonl, .ndjson, .json), CSV (.csv), TSV (.tsv) or Parquet (.parquet) file with "
    "an id and a text field; JSONL/CSV/TSV may be compressed as .gz or .zst. Web pages: .html/.htm files in a "
    "folder (id = path) and WARC files (.warc, .warc.gz; id = WARC-Record-ID) are reduced to their main text; "
    "WARC records that are not HTML pages are skipped and counted."
)


def _config(params: Mapping[str, Any]) -> Config:
    """Config from the tuning options the user gave; everything else keeps Config's default."""
    given = {k: v for k, v in params.items() if k in _DEFAULTS and v is not None}
    given.setdefault("workers", local.default_workers())
    if isinstance(given.get("template_rules"), str):
        text = given["template_rules"].strip().lower()
        given["template_rules"] = () if text in ("", "none") else tuple(r.strip() for r in text.split(","))
    if params.get("template"):
        texts = []
        for path in params["template"]:
            try:
                texts.append(Path(path).read_text(encoding="utf-8", errors="replace"))
            except OSError as exc:
                raise CliError(f"cannot read --template file {path}: {exc.strerror or exc}") from None
        given["template_texts"] = tuple(texts)
    try:
        if "memory_limit" in given:
            given["memory_limit"] = Config.parse_size(given["memory_limit"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CandidateRuleWarning)
            cfg = Config(**given)
    except ValueError as exc:
        raise CliError(_option_message(str(exc), given)) from None
    for w in caught:  # an explicit --window / --min-shared is honoured, with what it gives up
        if issubclass(w.category, CandidateRuleWarning):
            stderr().print(Text(f"warning: {_option_message(str(w.message), given)}", style="yellow"), soft_wrap=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return cfg


def _option_message(message: str, given: Mapping[str, Any]) -> str:
    """Config says ``threshold must be ...``; a CLI user needs ``--threshold must be ... (got 1.5)``."""
    names = "|".join(sorted(_DEFAULTS, key=len, reverse=True))  # every Config field has an option
    text = re.sub(rf"\b({names})\b", lambda m: _flag(m.group(1)), message)
    first = message.split(" ", 1)[0]
    return f"{text} (got {given[first]})" if first in given else text


# --------------------------------------------------------------------------------------------
# Progress and report on stderr


def _report(console: Console, command: str, summary: Mapping[str, Any], outdir: Path, outputs: Sequence[str],
            problems: Sequence[InputProblem]) -> None:
    """One screen on stderr: what was read, found and written, how long it took, and the first problems."""
    c, t, tp, d = summary["counts"], summary["timings_s"], summary["throughput"], summary.get("dedup")
    total = t["total"] + (d["write_s"] if d is not None else 0.0)
    console.print(Text(f"doublet {command}: done in {total:.2f} s", style="bold green"), soft_wrap=True)
    line(console, "documents", f"{c['documents']:,} read · {c['rejected']:,} rejected · {c['repaired']:,} repaired"
          f"  ({plural(c['input_records'], 'input record')}, {plural(c['characters'], 'character')}, "
          f"{plural(c['words'], 'word')})")
    skipped_files = summary.get("skipped_files") or {}
    if skipped_files.get("count"):
        line(console, "skipped", skipped_files_line(skipped_files))
    if summary.get("skipped"):
        line(console, "skipped", f"{c['skipped_records']:,} WARC records that are not HTML pages: "
              + ", ".join(f"{n:,} {reason}" for reason, n in summary["skipped"].items()))
    line(console, "pairs", f"{c['pairs']:,}: {c['near_duplicate_pairs']:,} near-duplicate, {c['reuse_pairs']:,} reuse"
          f" · {c['passages']:,} passages")
    line(console, "clusters", f"{c['clusters_with_reuse']:,} with reuse · largest "
          f"{plural(c['largest_cluster'], 'document')}")
    line(console, "duplicates", f"{plural(c['documents_removable_as_near_duplicates'], 'near-duplicate copy', 'near-duplicate copies')}"
          f" removable (from {plural(c['near_duplicate_clusters_with_copies'], 'cluster')})")
    if "against" in summary:
        line(console, "against", f"{plural(summary['against']['new'], 'NEW document')} against "
              f"{plural(summary['against']['reference'], 'REFERENCE document')}: only pairs across · see "
              "against.jsonl")
    if "templates" in summary:
        tm = summary["templates"]
        rules = ", ".join(f"{n:,} {r}" for r, n in tm["by_rule"].items() if n)
        line(console, "templates", f"{tm['blocks']:,} recurring blocks taken as template ({tm['fingerprints']:,} "
              f"fingerprints{': ' + rules if rules else ''}) · {tm['template_matches']:,} pairs sharing only a "
              f"formula with other figures · see boilerplate.jsonl")
    if d is not None and d.get("mode") == "passages":
        removed = d["characters_removed"]
        line(console, "dedup", f"{sum(removed.values()):,} of {d['characters_read']:,} characters removed ("
              f"{removed['reuse']:,} reused, {removed['template']:,} template, {removed['short']:,} in "
              f"{d['documents_dropped']:,} documents left too short) · {d['documents_changed']:,} documents changed"
              f" · {d['spans_removed']:,} spans · {d['runs']} runs (keep {d['keep']}) → {d['output']}")
    elif d is not None:
        line(console, "dedup", f"kept {d['kept']:,} · removed {d['removed']:,} (keep {d['keep']})"
              f" · rejected {d['rejected']:,} → {d['output']}")
    stages = " · ".join(f"{k} {v:.2f}" for k, v in t.items() if k != "total")
    if d is not None:
        stages += f" · write {d['write_s']:.2f}"
    line(console, "time", f"{total:.2f} s  ({stages})")
    rate = (f"{tp['docs_per_s']:,.0f} docs/s · {tp['mb_per_s']:,.2f} MB/s · " if tp.get("docs_per_s") is not None
            else "")
    line(console, "throughput", f"{rate}{plural(summary['workers'], 'worker')}")
    line(console, "outputs", f"{outdir}/  " + ", ".join(outputs))
    show_problems(console, problems, str(outdir / "summary.json"))


def skipped_files_line(skipped: Mapping[str, Any]) -> str:
    """``2 files in input folders not read (not .txt/.html): corpus/LICENSE, corpus/x.jsonl``."""
    n, examples = skipped["count"], skipped.get("examples", [])
    more = ", …" if n > len(examples) else ""
    return (f"{plural(n, 'file')} in input folders not read (not .txt or .html/.htm; give such a file directly, "
            f"or convert it): {', '.join(examples)}{more}")


def check_read(summary: Mapping[str, Any], problems: Sequence[InputProblem], where: str) -> None:
    """Raise :class:`RunFailed` when not one document could be read, saying why and what to do."""
    c = summary["counts"]
    if c["documents"]:
        return
    rejected = [p for p in problems if p.action == "rejected"]
    if rejected:
        first = rejected[0].message()
        raise RunFailed(f"no document could be read: {plural(len(rejected), 'input record')} rejected (the first: "
                        f"{first}). Fix the inputs or the options it names (e.g. --id-field, --text-field) and "
                        f"run again; every rejected record is listed in {where}")
    skipped = summary.get("skipped_files") or {}
    hint = (f"; {skipped_files_line(skipped)}" if skipped.get("count") else "")
    raise RunFailed(f"no document could be read: the inputs hold no documents{hint}. Give folders of .txt / .html "
                    "files, text files, or JSON Lines / CSV / TSV / Parquet / WARC files")


# --------------------------------------------------------------------------------------------
# Shared steps


def _prepare_outdir(outdir: Path) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise CliError(f"output folder {outdir} is an existing file; give -o a folder path")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create output folder {outdir}: {exc.strerror or exc}; choose another -o") from None


def _read(inputs: Sequence[str], cfg: Config, id_field: str, text_field: str,
          problems: list[InputProblem], keep_boilerplate: bool = False, skipped: Counter[str] | None = None,
          site_field: str | None = None, skipped_files: SkippedFiles | None = None,
          against: Sequence[str] | None = None) -> tuple[Any, Any]:
    """Check the inputs (existence, format, Parquet columns) and stream their documents (NEW, then REFERENCE
    or None)."""
    try:
        return read_groups(list(inputs), None if against is None else list(against), id_field=id_field,
                           text_field=text_field, max_chars=cfg.max_chars, problems=problems,
                           keep_boilerplate=keep_boilerplate, skipped=skipped, workers=cfg.workers,
                           site_field=site_field, skipped_files=skipped_files)
    except (FileNotFoundError, ValueError) as exc:
        raise CliError(str(exc)) from None


def _run(inputs: Sequence[str], outdir: Path, cfg: Config, id_field: str, text_field: str, progress: Progress,
         keep_corpus: bool = False, keep_boilerplate: bool = False,
         engine: str = "local", site_field: str | None = None, verbose: bool = False,
         against: Sequence[str] | None = None) -> tuple[Any, list[InputProblem]]:
    problems: list[InputProblem] = []
    if engine == "spark":  # Spark reads the inputs (local paths or Hadoop URIs) and checks them itself
        if keep_boilerplate:
            raise CliError("--keep-boilerplate applies to HTML and WARC input, which the Spark engine does not "
                           "read: drop it, or use --engine local")
        _prepare_outdir(outdir)
        return _run_spark(inputs, cfg, id_field, text_field, site_field, progress, verbose, against)
    skipped: Counter[str] = Counter()
    skipped_files = SkippedFiles()
    docs, reference = _read(inputs, cfg, id_field, text_field, problems, keep_boilerplate, skipped, site_field,
                            skipped_files, against)
    _prepare_outdir(outdir)
    result = local.run(docs, cfg, problems=problems, progress=progress, keep_corpus=keep_corpus, against=reference)
    result.summary["inputs"] = list(inputs)  # as given
    result.summary["fields"] = {"id": id_field, "text": text_field}  # how to read them again (show, report)
    if against is not None:
        result.summary["against_inputs"] = list(against)
    result.summary["counts"]["skipped_records"] = sum(skipped.values())  # WARC records that are not pages
    result.summary["counts"]["skipped_files"] = skipped_files.count  # folder files that are not .txt/.html
    result.summary["skipped"] = dict(sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])))
    result.summary["skipped_files"] = skipped_files.to_dict()
    return result, problems


def _run_spark(inputs: Sequence[str], cfg: Config, id_field: str, text_field: str,
               site_field: str | None = None, progress: Progress | None = None, verbose: bool = False,
               against: Sequence[str] | None = None) -> tuple[Any, list[InputProblem]]:
    """The Spark engine (doublet.engines.spark) on a session of spark-submit's master, or local[workers]."""
    try:
        from .engines import spark as spark_engine
    except ImportError as exc:
        raise CliError(str(exc)) from None
    try:
        spark_engine.check_inputs([*inputs, *(against or ())], id_field=id_field, text_field=text_field)
        shown = progress if isinstance(progress, RichProgress) else None  # -q: no progress, no status polling
        if shown is not None:
            shown.start("spark start", None)  # starting a JVM takes a while
        result = spark_engine.run_files(spark_engine.session(cfg, verbose=verbose), inputs, cfg, id_field=id_field,
                                        text_field=text_field, site_field=site_field, progress=shown,
                                        against=None if against is None else list(against))
    except (FileNotFoundError, ValueError) as exc:
        raise CliError(str(exc)) from None
    result.summary["inputs"] = list(inputs)
    if against is not None:
        result.summary["against_inputs"] = list(against)
    result.summary["counts"]["skipped_records"] = 0  # as the local path: Spark reads no WARC, so skips none
    result.summary["counts"]["skipped_files"] = 0
    result.summary["skipped"] = {}
    result.summary["skipped_files"] = {"count": 0, "examples": []}
    return result, result.problems


def _progress(quiet: bool, console: Console) -> RichProgress | NullProgress:
    return NullProgress() if quiet else RichProgress(console)


def _close(progress: RichProgress | NullProgress) -> None:
    if isinstance(progress, RichProgress):
        progress.close()


# --------------------------------------------------------------------------------------------
# The app


class _Group(TyperGroup):
    """Shows usage errors (typer's and ours) as one red ``error:`` line with exit code 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, windows_expand_args: bool = True,
             **extra: Any) -> Any:
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False,
                              windows_expand_args=windows_expand_args, **extra)
            code = rv if isinstance(rv, int) else 0
        except CliError as exc:
            _error(str(exc))
            code = exc.code
        except _ClickException as exc:
            code = getattr(exc, "exit_code", EXIT_USAGE)
            if type(exc).__name__ == "NoArgsIsHelpError":  # plain `doublet`: show the help
                text = exc.format_message()  # type: ignore[attr-defined]  # typer's rich help prints itself
                if text.strip():
                    typer.echo(text, err=True)
            else:
                ctx = getattr(exc, "ctx", None)
                hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
                _error(exc.format_message() + hint)  # type: ignore[attr-defined]
        except typer.Abort:
            _error("aborted")
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


def _error(message: str) -> None:
    stderr().print(Text(f"error: {message}", style="bold red"), soft_wrap=True)


APP_HELP = """\
Find reused text in document collections: [bold]near-duplicate documents[/bold] (copies, light edits,
re-posts) and [bold]passages reprinted[/bold] inside otherwise different documents, with their exact
character offsets. Boilerplate that recurs across many documents (navigation, footers, stock phrases)
is ignored.

[bold]doublet find[/bold] reports pairs, passages and clusters; [bold]doublet dedup[/bold] also writes a copy of
the input without its near-duplicate copies; [bold]doublet compare[/bold] A B compares two documents and
[bold]doublet show[/bold] prints a run's reused passages as text, side by side.

Inputs: folders of .txt files, single .txt/.md/.html files, JSON Lines, CSV/TSV (all optionally .gz/.zst)
or Parquet files; web pages as folders of .html files or WARC files. [bold]doublet eval[/bold] scores a run against labelled gold.

[bold]Examples[/bold]

  doublet find corpus/ -o out/
  doublet find a.txt b.txt -o out/ && doublet show out/
  doublet compare original.txt copy.txt
  doublet find news.jsonl.gz more.parquet -o out/ --text-field body
  doublet dedup crawl.csv -o deduped/ --keep longest

Outputs go to the -o folder: pairs.jsonl (one reusing pair per line, with passages), clusters.jsonl
(every document and its cluster), summary.json (counts, parameters, timings, every rejected record);
dedup adds the kept records in the input's own format and removed.jsonl. Progress and a summary go
to stderr; find and dedup print nothing on stdout, compare, show and eval print their results there.
"""

FIND_HELP = f"""\
Find near-duplicate documents and reused passages in one or more inputs.

{FORMATS_HELP} Ids must be unique across all inputs.

Writes OUTDIR/pairs.jsonl, OUTDIR/clusters.jsonl and OUTDIR/summary.json. Records that cannot be read
(bad JSON, no id, no text, duplicate id, binary file, too long, ...) are skipped and listed with file
and line in summary.json; the run still succeeds, unless not one document could be read (exit status 1,
saying what to fix).

[bold]Examples[/bold]

With --against REFERENCE..., the INPUTs are NEW documents checked against REFERENCE (a contamination or
"published before?" check): only pairs of a NEW and a REFERENCE document are made and reported (exactly the
cross pairs a find over both reports), and OUTDIR/against.jsonl gives per NEW document the share of it
found in REFERENCE and the passages, with the reference ids.

[bold]Examples[/bold]

  doublet find corpus/ -o out/
  doublet find a.jsonl b.csv.gz -o out/ --threshold 0.8 --min-words 40
  doublet find eval.jsonl --against crawl.jsonl.gz --against archive/ -o contamination/
"""

DEDUP_HELP = f"""\
Remove near-duplicate documents from one or more inputs, keeping one document per near-duplicate cluster.

{FORMATS_HELP}

Writes the kept records to OUTDIR in each input's own format and compression, byte for byte (a txt
folder becomes OUTDIR/<folder name>/, a kept text file OUTDIR/<file name>), OUTDIR/removed.jsonl (each removed document, the kept document
it duplicates and their Jaccard), and pairs.jsonl, clusters.jsonl and summary.json as [bold]find[/bold] does.

[bold]Examples[/bold]

With --passages, removes reprinted passages instead of whole documents: each document is written without the
passages that occur in an earlier-kept document (input order, or --keep longest), and with
--remove-templates without its template blocks (navigation, footers, the run's boilerplate) too;
OUTDIR/removed_spans.jsonl lists every removed span (document, offsets, reason, and the kept copy's document
and offsets). Documents left with fewer than --min-chars non-space characters are dropped (listed as
"short"). Input: JSON Lines, CSV/TSV, Parquet or a folder of .txt files.

[bold]Examples[/bold]

  doublet dedup crawl.jsonl.gz -o deduped/
  doublet dedup corpus/ -o deduped/ --keep longest --threshold 0.8
  doublet dedup crawl.jsonl.gz -o clean/ --passages --remove-templates
"""

app = typer.Typer(
    cls=_Group,
    name="doublet",
    help=unwrap(APP_HELP),
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # a bug should print a plain, complete traceback
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _mount_index() -> None:
    from .cli_index import index_app  # the persistent index: doublet index create/add/query/stats/check

    app.add_typer(index_app, name="index")


_mount_index()



def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"doublet {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_show_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    pass


Inputs = Annotated[list[str], typer.Argument(metavar="INPUT", show_default=False,
                                              help="Any mix of folders of .txt / .html files, single .txt / .md / "
                                                   ".html files, and JSONL / CSV / TSV / Parquet / WARC files.")]
Against = Annotated[list[str] | None, typer.Option(
    "--against", metavar="REFERENCE", show_default=False,
    help="Check the INPUTs (NEW) against these inputs (REFERENCE; repeat --against for several): only pairs of a "
         "NEW and a REFERENCE document, and OUTDIR/against.jsonl with the share of each NEW document found in "
         "REFERENCE.")]
KeepPolicy = Enum("KeepPolicy", {p: p for p in dedup.KEEP_POLICIES}, type=str)  # type: ignore[misc]
Keep = Annotated[KeepPolicy, typer.Option(  # type: ignore[valid-type]
    "--keep", help="Which document of a near-duplicate cluster to keep: the first in the input, or the longest.")]


@app.command("find", help=unwrap(FIND_HELP), no_args_is_help=True)
def find_command(
    ctx: typer.Context,
    inputs: Inputs,
    outdir: OutDir,
    id_field: IdField = "id",
    text_field: TextField = "text",
    threshold: Threshold = None,
    num_perm: NumPerm = None,
    shingle_size: ShingleSize = None,
    window: Window = None,
    max_df: MaxDf = None,
    common_df: CommonDf = None,
    min_shared: MinShared = None,
    min_words: MinWords = None,
    min_passage_words: MinPassageWords = None,
    min_identity: MinIdentity = None,
    max_gap: MaxGap = None,
    max_chars: MaxChars = None,
    seed: Seed = None,
    workers: Workers = None,
    memory_limit: MemoryLimit = None,
    tmp_dir: TmpDir = None,
    seed_size: SeedSize = None,
    bands: Bands = None,
    rows: Rows = None,
    max_bucket: MaxBucket = None,
    template_share: TemplateShare = None,
    template_rules: TemplateRules = None,
    template: TemplateFiles = None,
    site_field: SiteField = None,
    keep_boilerplate: KeepBoilerplate = False,
    engine: EngineOpt = EngineName.local,  # type: ignore[attr-defined]
    verbose: Verbose = False,
    against: Against = None,
    quiet: Quiet = False,
) -> None:
    cfg = _config(ctx.params)
    console = stderr()
    progress = _progress(quiet, console)
    try:
        result, problems = _run(inputs, outdir, cfg, id_field, text_field, progress, keep_boilerplate=keep_boilerplate,
                                engine=engine.value, site_field=site_field, verbose=verbose,
                                against=against or None)
    finally:
        _close(progress)
    outputs = FIND_OUTPUTS if not against else ("against.jsonl", *FIND_OUTPUTS)
    result.summary["outputs"] = list(outputs)
    result.write(outdir)
    if not quiet:
        _report(console, "find", result.summary, outdir, outputs, problems)
    check_read(result.summary, problems, str(outdir / "summary.json"))


@app.command("dedup", help=unwrap(DEDUP_HELP), no_args_is_help=True)
def dedup_command(
    ctx: typer.Context,
    inputs: Inputs,
    outdir: OutDir,
    keep: Keep = KeepPolicy.first,  # type: ignore[attr-defined]
    id_field: IdField = "id",
    text_field: TextField = "text",
    threshold: Threshold = None,
    num_perm: NumPerm = None,
    shingle_size: ShingleSize = None,
    window: Window = None,
    max_df: MaxDf = None,
    common_df: CommonDf = None,
    min_shared: MinShared = None,
    min_words: MinWords = None,
    min_passage_words: MinPassageWords = None,
    min_identity: MinIdentity = None,
    max_gap: MaxGap = None,
    max_chars: MaxChars = None,
    seed: Seed = None,
    workers: Workers = None,
    memory_limit: MemoryLimit = None,
    tmp_dir: TmpDir = None,
    seed_size: SeedSize = None,
    bands: Bands = None,
    rows: Rows = None,
    max_bucket: MaxBucket = None,
    template_share: TemplateShare = None,
    template_rules: TemplateRules = None,
    template: TemplateFiles = None,
    site_field: SiteField = None,
    keep_boilerplate: KeepBoilerplate = False,
    engine: EngineOpt = EngineName.local,  # type: ignore[attr-defined]
    verbose: Verbose = False,
    passages: Annotated[bool, typer.Option(
        "--passages", help="Remove the passages found in an earlier-kept document from each document (not whole "
                           "documents); writes removed_spans.jsonl.")] = False,
    remove_templates: Annotated[bool, typer.Option(
        "--remove-templates", help="With --passages: also remove each document's template blocks (boilerplate: "
                                   "navigation, footers, recurring formulas).")] = False,
    min_chars: Annotated[int, typer.Option(
        "--min-chars", min=0, help="With --passages: drop a document left with fewer non-space characters.")] = 100,
    quiet: Quiet = False,
) -> None:
    cfg = _config(ctx.params)
    policy = keep.value
    targets = _dedup_targets(inputs, outdir)  # where write_kept puts each input's kept records
    if remove_templates and not passages:
        raise CliError("--remove-templates applies to --passages: add --passages")
    if passages:
        if engine.value == "spark":
            raise CliError("--passages runs on the local engine: drop --engine spark")
        if len(inputs) != 1:
            raise CliError("--passages rewrites one input: give one INPUT (or dedup them one at a time)")
        _passage_dedup(inputs[0], outdir, targets[0], cfg, policy, id_field, text_field, site_field,
                       keep_boilerplate, remove_templates, min_chars, quiet)
        return
    console = stderr()
    progress = _progress(quiet, console)
    try:
        result, problems = _run(inputs, outdir, cfg, id_field, text_field, progress, keep_corpus=True,
                                keep_boilerplate=keep_boilerplate, engine=engine.value, site_field=site_field,
                                verbose=verbose)
        kept_ids, removals = result.plan(policy) if engine.value == "spark" else dedup.plan(result, policy, cfg)
        t = time.perf_counter()
        written = _KeptCounter(kept_ids, progress, result.summary["counts"]["documents"])
        rereading: list[InputProblem] = []  # the same problems again: the run has reported them already
        seen_ids: set[str] = set()  # ids across inputs, as read_documents checks them
        for input_ in inputs:
            _write_records(input_, written, outdir, cfg, id_field, text_field, keep_boilerplate, rereading,
                           seen_ids=seen_ids)
        progress.done()
        write_s = time.perf_counter() - t
    finally:
        _close(progress)

    counts = result.summary["counts"]
    rejected_again = sum(p.action == "rejected" and p.scope == "record" for p in rereading)
    if (written.n + len(removals) + counts["rejected"] != counts["input_records"] or written.n != len(kept_ids)
            or rejected_again != counts["rejected"]):
        raise AssertionError(  # explicit, not `assert`: must hold under python -O too
            f"dedup lost records: kept {written.n} (planned {len(kept_ids)}) + removed {len(removals)} + rejected "
            f"{counts['rejected']} (again when writing: {rejected_again}) != {counts['input_records']} input "
            f"records; did {', '.join(inputs)} change during the run?")
    kept_names = [t.name + ("/" if t.is_dir() else "") for t in targets if t.exists()]
    outputs = (*kept_names, "removed.jsonl", *FIND_OUTPUTS)
    result.summary["outputs"] = list(outputs)
    result.summary["dedup"] = {"keep": policy, "kept": written.n, "removed": len(removals),
                               "rejected": counts["rejected"], "output": ", ".join(map(str, targets)),
                               "kept_outputs": [str(t) for t in targets if t.exists()],
                               "write_s": round(write_s, 3)}
    with open(outdir / "removed.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in removals)
    result.write(outdir)
    if not quiet:
        _report(console, "dedup", result.summary, outdir, outputs, problems)
    check_read(result.summary, problems, str(outdir / "summary.json"))


def _dedup_targets(inputs: Sequence[str], outdir: Path) -> list[Path]:
    """Where each input's kept records go (OUTDIR/<its name>), refused before the run if they collide or would
    overwrite an input (what write_kept would refuse after it). A text file whose document is removed gets no
    copy."""
    targets = [outdir / Path(i).resolve().name for i in inputs]
    names = Counter(t.name for t in targets)
    clash = sorted(n for n, k in names.items() if k > 1)
    if clash:
        raise CliError(f"two inputs have the name {clash[0]}: their kept records would both go to {outdir / clash[0]};"
                       " rename one, or dedup them one at a time")
    for i, t in zip(inputs, targets):
        _check_dedup_target(Path(i), t)
    return targets


def _passage_dedup(input_: str, outdir: Path, target: Path, cfg: Config, policy: str, id_field: str,
                   text_field: str, site_field: str | None, keep_boilerplate: bool, templates: bool, min_chars: int,
                   quiet: bool) -> None:
    """``dedup --passages``: the run, :func:`doublet.passage_dedup.from_result`, the input rewritten without the
    removed spans, and removed_spans.jsonl; checks that every character is accounted for."""
    from . import passage_dedup

    console = stderr()
    progress = _progress(quiet, console)
    try:
        result, problems = _run([input_], outdir, cfg, id_field, text_field, progress, keep_corpus=True,
                                keep_boilerplate=keep_boilerplate, site_field=site_field)
        t = time.perf_counter()

        def rerun(text_of: Callable[[int], str | None]) -> Any:  # find again on the output so far
            docs = _read([input_], cfg, id_field, text_field, [], keep_boilerplate, None, site_field)[0]
            again = (Document(d.id, text, d.meta) for k, d in enumerate(docs)
                     if (text := text_of(k)) is not None)
            return local.run(again, cfg, progress=progress, keep_corpus=True)

        outcome = passage_dedup.until_stable(result, cfg, rerun, keep=policy, min_chars=min_chars,
                                             templates=templates)
        index = {d: k for k, d in enumerate(result.ids)}
        new_texts = outcome.texts
        written = _KeptCounter({d for d in result.ids if new_texts.get(index[d], "") is not None}, progress,
                               result.summary["counts"]["documents"])
        _write_records(input_, written, outdir, cfg, id_field, text_field, keep_boilerplate, [],
                       rewrite=lambda doc: _or(new_texts.get(index[doc.id]), doc.text))
        progress.done()
        write_s = time.perf_counter() - t
    finally:
        _close(progress)
    counts = result.summary["counts"]
    chars = Counter[str]()
    for r in outcome.removed:
        chars[r.reason] += r.end - r.start
    out_chars = sum(int(result.char_lengths[k]) for k in range(len(result.ids)) if k not in new_texts) + sum(
        len(t) for t in new_texts.values() if t is not None)
    dropped = sum(t is None for t in new_texts.values())
    if out_chars + sum(chars.values()) != counts["characters"] or written.n != counts["documents"] - dropped:
        raise AssertionError(  # explicit, not `assert`: must hold under python -O too
            f"passage dedup lost characters: {out_chars} written + {sum(chars.values())} removed != "
            f"{counts['characters']} read, or {written.n} documents written != {counts['documents']} - "
            f"{dropped} dropped; did {input_} change during the run?")
    with open(outdir / "removed_spans.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r.to_dict(result.ids), ensure_ascii=False) + "\n" for r in outcome.removed)
    kept_name = target.name + ("/" if target.is_dir() else "")
    outputs = (kept_name, "removed_spans.jsonl", *FIND_OUTPUTS)
    result.summary["outputs"] = list(outputs)
    result.summary["dedup"] = {
        "mode": "passages", "keep": policy, "remove_templates": templates, "min_chars": min_chars,
        "documents_written": written.n, "documents_changed": len(new_texts) - dropped,
        "documents_dropped": dropped, "rejected": counts["rejected"], "runs": outcome.rounds,
        "characters_read": counts["characters"], "characters_written": out_chars,
        "characters_removed": {"reuse": chars["reuse"], "template": chars["template"], "short": chars["short"]},
        "spans_removed": len(outcome.removed), "output": str(target), "write_s": round(write_s, 3)}
    result.write(outdir)
    if not quiet:
        _report(console, "dedup", result.summary, outdir, outputs, problems)


def _write_records(input_: str, kept: Callable[[Document], bool], outdir: Path, cfg: Config, id_field: str,
                   text_field: str, keep_boilerplate: bool, problems: list[InputProblem],
                   rewrite: Callable[[Document], str] | None = None, seen_ids: set[str] | None = None) -> None:
    """write_kept of a dedup run (``seen_ids``: ids of the inputs written before, as read_documents checks them
    across inputs), its refusals as usage errors."""
    try:
        write_kept(input_, kept, outdir, id_field=id_field, text_field=text_field, max_chars=cfg.max_chars,
                   seen_ids=set() if seen_ids is None else seen_ids, problems=problems,
                   keep_boilerplate=keep_boilerplate, workers=cfg.workers, rewrite=rewrite)
    except (FileExistsError, ValueError) as exc:
        raise CliError(str(exc)) from None


def _or(text: str | None, default: str) -> str:
    return default if text is None else text


def _check_dedup_target(input_: Path, target: Path) -> None:
    """Refuse before the run what write_kept would refuse after it."""
    if input_.exists() and target.resolve() == input_.resolve():
        raise CliError(f"writing to {target} would overwrite the input; choose another output folder (-o)")
    if input_.is_dir() and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CliError(f"{target} already exists and is not an empty folder; remove it or choose another -o")


class _KeptCounter:
    """The ``kept`` predicate for write_kept: counts what is written and advances the progress bar."""

    def __init__(self, kept_ids: set[str], progress: Progress, total: int) -> None:
        self._kept = kept_ids
        self._progress = progress
        self.n = 0
        progress.start("write", total)

    def __call__(self, doc: Document) -> bool:
        self._progress.advance()
        if doc.id in self._kept:
            self.n += 1
            return True
        return False

# --------------------------------------------------------------------------------------------
# doublet compare / doublet show: passages as text, in the terminal (doublet.show)

COMPARE_HELP = """\
Compare two documents: the verdict (near-duplicate or reuse, and its level: verbatim, light or heavy), their
similarity (Jaccard of word 5-grams), how much of each is contained in the other, and each reused passage's
text from both side by side. The same answer as [bold]doublet find[/bold] on these two documents.

A and B are text files (.txt, .md, .html, ...; an HTML page is reduced to its main text) or any input
holding exactly one document; '-' reads one of them from stdin (UTF-8). Offsets are character offsets into
the decoded text, \\r\\n counted as two characters.

[bold]Examples[/bold]

  doublet compare original.txt copy.txt
  curl -s https://example.org/story.html | doublet compare - archive/story.txt
  doublet compare a.txt b.txt --json | jq .containment_a
"""

SHOW_HELP = """\
Print the reused passages of a find run as text: for each pair, its verdict and figures, then each passage
from both documents side by side. The texts are read again from the run's inputs (as listed in its
summary.json, or the INPUT... given), as [bold]doublet report[/bold] does.

Without --pair, shows the strongest pairs first (near-duplicates, then verbatim, light and heavy reuse, then
by containment). --json prints JSON Lines: each pairs.jsonl row with "a_text" and "b_text" added to every
passage.

[bold]Examples[/bold]

  doublet show out/ --pair 000_b11279ffa2e6de7c.txt 003_f7c337c5b85d0f0e.txt
  doublet show out/ --max-pairs 3
  doublet show out/ --json > passages.jsonl
"""

RunDir = Annotated[Path, typer.Argument(metavar="OUTDIR", show_default=False,
                                         help="Output folder of doublet find or dedup.")]
RunInputs = Annotated[list[str] | None, typer.Argument(metavar="[INPUT]...", show_default=False,
                                                        help="The inputs of that run (default: as listed in its "
                                                             "summary.json).")]
RunIdField = Annotated[str | None, typer.Option("--id-field", show_default=False, help="Field or column that holds "
                                                "the document id [default: the run's, from its summary.json].")]
RunTextField = Annotated[str | None, typer.Option("--text-field", show_default=False, help="Field or column that "
                                                  "holds the text [default: the run's, from its summary.json].")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of the side-by-side view.")]
Full = Annotated[bool, typer.Option("--full", help=f"Show whole passages (else the middle of passages longer than "
                                                    f"{DEFAULT_SHOWN_CHARS:,} characters is elided).")]


def _one_document(arg: str, cfg: Config, keep_boilerplate: bool) -> tuple[str, str]:
    """(name, text) of the one document in ``arg`` ('-': stdin)."""
    if arg == "-":
        text, _ = decode_text(sys.stdin.buffer.read())
        if not text.strip():
            raise RunFailed("stdin is empty: pipe a text into doublet compare, or give a file")
        if len(text) > cfg.max_chars:
            raise RunFailed(f"stdin holds {len(text):,} characters, more than --max-chars {cfg.max_chars:,}")
        return "stdin", text
    problems: list[InputProblem] = []
    docs = []
    for doc in _read([arg], cfg, "id", "text", problems, keep_boilerplate)[0]:
        docs.append(doc)
        if len(docs) > 1:
            raise CliError(f"{arg} holds more than one document; compare takes one document per side (a text "
                           "file or '-'); to compare a collection use doublet find")
    if not docs:
        reason = next((p.message() for p in problems if p.action == "rejected"), f"{arg} holds no document")
        raise RunFailed(f"cannot compare: {reason}")
    return arg, docs[0].text


@app.command("compare", help=unwrap(COMPARE_HELP), no_args_is_help=True)
def compare_command(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(metavar="A", show_default=False, help="A text file, or - for stdin.")],
    b: Annotated[str, typer.Argument(metavar="B", show_default=False, help="A text file, or - for stdin.")],
    json_out: JsonOut = False,
    full: Full = False,
    threshold: Threshold = None,
    shingle_size: ShingleSize = None,
    min_words: MinWords = None,
    min_passage_words: MinPassageWords = None,
    min_identity: MinIdentity = None,
    max_gap: MaxGap = None,
    max_chars: MaxChars = None,
    seed_size: SeedSize = None,
    template_rules: TemplateRules = None,
    template: TemplateFiles = None,
    keep_boilerplate: KeepBoilerplate = False,
) -> None:
    from .api import compare

    if a == "-" and b == "-":
        raise CliError("only one of A and B can be read from stdin (-)")
    cfg = _config({**ctx.params, "workers": 1})
    (name_a, text_a), (name_b, text_b) = _one_document(a, cfg, keep_boilerplate), _one_document(b, cfg,
                                                                                                keep_boilerplate)
    pair = compare(text_a, text_b, cfg).to_dict()
    pair["a"], pair["b"] = name_a, name_b
    if json_out:
        typer.echo(json.dumps(pair_with_text(pair, text_a, text_b), ensure_ascii=False, indent=1))
        return
    render_pair(Console(highlight=False), pair, text_a, text_b, max_chars=None if full else DEFAULT_SHOWN_CHARS)


@app.command("show", help=unwrap(SHOW_HELP), no_args_is_help=True)
def show_command(
    run: RunDir,
    inputs: RunInputs = None,
    pair_ids: Annotated[tuple[str, str] | None, typer.Option(
        "--pair", metavar="A B", show_default=False, help="Show the pair of these two documents (either order).")]
    = None,
    max_pairs: Annotated[int, typer.Option("--max-pairs", "-n", min=1, help="Pairs shown, strongest first "
                                                                           "(without --pair).")] = 10,
    id_field: RunIdField = None,
    text_field: RunTextField = None,
    json_out: JsonOut = False,
    full: Full = False,
) -> None:
    from .report import ReportError, check_offsets, read_run_pairs, read_texts

    try:
        summary, stream = read_run_pairs(run)
        if pair_ids is not None:
            wanted = {tuple(pair_ids), tuple(reversed(pair_ids))}
            rows = [r for r in stream if (r["a"], r["b"]) in wanted]
            if not rows:
                raise ReportError(f"{pair_ids[0]!r} and {pair_ids[1]!r} are not a pair of this run (pairs.jsonl); "
                                  f"`doublet show {run}` lists its strongest pairs, or compare them directly with "
                                  "`doublet compare A B`")
        else:
            rows = heapq.nlargest(max_pairs, stream, key=strength)
        texts, warnings = read_texts(summary, inputs, {r["a"] for r in rows} | {r["b"] for r in rows}, id_field,
                                     text_field)
        check_offsets(rows, texts)
    except ReportError as exc:
        raise CliError(str(exc)) from None
    for w in warnings:
        stderr().print(Text("warning: " + w, style="yellow"), soft_wrap=True)
    if json_out:
        for r in rows:
            typer.echo(json.dumps(pair_with_text(r, texts[r["a"]], texts[r["b"]]), ensure_ascii=False))
        return
    console = Console(highlight=False)
    if not rows:
        stderr().print(Text(f"doublet show: {run} has no pairs", style="bold"), soft_wrap=True)
    for r in rows:
        render_pair(console, r, texts[r["a"]], texts[r["b"]], max_chars=None if full else DEFAULT_SHOWN_CHARS)


# --------------------------------------------------------------------------------------------
# doublet serve / doublet report (doublet.serve, doublet.report; imported when used: serve needs the
# `serve` extra, FastAPI and uvicorn)

SERVE_HELP = """\
Serve an index over HTTP: a JSON API and a web page (paste or upload a text, see which indexed documents
reuse it, side by side with the reused passages highlighted; browse clusters).

Endpoints: POST /documents (add {"id", "text"} or {"documents": [...]}), POST /search ({"text"} or {"id"}),
GET /documents/{id}, GET /clusters/{id}, GET /health; the schema is at /openapi.json and the page at /.
Writes are serialized (one at a time, also across --workers); reads run in parallel. Stop with Ctrl+C.

[bold]Examples[/bold]

  doublet serve news.idx
  doublet serve news.idx --host 127.0.0.1 --port 8080 --max-request-size 64MB
"""

REPORT_HELP = """\
Write a self-contained HTML report of a find run: its pairs side by side with the reused passages
highlighted in both texts, and its clusters. One file, no network needed to view it.

OUTDIR is the output folder of doublet find (pairs.jsonl, clusters.jsonl, summary.json). It holds no texts,
so they are read again from INPUT..., or, when none is given, from the inputs listed in summary.json (paths
as given to find, taken from the current folder).

[bold]Examples[/bold]

  doublet report out/ -o report.html
  doublet report out/ corpus.jsonl.gz -o report.html --max-pairs 200
"""


@app.command("serve", help=unwrap(SERVE_HELP), no_args_is_help=True)
def serve_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", show_default=False, help="The index folder.")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="TCP port.")] = 8000,
    max_request_size: Annotated[str, typer.Option(
        "--max-request-size", help="Largest request body, e.g. 16MB; bigger requests get 413.")] = "16MB",
    readers: Annotated[int, typer.Option("--readers", min=1, help="Concurrent reading connections (per "
                                                                 "worker).")] = 4,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Server processes: more than one uses "
                                                                       "more cores for searches; writes stay "
                                                                       "one at a time.")] = 1,
    create: Annotated[bool, typer.Option("--create", help="Create the index if PATH does not exist.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level (debug logs every "
                                                               "request).")] = "info",
) -> None:
    try:
        from .serve import ServeSettings, run
    except ImportError as exc:
        raise CliError(f"doublet serve needs FastAPI and uvicorn ({exc.name} is missing): "
                       "pip install 'doublet[serve]'") from None
    from .index import DoubletIndexError, Index

    try:
        settings = ServeSettings(max_request_bytes=Config.parse_size(max_request_size), readers=readers)
    except ValueError as exc:
        raise CliError(f"--max-request-size: {exc}") from None
    try:
        with Index.open(path, create=create) as idx:  # refuse a missing or unreadable index before listening
            n = len(idx)
    except DoubletIndexError as exc:
        raise CliError(str(exc)) from None
    stderr().print(Text(f"doublet serve: index {path} ({n:,} documents) on http://{host}:{port}/ with {workers} "
                        f"worker{'s' if workers != 1 else ''} (page at /, API schema at /openapi.json)",
                        style="bold green"), soft_wrap=True)
    run(path, host, port, settings=settings, workers=workers, log_level=log_level)


@app.command("report", help=unwrap(REPORT_HELP), no_args_is_help=True)
def report_command(
    run: RunDir,
    inputs: RunInputs = None,
    out: Annotated[Path, typer.Option("--out", "-o", show_default=False, help="The HTML file to write.")]
    = Path("report.html"),
    id_field: RunIdField = None,
    text_field: RunTextField = None,
    max_pairs: Annotated[int, typer.Option("--max-pairs", min=1, help="Pairs shown, the strongest: "
                                                                     "near-duplicates, then verbatim, light and "
                                                                     "heavy reuse, then by containment.")] = 1000,
    quiet: Quiet = False,
) -> None:
    from .report import ReportError, write_report

    try:
        data = write_report(run, out, inputs or None, id_field=id_field, text_field=text_field, max_pairs=max_pairs)
    except ReportError as exc:
        raise CliError(str(exc)) from None
    if not quiet:
        console = stderr()
        console.print(Text(f"doublet report: wrote {out}", style="bold green"), soft_wrap=True)
        line(console, "pairs", f"{len(data.pairs):,} of {plural(data.total_pairs, 'pair')} shown · "
             f"{plural(len(data.clusters), 'cluster')} · {plural(len(data.texts), 'document')}")
        for w in data.warnings:
            console.print(Text("  " + w, style="yellow"), soft_wrap=True)


EVAL_HELP = """\
Score a doublet run against labelled gold: pair precision/recall/F1, recall by similarity bucket, passage
character precision/recall/F1, ARI of the clusters and the false positives that share only site boilerplate.

GOLD_DIR holds corpus.jsonl ({"id", ...}: the ids, in order) and gold_pairs.jsonl ({"a", "b", "spans":
[[a_start, a_end, b_start, b_end], ...]} per reusing pair, a < b; optional "jaccard5", "shared_words",
"mode_a", "mode_b"), and optionally ignore_pairs.jsonl ({"a", "b"}: counted neither right nor wrong),
gold_clusters.jsonl ({"id", "cluster"}) and doc_meta.jsonl ({"id", "site", "header", "footer", "role"}).
RUN_DIR is a doublet output folder (pairs.jsonl, clusters.jsonl) or a pairs.jsonl file. The figures and
their names are those of the reprint benchmark's score.py.

Prints the scores as JSON on stdout and one summary line on stderr.

[bold]Examples[/bold]

  doublet find ../shared/bench/dev-reuters/corpus.jsonl -o out/
  doublet eval ../shared/bench/dev-reuters out/
"""


@app.command("eval", help=unwrap(EVAL_HELP), no_args_is_help=True)
def eval_command(
    gold_dir: Annotated[Path, typer.Argument(metavar="GOLD_DIR", show_default=False, help="The gold folder.")],
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", show_default=False,
                                            help="A doublet output folder, or a pairs.jsonl file.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", show_default=False,
                                             help="Also write the JSON scores to this file.")] = None,
    quiet: Quiet = False,
) -> None:
    from .evaluate import evaluate, id_mismatch, load_gold, load_run, summary_line

    try:
        gold = load_gold(gold_dir)
        run = load_run(run_dir, set(gold.ids))
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from None
    except (ValueError, KeyError) as exc:
        raise CliError(f"cannot read the gold or the run: {type(exc).__name__}: {exc}") from None
    mismatch = id_mismatch(gold, run)
    if mismatch is not None:
        raise RunFailed(f"{run_dir} is not a run of {gold_dir}: {mismatch}. Score a run of the gold's own corpus: "
                        f"`doublet find {gold_dir / 'corpus.jsonl'} -o OUT` then `doublet eval {gold_dir} OUT`")
    scores = evaluate(gold, run)
    text = json.dumps(scores, indent=1)
    typer.echo(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    if not quiet:
        stderr().print(Text(f"doublet eval: {summary_line(scores)}", style="bold green"), soft_wrap=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point (``doublet``); returns the exit code."""
    command: Callable[..., Any] = typer.main.get_command(app).main
    return int(command(args=argv, prog_name="doublet", standalone_mode=False))


if __name__ == "__main__":
    sys.exit(main())
