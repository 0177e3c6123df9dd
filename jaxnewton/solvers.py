"""Optimisers as pure update rules over a flat parameter vector.

A ``Solver`` is a pair of pure functions (optax-style): ``init(theta) -> state`` and
``update(theta, grad, state, done) -> (theta_new, state_new)``. The loop in
``jaxnewton.runner`` owns everything common to all optimisers: the loss and gradient
after each update, the stopping test, the per-seed status and the history. ``done``
tells a solver that this element of a vmapped batch has finished, so it can keep its
arithmetic finite there (its result is discarded by the loop).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxnewton.linalg import lu_solve

LossFn = Callable[[jax.Array], jax.Array]


class Solver(NamedTuple):
    """An optimiser: ``init(theta_P) -> state``, ``update(theta_P, grad_P, state, done) -> (theta_P, state)``."""

    init: Callable[[jax.Array], Any]
    update: Callable[[jax.Array, jax.Array, Any, jax.Array], tuple[jax.Array, Any]]


def damped_newton(
    loss: LossFn, eta: float, eps: float, hessian: Callable[[jax.Array], jax.Array] | None = None
) -> Solver:
    """The paper's damped ("modified") Newton step with the exact Hessian.

    θ ← θ − η (∇²L(θ) + εI)⁻¹ ∇L(θ). H + εI may be indefinite, so the system is solved
    with a general LU solve with partial pivoting, never Cholesky.

    Args:
      loss: L(θ) of a flat vector.
      eta: step relaxation η.
      eps: shift ε.
      hessian: θ ↦ ∇²L(θ), exact; ``jax.hessian(loss)`` when None.

    Returns:
      A stateless ``Solver`` (its state is ``()``).
    """
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


def gradient_descent(learning_rate: float) -> Solver:
    """Plain gradient descent θ ← θ − α ∇L(θ) (full batch, fixed step).

    Args:
      learning_rate: the step α.

    Returns:
      A stateless ``Solver``.
    """

    def init(theta: jax.Array) -> tuple[()]:
        return ()

    def update(theta: jax.Array, grad: jax.Array, state: tuple[()], done: jax.Array):
        return theta - learning_rate * grad, state

    return Solver(init=init, update=update)


def on_angles(solver: Solver) -> Solver:
    """``solver`` with θ reduced to [0, 2π) after every update, for a loss 2π-periodic in every entry.

    The update rules above commute with shifts by 2π, so this changes no trajectory in exact
    arithmetic. It keeps the iterate where floats are fine-grained: a near-singular Newton
    step can throw θ to |θ| ~ 10³–10⁴, where the spacing of doubles (~1e-12) is coarser than a
    converging step, and the run stalls with ||∇L|| ≈ 1e-11 (seen on E2 before this wrapper).
    """

    def update(theta: jax.Array, grad: jax.Array, state: Any, done: jax.Array):
        new_theta, new_state = solver.update(theta, grad, state, done)
        return jnp.mod(new_theta, 2.0 * jnp.pi), new_state

    return Solver(init=solver.init, update=update)


def adam(learning_rate: float) -> Solver:
    """ADAM (Kingma & Ba 2015) from optax, full batch, as a ``Solver``.

    Args:
      learning_rate: the step size; optax's defaults for β₁ = 0.9, β₂ = 0.999, ε = 1e-8.

    Returns:
      A ``Solver`` whose state is optax's ``ScaleByAdamState`` (count, mu_P, nu_P).
    """
    optimizer = optax.adam(learning_rate)

    def update(theta: jax.Array, grad: jax.Array, state: Any, done: jax.Array):
        # optax mixes its int32 step count with Python floats in the bias correction, which
        # strict dtype promotion (the tests' setting) rejects; the arithmetic is float64 either way.
        with jax.numpy_dtype_promotion("standard"):
            updates, new_state = optimizer.update(grad, state, theta)
        return theta + updates, new_state

    return Solver(init=optimizer.init, update=update)
