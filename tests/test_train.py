"""Training: the corpus objective and L-BFGS.

The reference objective is checked against brute-force enumeration and
central differences; training is checked for determinism, for the
stationarity of its optimum, for its report and for its progress lines.
"""

import io
import math

import numpy as np
import pytest
from conftest import EXACT, GRADIENT_RTOL, SEED, TOY_SENTENCES

from crfteach import brute_force, finite_difference, parse_template
from crfteach.corpus import parse_conll
from crfteach.features import FeatureIndex
from crfteach.fast import CorpusBatch
from crfteach.train import corpus_objective, template_path, train

# the template of the small tests: a character, its left neighbour, B
SMALL_TEMPLATE = parse_template("U00:%x[-1,0]\nU01:%x[0,0]\nB\n")

# a corpus small enough to enumerate and to train in a fraction of a second
TOY_CORPUS = TOY_SENTENCES + """
张 O
开 O

北 B-LOC
京 I-LOC
大 O
"""

# an optimum is stationary: every gradient component this small, relatively
STATIONARY = 1e-4


def toy_sentences():
    return parse_conll(TOY_CORPUS, name="toy")


def encode(sentences, template=SMALL_TEMPLATE):
    """Index, design matrices and integer tags of a corpus."""
    observations = [template.observations(s.rows) for s in sentences]
    index = FeatureIndex.from_sentences(observations, [s.tags for s in sentences])
    Xs = [index.design_matrix(o) for o in observations]
    tags = [index.encode_tags(s.tags) for s in sentences]
    return index, Xs, tags


def random_corpus(rng, n_sentences, K=4, vocabulary=12, max_T=9):
    """Sentences of random characters with random tags (not separable)."""
    letters = [chr(ord("甲") + i) for i in range(vocabulary)]
    labels = ["O"] + [f"B-T{k}" for k in range(1, K)]
    lines = []
    for _ in range(n_sentences):
        T = int(rng.integers(1, max_T + 1))
        for _ in range(T):
            lines.append(f"{rng.choice(letters)} {rng.choice(labels)}")
        lines.append("")
    return parse_conll("\n".join(lines), name="random")


# ---------------------------------------------------------------- objective


def test_objective_at_zero_counts_paths():
    # with w = 0 every path has probability K**-T, so -log p = T log K
    index, Xs, tags = encode(toy_sentences())
    K = index.n_labels
    f, _ = corpus_objective(np.zeros(index.n_weights), Xs, tags, K, c2=1.0)
    n_tokens = sum(len(y) for y in tags)
    assert f == pytest.approx(n_tokens * math.log(K), rel=EXACT)


def test_objective_matches_brute_force(rng):
    # sum over sentences of log Z - s(y), every path enumerated, plus c2 ||w||^2
    index, Xs, tags = encode(toy_sentences())
    w = rng.normal(size=index.n_weights)
    c2 = 0.3
    W, transitions = index.split(w)
    expected = c2 * float(w @ w)
    for X, y in zip(Xs, tags):
        emissions = np.asarray(X @ W)
        enumeration = brute_force(emissions, transitions)
        path = (enumeration.paths == y).all(axis=1)
        expected -= float(np.log(enumeration.probabilities[path][0]))
    f, _ = corpus_objective(w, Xs, tags, index.n_labels, c2)
    assert f == pytest.approx(expected, rel=EXACT)


@pytest.mark.parametrize("c2", [0.0, 0.7])
def test_objective_gradient_matches_finite_differences(rng, c2):
    index, Xs, tags = encode(toy_sentences())
    K = index.n_labels
    w = rng.normal(scale=0.5, size=index.n_weights)
    _, g = corpus_objective(w, Xs, tags, K, c2)
    numeric = finite_difference(lambda v: corpus_objective(v, Xs, tags, K, c2)[0], w)
    np.testing.assert_allclose(g, numeric, rtol=GRADIENT_RTOL, atol=GRADIENT_RTOL)


def test_objective_agrees_with_the_batched_one(rng):
    # crfteach.fast must give the reference's numbers
    index, Xs, tags = encode(random_corpus(rng, 40))
    w = rng.normal(size=index.n_weights)
    f, g = corpus_objective(w, Xs, tags, index.n_labels, 0.5)
    batch = CorpusBatch(Xs, tags, index.n_labels)
    f_fast, g_fast = batch.objective_and_gradient(w, 0.5)
    assert f_fast == pytest.approx(f, rel=EXACT)
    np.testing.assert_allclose(g_fast, g, rtol=EXACT, atol=EXACT)


def test_objective_rejects_a_wrong_length():
    index, Xs, tags = encode(toy_sentences())
    with pytest.raises(ValueError, match="w must be flat"):
        corpus_objective(np.zeros(index.n_weights + 1), Xs, tags, index.n_labels, 1.0)


# ---------------------------------------------------------------- training


@pytest.fixture(scope="module")
def trained():
    """A model and report trained on a random corpus with the defaults."""
    sentences = random_corpus(np.random.default_rng(SEED), 60)
    model, report = train(sentences, SMALL_TEMPLATE, c2=0.5)
    return sentences, model, report


def test_report_fields_add_up(trained):
    sentences, model, report = trained
    K, n_obs = model.index.n_labels, model.index.n_observations
    assert report["n_features"] == n_obs * K + K * K
    assert report["n_sentences"] == len(sentences)
    assert report["n_tokens"] == sum(len(s) for s in sentences)
    total = report["nll"] + report["l2"]
    assert report["objective"] == pytest.approx(total, rel=EXACT)
    assert report["converged"], report["message"]
    assert 0 < report["iterations"] <= report["evaluations"]
    assert len(report["history"]) == report["iterations"] + 1
    assert report["seconds"] > 0


def test_the_optimum_is_stationary(trained):
    # the gradient at the returned weights is small next to the one at w = 0
    sentences, model, report = trained
    index = model.index
    _, Xs, tags = encode(sentences)
    w = index.join(model.W, model.transitions)
    f, g = corpus_objective(w, Xs, tags, index.n_labels, 0.5)
    _, g0 = corpus_objective(np.zeros_like(w), Xs, tags, index.n_labels, 0.5)
    assert f == pytest.approx(report["objective"], rel=EXACT)
    assert np.abs(g).max() < STATIONARY * np.abs(g0).max()


def test_the_objective_decreases(trained):
    _, _, report = trained
    objectives = [row[1] for row in report["history"]]
    assert all(b <= a for a, b in zip(objectives, objectives[1:]))
    assert objectives[-1] == pytest.approx(report["objective"], rel=EXACT)


def test_training_is_deterministic(trained):
    sentences, model, report = trained
    again, report_again = train(sentences, SMALL_TEMPLATE, c2=0.5)
    np.testing.assert_array_equal(again.W, model.W)
    np.testing.assert_array_equal(again.transitions, model.transitions)
    assert report_again["iterations"] == report["iterations"]


def test_the_reference_objective_reaches_the_same_optimum(trained):
    sentences, _, report = trained
    _, reference = train(sentences, SMALL_TEMPLATE, c2=0.5, objective=corpus_objective)
    assert reference["objective"] == pytest.approx(report["objective"], rel=1e-9)


def test_training_fits_a_separable_corpus():
    sentences = toy_sentences()
    model, _ = train(sentences, SMALL_TEMPLATE, c2=0.01)
    assert model.tag_many(sentences) == [s.tags for s in sentences]


def test_bundled_template_has_the_issue_lines():
    with open(template_path("resume"), encoding="utf-8") as handle:
        lines = [ln.strip() for ln in handle if ln.strip() and ln[0] != "#"]
    assert lines[0] == "U00:%x[-2,0]"
    assert "U05:%x[-1,0]/%x[0,0]" in lines
    assert lines[-2:] == ["U07:bias", "B"]


# ---------------------------------------------------------------- progress


def test_silent_unless_verbose(capsys):
    train(toy_sentences(), SMALL_TEMPLATE)
    assert capsys.readouterr() == ("", "")


def test_verbose_prints_a_header_and_one_fixed_width_line_per_iteration():
    stream = io.StringIO()
    _, report = train(toy_sentences(), SMALL_TEMPLATE, verbose=True, stream=stream)
    lines = stream.getvalue().splitlines()
    assert lines[0].split() == ["iter", "objective", "|gradient|", "seconds"]
    assert len(lines) == report["iterations"] + 2
    assert len({len(line) for line in lines}) == 1

    # each line: iteration, objective, gradient norm, seconds
    for number, line in enumerate(lines[1:]):
        iteration, objective, gradient_norm, seconds = line.split()
        assert int(iteration) == number
        logged = report["history"][number][1]
        assert float(objective) == pytest.approx(logged, abs=1e-6)
        assert float(gradient_norm) >= 0 and float(seconds) >= 0


def test_max_iter_stops_early():
    _, report = train(random_corpus(np.random.default_rng(SEED), 30), SMALL_TEMPLATE,
                      max_iter=3)
    assert report["iterations"] == 3
    assert not report["converged"]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"c2": -1.0}, "c2 must be a finite number >= 0"),
        ({"c2": float("nan")}, "c2 must be a finite number >= 0"),
        ({"max_iter": 0}, "max_iter must be a positive integer"),
        ({"template": 3}, "template must be a Template or a path"),
    ],
)
def test_bad_arguments(kwargs, message):
    arguments = {"sentences": toy_sentences(), "template": SMALL_TEMPLATE, **kwargs}
    with pytest.raises(ValueError, match=message):
        train(**arguments)


def test_no_sentences():
    with pytest.raises(ValueError, match="sentences is empty"):
        train([], SMALL_TEMPLATE)


def test_a_template_column_the_data_lacks_is_named_with_the_line():
    template = parse_template("U00:%x[0,0]\nU01:%x[0,1]\n")
    with pytest.raises(ValueError, match=r"sentence 0 \(line 1\): template line 2"):
        train(toy_sentences(), template)
