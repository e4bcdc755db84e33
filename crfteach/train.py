"""Training: the objective over a corpus, minimised with L-BFGS.

The weights ``w`` (see :mod:`crfteach.features` for the flat layout) are
chosen to minimise

    objective(w) = sum_s -log p(y_s | x_s; w) + c2 * ||w||^2

over the training sentences s, with the L2 term over every weight, state
and transition alike. This is CRFsuite's convention; CRF++'s ``-c C`` is the
same objective with ``c2 = 1 / (2 C)``. Every (observation, label) pair seen
in the training data is a weight, and so is every label pair, as in CRF++
(CRFsuite's ``feature.possible_states=1``, ``feature.possible_transitions=1``):
``n_features = n_observations * K + K * K``.

:func:`corpus_objective` is the reference: one sentence at a time through
:func:`crfteach.matrix_gradient`, written to be read. :func:`train` uses
``crfteach.fast.CorpusBatch`` when it is available, which computes the same
numbers for the whole corpus at once.

The optimiser is :func:`crfteach.optimize.lbfgs` (plain L-BFGS in numpy,
``MEMORY = 6`` pairs, as CRFsuite), started from ``w = 0``; given the same
data, template and ``c2`` it takes the same steps on every run. It stops as
CRFsuite does by default: when the objective has improved by less than
``DELTA`` relative over the last ``PERIOD`` iterations, or when every
gradient component is below ``GTOL``. On the Resume NER benchmark this
stops within 3e-5 of the optimum, and the tests check the optimum against
CRFsuite's to 1e-4 relative; pass a smaller ``delta`` to go further.
"""

import math
import os
import sys
import time
from contextlib import nullcontext
from importlib import resources

import numpy as np

from .features import FeatureIndex
from .gradient import matrix_gradient, matrix_log_likelihood
from .model import Model
from .templates import Template, read_template

__all__ = [
    "DEFAULT_MAX_ITER",
    "DELTA",
    "GTOL",
    "MEMORY",
    "PERIOD",
    "corpus_objective",
    "template_path",
    "train",
]

# stop when the objective improved by less than DELTA (relative) over the
# last PERIOD iterations: CRFsuite's default test
DELTA = 1e-5
PERIOD = 10

# ... or when the largest gradient component is this small
GTOL = 1e-6

# L-BFGS memory: the number of past steps that shape the curvature estimate
MEMORY = 6

DEFAULT_MAX_ITER = 1000

_HEADER = f"{'iter':>6} {'objective':>16} {'|gradient|':>12} {'seconds':>9}"


def template_path(name="resume"):
    """The path of a template file bundled with crfteach.

    Args:
        name: ``"resume"`` for the character templates of the Resume NER
            benchmark (U00-U06 around the current character, U07 a per-label
            bias, B the transitions), or ``"unigram"`` for a small one
            (the current character, its neighbours and B).

    Returns:
        str, the path of ``crfteach/data/templates/NAME.txt``.
    """
    path = resources.files("crfteach") / "data" / "templates" / f"{name}.txt"
    if not path.is_file():
        raise ValueError(f"no bundled template named {name!r}")
    return str(path)


def corpus_objective(w, Xs, tags, n_labels, c2):
    """The training objective and its gradient, one sentence at a time.

    Args:
        w: ``(n_observations * K + K * K,)`` flat weights, ``W`` row by row
            then ``transitions`` row by row.
        Xs: per sentence, the ``(T, n_observations)`` sparse design matrix.
        tags: per sentence, ``(T,)`` integer tags.
        n_labels: K.
        c2: the L2 coefficient, ``>= 0``.

    Returns:
        ``(f, g)``: f the float ``sum_s -log p(y_s|x_s) + c2 * ||w||^2`` and
        g its gradient, shape like ``w`` (the minimisation direction is -g).
    """
    K = n_labels
    w = np.asarray(w, dtype=np.float64)
    n_observations = (w.size - K * K) // K
    if w.ndim != 1 or w.size != n_observations * K + K * K:
        raise ValueError(f"w must be flat with n_observations * {K} + {K * K} entries")
    W = w[: n_observations * K].reshape(n_observations, K)
    transitions = w[n_observations * K :].reshape(K, K)

    f = 0.0
    grad_W = np.zeros_like(W)
    grad_transitions = np.zeros_like(transitions)
    for X, y in zip(Xs, tags):
        if X.shape[1] != n_observations:
            raise ValueError(
                f"a design matrix has {X.shape[1]} columns, w has {n_observations}"
            )

        # only the observations this sentence uses: its columns of X, rows of W
        used = np.unique(X.indices)
        X_used, W_used = X[:, used], W[used]

        # minimise -log p, so the gradient is minus matrix_gradient's ascent
        f -= matrix_log_likelihood(X_used, y, W_used, transitions)
        sentence_W, sentence_transitions = matrix_gradient(
            X_used, y, W_used, transitions
        )
        grad_W[used] -= sentence_W
        grad_transitions -= sentence_transitions

    # the L2 penalty over every weight
    f += c2 * float(w @ w)
    g = np.concatenate([grad_W.ravel(), grad_transitions.ravel()]) + 2.0 * c2 * w
    return f, g


def _as_template(template):
    if isinstance(template, Template):
        return template
    if isinstance(template, (str, os.PathLike)):
        return read_template(template)
    raise ValueError(
        f"template must be a Template or a path, got {type(template).__name__}"
    )


def _check_sentences(sentences, template):
    """Raise ``ValueError`` naming the first sentence that cannot be used.

    Returns:
        The number of token columns (the tag excluded), the same in every row.
    """
    n_columns = None
    for number, sentence in enumerate(sentences):
        where = f"sentence {number}"
        if getattr(sentence, "line", None):
            where += f" (line {sentence.line})"
        rows, sentence_tags = sentence.rows, sentence.tags
        if not rows:
            raise ValueError(f"{where} is empty")
        if len(sentence_tags) != len(rows):
            raise ValueError(
                f"{where} has {len(rows)} rows but {len(sentence_tags)} tags"
            )

        # every row must have the same columns as the first row of the corpus
        widths = {len(row) for row in rows}
        if n_columns is None:
            n_columns = min(widths)
            try:
                template.check_columns(n_columns)
            except ValueError as error:
                raise ValueError(f"{where}: {error}") from None
        if widths != {n_columns}:
            raise ValueError(
                f"{where} has rows of {sorted(widths)} column(s), expected {n_columns}"
            )
    return n_columns


def _encode(sentences, template, objective, c2):
    """The feature index, integer tags and ``w -> (f, g)`` of a corpus.

    The default objective is ``crfteach.fast.CorpusBatch`` on a corpus
    encoded in one pass; a custom ``objective`` (such as
    :func:`corpus_objective`) gets per-sentence design matrices.
    """
    rows = [s.rows for s in sentences]
    tags = [list(s.tags) for s in sentences]
    if objective is None:
        from .fast import CorpusBatch, encode_corpus

        index, X, lengths = encode_corpus(rows, template, tags)
        y = index.encode_tags([t for sentence in tags for t in sentence])
        batch = CorpusBatch.from_matrix(X, lengths, y, index.n_labels)
        return index, lambda w: batch.objective_and_gradient(w, c2)

    observations = [template.observations(r) for r in rows]
    index = FeatureIndex.from_sentences(observations, tags)
    Xs = [index.design_matrix(o) for o in observations]
    ys = [index.encode_tags(t) for t in tags]
    return index, lambda w: objective(w, Xs, ys, index.n_labels, c2)


def _one_blas_thread():
    """Run BLAS on one thread while training, when threadpoolctl is there.

    scipy's L-BFGS-B makes many BLAS calls on vectors of n_features entries;
    with OpenBLAS's threads they take several times longer than on one
    thread (scipy issue #22438), and one thread also fixes the order of
    floating-point sums.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def train(
    sentences,
    template,
    c2=1.0,
    max_iter=DEFAULT_MAX_ITER,
    verbose=False,
    objective=None,
    stream=None,
    delta=DELTA,
):
    """Fit CRF weights to a corpus by L-BFGS.

    Args:
        sentences: the training sentences, objects with ``rows`` (``T`` token
            rows, each a list of column strings without the tag) and ``tags``
            (``T`` label strings), e.g. :class:`crfteach.corpus.Sentence`.
        template: a :class:`crfteach.Template` or the path of a template file.
        c2: the L2 coefficient, ``>= 0``.
        max_iter: the largest number of L-BFGS iterations.
        verbose: print a header and one fixed-width line per iteration
            (iteration, objective, gradient norm, seconds since the start).
        objective: a function like :func:`corpus_objective`; by default
            ``crfteach.fast.CorpusBatch``. Both give the same numbers.
        stream: where the progress lines go; ``sys.stdout`` by default.
        delta: stop when the objective improved by less than this, relative,
            over the last ``PERIOD`` iterations.

    Returns:
        ``(model, report)``: a :class:`crfteach.model.Model` and a dict with
        ``objective``, ``nll`` (the summed -log p), ``l2`` (``c2 * ||w||^2``),
        ``n_features``, ``n_labels``, ``n_observations``, ``n_sentences``,
        ``n_tokens``, ``c2``, ``iterations``, ``evaluations``, ``seconds``,
        ``converged``, ``message`` and ``history`` (one
        ``[iteration, objective, gradient_norm, seconds]`` per iteration,
        iteration 0 being the start ``w = 0``).

    Raises:
        ValueError: no sentences, a bad ``c2`` or ``max_iter``, or a sentence
            that does not fit the template (named by its number and line).
    """
    from .optimize import lbfgs

    if not (isinstance(c2, (int, float)) and math.isfinite(c2) and c2 >= 0):
        raise ValueError(f"c2 must be a finite number >= 0, got {c2!r}")
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not (isinstance(delta, (int, float)) and delta >= 0):
        raise ValueError(f"delta must be a number >= 0, got {delta!r}")
    template = _as_template(template)
    sentences = list(sentences)
    if not sentences:
        raise ValueError("sentences is empty: there is nothing to train on")
    stream = sys.stdout if stream is None else stream
    started = time.perf_counter()

    # index every observation and label of the training data, then encode it;
    # the sentences themselves are not needed after that
    n_columns = _check_sentences(sentences, template)
    n_sentences = len(sentences)
    n_tokens = sum(len(s.tags) for s in sentences)
    index, evaluate = _encode(sentences, template, objective, float(c2))
    del sentences
    K = index.n_labels

    # one line per iteration; iteration 0 is the starting point w = 0
    history = []

    def log(iteration, f, g):
        row = [iteration, float(f), float(np.linalg.norm(g)),
               time.perf_counter() - started]
        history.append(row)
        if verbose:
            print(f"{row[0]:>6d} {row[1]:>16.6f} {row[2]:>12.6e} {row[3]:>9.2f}",
                  file=stream, flush=True)

    w0 = np.zeros(index.n_weights)
    if verbose:
        print(_HEADER, file=stream, flush=True)
    with _one_blas_thread():
        result = lbfgs(
            evaluate, w0, memory=MEMORY, max_iter=max_iter, ftol=0.0, gtol=GTOL,
            period=PERIOD, delta=delta,
            callback=lambda k, w, f, g: log(k, f, g),
        )

    # the report: the optimum split into its two terms, and the cost
    w = result.x
    W, transitions = index.split(w)
    l2 = float(c2) * float(w @ w)
    report = {
        "objective": float(result.fun),
        "nll": float(result.fun) - l2,
        "l2": l2,
        "c2": float(c2),
        "n_features": index.n_weights,
        "n_labels": K,
        "n_observations": index.n_observations,
        "n_sentences": n_sentences,
        "n_tokens": int(n_tokens),
        "iterations": int(result.nit),
        "evaluations": int(result.nfev),
        "seconds": time.perf_counter() - started,
        "converged": bool(result.success),
        "message": str(result.message),
        "history": history,
    }
    model = Model(index, template, W.copy(), transitions.copy(), n_columns=n_columns)
    return model, report
