"""crfteach against CRFsuite: training time, evaluation time, peak memory.

Usage (from the repository root, in the project's environment):

    .venv/bin/python benchmarks/speed.py                      # bundled corpus
    .venv/bin/python benchmarks/speed.py --corpus ../shared/corpora/resume_ner

Both trainers run in the same script, one after the other, on the same
training file with the same features (the bundled ``resume`` template: every
(observation, label) pair and every label pair a weight) and the same
``c2``; the machine is shared and noisy, so only ratios measured in one run
mean anything. Each trainer runs in a child process so that its peak memory
(``ru_maxrss``) is its own.

Measures, each a ratio crfteach / CRFsuite:

1. the whole ``python -m crfteach train`` command against CRFsuite's
   training (``Trainer.train``, which excludes loading the data into it),
   with crfteach's optimum checked to be within 1e-4 of CRFsuite's;
2. one objective + gradient evaluation over the full corpus against
   CRFsuite's median time per L-BFGS iteration;
3. peak memory of the ``train`` command against CRFsuite's process;
4. the textbook dictionary gradient against the fast path on a subset.

Results go to ``benchmarks/speed_<corpus>.json`` and ``.txt``.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import describe, load_average

HERE = Path(__file__).resolve().parent
TARGETS = {"train": 0.25, "evaluation": 0.15, "memory": 1.0}


def run_child(command):
    """Run a command; return (seconds, peak resident MB, stdout)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"speed.py: {command[:4]} failed with {process.returncode}")
    peak_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return seconds, peak_mb, output


def find_split(folder, split):
    """The file of one split in a corpus folder (train.txt or train.char.bmes)."""
    for name in (f"{split}.txt", f"{split}.char.bmes", f"{split}.conll"):
        if (Path(folder) / name).exists():
            return Path(folder) / name
    raise SystemExit(f"speed.py: no {split} file in {folder}")


def crfsuite_child(template_path, train_path, c2, out_path):
    """In a child process: CRFsuite trained on the same features."""
    import pycrfsuite

    from crfteach.corpus import read_conll
    from crfteach.crfsuite import crfsuite_items
    from crfteach.templates import read_template

    template = read_template(template_path)
    sentences = read_conll(train_path)
    started = time.perf_counter()
    trainer = pycrfsuite.Trainer(verbose=False)
    for sentence in sentences:
        trainer.append(crfsuite_items(template, sentence.rows), sentence.tags)
    loaded = time.perf_counter() - started

    # every (attribute, label) pair and every label pair a weight, L2 only;
    # CRFsuite's own default stopping rule, as a user would run it
    trainer.select("lbfgs")
    trainer.set_params({
        "c1": 0.0,
        "c2": c2,
        "feature.possible_states": True,
        "feature.possible_transitions": True,
    })
    model_path = str(Path(out_path).with_suffix(".crfsuite"))
    started = time.perf_counter()
    trainer.train(model_path)
    trained = time.perf_counter() - started
    iterations = trainer.logparser.iterations
    result = {
        "load_seconds": loaded,
        "train_seconds": trained,
        "iterations": len(iterations),
        "iteration_seconds": [it["time"] for it in iterations],
        "objective": iterations[-1]["loss"],
        "n_features": iterations[-1]["active_features"],
    }
    Path(out_path).write_text(json.dumps(result))


def time_evaluation(train_path, template_path, c2, repeats):
    """Median seconds of one fast objective + gradient over the corpus."""
    from threadpoolctl import threadpool_limits

    from crfteach.corpus import read_conll
    from crfteach.fast import CorpusBatch, encode_corpus
    from crfteach.templates import read_template

    template = read_template(template_path)
    sentences = read_conll(train_path)
    index, X, lengths = encode_corpus(
        [s.rows for s in sentences], template, [s.tags for s in sentences]
    )
    tags = index.encode_tags([t for s in sentences for t in s.tags])
    batch = CorpusBatch.from_matrix(X, lengths, tags, index.n_labels)
    w = np.random.default_rng(0).normal(scale=0.1, size=index.n_weights)

    # the train command runs BLAS on one thread; so does this measurement
    times = []
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(repeats):
            started = time.perf_counter()
            batch.objective_and_gradient(w, c2)
            times.append(time.perf_counter() - started)
    return statistics.median(times), sentences, template, index


def time_dictionary(sentences, template, index, n_sentences, c2):
    """Seconds of the dictionary gradient and of the fast path on a subset."""
    from crfteach.fast import CorpusBatch
    from crfteach.gradient import dict_gradient

    subset = sentences[:n_sentences]
    observations = [template.observations(s.rows) for s in subset]
    started = time.perf_counter()
    for sentence, s in zip(observations, subset):
        dict_gradient(sentence, s.tags, {}, index.labels, c2=c2)
    dictionary = time.perf_counter() - started

    Xs = [index.design_matrix(o) for o in observations]
    ys = [index.encode_tags(s.tags) for s in subset]
    batch = CorpusBatch(Xs, ys, index.n_labels)
    w = np.zeros(index.n_weights)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        batch.objective_and_gradient(w, c2)
        times.append(time.perf_counter() - started)
    return dictionary, min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="folder with train/test files "
                        "(default: the bundled corpus)")
    parser.add_argument("--c2", type=float, default=1.0)
    parser.add_argument("--subset", type=int, default=200,
                        help="sentences for the dictionary-gradient comparison")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--crfsuite-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.crfsuite_child:
        template, train, c2, out = args.crfsuite_child
        crfsuite_child(template, train, float(c2), out)
        return 0

    from crfteach.corpus import bundled_path
    from crfteach.train import template_path

    if args.corpus:
        folder = Path(args.corpus)
        if not folder.is_dir():
            print(f"speed.py: {folder} is not there; nothing to measure")
            return 0
        name = folder.name
        train_path = find_split(folder, "train")
    else:
        name = "bundled"
        train_path = Path(bundled_path("train"))
    template = template_path("resume")
    load = load_average()
    print(f"corpus {name}: {train_path}; load average {load:.2f}", flush=True)

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)

        # 1 and 3: the whole train command, and CRFsuite, each in its own process
        report_path = work / "report.json"
        ours_seconds, ours_mb, _ = run_child([
            sys.executable, "-m", "crfteach", "train", template, str(train_path),
            str(work / "model.npz"), "--c2", str(args.c2),
            "--report", str(report_path), "--quiet",
        ])
        report = json.loads(report_path.read_text())
        print(f"crfteach train: {ours_seconds:.1f} s, {ours_mb:.0f} MB, "
              f"objective {report['objective']:.4f}", flush=True)
        suite_path = work / "crfsuite.json"
        _, suite_mb, _ = run_child([
            sys.executable, __file__, "--crfsuite-child", template,
            str(train_path), str(args.c2), str(suite_path),
        ])
        suite = json.loads(suite_path.read_text())
        print(f"CRFsuite train: {suite['train_seconds']:.1f} s, {suite_mb:.0f} MB, "
              f"objective {suite['objective']:.4f}", flush=True)

    # 2 and 4: evaluations in this process
    evaluation, sentences, template_object, index = time_evaluation(
        train_path, template, args.c2, args.repeats
    )
    suite_iteration = statistics.median(suite["iteration_seconds"])
    dictionary, fast_subset = time_dictionary(
        sentences, template_object, index, args.subset, args.c2
    )

    gap = (report["objective"] - suite["objective"]) / abs(suite["objective"])
    rows = [
        {"measure": "train command (s)", "crfteach": ours_seconds,
         "crfsuite": suite["train_seconds"], "unit": "s",
         "target": f"<= {TARGETS['train']}"},
        {"measure": "one objective + gradient (s)", "crfteach": evaluation,
         "crfsuite": suite_iteration, "unit": "s",
         "target": f"<= {TARGETS['evaluation']}"},
        {"measure": "peak memory (MB)", "crfteach": ours_mb, "crfsuite": suite_mb,
         "unit": "MB", "target": f"<= {TARGETS['memory']}"},
    ]
    for row, key in zip(rows, ["train", "evaluation", "memory"]):
        row["ratio"] = row["crfteach"] / row["crfsuite"]
        row["met"] = bool(row["ratio"] <= TARGETS[key])
    rows.append({
        "measure": f"dictionary gradient / fast path, {min(args.subset, len(sentences))} "
                   "sentences (s)",
        "crfteach": fast_subset, "crfsuite": dictionary, "unit": "s",
        "ratio": dictionary / fast_subset, "target": "speed-up, reported",
        "met": True,
    })

    result = {
        "date": datetime.date.today().isoformat(),
        "machine": describe(),
        "load_average": load,
        "command": "python benchmarks/speed.py"
                   + (f" --corpus {args.corpus}" if args.corpus else ""),
        "corpus": name,
        "n_sentences": report["n_sentences"],
        "n_tokens": report["n_tokens"],
        "n_features": report["n_features"],
        "c2": args.c2,
        "objective": {"crfteach": report["objective"], "crfsuite": suite["objective"],
                      "relative_gap": gap, "met": bool(abs(gap) <= 1e-4)},
        "iterations": {"crfteach": report["iterations"],
                       "crfteach_evaluations": report["evaluations"],
                       "crfsuite": suite["iterations"]},
        "rows": rows,
    }

    lines = [
        f"crfteach vs CRFsuite on {name} ({result['n_sentences']} sentences, "
        f"{result['n_tokens']} tokens, {result['n_features']} features, c2={args.c2})",
        f"{result['date']}, {result['machine']}, load average {load:.2f}",
        f"objective: crfteach {report['objective']:.4f}, CRFsuite "
        f"{suite['objective']:.4f}, relative gap {gap:+.2e} (target |gap| <= 1e-4)",
        f"iterations: crfteach {report['iterations']} ({report['evaluations']} "
        f"evaluations), CRFsuite {suite['iterations']}",
        "",
        f"{'measure':<46} {'crfteach':>10} {'CRFsuite':>10} {'ratio':>8}  target",
    ]
    for row in rows:
        lines.append(
            f"{row['measure']:<46} {row['crfteach']:>10.3f} {row['crfsuite']:>10.3f} "
            f"{row['ratio']:>8.3f}  {row['target']}{'' if row['met'] else '  NOT MET'}"
        )
    lines.append("(last row: the ratio is the dictionary loop's time over the "
                 "fast path's, CRFsuite not involved)")
    text = "\n".join(lines) + "\n"
    print()
    print(text, end="")
    (HERE / f"speed_{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (HERE / f"speed_{name}.txt").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
