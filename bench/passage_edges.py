#!/usr/bin/env python3
"""Passage boundaries inside tokens on real text: how many reported passage edges cut a number, an
abbreviation, a URL or an e-mail address.

    python bench/passage_edges.py [--before /work/main/.venv/bin/doublet] [--tmp DIR]

Writes Reuters-21578 (the 19,043 stories with a body, as ``bench/realdata.py build`` does: title line, then the
body) as JSON Lines into a temporary folder (never into the repository), runs ``doublet find`` on it and on the
dev-reuters benchmark corpus (``../shared/bench/dev-reuters``, read where it is; skipped if absent) with
default settings — this checkout's ``doublet`` (the one next to the running Python) and, with ``--before``,
another build of it (e.g. the main branch's) — and counts, over every passage of every pair, its four
boundaries (start and end in both texts) that fall strictly inside a compound token:

* ``number``: digits joined by single ``.``, ``,``, ``/``, ``:`` or ``-`` (``29.1``, ``1,250``, ``3/4``, ``9-13/16``);
* ``abbreviation``: dotted initials (``U.S.``, ``U.K.``, ``a.m.``) or a listed abbreviation with its dot
  (``Inc.``, ``Corp.``, ``Co.``, ``Ltd.``, months as ``Jan.``, ``Mr.``, ``Dr.``, ``St.``);
* ``url``: ``scheme://…``, ``www.…``, ``host.tld/path`` or a bare host name with a common top-level domain in
  lower case (``reuters.com``);
* ``email``: ``name@host.tld``.

These patterns are written here independently of the C kernel's rules, so the count checks the code rather
than restating it. Results go to ``bench/results/passage_edges.json`` and ``passage_edges.md``, with a few
examples of each kind (``|`` marks the boundary, ``⏎`` a line break).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realdata import reuters  # noqa: E402  (bench/realdata.py: the corpus as people have it)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEV_REUTERS = ROOT.parent / "shared" / "bench" / "dev-reuters" / "corpus.jsonl"

_STOP = r"[^\s<>\"\u201c\u201d]"
PATTERNS: dict[str, re.Pattern[str]] = {
    "number": re.compile(r"\d+(?:[.,/:-]\d+)+"),
    "abbreviation": re.compile(r"(?<![A-Za-z])(?:[A-Za-z]\.){2,}"
                               r"|\b(?:Inc|Corp|Co|Ltd|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|Mrs?|Dr|St)\."),
    "url": re.compile(rf"(?:\b[A-Za-z][A-Za-z0-9+.-]*://|\b[Ww][Ww][Ww]\.){_STOP}+"
                      rf"|\b[A-Za-z0-9.-]+\.[A-Za-z]{{2,}}/{_STOP}*"
                      r"|(?<![\w.-])[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*\.(?:com|net|org|gov|edu|info|io|uk|de)"
                      r"(?![.-]?[A-Za-z0-9])"),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
}
EXAMPLES = 8


def compounds(text: str) -> dict[str, list[tuple[int, int]]]:
    """Character spans of the compound tokens of ``text``, by kind."""
    return {kind: [m.span() for m in pat.finditer(text)] for kind, pat in PATTERNS.items()}


def inside(spans: list[tuple[int, int]], pos: int) -> bool:
    """Whether ``pos`` lies strictly inside one of ``spans`` (a cut between two of its characters)."""
    return any(s < pos < e for s, e in spans)


def commit_of(exe: Path) -> str | None:
    """The git commit of the checkout an executable's virtualenv belongs to (``<repo>/.venv/bin/doublet``)."""
    repo = exe.resolve().parents[2] if exe.parent.name == "bin" else exe.parent
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True)
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def measure(exe: Path, corpus: Path, texts: dict[str, str], out: Path) -> dict:
    """Run ``exe find`` on the corpus with default settings and count the boundaries inside compound tokens."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # leave the other checkout's files untouched
    t0 = time.perf_counter()
    subprocess.run([str(exe), "find", str(corpus), "-o", str(out)], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    cache: dict[str, dict[str, list[tuple[int, int]]]] = {}
    counts = {kind: 0 for kind in PATTERNS}
    examples: dict[str, list[str]] = {kind: [] for kind in PATTERNS}
    pairs = passages = 0
    with open(out / "pairs.jsonl", encoding="utf-8") as f:
        for pair in map(json.loads, f):
            pairs += 1
            passages += len(pair["passages"])
            for p in pair["passages"]:
                for doc, pos in ((pair["a"], p["a_start"]), (pair["a"], p["a_end"]),
                                 (pair["b"], p["b_start"]), (pair["b"], p["b_end"])):
                    text = texts[doc]
                    if doc not in cache:
                        cache[doc] = compounds(text)
                    for kind, spans in cache[doc].items():
                        if inside(spans, pos):
                            counts[kind] += 1
                            if len(examples[kind]) < EXAMPLES:
                                around = f"{text[max(0, pos - 25):pos]}|{text[pos:pos + 15]}".replace("\n", "⏎")
                                examples[kind].append(f"{doc}: …{around}…")
    return {"doublet": str(exe), "commit": commit_of(exe), "seconds": round(seconds, 1), "pairs": pairs,
            "passages": passages, "boundaries": 4 * passages, "inside": counts, "examples": examples}


def markdown(result: dict) -> str:
    lines = [
        "# Passage boundaries inside tokens (`python bench/passage_edges.py`)",
        "",
        "`doublet find` with default settings. A boundary is a passage's start or end in either text (four per "
        "passage); it is *inside* a token when it falls strictly between two characters of a number, an "
        "abbreviation, a URL or an e-mail address (patterns in the script's docstring).",
        "",
        "| corpus | documents | run | commit | pairs | passages | boundaries | inside a number "
        "| inside an abbreviation | inside a URL | inside an e-mail | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for corpus, c in result["corpora"].items():
        for name, r in c["runs"].items():
            k = r["inside"]
            lines.append(f"| {corpus} | {c['documents']:,} | {name} | {r['commit']} | {r['pairs']:,} | "
                         f"{r['passages']:,} | {r['boundaries']:,} | {k['number']:,} | {k['abbreviation']:,} | "
                         f"{k['url']:,} | {k['email']:,} | {r['seconds']} |")
    for corpus, c in result["corpora"].items():
        for name, r in c["runs"].items():
            shown = [(k, v) for k, v in r["examples"].items() if v]
            if shown:
                lines += ["", f"Examples ({corpus}, {name}; `|` marks the boundary, `⏎` a line break):", ""]
                for kind, ex in shown:
                    lines += [f"* {kind}: " + "; ".join(f"`{e}`" for e in ex[:4])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, help="another doublet executable to measure first (e.g. main's)")
    ap.add_argument("--tmp", type=Path, help="working folder (default: a new temporary one)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="where passage_edges.json and .md go")
    args = ap.parse_args(argv)
    here = Path(sys.executable).parent / "doublet"
    exes = ([("before", args.before)] if args.before else []) + [("after" if args.before else "this checkout", here)]
    result: dict = {"corpora": {}}
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        reuters_jsonl = Path(tmp) / "reuters.jsonl"
        texts = dict(reuters())
        with open(reuters_jsonl, "w", encoding="utf-8") as f:
            for doc, text in texts.items():
                f.write(json.dumps({"id": doc, "text": text}, ensure_ascii=False) + "\n")
        corpora = {"Reuters-21578": (reuters_jsonl, texts)}
        if DEV_REUTERS.is_file():
            with open(DEV_REUTERS, encoding="utf-8") as f:
                corpora["dev-reuters"] = (DEV_REUTERS, {d["id"]: d["text"] for d in map(json.loads, f)})
        for i, (corpus, (path, docs)) in enumerate(corpora.items()):
            runs = {name: measure(exe, path, docs, Path(tmp) / f"{i}-{name}") for name, exe in exes}
            result["corpora"][corpus] = {"path": str(path) if path == DEV_REUTERS else "temporary JSON Lines",
                                         "documents": len(docs), "runs": runs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "passage_edges.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    (args.out / "passage_edges.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
