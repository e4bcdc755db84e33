"""Shared tolerances, seeds and random score generators for the tests.

Test modules import the names they need: ``from conftest import EXACT``.
"""

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# forward-backward against enumeration: the same sums taken in another order
EXACT = 1e-10

# analytic gradients against central differences (step 1e-5, error O(step**2))
GRADIENT_RTOL = 1e-6

# the one seed every seeded random draw starts from
SEED = 20240917

# two tagged sentences the training, model and CLI tests build on
TOY_SENTENCES = """\
张 B-PER
三 I-PER
去 O
北 B-LOC
京 I-LOC

李 B-PER
四 I-PER
在 O
上 B-LOC
海 I-LOC
"""

# the machine is shared, so no per-example deadline; the same examples every
# run, so a failure in CI is a failure on every machine
settings.register_profile("crfteach", deadline=None, derandomize=True)
settings.load_profile("crfteach")


def random_scores(rng, T, K, scale=1.0, start_end=True):
    """Normal random scores of one sentence.

    Args:
        rng: a ``numpy.random.Generator``.
        T, K: the number of positions and of tags.
        scale: the standard deviation of every score.
        start_end: draw start and end scores too, else leave them None.

    Returns:
        ``(emissions (T, K), transitions (K, K), start (K,), end (K,))``.
    """
    emissions = rng.normal(scale=scale, size=(T, K))
    transitions = rng.normal(scale=scale, size=(K, K))
    if not start_end:
        return emissions, transitions, None, None
    start = rng.normal(scale=scale, size=K)
    end = rng.normal(scale=scale, size=K)
    return emissions, transitions, start, end


@pytest.fixture
def rng():
    """A generator seeded with ``SEED``, new for every test."""
    return np.random.default_rng(SEED)


@st.composite
def score_arrays(draw, max_T=6, max_K=4, bound=10.0):
    """Hypothesis strategy: ``(emissions, transitions, start, end)``.

    Scores are floats in ``[-bound, bound]`` (zeros and repeats included, so
    ties occur); start and end are None in about half of the draws.
    """
    T = draw(st.integers(1, max_T))
    K = draw(st.integers(1, max_K))
    elements = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
    emissions = draw(hnp.arrays(np.float64, (T, K), elements=elements))
    transitions = draw(hnp.arrays(np.float64, (K, K), elements=elements))
    if not draw(st.booleans()):
        return emissions, transitions, None, None
    start = draw(hnp.arrays(np.float64, (K,), elements=elements))
    end = draw(hnp.arrays(np.float64, (K,), elements=elements))
    return emissions, transitions, start, end


# the grader's fixture notebooks are input for crfteach.grade (some fail on
# purpose); nbval must not run them
collect_ignore_glob = ["grade_fixtures/*.ipynb"]
