"""Build the book once per test session; test_book and test_browser share it.

Import the fixture into a test module with ``from book_build import book``.
pytest then makes one fixture per importing module, so the build itself is
cached here, in this module: however many modules ask, ``jupyter-book build``
runs once per session.

Set ``CRFTEACH_BOOK_HTML`` to an already built ``_build/html`` folder to reuse
it instead of building (handy when working on the browser tests alone).
"""

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REUSE_ENV = "CRFTEACH_BOOK_HTML"

# The same flags as `make book`: warnings are errors, nitpicky references,
# and every warning reported before the build fails.
BUILD_FLAGS = ["--builder", "html", "--warningiserror", "--nitpick", "--keep-going"]

# A generous ceiling so a hung kernel fails the session instead of stalling it.
BUILD_TIMEOUT_SECONDS = 900

# Sphinx and myst-nb write problems as "path:line: WARNING: ..." or "ERROR".
PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b[:\]]")

# jupyter-book colours its log even into a pipe.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class BookBuild:
    """One build of the book.

    Attributes:
        html: the built site (``.../_build/html``).
        returncode: exit status of jupyter-book (None when reused).
        log: its standard output and error together.
        seconds: wall-clock time of the build (0.0 when reused).
    """

    html: Path
    returncode: object
    log: str
    seconds: float

    @property
    def problems(self):
        """Lines of the log that report a warning or an error."""
        return [line for line in self.log.splitlines() if PROBLEM.search(line)]


_builds = {}


def build_book(output_dir):
    """Run ``jupyter-book build`` on the repository into output_dir.

    Args:
        output_dir: folder for the build; the site lands in
            ``output_dir/_build/html``.

    Returns:
        BookBuild.
    """
    executable = Path(sys.executable).with_name("jupyter-book")
    command = [str(executable), "build", str(ROOT),
               "--path-output", str(output_dir), *BUILD_FLAGS]

    # Notebooks execute in fresh kernels; keep their output off the terminal.
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                            timeout=BUILD_TIMEOUT_SECONDS)
    seconds = time.perf_counter() - started
    log = ANSI_ESCAPE.sub("", result.stdout + result.stderr)
    return BookBuild(Path(output_dir) / "_build" / "html", result.returncode,
                     log, seconds)


def shared_build(tmp_path_factory):
    """The session's build: made on first call, then returned from a cache."""
    if "book" not in _builds:
        reuse = os.environ.get(REUSE_ENV)
        if reuse:
            html = Path(reuse)
            if not (html / "search.html").is_file():
                raise ValueError(f"{REUSE_ENV}={reuse}: no built book there")
            _builds["book"] = BookBuild(html, None, "", 0.0)
        else:
            _builds["book"] = build_book(tmp_path_factory.mktemp("book"))
    return _builds["book"]


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """The book built once for the whole session (BookBuild)."""
    return shared_build(tmp_path_factory)
