"""Checking one function against the crfteach reference, case by case.

Every function is run on the same seeded cases, small ones first, and its
answer compared with ``crfteach.inference``. The first case that differs is
reported with, when the answer is a classic mistake, a hint: the answer is
recognised by recomputing the reference on the input the mistake amounts to
(``transitions.T``, ``emissions[0]`` left out) and comparing again.
"""

import functools
import sys
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from .. import inference
from .running import call_with_time_limit, error_text, quiet

# the functions a learner may define, in the order of the derivation
FUNCTIONS = ("score", "forward", "log_partition", "backward", "marginals")

# seconds allowed for one call of a learner's function
TIME_LIMIT = 10.0

# a learner's answer matches the reference within these (float64, log space)
RTOL = 1e-6
ATOL = 1e-8

# the cases: (T, K, kind); small ones first, so a failure shows a small case
SEED = 6
LARGE_SCORE = 500.0
CASE_SHAPES = (
    (1, 1, "small"),
    (1, 3, "small"),
    (4, 1, "small"),
    (2, 2, "small"),
    (3, 3, "small"),
    (5, 4, "small"),
    (8, 3, "small"),
    (6, 3, "large"),
    (2000, 5, "long"),
)
_KIND_LABELS = {
    "small": "scores ~ N(0, 1)",
    "large": f"scores up to +-{LARGE_SCORE:g}",
    "long": "a long sentence",
}

_HINTS = {
    "transposed": (
        "transposed transitions - your answer equals the reference computed "
        "with transitions.T; transitions[i, j] scores tag i at t-1 followed "
        "by tag j at t, so the previous tag is the first index"
    ),
    "wrong_axis": (
        "transposed transitions, summed over the wrong axis - your answer "
        "equals the recursion whose logsumexp runs over the other index of "
        "transitions[i, j] (i: tag at t-1, j: tag at t); forward sums over "
        "the previous tag i, backward over the next tag j"
    ),
    "first_emission": (
        "missing first emission - your answer equals the reference with "
        "emissions[0] left out; position 0 scores its emission too "
        "(log_alpha[0] = emissions[0], score adds emissions[0, tags[0]])"
    ),
    "overflow": (
        "overflow in probability space - nan or inf on large scores but "
        "correct on small ones; exp(500) * exp(500) overflows float64, so "
        "stay in log space and combine with logsumexp"
    ),
    "not_log": (
        "not in log space - your answer equals exp(expected); return the "
        "log (log_alpha, log_beta, log Z), not the probability-space value"
    ),
    "last_row": (
        "log_beta[T - 1] must be all zeros: nothing is left to score after "
        "the last position, and log 1 = 0"
    ),
    "slow": (
        "the other cases passed, so the long sentence (T = 2000) is too slow; "
        "a recursion over positions costs T * K * K, enumerating K**T paths "
        "never finishes"
    ),
}


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class _Case:
    """One sentence's scores and a tag path, with its place in the list."""

    number: int
    kind: str
    emissions: np.ndarray
    transitions: np.ndarray
    tags: tuple

    def describe(self):
        T, K = self.emissions.shape
        label = _KIND_LABELS[self.kind]
        return f"case {self.number}/{len(CASE_SHAPES)} (T={T}, K={K}, {label})"


@functools.lru_cache(maxsize=1)
def _cases():
    """The grading cases, drawn once from ``SEED``."""
    rng = np.random.default_rng(SEED)
    cases = []
    for number, (T, K, kind) in enumerate(CASE_SHAPES, start=1):

        # normal scores, or uniform ones as large as +-LARGE_SCORE
        if kind == "large":
            emissions = rng.uniform(-LARGE_SCORE, LARGE_SCORE, size=(T, K))
            transitions = rng.uniform(-LARGE_SCORE, LARGE_SCORE, size=(K, K))
        else:
            emissions = rng.normal(size=(T, K))
            transitions = rng.normal(size=(K, K))
        tags = tuple(int(tag) for tag in rng.integers(0, K, size=T))
        cases.append(_Case(number, kind, emissions, transitions, tags))
    return tuple(cases)


def case(number):
    """The scores of one grading case, to reproduce a failure by hand.

    Args:
        number: the case number printed by the grader, 1-based.

    Returns:
        ``(emissions (T, K), transitions (K, K), tags (T,) list of int)``,
        fresh copies.
    """
    if not 1 <= number <= len(CASE_SHAPES):
        raise ValueError(f"number must be in 1..{len(CASE_SHAPES)}, got {number}")
    chosen = _cases()[number - 1]
    return chosen.emissions.copy(), chosen.transitions.copy(), list(chosen.tags)


# ------------------------------------------- what each function must return


def _reference_score(emissions, transitions, tags):
    return (np.float64(inference.score(emissions, transitions, tags)),)


def _reference_log_partition(emissions, transitions, tags):
    return (np.float64(inference.log_partition(emissions, transitions)),)


def _reference_forward(emissions, transitions, tags):
    return (inference.forward(emissions, transitions),)


def _reference_backward(emissions, transitions, tags):
    return (inference.backward(emissions, transitions),)


def _reference_marginals(emissions, transitions, tags):
    return inference.marginals(emissions, transitions)


@dataclass(frozen=True)
class _Spec:
    """How to call one function, its reference, and the names of its parts."""

    takes_tags: bool
    reference: object
    parts: tuple
    shapes: tuple


_SCALAR = "a single number"
_NODES = "(T, K): one row per position, one column per tag"
_SPECS = {
    "score": _Spec(True, _reference_score, ("score",), (_SCALAR,)),
    "forward": _Spec(False, _reference_forward, ("log_alpha",), (_NODES,)),
    "log_partition": _Spec(
        False, _reference_log_partition, ("log_Z",), (_SCALAR,)
    ),
    "backward": _Spec(False, _reference_backward, ("log_beta",), (_NODES,)),
    "marginals": _Spec(
        False,
        _reference_marginals,
        ("node_marginals", "edge_marginals"),
        (_NODES, "(T - 1, K, K): one K x K matrix per pair of neighbours"),
    ),
}


@functools.lru_cache(maxsize=None)
def _expected(name, number):
    """The reference answer of function ``name`` on case ``number``."""
    chosen = _cases()[number - 1]
    return _SPECS[name].reference(chosen.emissions, chosen.transitions, chosen.tags)


# ----------------------------------------------------- judging one answer


class _BadAnswer(Exception):
    """The answer cannot be compared: wrong type or wrong shape."""

    def __init__(self, message, shape_problem=None):
        super().__init__(message)
        self.shape_problem = shape_problem


def _as_parts(value, expected, names):
    """The answer as float64 arrays shaped like ``expected``, or _BadAnswer."""
    if len(expected) > 1:
        if not isinstance(value, (tuple, list)) or len(value) != len(expected):
            raise _BadAnswer(
                f"returned {_kind_of(value)}, expected a pair ({', '.join(names)})"
            )
        values = value
    elif isinstance(value, tuple):
        raise _BadAnswer(f"returned a tuple of {len(value)}, expected one answer")
    else:
        values = (value,)

    parts = []
    for name, got, reference in zip(names, values, expected):
        try:
            array = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            raise _BadAnswer(
                f"{name} is {_kind_of(got)}, not an array of numbers"
            ) from None

        # a number may come back as a 0-d or a 1-element array
        if reference.ndim == 0 and array.size == 1:
            array = array.reshape(())
        if array.shape != reference.shape:
            raise _BadAnswer(
                f"{name} has shape {array.shape}, expected {reference.shape}",
                shape_problem=(name, array.shape, reference.shape),
            )
        parts.append(array)
    return tuple(parts)


def _kind_of(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def _same(parts, expected):
    return all(
        got.shape == reference.shape
        and np.allclose(got, reference, rtol=RTOL, atol=ATOL)
        for got, reference in zip(parts, expected)
    )


def _difference(parts, expected, names):
    """The first entry that differs, as one short phrase, or None."""
    for name, got, reference in zip(names, parts, expected):
        wrong = ~np.isclose(got, reference, rtol=RTOL, atol=ATOL)
        if not wrong.any():
            continue
        if reference.ndim == 0:
            return f"{name} = {float(got):.6g}, expected {float(reference):.6g}"
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        position = ", ".join(str(i) for i in index)
        return (
            f"{name}[{position}] = {got[index]:.6g}, expected "
            f"{reference[index]:.6g} ({int(wrong.sum())} of {wrong.size} entries "
            f"of the {reference.shape} array differ)"
        )
    return None


def _forward_wrong_axis(emissions, transitions, tags=None):
    """forward with logsumexp over the current tag j instead of the previous i."""
    log_alpha = np.empty(emissions.shape)
    log_alpha[0] = emissions[0]
    for t in range(1, len(emissions)):
        paths = log_alpha[t - 1][:, None] + transitions
        log_alpha[t] = logsumexp(paths, axis=1) + emissions[t]
    return (log_alpha,)


def _backward_wrong_axis(emissions, transitions, tags=None):
    """backward with logsumexp over the current tag i instead of the next j."""
    log_beta = np.zeros(emissions.shape)
    for t in range(len(emissions) - 2, -1, -1):
        ahead = transitions + (emissions[t + 1] + log_beta[t + 1])[None, :]
        log_beta[t] = logsumexp(ahead, axis=0)
    return (log_beta,)


def _log_partition_wrong_axis(emissions, transitions, tags=None):
    return (np.float64(logsumexp(_forward_wrong_axis(emissions, transitions)[0][-1])),)


_WRONG_AXIS = {
    "forward": _forward_wrong_axis,
    "backward": _backward_wrong_axis,
    "log_partition": _log_partition_wrong_axis,
}


def _mistaken_answers(name, chosen):
    """What each classic mistake would answer on ``chosen``: (hint key, parts)."""
    reference = _SPECS[name].reference
    T, K = chosen.emissions.shape
    emissions, transitions, tags = chosen.emissions, chosen.transitions, chosen.tags

    # transitions read the wrong way round: transposed, or summed wrongly
    if K > 1:
        yield "transposed", reference(emissions, transitions.T, tags)
    if K > 1 and T > 1 and name in _WRONG_AXIS:
        yield "wrong_axis", _WRONG_AXIS[name](emissions, transitions)

    # position 0 without its emission, or left out altogether
    zeroed = emissions.copy()
    zeroed[0] = 0.0
    yield "first_emission", reference(zeroed, transitions, tags)
    if T > 1:
        yield "first_emission", reference(emissions[1:], transitions, tags[1:])


def _recognise(name, chosen, value, expected):
    """The hint for a classic mistake the answer shows, or None."""
    spec = _SPECS[name]
    try:
        parts = _as_parts(value, expected, spec.parts)
    except _BadAnswer:
        parts = None

    # the answer equals what a mistake would give
    for key, mistaken in _mistaken_answers(name, chosen):
        try:
            candidate = _as_parts(value, mistaken, spec.parts)
        except _BadAnswer:
            continue
        if _same(candidate, mistaken):
            return _HINTS[key]
    if parts is None:
        return None

    # nan or inf where the reference is finite, on large scores only
    blown_up = any(not np.all(np.isfinite(part)) for part in parts)
    if blown_up and chosen.kind != "small":
        return _HINTS["overflow"]

    # a last row of log beta that is not log 1, probabilities instead of logs
    if name == "backward" and not np.allclose(parts[0][-1], 0.0, atol=ATOL):
        return _HINTS["last_row"]
    if name in ("forward", "backward", "log_partition"):
        with np.errstate(over="ignore"):
            if _same(parts, tuple(np.exp(part) for part in expected)):
                return _HINTS["not_log"]
    return None


def _shape_hint(name, problem):
    """The hint for an answer of the wrong shape."""
    part, got, wanted = problem
    spec = _SPECS[name]
    text = f"wrong shape - {part} should be {spec.shapes[spec.parts.index(part)]}"
    if len(got) == len(wanted) > 1 and got == wanted[::-1]:
        text += "; yours looks transposed"
    elif len(got) == len(wanted) > 1 and got[0] == wanted[0] - 1:
        text += "; yours is one row short"
    elif len(got) == len(wanted) > 1 and got[0] == wanted[0] + 1:
        text += "; yours has one row too many"
    return text


def _is_reference(function):
    """Whether ``function`` is crfteach's own code, imported, not written."""
    module = getattr(function, "__module__", None) or ""
    return module == "crfteach" or module.startswith("crfteach.")


def _judge(name, function, time_limit):
    """(passed, detail, hint) of one function over every case."""
    if not callable(function):
        return False, f"{name} is {_kind_of(function)}, not a function", None
    if _is_reference(function):
        return False, f"this is {function.__module__}.{name} itself, imported", (
            "the grader checks your own code: remove the import from crfteach"
        )

    spec = _SPECS[name]
    for chosen in _cases():
        arguments = [chosen.emissions.copy(), chosen.transitions.copy()]
        if spec.takes_tags:
            arguments.append(list(chosen.tags))
        with quiet():
            outcome = call_with_time_limit(function, arguments, time_limit)

        # no answer: too slow, an exception, or a stub
        where = chosen.describe()
        if outcome.timed_out:
            detail = f"{where}: no answer within the time limit of {time_limit:g} s"
            return False, detail + " (stopped)", (
                _HINTS["slow"] if chosen.kind == "long" else None
            )
        first = chosen.number == 1
        if isinstance(outcome.error, NotImplementedError) and first:
            return False, "not implemented yet (raises NotImplementedError)", None
        if outcome.error is not None:
            return False, f"{where}: {error_text(outcome.error)}", None
        if outcome.value is None:
            if first:
                return False, "not implemented yet (returns None)", None
            return False, f"{where}: returned None", None

        # an answer: compare it with the reference
        expected = _expected(name, chosen.number)
        try:
            parts = _as_parts(outcome.value, expected, spec.parts)
        except _BadAnswer as error:
            hint = _recognise(name, chosen, outcome.value, expected)
            if hint is None and error.shape_problem:
                hint = _shape_hint(name, error.shape_problem)
            return False, f"{where}: {error}", hint
        difference = _difference(parts, expected, spec.parts)
        if difference is not None:
            hint = _recognise(name, chosen, outcome.value, expected)
            return False, f"{where}: {difference}", hint

    largest_T = max(shape[0] for shape in CASE_SHAPES)
    return True, f"{len(CASE_SHAPES)} cases, T from 1 to {largest_T}", None


def line(status, name, detail):
    """One report line: status, the function's name, the detail."""
    return f"{status}  {name:<14}{detail}"


def check(name, function, time_limit=TIME_LIMIT, file=None):
    """Check one of your functions against the crfteach reference.

    Runs ``function`` on every grading case, each call stopped after
    ``time_limit`` seconds, and prints one line: PASS, or FAIL with the
    first case that differs and, for a classic mistake, a hint line.

    Args:
        name: which function it is, one of ``FUNCTIONS``.
        function: your implementation, with that function's signature.
        time_limit: seconds allowed for one call.
        file: where to print; ``sys.stdout`` when None.

    Returns:
        True when every case matches, else False.
    """
    if name not in _SPECS:
        raise ValueError(f"name must be one of {', '.join(FUNCTIONS)}; got {name!r}")
    if not time_limit > 0:
        raise ValueError(f"time_limit must be positive, got {time_limit}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        passed, detail, hint = _judge(name, function, time_limit)
    out = sys.stdout if file is None else file
    print(line("PASS" if passed else "FAIL", name, detail), file=out)
    if hint:
        print(f"      hint: {hint}", file=out)
    return passed


