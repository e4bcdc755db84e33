"""A local Sphinx extension: small fixes to the book's HTML pages.

sphinx-thebe 0.3 registers its inline configuration script
(``const THEBE_JS_URL = ...``) after the HTML builder exists, and with
Sphinx 7.4 that script lands twice in every page, so the browser reports
"Identifier 'THEBE_JS_URL' has already been declared" on each page.
This drops repeated identical scripts from each page's context.
tests/test_browser.py checks that no page logs a console error.
"""


def drop_repeated_scripts(app, pagename, templatename, context, doctree):
    """Keep the first of identical scripts (same file, same attributes).

    An inline script's filename is None when it came through the builder and
    "" when it came through the registry: the same script.
    """
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", None) or "",
               tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
