"""Scores, forward-backward, marginals and Viterbi for one sentence.

Everything here works on dense score arrays, in log space, and loops over
positions only; the tags at each position are handled as one vector.

Conventions (chapter "The linear-chain CRF and its likelihood"):

- ``emissions[t, k]`` is the score of tag ``k`` at position ``t``, shape ``(T, K)``;
- ``transitions[i, j]`` is the score of tag ``i`` at ``t - 1`` followed by tag ``j``
  at ``t``, shape ``(K, K)``;
- ``start[k]`` and ``end[k]`` score tag ``k`` as the first and as the last tag,
  shape ``(K,)``; zeros when omitted.

The score of a path y is

    s(y) = start[y_0] + sum_t emissions[t, y_t]
           + sum_{t>0} transitions[y_{t-1}, y_t] + end[y_{T-1}]

and p(y | x) = exp(s(y)) / Z with Z the sum of exp(s(y')) over every path y'.
"""

import numpy as np

__all__ = [
    "check_scores",
    "score",
    "forward",
    "backward",
    "log_partition",
    "marginals",
    "log_likelihood",
    "viterbi",
]


def _logsumexp(a, axis=None, keepdims=False):
    """log(sum(exp(a))) along ``axis`` of a finite array, largest term out first.

    The same sum as scipy.special.logsumexp, which costs about 25 times more
    a call on the small ``(K, K)`` arrays that the recursions pass it.
    """
    a_max = np.max(a, axis=axis, keepdims=True)
    out = a_max + np.log(np.sum(np.exp(a - a_max), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def _as_scores(name, value, shape):
    """Return ``value`` as a finite float64 array of ``shape``, or raise."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of numbers: {error}") from None
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_scores(emissions, transitions, start=None, end=None):
    """Validate the score arrays of one sentence and fill in defaults.

    Args:
        emissions: ``(T, K)`` scores of each tag at each position, ``T >= 1``.
        transitions: ``(K, K)`` scores of tag ``i`` followed by tag ``j``.
        start: ``(K,)`` scores of the first tag, or None for zeros.
        end: ``(K,)`` scores of the last tag, or None for zeros.

    Returns:
        ``(emissions, transitions, start, end)`` as finite float64 arrays.

    Raises:
        ValueError: naming the argument whose shape or values are wrong.
    """
    try:
        emissions = np.asarray(emissions, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"emissions must be an array of numbers: {error}") from None
    if emissions.ndim != 2:
        raise ValueError(
            f"emissions must be a 2-d array (T, K), got {emissions.ndim} dimension(s)"
        )
    T, K = emissions.shape
    if T == 0:
        raise ValueError("emissions has no positions: the sentence is empty (T = 0)")
    if K == 0:
        raise ValueError("emissions has no tags (K = 0)")
    emissions = _as_scores("emissions", emissions, (T, K))
    transitions = _as_scores("transitions", transitions, (K, K))
    start = np.zeros(K) if start is None else _as_scores("start", start, (K,))
    end = np.zeros(K) if end is None else _as_scores("end", end, (K,))
    return emissions, transitions, start, end


def _check_tags(tags, T, K):
    """Return ``tags`` as an int array of length ``T`` with values in ``[0, K)``."""
    array = np.asarray(tags)
    if array.ndim != 1:
        raise ValueError(f"tags must be a 1-d sequence, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        # whole floats such as 1.0 are accepted; inf passes round(), so test it
        whole = np.issubdtype(array.dtype, np.floating) and np.all(
            np.isfinite(array) & (array == np.round(array))
        )
        if not whole:
            raise ValueError(f"tags must be integers, got dtype {array.dtype}")
    if len(array) != T:
        raise ValueError(f"tags has length {len(array)} but the sentence has T = {T}")
    array = array.astype(np.int64)
    if np.any(array < 0):
        raise ValueError(f"tags must not be negative, got {array.min()}")
    if np.any(array >= K):
        raise ValueError(f"tags must be < K = {K}, got {array.max()}")
    return array


def score(emissions, transitions, tags, start=None, end=None):
    """Unnormalised score s(y) of one tag path.

    Args:
        emissions: ``(T, K)`` emission scores.
        transitions: ``(K, K)`` transition scores, ``[previous, current]``.
        tags: ``(T,)`` integer tags, each in ``[0, K)``.
        start, end: optional ``(K,)`` scores of the first and last tag.

    Returns:
        float, start + emissions along the path + transitions + end.
    """
    emissions, transitions, start, end = check_scores(
        emissions, transitions, start, end
    )
    T, K = emissions.shape
    tags = _check_tags(tags, T, K)

    # one emission per position, one transition per neighbouring pair
    total = start[tags[0]] + emissions[np.arange(T), tags].sum()
    total += transitions[tags[:-1], tags[1:]].sum()
    return float(total + end[tags[-1]])


def forward(emissions, transitions, start=None):
    """Log forward variables.

    ``log_alpha[t, k]`` is the log of the summed exp-scores of every partial
    path that covers positions ``0..t`` and ends in tag ``k`` (the emission at
    ``t`` included, the end score not).

    Args:
        emissions: ``(T, K)`` emission scores.
        transitions: ``(K, K)`` transition scores, ``[previous, current]``.
        start: optional ``(K,)`` scores of the first tag.

    Returns:
        ``(T, K)`` array log_alpha.
    """
    emissions, transitions, start, _ = check_scores(emissions, transitions, start)
    T, K = emissions.shape

    log_alpha = np.empty((T, K))
    log_alpha[0] = start + emissions[0]
    for t in range(1, T):
        # (K, 1) previous + (K, K) transition, summed over the previous tag
        log_alpha[t] = (
            _logsumexp(log_alpha[t - 1][:, None] + transitions, axis=0) + emissions[t]
        )
    return log_alpha


def backward(emissions, transitions, end=None):
    """Log backward variables.

    ``log_beta[t, k]`` is the log of the summed exp-scores of every partial
    path that covers positions ``t+1..T-1`` given tag ``k`` at ``t`` (the end
    score included, the emission at ``t`` not). The last row is ``end``.

    Args:
        emissions: ``(T, K)`` emission scores.
        transitions: ``(K, K)`` transition scores, ``[previous, current]``.
        end: optional ``(K,)`` scores of the last tag.

    Returns:
        ``(T, K)`` array log_beta.
    """
    emissions, transitions, _, end = check_scores(emissions, transitions, end=end)
    T, K = emissions.shape

    log_beta = np.empty((T, K))
    log_beta[T - 1] = end
    for t in range(T - 2, -1, -1):
        # (K, K) transition + (1, K) next, summed over the next tag
        log_beta[t] = _logsumexp(
            transitions + (emissions[t + 1] + log_beta[t + 1])[None, :], axis=1
        )
    return log_beta


def log_partition(emissions, transitions, start=None, end=None):
    """log Z, the log of the summed exp-scores of every tag path.

    Args:
        emissions: ``(T, K)`` emission scores.
        transitions: ``(K, K)`` transition scores, ``[previous, current]``.
        start, end: optional ``(K,)`` scores of the first and last tag.

    Returns:
        float, log Z computed with the forward recursion.
    """
    emissions, transitions, start, end = check_scores(
        emissions, transitions, start, end
    )
    log_alpha = forward(emissions, transitions, start)
    return float(_logsumexp(log_alpha[-1] + end))


def marginals(emissions, transitions, start=None, end=None):
    """Node and edge marginals by forward-backward.

    Args:
        emissions: ``(T, K)`` emission scores.
        transitions: ``(K, K)`` transition scores, ``[previous, current]``.
        start, end: optional ``(K,)`` scores of the first and last tag.

    Returns:
        ``(node_marginals, edge_marginals)``: ``node_marginals[t, k]`` is
        p(y_t = k | x), shape ``(T, K)``; ``edge_marginals[t, i, j]`` is
        p(y_t = i, y_{t+1} = j | x), shape ``(T - 1, K, K)``.
    """
    emissions, transitions, start, end = check_scores(
        emissions, transitions, start, end
    )
    log_alpha = forward(emissions, transitions, start)
    log_beta = backward(emissions, transitions, end)

    # p(y_t = k) = alpha_t(k) beta_t(k) / Z; every row of alpha * beta sums
    # to Z, so each row is normalised by its own sum: rounding that alpha and
    # beta accumulate over thousands of positions cancels instead of showing
    log_nodes = log_alpha + log_beta
    node_marginals = np.exp(log_nodes - _logsumexp(log_nodes, axis=1, keepdims=True))

    # p(y_t = i, y_t+1 = j) = alpha_t(i) psi(i, j) e_t+1(j) beta_t+1(j) / Z,
    # each (K, K) table normalised by its own sum (Z again) for the same reason
    log_edges = (
        log_alpha[:-1, :, None]
        + transitions[None, :, :]
        + (emissions[1:] + log_beta[1:])[:, None, :]
    )
    T, K = emissions.shape
    log_Z_edges = _logsumexp(log_edges.reshape(T - 1, K * K), axis=1)[:, None, None]
    edge_marginals = np.exp(log_edges - log_Z_edges)
    return node_marginals, edge_marginals


def log_likelihood(emissions, transitions, tags, start=None, end=None):
    """log p(y | x) = s(y) - log Z.

    Args:
        emissions: ``(T, K)`` emission scores.
        transitions: ``(K, K)`` transition scores, ``[previous, current]``.
        tags: ``(T,)`` integer tags of the path y.
        start, end: optional ``(K,)`` scores of the first and last tag.

    Returns:
        float, at most 0.
    """
    path_score = score(emissions, transitions, tags, start, end)
    return path_score - log_partition(emissions, transitions, start, end)


def viterbi(emissions, transitions, start=None, end=None):
    """The highest-scoring tag path.

    Args:
        emissions: ``(T, K)`` emission scores.
        transitions: ``(K, K)`` transition scores, ``[previous, current]``.
        start, end: optional ``(K,)`` scores of the first and last tag.

    Returns:
        ``(path, best_score)``: the path as a list of ``T`` ints and its
        unnormalised score. Ties go to the lowest tag index.
    """
    emissions, transitions, start, end = check_scores(
        emissions, transitions, start, end
    )
    T, K = emissions.shape

    # best[t, k]: best score of a partial path ending in k at t
    best = start + emissions[0]
    pointers = np.empty((T, K), dtype=np.int64)
    for t in range(1, T):
        candidates = best[:, None] + transitions
        pointers[t] = candidates.argmax(axis=0)
        best = candidates[pointers[t], np.arange(K)] + emissions[t]

    # follow the back-pointers from the best last tag
    best = best + end
    path = [int(best.argmax())]
    for t in range(T - 1, 0, -1):
        path.append(int(pointers[t, path[-1]]))
    path.reverse()
    return path, float(best.max())
