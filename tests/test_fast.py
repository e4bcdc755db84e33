"""The batched fast path equals the per-sentence reference objective."""

import numpy as np
import pytest
import scipy.sparse as sp

from crfteach.fast import CorpusBatch
from crfteach.train import corpus_objective

RELATIVE = 1e-9


def random_corpus(seed, lengths, n_observations=30, K=4, density=0.15):
    """Random 0/1 design matrices and tags for sentences of given lengths."""
    rng = np.random.default_rng(seed)
    Xs = [
        sp.csr_matrix(rng.random((T, n_observations)) < density, dtype=np.float64)
        for T in lengths
    ]
    tags = [rng.integers(0, K, size=T) for T in lengths]
    return Xs, tags


def assert_same(batch, Xs, tags, K, w, c2):
    f_fast, g_fast = batch.objective_and_gradient(w, c2)
    f_ref, g_ref = corpus_objective(w, Xs, tags, K, c2)
    assert f_fast == pytest.approx(f_ref, rel=RELATIVE)
    scale = np.abs(g_ref).max()
    np.testing.assert_allclose(g_fast, g_ref, rtol=0, atol=RELATIVE * scale)


@pytest.mark.parametrize(
    "lengths",
    [
        [1],
        [1, 1, 1],
        [5],
        [1, 9, 2, 40, 3, 3, 1, 17],
        [60, 1, 2, 1, 30, 30, 7],
    ],
)
@pytest.mark.parametrize("c2", [0.0, 0.7])
def test_fast_equals_reference(lengths, c2):
    K, n_observations = 4, 30
    Xs, tags = random_corpus(len(lengths), lengths, n_observations, K)
    batch = CorpusBatch(Xs, tags, K)
    rng = np.random.default_rng(123)
    for scale in (0.0, 0.5, 3.0):
        w = rng.normal(scale=scale, size=batch.n_weights)
        assert_same(batch, Xs, tags, K, w, c2)


@pytest.mark.parametrize("K", [1, 2, 7])
def test_fast_equals_reference_for_any_number_of_labels(K):
    lengths = [4, 1, 11, 6]
    Xs, tags = random_corpus(K, lengths, K=K)
    batch = CorpusBatch(Xs, tags, K)
    w = np.random.default_rng(K).normal(size=batch.n_weights)
    assert_same(batch, Xs, tags, K, w, 0.1)


def test_sentence_order_does_not_matter():
    lengths = [3, 8, 1, 5]
    K = 3
    Xs, tags = random_corpus(7, lengths, K=K)
    w = np.random.default_rng(7).normal(size=30 * K + K * K)
    forward = CorpusBatch(Xs, tags, K).objective_and_gradient(w, 0.5)
    backward = CorpusBatch(Xs[::-1], tags[::-1], K).objective_and_gradient(w, 0.5)
    assert forward[0] == pytest.approx(backward[0], rel=RELATIVE)
    np.testing.assert_allclose(forward[1], backward[1], rtol=0, atol=1e-9)


@pytest.mark.filterwarnings("error")
def test_extreme_scores_stay_exact():
    # score differences of thousands underflow the scaled recursion; the
    # batch must notice and still return the exact objective
    lengths = [6, 2, 9]
    K = 3
    Xs, tags = random_corpus(3, lengths, K=K, density=0.5)
    batch = CorpusBatch(Xs, tags, K)
    w = np.random.default_rng(3).normal(scale=2000.0, size=batch.n_weights)
    f, g = batch.objective_and_gradient(w, 0.0)
    assert np.isfinite(f) and np.all(np.isfinite(g))
    assert_same(batch, Xs, tags, K, w, 0.0)


def test_large_but_safe_scores_use_the_row_shift():
    lengths = [6, 2, 9]
    K = 3
    Xs, tags = random_corpus(4, lengths, K=K, density=0.5)
    batch = CorpusBatch(Xs, tags, K)
    w = np.random.default_rng(4).normal(scale=150.0, size=batch.n_weights)
    assert_same(batch, Xs, tags, K, w, 0.0)


def test_sentences_without_known_observations():
    # rows of X with no entry: emissions are zero, only transitions score
    K = 2
    Xs = [sp.csr_matrix((3, 5)), sp.csr_matrix(np.eye(2, 5))]
    tags = [np.array([0, 1, 1]), np.array([1, 0])]
    batch = CorpusBatch(Xs, tags, K)
    w = np.linspace(-1, 1, batch.n_weights)
    assert_same(batch, Xs, tags, K, w, 0.2)


@pytest.mark.parametrize(
    "Xs, tags, K, message",
    [
        ([], [], 2, "no sentences"),
        ([sp.csr_matrix((2, 3))], [], 2, "1 design matrices but 0 tag"),
        ([sp.csr_matrix((0, 3))], [np.array([], int)], 2, "sentence 0 is empty"),
        ([sp.csr_matrix((2, 3))], [np.array([0, 2])], 2, r"2 ints in \[0, 2\)"),
        ([sp.csr_matrix((2, 3))], [np.array([0])], 2, r"2 ints in \[0, 2\)"),
        (
            [sp.csr_matrix((2, 3)), sp.csr_matrix((1, 4))],
            [np.array([0, 1]), np.array([1])],
            2,
            "4 columns, expected 3",
        ),
    ],
)
def test_bad_corpus_is_refused(Xs, tags, K, message):
    with pytest.raises(ValueError, match=message):
        CorpusBatch(Xs, tags, K)


def test_bad_weights_are_refused():
    Xs, tags = random_corpus(0, [2, 3], K=2)
    batch = CorpusBatch(Xs, tags, 2)
    with pytest.raises(ValueError, match="w must have shape"):
        batch.objective_and_gradient(np.zeros(3))
    w = np.zeros(batch.n_weights)
    w[0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        batch.objective_and_gradient(w)


def test_column_wise_expansion_equals_position_wise():
    # Template.observations expands a column at a time; expand() is the
    # definition, one position at a time
    from crfteach.templates import parse_template

    rng = np.random.default_rng(5)
    for trial in range(500):
        lines = []
        for i in range(rng.integers(1, 4)):
            macros = [f"%x[{rng.integers(-8, 9)},{rng.integers(0, 2)}]"
                      for _ in range(rng.integers(0, 4))]
            lines.append(f"U{i}{{}}:" + "/".join(macros) + str(rng.choice(["", "}"])))
        template = parse_template("\n".join(lines))
        rows = [[str(rng.choice(list("张三李{"))), str(rng.choice(list("ab")))]
                for _ in range(rng.integers(1, 8))]
        expected = [[u.expand(rows, t) for u in template.unigrams]
                    for t in range(len(rows))]
        assert template.observations(rows) == expected, (lines, rows)


def test_encode_corpus_equals_index_and_design_matrices():
    from crfteach.corpus import load_bundled
    from crfteach.fast import encode_corpus
    from crfteach.features import FeatureIndex
    from crfteach.templates import read_template
    from crfteach.train import template_path

    template = read_template(template_path("resume"))
    train, test = load_bundled("train")[:120], load_bundled("test")[:60]
    observations = [template.observations(s.rows) for s in train]
    index = FeatureIndex.from_sentences(observations, [s.tags for s in train])
    expected = sp.vstack([index.design_matrix(o) for o in observations])

    encoded, X, lengths = encode_corpus(
        [s.rows for s in train], template, [s.tags for s in train]
    )
    assert encoded.labels == index.labels
    assert encoded.observations == index.observations
    assert list(lengths) == [len(s.tags) for s in train]
    assert (X != expected).nnz == 0

    # with a known index, unseen observations are left out, as design_matrix does
    held_out = sp.vstack(
        [index.design_matrix(template.observations(s.rows)) for s in test]
    )
    _, X_test, _ = encode_corpus([s.rows for s in test], template, index=index)
    assert (X_test != held_out).nnz == 0 and X_test.nnz < 8 * X_test.shape[0]


def test_from_matrix_equals_per_sentence_batch():
    K = 3
    lengths = [5, 1, 8, 2]
    Xs, tags = random_corpus(9, lengths, K=K)
    w = np.random.default_rng(9).normal(size=30 * K + K * K)
    per_sentence = CorpusBatch(Xs, tags, K).objective_and_gradient(w, 0.2)
    whole = CorpusBatch.from_matrix(
        sp.vstack(Xs), lengths, np.concatenate(tags), K
    ).objective_and_gradient(w, 0.2)
    assert whole[0] == pytest.approx(per_sentence[0], rel=RELATIVE)
    np.testing.assert_allclose(whole[1], per_sentence[1], rtol=0, atol=1e-12)
