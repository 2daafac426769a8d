"""The HTML report in a real headless browser (Debian's chromium, driven by playwright).

A tiny suite is trained for real, the report is rendered from its records, and Chromium opens the
pages from disk: every image must decode, every table must have rows, every relative link must point
at a file that exists, and the console must stay free of errors. Screenshots are kept in
test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest

from tfbench import Claim, Setup, Suite
from tfbench.engine.runner import run
from tfbench.report.html import write_report

CHROMIUM = Path("/usr/bin/chromium")
PAPER = "Glorot & Bengio 2010"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# Without these, Chromium tries to reach Google's services at start-up on a machine without internet.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    suite = Suite(
        name="tiny_activation",
        factor="activation",
        question="Does ReLU keep gradients alive where sigmoid does not?",
        base=Setup(depth=6, width=16, steps=20, learning_rate=0.05),
        levels=["sigmoid", "relu", "tanh"],
        claims=[  # whatever their statuses, the card must agree with claims.csv
            Claim("sigmoid gradients vanish toward the input", variant="sigmoid", verdict="vanishing", source=PAPER),
            Claim("relu trains better than sigmoid", better="relu", than="sigmoid", source=PAPER),
            Claim("sigmoid trains better than relu", better="sigmoid", than="relu", source=PAPER),
            Claim("tanh gradients explode", variant="tanh", verdict="exploding", source=PAPER),
        ],
    )
    plain = Suite(
        name="tiny_depth",
        factor="depth",
        question="Does a deeper sigmoid net lose more gradient?",
        base=Setup(depth=2, width=8, steps=10, activation="sigmoid"),
        levels=[2, 6],
    )
    run([suite, plain], profile="standard", seeds=2, out=out, log=lambda line: None)
    write_report(out)
    return out


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors


def check_page(page, errors, shot_name: str) -> dict:
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.naturalWidth])")
    assert all(width > 0 for _, width in images), f"images that did not decode: {images}"
    rows = page.eval_on_selector_all("table", "els => els.map(t => t.querySelectorAll('tbody tr').length)")
    assert all(count > 0 for count in rows), f"a table without rows: {rows}"
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    broken = [href for href in links if href.startswith("file:") and not Path(unquote(urlparse(href).path)).exists()]
    assert not broken, f"broken links: {broken}"
    assert not errors, f"console errors: {errors}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot_name), full_page=True)
    return {"images": images, "tables": rows, "links": links}


def test_index_page_loads_with_a_card_per_suite_and_working_links(browser, report_dir):
    page, errors = open_page(browser, report_dir / "index.html")
    found = check_page(page, errors, "report-index.png")
    assert any(href.endswith("tiny_activation/index.html") for href in found["links"])
    text = page.inner_text("body")
    assert "Does ReLU keep gradients alive where sigmoid does not?" in text
    assert "sigmoid: vanishing" in text  # sigmoid loses about 0.6 decades per layer: > 2 over 6 layers
    page.close()


def test_index_page_opens_with_the_suite_cards_and_each_card_counts_its_claims_as_claims_csv_does(browser, report_dir):
    page, _ = open_page(browser, report_dir / "index.html")
    order = page.evaluate(
        "() => { const cards = document.querySelector('#cards'), claims = document.querySelector('#claims');"
        " return cards.compareDocumentPosition(claims) & Node.DOCUMENT_POSITION_FOLLOWING; }"
    )
    assert order, "the claims table comes before the suite cards"
    first = page.eval_on_selector("#cards .card", "e => e.getBoundingClientRect().top")
    assert first < 900 * 0.5, f"the first card starts {first}px down a 900px screen"
    cards = page.eval_on_selector_all(
        "#cards .card",
        "els => els.map(e => [e.querySelector('h2').innerText, e.querySelector('.claims-line')?.innerText ?? null,"
        " [...e.querySelectorAll('ul.claims-open li')].map(li => li.innerText)])",
    )
    claims = pd.read_csv(report_dir / "claims.csv")
    assert [name for name, _, _ in cards] == ["tiny_activation", "tiny_depth"]
    for name, line, listed in cards:
        rows = claims[claims.suite == name]
        if rows.empty:
            assert line is None and not listed, name
            continue
        reproduced = rows.status == "reproduced"
        assert line == f"claims {reproduced.sum()}/{len(rows)} reproduced", name
        expected = [f"{row.status.replace('_', ' ')}: {row.claim}" for row in rows[~reproduced].itertuples()]
        assert listed == expected, name
    page.close()


def test_suite_page_shows_the_table_and_every_figure(browser, report_dir):
    page, errors = open_page(browser, report_dir / "tiny_activation" / "index.html")
    found = check_page(page, errors, "report-suite.png")
    assert len(found["images"]) == 5
    rows = page.eval_on_selector_all("#comparison tbody tr", "els => els.map(e => e.innerText)")
    assert [row.split()[0] for row in rows] == ["sigmoid", "relu", "tanh"]
    page.close()


def test_report_opens_after_the_folder_is_moved(browser, report_dir, tmp_path):
    """Pages and figures refer to each other by relative paths only: the folder is portable."""
    moved = tmp_path / "moved"
    shutil.copytree(report_dir, moved)
    page, errors = open_page(browser, moved / "tiny_activation" / "index.html")
    check_page(page, errors, "report-moved.png")
    page.close()
