"""From observations to weights: indexes, the design matrix, feature names.

A sentence's observations (see :mod:`crfteach.templates`) become a sparse
indicator matrix ``X`` of shape ``(T, n_observations)``. With the state
weights ``W`` of shape ``(n_observations, K)``, one weight per
(observation, label) pair as in CRF++, the emission scores are

    emissions = X @ W        # (T, K)

and the transition weights are a ``(K, K)`` matrix. The readable name of
``W[o, k]`` is ``LABEL::OBSERVATION``, e.g. ``B-PER::U02:张``; the name of
``transitions[i, j]`` is ``PREV->CUR``, e.g. ``B-PER->I-PER``.

All weights live in one flat vector ``w`` (what the optimiser sees):
``W`` row by row, then ``transitions`` row by row.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["FeatureIndex", "state_name", "transition_name"]


def state_name(label, observation):
    """The name of a state feature, e.g. ``B-PER::U02:张``."""
    return f"{label}::{observation}"


def transition_name(previous, current):
    """The name of a transition feature, e.g. ``B-PER->I-PER``."""
    return f"{previous}->{current}"


class FeatureIndex:
    """Numbers for labels and observations, and the weights they define.

    Args:
        labels: the label strings, in the order of the tag indices.
        observations: the observation strings, in the order of ``W``'s rows.

    Build one from data with :meth:`from_sentences`.
    """

    def __init__(self, labels, observations):
        self.labels = list(labels)
        self.observations = list(observations)
        self.label_ids = {label: k for k, label in enumerate(self.labels)}
        self.observation_ids = {o: i for i, o in enumerate(self.observations)}
        if len(self.label_ids) != len(self.labels):
            raise ValueError("labels must not repeat")
        if len(self.observation_ids) != len(self.observations):
            raise ValueError("observations must not repeat")
        if not self.labels:
            raise ValueError("there must be at least one label")

    @classmethod
    def from_sentences(cls, observations, tags, labels=None):
        """Index every observation and label that occurs in a corpus.

        Args:
            observations: per sentence, per position, a list of observation
                strings (what :meth:`Template.observations` returns).
            tags: per sentence, the list of label strings.
            labels: optional fixed label order; by default labels are
                numbered in order of first appearance.

        Returns:
            A :class:`FeatureIndex`.

        Raises:
            ValueError: if the numbers of sentences, or of positions in a
                sentence, differ between ``observations`` and ``tags``.
        """
        observations, tags = list(observations), list(tags)
        if len(observations) != len(tags):
            raise ValueError(
                f"observations has {len(observations)} sentences "
                f"but tags has {len(tags)}"
            )

        seen_labels = dict.fromkeys(labels or [])
        seen_observations = {}
        for s, (sentence, sentence_tags) in enumerate(zip(observations, tags)):
            if len(sentence) != len(sentence_tags):
                raise ValueError(
                    f"sentence {s}: observations has {len(sentence)} positions "
                    f"but tags has {len(sentence_tags)}"
                )
            for position, label in zip(sentence, sentence_tags):
                seen_labels.setdefault(label)
                for o in position:
                    seen_observations.setdefault(o)
        return cls(list(seen_labels), list(seen_observations))

    @property
    def n_labels(self):
        """K, the number of labels."""
        return len(self.labels)

    @property
    def n_observations(self):
        """The number of distinct observations, the rows of ``W``."""
        return len(self.observations)

    @property
    def n_weights(self):
        """The number of weights: ``n_observations * K + K * K``."""
        K = self.n_labels
        return self.n_observations * K + K * K

    def encode_tags(self, tags):
        """Label strings to an int array; unknown labels raise ``ValueError``."""
        try:
            return np.array([self.label_ids[label] for label in tags], dtype=np.int64)
        except KeyError as error:
            raise ValueError(
                f"unknown label {error.args[0]!r}; known labels: {self.labels}"
            ) from None

    def design_matrix(self, observations):
        """The sparse indicator matrix of one sentence.

        Args:
            observations: ``T`` lists of observation strings. Observations
                not in the index are ignored (they have no weight).

        Returns:
            ``(T, n_observations)`` scipy.sparse CSR matrix of float64;
            ``X[t, o]`` counts how often observation ``o`` occurs at ``t``.
        """
        T = len(observations)
        rows, cols = [], []
        for t, position in enumerate(observations):
            for o in position:
                i = self.observation_ids.get(o)
                if i is not None:
                    rows.append(t)
                    cols.append(i)
        data = np.ones(len(rows))
        X = sp.csr_matrix((data, (rows, cols)), shape=(T, self.n_observations))
        X.sum_duplicates()
        return X

    def split(self, w):
        """The flat weight vector ``w`` as ``(W (n_obs, K), transitions (K, K))``."""
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (self.n_weights,):
            raise ValueError(f"w must have shape ({self.n_weights},), got {w.shape}")
        K = self.n_labels
        n = self.n_observations * K
        return w[:n].reshape(self.n_observations, K), w[n:].reshape(K, K)

    def join(self, W, transitions):
        """``W`` and ``transitions`` as one flat vector ``w``."""
        return np.concatenate([np.ravel(W), np.ravel(transitions)])

    def names(self):
        """The name of every weight, in the order of the flat vector ``w``."""
        states = [state_name(lab, o) for o in self.observations for lab in self.labels]
        moves = [transition_name(a, b) for a in self.labels for b in self.labels]
        return states + moves

    def to_dict(self, W, transitions, keep_zeros=False):
        """Weights (or a gradient) in matrix form as a dict keyed by name.

        Only non-zero entries are kept unless ``keep_zeros``.
        """
        out = {}
        for (o, k), value in np.ndenumerate(W):
            if keep_zeros or value != 0:
                out[state_name(self.labels[k], self.observations[o])] = float(value)
        for (i, j), value in np.ndenumerate(transitions):
            if keep_zeros or value != 0:
                out[transition_name(self.labels[i], self.labels[j])] = float(value)
        return out

    def from_dict(self, weights):
        """A dict keyed by feature name as ``(W, transitions)``; absent is 0.

        Raises:
            ValueError: if a name is not a feature of this index.
        """
        W = np.zeros((self.n_observations, self.n_labels))
        transitions = np.zeros((self.n_labels, self.n_labels))
        for name, value in weights.items():
            if "::" in name:
                label, observation = name.split("::", 1)
                if label in self.label_ids and observation in self.observation_ids:
                    W[self.observation_ids[observation], self.label_ids[label]] = value
                    continue
            elif "->" in name:
                previous, current = name.split("->", 1)
                if previous in self.label_ids and current in self.label_ids:
                    i, j = self.label_ids[previous], self.label_ids[current]
                    transitions[i, j] = value
                    continue
            raise ValueError(f"{name!r} is not a feature of this index")
        return W, transitions

    def __repr__(self):
        return (
            f"FeatureIndex({self.n_labels} labels, {self.n_observations} observations, "
            f"{self.n_weights} weights)"
        )
