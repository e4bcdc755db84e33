"""Forward-backward and Viterbi against every path enumerated.

brute_force sums over all K**T paths exactly as the derivation writes the
sums; forward-backward must give the same numbers on every small shape and
on any scores hypothesis can think of.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings

from conftest import EXACT, random_scores, score_arrays
from crfteach import (
    brute_force,
    log_likelihood,
    log_partition,
    marginals,
    score,
    viterbi,
)
from crfteach.brute import MAX_PATHS

SHAPES = [(T, K) for T in range(1, 7) for K in range(1, 5)]

# hypothesis draws this many sentences (up to 6 positions, 4 tags)
RANDOM_CASES = 100

# log-likelihoods checked per shape: every path up to this many, else an
# evenly spread subset of about this many
MAX_LIKELIHOOD_PATHS = 256


def check_against_brute_force(emissions, transitions, start, end, paths):
    """Assert forward-backward and Viterbi agree with enumeration.

    ``paths`` are the indices, into the enumerated paths, whose
    log-likelihood is compared with log p(y) from enumeration.
    """
    expected = brute_force(emissions, transitions, start, end)

    # log Z, node and edge marginals
    log_Z = log_partition(emissions, transitions, start, end)
    assert log_Z == pytest.approx(expected.log_Z, abs=EXACT)
    node_marginals, edge_marginals = marginals(emissions, transitions, start, end)
    np.testing.assert_allclose(
        node_marginals, expected.node_marginals, rtol=0, atol=EXACT
    )
    np.testing.assert_allclose(
        edge_marginals, expected.edge_marginals, rtol=0, atol=EXACT
    )

    # log p(y | x) of single paths: s(y) - log Z from enumeration
    for i in paths:
        value = log_likelihood(emissions, transitions, expected.paths[i], start, end)
        assert value == pytest.approx(expected.scores[i] - expected.log_Z, abs=EXACT)

    # Viterbi finds a path as good as the best enumerated one
    path, best_score = viterbi(emissions, transitions, start, end)
    assert best_score == pytest.approx(expected.scores.max(), abs=EXACT)
    assert score(emissions, transitions, path, start, end) == pytest.approx(
        best_score, abs=EXACT
    )
    return expected, path


@pytest.mark.parametrize("T, K", SHAPES, ids=lambda v: str(v))
@pytest.mark.parametrize("start_end", [True, False], ids=["start_end", "no_start_end"])
def test_every_small_shape_matches_brute_force(T, K, start_end, rng):
    emissions, transitions, start, end = random_scores(
        rng, T, K, start_end=start_end
    )
    spread = range(0, K**T, max(1, K**T // MAX_LIKELIHOOD_PATHS))
    expected, path = check_against_brute_force(
        emissions, transitions, start, end, spread
    )

    # normal random scores have no ties, so the best path itself is unique
    assert path == expected.paths[expected.scores.argmax()].tolist()


@settings(max_examples=RANDOM_CASES)
@given(score_arrays())
def test_random_scores_match_brute_force(arrays):
    emissions, transitions, start, end = arrays
    n_paths = emissions.shape[1] ** emissions.shape[0]

    # first and last path, and one from the middle: the tags take every value
    check_against_brute_force(*arrays, paths={0, n_paths // 2, n_paths - 1})


# -- what brute_force returns -----------------------------------------------


@pytest.mark.parametrize("T, K", [(1, 1), (1, 3), (3, 2), (4, 3)])
def test_brute_force_lists_every_path_once_in_order(T, K, rng):
    expected = brute_force(*random_scores(rng, T, K))

    assert expected.paths.shape == (K**T, T)
    assert expected.paths.tolist() == [
        list(y) for y in itertools.product(range(K), repeat=T)
    ]


@pytest.mark.parametrize("T, K", [(1, 1), (2, 3), (5, 2), (4, 4)])
def test_brute_force_probabilities_follow_the_scores(T, K, rng):
    emissions, transitions, start, end = random_scores(rng, T, K)
    expected = brute_force(emissions, transitions, start, end)

    assert expected.probabilities.sum() == pytest.approx(1.0, abs=EXACT)
    np.testing.assert_allclose(
        expected.scores,
        [score(emissions, transitions, y, start, end) for y in expected.paths],
        rtol=0,
        atol=EXACT,
    )
    np.testing.assert_allclose(
        np.log(expected.probabilities),
        expected.scores - expected.log_Z,
        rtol=0,
        atol=EXACT,
    )


def test_brute_force_unpacks_in_documented_order(rng):
    expected = brute_force(*random_scores(rng, 3, 2))
    log_Z, node_marginals, edge_marginals, paths, probabilities = expected

    assert log_Z == expected.log_Z
    assert node_marginals is expected.node_marginals
    assert edge_marginals is expected.edge_marginals
    assert paths is expected.paths
    assert probabilities is expected.probabilities


def test_brute_force_of_one_position_has_no_edges(rng):
    expected = brute_force(*random_scores(rng, 1, 3))
    assert expected.edge_marginals.shape == (0, 3, 3)


# -- refusing to enumerate too much ----------------------------------------


def test_brute_force_refuses_more_than_a_million_paths():
    # 2**20 = 1,048,576 paths: refused before anything is enumerated
    assert MAX_PATHS == 1_000_000
    with pytest.raises(
        ValueError,
        match=r"K\*\*T = 2\*\*20 = 1,048,576 paths, more than max_paths = 1,000,000",
    ):
        brute_force(np.zeros((20, 2)), np.zeros((2, 2)))


def test_brute_force_limit_is_inclusive():
    # 3**2 = 9 paths: allowed at max_paths = 9, refused at 8
    emissions, transitions = np.zeros((2, 3)), np.zeros((3, 3))
    assert len(brute_force(emissions, transitions, max_paths=9).paths) == 9
    with pytest.raises(ValueError, match=r"3\*\*2 = 9 paths, more than max_paths = 8"):
        brute_force(emissions, transitions, max_paths=8)
