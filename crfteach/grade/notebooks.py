"""Grading a whole notebook: import it, check what it defines, report.

The notebook runs from its own folder (working directory and ``sys.path``),
with its prints and warnings swallowed, under a time limit, and with the
environment variable ``CRFTEACH_GRADING`` set: a cell that grades the
notebook itself (the last cell of ``my_answers.ipynb``) then does nothing,
instead of grading again and again. An environment variable rather than a
module variable, so that it also reaches a ``python -m crfteach.grade`` the
notebook might start.
"""

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from .checks import FUNCTIONS, TIME_LIMIT, check, line
from .running import call_with_time_limit, quiet

# seconds allowed for running every cell of a notebook
IMPORT_TIME_LIMIT = 120.0

# set while a notebook is being imported for grading
GRADING_VARIABLE = "CRFTEACH_GRADING"


class NotebookImportError(Exception):
    """A learner's notebook stopped in one of its cells.

    Attributes:
        cell_number: 1-based position of the failing cell in the notebook.
        cell_count: the number of cells, markdown included.
        first_line: the first non-blank line of the failing cell.
        reason: what went wrong, one line.
    """

    def __init__(self, cell_number, cell_count, first_line, reason):
        self.cell_number = cell_number
        self.cell_count = cell_count
        self.first_line = first_line
        self.reason = reason
        super().__init__(
            f"cell {cell_number} of {cell_count} (first line: {first_line!r}) "
            f"{reason}"
        )


def load_notebook(path, time_limit=IMPORT_TIME_LIMIT):
    """Import a learner's notebook as a module, from the notebook's folder.

    Args:
        path: the ``.ipynb`` file.
        time_limit: seconds allowed for every cell together.

    Returns:
        the module; its attributes are what the notebook defines.

    Raises:
        NotebookImportError: a cell raised, or the time ran out in it.
        ValueError: the file is missing or is not a notebook.
    """
    from .loader import LearnerNotebookLoader, read_notebook

    path = Path(path).resolve()
    if not path.is_file():
        raise ValueError(f"no such notebook: {path}")
    read_notebook(path)
    loader = LearnerNotebookLoader(path)
    name = f"_crfteach_learner_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_loader(name, loader, origin=str(path))
    module = importlib.util.module_from_spec(spec)

    # the notebook's folder, as Jupyter would run it; restored afterwards
    saved_cwd, saved_path = os.getcwd(), list(sys.path)
    saved_flag = os.environ.get(GRADING_VARIABLE)
    figures = _open_figures()
    os.chdir(path.parent)
    sys.path.insert(0, str(path.parent))
    sys.modules[name] = module
    os.environ[GRADING_VARIABLE] = str(path)
    try:
        with quiet():
            outcome = call_with_time_limit(loader.exec_module, (module,), time_limit)
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        sys.modules.pop(name, None)
        if saved_flag is None:
            os.environ.pop(GRADING_VARIABLE, None)
        else:
            os.environ[GRADING_VARIABLE] = saved_flag
        _close_new_figures(figures)

    if outcome.timed_out:
        reason = f"did not finish within the time limit of {time_limit:g} s"
        raise loader.failure(loader.current_cell or 0, reason)
    if outcome.error is not None:
        raise outcome.error
    return module


def _open_figures():
    pyplot = sys.modules.get("matplotlib.pyplot")
    return set(pyplot.get_fignums()) if pyplot else set()


def _close_new_figures(before):
    """Close the learner's figures, so that a kernel does not show them."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot:
        for number in set(pyplot.get_fignums()) - before:
            pyplot.close(number)


def grade_notebook(
    path, time_limit=TIME_LIMIT, import_time_limit=IMPORT_TIME_LIMIT, file=None
):
    """Import a notebook and check every function of ``FUNCTIONS`` it defines.

    Prints one line per function (PASS, FAIL, or SKIP when the notebook does
    not define it) and a summary; a notebook that fails to import is
    reported with its failing cell instead. Called from inside a notebook
    that is itself being graded, it prints one line and does nothing else.

    Args:
        path: the ``.ipynb`` file; a relative path starts from the current
            directory (in Jupyter, the notebook's folder).
        time_limit: seconds allowed for one call of a function.
        import_time_limit: seconds allowed for running the whole notebook.
        file: where to print; ``sys.stdout`` when None.

    Returns:
        True when at least one function was found and all found pass, False
        otherwise; None when skipped inside a notebook being graded.
    """
    out = sys.stdout if file is None else file
    if os.environ.get(GRADING_VARIABLE):
        print("grade_notebook: skipped, this notebook is being graded", file=out)
        return None

    # import the notebook; a failing cell is the whole report
    path = Path(path)
    try:
        module = load_notebook(path, import_time_limit)
    except ValueError as error:
        print(f"ERROR {error}", file=out)
        return False
    except NotebookImportError as error:
        print(f"ERROR {path.name} could not be imported: {error}", file=out)
        return False

    # one line per function, whether the notebook defines it or not
    results = []
    for name in FUNCTIONS:
        if name not in vars(module):
            print(line("SKIP", name, f"not defined in {path.name}"), file=out)
            continue
        results.append(check(name, vars(module)[name], time_limit, file=out))

    if not results:
        listed = ", ".join(FUNCTIONS)
        print(f"no function to grade: define one of {listed} in {path.name}",
              file=out)
        return False
    print(f"{sum(results)} of {len(results)} functions found pass", file=out)
    return all(results)


def main(argv=None):
    """``python -m crfteach.grade NOTEBOOK.ipynb``; returns the exit status.

    Args:
        argv: the arguments after the program name; ``sys.argv[1:]`` when None.

    Returns:
        0 when at least one function was found and all found pass, 1 when
        not, 2 for a usage error (argparse exits with 2 itself).
    """
    parser = argparse.ArgumentParser(
        prog="python -m crfteach.grade",
        description="Check the CRF functions a notebook defines against "
        "crfteach: " + ", ".join(FUNCTIONS) + ".",
    )
    parser.add_argument("notebook", help="the learner's .ipynb file")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=TIME_LIMIT,
        metavar="SECONDS",
        help=f"seconds allowed for one call of a function (default {TIME_LIMIT:g})",
    )
    args = parser.parse_args(argv)
    if not args.time_limit > 0:
        parser.error(f"--time-limit must be positive, got {args.time_limit:g}")

    # started from a notebook that is being graded: nothing to do
    if os.environ.get(GRADING_VARIABLE):
        print("crfteach.grade: skipped, a notebook is being graded")
        return 0

    # usage errors: a file that is missing or is not a notebook
    from .loader import read_notebook

    path = Path(args.notebook)
    if not path.is_file():
        print(f"crfteach.grade: no such notebook: {path}", file=sys.stderr)
        return 2
    try:
        read_notebook(path)
    except ValueError as error:
        print(f"crfteach.grade: {error}", file=sys.stderr)
        return 2

    return 0 if grade_notebook(path, time_limit=args.time_limit) else 1
