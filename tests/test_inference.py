"""Scores, forward-backward, marginals and Viterbi: identities and errors.

Agreement with enumeration is in test_brute.py; here are the identities
forward-backward must satisfy on its own, a value computed by an independent
implementation, long sentences with large scores, and every malformed input.
"""

import math
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from conftest import EXACT, random_scores
from crfteach import (
    backward,
    brute_force,
    forward,
    log_likelihood,
    log_partition,
    marginals,
    score,
    viterbi,
)

SHAPES = [(T, K) for T in range(1, 7) for K in range(1, 5)]
every_shape = pytest.mark.parametrize("T, K", SHAPES, ids=lambda v: str(v))
with_and_without_start_end = pytest.mark.parametrize(
    "start_end", [True, False], ids=["start_end", "no_start_end"]
)

# an arbitrary constant added to every transition or emission score
SHIFT = 3.7


# -- the known value -------------------------------------------------------

# pytorch-crf's CRF, given these scores, returns these two numbers
KNOWN = dict(
    emissions=[[1, 0.5], [0.2, -0.3], [0, 2]],
    transitions=[[0.1, -0.2], [0.3, 0]],
    start=[0.5, -0.5],
    end=[0, 0.2],
)
KNOWN_TAGS = [0, 1, 1]
KNOWN_LOG_Z = 4.617883162601839
KNOWN_LOG_LIKELIHOOD = -1.4178831626018384


def test_log_partition_matches_pytorch_crf():
    assert log_partition(**KNOWN) == pytest.approx(KNOWN_LOG_Z, abs=EXACT)


def test_log_likelihood_matches_pytorch_crf():
    value = log_likelihood(tags=KNOWN_TAGS, **KNOWN)
    assert value == pytest.approx(KNOWN_LOG_LIKELIHOOD, abs=EXACT)


def test_score_adds_start_emissions_transitions_end():
    # 0.5 + (1 - 0.3 + 2) + (-0.2 + 0) + 0.2, term by term
    assert score(tags=KNOWN_TAGS, **KNOWN) == pytest.approx(3.2, abs=EXACT)


def test_whole_float_tags_are_accepted():
    as_floats = [float(y) for y in KNOWN_TAGS]
    assert score(tags=as_floats, **KNOWN) == score(tags=KNOWN_TAGS, **KNOWN)


# -- identities on every small shape ---------------------------------------


@every_shape
@with_and_without_start_end
def test_node_marginals_sum_to_one(T, K, start_end, rng):
    node_marginals, _ = marginals(*random_scores(rng, T, K, start_end=start_end))
    assert node_marginals.shape == (T, K)
    np.testing.assert_allclose(node_marginals.sum(axis=1), 1.0, rtol=0, atol=EXACT)


@every_shape
@with_and_without_start_end
def test_edge_marginals_sum_to_node_marginals(T, K, start_end, rng):
    node_marginals, edge_marginals = marginals(
        *random_scores(rng, T, K, start_end=start_end)
    )
    assert edge_marginals.shape == (T - 1, K, K)

    # summing out the next tag leaves p(y_t); summing out the previous, p(y_t+1)
    np.testing.assert_allclose(
        edge_marginals.sum(axis=2), node_marginals[:-1], rtol=0, atol=EXACT
    )
    np.testing.assert_allclose(
        edge_marginals.sum(axis=1), node_marginals[1:], rtol=0, atol=EXACT
    )


@every_shape
@with_and_without_start_end
def test_log_Z_from_beta_equals_log_Z_from_alpha(T, K, start_end, rng):
    emissions, transitions, start, end = random_scores(
        rng, T, K, start_end=start_end
    )
    log_beta = backward(emissions, transitions, end)
    first = np.zeros(K) if start is None else start

    log_Z_from_beta = logsumexp(first + emissions[0] + log_beta[0])
    assert log_Z_from_beta == pytest.approx(
        log_partition(emissions, transitions, start, end), abs=EXACT
    )


@every_shape
@with_and_without_start_end
def test_forward_and_backward_start_from_the_boundary_scores(T, K, start_end, rng):
    emissions, transitions, start, end = random_scores(
        rng, T, K, start_end=start_end
    )
    log_alpha = forward(emissions, transitions, start)
    log_beta = backward(emissions, transitions, end)

    assert log_alpha.shape == log_beta.shape == (T, K)
    first = np.zeros(K) if start is None else start
    last = np.zeros(K) if end is None else end
    np.testing.assert_allclose(log_alpha[0], first + emissions[0], rtol=0, atol=EXACT)
    np.testing.assert_allclose(log_beta[-1], last, rtol=0, atol=EXACT)


@every_shape
@with_and_without_start_end
def test_constant_on_every_transition_moves_log_Z_not_marginals(T, K, start_end, rng):
    emissions, transitions, start, end = random_scores(
        rng, T, K, start_end=start_end
    )
    shifted = transitions + SHIFT

    # every path crosses T - 1 transitions, so its score rises by (T - 1) * SHIFT
    log_Z = log_partition(emissions, transitions, start, end)
    log_Z_shifted = log_partition(emissions, shifted, start, end)
    assert log_Z_shifted - log_Z == pytest.approx((T - 1) * SHIFT, abs=EXACT)

    for before, after in zip(
        marginals(emissions, transitions, start, end),
        marginals(emissions, shifted, start, end),
    ):
        np.testing.assert_allclose(after, before, rtol=0, atol=EXACT)


@every_shape
@with_and_without_start_end
def test_constant_on_every_emission_moves_log_Z_not_marginals(T, K, start_end, rng):
    emissions, transitions, start, end = random_scores(
        rng, T, K, start_end=start_end
    )
    shifted = emissions + SHIFT

    # every path has T emissions
    log_Z = log_partition(emissions, transitions, start, end)
    log_Z_shifted = log_partition(shifted, transitions, start, end)
    assert log_Z_shifted - log_Z == pytest.approx(T * SHIFT, abs=EXACT)

    for before, after in zip(
        marginals(emissions, transitions, start, end),
        marginals(shifted, transitions, start, end),
    ):
        np.testing.assert_allclose(after, before, rtol=0, atol=EXACT)


@every_shape
@with_and_without_start_end
def test_viterbi_score_is_the_score_of_its_path(T, K, start_end, rng):
    emissions, transitions, start, end = random_scores(
        rng, T, K, start_end=start_end
    )
    path, best_score = viterbi(emissions, transitions, start, end)

    assert len(path) == T and all(isinstance(y, int) and 0 <= y < K for y in path)
    assert score(emissions, transitions, path, start, end) == pytest.approx(
        best_score, abs=EXACT
    )

    # the best path is at most as likely as all paths together (log p <= 0,
    # up to rounding: with K = 1 it is the only path and log p is 0)
    assert log_likelihood(emissions, transitions, path, start, end) <= EXACT


@pytest.mark.parametrize("T, K", [(1, 1), (1, 3), (4, 2), (5, 4)])
def test_viterbi_breaks_ties_towards_the_lowest_tag(T, K):
    path, best_score = viterbi(np.zeros((T, K)), np.zeros((K, K)))
    assert path == [0] * T
    assert best_score == 0.0


# -- large scores and long sentences ---------------------------------------

# scores this large overflow exp() (past about 709) at once
LARGE = 500.0
LONG_T = 5_000

# a log Z near LONG_T * LARGE is exact to about 1e-16 of itself per step
LONG_LOG_Z_RTOL = 1e-12

# marginals are ratios of numbers near 1e6: about 1e-10 is what is left
LONG_MARGINAL_ATOL = 1e-8


@pytest.fixture
def strict_floats():
    """Overflow, division by zero, invalid values and warnings all raise."""
    with warnings.catch_warnings(), np.errstate(
        over="raise", divide="raise", invalid="raise"
    ):
        warnings.simplefilter("error")
        yield


@with_and_without_start_end
def test_scores_of_500_match_brute_force(start_end, rng, strict_floats):
    emissions, transitions, start, end = random_scores(
        rng, 6, 3, scale=LARGE, start_end=start_end
    )
    expected = brute_force(emissions, transitions, start, end)

    # log Z is near 1e4 here; both sides are exact to a few units of 1e-12
    log_Z = log_partition(emissions, transitions, start, end)
    assert log_Z == pytest.approx(expected.log_Z, rel=EXACT, abs=0)
    node_marginals, edge_marginals = marginals(emissions, transitions, start, end)
    np.testing.assert_allclose(
        node_marginals, expected.node_marginals, rtol=0, atol=EXACT
    )
    np.testing.assert_allclose(
        edge_marginals, expected.edge_marginals, rtol=0, atol=EXACT
    )
    assert viterbi(emissions, transitions, start, end)[1] == pytest.approx(
        expected.scores.max(), rel=EXACT, abs=0
    )


def test_long_sentence_of_independent_positions(rng, strict_floats):
    # with no transitions every position is its own softmax: a known answer
    emissions = rng.uniform(-LARGE, LARGE, size=(LONG_T, 4))
    transitions = np.zeros((4, 4))
    row_log_Z = logsumexp(emissions, axis=1)
    row_marginals = softmax(emissions, axis=1)

    log_Z = log_partition(emissions, transitions)
    assert log_Z == pytest.approx(math.fsum(row_log_Z), rel=LONG_LOG_Z_RTOL, abs=0)

    node_marginals, edge_marginals = marginals(emissions, transitions)
    np.testing.assert_allclose(
        node_marginals, row_marginals, rtol=0, atol=LONG_MARGINAL_ATOL
    )
    independent = row_marginals[:-1, :, None] * row_marginals[1:, None, :]
    np.testing.assert_allclose(
        edge_marginals, independent, rtol=0, atol=LONG_MARGINAL_ATOL
    )

    path, best_score = viterbi(emissions, transitions)
    assert path == emissions.argmax(axis=1).tolist()
    assert best_score == pytest.approx(
        math.fsum(emissions.max(axis=1)), rel=LONG_LOG_Z_RTOL, abs=0
    )


def test_long_sentence_with_shifted_scores(rng, strict_floats):
    emissions, transitions, start, end = (
        rng.uniform(-LARGE, LARGE, size=shape)
        for shape in [(LONG_T, 3), (3, 3), (3,), (3,)]
    )
    emission_shift, transition_shift = LARGE, -LARGE / 3

    # every path gains T emission shifts and T - 1 transition shifts
    log_Z = log_partition(emissions, transitions, start, end)
    log_Z_shifted = log_partition(
        emissions + emission_shift, transitions + transition_shift, start, end
    )
    gained = LONG_T * emission_shift + (LONG_T - 1) * transition_shift
    assert np.isfinite(log_Z)
    assert log_Z_shifted == pytest.approx(log_Z + gained, rel=LONG_LOG_Z_RTOL, abs=0)

    # the probabilities do not move, and stay probabilities
    before = marginals(emissions, transitions, start, end)
    after = marginals(
        emissions + emission_shift, transitions + transition_shift, start, end
    )
    for one, other in zip(before, after):
        assert np.all(np.isfinite(one)) and np.all(np.isfinite(other))
        np.testing.assert_allclose(other, one, rtol=0, atol=LONG_MARGINAL_ATOL)
    np.testing.assert_allclose(
        before[0].sum(axis=1), 1.0, rtol=0, atol=LONG_MARGINAL_ATOL
    )

    # max <= logsumexp <= max + log(number of paths)
    path, best_score = viterbi(emissions, transitions, start, end)
    assert best_score <= log_Z <= best_score + LONG_T * math.log(3)
    assert score(emissions, transitions, path, start, end) == pytest.approx(
        best_score, rel=LONG_LOG_Z_RTOL, abs=0
    )


# -- malformed input --------------------------------------------------------

# every score-level function, called as f(emissions, transitions, s=start,
# n=end); tags [0, 0] fit the well-formed two-position sentences below
SCORE_FUNCTIONS = {
    "score": lambda e, tr, s=None, n=None: score(e, tr, [0, 0], s, n),
    "forward": lambda e, tr, s=None, n=None: forward(e, tr, s),
    "backward": lambda e, tr, s=None, n=None: backward(e, tr, n),
    "log_partition": lambda e, tr, s=None, n=None: log_partition(e, tr, s, n),
    "marginals": lambda e, tr, s=None, n=None: marginals(e, tr, s, n),
    "log_likelihood": lambda e, tr, s=None, n=None: log_likelihood(
        e, tr, [0, 0], s, n
    ),
    "viterbi": lambda e, tr, s=None, n=None: viterbi(e, tr, s, n),
    "brute_force": lambda e, tr, s=None, n=None: brute_force(e, tr, s, n),
}
every_function = pytest.mark.parametrize(
    "function", SCORE_FUNCTIONS.values(), ids=SCORE_FUNCTIONS.keys()
)

GOOD_EMISSIONS = np.zeros((2, 2))
GOOD_TRANSITIONS = np.zeros((2, 2))
WITH_NAN = np.array([[0.0, np.nan], [0.0, 0.0]])
WITH_INF = np.array([[0.0, 0.0], [np.inf, 0.0]])

BAD_SCORES = {
    "1-d emissions": (
        np.zeros(2),
        GOOD_TRANSITIONS,
        r"emissions must be a 2-d array \(T, K\), got 1 dimension",
    ),
    "3-d emissions": (
        np.zeros((2, 2, 2)),
        GOOD_TRANSITIONS,
        r"emissions must be a 2-d array \(T, K\), got 3 dimension",
    ),
    "empty sentence": (
        np.zeros((0, 2)),
        GOOD_TRANSITIONS,
        r"the sentence is empty \(T = 0\)",
    ),
    "no tags": (
        np.zeros((2, 0)),
        np.zeros((0, 0)),
        r"emissions has no tags \(K = 0\)",
    ),
    "ragged emissions": (
        [[0.0, 1.0], [2.0]],
        GOOD_TRANSITIONS,
        "emissions must be an array of numbers",
    ),
    "text emissions": (
        [["a", "b"], ["c", "d"]],
        GOOD_TRANSITIONS,
        "emissions must be an array of numbers",
    ),
    "NaN emissions": (WITH_NAN, GOOD_TRANSITIONS, "emissions contains NaN or inf"),
    "inf emissions": (WITH_INF, GOOD_TRANSITIONS, "emissions contains NaN or inf"),
    "-inf emissions": (-WITH_INF, GOOD_TRANSITIONS, "emissions contains NaN or inf"),
    "transitions (2, 3)": (
        GOOD_EMISSIONS,
        np.zeros((2, 3)),
        r"transitions must have shape \(2, 2\), got \(2, 3\)",
    ),
    "transitions (3, 3)": (
        GOOD_EMISSIONS,
        np.zeros((3, 3)),
        r"transitions must have shape \(2, 2\), got \(3, 3\)",
    ),
    "1-d transitions": (
        GOOD_EMISSIONS,
        np.zeros(4),
        r"transitions must have shape \(2, 2\), got \(4,\)",
    ),
    "NaN transitions": (GOOD_EMISSIONS, WITH_NAN, "transitions contains NaN or inf"),
    "inf transitions": (GOOD_EMISSIONS, WITH_INF, "transitions contains NaN or inf"),
}


@every_function
@pytest.mark.parametrize(
    "emissions, transitions, message", BAD_SCORES.values(), ids=BAD_SCORES.keys()
)
def test_malformed_scores_are_refused(function, emissions, transitions, message):
    with pytest.raises(ValueError, match=message):
        function(emissions, transitions)


BAD_STARTS = {
    "start of 3": (np.zeros(3), r"start must have shape \(2,\), got \(3,\)"),
    "2-d start": (np.zeros((1, 2)), r"start must have shape \(2,\), got \(1, 2\)"),
    "NaN start": ([np.nan, 0.0], "start contains NaN or infinite"),
    "-inf start": ([0.0, -np.inf], "start contains NaN or infinite"),
}
BAD_ENDS = {
    "end of 1": (np.zeros(1), r"end must have shape \(2,\), got \(1,\)"),
    "NaN end": ([0.0, np.nan], "end contains NaN or infinite"),
    "inf end": ([np.inf, 0.0], "end contains NaN or infinite"),
}


# forward takes no end score and backward no start score
@pytest.mark.parametrize("name", [n for n in SCORE_FUNCTIONS if n != "backward"])
@pytest.mark.parametrize("start, message", BAD_STARTS.values(), ids=BAD_STARTS.keys())
def test_malformed_start_is_refused(name, start, message):
    with pytest.raises(ValueError, match=message):
        SCORE_FUNCTIONS[name](GOOD_EMISSIONS, GOOD_TRANSITIONS, s=start)


@pytest.mark.parametrize("name", [n for n in SCORE_FUNCTIONS if n != "forward"])
@pytest.mark.parametrize("end, message", BAD_ENDS.values(), ids=BAD_ENDS.keys())
def test_malformed_end_is_refused(name, end, message):
    with pytest.raises(ValueError, match=message):
        SCORE_FUNCTIONS[name](GOOD_EMISSIONS, GOOD_TRANSITIONS, n=end)


BAD_TAGS = {
    "out of range": ([0, 2], r"tags must be < K = 2, got 2"),
    "negative": ([0, -1], r"tags must not be negative, got -1"),
    "too short": ([0], r"tags has length 1 but the sentence has T = 2"),
    "too long": ([0, 1, 0], r"tags has length 3 but the sentence has T = 2"),
    "fractional": ([0, 0.5], r"tags must be integers, got dtype float64"),
    "infinite": ([0, np.inf], r"tags must be integers, got dtype float64"),
    "NaN": ([np.nan, 0], r"tags must be integers, got dtype float64"),
    "strings": (["O", "B-PER"], r"tags must be integers, got dtype <U5"),
    "booleans": ([True, False], r"tags must be integers, got dtype bool"),
    "None": ([0, None], r"tags must be integers, got dtype object"),
    "2-d": ([[0], [1]], r"tags must be a 1-d sequence, got shape \(2, 1\)"),
}


@pytest.mark.parametrize("function", [score, log_likelihood])
@pytest.mark.parametrize("tags, message", BAD_TAGS.values(), ids=BAD_TAGS.keys())
def test_malformed_tags_are_refused(function, tags, message):
    with pytest.raises(ValueError, match=message):
        function(GOOD_EMISSIONS, GOOD_TRANSITIONS, tags)
