#!/usr/bin/env python3
"""``doublet dedup --passages`` on dev-reuters, scored against the gold reprinted spans; datatrove's sentence
dedup on the same corpus beside it.

Gold (``gold_pairs.jsonl``: reusing pairs with their reused character spans on both sides; ``doc_meta.jsonl``:
how many characters of each document are site header ``hdr`` and footer ``ftr``, which sit at its start and
end). Keep-first by input order, so in every gold pair the later document is the non-first copy.

* **recall** — share of the gold reprinted characters of non-first copies (the later document's spans of every
  gold pair, merged) that the run removed;
* **precision** — share of the removed characters that are gold reuse (either side's spans of any gold pair)
  or site template (the header's first ``hdr`` and the footer's last ``ftr`` characters, a few characters of
  separator either side);
* characters removed overall, by reason (``reuse`` / ``template`` / ``short``), documents dropped, runs, time;
* the same corpus through datatrove's ``SentenceDedupSignature`` -> ``SentenceFindDedups`` ->
  ``SentenceDedupFilter`` (C4's rule: every 3-sentence span seen before is removed; its defaults, with a regex
  sentence splitter in place of NLTK punkt, whose model would have to be downloaded, and sha1 sentence hashes):
  characters removed,
  recall and precision on the same gold, time.

Also runs ``--remove-templates`` and checks that dedup of the output removes nothing more. Any corpus in the
gold's format can be given (``--gold-dir``); ``--corpus`` alone (no gold) reports the counts and times only
(the 1M-document run). Writes ``bench/results/passage_dedup.json`` and ``.md``.

    python bench/passage_dedup.py [--gold-dir ../shared/bench/dev-reuters] [--no-datatrove]
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GOLD = HERE.parents[1] / "shared" / "bench" / "dev-reuters"
SLACK = 4  # separator characters around a header or footer


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def gold_masks(gold: Path, texts: dict[str, str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per document: the gold reprinted characters of it as a non-first copy (to remove), and every gold reuse
    or site template character (removing them is right)."""
    order = {d: k for k, d in enumerate(texts)}
    later = {d: np.zeros(len(t), bool) for d, t in texts.items()}
    fine = {d: np.zeros(len(t), bool) for d, t in texts.items()}
    for p in load(gold / "gold_pairs.jsonl"):
        first, second = (p["a"], p["b"]) if order[p["a"]] < order[p["b"]] else (p["b"], p["a"])
        for a0, a1, b0, b1 in p["spans"]:
            fine[p["a"]][a0:a1] = fine[p["b"]][b0:b1] = True
            s0, s1 = (b0, b1) if second == p["b"] else (a0, a1)
            later[second][s0:s1] = True
    for m in load(gold / "doc_meta.jsonl"):
        kinds, n = m.get("chars_by_kind", {}), len(texts[m["id"]])
        if kinds.get("hdr"):
            fine[m["id"]][:kinds["hdr"] + SLACK] = True
        if kinds.get("ftr"):
            fine[m["id"]][max(0, n - kinds["ftr"] - SLACK):] = True
    return later, fine


def score(removed: dict[str, np.ndarray], later: dict[str, np.ndarray], fine: dict[str, np.ndarray]) -> dict:
    gold = sum(int(m.sum()) for m in later.values())
    hit = sum(int((removed[d] & m).sum()) for d, m in later.items() if d in removed)
    total = sum(int(m.sum()) for m in removed.values())
    right = sum(int((m & fine[d]).sum()) for d, m in removed.items())
    return {"gold_reprinted_chars": gold, "recall_reprinted_removed": round(hit / gold, 4) if gold else None,
            "removed_chars": total, "precision_removed_is_reuse_or_template": round(right / total, 4) if total else None}


def doublet_run(corpus: Path, out: Path, extra: list[str]) -> tuple[dict, float]:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "doublet.cli", "dedup", "-q", str(corpus), "-o", str(out), "--passages",
                    *extra], check=True)
    return json.loads((out / "summary.json").read_text()), time.perf_counter() - t


def removed_masks(spans: Path, texts: dict[str, str], reasons: tuple[str, ...]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for s in load(spans):
        if s["reason"] in reasons:
            out.setdefault(s["id"], np.zeros(len(texts[s["id"]]), bool))[s["start"]:s["end"]] = True
    return out


def doublet_mode(corpus: Path, tmp: Path, name: str, extra: list[str], texts: dict[str, str],
                 gold: tuple | None) -> dict:
    summary, wall = doublet_run(corpus, tmp / name, extra)
    d = summary["dedup"]
    res = {"options": extra, "wall_s": round(wall, 2), "runs": d["runs"],
           "characters_read": d["characters_read"], "characters_removed": d["characters_removed"],
           "share_removed": round(1 - d["characters_written"] / d["characters_read"], 4),
           "documents_changed": d["documents_changed"], "documents_dropped": d["documents_dropped"],
           "spans": d["spans_removed"]}
    if gold is not None:
        res["score_reuse_spans"] = score(removed_masks(tmp / name / "removed_spans.jsonl", texts, ("reuse",)), *gold)
        res["score_all_removed"] = score(removed_masks(tmp / name / "removed_spans.jsonl", texts,
                                                       ("reuse", "template", "short")), *gold)
    again, wall2 = doublet_run(tmp / name / corpus.name, tmp / f"{name}-again", extra)
    res["rerun_on_output"] = {"spans_removed": again["dedup"]["spans_removed"],
                              "characters_removed": again["dedup"]["characters_removed"], "wall_s": round(wall2, 2)}
    return res


class RegexSentences:
    """A datatrove WordTokenizer splitting sentences at . ! ? followed by space or a line break, and at blank
    lines (NLTK's punkt model is not installed here and would need a download)."""

    SENT = re.compile(r"[^.!?\n]*(?:[.!?]+|\n\n+|$)\s*", re.S)

    def __new__(cls):  # subclass datatrove's base class lazily: datatrove is optional
        from datatrove.utils.word_tokenizers import WordTokenizer

        class _Tok(WordTokenizer):
            def __init__(self) -> None:
                super().__init__("en")

            def word_tokenize(self, text: str) -> list[str]:
                return re.findall(r"\w+", text)

            def sent_tokenize(self, text: str) -> list[str]:
                return [text[a:b].strip() for a, b in self.span_tokenize(text)]

            def span_tokenize(self, text: str) -> list[tuple[int, int]]:
                return [(m.start(), m.end()) for m in RegexSentences.SENT.finditer(text) if m.end() > m.start()]

        return _Tok()


def datatrove_run(corpus: Path, tmp: Path, texts: dict[str, str], gold: tuple | None) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.sentence_dedup import (SentDedupConfig, SentenceDedupFilter,
                                                         SentenceDedupSignature, SentenceFindDedups)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from datatrove.utils.hashing import HashConfig

    tok = RegexSentences()
    # sha1 hashes: datatrove 0.10.1's xxhash path passes str, which the installed xxhash refuses
    cfg = SentDedupConfig(hash_config=HashConfig(hash_fc="sha1"))
    base = tmp / "datatrove"
    t = time.perf_counter()
    LocalPipelineExecutor(pipeline=[JsonlReader(str(corpus.parent), glob_pattern=corpus.name, id_key="id"),
                                    SentenceDedupSignature(output_folder=str(base / "sigs"), config=cfg,
                                                           language=tok)],
                          tasks=1, logging_dir=str(base / "logs1")).run()
    LocalPipelineExecutor(pipeline=[SentenceFindDedups(data_folder=str(base / "sigs"), output_folder=str(base / "dups"),
                                                       config=cfg)],
                          tasks=1, logging_dir=str(base / "logs2")).run()
    LocalPipelineExecutor(pipeline=[JsonlReader(str(corpus.parent), glob_pattern=corpus.name, id_key="id"),
                                    SentenceDedupFilter(data_folder=str(base / "dups"), config=cfg, language=tok),
                                    JsonlWriter(str(base / "out"), compression=None)],
                          tasks=1, logging_dir=str(base / "logs3")).run()
    wall = time.perf_counter() - t
    out: dict[str, str] = {}
    for path in (base / "out").glob("*.jsonl"):
        out.update((r["id"], r["text"]) for r in load(path))
    read = sum(map(len, texts.values()))
    written = sum(map(len, out.values()))
    res = {"wall_s": round(wall, 2), "characters_read": read, "characters_written": written,
           "share_removed": round(1 - written / read, 4), "documents_dropped": len(texts) - len(out),
           "note": "datatrove rewrites kept text (sentences re-joined), so removed characters are located by "
                   "aligning output to input: the characters of each input sentence absent from the output"}
    if gold is not None:
        removed = {}
        for d, text in texts.items():
            mask = np.zeros(len(text), bool)
            new = out.get(d)
            if new is None:
                mask[:] = True
            elif new != text:
                for a, b in tok.span_tokenize(text):
                    if text[a:b].strip() and text[a:b].strip() not in new:
                        mask[a:b] = True
            removed[d] = mask
        res["score"] = score(removed, *gold)
    return res


def markdown(res: dict) -> str:
    out = ["# Passage dedup on " + res["corpus"], "",
           "| run | chars removed (share) | reprinted chars of non-first copies removed | removed chars that are "
           "gold reuse or site template | docs dropped | runs | re-run removes | time s |",
           "|---|---|---|---|---|---|---|---|"]
    for name, r in res["doublet"].items():
        sc = r.get("score_all_removed", {})
        rem = sum(r["characters_removed"].values())
        out.append(f"| doublet {name} | {rem:,} ({r['share_removed']:.1%}) | {sc.get('recall_reprinted_removed')} | "
                   f"{sc.get('precision_removed_is_reuse_or_template')} | {r['documents_dropped']} | {r['runs']} | "
                   f"{r['rerun_on_output']['spans_removed']} spans | {r['wall_s']} |")
    if "datatrove" in res:
        r = res["datatrove"]
        sc = r.get("score", {})
        out.append(f"| datatrove sentence dedup (3 sentences) | {r['characters_read'] - r['characters_written']:,} "
                   f"({r['share_removed']:.1%}) | {sc.get('recall_reprinted_removed')} | "
                   f"{sc.get('precision_removed_is_reuse_or_template')} | {r['documents_dropped']} | 1 | – | "
                   f"{r['wall_s']} |")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gold-dir", type=Path, default=GOLD)
    ap.add_argument("--corpus", type=Path, help="a corpus without gold (counts and times only)")
    ap.add_argument("--no-datatrove", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "passage_dedup")
    args = ap.parse_args()
    corpus = args.corpus or args.gold_dir / "corpus.jsonl"
    texts = {r["id"]: r["text"] for r in load(corpus)}
    gold = gold_masks(args.gold_dir, texts) if args.corpus is None else None
    res: dict = {"corpus": str(corpus), "documents": len(texts),
                 "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
                 "doublet": {}}
    with tempfile.TemporaryDirectory() as tmp:
        res["doublet"]["--passages"] = doublet_mode(corpus, Path(tmp), "passages", [], texts, gold)
        res["doublet"]["--passages --remove-templates"] = doublet_mode(corpus, Path(tmp), "templates",
                                                                       ["--remove-templates"], texts, gold)
        if not args.no_datatrove:
            res["datatrove"] = datatrove_run(corpus, Path(tmp), texts, gold)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(res, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
