"""import-ipynb's notebook loader, made safe for grading.

import-ipynb 0.2.1 turns each cell into Python with the global IPython
shell and ``exec``s it in the module. Outside a kernel, ``%matplotlib
inline`` then fails (``get_ipython`` is not defined); inside one, ``!rm ...``
would really run; and the first error stops the import without saying which
cell it came from. LearnerNotebookLoader keeps import-ipynb's importlib
protocol (``create_module``, ``exec_module``) and its finder (so a learner's
notebook can still ``import`` a sibling notebook), and instead:

- turns magics into Python with IPython's ``TransformerManager`` and
  answers them with a NotebookShell: magics that time or capture code run
  that code once, every other magic and every shell command is skipped;
- compiles each cell under the file name ``"NOTEBOOK cell N"``, so that an
  error raised later in a learner's function says where it was written;
- raises NotebookImportError naming the failing cell.

Importing this module imports nbformat, which takes seconds; ``check`` does
not need it, so the rest of the grader imports it only to read a notebook.
"""

import warnings
from pathlib import Path

import import_ipynb
import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from .notebooks import NotebookImportError
from .running import Stopped, error_text


def read_notebook(path):
    """The notebook at ``path`` as nbformat v4.

    Raises:
        ValueError: naming the file, when it is not a notebook.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.read(str(path), as_version=4)
    except Exception as error:  # nbformat raises several unrelated types
        first = str(error).strip().splitlines()[:1] or [type(error).__name__]
        raise ValueError(f"{path} is not a Jupyter notebook: {first[0]}") from None


class NotebookShell:
    """Stands in for ``get_ipython()`` while a learner's notebook is imported.

    IPython turns ``%time x = f()`` into ``get_ipython().run_line_magic(...)``.
    Magics that only time or capture code (``%time``, ``%%time``,
    ``%timeit``, ``%%capture``, ``%prun``) run that code once, in the
    notebook's namespace. Every other magic (``%matplotlib inline``,
    ``%load_ext``, ``%%writefile``, ...) and every shell command (``!cmd``)
    is skipped: the grader runs the learner's Python, never their shell.
    """

    RUN_CODE = {"time", "timeit", "capture", "prun"}

    def __init__(self, namespace, transformer):
        self.namespace = namespace
        self.transformer = transformer

    def _run(self, source):
        source = self.transformer.transform_cell(source)
        try:
            code = compile(source, "<magic>", "eval")
        except SyntaxError:
            exec(compile(source, "<magic>", "exec"), self.namespace)
            return None
        return eval(code, self.namespace)

    def run_line_magic(self, magic_name, line, _stack_depth=1):
        if magic_name not in self.RUN_CODE:
            return None

        # %timeit -n 10 -r 3 f(): drop the options, keep the statement
        words = line.split()
        while words and words[0].startswith("-"):
            option = words.pop(0)
            if option in ("-n", "-r", "-p") and words:
                words.pop(0)
        return self._run(" ".join(words))

    def run_cell_magic(self, magic_name, line, cell):
        if magic_name in self.RUN_CODE:
            self._run(cell)
        return None

    def magic(self, arg_s):
        magic_name, _, line = arg_s.lstrip("%").partition(" ")
        return self.run_line_magic(magic_name, line)

    def system(self, cmd):
        return None

    def getoutput(self, cmd, split=True, depth=0):
        return []


def _display(*objects, **options):
    """Jupyter's ``display``, which a terminal does not have: show nothing."""


def _first_line(source):
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:60]
    return ""


class LearnerNotebookLoader(import_ipynb.NotebookLoader):
    """Runs a learner's notebook, cell by cell, into a module.

    Args:
        notebook_path: the ``.ipynb`` file.

    Attributes:
        current_cell: 0-based index of the cell running now, or None.
    """

    def __init__(self, notebook_path):
        # no super().__init__(): it would create (or borrow) a global shell
        self.notebook_path = Path(notebook_path)
        self.path = [str(self.notebook_path.parent)]
        self.current_cell = None
        self.cells = []

    def create_module(self, spec):
        # a plain module (import-ipynb returns the spec object itself)
        return None

    def exec_module(self, module):
        notebook = read_notebook(self.notebook_path)
        self.cells = notebook.cells
        transformer = TransformerManager()
        shell = NotebookShell(module.__dict__, transformer)
        module.__dict__.update(
            __file__=str(self.notebook_path),
            get_ipython=lambda: shell,
            display=_display,
        )

        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            self.current_cell = index
            filename = f"{self.notebook_path.name} cell {index + 1}"
            try:
                source = transformer.transform_cell(cell.source)
                exec(compile(source, filename, "exec"), module.__dict__)
            except (Stopped, KeyboardInterrupt):
                raise
            except BaseException as error:  # SystemExit too: it is a failure
                raise self.failure(index, error_text(error, filename)) from None
        self.current_cell = None

    def failure(self, index, reason):
        """NotebookImportError for the cell at ``index`` (0-based)."""
        first_line = _first_line(self.cells[index].source) if self.cells else ""
        return NotebookImportError(index + 1, len(self.cells), first_line, reason)
