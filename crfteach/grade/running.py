"""Running a learner's code: a time limit, silence, one-line error reports.

Each call runs in a worker thread that is waited for at most ``time_limit``
seconds. A thread was chosen over ``signal.alarm`` because it needs neither
the main thread nor a POSIX system, so grading behaves the same in a
terminal, under pytest and inside any Jupyter kernel. A thread cannot be
killed, so on a timeout an exception is raised inside it
(``PyThreadState_SetAsyncExc``): a Python loop stops at its next step; code
stuck in one long C call finishes that call first, and a thread that
swallows the exception is abandoned (it is a daemon, so it never keeps the
process alive).
"""

import contextlib
import ctypes
import io
import os
import sys
import sysconfig
import threading
import traceback
import warnings
from dataclasses import dataclass

import numpy as np

# the grader's own folder: its frames are not the learner's
_GRADER = os.path.dirname(os.path.abspath(__file__))

# seconds a timed-out call gets to stop after the exception is raised in it
STOP_GRACE = 1.0


class Stopped(BaseException):
    """Raised inside a learner's call that ran out of time.

    A BaseException, so that ``except Exception`` in learner code lets it by.
    """


@dataclass
class Outcome:
    """What one call gave: a value, an exception, or nothing in time."""

    value: object = None
    error: BaseException = None
    timed_out: bool = False
    finished: bool = False


def _stop(thread, lock, outcome):
    """Raise Stopped inside ``thread`` unless it has already finished."""
    with lock:
        if outcome.finished:
            return
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(Stopped)
        )


def _checkpoint():
    """A Python-level call: a Stopped still pending is delivered here."""


def call_with_time_limit(function, args, time_limit):
    """Run ``function(*args)`` in a worker thread for at most ``time_limit`` s.

    Args:
        function: the learner's callable.
        args: its positional arguments.
        time_limit: seconds to wait for it.

    Returns:
        an Outcome with the value, the exception raised, or ``timed_out``.
    """
    outcome = Outcome()
    lock = threading.Lock()

    def run():
        try:
            try:
                with np.errstate(all="ignore"):
                    outcome.value = function(*args)
            except BaseException as error:  # learner code may raise anything
                outcome.error = error
            with lock:
                outcome.finished = True
            _checkpoint()
        except Stopped:
            pass

    worker = threading.Thread(target=run, name="crfteach-grade", daemon=True)
    worker.start()
    try:
        worker.join(time_limit)
    except BaseException:
        # interrupted while waiting (Ctrl-C, a kernel interrupt): stop it too
        _stop(worker, lock, outcome)
        raise

    if worker.is_alive():
        _stop(worker, lock, outcome)
        worker.join(STOP_GRACE)
        outcome.timed_out = True
    return outcome


@contextlib.contextmanager
def quiet():
    """Swallow the learner's prints, warnings and reads of stdin."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        saved_stdin, sys.stdin = sys.stdin, io.StringIO()
        stack.callback(setattr, sys, "stdin", saved_stdin)
        yield


def error_text(error, cell_filename=None):
    """One line for an exception from learner code, never a traceback.

    Args:
        error: the exception.
        cell_filename: when the error comes from running one notebook cell,
            the file name that cell was compiled under.

    Returns:
        ``raised NameError: ... (line 2 of the cell)`` for a cell, or
        ``raised IndexError: ... (in forward(), line 5 of NOTEBOOK cell 3)``
        for a function: the deepest frame of the learner's own code.
    """
    message = str(error).strip().splitlines()
    text = f"raised {type(error).__name__}"
    if message:
        text += f": {message[0][:160]}"

    # a syntax error carries its own line; any other error has frames
    if isinstance(error, SyntaxError) and error.filename == cell_filename:
        return f"{text} (line {error.lineno} of the cell)"
    frames = traceback.extract_tb(error.__traceback__)
    if cell_filename is not None:
        lines = [frame.lineno for frame in frames if frame.filename == cell_filename]
        return f"{text} (line {lines[0]} of the cell)" if lines else text

    # frames of the standard library, installed packages and the grader go
    library = (sysconfig.get_paths()["stdlib"], "site-packages", _GRADER)
    own = [f for f in frames if not any(part in f.filename for part in library)]
    if not own:
        return text
    where = f"{own[-1].name}(), line {own[-1].lineno}"
    if " cell " in own[-1].filename:
        where += f" of {own[-1].filename}"
    return f"{text} (in {where})"
