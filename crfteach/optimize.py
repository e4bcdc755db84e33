"""L-BFGS in numpy, for the training objective.

Limited-memory BFGS (Liu and Nocedal, 1989) keeps the last ``memory``
steps ``s = w_new - w`` and gradient changes ``y = g_new - g`` and turns
the gradient into a quasi-Newton direction with the two-loop recursion.
It is what CRF++ and CRFsuite train with.

Why not ``scipy.optimize.minimize(method="L-BFGS-B")``: its bound handling
costs tens of milliseconds per iteration on a million weights, more than
the objective itself once that is fast (chapter "Making it fast"); the
training objective has no bounds, so the plain method is enough. The line
search backtracks from the unit step with quadratic interpolation until the
Armijo condition holds; the objective is convex, so with ``c2 > 0`` every
accepted step has ``s . y > 0`` and the curvature pairs stay valid.

Deterministic: the same function and start give the same iterates.
"""

from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.linalg.blas import daxpy

__all__ = ["LBFGSResult", "axpy", "lbfgs"]

# sufficient decrease: f(w + a d) <= f(w) + ARMIJO * a * g.d
ARMIJO = 1e-4


def axpy(a, x, y):
    """``y += a * x`` in place (BLAS daxpy): no temporary the size of ``x``.

    A million weights make every temporary vector 10 MB, and numpy's
    ``y += a * x`` makes one; the two-loop recursion does this twelve times
    an iteration.
    """
    return daxpy(x, y, a=a)


@dataclass
class LBFGSResult:
    """What :func:`lbfgs` returns.

    Attributes:
        x: the final point.
        fun: the objective there.
        jac: the gradient there.
        nit: iterations taken.
        nfev: objective evaluations.
        success: True when a convergence test stopped the run.
        message: why it stopped.
    """

    x: np.ndarray
    fun: float
    jac: np.ndarray
    nit: int
    nfev: int
    success: bool
    message: str


def _direction(g, pairs):
    """-H g by the two-loop recursion over the stored ``(s, y, rho)`` pairs."""
    q = -g
    alphas = []
    for s, y, rho in reversed(pairs):
        alpha = rho * (s @ q)
        axpy(-alpha, y, q)
        alphas.append(alpha)

    # the initial Hessian: the scaling of the newest pair, gamma = s.y / y.y
    if pairs:
        s, y, rho = pairs[-1]
        q *= 1.0 / (rho * (y @ y))
    for (s, y, rho), alpha in zip(pairs, reversed(alphas)):
        beta = rho * (y @ q)
        axpy(alpha - beta, s, q)
    return q


def lbfgs(fun, x0, memory=6, max_iter=1000, ftol=1e-10, gtol=1e-6,
          period=0, delta=1e-5, max_linesearch=20, callback=None):
    """Minimise a smooth function with L-BFGS.

    Args:
        fun: ``x -> (f, g)``, the objective (float) and its gradient (``(n,)``),
            a new array on every call (lbfgs reuses it as workspace).
        x0: ``(n,)`` starting point.
        memory: the number of ``(s, y)`` pairs kept.
        max_iter: the largest number of iterations.
        ftol: stop when an iteration's relative decrease
            ``(f_k - f_k+1) / max(|f_k|, |f_k+1|, 1)`` is at most this.
        gtol: stop when every gradient component is at most this in size.
        period, delta: when ``period > 0``, also stop when the objective has
            decreased by at most ``delta`` relative over the last ``period``
            iterations (CRFsuite's test, with its defaults 10 and 1e-5).
        max_linesearch: evaluations allowed in one line search.
        callback: called as ``callback(k, x, f, g)`` at the start (``k = 0``)
            and after each iteration ``k``.

    Returns:
        An :class:`LBFGSResult`.
    """
    if not (isinstance(memory, int) and memory >= 1):
        raise ValueError(f"memory must be a positive integer, got {memory!r}")
    x = np.array(x0, dtype=np.float64)
    f, g = fun(x)
    nfev = 1
    pairs = deque(maxlen=memory)
    if callback is not None:
        callback(0, x, f, g)
    history = deque([f], maxlen=period + 1)
    if np.abs(g).max() <= gtol:
        return LBFGSResult(x, f, g, 0, nfev, True, "gradient below gtol at the start")

    message, success, k = "reached max_iter", False, 0
    for k in range(1, max_iter + 1):

        # quasi-Newton direction; the first step is scaled to unit length
        d = _direction(g, pairs)
        slope = g @ d

        # the oldest pair has served its last direction: let it go now, not
        # after the line search, so its two vectors are free while it runs
        if len(pairs) == memory:
            pairs.popleft()
        if slope >= 0:
            pairs.clear()
            d, slope = -g, -(g @ g)
        step = 1.0 if pairs else 1.0 / np.linalg.norm(g)

        # backtrack until the decrease is sufficient
        for _ in range(max_linesearch):
            x_new = axpy(step, d, x.copy())
            f_new, g_new = fun(x_new)
            nfev += 1
            if np.isfinite(f_new) and f_new <= f + ARMIJO * step * slope:
                break
            # minimiser of the quadratic through f, slope and f_new, kept sane
            shrink = -slope * step / (2.0 * (f_new - f - slope * step))
            step *= min(max(shrink, 0.1), 0.5) if np.isfinite(shrink) else 0.1
        else:
            message = "the line search found no decrease"
            break

        # the new curvature pair, s = step d and y = g_new - g, stored in the
        # buffers of d and g (a million weights make each vector count)
        s = d
        s *= step
        y = np.subtract(g_new, g, out=g)
        sy = s @ y
        if sy > 1e-12 * (y @ y):
            pairs.append((s, y, 1.0 / sy))

        decrease = (f - f_new) / max(abs(f), abs(f_new), 1.0)
        x, f, g = x_new, f_new, g_new
        if callback is not None:
            callback(k, x, f, g)
        if decrease <= ftol:
            message, success = "relative decrease below ftol", True
            break
        if np.abs(g).max() <= gtol:
            message, success = "gradient below gtol", True
            break
        history.append(f)
        if period and len(history) > period:
            if (history[0] - f) / max(abs(f), 1.0) <= delta:
                message = f"decrease over {period} iterations below delta"
                success = True
                break

    return LBFGSResult(x, float(f), g, k, nfev, success, message)
