"""The interface every optimiser implements, and the adapters around it.

A ``Solver`` is a pair of pure functions (optax-style): ``init(theta) -> state`` and
``update(theta, grad, state, done) -> (theta_new, state_new)``. The loop in
``jaxnewton.engine.loop`` owns everything common to all optimisers: the loss and gradient
after each update, the stopping test, the per-seed status and the history. ``done``
tells a solver that this element of a vmapped batch has finished, so it can keep its
arithmetic finite there (its result is discarded by the loop). A solver that needs the
loss itself (Newton's Hessian, a line search) closes over it.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

LossFn = Callable[[jax.Array], jax.Array]
HessianFn = Callable[[jax.Array], jax.Array]


class Solver(NamedTuple):
    """An optimiser: ``init(theta_P) -> state``, ``update(theta_P, grad_P, state, done) -> (theta_P, state)``."""

    init: Callable[[jax.Array], Any]
    update: Callable[[jax.Array, jax.Array, Any, jax.Array], tuple[jax.Array, Any]]


def from_optax(transformation: optax.GradientTransformation, loss: LossFn | None = None) -> Solver:
    """An optax transformation over the flat θ as a ``Solver``: θ ← θ + updates.

    Args:
      transformation: maps ∇L to the update.
      loss: given, the update also receives ``value``, ``grad`` and ``value_fn`` (what optax's line
        searches need).
    """

    def update(theta: jax.Array, grad: jax.Array, state: Any, done: jax.Array):
        extra = {} if loss is None else {"value": loss(theta), "grad": grad, "value_fn": loss}
        # optax mixes int32 step counts with Python floats (ADAM's bias correction, line searches), which
        # strict dtype promotion (the tests' setting) rejects; the arithmetic is float64 either way.
        with jax.numpy_dtype_promotion("standard"):
            updates, new_state = transformation.update(grad, state, theta, **extra)
        return theta + updates, new_state

    return Solver(init=transformation.init, update=update)


def on_angles(solver: Solver) -> Solver:
    """``solver`` with θ reduced to [0, 2π) after every update, for a loss 2π-periodic in every entry.

    The update rules commute with shifts by 2π, so this changes no trajectory in exact
    arithmetic. It keeps the iterate where floats are fine-grained: a near-singular Newton
    step can throw θ to |θ| ~ 10³–10⁴, where the spacing of doubles (~1e-12) is coarser than a
    converging step, and the run stalls with ||∇L|| ≈ 1e-11 (seen on E2 before this wrapper).
    """

    def update(theta: jax.Array, grad: jax.Array, state: Any, done: jax.Array):
        new_theta, new_state = solver.update(theta, grad, state, done)
        return jnp.mod(new_theta, 2.0 * jnp.pi), new_state

    return Solver(init=solver.init, update=update)
