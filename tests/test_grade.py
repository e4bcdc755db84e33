"""crfteach.grade: a learner's notebook, imported and checked function by function.

The fixture notebooks in tests/grade_fixtures are learners: one right, one
per classic mistake, and notebooks that fail to import, use magics, raise,
hang or return the wrong shapes.
"""

import fnmatch
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from scipy.special import logsumexp

import crfteach
from crfteach import grade

FIXTURES = Path(__file__).parent / "grade_fixtures"
MY_ANSWERS = Path(__file__).parents[1] / "book" / "exercises" / "my_answers.ipynb"

# generous for the right answers (each call takes well under 0.1 s), short
# for the notebook that hangs, so the file runs in seconds
TIME_LIMIT = 5.0
HANG_TIME_LIMIT = 1.0

# the hanging function never returns by itself, so finishing at all proves it
# was stopped; the slack only bounds the rest of the grading (importing the
# notebook, the other functions) on a busy machine, it is not a timing test
HANG_SLACK = 60.0


def run_grader(*arguments):
    """``python -m crfteach.grade ...`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "crfteach.grade", *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def grade_in_process(capsys, notebook, time_limit=TIME_LIMIT):
    """(exit status, stdout, {function: its line and hint}) of ``main``."""
    status = grade.main([str(notebook), "--time-limit", str(time_limit)])
    out = capsys.readouterr().out
    return status, out, report_by_function(out)


def report_by_function(out):
    """Each function's status line, joined with the hint line below it."""
    report = {}
    name = None
    for line in out.splitlines():
        words = line.split()
        if words and words[0] in ("PASS", "FAIL", "SKIP"):
            name = words[1]
            report[name] = line
        elif line.startswith("      hint:") and name:
            report[name] += "\n" + line
    return report


def test_correct_learner_passes_with_exit_status_0(capsys):
    status, out, report = grade_in_process(capsys, FIXTURES / "correct.ipynb")

    assert status == 0, out
    assert sorted(report) == sorted(grade.FUNCTIONS)
    assert all(line.startswith("PASS") for line in report.values())
    assert out.endswith("5 of 5 functions found pass\n")


@pytest.mark.parametrize(
    "notebook, function, hint",
    [
        ("transposed_transitions", "forward", "transposed transitions"),
        ("transposed_transitions", "log_partition", "transposed transitions"),
        ("missing_first_emission", "score", "missing first emission"),
        ("missing_first_emission", "forward", "missing first emission"),
        ("probability_space", "forward", "overflow in probability space"),
        ("probability_space", "log_partition", "overflow in probability space"),
        ("wrong_shapes", "forward", "wrong shape"),
        ("wrong_shapes", "marginals", "wrong shape"),
    ],
)
def test_classic_mistake_fails_naming_function_and_mistake(
    capsys, notebook, function, hint
):
    status, _, report = grade_in_process(capsys, FIXTURES / f"{notebook}.ipynb")

    assert status == 1
    assert report[function].startswith(f"FAIL  {function}")
    assert f"hint: {hint}" in report[function]


def test_mistake_report_shows_the_first_differing_case(capsys):
    _, _, report = grade_in_process(capsys, FIXTURES / "probability_space.ipynb")

    # small scores pass; the first case with scores of +-500 overflows
    assert "case 8/9 (T=6, K=3, scores up to +-500)" in report["forward"]
    assert "= inf, expected" in report["forward"]
    assert report["score"].startswith("PASS")


def test_stubbed_learner_notebook_fails_cleanly():
    # the command a learner types, in its own process
    result = run_grader(MY_ANSWERS)

    assert result.returncode == 1
    report = report_by_function(result.stdout)
    assert sorted(report) == sorted(grade.FUNCTIONS)
    for line in report.values():
        assert line.endswith("not implemented yet (raises NotImplementedError)")
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr == ""


def test_import_error_names_the_failing_cell(capsys):
    status, out, report = grade_in_process(capsys, FIXTURES / "import_error.ipynb")

    assert status == 1
    assert report == {}
    assert "cell 4 of 6 (first line: '# start from uniform weights')" in out
    assert "NameError: name 'nmp' is not defined (line 2 of the cell)" in out
    assert "Traceback" not in out


def test_magics_neither_break_the_import_nor_run_the_shell(capsys):
    status, _, report = grade_in_process(capsys, FIXTURES / "magics.ipynb")

    # every function passes, those defined under %%time and %%capture too
    assert status == 0
    assert all(line.startswith("PASS") for line in report.values())
    assert len(report) == len(grade.FUNCTIONS)
    assert not (FIXTURES / "shell_command_ran.txt").exists()
    assert not (FIXTURES / "magic_wrote_this.py").exists()


def test_function_that_raises_is_reported_not_a_crash(capsys):
    status, out, report = grade_in_process(capsys, FIXTURES / "raises.ipynb")

    assert status == 1
    assert report["marginals"].startswith("FAIL")
    assert "raised IndexError" in report["marginals"]
    assert "(in marginals(), line 5 of raises.ipynb cell 7)" in report["marginals"]
    assert report["forward"].startswith("PASS")
    assert "Traceback" not in out


def test_hanging_function_is_stopped_by_the_time_limit(capsys):
    started = time.monotonic()
    status, _, report = grade_in_process(
        capsys, FIXTURES / "hangs.ipynb", time_limit=HANG_TIME_LIMIT
    )
    elapsed = time.monotonic() - started

    assert status == 1
    assert "no answer within the time limit of 1 s (stopped)" in report["backward"]
    assert report["forward"].startswith("PASS")
    assert elapsed < HANG_TIME_LIMIT + HANG_SLACK

    # the endless loop was stopped, not left running in the background
    workers = [t for t in threading.enumerate() if t.name == "crfteach-grade"]
    assert workers == []


def test_notebook_that_hangs_while_importing_is_stopped(capsys, tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Waiting forever"),
        nbformat.v4.new_code_cell("while True:\n    pass"),
    ]
    nbformat.write(notebook, tmp_path / "endless.ipynb")

    passed = grade.grade_notebook(
        tmp_path / "endless.ipynb", import_time_limit=HANG_TIME_LIMIT
    )
    out = capsys.readouterr().out
    assert passed is False
    assert "cell 2 of 2 (first line: 'while True:') did not finish" in out


def test_grading_restores_the_working_directory_and_environment(capsys):
    before = (os.getcwd(), list(sys.path), os.environ.get(grade.GRADING_VARIABLE))
    grade_in_process(capsys, FIXTURES / "raises.ipynb")

    after = (os.getcwd(), list(sys.path), os.environ.get(grade.GRADING_VARIABLE))
    assert after == before


def test_check_in_process_prints_one_line_and_returns_a_bool(capsys):
    right = check_quietly(capsys, "forward", lambda e, t: crfteach.forward(e, t))
    transposed = check_quietly(
        capsys, "forward", lambda e, t: crfteach.forward(e, t.T)
    )

    assert right == (True, "PASS  forward       9 cases, T from 1 to 2000\n")
    assert transposed[0] is False
    assert "hint: transposed transitions" in transposed[1]


def backward_summed_over_axis_0(emissions, transitions):
    log_beta = np.zeros(emissions.shape)
    for t in range(len(emissions) - 2, -1, -1):
        following = emissions[t + 1] + log_beta[t + 1]
        log_beta[t] = logsumexp(transitions + following[None, :], axis=0)
    return log_beta


@pytest.mark.parametrize(
    "name, function, hint",
    [
        (
            "backward",
            backward_summed_over_axis_0,
            "transposed transitions, summed over the wrong axis",
        ),
        ("backward", lambda e, t: crfteach.backward(e, t.T), "transposed"),
        ("forward", lambda e, t: np.exp(crfteach.forward(e, t)), "not in log space"),
        ("backward", lambda e, t: crfteach.backward(e, t) + 1.0, "log_beta[T - 1]"),
        ("score", lambda e, t, y: crfteach.score(e, t.T, y), "transposed"),
    ],
)
def test_check_names_the_mistake(capsys, name, function, hint):
    passed, out = check_quietly(capsys, name, function)

    assert passed is False
    assert f"hint: {hint}" in out


def check_quietly(capsys, name, function):
    passed = grade.check(name, function, time_limit=TIME_LIMIT)
    return passed, capsys.readouterr().out


def test_check_reports_stubs_and_imported_reference(capsys):
    def stub(emissions, transitions):
        return None

    assert check_quietly(capsys, "backward", stub) == (
        False,
        "FAIL  backward      not implemented yet (returns None)\n",
    )
    passed, out = check_quietly(capsys, "marginals", crfteach.marginals)
    assert passed is False
    assert "crfteach.inference.marginals itself, imported" in out


def test_check_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="name must be one of score, forward"):
        grade.check("viterbi", lambda e, t: None)


def test_case_returns_the_case_a_failure_names():
    emissions, transitions, tags = grade.case(4)

    assert emissions.shape == (2, 2) and transitions.shape == (2, 2)
    assert len(tags) == 2
    assert np.isfinite(crfteach.score(emissions, transitions, tags))
    with pytest.raises(ValueError, match="number must be in 1..9"):
        grade.case(0)


def test_self_grading_cell_is_skipped_while_grading(capsys, monkeypatch):
    monkeypatch.setenv(grade.GRADING_VARIABLE, "1")

    assert grade.grade_notebook(FIXTURES / "correct.ipynb") is None
    assert "skipped" in capsys.readouterr().out


def test_notebook_without_functions_fails(capsys, tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(notebook, tmp_path / "empty.ipynb")

    status, out, _ = grade_in_process(capsys, tmp_path / "empty.ipynb")
    assert status == 1
    assert "no function to grade" in out


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["missing.ipynb"], "no such notebook: missing.ipynb"),
        ([__file__], "is not a Jupyter notebook"),
    ],
)
def test_usage_errors_exit_with_status_2(capsys, arguments, message):
    status = grade.main(arguments)

    assert status == 2
    assert message in capsys.readouterr().err


def test_non_positive_time_limit_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        grade.main([str(FIXTURES / "correct.ipynb"), "--time-limit", "0"])

    assert stopped.value.code == 2
    assert "--time-limit must be positive" in capsys.readouterr().err


def test_fixture_notebooks_are_not_collected_by_nbval(pytestconfig):
    # tests/conftest.py's collect_ignore_glob, matched as pytest matches it
    path = FIXTURES.parent / "conftest.py"
    plugins = pytestconfig.pluginmanager.get_plugins()
    conftest = next(p for p in plugins if getattr(p, "__file__", None) == str(path))
    globs = [FIXTURES.parent / glob for glob in conftest.collect_ignore_glob]
    notebooks = sorted(FIXTURES.glob("*.ipynb"))

    assert len(notebooks) == 9
    for notebook in notebooks:
        assert any(fnmatch.fnmatch(str(notebook), str(glob)) for glob in globs)
