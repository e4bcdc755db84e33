"""crfteach: the gradient of a linear-chain CRF, derived and checked.

The score level works on dense arrays (``emissions (T, K)``,
``transitions (K, K)``); the feature level turns CRF++ templates into
sparse design matrices and named weights such as ``B-PER::U02:张``.
"""

from .brute import BruteForce, brute_force
from .features import FeatureIndex, state_name, transition_name
from .gradient import (
    dict_gradient,
    dict_scores,
    finite_difference,
    matrix_gradient,
    matrix_log_likelihood,
)
from .inference import (
    backward,
    forward,
    log_likelihood,
    log_partition,
    marginals,
    score,
    viterbi,
)
from .templates import Template, parse_template, read_template

__version__ = "0.1.0"

__all__ = [
    "BruteForce",
    "FeatureIndex",
    "Template",
    "backward",
    "brute_force",
    "dict_gradient",
    "dict_scores",
    "finite_difference",
    "forward",
    "log_likelihood",
    "log_partition",
    "marginals",
    "matrix_gradient",
    "matrix_log_likelihood",
    "parse_template",
    "read_template",
    "score",
    "state_name",
    "transition_name",
    "viterbi",
]
