"""Newton-type optimisers with the exact Hessian: the paper's damped Newton, saddle-free Newton, H⁺ Newton."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxnewton.core.curvature import hessian_vector_product
from jaxnewton.core.linalg import lu_solve, minres, symmetric_eigh
from jaxnewton.core.spectra import lanczos, lanczos_matrix_function
from jaxnewton.optim.base import HessianFn, LossFn, Solver


LINEAR_SOLVERS = ("dense", "krylov")


class KrylovState(NamedTuple):
    """The Krylov path's record: MINRES iterations (Hessian-vector products) summed over the steps, and the steps
    whose MINRES stopped at its iteration cap above its tolerance (an inexact step; always 0 for sfn's Lanczos)."""

    krylov_iterations: jax.Array
    unsolved_steps: jax.Array


def damped_newton(loss: LossFn, eta: float, eps: float, hessian: HessianFn | None = None,
                  linear_solver: str = "dense", krylov_rtol: float = 1e-10, krylov_max_iter: int = 0) -> Solver:
    """The paper's damped ("modified") Newton step with the exact Hessian.

    θ ← θ − η (∇²L(θ) + εI)⁻¹ ∇L(θ). H + εI may be indefinite, so the system is solved
    with a general LU solve with partial pivoting, never Cholesky (``linear_solver="dense"``), or without
    forming H by MINRES on exact Hessian-vector products (forward over reverse), to a relative residual
    ``krylov_rtol`` (``"krylov"``: memory O(P) instead of O(P²)).

    Args:
      loss: L(θ) of a flat vector.
      eta: step relaxation η.
      eps: shift ε.
      hessian: θ ↦ ∇²L(θ), exact; ``jax.hessian(loss)`` when None (dense path only).
      linear_solver: ``LINEAR_SOLVERS``.
      krylov_rtol, krylov_max_iter: MINRES's tolerance and iteration cap (0: 2P).

    Returns:
      A ``Solver``: stateless (``()``) on the dense path, a ``KrylovState`` on the Krylov one.
    """
    if linear_solver not in LINEAR_SOLVERS:
        raise ValueError(f"linear_solver={linear_solver!r} is unknown; use one of {list(LINEAR_SOLVERS)}")
    if linear_solver == "krylov":
        return _krylov_newton(loss, eta, eps, krylov_rtol, krylov_max_iter)
    hessian = hessian or jax.hessian(loss)

    def init(theta: jax.Array) -> tuple[()]:
        return ()

    def update(theta: jax.Array, grad: jax.Array, state: tuple[()], done: jax.Array):
        eye = jnp.eye(theta.size, dtype=theta.dtype)
        shifted = hessian(theta) + eps * eye
        # Double-where: a finished seed (which may sit on a singular H + εI) solves the
        # identity instead, so the discarded branch stays finite under vmap.
        system = jnp.where(done, eye, shifted)
        return theta - eta * lu_solve(system, grad), state

    return Solver(init=init, update=update)


def _krylov_newton(loss: LossFn, eta: float, eps: float, rtol: float, max_iter: int) -> Solver:
    hvp = hessian_vector_product(loss)

    def init(theta: jax.Array) -> KrylovState:
        return KrylovState(jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))

    def update(theta: jax.Array, grad: jax.Array, state: KrylovState, done: jax.Array):
        # A finished seed solves for a zero right-hand side: MINRES stops at once.
        result = minres(lambda v: hvp(theta, v) + eps * v, jnp.where(done, 0.0, grad), rtol,
                        max_iter or 2 * theta.size)
        unsolved = (result.relative_residual > rtol) & ~done
        return theta - eta * result.x, KrylovState(state.krylov_iterations + result.iterations,
                                                   state.unsolved_steps + unsolved.astype(jnp.int32))

    return Solver(init=init, update=update)


class NewtonMRState(NamedTuple):
    """Newton-MR's record: ``KrylovState``'s two counts (Hessian-vector products over all steps; steps whose MINRES
    stopped at its cap above its tolerance) and the steps taken along a direction of non-positive curvature."""

    krylov_iterations: jax.Array
    unsolved_steps: jax.Array
    curvature_steps: jax.Array


def newton_mr(loss: LossFn, rtol: float = 1e-10, max_iter: int = 0, c1: float = 1e-4, max_doublings: int = 30,
              max_halvings: int = 60) -> Solver:
    """Newton-MR (Liu & Roosta 2022; Zeng, Liu, Ouyang & Milzarek 2026): MINRES on ∇²L itself, no shift, from −∇L.

    MINRES (``core.linalg.minres`` with ``detect_curvature``) runs on exact Hessian-vector products until its
    relative residual is below ``rtol``, or ``max_iter`` products (0: 2P), or until its residual r has
    rᵀ∇²L r ≤ 0. Then either
      - a solution-type direction d = x ≈ −H⁻¹∇L (never formed): an Armijo backtracking step from t = 1,
        t ← t/2 until L(θ + td) ≤ L(θ) + c₁ t ∇Lᵀd; or
      - a direction of non-positive curvature d = r (∇Lᵀr = −||r||² < 0: it descends): forward/backward tracking,
        t doubled from 1 while the Armijo condition still holds at 2t, halved until it holds if it fails at 1.
    A step with no sufficient decrease after ``max_halvings`` keeps θ. Unlike the paper's damped Newton, whose
    Krylov solve returns the stationary point's direction whatever the curvature, a negative-curvature direction is
    never inverted: with the line search, MINRES-NPC avoids strict saddles (Zeng et al. 2026).

    Returns:
      A ``Solver`` whose state is a ``NewtonMRState``.
    """
    hvp = hessian_vector_product(loss)

    def init(theta: jax.Array) -> NewtonMRState:
        zero = jnp.zeros((), jnp.int32)
        return NewtonMRState(zero, zero, zero)

    def update(theta: jax.Array, grad: jax.Array, state: NewtonMRState, done: jax.Array):
        done = jnp.asarray(done, bool)  # ~ of a Python bool is an int
        # A finished seed solves for a zero right-hand side: MINRES stops at once, d = 0.
        result = minres(lambda v: hvp(theta, v), jnp.where(done, 0.0, -grad), rtol, max_iter or 2 * theta.size,
                        detect_curvature=True)
        curvature = result.nonpositive & ~done
        d = jnp.where(curvature, result.residual, result.x)
        value, slope = loss(theta), jnp.dot(grad, d)

        def sufficient(t):
            return loss(theta + t * d) <= value + c1 * t * slope

        one = jnp.ones((), theta.dtype)
        forward = curvature & sufficient(one)
        t = jax.lax.while_loop(lambda t: forward & (t < 2.0 ** max_doublings) & sufficient(2 * t), lambda t: 2 * t, one)
        t = jax.lax.while_loop(lambda t: (t > 2.0 ** -max_halvings) & ~sufficient(t), lambda t: 0.5 * t, t)
        accept = sufficient(t) & ~done
        unsolved = ~curvature & (result.relative_residual > rtol) & ~done
        return jnp.where(accept, theta + t * d, theta), NewtonMRState(
            state.krylov_iterations + result.iterations, state.unsolved_steps + unsolved.astype(jnp.int32),
            state.curvature_steps + (curvature & accept).astype(jnp.int32))

    return Solver(init=init, update=update)


def saddle_free_newton(loss: LossFn, eta: float, eps: float, hessian: HessianFn | None = None,
                       linear_solver: str = "dense", lanczos_steps: int = 0) -> Solver:
    """Saddle-free Newton (Dauphin et al. 2014): θ ← θ − η (|H| + εI)⁻¹ ∇L with the exact Hessian.

    |H| = V|Λ|Vᵀ replaces every eigenvalue by its absolute value, so along a direction of
    negative curvature the step goes downhill (away from a saddle) instead of towards the
    stationary point as Newton's does; along positive curvature it is Newton's step.
    ``"dense"``: (|H| + εI)⁻¹ ∇L = V diag(1/(|λ| + ε)) Vᵀ ∇L from one symmetric eigendecomposition.
    ``"krylov"``: H is never formed; k Lanczos steps from ∇L on exact Hessian-vector products give
    H ≈ Q T Qᵀ on the Krylov space, and the step is Q (|T| + εI)⁻¹ Qᵀ ∇L
    (``core.spectra.lanczos_matrix_function``): |H| restricted to the Krylov space, the dense step once that
    space is invariant (k = P), an approximation below (``docs/benchmark.md`` measures how far from the dense
    step).

    Args:
      loss: L(θ) of a flat vector.
      eta: step relaxation η.
      eps: shift ε > 0 (with ε = 0 a zero eigenvalue gives an infinite step).
      hessian: θ ↦ ∇²L(θ), exact; ``jax.hessian(loss)`` when None (dense path only).
      linear_solver: ``LINEAR_SOLVERS``.
      lanczos_steps: k on the Krylov path (0 or more than P: P).

    Returns:
      A ``Solver``: stateless on the dense path, a ``KrylovState`` (Hessian-vector products) on the Krylov one.
    """
    if linear_solver not in LINEAR_SOLVERS:
        raise ValueError(f"linear_solver={linear_solver!r} is unknown; use one of {list(LINEAR_SOLVERS)}")
    absolute = lambda lam: 1.0 / (jnp.abs(lam) + eps)  # noqa: E731
    if linear_solver == "krylov":
        return _lanczos_solver(loss, eta, absolute, lanczos_steps)
    return _spectral_solver(hessian or jax.hessian(loss), eta, lambda lam, c: absolute(lam) * c)


def _lanczos_solver(loss: LossFn, eta: float, f: Callable[[jax.Array], jax.Array], steps: int) -> Solver:
    """θ ← θ − η f(H) ∇L, f(H)∇L from ``steps`` Lanczos steps started at ∇L (the Krylov ``saddle_free_newton``)."""
    hvp = hessian_vector_product(loss)

    def init(theta: jax.Array) -> KrylovState:
        return KrylovState(jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))

    def update(theta: jax.Array, grad: jax.Array, state: KrylovState, done: jax.Array):
        k = min(steps or theta.size, theta.size)
        norm = jnp.linalg.norm(grad)
        idle = done | (norm == 0.0)  # double where: Lanczos from a unit vector instead of a zero one
        start = jnp.where(idle, jnp.ones_like(grad), grad)
        t = lanczos(lambda v: hvp(theta, v), start, k, jax.random.key(0))
        step = lanczos_matrix_function(t, f, norm)  # where idle, the step is discarded below
        return theta - eta * jnp.where(idle, 0.0, step), KrylovState(state.krylov_iterations + jnp.where(done, 0, k),
                                                                   state.unsolved_steps)

    return Solver(init=init, update=update)


def _spectral_solver(hessian: HessianFn, eta: float,
                     coefficients: Callable[[jax.Array, jax.Array], jax.Array]) -> Solver:
    """θ ← θ − η V f(Λ, Vᵀ∇L) from one ``eigh`` of H = VΛVᵀ; ``coefficients(λ, c)`` is f (stateless).

    A finished seed decomposes the identity instead (double where: its discarded branch stays finite).
    """

    def init(theta: jax.Array) -> tuple[()]:
        return ()

    def update(theta: jax.Array, grad: jax.Array, state: tuple[()], done: jax.Array):
        eye = jnp.eye(theta.size, dtype=theta.dtype)
        lam, vectors = symmetric_eigh(jnp.where(done, eye, hessian(theta)))
        step = vectors @ coefficients(lam, vectors.T @ grad)
        return theta - eta * step, state

    return Solver(init=init, update=update)


def pseudo_inverse_newton(loss: LossFn, rtol: float, hessian: HessianFn | None = None) -> Solver:
    """Undamped Newton with the Hessian's pseudo-inverse: θ ← θ − H⁺ ∇L.

    H⁺ = V diag(1/λ over |λ| > rtol · max|λ|, else 0) Vᵀ: the Newton step in the span of the
    non-degenerate eigenvectors, none along (near-)flat directions, where 1/λ would be an
    unbounded step. Like Newton it is attracted to stationary points of every index; on a
    non-degenerate H it is Newton's step. Used to refine a path's top to the saddle it crosses.

    Args:
      loss: L(θ) of a flat vector.
      rtol: eigenvalues with |λ| ≤ rtol · max|λ| are treated as zero.
      hessian: θ ↦ ∇²L(θ), exact; ``jax.hessian(loss)`` when None.
    """
    def coefficients(lam: jax.Array, c: jax.Array) -> jax.Array:
        keep = jnp.abs(lam) > rtol * jnp.max(jnp.abs(lam))
        # (1/λ)·c, as the E3 landscape's recorded run computed it: on E3's degenerate Hessians the
        # refinement is sensitive to that last bit (c/λ instead: 9 rather than 11 of 40 converged).
        return jnp.where(keep, 1.0 / jnp.where(keep, lam, 1.0), 0.0) * c  # double where: no 1/0 anywhere

    return _spectral_solver(hessian or jax.hessian(loss), 1.0, coefficients)
