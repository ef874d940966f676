"""The web page of `doublet serve` and the static report of `doublet report`, in a real headless Chromium
(Debian's chromium + chromedriver, driven by selenium; nothing is downloaded).

* `doublet serve` runs as a subprocess on a free loopback port with an index of the two seeds: pasting seed
  000 (and uploading it as a file) shows seed 003 matched, with the reused passages highlighted in both panes
  at the offsets the API gives; a cluster can be browsed. Screenshots go to out/test-artifacts/.
* XSS: documents whose ids and texts carry `<script>`, `onerror=`, `javascript:` and `</script>` payloads are
  shown on the page (served without its Content-Security-Policy, so only the renderer's own care protects it)
  and in the static report (with and without its CSP); no payload runs: a flag they would set stays unset,
  the title is unchanged, no alert opens. A canary shows the same payload *does* run when put in as HTML.
* Offsets are code points (Python) mapped to UTF-16 (JavaScript): a passage after emoji is highlighted exactly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless Chromium is not installed (apt-get install chromium chromium-driver; .ci/run installs them)")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import doublet  # noqa: E402
from doublet.index import Index  # noqa: E402
from doublet.report import write_report  # noqa: E402
from doublet.serve import ServerProcess, create_app  # noqa: E402
from test_serve import LiveServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "examples" / "seeds"
ARTIFACTS = ROOT / "out" / "test-artifacts"
A, B = "000_b11279ffa2e6de7c.txt", "003_f7c337c5b85d0f0e.txt"
PAGE_TITLE = "doublet — reused text"

FLAG = "window.__xss=(window.__xss||0)+1;document.title='pwned'"
PAYLOADS = [
    f"<script>{FLAG}</script>",
    f'<img src=x onerror="{FLAG}">',
    f'<a href="javascript:{FLAG}">click me</a>',
    f'<svg onload="{FLAG}"></svg>',
    f"</script><script>{FLAG}</script>",
    f'<iframe src="javascript:{FLAG}"></iframe>',
    '"><img src=x onerror=alert(1)>',
]
HOSTILE_IDS = [f'<img src=x onerror="{FLAG}">', f"javascript:{FLAG}", '"><svg onload=alert(1)>']


def seed(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


def hostile_docs() -> list[tuple[str, str]]:
    """Three documents sharing seed 000's story, every payload inside and around the shared passages."""
    block = "\n".join(PAYLOADS)
    base = seed(A)
    cut = base.index("During the talks")
    return [(HOSTILE_IDS[0], "😀 " + block + "\n" + base),
            (HOSTILE_IDS[1], base[:cut] + block + " " + base[cut:] + "\n" + block),
            (HOSTILE_IDS[2], "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 " + seed(B) + "\n" + block)]


# --------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    opts = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--window-size=1400,1000", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def served_seeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`doublet serve` (the real command, in a child process) on an index of the seeds."""
    path = tmp_path_factory.mktemp("served") / "seeds.idx"
    with Index.create(path) as idx:
        idx.add_files([SEEDS])
    with ServerProcess(path, "--readers", "2", "--log-level", "warning", log=path.parent / "serve.log") as base:
        yield base


def wait(driver: WebDriver, condition, timeout: float = 20):  # noqa: ANN001
    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def save(driver: WebDriver, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / name)
    return shot


def marks(driver: WebDriver, side: str) -> list[str]:
    return [m.get_attribute("textContent") for m in driver.find_elements(By.CSS_SELECTOR, f".pane-{side} mark.passage")]


def paste(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "query-text")
    driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));",
                          box, text)
    driver.find_element(By.ID, "search-button").click()


def match_button(driver: WebDriver, doc_id: str):  # noqa: ANN201
    for b in driver.find_elements(By.CSS_SELECTOR, "#matches button.match-open"):
        if b.get_attribute("textContent") == doc_id:
            return b
    return None


def assert_nothing_ran(driver: WebDriver, title: str) -> None:
    try:
        alert = driver.switch_to.alert
        text = alert.text
        alert.dismiss()
        pytest.fail(f"an alert opened: {text!r}")
    except NoAlertPresentException:
        pass
    assert driver.execute_script("return window.__xss === undefined"), "a payload ran"
    assert driver.title == title


# --------------------------------------------------------------------------------------------- the page

def test_paste_seed_000_shows_003_highlighted(browser: WebDriver, served_seeds: str, tmp_path: Path) -> None:
    browser.get(served_seeds + "/")
    assert browser.title == PAGE_TITLE
    wait(browser, lambda d: "2 documents indexed" in d.find_element(By.ID, "health").text)
    text_a, text_b = seed(A), seed(B)
    paste(browser, text_a)
    wait(browser, lambda d: match_button(d, B) is not None)
    assert "2 indexed documents reuse this text" in browser.find_element(By.ID, "status").text
    match_button(browser, B).click()
    wait(browser, lambda d: len(marks(d, "right")) > 0 and B in d.find_element(By.ID, "compare").text)
    api = httpx.post(served_seeds + "/search", json={"text": text_a}).json()
    passages = next(m for m in api["matches"] if m["match"] == B)["passages"]
    assert len(passages) == 4
    assert marks(browser, "left") == [text_a[p["query_start"]:p["query_end"]] for p in passages]
    assert marks(browser, "right") == [text_b[p["match_start"]:p["match_end"]] for p in passages]
    # the whole texts are shown, as text
    panes = browser.find_elements(By.CSS_SELECTOR, ".pane pre.doc-text")
    assert [p.get_attribute("textContent") for p in panes] == [text_a, text_b]
    # clicking a passage brings its counterpart into view, flashing
    browser.find_elements(By.CSS_SELECTOR, ".pane-left mark.passage")[3].click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".pane-right mark.flash"))
    save(browser, tmp_path, "page-seeds.png")


def test_start_page_shows_what_is_indexed(browser: WebDriver, served_seeds: str, tmp_path: Path) -> None:
    """Before any search, the page says what is indexed and offers a reusing pair to open, and the documents
    added last: clicking one searches for what reuses it."""
    browser.get(served_seeds + "/")
    wait(browser, lambda d: d.find_elements(By.ID, "sample-pair"))
    body = browser.find_element(By.ID, "overview-body").text
    assert "2 documents · 5,744 characters" in body
    sample = browser.find_element(By.ID, "sample-pair")
    assert sample.text in (f"{A} ↔ {B}", f"{B} ↔ {A}")
    sample.click()
    wait(browser, lambda d: len(marks(d, "left")) == 4 and len(marks(d, "right")) == 4)
    save(browser, tmp_path, "page-start.png")
    browser.find_element(By.CSS_SELECTOR, "#overview details summary").click()
    button = next(b for b in browser.find_elements(By.CSS_SELECTOR, "#recent-docs button") if b.text == A)
    button.click()
    wait(browser, lambda d: match_button(d, B) is not None)


def test_report_pairs_strongest_first_with_a_filter(browser: WebDriver, tmp_path: Path) -> None:
    """The report lists pairs strongest first, numbered from 1 (#pair=N opens the Nth of the list); the filter
    box keeps the pairs whose line holds every word typed."""
    from doublet.cli import main

    base = seed(A)
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "x0.txt").write_text(base, encoding="utf-8")
    (folder / "x1.txt").write_text(base + " one more sentence at the end of it.", encoding="utf-8")
    (folder / "y.txt").write_text(seed(B), encoding="utf-8")
    assert main(["find", str(folder), "-o", str(tmp_path / "out"), "-q", "-w", "1"]) == 0
    report = tmp_path / "report.html"
    data = write_report(tmp_path / "out", report)
    assert len(data.pairs) == 3 and data.pairs[0]["kind"] == "near-duplicate"
    browser.get(report.as_uri() + "#pair=2")
    browser.refresh()
    second = data.pairs[1]
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".pane-left .doc-id").text == second["a"])
    assert browser.find_element(By.CSS_SELECTOR, ".pane-right .doc-id").text == second["b"]
    items = browser.find_elements(By.CSS_SELECTOR, "#pair-list li")
    assert [i.find_element(By.CSS_SELECTOR, "button").text for i in items] == \
        [f"{p['a']} ↔ {p['b']}" for p in data.pairs]
    box = browser.find_element(By.ID, "pair-filter")
    box.send_keys("reuse y.txt")
    wait(browser, lambda d: len([i for i in d.find_elements(By.CSS_SELECTOR, "#pair-list li") if i.is_displayed()]) == 2)
    assert "2 of 3 shown" in browser.find_element(By.ID, "pair-count").text
    box.send_keys(" x1")
    shown = [i for i in browser.find_elements(By.CSS_SELECTOR, "#pair-list li") if i.is_displayed()]
    assert len(shown) == 1 and "x1.txt" in shown[0].text
    save(browser, tmp_path, "report-filter.png")


def test_browse_cluster(browser: WebDriver, served_seeds: str, tmp_path: Path) -> None:
    browser.get(served_seeds + "/#cluster=" + quote(B, safe=""))
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#cluster-body ol.pairs button"))
    assert not browser.find_element(By.ID, "cluster").get_attribute("hidden")
    body = browser.find_element(By.ID, "cluster-body").text
    assert A in body and "2 documents · 1 pair" in body
    browser.find_element(By.CSS_SELECTOR, "#cluster-body ol.pairs button").click()
    wait(browser, lambda d: len(marks(d, "left")) == 4 and len(marks(d, "right")) == 4)
    save(browser, tmp_path, "page-cluster.png")


def test_upload_a_file(browser: WebDriver, served_seeds: str) -> None:
    browser.get(served_seeds + "/")
    browser.find_element(By.ID, "query-file").send_keys(str(SEEDS / B))
    wait(browser, lambda d: match_button(d, A) is not None and len(marks(d, "left")) > 0)
    assert browser.find_element(By.ID, "query-text").get_attribute("value") == seed(B)
    match_button(browser, A).click()  # the first match is the uploaded document itself (indexed as 003)
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".pane-right .doc-id").text == A)
    assert len(marks(browser, "left")) == len(marks(browser, "right")) == 4


def test_errors_are_shown(browser: WebDriver, served_seeds: str) -> None:
    browser.get(served_seeds + "/")
    browser.find_element(By.ID, "query-id").send_keys("no such id")
    browser.find_element(By.ID, "search-button").click()
    wait(browser, lambda d: "no indexed document has id" in d.find_element(By.ID, "status").text)
    assert "error" in browser.find_element(By.ID, "status").get_attribute("class")


# --------------------------------------------------------------------------------------------- XSS

def test_page_does_not_run_document_payloads(browser: WebDriver, tmp_path: Path) -> None:
    path = tmp_path / "hostile.idx"
    Index.create(path).close()
    app = create_app(path, content_security_policy=None)  # no CSP: the renderer alone must keep payloads inert
    with LiveServer(app) as base:
        docs = hostile_docs()
        r = httpx.post(base + "/documents", json={"documents": [{"id": i, "text": t} for i, t in docs]})
        assert r.status_code == 200 and len(r.json()["added"]) == 3
        assert "content-security-policy" not in httpx.get(base + "/").headers
        browser.get(base + "/")
        paste(browser, docs[0][1])
        wait(browser, lambda d: all(match_button(d, i) is not None for i in HOSTILE_IDS[1:]))
        for doc_id in HOSTILE_IDS:
            match_button(browser, doc_id).click()
            wait(browser, lambda d, i=doc_id: d.find_element(By.CSS_SELECTOR, ".pane-right .doc-id").text == i)
            assert marks(browser, "right")
            right = browser.find_element(By.CSS_SELECTOR, ".pane-right pre.doc-text").get_attribute("textContent")
            assert right == dict(docs)[doc_id] and PAYLOADS[0] in right  # shown as text
            assert_nothing_ran(browser, PAGE_TITLE)
        # the cluster view shows the hostile ids as members and pairs
        for b in browser.find_elements(By.CSS_SELECTOR, "#matches button.link"):
            b.click()
            wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#cluster-body ol.pairs button"))
            for pair in browser.find_elements(By.CSS_SELECTOR, "#cluster-body ol.pairs button"):
                pair.click()
                wait(browser, lambda d: marks(d, "left"))
            assert_nothing_ran(browser, PAGE_TITLE)
        members = browser.find_elements(By.CSS_SELECTOR, "#cluster-body ul.members li")
        assert sorted(m.get_attribute("textContent") for m in members) == sorted(HOSTILE_IDS)
        # a link to a hostile id
        browser.get(base + "/#cluster=" + quote(HOSTILE_IDS[0], safe=""))
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#cluster-body ol.pairs button"))
        browser.get(base + "/#cluster=%E0%A4%A")  # not decodable: an error line, nothing else
        wait(browser, lambda d: "bad link" in d.find_element(By.ID, "status").text)
        assert_nothing_ran(browser, PAGE_TITLE)
        save(browser, tmp_path, "page-xss.png")
        canary(browser)


def canary(driver: WebDriver) -> None:
    """The same payload put in as HTML does run on this page: the checks above can fail."""
    driver.execute_script("var d = document.createElement('div'); d.innerHTML = arguments[0]; "
                          "document.body.appendChild(d);", PAYLOADS[1])
    wait(driver, lambda d: d.execute_script("return window.__xss") == 1, 10)
    assert driver.title == "pwned"


def test_report_does_not_run_document_payloads(browser: WebDriver, tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    docs = hostile_docs()
    names = {}
    for k, (doc_id, text) in enumerate(docs):  # file names carry payloads too (no "/" in a file name)
        name = doc_id.replace("/", "∕") + f"{k}.txt"
        (folder / name).write_text(text, encoding="utf-8")
        names[name] = text
    from doublet.cli import main

    assert main(["find", str(folder), "-o", str(tmp_path / "out"), "-q", "-w", "1"]) == 0
    report = tmp_path / "report.html"
    data = write_report(tmp_path / "out", report)
    assert len(data.pairs) == 3
    stripped = tmp_path / "report-no-csp.html"
    page = report.read_text(encoding="utf-8")
    no_csp = "\n".join(x for x in page.split("\n") if "Content-Security-Policy" not in x)
    assert no_csp != page
    stripped.write_text(no_csp, encoding="utf-8")
    for target in (report, stripped):  # with its CSP (which must let its own script run) and without
        browser.get(target.as_uri())
        title = browser.title
        assert title.startswith("doublet report")
        wait(browser, lambda d: marks(d, "left") and marks(d, "right"))
        for k, p in enumerate(data.pairs):
            browser.get(target.as_uri() + f"#pair={k + 1}")  # numbered from 1, as in the list
            browser.refresh()
            wait(browser, lambda d, p=p: d.find_element(By.CSS_SELECTOR, ".pane-left .doc-id").text == p["a"])
            # offsets are exact after astral characters (emoji, math letters) on either side
            assert marks(browser, "left") == [names[p["a"]][s["a_start"]:s["a_end"]] for s in p["passages"]]
            assert marks(browser, "right") == [names[p["b"]][s["b_start"]:s["b_end"]] for s in p["passages"]]
            assert_nothing_ran(browser, title)
        save(browser, tmp_path, f"{target.stem}.png")
    canary(browser)
    assert os.path.getsize(report) < 200_000


# --------------------------------------------------------------------------------------------- templates

def test_templates_listed_and_muted_side_by_side(browser: WebDriver, tmp_path: Path) -> None:
    """A site's footer recurring in its pages is listed on the start page as a template, and shown grey (with its
    rule as a tooltip) in both texts of a match — a page of another site reprinting a story — outside the
    highlighted passage."""
    footers = {"example-daily.com": ("Example Daily is published by the Example Media Group in Springfield and "
                                     "reaches its subscribers every morning before seven o'clock, weekends and "
                                     "holidays included."),
               "other-news.org": ("Other News belongs to its readers: a cooperative founded in Shelbyville in 1921, "
                                  "owned by the people who subscribe to it and answerable to them alone.")}
    story = " ".join(f"story{j}" for j in range(60)) + "."

    def page(k: int, site: str, with_story: bool = False) -> doublet.Document:
        text = (f"Page {k}. " + " ".join(f"w{k}x{j}" for j in range(50)) + ".\n\n" + (story + "\n\n" if with_story
                else "") + footers[site])
        return doublet.Document(f"{site}/{k}", text, {"site": site})

    docs = [page(0, "example-daily.com"), page(1, "example-daily.com"), page(2, "example-daily.com"),
            page(3, "other-news.org", True), page(4, "other-news.org")]
    query = page(5, "example-daily.com", True)
    path = tmp_path / "sites.idx"
    with Index.create(path) as idx:
        idx.add(docs)
    with ServerProcess(path, "--readers", "1", "--log-level", "warning", log=tmp_path / "serve.log") as base:
        browser.get(base + "/")
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#templates-body li.template-block")) == 2)
        item = browser.find_element(By.CSS_SELECTOR, "#templates-body li.template-block")
        assert "site" in item.text and "in 3 documents" in item.text and "example-daily.com/0" in item.text
        assert item.find_element(By.CSS_SELECTOR, "pre").get_attribute("textContent") == footers["example-daily.com"]
        browser.find_element(By.ID, "query-site").send_keys("https://www.example-daily.com/")
        paste(browser, query.text)
        wait(browser, lambda d: match_button(d, "other-news.org/3") is not None)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#matches li")) == 1  # the footer alone matches nothing
        wait(browser, lambda d: len(marks(d, "right")) == 1)
        assert marks(browser, "left") == [story] and marks(browser, "right") == [story]
        for side, site in (("left", "example-daily.com"), ("right", "other-news.org")):
            muted = browser.find_elements(By.CSS_SELECTOR, f".pane-{side} span.template")
            assert [m.get_attribute("textContent") for m in muted] == [footers[site]]
            assert muted[0].get_attribute("title") == "template (site rule): not compared"
        save(browser, tmp_path, "page-templates.png")


def test_report_lists_templates_and_mutes_their_words(browser: WebDriver, tmp_path: Path) -> None:
    """The static report lists the run's template blocks and draws a shown text's template words grey, with
    the rule as a tooltip, outside the highlighted passages."""
    from test_report import FOOTER, STORY, footer_run

    out = footer_run(tmp_path)
    report = tmp_path / "report.html"
    data = write_report(out, report)
    k = next(n for n, p in enumerate(data.pairs) if (p["a"], p["b"]) == ("p1", "p3"))
    browser.get(report.as_uri() + f"#pair={k + 1}")
    browser.refresh()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#template-blocks li.template-block")) == 2)
    first = browser.find_element(By.CSS_SELECTOR, "#template-blocks li.template-block")
    assert "site" in first.text and "in 5 documents" in first.text
    assert first.find_element(By.CSS_SELECTOR, "pre").get_attribute("textContent") == FOOTER
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".pane-left .doc-id").text == "p1")
    for side in ("left", "right"):
        muted = browser.find_elements(By.CSS_SELECTOR, f".pane-{side} span.template")
        text = "".join(m.get_attribute("textContent") for m in muted)
        assert text.endswith(FOOTER) and text.startswith("story5")
        assert muted[0].get_attribute("title") == "template (site rule): not compared"
        assert STORY[:40] in "".join(marks(browser, side))
    save(browser, tmp_path, "report-templates.png")
