#!/usr/bin/env python3
"""Real corpora as people have them, for reading doublet's answers by eye.

    python bench/realdata.py build [--out bench/results/tmp/real]        # reuters.jsonl, 20ng.jsonl, bbc.jsonl
    python bench/realdata.py sample RUN_DIR CORPUS.jsonl -n 60 --seed 1 -o sheet.md [--only-new OLD_RUN_DIR]

``build`` writes one JSON Lines file per corpus from ``../shared/data`` (never copied into the repository):

* ``reuters.jsonl`` — the 19,043 Reuters-21578 stories with a body: ``TITLE`` line, then the body exactly as
  distributed (hard-wrapped, with its ``Reuter`` sign-off); id ``reuters-<NEWID>``.
* ``20ng.jsonl`` — the 18,846 20 Newsgroups posts, whole: header lines (``From:``, ``Subject:``,
  ``Organization:``, ``Lines:``), body, quoted replies and signatures; id = the post's path.
* ``bbc.jsonl`` — the 2,225 BBC News articles; id = the path.

``sample`` draws pairs of a ``doublet find`` run (stratified by word 5-gram Jaccard: a third below 0.2, a
third 0.2–0.5, a third above) and writes a Markdown sheet with each pair's passages side by side, for a
person to judge (``reuse`` / ``template`` / ``other``). ``--only-new`` draws only pairs absent from an older
run (to read what a change added). Verdicts are kept in ``bench/results/realdata_judged.jsonl``.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "results" / "tmp" / "real"


def reuters(data: Path = DATA) -> Iterator[tuple[str, str]]:
    """(id, title + body) of every Reuters-21578 story with a body, in NEWID order."""
    stories = []
    for f in sorted((data / "reuters21578").glob("reut2-*.sgm.gz")):
        raw = gzip.open(f).read().decode("latin-1")
        for story in re.findall(r"<REUTERS.*?</REUTERS>", raw, re.S):
            body = re.search(r"<BODY>(.*?)</BODY>", story, re.S)
            if not body:
                continue
            newid = int(re.search(r'NEWID="(\d+)"', story).group(1))
            title = re.search(r"<TITLE>(.*?)</TITLE>", story, re.S)
            text = html.unescape(body.group(1)).replace("\x03", "").strip()
            if title:
                text = html.unescape(title.group(1)).strip() + "\n" + text
            stories.append((newid, text))
    for newid, text in sorted(stories):
        yield f"reuters-{newid}", text


def _tar(path: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of every file in a .tar.gz, read in one sequential pass, sorted by name."""
    with tarfile.open(path, "r:gz") as t:
        members = [(m.name, t.extractfile(m).read()) for m in t if m.isfile()]
    for name, raw in sorted(members):
        yield name, raw.decode("utf-8", "replace")


def newsgroups(data: Path = DATA) -> Iterator[tuple[str, str]]:
    """(path, whole post) of every 20 Newsgroups post (headers, quoting and signatures kept)."""
    yield from _tar(data / "20newsgroups-bydate" / "20news-bydate.tar.gz")


def bbc(data: Path = DATA) -> Iterator[tuple[str, str]]:
    """(path, text) of every BBC News article."""
    yield from _tar(data / "bbc-news" / "bbc.tar.gz")


CORPORA = {"reuters": reuters, "20ng": newsgroups, "bbc": bbc}


def build(out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, gen in CORPORA.items():
        n = 0
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for doc_id, text in gen():
                if text.strip():
                    f.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
                    n += 1
        counts[name] = n
    return counts


def _pairs(run: Path) -> list[dict]:
    with open(run / "pairs.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def sample(run: Path, corpus: Path, n: int, seed: int, only_new: Path | None = None) -> list[dict]:
    """Pairs of ``run`` to read, stratified by Jaccard (a third each below 0.2, 0.2-0.5, above 0.5)."""
    pairs = _pairs(run)
    if only_new is not None:
        old = {(p["a"], p["b"]) for p in _pairs(only_new)}
        pairs = [p for p in pairs if (p["a"], p["b"]) not in old]
    rng = random.Random(seed)
    strata = [[p for p in pairs if p["jaccard"] < 0.2], [p for p in pairs if 0.2 <= p["jaccard"] < 0.5],
              [p for p in pairs if p["jaccard"] >= 0.5]]
    picked: list[dict] = []
    for k, s in enumerate(strata):
        want = n // 3 + (1 if k < n % 3 else 0)
        picked += rng.sample(s, min(want, len(s)))
    if len(picked) < n:  # a thin stratum: fill from the rest
        rest = [p for p in pairs if p not in picked]
        picked += rng.sample(rest, min(n - len(picked), len(rest)))
    return picked


def sheet(picked: list[dict], corpus: Path) -> str:
    need = {x for p in picked for x in (p["a"], p["b"])}
    texts = {}
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["id"] in need:
                texts[d["id"]] = d["text"]
    out = []
    for k, p in enumerate(picked, 1):
        out.append(f"## {k}. {p['a']}  ~  {p['b']}\n")
        out.append(f"kind {p['kind']}, jaccard {p['jaccard']}, containment {p['containment_a']} / "
                   f"{p['containment_b']}, {len(p['passages'])} passage(s)\n")
        for q in p["passages"][:4]:
            a = texts[p["a"]][q["a_start"]:q["a_end"]].replace("\n", " ⏎ ")
            b = texts[p["b"]][q["b_start"]:q["b_end"]].replace("\n", " ⏎ ")
            out.append(f"- A: {a[:700]}\n- B: {b[:700]}\n")
        out.append("verdict: \n")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--out", type=Path, default=OUT)
    s = sub.add_parser("sample")
    s.add_argument("run", type=Path)
    s.add_argument("corpus", type=Path)
    s.add_argument("-n", type=int, default=60)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("-o", "--out", type=Path)
    s.add_argument("--only-new", type=Path)
    args = ap.parse_args()
    if args.cmd == "build":
        print(json.dumps(build(args.out)))
    else:
        text = sheet(sample(args.run, args.corpus, args.n, args.seed, args.only_new), args.corpus)
        if args.out:
            args.out.write_text(text, encoding="utf-8")
        else:
            print(text)


if __name__ == "__main__":
    main()
