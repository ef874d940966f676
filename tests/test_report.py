"""`doublet report` (doublet.report): a self-contained HTML report of a find run.

* The data block holds find's pairs and clusters and the texts as read again from the run's inputs
  (listed in summary.json, or given), and every passage fits its texts.
* Untrusted text cannot leave the JSON block (no `<`, `>` or `&` in it), titles are escaped, and the
  Content-Security-Policy allows exactly the inline script and style the file holds (by hash).
* Missing or wrong inputs, and folders that are not find outputs, are clear errors (exit 2 on the CLI).
  (The browser side — rendering, highlighting, nothing executing — is in test_browser.py.)
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from doublet.cli import main
from doublet.report import ReportError, load_run, render_html, write_report

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "examples" / "seeds"
A, B = "000_b11279ffa2e6de7c.txt", "003_f7c337c5b85d0f0e.txt"
HOSTILE = "</script><script>window.__xss=1</script><!-- <img src=x onerror=alert(1)> & \u2028 ]]>"


def find(inputs: list[Path], out: Path) -> Path:
    assert main(["find", *map(str, inputs), "-o", str(out), "-q", "-w", "1"]) == 0
    return out


def data_block(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="doublet-data">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return find([SEEDS], tmp_path_factory.mktemp("run") / "out")


def test_report_of_the_seeds(seeds_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    data = write_report(seeds_run, out)  # texts from the inputs summary.json lists
    page = out.read_text(encoding="utf-8")
    block = data_block(page)
    pairs = [json.loads(x) for x in (seeds_run / "pairs.jsonl").read_text().splitlines()]
    assert block["pairs"] == pairs == data.pairs and block["total_pairs"] == 1
    assert block["texts"] == {A: (SEEDS / A).read_text(encoding="utf-8"), B: (SEEDS / B).read_text(encoding="utf-8")}
    assert block["clusters"] == [{"cluster": A, "members": [A, B]}]
    assert block["summary"]["counts"]["pairs"] == 1 and not block["warnings"]
    code = re.sub(r'(id="doublet-data">).*?(</script>)', r"\1\2", page, flags=re.S)  # the page without its data
    assert "http://" not in code and "https://" not in code and "<link" not in code  # self-contained
    assert page.count("<script") == 2  # the data block and the code


def test_csp_allows_exactly_the_inline_code(seeds_run: Path, tmp_path: Path) -> None:
    page = write_report(seeds_run, tmp_path / "r.html") and (tmp_path / "r.html").read_text(encoding="utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)
    style = re.search(r"<style>(.*)</style>", page, re.S).group(1)

    def sha(s: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"

    assert f"script-src {sha(script)};" in csp and f"style-src {sha(style)};" in csp
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp


def test_hostile_text_and_ids_stay_data(tmp_path: Path) -> None:
    base = (SEEDS / A).read_text(encoding="utf-8")
    folder = tmp_path / "in<b>put&"
    folder.mkdir()
    (folder / "x<script>.txt").write_text(HOSTILE + "\n" + base, encoding="utf-8")
    (folder / "y.txt").write_text(base + "\n" + HOSTILE, encoding="utf-8")
    run = find([folder], tmp_path / "out")
    page = render_html(load_run(run))
    head, block_and_rest = page.split('id="doublet-data">', 1)
    block = block_and_rest.split("</script>", 1)[0]
    assert "<" not in block and ">" not in block and "&" not in block and "\u2028" not in block
    assert "x<script>.txt" not in page and "window.__xss" not in head
    assert "<title>doublet report: " + str(tmp_path).replace("&", "&amp;") + "/in&lt;b&gt;put&amp;</title>" in page
    data = json.loads(block)
    assert data["texts"]["x<script>.txt"].startswith(HOSTILE)  # the text itself is intact
    assert data["pairs"][0]["kind"] == "near-duplicate"


def test_inputs_given_or_missing(seeds_run: Path, tmp_path: Path) -> None:
    moved = tmp_path / "run"
    moved.mkdir()
    for name in ("pairs.jsonl", "clusters.jsonl"):
        (moved / name).write_bytes((seeds_run / name).read_bytes())
    summary = json.loads((seeds_run / "summary.json").read_text())
    summary["inputs"] = ["gone/seeds"]  # as if find had run elsewhere
    (moved / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(ReportError, match="input gone/seeds not found.*give the inputs"):
        load_run(moved)
    assert set(load_run(moved, [SEEDS]).texts) == {A, B}
    other = tmp_path / "other"
    other.mkdir()
    (other / "z.txt").write_text("unrelated words here", encoding="utf-8")
    with pytest.raises(ReportError, match="2 document.* not in"):
        load_run(moved, [other])
    changed = tmp_path / "changed"
    changed.mkdir()
    for name in (A, B):
        (changed / name).write_text((SEEDS / name).read_text(encoding="utf-8") + " more", encoding="utf-8")
    assert any("may have changed" in w for w in load_run(moved, [changed]).warnings)
    short = tmp_path / "short"
    short.mkdir()
    for name in (A, B):
        (short / name).write_text("tiny", encoding="utf-8")
    with pytest.raises(ReportError, match="passage lies outside"):
        load_run(moved, [short])


def test_max_pairs(tmp_path: Path) -> None:
    base = (SEEDS / A).read_text(encoding="utf-8")
    folder = tmp_path / "many"
    folder.mkdir()
    for k in range(4):  # 4 copies: 6 near-duplicate pairs
        (folder / f"c{k}.txt").write_text(base + f" copy {k}", encoding="utf-8")
    run = find([folder], tmp_path / "out")
    data = load_run(run, max_pairs=2)
    assert len(data.pairs) == 2 and data.total_pairs == 6 and "strongest 2 of 6 pairs" in data.warnings[0]
    assert set(data.texts) == {p["a"] for p in data.pairs} | {p["b"] for p in data.pairs}
    assert data.clusters == [{"cluster": "c0.txt", "members": [f"c{k}.txt" for k in range(4)]}]


def test_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="not a doublet find output folder"):
        load_run(tmp_path)


def test_cli(seeds_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "report.html"
    r = subprocess.run([sys.executable, "-m", "doublet.cli", "report", str(seeds_run), str(SEEDS), "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stderr and "1 of 1 pair shown" in r.stderr and out.is_file()
    r = subprocess.run([sys.executable, "-m", "doublet.cli", "report", str(tmp_path), "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "doublet.cli", "report", str(seeds_run), "-o", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "give -o a file name" in r.stderr


FOOTER = ("Example Daily is published by the Example Media Group in Springfield and reaches its subscribers every "
          "morning before seven o'clock, weekends and holidays included.")
STORY = " ".join(f"story{j}" for j in range(60)) + "."


def footer_run(tmp_path: Path) -> Path:
    """A find run over five pages of one site, all ending with its footer, two carrying a story that a page of
    another site also prints (with --site-field)."""
    rows = []
    for k in range(5):
        body = " ".join(f"w{k}x{j}" for j in range(50)) + "."
        rows.append({"id": f"p{k}", "text": f"Page {k}. {body}\n\n" + (STORY + "\n\n" if k in (1, 3) else "") + FOOTER,
                     "site": "example-daily.com"})
    rows.append({"id": "other", "text": "Other News. " + STORY, "site": "other-news.org"})
    src = tmp_path / "pages.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["find", str(src), "-o", str(out), "-q", "-w", "1", "--site-field", "site"]) == 0
    return out


def test_templates_listed_and_their_words_muted(tmp_path: Path) -> None:
    """A footer that every page of a site carries is a template: the report lists its block (boilerplate.jsonl's
    rows) and marks exactly its words in a shown text as muted spans (from templates.parquet); a run folder
    without templates.parquet (an older run) gives a report with none muted."""
    out = footer_run(tmp_path)
    assert (out / "templates.parquet").is_file()
    data = write_report(out, tmp_path / "report.html")
    assert {(p["a"], p["b"]) for p in data.pairs} == {("other", "p1"), ("other", "p3"), ("p1", "p3")}
    # the footer in all five pages; the words joining the story to it are the site's own too (p1 and p3 only)
    assert data.total_blocks == 2 and data.blocks[0]["text"] == FOOTER and data.blocks[0]["rule"] == "site"
    assert data.blocks[0]["documents"] == 5 and data.blocks[1]["documents"] == 2
    assert set(data.templates) == {"p1", "p3"}  # the shown texts with template words; "other" has none
    for doc in ("p1", "p3"):
        text = data.texts[doc]
        [muted] = [text[s["start"]:s["end"]] for s in data.templates[doc]]
        assert muted.endswith(FOOTER) and muted.startswith("story5")  # the story's last words, then the footer
        assert {s["rule"] for s in data.templates[doc]} == {"site"}
    block = data_block((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert block["templates"] == data.templates and block["total_blocks"] == 2
    assert block["summary"]["templates"]["by_rule"]["site"] > 0

    (out / "templates.parquet").unlink()
    older = write_report(out, tmp_path / "older.html")
    assert older.templates == {} and older.total_blocks == 2
