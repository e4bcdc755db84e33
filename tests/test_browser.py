"""What a reader sees: every page of the built book, in headless Chromium.

The book is built once (``book_build``), served from 127.0.0.1 by a
``http.server`` thread, and every HTML page is opened once in Debian's
Chromium through Playwright. Per page the visit records the console, every
request, the maths, the fonts that drew the Chinese text and the images, and
saves a light and a dark screenshot in ``_build/screenshots/`` (with a
``report.json`` of what was recorded). The tests below read those records.

The tests skip when Playwright or Chromium is missing (``apt-get install
chromium``; another binary: ``CRFTEACH_CHROMIUM=/path/to/chromium``). They
never run ``playwright install``: no browser is downloaded.
"""

import functools
import json
import os
import re
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from book_build import ROOT, book  # noqa: F401  (book is a fixture)
from crfteach.plotting import FONT_FAMILY

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = Path(os.environ.get("CRFTEACH_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]

pytestmark = [
    pytest.mark.skipif(sync_playwright is None,
                       reason="Python playwright is not installed "
                              "(pip install -r requirements.txt)"),
    pytest.mark.skipif(not CHROMIUM.is_file(),
                       reason=f"no Chromium at {CHROMIUM}: install Debian's "
                              "chromium or set CRFTEACH_CHROMIUM"),
]

SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
CSS_FILE = ROOT / "book" / "_static" / "crfteach.css"
VIEWPORT = {"width": 1280, "height": 800}
NAVIGATION_TIMEOUT_MS = 60_000
SEARCH_TIMEOUT_MS = 15_000

# A full-page PNG of a long chapter (1280 x 17,000 px) takes 3-16 s to encode,
# the upper end on a loaded 2-core machine.
SCREENSHOT_TIMEOUT_MS = 120_000

# Elements per page whose Chinese glyphs are traced to the font that drew them.
MAX_CJK_ELEMENTS = 12

# Console errors a reader would also see and that break nothing: a regular
# expression and why it is harmless. Empty: there are none at the moment.
KNOWN_CONSOLE_ERRORS = []

# Requests to other hosts that are expected: none. (thebe's unpkg.com URL is
# only a string in sphinx-thebe.js; launch_buttons.thebe is off, so it is
# never requested, and this test would see it if it were.)
KNOWN_EXTERNAL_REQUESTS = []


def unicode_ranges(css):
    """The ``unicode-range`` of the bundled font in crfteach.css, as pairs.

    Args:
        css: text of the stylesheet.

    Returns:
        list of (first, last) code points.
    """
    match = re.search(r"unicode-range:([^;]*);", css)
    if match is None:
        raise ValueError(f"{CSS_FILE}: no unicode-range in the @font-face")
    pairs = re.findall(r"U\+([0-9A-Fa-f]+)(?:-([0-9A-Fa-f]+))?", match.group(1))
    return [(int(first, 16), int(last or first, 16)) for first, last in pairs]


CJK_RANGES = unicode_ranges(CSS_FILE.read_text(encoding="utf-8"))
CJK_CLASS = "".join(f"\\u{first:04x}-\\u{last:04x}" for first, last in CJK_RANGES)


# ---------------------------------------------------------------- JavaScript

# Resolves once MathJax (when the page loads it) and the web fonts are done.
SETTLE_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  for (const img of document.images) {
    img.loading = "eager";
  }
  await Promise.all([...document.images].map(img => img.complete ? null :
    new Promise(done => { img.onload = img.onerror = done;
                          setTimeout(done, 10000); })));
  await document.fonts.ready;
}"""

# Maths: elements Sphinx marked as maths, how many MathJax did not typeset,
# TeX errors, and raw TeX left in the text outside code.
MATH_JS = r"""() => {
  const marked = [...document.querySelectorAll(".math")];
  const article = (document.querySelector("main") || document.body
    || document.documentElement).cloneNode(true);
  article.querySelectorAll("pre, code, script, style, textarea, "
    + "mjx-container, .highlight").forEach(node => node.remove());
  const text = article.textContent;
  const raw = /\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\(frac|sum|log|mathbf)\b|\$[^$\s][^$\n]{0,60}\$/g;
  const leftovers = [...text.matchAll(raw)].slice(0, 5).map(m =>
    text.slice(Math.max(0, m.index - 30), m.index + 40).replace(/\s+/g, " "));
  return {
    marked: marked.length,
    untypeset: marked.filter(e => !e.querySelector("mjx-container")).length,
    containers: document.querySelectorAll("mjx-container").length,
    tex_errors: document.querySelectorAll("mjx-merror").length,
    raw_tex: leftovers,
    version: window.MathJax && MathJax.version ? MathJax.version : null,
    scripts: [...document.scripts].map(s => s.src)
      .filter(src => /mathjax/i.test(src)),
    resources: performance.getEntriesByType("resource").map(r => r.name)
      .filter(name => /mathjax/i.test(name)),
  };
}"""

# Chinese: mark the visible elements whose own text has CJK characters (the
# ones the @font-face claims) with how many, and report the FontFace status.
CJK_JS = """([family, maxElements]) => {
  const cjk = /[CJK_CLASS]/g;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let total = 0, marked = 0;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const found = node.data.match(cjk);
    const element = node.parentElement;
    if (!found || !element || element.closest("script, style, title")
        || element.getClientRects().length === 0) {
      continue;
    }
    total += found.length;
    if (element.dataset.crfteachCjk === undefined) {
      if (marked === maxElements) continue;
      element.dataset.crfteachCjk = 0;
      marked += 1;
    }
    element.dataset.crfteachCjk = Number(element.dataset.crfteachCjk)
      + found.length;
  }
  const faces = [...document.fonts]
    .filter(face => face.family.replace(/["']/g, "") === family)
    .map(face => face.status);
  return {characters: total, faces: faces};
}""".replace("CJK_CLASS", CJK_CLASS)

IMAGES_JS = """() => [...document.images].map(img => ({
  src: img.currentSrc || img.src,
  loaded: img.complete && img.naturalWidth > 0,
}))"""

DOWNLOADS_JS = """() => [...document.querySelectorAll(
  ".dropdown-download-buttons a")].map(a => a.href)"""

# Switch the theme the way its own toggle does, then wait two frames.
DARK_JS = """async () => {
  document.documentElement.dataset.mode = "dark";
  document.documentElement.dataset.theme = "dark";
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""

# In dark mode: the background and filter of every figure image.
FIGURES_JS = """() => [...document.querySelectorAll(
  ".bd-content .cell_output img, .bd-content figure img")].map(img => {
  const style = getComputedStyle(img);
  return {src: img.currentSrc || img.src,
          background: style.backgroundColor, filter: style.filter};
})"""


# Where the first occurrence of a string is drawn: a Range over exactly those
# characters (which syntax highlighting may split over several text nodes), so
# a long code block around it does not count.
FIND_TEXT_JS = """(wanted) => {
  const nodes = [], starts = [];
  let text = "";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.getClientRects().length === 0) continue;
    nodes.push(node);
    starts.push(text.length);
    text += node.data;
  }
  const at = text.indexOf(wanted);
  if (at < 0) return null;
  const locate = offset => {
    let i = starts.length - 1;
    while (starts[i] > offset) i -= 1;
    return [nodes[i], offset - starts[i]];
  };
  const range = document.createRange();
  range.setStart(...locate(at));
  range.setEnd(...locate(at + wanted.length - 1));
  range.setEnd(range.endContainer, range.endOffset + 1);
  const box = range.getBoundingClientRect();
  return {top: box.top, bottom: box.bottom};
}"""


# ---------------------------------------------------------------- fixtures


REDIRECT = re.compile(r"<meta[^>]+http-equiv=.refresh", re.IGNORECASE)


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the built site without logging every request to stderr."""

    def log_message(self, format, *args):
        pass


@dataclass
class Site:
    """The built book served over HTTP: its folder and base URL."""

    html: Path
    base: str

    def pages(self):
        """Paths of the HTML pages, relative to html, without redirects."""
        pages = []
        for path in sorted(self.html.rglob("*.html")):
            relative = path.relative_to(self.html)
            if relative.parts[0] in {"_static", "_sources", "_images"}:
                continue
            if REDIRECT.search(path.read_text(encoding="utf-8")):
                continue
            pages.append(relative.as_posix())
        return pages


@pytest.fixture(scope="session")
def site(book):  # noqa: F811  (the imported fixture)
    """Serve the built book on a free localhost port for the session."""
    if not (book.html / "search.html").is_file():
        tail = "\n".join(book.log.splitlines()[-30:])
        pytest.fail(f"the book did not build into {book.html}:\n{tail}")
    handler = functools.partial(QuietHandler, directory=str(book.html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(book.html, f"http://127.0.0.1:{server.server_address[1]}/")
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="session")
def context(browser, site):
    """A browser context that aborts, and records, every non-local request."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
    context.external_requests = []

    def block(route):
        context.external_requests.append(route.request.url)
        route.abort()

    context.route(re.compile(rf"^(?!{re.escape(site.base)})"), block)
    yield context
    context.close()


@dataclass
class PageReport:
    """What one visit of one page recorded."""

    path: str
    console_errors: list = field(default_factory=list)
    external_requests: list = field(default_factory=list)
    failed_requests: list = field(default_factory=list)
    math: dict = field(default_factory=dict)
    cjk: dict = field(default_factory=dict)
    cjk_elements: list = field(default_factory=list)
    images: list = field(default_factory=list)
    dark_figures: list = field(default_factory=list)
    downloads: list = field(default_factory=list)
    screenshots: list = field(default_factory=list)
    visit_error: str = ""
    seconds: float = 0.0


def fonts_of_marked_elements(context, page):
    """For each element CJK_JS marked: its CJK count and the fonts that drew it.

    Chromium's DevTools protocol (CSS.getPlatformFontsForNode) names the font
    files that actually drew an element's own text, with glyph counts: the
    only way to tell the bundled font from an installed Noto CJK fallback.
    """
    session = context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    found = session.send("DOM.querySelectorAll", {
        "nodeId": root, "selector": "[data-crfteach-cjk]"})["nodeIds"]

    elements = []
    for node_id in found:
        attributes = session.send("DOM.getAttributes", {"nodeId": node_id})
        pairs = attributes["attributes"]
        count = int(dict(zip(pairs[::2], pairs[1::2]))["data-crfteach-cjk"])
        fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})
        elements.append({
            "cjk_characters": count,
            "fonts": {font["familyName"]: font["glyphCount"]
                      for font in fonts["fonts"]},
        })
    session.detach()
    return elements


def screenshot_name(path, mode):
    return path.replace("/", "__").removesuffix(".html") + f"-{mode}.png"


def visit(context, site, path):
    """Open one page, record everything the tests check, take screenshots.

    A page that cannot be inspected (a timeout, a script that throws) gets
    its error recorded, so the other pages are still checked.
    """
    report = PageReport(path)
    started = time.perf_counter()
    page = context.new_page()
    first_external = len(context.external_requests)
    try:
        inspect(context, site, page, report)
    except Exception as error:  # noqa: BLE001 - reported by a test below
        report.visit_error = f"{type(error).__name__}: {error}"
    page.close()
    report.external_requests = context.external_requests[first_external:]
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def inspect(context, site, page, report):
    """Fill report from page, loading site.base + report.path into it."""
    path = report.path

    # Listen before navigating: console errors, uncaught exceptions, and
    # local requests that fail or answer with an error status.
    page.on("console", lambda message: report.console_errors.append(
        message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: report.console_errors.append(
        f"uncaught: {error}"))
    page.on("requestfailed", lambda request: report.failed_requests.append(
        f"{request.url} ({request.failure})")
        if request.url.startswith(site.base) else None)
    page.on("response", lambda response: report.failed_requests.append(
        f"{response.url} (HTTP {response.status})")
        if response.status >= 400 else None)

    # Load the page and let MathJax, the images and the fonts finish.
    page.goto(site.base + path, wait_until="load")
    page.evaluate(SETTLE_JS)

    # Record what the light page shows.
    report.math = page.evaluate(MATH_JS)
    report.cjk = page.evaluate(CJK_JS, [FONT_FAMILY, MAX_CJK_ELEMENTS])
    report.cjk_elements = fonts_of_marked_elements(context, page)
    report.images = page.evaluate(IMAGES_JS)
    report.downloads = page.evaluate(DOWNLOADS_JS)

    # Screenshots in light mode, then in the theme's dark mode.
    for mode in ("light", "dark"):
        if mode == "dark":
            page.evaluate(DARK_JS)
            report.dark_figures = page.evaluate(FIGURES_JS)
        target = SCREENSHOT_DIR / screenshot_name(path, mode)
        page.screenshot(path=str(target), full_page=True,
                        timeout=SCREENSHOT_TIMEOUT_MS)
        report.screenshots.append(target.name)


@pytest.fixture(scope="session")
def reports(context, site):
    """Visit every page once; dict page path -> PageReport."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOT_DIR.glob("*.png"):
        old.unlink()
    reports = {path: visit(context, site, path) for path in site.pages()}

    summary = {path: asdict(report) for path, report in reports.items()}
    (SCREENSHOT_DIR / "report.json").write_text(
        json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    return reports


def known(text, patterns):
    return any(re.search(pattern, text) for pattern, _ in patterns)


def fail_if_any(problems, what):
    """Fail listing every page with a problem, so one run shows them all."""
    if problems:
        lines = [f"{path}: {problem}" for path, problem in problems.items()]
        pytest.fail(f"{what}:\n" + "\n".join(lines))


# ---------------------------------------------------------------- tests


def test_every_page_opens_and_can_be_inspected(reports):
    fail_if_any({path: report.visit_error
                 for path, report in reports.items() if report.visit_error},
                "pages that could not be inspected")


def test_every_page_of_the_book_is_visited(reports, site):
    sources = site.html / "_sources"
    chapters = [path.relative_to(sources).with_suffix(".html").as_posix()
                for path in sources.rglob("*") if path.suffix in {".md", ".ipynb"}]
    assert "book/intro.html" in chapters
    missing = sorted(set(chapters) - set(reports))
    assert not missing, f"pages built but not visited: {missing}"
    assert {"search.html", "genindex.html"} <= set(reports)


def test_maths_is_typeset_by_the_locally_served_mathjax(reports, site):
    problems = {}
    for path, report in reports.items():
        math = report.math
        if math["raw_tex"]:
            problems[path] = f"raw TeX left in the text: {math['raw_tex']}"
        elif math["marked"] == 0:
            continue
        elif math["untypeset"] or math["tex_errors"]:
            problems[path] = (f"{math['untypeset']} of {math['marked']} maths "
                              f"not typeset, {math['tex_errors']} TeX errors")
        elif not math["version"] or not math["scripts"]:
            problems[path] = "maths on the page but MathJax did not load"
        else:
            static = site.base + "_static/"
            foreign = [url for url in math["scripts"] + math["resources"]
                       if not url.startswith(static)]
            if foreign:
                problems[path] = f"MathJax not from {static}: {foreign}"
    fail_if_any(problems, "maths not rendered offline")

    # The check is not vacuous: the chapters have typeset maths.
    assert sum(report.math["containers"] for report in reports.values()) > 0


def test_chinese_is_drawn_with_the_bundled_font(reports):
    problems = {}
    for path, report in reports.items():
        if report.cjk["characters"] == 0:
            continue
        if "loaded" not in report.cjk["faces"]:
            problems[path] = f"{FONT_FAMILY} not loaded: {report.cjk['faces']}"
            continue

        # Every CJK glyph of a traced element comes from the bundled font.
        for element in report.cjk_elements:
            drawn = element["fonts"].get(FONT_FAMILY, 0)
            if drawn < element["cjk_characters"]:
                problems[path] = (
                    f"{element['cjk_characters']} CJK characters, {drawn} "
                    f"drawn with {FONT_FAMILY}; fonts used: {element['fonts']}")
    fail_if_any(problems, "Chinese not drawn with the bundled font")

    # The landing page has Chinese (张三, 北京), so the check ran at least once.
    intro = reports["book/intro.html"]
    assert intro.cjk["characters"] > 0 and intro.cjk_elements


def test_no_javascript_errors(reports):
    problems = {path: [text for text in report.console_errors
                       if not known(text, KNOWN_CONSOLE_ERRORS)]
                for path, report in reports.items()}
    fail_if_any({path: errors for path, errors in problems.items() if errors},
                "console errors")


def test_no_request_leaves_localhost(reports):
    problems = {path: [url for url in report.external_requests
                       if not known(url, KNOWN_EXTERNAL_REQUESTS)]
                for path, report in reports.items()}
    fail_if_any({path: urls for path, urls in problems.items() if urls},
                "requests to other hosts (blocked)")


def test_every_local_request_succeeds(reports):
    fail_if_any({path: report.failed_requests
                 for path, report in reports.items() if report.failed_requests},
                "failed requests")


def test_every_image_loads(reports):
    problems = {path: [image["src"] for image in report.images
                       if not image["loaded"]]
                for path, report in reports.items()}
    fail_if_any({path: srcs for path, srcs in problems.items() if srcs},
                "images that did not load")


def test_figures_stay_on_white_in_dark_mode(reports):
    problems = {}
    for path, report in reports.items():
        for figure in report.dark_figures:
            if figure["background"] != "rgb(255, 255, 255)" or \
                    figure["filter"] != "none":
                problems[path] = (f"{figure['src']}: background "
                                  f"{figure['background']}, filter {figure['filter']}")
    fail_if_any(problems, "figures not on white in dark mode")


def test_screenshots_in_light_and_dark_mode(reports):
    for path, report in reports.items():
        assert report.screenshots == [screenshot_name(path, "light"),
                                      screenshot_name(path, "dark")]
        for name in report.screenshots:
            assert (SCREENSHOT_DIR / name).stat().st_size > 0


def test_each_notebook_chapter_offers_its_ipynb(reports, site):
    notebooks = sorted((site.html / "_sources").rglob("*.ipynb"))
    assert notebooks, "no notebook chapter in the build"
    problems = {}
    for notebook in notebooks:
        relative = notebook.relative_to(site.html / "_sources")
        page = relative.with_suffix(".html").as_posix()
        wanted = site.base + "_sources/" + relative.as_posix()
        if wanted not in reports[page].downloads:
            problems[page] = f"no {wanted} in {reports[page].downloads}"
            continue

        # The link answers 200 with a notebook (the source the book built).
        with urllib.request.urlopen(wanted) as response:
            status, body = response.status, response.read()
        notebook_json = json.loads(body)
        if status != 200 or notebook_json.get("nbformat") != 4 or \
                not notebook_json.get("cells"):
            problems[page] = f"{wanted}: HTTP {status}, not a notebook"
    fail_if_any(problems, "download buttons")


def test_download_menu_shows_the_ipynb_link(context, site):
    notebook = sorted((site.html / "_sources").rglob("*.ipynb"))[0]
    relative = notebook.relative_to(site.html / "_sources")
    page = context.new_page()
    page.goto(site.base + relative.with_suffix(".html").as_posix())
    link = page.locator(".dropdown-download-buttons a[href$='.ipynb']")
    assert not link.is_visible()

    # A reader clicks the download button; the .ipynb entry appears.
    page.locator(".dropdown-download-buttons button.dropdown-toggle").click()
    link.wait_for(state="visible")
    assert link.inner_text().strip() == ".ipynb"
    page.close()


def test_search_finds_forward_offline(context, site):
    page = context.new_page()
    page.goto(site.base + "search.html?q=forward")
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for(timeout=SEARCH_TIMEOUT_MS)
    links = results.evaluate_all("links => links.map(a => a.href)")
    page.close()
    assert any("forward_backward" in link for link in links), links


def test_landing_page_first_screen_says_make_lab(context, site):
    page = context.new_page()
    page.goto(site.base + "index.html")
    page.wait_for_url(re.compile(r"book/intro\.html$"))
    page.evaluate(SETTLE_JS)

    # The first `make lab` on the page lies wholly inside the first viewport.
    box = page.evaluate(FIND_TEXT_JS, "make lab")
    page.close()
    assert box is not None, "no 'make lab' on the landing page"
    assert 0 <= box["top"] and box["bottom"] <= VIEWPORT["height"], box
