"""The command line, modelled on CRF++'s crf_learn and crf_test.

::

    python -m crfteach train TEMPLATE TRAIN MODEL [--c2 C] [--max-iter N]
                             [--report REPORT.json] [--quiet]
    python -m crfteach tag MODEL FILE
    python -m crfteach eval MODEL FILE [--json]

``train`` fits a CRF to a CoNLL column file (the tag in the last column)
and writes the model file atomically; ``--report`` also writes the training
report as JSON. An interrupted run (Ctrl-C) writes no model and leaves an
existing one untouched.

``tag`` prints every line of FILE followed by a tab and the predicted tag.
FILE may carry a gold tag column or not: the model remembers how many
token columns its training data had (say C, the tag excluded); a file with
C columns is read as tokens only, a file with C + 1 as tokens and a gold
tag, which is kept in the output before the prediction (as crf_test does).

``eval`` tags a file with gold tags and prints entity-level precision,
recall and F1 per type and overall (strict span matching), as a table or
with ``--json`` as JSON.

Every error (bad arguments, a missing or malformed file, a damaged model)
is one line ``crfteach: error: ...`` on stderr and a non-zero exit status.
"""

import argparse
import json
import math
import os
import sys

from . import __version__
from .corpus import Sentence, read_conll, write_conll
from .model import Model, _write_atomically
from .templates import read_template
from .train import DEFAULT_MAX_ITER, train

__all__ = ["main"]

PROG = "crfteach"

# exit statuses: bad input, bad usage, interrupted by Ctrl-C (128 + SIGINT)
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (no usage dump)."""

    def error(self, message):
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def build_parser():
    """The argument parser of ``python -m crfteach``."""
    parser = _Parser(
        prog=PROG,
        description="Train, apply and evaluate linear-chain CRF taggers on "
        "CoNLL column files (CRF++ templates, L-BFGS, Viterbi).",
        epilog="Run 'crfteach COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    # train
    sub = commands.add_parser(
        "train",
        help="fit a model to a tagged corpus",
        description="Fit a CRF to TRAIN by minimising sum -log p(y|x) + "
        "c2 * ||w||^2 with L-BFGS, then write MODEL. Prints one line per "
        "iteration: iteration, objective, gradient norm, seconds so far.",
    )
    sub.add_argument("template", metavar="TEMPLATE", help="CRF++ template file")
    sub.add_argument("train", metavar="TRAIN",
                     help="training corpus: columns, tag last, blank line between "
                     "sentences, UTF-8")
    sub.add_argument("model", metavar="MODEL", help="model file to write (.npz)")
    sub.add_argument("--c2", type=_non_negative_float, default=1.0, metavar="C",
                     help="L2 coefficient c2 (default: 1.0; CRF++'s -c C is "
                     "c2 = 1/(2C))")
    sub.add_argument("--max-iter", type=_positive_int, default=DEFAULT_MAX_ITER,
                     metavar="N",
                     help=f"at most N L-BFGS iterations (default: {DEFAULT_MAX_ITER})")
    sub.add_argument("--report", metavar="REPORT.json",
                     help="also write the training report as JSON")
    sub.add_argument("--quiet", action="store_true",
                     help="print nothing while training")

    # tag
    sub = commands.add_parser(
        "tag",
        help="print each line of a file with its predicted tag",
        description="Tag FILE with MODEL: every input line is printed with the "
        "predicted tag as one more column (tab-separated). FILE may have a "
        "gold tag column or not.",
    )
    sub.add_argument("model", metavar="MODEL", help="model file written by train")
    sub.add_argument("file", metavar="FILE", help="column file to tag")

    # eval
    sub = commands.add_parser(
        "eval",
        help="entity-level precision, recall and F1 on a tagged file",
        description="Tag FILE with MODEL and compare with FILE's gold tags "
        "(last column): entity-level precision, recall and F1 per type and "
        "overall, strict span matching.",
    )
    sub.add_argument("model", metavar="MODEL", help="model file written by train")
    sub.add_argument("file", metavar="FILE", help="column file with gold tags")
    sub.add_argument("--json", action="store_true", help="print the scores as JSON")
    return parser


def _n_columns(sentences):
    return len(sentences[0].rows[0])


def _training_sentences(args, template):
    sentences = read_conll(args.train)
    try:
        template.check_columns(_n_columns(sentences), where=args.train)
    except ValueError as error:
        raise ValueError(f"{args.template}: {error}") from None
    return sentences


def _run_train(args):
    template = read_template(args.template)

    # train, then save; Ctrl-C before the rename leaves MODEL as it was.
    # train() holds the only reference to the sentences, so their text is
    # freed once they are encoded (a large corpus needs the memory)
    model, report = train(
        _training_sentences(args, template), template, c2=args.c2,
        max_iter=args.max_iter, verbose=not args.quiet,
    )
    model.save(args.model)
    args.saved = True
    if args.report:
        text = json.dumps(report, indent=2) + "\n"
        _write_atomically(args.report, lambda handle: handle.write(text.encode()))

    if not args.quiet:
        print(f"objective {report['objective']:.6f} (nll {report['nll']:.6f} + "
              f"l2 {report['l2']:.6f}), {report['n_features']} features, "
              f"{report['iterations']} iterations, {report['seconds']:.1f} s")
        print(f"model written to {args.model}")
    if not report["converged"]:
        print(f"{PROG}: warning: L-BFGS stopped before converging: "
              f"{report['message']}", file=sys.stderr)
    return 0


def _token_rows(sentences, model, path):
    """The feature columns of each sentence: drop a gold tag column if any."""
    have, need = _n_columns(sentences), model.n_columns
    if have == need:
        return [s.rows for s in sentences]
    if have == need + 1:
        return [[row[:-1] for row in s.rows] for s in sentences]
    raise ValueError(
        f"{path}:{sentences[0].line}: {have} column(s), but the model was trained "
        f"on {need} token column(s) (optionally followed by a gold tag)"
    )


def _run_tag(args):
    model = Model.load(args.model)
    sentences = read_conll(args.file, tagged=False)
    predicted = model.tag_many(_token_rows(sentences, model, args.file))
    write_conll(sentences, sys.stdout, extra_tags=predicted, sep="\t")
    return 0


def _run_eval(args):
    from .metrics import entity_scores, format_scores

    model = Model.load(args.model)
    sentences = read_conll(args.file)
    have = _n_columns(sentences)
    if have != model.n_columns:
        raise ValueError(
            f"{args.file}:{sentences[0].line}: {have} token column(s) before the "
            f"tag, but the model was trained on {model.n_columns}"
        )

    # score the predictions; a bad gold tag is reported at its line
    gold = [s.tags for s in sentences]
    predicted = model.tag_many(sentences)
    _check_gold_tags(sentences, args.file)
    scores = entity_scores(gold, predicted)
    if args.json:
        print(json.dumps(scores, indent=2))
    else:
        print(format_scores(scores))
    return 0


def _check_gold_tags(sentences, path):
    """Every gold tag is O or B-/I-/M-/E-/S- and a type, else path:line."""
    for sentence in sentences:
        for t, tag in enumerate(sentence.tags):
            prefix, dash, type_ = tag.partition("-")
            well_formed = dash and type_ and prefix in ("B", "I", "M", "E", "S")
            if tag != "O" and not well_formed:
                raise ValueError(
                    f"{path}:{sentence.line + t}: gold tag {tag!r} is not O or "
                    "B-/I-/M-/E-/S- followed by an entity type"
                )


_COMMANDS = {"train": _run_train, "tag": _run_tag, "eval": _run_eval}


def _error(message, status):
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


def main(argv=None):
    """Run the command line.

    Args:
        argv: the arguments without the program name; ``sys.argv[1:]`` when
            None.

    Returns:
        int, the exit status: 0 on success, 1 for bad input, 2 for bad
        usage, 130 when interrupted.
    """
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as error:
        return _error(error, EXIT_USAGE)

    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        what = ""
        if args.command == "train" and not getattr(args, "saved", False):
            what = f"; {args.model} was not written"
        return _error(f"interrupted{what}", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # the reader went away (e.g. '| head'): stop quietly, flush nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except (ValueError, OSError) as error:
        if isinstance(error, OSError) and error.filename is not None:
            message = f"{error.filename}: {error.strerror or error}"
        else:
            message = " ".join(str(error).split("\n"))
        return _error(message, EXIT_ERROR)
