"""The book builds with zero warnings and serves everything from its own site.

The build (``book_build``) runs ``jupyter-book build`` with the flags of
``make book`` once per session; test_browser.py opens the same build.
"""

import re

import pytest
import yaml

from book_build import ROOT, book  # noqa: F401  (book is a fixture)
from crfteach import plotting

# Attributes through which a page loads something: none may leave the site.
LOADED_URL = re.compile(r"<(?:script|link|img|source)\b[^>]*\b(?:src|href)=\"([^\"]+)\"")


def toc_files(toc):
    """Every ``root`` and ``file`` entry of a _toc.yml, in order."""
    found = [toc["root"]] if "root" in toc else []
    for key in ("chapters", "parts", "sections"):
        for entry in toc.get(key, []):
            if "file" in entry:
                found.append(entry["file"])
            found.extend(toc_files({k: v for k, v in entry.items()
                                    if k != "file"}))
    return found


def built_pages(book):  # noqa: F811
    return sorted(path for path in book.html.rglob("*.html")
                  if path.relative_to(book.html).parts[0] != "_static")


def test_book_builds_without_warnings(book):  # noqa: F811
    if book.returncode is None:
        pytest.skip("reusing a build given by CRFTEACH_BOOK_HTML: no log")
    problems = "\n".join(book.problems)
    assert not problems, f"the book build reported:\n{problems}"
    assert book.returncode == 0, book.log[-3000:]


def test_every_toc_entry_has_a_page(book):  # noqa: F811
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = toc_files(toc)
    assert files[0] == "book/intro"
    missing = [name for name in files
               if not (book.html / f"{name}.html").is_file()]
    assert not missing, f"in _toc.yml but not built: {missing}"


def test_landing_page_is_the_intro(book):  # noqa: F811
    index = (book.html / "index.html").read_text(encoding="utf-8")
    assert re.search(r'http-equiv="refresh"[^>]*url=book/intro\.html', index,
                     re.IGNORECASE), index


def test_bundled_font_and_licence_are_served(book):  # noqa: F811
    static = book.html / "_static"
    for name in ("NotoSansSC-crfteach-subset.woff2", "OFL.txt"):
        assert (static / name).read_bytes() == \
            (plotting.FONT_DIR / name).read_bytes(), name
    css = (static / "crfteach.css").read_text(encoding="utf-8")
    assert 'url("NotoSansSC-crfteach-subset.woff2")' in css
    assert f'font-family: "{plotting.FONT_FAMILY}"' in css


def test_pages_load_nothing_from_other_hosts(book):  # noqa: F811
    # The static half of the browser test, which also runs without Chromium.
    foreign = {}
    for path in built_pages(book):
        urls = LOADED_URL.findall(path.read_text(encoding="utf-8"))
        remote = [url for url in urls if "://" in url or url.startswith("//")]
        if remote:
            foreign[path.relative_to(book.html).as_posix()] = remote
    assert not foreign, foreign


def test_mathjax_is_served_from_the_site(book):  # noqa: F811
    assert (book.html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    with_maths = [path for path in built_pages(book)
                  if 'class="math' in path.read_text(encoding="utf-8")]
    assert with_maths, "no page has maths"
    for path in with_maths:
        assert "_static/mathjax/tex-chtml.js" in path.read_text(encoding="utf-8")


def test_worked_example_shows_its_numbers(book):  # noqa: F811
    # Issue 3: the worked example shows 张, B-PER, 0.7 and 0.3, computed.
    page = book.html / "book" / "05_worked_example.html"
    if not page.is_file():
        pytest.skip("book/05_worked_example is not in the book yet")
    text = re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))
    for shown in ("张", "B-PER", "0.7", "0.3"):
        assert shown in text, shown
