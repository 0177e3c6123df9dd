"""Regression problems as pure functions of a flat parameter vector θ.

A problem is the discretised objective L(θ) = ||N(θ) − v||² with the inner product

    ⟨f, g⟩ = Σ_q w_q f(x_q) g(x_q),

on a fixed set of nodes x_q with quadrature weights w_q. The one rule used everywhere
(``quadrature_weights``) is the equal-weight mean, w_q = 1/Q on Q uniform nodes
including both ends of [0, 1]: ||f||² then approximates ∫₀¹ f² dx, so the size of the
Hessian, and hence the meaning of the shift ε, does not change with the grid size.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from jaxnewton.curvature import make_mlp_least_squares_hessian
from jaxnewton.models import Model


class Problem(NamedTuple):
    """A least-squares objective over a flat parameter vector θ_P.

    Attributes:
      n_params: P.
      init: ``init(key) -> theta_P``, the model's initialisation, flattened.
      output: ``output(theta_P) -> N_Q``, the approximation at the nodes.
      basis: ``basis(theta_P) -> h_QxK``, the basis functions N is a linear read-out of.
      outer: ``outer(theta_P) -> theta_out_K``, the read-out weights θᴼ.
      loss: ``loss(theta_P) -> L`` = ⟨N − v, N − v⟩.
      hessian: ``hessian(theta_P) -> H_PxP``, the exact ∇²L: ``jaxnewton.curvature``'s
        structured form for MLPs, ``jax.hessian(loss)`` otherwise (or when asked).
      x: the nodes, ``x_QxD``.
      target: v at the nodes, ``v_Q``.
      weights: quadrature weights ``w_Q``.
      outer_mask: ``bool_P``, True on the entries of θ that are θᴼ.
      unravel: ``unravel(theta_P) -> params``, the model's parameter pytree.
    """

    n_params: int
    init: Callable[[jax.Array], jax.Array]
    output: Callable[[jax.Array], jax.Array]
    basis: Callable[[jax.Array], jax.Array]
    outer: Callable[[jax.Array], jax.Array]
    loss: Callable[[jax.Array], jax.Array]
    hessian: Callable[[jax.Array], jax.Array]
    x: jax.Array
    target: jax.Array
    weights: jax.Array
    outer_mask: jax.Array
    unravel: Callable[[jax.Array], Any]

    def inner(self, f_Q: jax.Array, g_Q: jax.Array) -> jax.Array:
        """⟨f, g⟩ = Σ_q w_q f_q g_q (broadcasts over leading axes)."""
        return jnp.sum(self.weights * f_Q * g_Q, axis=-1)


def uniform_nodes(n_points: int) -> jax.Array:
    """Q uniform nodes on [0, 1], both ends included, as ``x_Qx1``."""
    return jnp.linspace(0.0, 1.0, n_points, dtype=jnp.float64)[:, None]


def quadrature_weights(n_points: int) -> jax.Array:
    """The project's one quadrature rule: the mean, w_q = 1/Q."""
    return jnp.full((n_points,), 1.0 / n_points, jnp.float64)


def sine_target(amplitude: float, wavenumber: float) -> Callable[[jax.Array], jax.Array]:
    """v(x) = A sin(k π x) for inputs ``x_Qx1``; the paper's E3 target is A = 2, k = 4."""
    return lambda x_Qx1: amplitude * jnp.sin(wavenumber * jnp.pi * x_Qx1[:, 0])


HESSIANS = ("structured", "autodiff")


def make_regression(
    model: Model, x_QxD: jax.Array, target_Q: jax.Array, weights_Q: jax.Array, hessian: str = "structured"
) -> Problem:
    """The regression objective L(θ) = ||N(θ) − v||² of ``model`` on fixed nodes.

    Args:
      model: the network; its parameters are flattened with ``ravel_pytree``.
      x_QxD: nodes.
      target_Q: v at the nodes.
      weights_Q: quadrature weights of the inner product.
      hessian: ``"structured"`` (``jaxnewton.curvature``, MLPs only) or ``"autodiff"``
        (``jax.hessian``); both are the exact Hessian.

    Returns:
      A ``Problem`` whose functions take the flat vector θ_P.
    """
    if hessian not in HESSIANS:
        raise ValueError(f"hessian={hessian!r} is unknown; use one of {list(HESSIANS)}")
    if hessian == "structured" and model.activation is None:
        raise ValueError("hessian='structured' needs a plain MLP (Model.activation set); use hessian='autodiff'")
    template = model.init(jax.random.key(0))
    theta_template, unravel = ravel_pytree(template)
    mask_tree = jax.tree.map(lambda a: jnp.zeros(a.shape, bool), template)
    mask_tree["out"] = jnp.ones(template["out"].shape, bool)
    outer_mask, _ = ravel_pytree(mask_tree)

    def init(key: jax.Array) -> jax.Array:
        return ravel_pytree(model.init(key))[0]

    def basis(theta: jax.Array) -> jax.Array:
        return model.basis(unravel(theta), x_QxD)

    def outer(theta: jax.Array) -> jax.Array:
        return unravel(theta)["out"]

    def output(theta: jax.Array) -> jax.Array:
        return model.apply(unravel(theta), x_QxD)

    def loss(theta: jax.Array) -> jax.Array:
        r = output(theta) - target_Q
        return jnp.sum(weights_Q * r * r)

    return Problem(
        n_params=theta_template.size,
        init=init,
        output=output,
        basis=basis,
        outer=outer,
        loss=loss,
        hessian=(
            make_mlp_least_squares_hessian(model.activation, x_QxD, target_Q, weights_Q, unravel, template)
            if hessian == "structured" else jax.hessian(loss)
        ),
        x=x_QxD,
        target=target_Q,
        weights=weights_Q,
        outer_mask=outer_mask,
        unravel=unravel,
    )
