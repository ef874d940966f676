"""Reused text where people read it: a pair's verdict, figures and passages side by side in the terminal
(``doublet compare A B`` and ``doublet show OUTDIR``), or the same as JSON with each passage's text.

Offsets are character offsets into the text as doublet decoded it (UTF-8, a BOM dropped, ``\\r\\n`` kept as
two characters): ``open(path, encoding="utf-8-sig", newline="").read()[start:end]`` is a passage of a UTF-8
text file. Pure functions of (pair, texts) plus one rich renderer; reading inputs is the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

__all__ = ["DEFAULT_SHOWN_CHARS", "pair_with_text", "render_pair", "strength"]

DEFAULT_SHOWN_CHARS = 800
"""Characters of a passage shown in the terminal (the middle is elided beyond this); ``--full`` shows all."""


def pair_with_text(pair: Mapping[str, Any], text_a: str, text_b: str) -> dict[str, Any]:
    """A pairs.jsonl row with each passage's text on both sides (``a_text``, ``b_text``) added."""
    out = dict(pair)
    out["passages"] = [{**p, "a_text": text_a[p["a_start"]:p["a_end"]], "b_text": text_b[p["b_start"]:p["b_end"]]}
                       for p in pair.get("passages", [])]
    return out


def strength(pair: Mapping[str, Any]) -> tuple[float, float, int]:
    """Sort key, strongest first when sorted descending: near-duplicates and verbatim reprints before light and
    heavy reuse, then the larger containment, then the more reused characters (the report's order too)."""
    rank = 3 if pair.get("kind") == "near-duplicate" else {"verbatim": 2, "light": 1}.get(pair.get("level") or "", 0)
    reused = sum(p["a_end"] - p["a_start"] for p in pair.get("passages", []))
    return rank, max(pair.get("containment_a", 0.0), pair.get("containment_b", 0.0)), reused


def _elide(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    half = max(limit // 2, 1)
    return f"{text[:half]} … [{len(text) - 2 * half:,} characters] … {text[-half:]}"


def _verdict(pair: Mapping[str, Any]) -> Text:
    kind, level = pair.get("kind"), pair.get("level")
    if kind is None:
        return Text("no reuse found", style="bold")
    style = "bold red" if kind == "near-duplicate" else "bold yellow"
    return Text(f"{kind}{f' · {level}' if level else ''}", style=style)


def render_pair(console: Console, pair: Mapping[str, Any], text_a: str, text_b: str, *, name_a: str | None = None,
                name_b: str | None = None, max_chars: int | None = DEFAULT_SHOWN_CHARS) -> None:
    """Print one pair: the verdict (kind, level), similarity, containment both ways, then each passage's text
    from both documents side by side with its offsets and identity."""
    na, nb = name_a or str(pair["a"]), name_b or str(pair["b"])
    head = Table.grid(padding=(0, 2))
    head.add_row(Text("A", style="bold"), Text(na), Text(f"{len(text_a):,} characters", style="dim"))
    head.add_row(Text("B", style="bold"), Text(nb), Text(f"{len(text_b):,} characters", style="dim"))
    figures = Text.assemble(
        ("verdict      ", "bold"), _verdict(pair), "\n",
        ("similarity   ", "bold"), f"{pair.get('jaccard', 0.0):.3f} (Jaccard of word 5-grams)\n",
        ("containment  ", "bold"), f"{pair.get('containment_a', 0.0):.1%} of A is in B · "
                                   f"{pair.get('containment_b', 0.0):.1%} of B is in A\n",
        ("passages     ", "bold"), f"{len(pair.get('passages', [])):,}")
    console.print(Panel(Group(head, Text(""), figures), title="doublet", title_align="left", expand=False))
    for k, p in enumerate(pair.get("passages", []), 1):
        table = Table(expand=True, show_lines=False, title_justify="left",
                      title=Text(f"passage {k}" + (f" · identity {p['identity']:.0%}" if "identity" in p else ""),
                                 style="bold"))
        table.add_column(f"A [{p['a_start']}:{p['a_end']}]", ratio=1, overflow="fold")
        table.add_column(f"B [{p['b_start']}:{p['b_end']}]", ratio=1, overflow="fold")
        table.add_row(Text(_elide(text_a[p["a_start"]:p["a_end"]], max_chars)),
                      Text(_elide(text_b[p["b_start"]:p["b_end"]], max_chars)))
        console.print(table)
