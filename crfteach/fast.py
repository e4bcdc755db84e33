"""The training objective over a whole corpus, in one batched pass.

:func:`crfteach.train.corpus_objective` walks the corpus one sentence at a
time and runs log-space forward-backward on each: clear, and the reference.
This module computes the same objective and gradient with the same formula
(chapter "Making it fast"), arranged for numpy:

1. One sparse design matrix for every token of the corpus, so all the
   emission scores come from one product ``X @ W``.
2. Sentences sorted by length, longest first, and tokens stored
   *time-major*: all first tokens, then all second tokens, and so on. At
   position ``t`` the sentences still running are a prefix of the batch,
   so one forward step for every sentence is one ``(n_t, K) @ (K, K)``
   product on a contiguous block, with no padding.
3. Scaled probabilities instead of a logsumexp per cell (as CRFsuite
   does): each row of alpha is divided by its sum ``c_t``; log Z is the sum
   of the ``log c_t``, and the backward pass reuses the same scales. When
   a score is large enough for ``exp`` to overflow, each row is shifted by
   its maximum first.
4. Expected minus observed state counts as one sparse product
   ``X.T @ (node_marginals - onehot(y))``; expected transition counts as
   ``exp(transitions) * (A.T @ B)``, summed over positions without ever
   building a ``(T, K, K)`` array.
5. Memory is spent once: exponentials overwrite the scores, node
   marginals overwrite alpha, both live in buffers that every evaluation
   reuses, and the gradient is written straight into one new vector.

Scaling fails only when the scores are so extreme that a whole row of
probabilities underflows (score differences of several hundred); the
objective then falls back to the log-space reference for that call, so the
answer is always exact.
"""

from itertools import chain

import numpy as np
import scipy.sparse as sp

from .features import FeatureIndex
from .optimize import axpy

__all__ = ["CorpusBatch", "encode_corpus"]

try:
    # Y += A @ X into an existing Y: scipy's own kernels behind ``A @ X``
    from scipy.sparse._sparsetools import csc_matvecs, csr_matvecs
except ImportError:  # pragma: no cover - a scipy that moved them
    csc_matvecs = csr_matvecs = None

# below this, exp of a score cannot overflow and the row shift is skipped
_SAFE_EXPONENT = 300.0


def encode_corpus(rows, template, tags=None, index=None):
    """The observations of a whole corpus as one design matrix, in one pass.

    The same numbers as :meth:`FeatureIndex.from_sentences` followed by
    :meth:`FeatureIndex.design_matrix` per sentence, and the same order of
    observations and labels (first appearance), without holding every
    observation string of the corpus in memory at once.

    Args:
        rows: per sentence, its token rows (column strings, no tag).
        template: the :class:`crfteach.Template`.
        tags: per sentence, its label strings; required to build an index.
        index: a :class:`FeatureIndex` to encode with (observations it does
            not know are left out), or None to build one from this corpus.

    Returns:
        ``(index, X, lengths)``: the index, the ``(n_tokens, n_observations)``
        CSR matrix of every token in corpus order, and ``(n_sentences,)``
        sentence lengths.
    """
    if index is None:
        if tags is None:
            raise ValueError("tags are needed to build a new index")
        ids = {}
        labels = dict.fromkeys(chain.from_iterable(tags))
        lookup = lambda o: ids.setdefault(o, len(ids))  # noqa: E731
    else:
        ids = index.observation_ids
        lookup = lambda o: ids.get(o, -1)  # noqa: E731

    # each sentence: observations by template, then position-major ids
    columns, lengths = [], []
    for sentence in rows:
        by_template = [u.expand_sentence(sentence) for u in template.unigrams]
        columns.extend(map(lookup, chain.from_iterable(zip(*by_template))))
        lengths.append(len(sentence))

    if index is None:
        index = FeatureIndex(list(labels), list(ids))
    lengths = np.array(lengths, dtype=np.int64)
    n_tokens, U = int(lengths.sum()), len(template.unigrams)
    columns = np.array(columns, dtype=np.int64)
    positions = np.repeat(np.arange(n_tokens), U)
    known = columns >= 0
    X = sp.csr_matrix(
        (np.ones(int(known.sum())), (positions[known], columns[known])),
        shape=(n_tokens, index.n_observations),
    )
    return index, X, lengths


class CorpusBatch:
    """A corpus prepared for batched objective and gradient evaluations.

    Args:
        Xs: per sentence, a ``(T_s, n_observations)`` sparse design matrix.
        tags: per sentence, ``(T_s,)`` integer tags in ``[0, n_labels)``.
        n_labels: K, the number of labels.

    The flat weight vector has the layout of :class:`crfteach.FeatureIndex`:
    ``W (n_observations, K)`` row by row, then ``transitions (K, K)``.
    """

    def __init__(self, Xs, tags, n_labels):
        if len(Xs) == 0:
            raise ValueError("the corpus has no sentences")
        if len(Xs) != len(tags):
            raise ValueError(f"{len(Xs)} design matrices but {len(tags)} tag sequences")
        K = int(n_labels)
        lengths = np.array([X.shape[0] for X in Xs], dtype=np.int64)
        if np.any(lengths == 0):
            raise ValueError(f"sentence {int(np.argmin(lengths))} is empty")
        n_observations = Xs[0].shape[1]
        for s, (X, y) in enumerate(zip(Xs, tags)):
            if X.shape[1] != n_observations:
                raise ValueError(f"sentence {s}: X has {X.shape[1]} columns, "
                                 f"expected {n_observations}")
            y = np.asarray(y)
            if y.shape != (X.shape[0],) or (len(y) and (y.min() < 0 or y.max() >= K)):
                raise ValueError(f"sentence {s}: tags must be {X.shape[0]} ints in [0, {K})")
        X_all = sp.vstack(Xs, format="csr")
        self._setup(X_all, lengths, np.concatenate(tags).astype(np.int64), K)

    @classmethod
    def from_matrix(cls, X, lengths, tags, n_labels):
        """A batch from one design matrix for the whole corpus.

        Args:
            X: ``(n_tokens, n_observations)`` sparse matrix, the sentences'
                rows one after the other (what :func:`encode_corpus` gives).
            lengths: ``(n_sentences,)`` the number of tokens of each sentence.
            tags: ``(n_tokens,)`` integer tags in the same order.
            n_labels: K.
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        tags = np.asarray(tags, dtype=np.int64)
        K = int(n_labels)
        if len(lengths) == 0:
            raise ValueError("the corpus has no sentences")
        if np.any(lengths <= 0):
            raise ValueError(f"sentence {int(np.argmin(lengths))} is empty")
        if X.shape[0] != lengths.sum() or tags.shape != (X.shape[0],):
            raise ValueError(f"X has {X.shape[0]} rows and tags {tags.shape}, but the "
                             f"lengths add up to {lengths.sum()} tokens")
        if tags.min() < 0 or tags.max() >= K:
            raise ValueError(f"tags must be in [0, {K})")
        batch = cls.__new__(cls)
        batch._setup(sp.csr_matrix(X), lengths, tags, K)
        return batch

    def _setup(self, X_all, lengths, tags, K):
        self.n_labels = K
        self.n_observations = X_all.shape[1]
        self.n_sentences = len(lengths)
        self.n_tokens = int(lengths.sum())
        self.lengths = lengths

        # sentences longest first; n_active[t] sentences have a token at t
        order = np.argsort(-lengths, kind="stable")
        sorted_lengths = lengths[order]
        T_max = int(sorted_lengths[0])
        self.n_active = np.searchsorted(-sorted_lengths, -np.arange(1, T_max + 1),
                                        side="right")
        self.offsets = np.concatenate([[0], np.cumsum(self.n_active)])

        # time-major token order: row offsets[t] + b is token t of sorted sentence b
        starts = np.concatenate([[0], np.cumsum(lengths)])[order]
        self.time_major = np.concatenate(
            [starts[: self.n_active[t]] + t for t in range(T_max)]
        )
        self.X = X_all[self.time_major].tocsr()
        self.X.sort_indices()
        tags_tm = tags[self.time_major]

        # observed transition counts do not depend on the weights: count them once
        self.observed_transitions = np.zeros((K, K))
        for t in range(1, T_max):
            n = self.n_active[t]
            previous = tags_tm[self.offsets[t - 1] : self.offsets[t - 1] + n]
            current = tags_tm[self.offsets[t] : self.offsets[t] + n]
            np.add.at(self.observed_transitions, (previous, current), 1.0)
        self._tags_tm = tags_tm
        # the flat index of every token's true tag in an (n_tokens, K) array
        self._gold = np.arange(self.n_tokens) * K + tags_tm
        self._n_edges = self.n_tokens - self.n_sentences

    def _times_W(self, W):
        """``X @ W`` into a buffer that every evaluation reuses."""
        if csr_matvecs is None:
            return np.asarray(self.X @ W)
        out = self._buffer("emissions", (self.n_tokens, self.n_labels))
        out.fill(0.0)
        X = self.X
        csr_matvecs(X.shape[0], X.shape[1], W.shape[1], X.indptr, X.indices,
                    X.data, np.ascontiguousarray(W).ravel(), out.ravel())
        return out

    def _transpose_times(self, node, out):
        """``X.T @ node`` written into ``out``, a view of the gradient."""
        if csc_matvecs is None:
            out[...] = self.X.T @ node
            return
        out.fill(0.0)
        X = self.X
        csc_matvecs(X.shape[1], X.shape[0], node.shape[1], X.indptr, X.indices,
                    X.data, node.ravel(), out.reshape(-1))

    def _buffer(self, name, shape):
        # arrays of (n_tokens, K) reused by every evaluation: allocating them
        # afresh costs a page fault per 4 KiB touched, a third of the time
        buffers = self.__dict__.setdefault("_buffers", {})
        if name not in buffers or buffers[name].shape != shape:
            buffers[name] = np.empty(shape)
        return buffers[name]

    @property
    def n_weights(self):
        """The length of the flat weight vector."""
        K = self.n_labels
        return self.n_observations * K + K * K

    def _split(self, w):
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (self.n_weights,):
            raise ValueError(f"w must have shape ({self.n_weights},), got {w.shape}")
        K = self.n_labels
        n = self.n_observations * K
        return w[:n].reshape(-1, K), w[n:].reshape(K, K)

    def log_likelihood_terms(self, W, transitions):
        """The summed path scores and the summed log Z of the corpus.

        Returns:
            ``(score, log_Z, node_marginals, expected_transitions)``, or None
            when the scaled recursion underflows. ``node_marginals`` is
            ``(n_tokens, K)`` in time-major order, in a buffer that the
            next call overwrites.
        """
        K, offsets, n_active = self.n_labels, self.offsets, self.n_active
        emissions = self._times_W(W)

        # the score of every true path, summed over the corpus
        score = emissions.ravel()[self._gold].sum()
        score += (self.observed_transitions * transitions).sum()

        # exponentials, in place; rows are shifted only when exp could overflow
        if -_SAFE_EXPONENT < emissions.min() and emissions.max() < _SAFE_EXPONENT:
            log_Z = 0.0
        else:
            shift = emissions.max(axis=1, keepdims=True)
            emissions -= shift
            log_Z = shift.sum()
        potentials = np.exp(emissions, out=emissions)
        transition_shift = transitions.max()
        M = np.exp(transitions - transition_shift)
        log_Z += self._n_edges * transition_shift

        # forward with scaling: each alpha row sums to one, scale keeps the sums;
        # a row that underflows to zero is caught below, not warned about
        # (the product goes to a scratch block first: numpy's matmul leaves
        # BLAS, several times slower, when its output shares alpha's memory)
        alpha = self._buffer("alpha", potentials.shape)
        scale = np.empty(self.n_tokens)
        ones = np.ones(K)
        scratch = np.empty((n_active[0], K))
        alpha[: n_active[0]] = potentials[: n_active[0]]
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            for t in range(len(n_active)):
                a, b, n = offsets[t - 1], offsets[t], n_active[t]
                block = alpha[b : b + n]
                if t > 0:
                    np.matmul(alpha[a : a + n], M, out=scratch[:n])
                    np.multiply(scratch[:n], potentials[b : b + n], out=block)
                np.matmul(block, ones, out=scale[b : b + n])
                block /= scale[b : b + n, None]
        if not (np.all(scale > 0) and np.all(np.isfinite(scale))):
            return None
        log_Z += np.log(scale).sum()

        # backward with the same scales; node marginals overwrite alpha in place
        node = alpha
        beta = np.ones((n_active[-1], K))
        pair_counts = np.zeros((K, K))
        for t in range(len(n_active) - 1, 0, -1):
            a, b, n = offsets[t - 1], offsets[t], n_active[t]
            node[b : b + n] *= beta
            weighted = potentials[b : b + n]
            weighted *= beta
            weighted /= scale[b : b + n, None]
            pair_counts += alpha[a : a + n].T @ weighted
            beta = np.ones((n_active[t - 1], K))
            np.matmul(weighted, M.T, out=beta[:n])
        node[: n_active[0]] *= beta
        expected_transitions = M * pair_counts
        return score, log_Z, node, expected_transitions

    def objective_and_gradient(self, w, c2=0.0):
        """The training objective and its gradient at ``w``.

        Args:
            w: ``(n_weights,)`` flat weights.
            c2: L2 coefficient.

        Returns:
            ``(f, g)``: ``f = sum_s -log p(y_s|x_s) + c2 * ||w||^2`` (float)
            and its gradient ``g`` of shape ``(n_weights,)``.
        """
        w = np.ascontiguousarray(w, dtype=np.float64)
        W, transitions = self._split(w)
        if not np.all(np.isfinite(w)):
            raise ValueError("w contains NaN or infinite values")
        terms = self.log_likelihood_terms(W, transitions)
        if terms is None:
            return self._reference(w, c2)
        score, log_Z, node, expected_transitions = terms

        # minimise -log p: expected minus observed counts, plus the L2 pull;
        # X.T @ (node - onehot(y)) is both state terms in one sparse product
        node.ravel()[self._gold] -= 1.0
        g = np.empty(self.n_weights)
        n = self.n_observations * self.n_labels
        self._transpose_times(node, out=g[:n].reshape(W.shape))
        np.subtract(expected_transitions, self.observed_transitions,
                    out=g[n:].reshape(transitions.shape))
        f = (log_Z - score) + c2 * float(w @ w)
        if c2:
            axpy(2.0 * c2, w, g)
        return float(f), g

    def _reference(self, w, c2):
        # extreme scores: the log-space per-sentence reference is exact
        from .train import corpus_objective

        restore = np.argsort(self.time_major)
        X_all, tags = self.X[restore], self._tags_tm[restore]
        bounds = np.concatenate([[0], np.cumsum(self.lengths)])
        Xs = [X_all[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        ys = [tags[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        return corpus_objective(w, Xs, ys, self.n_labels, c2)
