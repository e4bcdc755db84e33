"""FeatureIndex: label and observation numbers, design matrices, names."""

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import EXACT
from crfteach import FeatureIndex, dict_scores, parse_template

TEMPLATE = parse_template(
    "U00:%x[-1,0]\nU02:%x[0,0]\nU05:%x[-1,0]/%x[0,0]\nU07:bias\nB"
)
SENTENCES = [
    ([["张"], ["三"], ["丰"]], ["B-PER", "I-PER", "I-PER"]),
    ([["去"], ["北"], ["京"]], ["O", "B-LOC", "I-LOC"]),
]
OBSERVATIONS = [TEMPLATE.observations(rows) for rows, _ in SENTENCES]
TAGS = [tags for _, tags in SENTENCES]
LABELS = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]


@pytest.fixture
def index():
    return FeatureIndex.from_sentences(OBSERVATIONS, TAGS)


@pytest.fixture
def weights(index, rng):
    """Random ``(W (n_obs, K), transitions (K, K))`` for ``index``."""
    W = rng.normal(size=(index.n_observations, index.n_labels))
    return W, rng.normal(size=(index.n_labels, index.n_labels))


def test_labels_and_observations_are_numbered_in_order_of_appearance(index):
    assert index.labels == LABELS
    assert index.observations[:4] == ["U00:_B-1", "U02:张", "U05:_B-1/张", "U07:bias"]
    assert index.observations[4:7] == ["U00:张", "U02:三", "U05:张/三"]

    # 3 macro templates at 3 positions in 2 sentences, and the bias; the
    # sentences share "U00:_B-1", the character before either first token
    assert index.n_observations == 3 * 3 * 2 + 1 - 1


def test_a_fixed_label_order_comes_first():
    index = FeatureIndex.from_sentences(OBSERVATIONS, TAGS, labels=["O", "I-LOC"])
    assert index.labels == ["O", "I-LOC", "B-PER", "I-PER", "B-LOC"]


def test_n_weights_is_one_per_observation_and_label_plus_K_squared(index):
    K = len(LABELS)
    assert index.n_labels == K
    assert index.n_weights == index.n_observations * K + K * K


def test_design_matrix_times_W_equals_dict_scores(index, weights):
    W, transitions = weights
    named = index.to_dict(W, transitions)
    for observations in OBSERVATIONS:
        X = index.design_matrix(observations)
        assert sp.isspmatrix_csr(X) and X.shape == (3, index.n_observations)

        emissions, dict_transitions = dict_scores(observations, named, index.labels)
        np.testing.assert_allclose(X @ W, emissions, rtol=0, atol=EXACT)
        np.testing.assert_allclose(dict_transitions, transitions, rtol=0, atol=EXACT)


def test_design_matrix_counts_repeats_and_ignores_unknown_observations(index):
    X = index.design_matrix([["U02:张", "U02:张", "U02:never seen"], ["U07:bias"]])
    dense = X.toarray()

    assert dense[0, index.observation_ids["U02:张"]] == 2.0
    assert dense[1, index.observation_ids["U07:bias"]] == 1.0
    assert dense.sum() == 3.0


def test_to_dict_and_from_dict_round_trip(index, weights):
    W, transitions = weights
    W[0, 0] = 0.0
    named = index.to_dict(W, transitions)

    # only non-zero weights are named unless asked
    assert len(named) == index.n_weights - 1
    assert len(index.to_dict(W, transitions, keep_zeros=True)) == index.n_weights
    W_back, transitions_back = index.from_dict(named)
    np.testing.assert_array_equal(W_back, W)
    np.testing.assert_array_equal(transitions_back, transitions)


def test_readable_names(index):
    names = index.names()
    assert len(names) == len(set(names)) == index.n_weights
    assert "B-PER::U02:张" in names
    assert "B-PER->I-PER" in names


def test_names_follow_the_flat_weight_layout(index):
    # one weight at a time: its name is the one at its place in names()
    for i, name in enumerate(index.names()):
        w = np.zeros(index.n_weights)
        w[i] = 1.0
        assert index.to_dict(*index.split(w)) == {name: 1.0}


def test_split_and_join_round_trip(index, weights):
    W, transitions = weights
    w = index.join(W, transitions)
    assert w.shape == (index.n_weights,)

    # the state weights row by row, then the transitions row by row
    np.testing.assert_array_equal(w[: W.size], W.ravel())
    W_back, transitions_back = index.split(w)
    np.testing.assert_array_equal(W_back, W)
    np.testing.assert_array_equal(transitions_back, transitions)


def test_encode_tags_numbers_labels_by_their_place(index):
    tags = index.encode_tags(["O", "B-LOC", "I-LOC"])
    np.testing.assert_array_equal(tags, [2, 3, 4])


# -- errors ---------------------------------------------------------------


def test_unknown_label_is_refused(index):
    with pytest.raises(ValueError, match=r"unknown label 'B-ORG'; known labels: \["):
        index.encode_tags(["O", "B-ORG"])


@pytest.mark.parametrize(
    "name",
    ["B-ORG::U02:张", "B-PER::U02:龙", "B-PER->B-ORG", "B-ORG->O", "U02:张", "B-PER"],
)
def test_unknown_feature_name_is_refused(index, name):
    with pytest.raises(ValueError, match=rf"'{name}' is not a feature of this index"):
        index.from_dict({name: 1.0})


@pytest.mark.parametrize(
    "observations, tags, message",
    [
        (OBSERVATIONS, TAGS[:1], "observations has 2 sentences but tags has 1"),
        (OBSERVATIONS, [TAGS[0], TAGS[1][:2]], "sentence 1: observations has 3 posi"),
        (OBSERVATIONS, [TAGS[0], []], "sentence 1: observations has 3 positions but"),
    ],
    ids=["sentences", "positions", "no tags"],
)
def test_from_sentences_refuses_tags_that_do_not_fit(observations, tags, message):
    with pytest.raises(ValueError, match=message):
        FeatureIndex.from_sentences(observations, tags)


def test_split_refuses_a_vector_of_the_wrong_length(index):
    n = index.n_weights
    message = rf"w must have shape \({n},\), got \({n - 1},\)"
    with pytest.raises(ValueError, match=message):
        index.split(np.zeros(n - 1))


@pytest.mark.parametrize(
    "labels, observations, message",
    [
        (["O", "O"], ["U02:张"], "labels must not repeat"),
        (["O"], ["U02:张", "U02:张"], "observations must not repeat"),
        ([], ["U02:张"], "there must be at least one label"),
    ],
    ids=["repeated label", "repeated observation", "no label"],
)
def test_malformed_index_is_refused(labels, observations, message):
    with pytest.raises(ValueError, match=message):
        FeatureIndex(labels, observations)
