"""First-order optimisers: full-batch gradient descent and ADAM."""

from __future__ import annotations

import jax
import optax

from jaxnewton.optim.base import Solver, from_optax


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


def adam(learning_rate: float) -> Solver:
    """ADAM (Kingma & Ba 2015) from optax, full batch, as a ``Solver``.

    Args:
      learning_rate: the step size; optax's defaults for β₁ = 0.9, β₂ = 0.999, ε = 1e-8.

    Returns:
      A ``Solver`` whose state is optax's ``ScaleByAdamState`` (count, mu_P, nu_P).
    """
    return from_optax(optax.adam(learning_rate))
