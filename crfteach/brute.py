"""The oracle: every tag path enumerated, for sentences small enough.

Forward-backward is checked against this module in the tests and in the
book. It is exponential in the sentence length on purpose: it computes the
sums over paths exactly as they are written in the derivation.
"""

import itertools
from dataclasses import dataclass

import numpy as np

from .inference import check_scores, score

__all__ = ["MAX_PATHS", "BruteForce", "brute_force"]

# K**T above this is refused: 2**20 paths take seconds, not hours
MAX_PATHS = 1_000_000


@dataclass
class BruteForce:
    """What enumeration computes.

    Attributes:
        log_Z: float, log of the summed exp-scores of every path.
        node_marginals: ``(T, K)``, p(y_t = k | x).
        edge_marginals: ``(T - 1, K, K)``, p(y_t = i, y_{t+1} = j | x).
        paths: ``(K**T, T)`` int array, every path in lexicographic order.
        scores: ``(K**T,)`` unnormalised score of each path.
        probabilities: ``(K**T,)`` p(y | x) of each path; they sum to one.
    """

    log_Z: float
    node_marginals: np.ndarray
    edge_marginals: np.ndarray
    paths: np.ndarray
    scores: np.ndarray
    probabilities: np.ndarray

    def __iter__(self):
        # unpacks as (log_Z, node_marginals, edge_marginals, paths, probabilities)
        yield self.log_Z
        yield self.node_marginals
        yield self.edge_marginals
        yield self.paths
        yield self.probabilities


def brute_force(emissions, transitions, start=None, end=None, max_paths=MAX_PATHS):
    """Enumerate every tag path and compute log Z and the marginals exactly.

    Args:
        emissions: ``(T, K)`` emission scores.
        transitions: ``(K, K)`` transition scores, ``[previous, current]``.
        start, end: optional ``(K,)`` scores of the first and last tag.
        max_paths: refuse when ``K**T`` exceeds this.

    Returns:
        A :class:`BruteForce` holding log Z, node and edge marginals and every
        path with its score and probability. It also unpacks as
        ``log_Z, node, edge, paths, probabilities = brute_force(...)``.

    Raises:
        ValueError: on malformed scores, or when ``K**T > max_paths``.
    """
    # scipy.special is imported here, not with the package: it is large
    from scipy.special import logsumexp

    emissions, transitions, start, end = check_scores(
        emissions, transitions, start, end
    )
    T, K = emissions.shape
    if K**T > max_paths:
        raise ValueError(
            f"brute_force would enumerate K**T = {K}**{T} = {K**T:,} paths, "
            f"more than max_paths = {max_paths:,}; use forward-backward instead"
        )

    # every path, and its score computed term by term
    paths = np.array(list(itertools.product(range(K), repeat=T)), dtype=np.int64)
    scores = np.array([score(emissions, transitions, y, start, end) for y in paths])
    log_Z = float(logsumexp(scores))
    probabilities = np.exp(scores - log_Z)

    # marginals: add each path's probability where the path passes
    node_marginals = np.zeros((T, K))
    edge_marginals = np.zeros((max(T - 1, 0), K, K))
    for y, p in zip(paths, probabilities):
        node_marginals[np.arange(T), y] += p
        edge_marginals[np.arange(T - 1), y[:-1], y[1:]] += p

    return BruteForce(log_Z, node_marginals, edge_marginals, paths, scores, probabilities)
