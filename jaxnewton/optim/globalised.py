"""Newton done the way practitioners would: Gauss–Newton, Levenberg–Marquardt, trust-region Newton, adaptive cubic
regularisation, SR1 in a trust region, and the paper's step with a backtracking line search or made monotone.

Each is a ``Solver`` in the one batched loop (``engine.loop``). Those that try a step and may reject it keep θ
where it was after a rejection (the iteration still counts) and adapt their radius, σ or λ from the ratio of the
actual to the predicted decrease. The subproblems are solved exactly in the eigenbasis of H (or of B for SR1):
``core.linalg.trust_region_subproblem`` (Moré–Sorensen, the hard case included) and ``cubic_subproblem``.
Trust-region Newton and cubic regularisation provably do not converge to strict saddles (their model's minimiser
follows negative curvature); Gauss–Newton's matrix JᵀWJ is positive semi-definite, so (G + εI)⁻¹∇L is always a
descent direction.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxnewton.core.linalg import cubic_subproblem, lu_solve, symmetric_eigh, trust_region_subproblem
from jaxnewton.optim.base import HessianFn, LossFn, Solver

ACCEPT = 1e-4  # a trial step is taken when the actual decrease is at least this share of the predicted one
MAX_RADIUS = 1e3


def gauss_newton(loss: LossFn, gauss_newton_matrix: HessianFn, eta: float, eps: float) -> Solver:
    """θ ← θ − η (G + εI)⁻¹ ∇L with the Gauss–Newton matrix G = 2s JᵀWJ (the Hessian without the residual term).

    G + εI is symmetric positive definite for ε > 0, so the step always descends (for small enough η).
    """

    def update(theta, grad, state, done):
        eye = jnp.eye(theta.size, dtype=theta.dtype)
        system = jnp.where(done, eye, gauss_newton_matrix(theta) + eps * eye)
        return theta - eta * lu_solve(system, grad), state

    return Solver(init=lambda theta: (), update=update)


class DampingState(NamedTuple):
    value: jax.Array  # λ (LM), Δ (trust region, SR1) or σ (cubic)
    accepted: jax.Array  # int32, steps taken
    rejected: jax.Array  # int32, steps refused


def _damping_init(value: float) -> Callable[[jax.Array], DampingState]:
    return lambda theta: DampingState(jnp.asarray(value, theta.dtype), jnp.zeros((), jnp.int32),
                                      jnp.zeros((), jnp.int32))


def _take(theta, trial, accept, state: DampingState, value) -> tuple[jax.Array, DampingState]:
    taken = accept.astype(jnp.int32)
    return jnp.where(accept, trial, theta), DampingState(value, state.accepted + taken, state.rejected + 1 - taken)


def levenberg_marquardt(loss: LossFn, gauss_newton_matrix: HessianFn, lam0: float, factor: float = 10.0) -> Solver:
    """Levenberg–Marquardt with Marquardt's adaptive λ: try θ − (G + λI)⁻¹∇L; if L falls, take it and divide λ by
    ``factor``, else stay and multiply λ by it."""

    def update(theta, grad, state: DampingState, done):
        eye = jnp.eye(theta.size, dtype=theta.dtype)
        system = jnp.where(done, eye, gauss_newton_matrix(theta) + state.value * eye)
        trial = theta - lu_solve(system, grad)
        accept = loss(trial) < loss(theta)
        value = jnp.where(accept, state.value / factor, state.value * factor)
        return _take(theta, trial, accept, state, jnp.clip(value, 1e-12, 1e12))

    return Solver(init=_damping_init(lam0), update=update)


def _ratio(loss: LossFn, theta, trial, predicted):
    """Actual over predicted decrease (predicted > 0); −inf where the trial is not finite."""
    actual = loss(theta) - loss(trial)
    return jnp.where(jnp.isfinite(actual), actual / jnp.maximum(predicted, 1e-300), -jnp.inf)


def _radius_update(state: DampingState, rho, step_norm, max_radius: float):
    """The standard rule (Nocedal & Wright, Alg. 4.1): shrink by 4 below ρ = ¼, double above ¾ at the boundary."""
    grow = (rho > 0.75) & (step_norm >= 0.99 * state.value)
    return jnp.where(rho < 0.25, 0.25 * state.value, jnp.where(grow, jnp.minimum(2 * state.value, max_radius),
                                                                  state.value))


def _eigen_model(matrix, grad, done):
    """λ, V and c = Vᵀ∇L of a symmetric matrix (the identity for a finished seed: its branch stays finite)."""
    lam, vectors = symmetric_eigh(jnp.where(done, jnp.eye(grad.size, dtype=grad.dtype), matrix))
    return lam, vectors, vectors.T @ grad


def _model_decrease(lam, c, z, cubic_sigma=None):
    """−m(z) = −(cᵀz + ½ Σ λ z² [+ σ/3 ||z||³]) ≥ 0 at the subproblem's minimiser."""
    m = jnp.dot(c, z) + 0.5 * jnp.dot(lam * z, z)
    if cubic_sigma is not None:
        m = m + cubic_sigma / 3.0 * jnp.linalg.norm(z) ** 3
    return -m


def trust_region_newton(loss: LossFn, hessian: HessianFn, radius0: float, max_radius: float = MAX_RADIUS) -> Solver:
    """Exact-Hessian trust-region Newton: the exact subproblem solution (``trust_region_subproblem``), the step
    taken when ρ > ``ACCEPT``, the radius updated by ``_radius_update``."""

    def update(theta, grad, state: DampingState, done):
        lam, vectors, c = _eigen_model(hessian(theta), grad, done)
        z = trust_region_subproblem(lam, c, state.value)
        rho = _ratio(loss, theta, theta + vectors @ z, _model_decrease(lam, c, z))
        return _take(theta, theta + vectors @ z, rho > ACCEPT, state,
                     _radius_update(state, rho, jnp.linalg.norm(z), max_radius))

    return Solver(init=_damping_init(radius0), update=update)


def cubic_regularisation(loss: LossFn, hessian: HessianFn, sigma0: float, sigma_min: float = 1e-8) -> Solver:
    """Adaptive cubic regularisation (ARC; Cartis, Gould & Toint 2011) with the exact Hessian and the global
    minimiser of the cubic model (``cubic_subproblem``): the step taken when ρ ≥ 0.1; σ halved above ρ = 0.9,
    doubled below 0.1."""

    def update(theta, grad, state: DampingState, done):
        lam, vectors, c = _eigen_model(hessian(theta), grad, done)
        z = cubic_subproblem(lam, c, state.value)
        trial = theta + vectors @ z
        rho = _ratio(loss, theta, trial, _model_decrease(lam, c, z, state.value))
        sigma = jnp.where(rho > 0.9, jnp.maximum(0.5 * state.value, sigma_min),
                          jnp.where(rho >= 0.1, state.value, 2.0 * state.value))
        return _take(theta, trial, rho >= 0.1, state, jnp.minimum(sigma, 1e12))

    return Solver(init=_damping_init(sigma0), update=update)


class SR1State(NamedTuple):
    matrix: jax.Array  # B_PxP ≈ ∇²L, symmetric, possibly indefinite
    damping: DampingState  # the trust radius
    skipped: jax.Array  # int32, updates skipped by the rule


def sr1_trust_region(loss: LossFn, radius0: float, skip: float = 1e-8, max_radius: float = MAX_RADIUS) -> Solver:
    """SR1 quasi-Newton in a trust region (Nocedal & Wright, Alg. 6.2): B starts at the identity; each trial's pair
    s, y = ∇L(θ + s) − ∇L(θ) updates B ← B + r rᵀ / rᵀs with r = y − Bs, skipped when |rᵀs| < ``skip``·||s|| ||r||;
    B may become indefinite by design, and the subproblem is solved exactly in its eigenbasis."""
    grad_fn = jax.grad(loss)

    def init(theta):
        return SR1State(jnp.eye(theta.size, dtype=theta.dtype), _damping_init(radius0)(theta), jnp.zeros((), jnp.int32))

    def update(theta, grad, state: SR1State, done):
        lam, vectors, c = _eigen_model(state.matrix, grad, done)
        z = trust_region_subproblem(lam, c, state.damping.value)
        s = vectors @ z
        rho = _ratio(loss, theta, theta + s, _model_decrease(lam, c, z))
        y = grad_fn(theta + s) - grad
        r = y - state.matrix @ s
        rs = jnp.dot(r, s)
        use = (jnp.abs(rs) >= skip * jnp.linalg.norm(s) * jnp.linalg.norm(r)) & jnp.all(jnp.isfinite(y)) & ~done
        matrix = jnp.where(use, state.matrix + jnp.outer(r, r) / jnp.where(use, rs, 1.0), state.matrix)
        new_theta, damping = _take(theta, theta + s, rho > ACCEPT, state.damping,
                                   _radius_update(state.damping, rho, jnp.linalg.norm(z), max_radius))
        return new_theta, SR1State(matrix, damping, state.skipped + 1 - use.astype(jnp.int32))

    return Solver(init=init, update=update)


def newton_line_search(loss: LossFn, hessian: HessianFn, eps: float, c1: float = 1e-4, max_halvings: int = 30) -> Solver:
    """The paper's direction d = −(H + εI)⁻¹∇L with an Armijo backtracking line search on L: the first t of 1, ½, ¼, …
    with L(θ + t d) ≤ L(θ) + c₁ t ∇Lᵀd. Where d does not descend (∇Lᵀd ≥ 0, H + εI indefinite) the search runs along
    −∇L instead (the classical safeguard; the state's ``value`` counts those steps); after ``max_halvings`` without
    sufficient decrease θ stays."""

    def update(theta, grad, state: DampingState, done):
        eye = jnp.eye(theta.size, dtype=theta.dtype)
        d = -lu_solve(jnp.where(done, eye, hessian(theta) + eps * eye), grad)
        descends = jnp.dot(grad, d) < 0
        d = jnp.where(descends, d, -grad)
        slope, value = jnp.dot(grad, d), loss(theta)

        def not_yet(t):
            return (t > 2.0 ** -max_halvings) & ~(loss(theta + t * d) <= value + c1 * t * slope)

        t = jax.lax.while_loop(not_yet, lambda t: 0.5 * t, jnp.ones((), theta.dtype))
        accept = loss(theta + t * d) <= value + c1 * t * slope
        return _take(theta, theta + t * d, accept, state, state.value + jnp.where(descends, 0.0, 1.0))

    return Solver(init=_damping_init(0.0), update=update)


def newton_monotone(loss: LossFn, hessian: HessianFn, eta: float, eps: float, max_halvings: int = 30) -> Solver:
    """The paper's damped Newton step made monotone: θ − t (H + εI)⁻¹∇L from t = η, halved while L would rise, so
    L never increases. Unlike ``newton_line_search`` it keeps the paper's direction and step (no sufficient-decrease
    condition, no gradient fallback): where that direction ascends every trial raises L and θ stays. The state's
    ``value`` counts the steps shorter than η (the full step would have raised L)."""

    def update(theta, grad, state: DampingState, done):
        eye = jnp.eye(theta.size, dtype=theta.dtype)
        d = -lu_solve(jnp.where(done, eye, hessian(theta) + eps * eye), grad)
        value = loss(theta)
        eta_t = jnp.asarray(eta, theta.dtype)

        def not_yet(t):
            return (t > eta_t * 2.0 ** -max_halvings) & ~(loss(theta + t * d) <= value)

        t = jax.lax.while_loop(not_yet, lambda t: 0.5 * t, eta_t)
        accept = loss(theta + t * d) <= value
        return _take(theta, theta + t * d, accept, state, state.value + jnp.where(t < eta_t, 1.0, 0.0))

    return Solver(init=_damping_init(0.0), update=update)
