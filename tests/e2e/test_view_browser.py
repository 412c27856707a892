"""`mur-graph view` pages in headless Chromium (Debian's `chromium`), driven by Playwright.

Playwright only drives the system Chromium (`executable_path`); `playwright install` is never
needed. Without Chromium or Playwright these tests skip locally; CI installs both.
"""

import json
import shutil
import subprocess
import sys

import pytest

from mur_graph.viz.html import render_page
from mur_graph.viz.traces import Trace
from tests.viz_traces import INJECTION, guided_search_trace

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser, path):
    """Load `path`; return the page and every console error, page error, dialog and request."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    return page, problems, requests


def check_page(browser, path, trace, screenshot):
    page, problems, requests = open_page(browser, path)
    assert problems == []
    assert requests == [path.as_uri()]  # the page itself, nothing else
    assert page.locator("tr.step").count() == len(trace["steps"])
    assert page.locator("tr.step.scaled").count() == sum(1 for s in trace["steps"] if s["scaled"])
    assert page.locator("svg.chart circle.point").count() == len(trace["steps"])
    assert page.locator("svg.chart").bounding_box()["width"] > 300  # drawn, not collapsed
    for step in trace["steps"]:
        assert page.locator(f"#step-{step['index']} .text").inner_text() == step["text"]
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return page


def test_a_scripted_trace_renders_with_no_errors_and_injected_markup_stays_text(browser, tmp_path):
    trace = guided_search_trace()
    path = tmp_path / "page.html"
    path.write_text(render_page(Trace(trace)), encoding="utf-8")
    page = check_page(browser, path, trace, tmp_path / "page.png")
    assert INJECTION in page.locator("#step-0 .text").inner_text()
    assert page.locator("script, img").count() == 0
    assert page.locator("tr.step.scaled tr.candidate.winner").count() == 1


@pytest.mark.real_model
def test_a_real_solve_on_the_embedded_model_opens_in_chromium(browser, tmp_path):
    solve = [sys.executable, "-m", "mur_graph.cli", "solve", "What is 17 + 25?", "--json", "--seed", "0"]
    solve += ["--mode", "per_step", "--candidates", "2", "--max-steps", "2", "--max-step-tokens", "16"]
    solve += ["--fallback-tokens", "8"]
    done = subprocess.run(solve, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    (tmp_path / "trace.json").write_text(done.stdout)
    trace = json.loads(done.stdout)
    assert trace["n_scaled"] == trace["n_steps"] >= 1  # per_step: every step scaled
    view = [sys.executable, "-m", "mur_graph.cli", "view", str(tmp_path / "trace.json")]
    shown = subprocess.run(view, capture_output=True, text=True, timeout=120, check=False)
    assert shown.returncode == 0, shown.stderr
    page = check_page(browser, tmp_path / "trace.html", trace, tmp_path / "trace.png")
    candidates = sum(len(s["candidates"]) for s in trace["steps"])
    assert page.locator("tr.candidate").count() == candidates == 2 * trace["n_steps"]
