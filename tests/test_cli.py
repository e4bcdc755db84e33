"""The command line, run as users run it: ``python -m crfteach`` in a subprocess."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import SEED, TOY_SENTENCES

# a corpus the model can fit exactly: every character has one tag
CORPUS = TOY_SENTENCES + """
王 B-PER
五 I-PER
到 O
上 B-LOC
海 I-LOC
"""

TEMPLATE = "U00:%x[-1,0]\nU01:%x[0,0]\nU02:%x[1,0]\nB\n"

# a training run that lasts long enough to be interrupted: with 40 labels
# every evaluation is tens of milliseconds and training lasts seconds, a wide
# window for a signal sent as soon as iteration 0 is printed
SLOW_SENTENCES = 3000
SLOW_LABELS = 40


def run(*args, cwd=None):
    """``python -m crfteach ARGS``; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "crfteach", *map(str, args)],
        capture_output=True, text=True, encoding="utf-8", cwd=cwd, timeout=300,
    )


def assert_one_line_error(result, fragment):
    """A non-zero exit and exactly one line ``crfteach: error: ...``."""
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("crfteach: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Template, corpus, a trained model and its report, in a temp dir."""
    tmp = tmp_path_factory.mktemp("cli")
    paths = {
        "template": tmp / "template.txt",
        "train": tmp / "train.txt",
        "model": tmp / "model.npz",
        "report": tmp / "report.json",
    }
    paths["template"].write_text(TEMPLATE, encoding="utf-8")
    paths["train"].write_text(CORPUS, encoding="utf-8")
    result = run("train", paths["template"], paths["train"], paths["model"],
                 "--c2", "0.01", "--report", paths["report"])
    assert result.returncode == 0, result.stderr
    paths["stdout"] = result.stdout
    paths["dir"] = tmp
    return paths


# ---------------------------------------------------------------- train


def test_train_prints_progress_and_a_summary(files):
    lines = files["stdout"].splitlines()
    assert lines[0].split() == ["iter", "objective", "|gradient|", "seconds"]
    assert lines[1].split()[0] == "0"
    assert lines[-2].startswith("objective ")
    assert lines[-1] == f"model written to {files['model']}"


def test_train_writes_a_report(files):
    report = json.loads(files["report"].read_text(encoding="utf-8"))
    for key in ["objective", "nll", "l2", "n_features", "iterations", "evaluations",
                "seconds", "converged"]:
        assert key in report
    assert report["objective"] == pytest.approx(report["nll"] + report["l2"])
    # labels O B-PER I-PER B-LOC I-LOC; 3 templates over the corpus's characters
    assert report["n_labels"] == 5
    assert report["n_features"] == report["n_observations"] * 5 + 25


def test_train_quiet_prints_nothing(files, tmp_path):
    result = run("train", files["template"], files["train"], tmp_path / "m.npz",
                 "--quiet")
    assert result.returncode == 0
    assert (result.stdout, result.stderr) == ("", "")
    assert (tmp_path / "m.npz").is_file()


def test_train_warns_when_it_stops_before_converging(files, tmp_path):
    result = run("train", files["template"], files["train"], tmp_path / "m.npz",
                 "--quiet", "--max-iter", "1")
    assert result.returncode == 0
    assert result.stderr.startswith("crfteach: warning: L-BFGS stopped")


# ---------------------------------------------------------------- tag


def test_tag_appends_the_predicted_tag_to_each_line(files):
    result = run("tag", files["model"], files["train"])
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    given = CORPUS.splitlines() + [""]
    assert len(out) == len(given)
    for line, original in zip(out, given):
        if not original:
            assert line == ""
            continue
        columns = line.split("\t")
        assert columns[:-1] == original.split()
        # the corpus is separable: the prediction is the gold tag
        assert columns[-1] == columns[-2]


def test_tag_reads_a_file_without_gold_tags(files, tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("\r\n".join(line.split(" ")[0] for line in CORPUS.splitlines()),
                      encoding="utf-8-sig")
    with_gold = run("tag", files["model"], files["train"]).stdout.splitlines()
    without = run("tag", files["model"], tokens).stdout.splitlines()
    assert [line.split("\t")[-1] for line in without] == [
        line.split("\t")[-1] for line in with_gold
    ]
    assert without[0] == "张\tB-PER"


# ---------------------------------------------------------------- eval


def test_eval_prints_a_table(files):
    result = run("eval", files["model"], files["train"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["type", "precision", "recall", "f1", "support"]
    assert [line.split()[0] for line in lines[1:3]] == ["LOC", "PER"]
    assert lines[-1].split() == ["overall", "1.000", "1.000", "1.000", "6"]


def test_eval_json(files, tmp_path):
    # one gold entity changed: PER recall 2/3, LOC untouched
    changed = tmp_path / "changed.txt"
    changed.write_text(CORPUS.replace("王 B-PER\n五 I-PER", "王 O\n五 O"),
                       encoding="utf-8")
    result = run("eval", files["model"], changed, "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["LOC"]["f1"] == 1.0
    assert scores["PER"]["precision"] == pytest.approx(2 / 3)
    assert scores["PER"]["recall"] == 1.0
    assert scores["overall"]["support"] == 5


# ---------------------------------------------------------------- errors


def test_help_describes_the_commands():
    result = run("--help")
    assert result.returncode == 0
    for word in ["train", "tag", "eval"]:
        assert word in result.stdout
    result = run("train", "--help")
    assert "--c2" in result.stdout and "--report" in result.stdout


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "make_args, fragment",
    [
        (lambda f, t: [], "the following arguments are required: COMMAND"),
        (lambda f, t: ["learn"], "invalid choice: 'learn'"),
        (lambda f, t: ["train", f["template"]], "required: TRAIN, MODEL"),
        (lambda f, t: ["train", f["template"], f["train"], t / "m", "--c2", "x"],
         "argument --c2: 'x' is not a number"),
        (lambda f, t: ["train", f["template"], f["train"], t / "m", "--c2", "-1"],
         "must be a finite number >= 0"),
        (lambda f, t: ["train", f["template"], f["train"], t / "m", "--max-iter", "0"],
         "'0' must be at least 1"),
        (lambda f, t: ["train", t / "absent.txt", f["train"], t / "m"],
         "absent.txt: No such file or directory"),
        (lambda f, t: ["train", _write(t, "bad.tpl", "U00:%x[0,0]\nQ1\n"), f["train"],
                       t / "m"],
         "bad.tpl: template line 2: 'Q1': a template starts with U or B"),
        (lambda f, t: ["train", _write(t, "wide.tpl", "U00:%x[0,1]\n"), f["train"],
                       t / "m"],
         "template line 1: 'U00:%x[0,1]' reads column 1"),
        (lambda f, t: ["train", f["template"],
                       _write(t, "ragged.txt", "张 B-PER\n三 x I-PER\n"), t / "m"],
         "ragged.txt:2: 3 columns, but line 1 has 2"),
        (lambda f, t: ["train", f["template"], _write(t, "empty.txt", "\n\n"),
                       t / "m"],
         "empty.txt:1: no sentence"),
        (lambda f, t: ["tag", _write(t, "fake.npz", "not a model"), f["train"]],
         "fake.npz: not a crfteach model file"),
        (lambda f, t: ["eval", t / "absent.npz", f["train"]],
         "absent.npz: no such model file"),
        (lambda f, t: ["tag", f["model"], _write(t, "wide.txt", "张 a b B-PER\n")],
         "wide.txt:1: 4 column(s), but the model was trained on 1 token column"),
        (lambda f, t: ["eval", f["model"], _write(t, "untagged.txt", "张\n三\n")],
         "untagged.txt:1: only one column"),
        (lambda f, t: ["eval", f["model"], _write(t, "badtag.txt", "张 O\n\n三 PER\n")],
         "badtag.txt:3: gold tag 'PER' is not O or B-/I-/M-/E-/S-"),
    ],
)
def test_bad_input_gives_one_clear_line(files, tmp_path, make_args, fragment):
    result = run(*make_args(files, tmp_path))
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "m").exists()


def test_damaged_model_for_eval(files, tmp_path):
    damaged = tmp_path / "damaged.npz"
    data = files["model"].read_bytes()
    damaged.write_bytes(data[: len(data) // 3])
    assert_one_line_error(run("eval", damaged, files["train"]), "damaged.npz: not a")


# ---------------------------------------------------------------- Ctrl-C


def _slow_corpus(path):
    rng = np.random.default_rng(SEED)
    letters = [chr(ord("甲") + i) for i in range(40)]
    labels = ["O"] + [f"B-T{k}" for k in range(1, SLOW_LABELS)]
    lines = []
    for _ in range(SLOW_SENTENCES):
        for _ in range(int(rng.integers(5, 30))):
            lines.append(f"{rng.choice(letters)} {rng.choice(labels)}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.parametrize("previous", [None, b"the previous model"])
def test_ctrl_c_while_training_writes_no_model(files, tmp_path, previous):
    corpus = tmp_path / "slow.txt"
    _slow_corpus(corpus)
    model = tmp_path / "model.npz"
    if previous is not None:
        model.write_bytes(previous)

    # wait for the first iteration line, then interrupt
    # the child starts with Ctrl-C at its default, as in a terminal, even when
    # this test runs where SIGINT is ignored (a background job inherits that)
    process = subprocess.Popen(
        [sys.executable, "-m", "crfteach", "train", str(files["template"]),
         str(corpus), str(model), "--c2", "0.001", "--max-iter", "100000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    header = process.stdout.readline()
    first = process.stdout.readline()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)

    assert header.split()[0] == "iter" and first.split()[0] == "0"
    assert process.returncode == 130
    assert stderr.splitlines() == [
        f"crfteach: error: interrupted; {model} was not written"
    ]
    if previous is None:
        assert not model.exists()
    else:
        assert model.read_bytes() == previous
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["slow.txt"] + ([] if previous is None else ["model.npz"])
    )
