"""L-BFGS reaches the minimum that scipy's reaches, on known problems."""

import numpy as np
import pytest
from scipy.optimize import minimize

from crfteach.fast import CorpusBatch
from crfteach.optimize import lbfgs
from test_fast import random_corpus

RELATIVE = 1e-8


def quadratic(seed, n):
    """f(x) = 1/2 x'Ax - b'x with A positive definite; the minimum is A^-1 b."""
    rng = np.random.default_rng(seed)
    Q = rng.normal(size=(n, n))
    A = Q @ Q.T + n * np.eye(n)
    b = rng.normal(size=n)
    return (lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b)), np.linalg.solve(A, b)


@pytest.mark.parametrize("memory", [1, 3, 6])
def test_quadratic_minimum(memory):
    fun, x_star = quadratic(memory, 20)
    result = lbfgs(fun, np.zeros(20), memory=memory, gtol=1e-10, ftol=0.0)
    assert result.success
    np.testing.assert_allclose(result.x, x_star, atol=1e-8)


def test_crf_objective_matches_scipy():
    K = 3
    Xs, tags = random_corpus(11, [4, 1, 9, 6, 2, 12], K=K)
    batch = CorpusBatch(Xs, tags, K)

    def fun(w):
        return batch.objective_and_gradient(w, 0.1)

    w0 = np.zeros(batch.n_weights)
    ours = lbfgs(fun, w0, ftol=1e-14, gtol=1e-9)
    theirs = minimize(fun, w0, jac=True, method="L-BFGS-B",
                      options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 5000})
    assert ours.fun == pytest.approx(theirs.fun, rel=RELATIVE)
    np.testing.assert_allclose(ours.x, theirs.x, atol=1e-5)


def test_is_deterministic():
    fun, _ = quadratic(0, 10)
    first = lbfgs(fun, np.ones(10))
    second = lbfgs(fun, np.ones(10))
    assert first.nit == second.nit
    np.testing.assert_array_equal(first.x, second.x)


def test_stops_at_max_iter_without_success():
    fun, _ = quadratic(1, 30)
    result = lbfgs(fun, np.zeros(30), max_iter=2, ftol=0.0, gtol=0.0)
    assert (result.nit, result.success, result.message) == (2, False, "reached max_iter")


def test_starts_at_the_minimum():
    fun, x_star = quadratic(2, 5)
    result = lbfgs(fun, x_star, gtol=1e-6)
    assert result.nit == 0 and result.nfev == 1 and result.success


def test_callback_sees_every_iteration():
    fun, _ = quadratic(3, 8)
    seen = []
    result = lbfgs(fun, np.zeros(8), callback=lambda k, x, f, g: seen.append((k, f)))
    assert [k for k, _ in seen] == list(range(0, result.nit + 1))
    values = [f for _, f in seen]
    assert all(b <= a for a, b in zip(values, values[1:]))


def test_period_test_stops_when_progress_stalls():
    # a quadratic reached long before: ten iterations gain nothing more
    fun, _ = quadratic(4, 12)
    result = lbfgs(fun, np.zeros(12), ftol=0.0, gtol=0.0, period=10, delta=1e-5)
    assert result.success and "over 10 iterations" in result.message
    exact = lbfgs(fun, np.zeros(12), ftol=0.0, gtol=1e-12)
    assert result.fun == pytest.approx(exact.fun, rel=1e-5)


def test_memory_must_be_positive():
    fun, _ = quadratic(5, 3)
    with pytest.raises(ValueError, match="memory must be a positive integer"):
        lbfgs(fun, np.zeros(3), memory=0)
