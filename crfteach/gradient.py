"""The gradient of log p(y | x): observed minus expected feature counts.

Two implementations that must agree, and a numerical check for both
(chapter "The gradient: observed minus expected counts"):

- :func:`dict_gradient`, the textbook form: sparse dictionaries keyed by
  feature name, true counts added, expected counts subtracted;
- :func:`matrix_gradient`, the same sums as matrix products:
  ``X.T @ (onehot(y) - node_marginals)`` for the state weights and observed
  pair counts minus summed edge marginals for the transitions;
- :func:`finite_difference`, central differences of any function.

Both analytic forms return the gradient of ``log p(y|x) - c2 * ||w||^2``,
the direction in which the weights should move to fit the sentence better.
"""

from collections import defaultdict

import numpy as np

from .features import state_name, transition_name
from .inference import _check_tags, log_likelihood, marginals

__all__ = [
    "dict_scores",
    "dict_gradient",
    "matrix_log_likelihood",
    "matrix_gradient",
    "finite_difference",
]


def _check_sentence(observations, tags, labels):
    if len(observations) == 0:
        raise ValueError("the sentence is empty: observations has no positions")
    if len(tags) != len(observations):
        raise ValueError(
            f"tags has length {len(tags)} but observations has {len(observations)}"
        )
    unknown = sorted(set(tags) - set(labels))
    if unknown:
        raise ValueError(f"tags {unknown} are not in labels {list(labels)}")


def dict_scores(observations, weights, labels):
    """Emission and transition scores from a weight dictionary.

    Args:
        observations: ``T`` lists of observation strings, e.g. ``["U02:张"]``.
        weights: dict from feature name to weight; absent names weigh 0.
        labels: the ``K`` label strings, in tag-index order.

    Returns:
        ``(emissions (T, K), transitions (K, K))``.
    """
    emissions = np.array(
        [
            [sum(weights.get(state_name(label, o), 0.0) for o in position)
             for label in labels]
            for position in observations
        ],
        dtype=np.float64,
    ).reshape(len(observations), len(labels))
    transitions = np.array(
        [[weights.get(transition_name(a, b), 0.0) for b in labels] for a in labels],
        dtype=np.float64,
    ).reshape(len(labels), len(labels))
    return emissions, transitions


def dict_gradient(observations, tags, weights, labels, c2=0.0):
    """The textbook gradient over sparse dictionaries keyed by feature name.

    For every feature that fires on the true path, add one; for every
    feature that could fire at a position, subtract the probability that
    the model gives it there (node marginals for state features, edge
    marginals for transitions, from forward-backward).

    Args:
        observations: ``T`` lists of observation strings.
        tags: ``T`` label strings, the true path.
        weights: dict from feature name to weight; absent names weigh 0.
        labels: the ``K`` label strings.
        c2: L2 coefficient; subtracts ``2 * c2 * w`` for every weight.

    Returns:
        dict from feature name to the gradient of
        ``log p(y|x) - c2 * ||w||^2``, non-zero entries only.
    """
    _check_sentence(observations, tags, labels)
    emissions, transitions = dict_scores(observations, weights, labels)
    node_marginals, edge_marginals = marginals(emissions, transitions)
    T = len(observations)
    gradient = defaultdict(float)

    # observed: the features that fire on the true labels
    for t, position in enumerate(observations):
        for o in position:
            gradient[state_name(tags[t], o)] += 1.0
    for t in range(1, T):
        gradient[transition_name(tags[t - 1], tags[t])] += 1.0

    # expected: every label the model could put there, weighted by its marginal
    for t, position in enumerate(observations):
        for k, label in enumerate(labels):
            for o in position:
                gradient[state_name(label, o)] -= node_marginals[t, k]
    for t in range(T - 1):
        for i, previous in enumerate(labels):
            for j, current in enumerate(labels):
                gradient[transition_name(previous, current)] -= edge_marginals[t, i, j]

    # the L2 penalty pulls every weight towards zero
    if c2:
        for name, value in weights.items():
            gradient[name] -= 2.0 * c2 * value

    return {name: value for name, value in gradient.items() if value != 0.0}


def matrix_log_likelihood(X, tags, W, transitions):
    """log p(y | x) with emissions ``X @ W``.

    Args:
        X: ``(T, n_observations)`` sparse design matrix.
        tags: ``(T,)`` integer tags.
        W: ``(n_observations, K)`` state weights.
        transitions: ``(K, K)`` transition weights.
    """
    return log_likelihood(np.asarray(X @ W), transitions, tags)


def matrix_gradient(X, tags, W, transitions, c2=0.0):
    """The gradient as matrix products: observed minus expected counts.

    Args:
        X: ``(T, n_observations)`` sparse design matrix.
        tags: ``(T,)`` integer tags, the true path.
        W: ``(n_observations, K)`` state weights.
        transitions: ``(K, K)`` transition weights.
        c2: L2 coefficient.

    Returns:
        ``(grad_W (n_observations, K), grad_transitions (K, K))``, the
        gradient of ``log p(y|x) - c2 * ||w||^2``.
    """
    W = np.asarray(W, dtype=np.float64)
    transitions = np.asarray(transitions, dtype=np.float64)
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"X has {X.shape[1]} observation columns but W has {W.shape[0]} rows"
        )
    emissions = np.asarray(X @ W)
    node_marginals, edge_marginals = marginals(emissions, transitions)
    T, K = emissions.shape
    tags = _check_tags(tags, T, K)

    # state weights: X.T @ (observed one-hot - expected node marginals)
    observed = np.zeros((T, K))
    observed[np.arange(T), tags] = 1.0
    grad_W = np.asarray(X.T @ (observed - node_marginals))

    # transitions: observed pair counts - edge marginals summed over positions
    grad_transitions = -edge_marginals.sum(axis=0)
    np.add.at(grad_transitions, (tags[:-1], tags[1:]), 1.0)

    if c2:
        grad_W -= 2.0 * c2 * W
        grad_transitions -= 2.0 * c2 * transitions
    return grad_W, grad_transitions


def finite_difference(f, w, eps=1e-5):
    """Central finite differences of a scalar function.

    Args:
        f: function of a flat float64 vector, returning a float.
        w: ``(n,)`` the point at which to differentiate.
        eps: the step; the error is O(eps**2).

    Returns:
        ``(n,)`` array, ``(f(w + eps e_i) - f(w - eps e_i)) / (2 eps)``.
    """
    w = np.array(w, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError(f"w must be a flat vector, got shape {w.shape}")
    gradient = np.empty_like(w)
    for i in range(len(w)):
        saved = w[i]
        w[i] = saved + eps
        plus = f(w)
        w[i] = saved - eps
        minus = f(w)
        w[i] = saved
        gradient[i] = (plus - minus) / (2 * eps)
    return gradient
