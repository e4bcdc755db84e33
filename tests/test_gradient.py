"""The gradient of log p(y|x): dictionary form, matrix form, finite differences.

The sentences, templates, labels and weights are drawn at random by
hypothesis; the three gradients must agree on every draw, and the gradient
averaged over every path, weighted by its probability, must vanish.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXACT, GRADIENT_RTOL
from crfteach import (
    FeatureIndex,
    brute_force,
    dict_gradient,
    finite_difference,
    log_likelihood,
    matrix_gradient,
    matrix_log_likelihood,
    parse_template,
)

# a small alphabet makes repeated observations (and shared weights) likely
ALPHABET = "张王李三丰北京上海大学去了"
CLASSES = ["姓", "名", "地", "虚"]
LABELS = ["O", "B-PER", "I-PER", "B-LOC"]

# hypothesis draws this many sentences for each gradient check
RANDOM_CASES = 40

# an L2 coefficient that is not 0 and not 1
C2 = 0.3


@dataclass
class Problem:
    """One sentence, its template expansion, an index and random weights."""

    template: str
    observations: list
    tags: list
    index: FeatureIndex
    W: np.ndarray
    transitions: np.ndarray
    c2: float

    @cached_property
    def X(self):
        return self.index.design_matrix(self.observations)

    @cached_property
    def y(self):
        return self.index.encode_tags(self.tags)

    @property
    def weights(self):
        return self.index.to_dict(self.W, self.transitions)

    def objective(self, w):
        """log p(y|x) - c2 ||w||^2 at the flat weight vector ``w``."""
        W, transitions = self.index.split(w)
        return matrix_log_likelihood(self.X, self.y, W, transitions) - self.c2 * w @ w


def template_line(number, macros):
    """A U line: macros joined by "/", or a bias line when there are none."""
    body = "/".join(f"%x[{row},{col}]" for row, col in macros) or "bias"
    return f"U{number:02d}:{body}"


@st.composite
def problems(draw, max_T=6, c2=st.sampled_from([0.0, C2])):
    """A random sentence of two columns, template, label set and weights."""

    def sentence(length):
        return [
            [draw(st.sampled_from(ALPHABET)), draw(st.sampled_from(CLASSES))]
            for _ in range(length)
        ]

    # up to 4 U lines of 0 (bias) to 3 macros, rows -2..2, columns 0..1
    macro = st.tuples(st.integers(-2, 2), st.integers(0, 1))
    lines = draw(st.lists(st.lists(macro, max_size=3), min_size=1, max_size=4))
    text = "\n".join(template_line(i, m) for i, m in enumerate(lines)) + "\nB"
    template = parse_template(text)

    # the index also holds a second sentence's observations, which do not fire
    rows = sentence(draw(st.integers(1, max_T)))
    other_rows = sentence(draw(st.integers(1, 3)))
    labels = LABELS[: draw(st.integers(1, len(LABELS)))]
    tags = [draw(st.sampled_from(labels)) for _ in rows]
    observations = template.observations(rows)
    both = observations + template.observations(other_rows)
    index = FeatureIndex(labels, list(dict.fromkeys(o for at in both for o in at)))

    # weights of either sign, about as large as trained ones
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    W = rng.normal(size=(index.n_observations, index.n_labels))
    transitions = rng.normal(size=(index.n_labels, index.n_labels))
    return Problem(text, observations, tags, index, W, transitions, draw(c2))


def assert_relatively_close(actual, expected, rtol):
    """||actual - expected|| <= rtol * max(||expected||, 1), as flat vectors."""
    error = np.linalg.norm(np.ravel(actual) - np.ravel(expected))
    assert error <= rtol * max(np.linalg.norm(expected), 1.0)


# -- the three gradients agree ----------------------------------------------


@settings(max_examples=RANDOM_CASES)
@given(problems())
def test_dict_gradient_equals_matrix_gradient(problem):
    named = dict_gradient(
        problem.observations,
        problem.tags,
        problem.weights,
        problem.index.labels,
        c2=problem.c2,
    )
    grad_W, grad_transitions = matrix_gradient(
        problem.X, problem.y, problem.W, problem.transitions, c2=problem.c2
    )

    # the dictionary holds only non-zero entries, each the name of a weight
    assert all(value != 0.0 for value in named.values())
    dict_W, dict_transitions = problem.index.from_dict(named)
    np.testing.assert_allclose(dict_W, grad_W, rtol=0, atol=EXACT)
    np.testing.assert_allclose(dict_transitions, grad_transitions, rtol=0, atol=EXACT)


@settings(max_examples=RANDOM_CASES)
@given(problems())
def test_matrix_gradient_equals_finite_differences(problem):
    grad_W, grad_transitions = matrix_gradient(
        problem.X, problem.y, problem.W, problem.transitions, c2=problem.c2
    )
    w = problem.index.join(problem.W, problem.transitions)

    numerical = finite_difference(problem.objective, w)
    analytic = problem.index.join(grad_W, grad_transitions)
    assert_relatively_close(numerical, analytic, GRADIENT_RTOL)


@settings(max_examples=RANDOM_CASES)
@given(problems(max_T=4, c2=st.just(0.0)))
def test_gradient_averaged_over_every_path_is_zero(problem):
    # under the model's own distribution, observed counts average to the
    # expected counts: sum_y p(y|x) * gradient(y) = 0
    emissions = problem.X @ problem.W
    every_path = brute_force(emissions, problem.transitions)

    average = [np.zeros_like(problem.W), np.zeros_like(problem.transitions)]
    for y, p in zip(every_path.paths, every_path.probabilities):
        for total, part in zip(
            average, matrix_gradient(problem.X, y, problem.W, problem.transitions)
        ):
            total += p * part
    for total in average:
        np.testing.assert_allclose(total, 0.0, rtol=0, atol=EXACT)


def test_dict_gradient_averaged_over_every_path_is_zero(rng):
    template = parse_template("U00:%x[-1,0]\nU01:%x[0,0]/%x[1,1]\nU02:bias")
    observations = template.observations([["张", "姓"], ["三", "名"], ["丰", "名"]])
    labels = LABELS[:3]
    index = FeatureIndex(labels, sorted({o for at in observations for o in at}))
    W = rng.normal(size=(index.n_observations, len(labels)))
    transitions = rng.normal(size=(len(labels), len(labels)))
    weights = index.to_dict(W, transitions)
    every_path = brute_force(index.design_matrix(observations) @ W, transitions)

    # the textbook form: a probability-weighted sum of sparse dictionaries
    average = dict.fromkeys(index.names(), 0.0)
    for y, p in zip(every_path.paths, every_path.probabilities):
        tags = [labels[k] for k in y]
        for name, value in dict_gradient(observations, tags, weights, labels).items():
            average[name] += p * value
    np.testing.assert_allclose(list(average.values()), 0.0, rtol=0, atol=EXACT)


def test_one_position_gradient_by_hand():
    # one observation, two labels: d/dw[B-PER] = 1 - p(B-PER), d/dw[O] = -p(O)
    weights = {"B-PER::U02:张": 0.7, "O::U02:张": -0.4}
    p_person = 1.0 / (1.0 + np.exp(-0.4 - 0.7))
    named = dict_gradient([["U02:张"]], ["B-PER"], weights, ["O", "B-PER"])

    # no transition fires in a one-token sentence, so none is stored
    assert named.keys() == weights.keys()
    assert named["B-PER::U02:张"] == pytest.approx(1.0 - p_person, abs=EXACT)
    assert named["O::U02:张"] == pytest.approx(-(1.0 - p_person), abs=EXACT)


def test_l2_penalty_reaches_weights_that_do_not_fire():
    weights = {"O::U02:张": 0.5, "O::U02:龙": 2.0, "O->O": -1.0}
    named = dict_gradient([["U02:张"]], ["O"], weights, ["O"], c2=C2)

    # with one label every observed count equals its expected count, so
    # only the penalty is left, on every weight, fired in the sentence or not
    expected = {name: -2.0 * C2 * value for name, value in weights.items()}
    assert named == pytest.approx(expected, abs=EXACT)


@settings(max_examples=RANDOM_CASES)
@given(problems())
def test_matrix_log_likelihood_is_log_likelihood_of_X_times_W(problem):
    emissions = problem.X.toarray() @ problem.W
    expected = log_likelihood(emissions, problem.transitions, problem.y)
    value = matrix_log_likelihood(problem.X, problem.y, problem.W, problem.transitions)
    assert value == pytest.approx(expected, abs=EXACT)


def test_finite_difference_of_a_known_function():
    w = np.array([0.3, -1.2, 2.0])
    before = w.copy()

    # f = sum(sin w) + w0 * w1, so df/dw = cos(w) + (w1, w0, 0)
    numerical = finite_difference(lambda v: np.sin(v).sum() + v[0] * v[1], w)
    exact = np.cos(w) + np.array([w[1], w[0], 0.0])
    np.testing.assert_allclose(numerical, exact, rtol=0, atol=EXACT)
    np.testing.assert_array_equal(w, before)


# -- errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    "observations, tags, message",
    [
        ([], [], "the sentence is empty: observations has no positions"),
        ([["U02:张"]] * 3, ["O", "O"], "tags has length 2 but observations has 3"),
        ([["U02:张"]], ["B-ORG"], r"tags \['B-ORG'\] are not in labels \['O'\]"),
    ],
    ids=["empty", "wrong length", "unknown label"],
)
def test_dict_gradient_refuses_bad_sentences(observations, tags, message):
    with pytest.raises(ValueError, match=message):
        dict_gradient(observations, tags, {}, ["O"])


BAD_TAGS = {
    "out of range": ([0, 2], r"tags must be < K = 2, got 2"),
    "negative": ([-1, 0], r"tags must not be negative, got -1"),
    "wrong length": ([0], r"tags has length 1 but the sentence has T = 2"),
    "fractional": ([0, 0.5], r"tags must be integers, got dtype float64"),
}


@pytest.mark.parametrize("function", [matrix_gradient, matrix_log_likelihood])
@pytest.mark.parametrize("tags, message", BAD_TAGS.values(), ids=BAD_TAGS.keys())
def test_matrix_forms_refuse_bad_tags(function, tags, message):
    X = sp.csr_matrix(np.eye(2))
    with pytest.raises(ValueError, match=message):
        function(X, tags, np.zeros((2, 2)), np.zeros((2, 2)))


def test_matrix_gradient_refuses_W_of_the_wrong_height():
    X = sp.csr_matrix(np.ones((2, 3)))
    message = "X has 3 observation columns but W has 2 rows"
    with pytest.raises(ValueError, match=message):
        matrix_gradient(X, [0, 1], np.zeros((2, 2)), np.zeros((2, 2)))


def test_finite_difference_refuses_a_matrix():
    message = r"w must be a flat vector, got shape \(2, 2\)"
    with pytest.raises(ValueError, match=message):
        finite_difference(np.sum, np.zeros((2, 2)))
