"""``doublet report``: one self-contained HTML file that shows a find run's pairs side by side, the reused
passages highlighted in both texts, and its clusters.

    doublet report OUTDIR [INPUT...] -o report.html

``OUTDIR`` is the output folder of ``doublet find`` (or ``dedup``): ``pairs.jsonl``, ``clusters.jsonl`` and
``summary.json`` (:mod:`doublet.result`), and when the run wrote them ``boilerplate.jsonl`` (its recurring
blocks taken as template, listed in the report) and ``templates.parquet`` (every template fingerprint: the
words they cover in a shown text are drawn muted, as not compared). Those files hold ids and offsets, not texts, so the texts are read
again from the run's inputs, with the readers and rules of ``find`` (:func:`doublet.documents.read_documents`):
the ``INPUT...`` given, else the inputs that ``summary.json`` lists (as they were given to find: relative
paths are taken from the current folder). Every shown document must be found there, and every passage must
fit its text; a total character count that differs from the run's is reported as a warning.

The page is rendered in the browser by ``doublet/web/render.js`` — the renderer of ``doublet serve``'s page —
and ``report.js``, both inlined with ``style.css``; the data is one JSON block. Document text is untrusted:
it is in the file only inside that JSON block (with ``<``, ``>`` and ``&`` escaped, so it cannot close the
block) and reaches the page's DOM only as text nodes. A Content-Security-Policy allows the report's own
inline script and style (by hash) and nothing else: no network, no other script.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import html
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import __version__
from .config import Config
from .documents import InputProblem, read_documents
from .show import strength

__all__ = ["DEFAULT_MAX_PAIRS", "ReportData", "ReportError", "load_run", "check_offsets", "read_run_pairs", "read_texts", "render_html",
           "write_report"]

DEFAULT_MAX_PAIRS = 1000
"""Pairs shown in one report (the strongest, by :func:`doublet.show.strength`: near-duplicates, then verbatim,
light and heavy reuse, then by containment); the report says how many exist."""

RUN_FILES = ("pairs.jsonl", "clusters.jsonl", "summary.json")
MAX_BLOCKS = 200
"""Template blocks listed in one report (boilerplate.jsonl's first ones: most documents first)."""


class ReportError(Exception):
    """A report cannot be made from what was given; the message says what to give instead."""


@dataclass(slots=True)
class ReportData:
    """Everything the report shows."""

    title: str
    summary: dict[str, Any]  # the run's counts, parameters and inputs
    pairs: list[dict[str, Any]]  # pairs.jsonl rows shown
    total_pairs: int  # rows in pairs.jsonl
    clusters: list[dict[str, Any]]  # {"cluster", "members"} of the clusters that hold a shown pair
    texts: dict[str, str]  # id -> text of every document in a shown pair
    warnings: list[str] = field(default_factory=list)
    templates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # id -> muted spans {start, end, rule}
    blocks: list[dict[str, Any]] = field(default_factory=list)  # boilerplate.jsonl rows listed
    total_blocks: int = 0  # rows in boilerplate.jsonl

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "generated": time.strftime("%Y-%m-%d %H:%M:%S"), "version": __version__,
                "summary": self.summary, "pairs": self.pairs, "total_pairs": self.total_pairs,
                "clusters": self.clusters, "texts": self.texts, "warnings": self.warnings,
                "templates": self.templates, "blocks": self.blocks, "total_blocks": self.total_blocks}


# ------------------------------------------------------------------------------------------ reading a run

def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ReportError(f"{path}:{n}: not JSON ({exc.msg}); is this a doublet find output?") from None


def load_run(outdir: str | Path, inputs: Sequence[str | Path] | None = None, *, id_field: str | None = None,
             text_field: str | None = None, max_pairs: int = DEFAULT_MAX_PAIRS) -> ReportData:
    """Read a find run's output folder and the texts of its ``max_pairs`` strongest pairs (see the module doc)."""
    out = Path(outdir)
    missing = [n for n in RUN_FILES if not (out / n).is_file()]
    if missing:
        raise ReportError(f"{out} is not a doublet find output folder ({', '.join(missing)} missing); run "
                          f"`doublet find INPUT... -o {out}` first")
    if max_pairs < 1:
        raise ReportError(f"--max-pairs must be >= 1 (got {max_pairs})")
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportError(f"{out / 'summary.json'} is not JSON ({exc.msg})") from None

    counted = _Counted(_jsonl(out / "pairs.jsonl"))
    pairs = heapq.nlargest(max_pairs, counted, key=strength)  # strongest first; ties in pairs.jsonl's order
    total = counted.n
    needed = {p["a"] for p in pairs} | {p["b"] for p in pairs}
    clusters = _clusters(out / "clusters.jsonl", needed)
    texts, warnings = read_texts(summary, inputs, needed, id_field, text_field)
    check_offsets(pairs, texts)
    if total > len(pairs):
        warnings.insert(0, f"showing the strongest {len(pairs):,} of {total:,} pairs (raise --max-pairs to see "
                           "more)")
    given = [str(i) for i in (inputs or summary.get("inputs") or [])]
    title = "doublet report: " + (", ".join(given) if given else str(out))
    blocks: list[dict[str, Any]] = []
    n_blocks = 0
    if (out / "boilerplate.jsonl").is_file():
        for row in _jsonl(out / "boilerplate.jsonl"):
            n_blocks += 1
            if len(blocks) < MAX_BLOCKS:
                blocks.append(row)
    return ReportData(title, {k: summary.get(k) for k in ("counts", "parameters", "inputs", "doublet_version",
                                                          "templates")},
                      pairs, total, clusters, texts, warnings, _muted(out, summary, texts), blocks, n_blocks)


class _Counted:
    """An iterator that counts the items it yields (``n``)."""

    def __init__(self, items: Iterator[dict[str, Any]]) -> None:
        self._items, self.n = items, 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for item in self._items:
            self.n += 1
            yield item


def _muted(out: Path, summary: dict[str, Any], texts: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The template words of each shown text (:func:`doublet.analysis.template_spans`) under the run's own
    parameters and template fingerprints (``templates.parquet``; none for runs that did not write it)."""
    path = out / "templates.parquet"
    if not texts or not path.is_file():
        return {}
    from .analysis import template_spans
    from .template import read_table

    try:
        cfg = Config.from_dict(summary.get("parameters") or {})
    except (TypeError, ValueError) as exc:
        raise ReportError(f"{out / 'summary.json'}: parameters this doublet cannot use ({exc})") from None
    t_hash, t_rule = read_table(path)
    return {k: s for k, s in ((k, template_spans(t, cfg, t_hash, t_rule)) for k, t in texts.items()) if s}


def _clusters(path: Path, ids: set[str]) -> list[dict[str, Any]]:
    """Members of the clusters that hold any of ``ids`` (two passes over clusters.jsonl; little memory)."""
    names = {row["cluster"] for row in _jsonl(path) if row.get("id") in ids}
    members: dict[str, list[str]] = {c: [] for c in names}
    for row in _jsonl(path):
        if row.get("cluster") in members:
            members[row["cluster"]].append(row["id"])
    return [{"cluster": c, "members": sorted(m)} for c, m in sorted(members.items(), key=lambda kv: (-len(kv[1]),
                                                                                                       kv[0]))]


def read_run_pairs(outdir: str | Path) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """(summary.json, the pairs.jsonl rows streamed) of a find run's output folder."""
    out = Path(outdir)
    missing = [n for n in ("pairs.jsonl", "summary.json") if not (out / n).is_file()]
    if missing:
        raise ReportError(f"{out} is not a doublet find output folder ({', '.join(missing)} missing); run "
                          f"`doublet find INPUT... -o {out}` first")
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportError(f"{out / 'summary.json'} is not JSON ({exc.msg})") from None
    return summary, _jsonl(out / "pairs.jsonl")


def read_texts(summary: dict[str, Any], inputs: Sequence[str | Path] | None, needed: set[str],
               id_field: str | None = None, text_field: str | None = None) -> tuple[dict[str, str], list[str]]:
    """Texts of the ``needed`` ids (and warnings) read again from the ``inputs`` given, or else from the inputs
    the run's ``summary`` lists; the id and text fields default to the run's (``summary["fields"]``)."""
    fields = summary.get("fields") or {}
    id_field, text_field = id_field or fields.get("id", "id"), text_field or fields.get("text", "text")
    warnings: list[str] = []
    if not needed:
        return {}, warnings
    given = [str(i) for i in inputs] if inputs else [str(i) for i in summary.get("inputs") or []]
    if not given:
        raise ReportError("summary.json lists no inputs: give them after the output folder, "
                          "e.g. `doublet report OUTDIR INPUT... -o report.html` or `doublet show OUTDIR INPUT...`")
    absent = [i for i in given if not Path(i).exists()]
    if absent:
        how = "" if inputs else " (as listed in summary.json: the texts are not in the output folder)"
        raise ReportError(f"input {absent[0]} not found{how}; give the inputs that find read after the output "
                          "folder: `doublet report OUTDIR INPUT... -o report.html` or `doublet show OUTDIR INPUT...`")
    max_chars = int((summary.get("parameters") or {}).get("max_chars") or Config().max_chars)
    problems: list[InputProblem] = []
    texts: dict[str, str] = {}
    chars = 0
    try:
        for doc in read_documents(given, id_field=id_field, text_field=text_field, max_chars=max_chars,
                                  problems=problems):
            chars += len(doc.text)
            if doc.id in needed:
                texts[doc.id] = doc.text
    except (FileNotFoundError, ValueError) as exc:
        raise ReportError(str(exc)) from None
    lost = sorted(needed - texts.keys())
    if lost:
        raise ReportError(f"{len(lost):,} document(s) of this run are not in {', '.join(given)} (e.g. {lost[0]!r}); "
                          "give the inputs that find read (and --id-field/--text-field if find had them)")
    expected = (summary.get("counts") or {}).get("characters")
    if expected is not None and expected != chars:
        warnings.append(f"the inputs hold {chars:,} characters, the find run read {expected:,}: they may have "
                        "changed since; passages may not match the texts")
    return texts, warnings


def check_offsets(pairs: list[dict[str, Any]], texts: dict[str, str]) -> None:
    for p in pairs:
        la, lb = len(texts[p["a"]]), len(texts[p["b"]])
        for s in p["passages"]:
            if not (0 <= s["a_start"] <= s["a_end"] <= la and 0 <= s["b_start"] <= s["b_end"] <= lb):
                raise ReportError(f"pair {p['a']!r} / {p['b']!r}: a passage lies outside the texts read; these are "
                                  "not the inputs of this run")


# ------------------------------------------------------------------------------------------ rendering

def _web(name: str) -> str:
    return resources.files("doublet").joinpath("web", name).read_text(encoding="utf-8")


def _script_json(obj: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` left to end
    the block or open a comment, and no U+2028/2029."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: let JSON escape them
        text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def _sha256(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="doublet {version}">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header><h1>doublet report</h1><span class="muted">{title}</span></header>
<main>
<section id="overview"><noscript><p>This report needs JavaScript to show its pairs.</p></noscript></section>
<section id="lists"></section>
<section id="compare"></section>
</main>
<script type="application/json" id="doublet-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""


def render_html(data: ReportData) -> str:
    """The report as one HTML document (no external resource)."""
    style = _web("style.css")
    script = _web("render.js") + "\n" + _web("report.js")
    csp = (f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(style)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    return _PAGE.format(csp=csp, version=__version__, title=html.escape(data.title), style=style,
                        data=_script_json(data.to_json()), script=script)


def write_report(outdir: str | Path, out: str | Path, inputs: Sequence[str | Path] | None = None, *,
                 id_field: str | None = None, text_field: str | None = None,
                 max_pairs: int = DEFAULT_MAX_PAIRS) -> ReportData:
    """Read the run at ``outdir`` (and its texts) and write the report to ``out``; returns what it shows."""
    data = load_run(outdir, inputs, id_field=id_field, text_field=text_field, max_pairs=max_pairs)
    target = Path(out)
    if target.is_dir():
        raise ReportError(f"{target} is a folder; give -o a file name such as report.html")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    tmp.write_text(render_html(data), encoding="utf-8")
    tmp.replace(target)
    return data
