"""Grade a learner's own notebook against the crfteach reference.

From a terminal::

    python -m crfteach.grade NOTEBOOK.ipynb [--time-limit SECONDS]

From a notebook::

    from crfteach.grade import check, grade_notebook
    check("forward", forward)            # one function: one line, True/False
    grade_notebook("my_answers.ipynb")   # every function the notebook defines

The notebook is imported with import-ipynb's loader protocol, from its own
folder, and these functions are looked up in it (no start or end scores)::

    score(emissions, transitions, tags)   -> float
    forward(emissions, transitions)       -> log_alpha (T, K)
    log_partition(emissions, transitions) -> float, log Z
    backward(emissions, transitions)      -> log_beta (T, K), zeros in row T - 1
    marginals(emissions, transitions)     -> (node (T, K), edge (T - 1, K, K))

Each one runs on the same seeded cases (``case(number)`` returns one), from
``T = K = 1`` to scores of +-500 and a sentence of 2000 positions, each call
under a time limit, and is compared with ``crfteach.inference``. One line is
printed per function: PASS, or FAIL with the first case that differs and,
for a classic mistake, a hint (transposed transitions, a missing first
emission, overflow in probability space, a wrong shape). The exit status is
0 when at least one function was found and every one found passes, 1
otherwise, and 2 for a usage error (a missing file, a file that is not a
notebook).

Modules: ``checks`` (cases, reference, hints), ``running`` (time limits and
error lines), ``notebooks`` (import and report), ``loader`` (import-ipynb).
"""

from .checks import CASE_SHAPES, FUNCTIONS, TIME_LIMIT, case, check
from .notebooks import (
    GRADING_VARIABLE,
    IMPORT_TIME_LIMIT,
    NotebookImportError,
    grade_notebook,
    load_notebook,
    main,
)

__all__ = [
    "CASE_SHAPES",
    "FUNCTIONS",
    "GRADING_VARIABLE",
    "IMPORT_TIME_LIMIT",
    "TIME_LIMIT",
    "NotebookImportError",
    "case",
    "check",
    "grade_notebook",
    "load_notebook",
    "main",
]
