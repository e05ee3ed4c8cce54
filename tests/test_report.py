"""`glotta report`: a self-contained HTML page (checked in headless Chromium) and a Markdown file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run_cli


@pytest.fixture(scope="module")
def report(tmp_path_factory, data_root):
    folder = tmp_path_factory.mktemp("report")
    glotta_run = folder / "run"
    task = data_root / "tasks/it/retrieval_xquad_it"
    assert run_cli("eval", "--task", str(task), "-m", "bm25", "-o", str(glotta_run)).returncode == 0
    out = folder / "out"
    done = run_cli("report", "--lang", "ita", "--results", str(glotta_run), "--out", str(out),
                   "--data-root", str(data_root))
    assert done.returncode == 0, done.stderr
    return out


def test_markdown_holds_the_tables_and_links_the_figures(report):
    text = (report / "report.md").read_text()
    assert "| model | overall | Mean(TaskType) | tasks | rank | Italian |" in text
    assert "| intfloat/multilingual-e5-small |" in text and "retrieval_xquad_it" in text
    links = [line[line.index("(") + 1 : -1] for line in text.splitlines() if line.startswith("![")]
    assert links == ["overall_vs_ita.png", "rank_shift_ita.png"]
    assert all((report / link).stat().st_size > 10_000 for link in links)


def _browser():
    chromium, driver = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver (.ci/run does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def test_html_renders_tables_and_images_in_chromium(report):
    browser = _browser()
    try:
        browser.get(Path(report / "report.html").as_uri())
        tables = browser.execute_script(
            "return [...document.querySelectorAll('table')].map(t => [t.caption.textContent, t.rows.length, t.offsetHeight])")
        images = browser.execute_script(
            "return [...document.images].map(i => [i.alt, i.complete, i.naturalWidth, i.getBoundingClientRect().width])")
    finally:
        browser.quit()
    captions = [caption for caption, _, _ in tables]
    assert any(c.startswith("Italian: overall MTEB score vs Italian score") for c in captions)
    assert any("as stored in the result files" in c for c in captions)
    assert any(c.startswith("main score per task") for c in captions)  # the glotta run's section
    assert all(rows > 1 and height > 0 for _, rows, height in tables)
    assert [alt for alt, *_ in images] == ["overall_vs_ita", "rank_shift_ita"]
    assert all(complete and natural > 500 and shown > 100 for _, complete, natural, shown in images)
