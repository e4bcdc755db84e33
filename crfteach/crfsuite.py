"""CRFsuite as an outside reference for the training objective.

CRFsuite (through python-crfsuite, a test dependency) minimises the same
objective as :func:`crfteach.train.train`,

    sum_s -log p(y_s | x_s) + c2 * ||w||^2,

when it gets the same observations as attributes and is told to create a
weight for every (attribute, label) pair and every label pair
(``feature.possible_states=1``, ``feature.possible_transitions=1``,
``c1=0``). Its L-BFGS adds ``c2 * ||w||^2`` to the loss and ``2 * c2 * w``
to the gradient, the convention crfteach follows.

:func:`train_crfsuite` trains it; :func:`crfsuite_weights` reads its
weights back into crfteach's ``W`` and ``transitions`` so that crfteach can
evaluate CRFsuite's optimum with its own objective.
"""

import os
import tempfile
import time
from collections import Counter

import numpy as np

__all__ = ["crfsuite_items", "crfsuite_weights", "train_crfsuite"]

# CRFsuite's L-BFGS stops when the objective gains less than DELTA
# (relative) over PERIOD iterations or the gradient is below EPSILON
# (relative to the weights); its defaults are 1e-5, 10 and 1e-5
DELTA = 1e-10
PERIOD = 10
EPSILON = 1e-10


def crfsuite_items(template, rows):
    """The attributes of one sentence for CRFsuite.

    Args:
        template: a :class:`crfteach.Template`.
        rows: ``T`` token rows (no tag).

    Returns:
        list of ``T`` dicts from observation string (e.g. ``"U02:张"``) to its
        count at that position, as in crfteach's design matrix.
    """
    return [dict(Counter(position)) for position in template.observations(rows)]


def train_crfsuite(sentences, template, c2=1.0, max_iterations=100_000,
                   delta=DELTA, period=PERIOD, epsilon=EPSILON, model_path=None,
                   tag=()):
    """Train CRFsuite on the features crfteach would use.

    Args:
        sentences: objects with ``rows`` and ``tags`` (as for ``train``).
        template: a :class:`crfteach.Template`.
        c2: the L2 coefficient (``c1`` is 0).
        max_iterations, delta, period, epsilon: CRFsuite's L-BFGS settings.
        model_path: where CRFsuite writes its model; a temporary file that
            is removed afterwards when None.
        tag: sentences (objects with ``rows``) for CRFsuite's own tagger.

    Returns:
        dict with ``loss`` (CRFsuite's own objective at its last iteration,
        printed to 6 decimals), ``iterations``, ``n_features`` (what its
        feature generation reported), ``seconds``, ``labels`` and ``info``
        (``Tagger.info()``: ``state_features`` and ``transitions``) and
        ``predicted`` (CRFsuite's tags of the ``tag`` sentences).
    """
    import pycrfsuite

    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    for sentence in sentences:
        trainer.append(crfsuite_items(template, sentence.rows), list(sentence.tags))
    trainer.set_params({
        "c1": 0.0,
        "c2": float(c2),
        "feature.possible_states": 1,
        "feature.possible_transitions": 1,
        "max_iterations": int(max_iterations),
        "delta": float(delta),
        "period": int(period),
        "epsilon": float(epsilon),
    })

    # train into a file, then read the weights back through a Tagger
    directory = None
    if model_path is None:
        directory = tempfile.TemporaryDirectory()
        model_path = os.path.join(directory.name, "model.crfsuite")
    try:
        started = time.perf_counter()
        trainer.train(model_path)
        seconds = time.perf_counter() - started
        tagger = pycrfsuite.Tagger()
        tagger.open(model_path)
        info = tagger.info()
        labels = tagger.labels()
        predicted = [tagger.tag(crfsuite_items(template, s.rows)) for s in tag]
        tagger.close()
    finally:
        if directory is not None:
            directory.cleanup()

    log = trainer.logparser
    return {
        "loss": log.last_iteration["loss"],
        "iterations": len(log.iterations),
        "n_features": log.featgen_num_features,
        "seconds": seconds,
        "labels": labels,
        "info": info,
        "predicted": predicted,
    }


def crfsuite_weights(info, index):
    """CRFsuite's learned weights in crfteach's layout.

    Args:
        info: ``Tagger.info()`` of a CRFsuite model (its weights are printed
            to 6 decimals by CRFsuite's dump; weights it dropped are 0).
        index: the :class:`crfteach.FeatureIndex` of the same training data.

    Returns:
        ``(W (n_observations, K), transitions (K, K))``.

    Raises:
        ValueError: if CRFsuite has an attribute or label the index lacks.
    """
    W = np.zeros((index.n_observations, index.n_labels))
    transitions = np.zeros((index.n_labels, index.n_labels))
    try:
        for (observation, label), value in info.state_features.items():
            W[index.observation_ids[observation], index.label_ids[label]] = value
        for (previous, current), value in info.transitions.items():
            transitions[index.label_ids[previous], index.label_ids[current]] = value
    except KeyError as error:
        raise ValueError(f"CRFsuite has {error.args[0]!r}, which crfteach's index "
                         "lacks: were they trained on the same data?") from None
    return W, transitions
