"""Regression and PINN problems as pure functions of a flat parameter vector θ.

A problem is the discretised least-squares objective L(θ) = s ||F(θ) − f||² with the inner product

    ⟨f, g⟩ = Σ_q w_q f(x_q) g(x_q),

on a fixed set of nodes x_q with equal weights w_q. The weights and the factor s are the *loss reduction*
(``LOSS_REDUCTIONS``): ``"mean"``, w_q = 1/Q on Q uniform nodes including both ends of [0, 1] and s = 1,
so ||f||² approximates ∫₀¹ f² dx and the size of the Hessian, hence the meaning of the shift ε, does not
change with the grid size (the project's default); ``"sum"``, w_q = 1 (a plain sum of squares, PyTorch's
``MSELoss(reduction="sum")``); ``"half_mean"`` and ``"half_sum"``, the same with s = ½. In 2-D the nodes
are the tensor grid of the 1-D ones. Since L_sum = Q·L_mean, the damped Newton step (H_sum + εI)⁻¹∇L_sum
equals (H_mean + (ε/Q)I)⁻¹∇L_mean: the reduction is a reading of ε and of the tolerance, not cosmetic.

Regression (E3–E5): F = N, the network at the nodes, f = v. PINN (E6, E7): F = 𝓛[N] with
𝓛[u] = ∇²u + c u and f = −v (the PDE is 𝓛[u] + v = 0); the paper's strong-form loss ½∫(𝓛[N] + v)² is
the reduction ``"half_mean"``. Either way F = Σ_k θᴼ_k F_k is linear in the read-out θᴼ, with F_k = h_k or
𝓛[h_k], so the paper's trivial-solution analysis applies with F_k in place of h_k.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxnewton.core.curvature import make_mlp_least_squares_hessian, make_pinn_hessian
from jaxnewton.core.models import Model, mlp_basis_derivatives


class Problem(NamedTuple):
    """A least-squares objective over a flat parameter vector θ_P (module docstring: F, f, s).

    Attributes:
      n_params: P.
      init: ``init(key) -> theta_P``, the model's initialisation, flattened.
      output: ``output(theta_P) -> F_Q``, what is fitted: N (regression) or 𝓛[N] (PINN); ``F_MxQ`` for a
        regression with m outputs (node axis last, so ``inner`` gives one value per output).
      basis: ``basis(theta_P) -> F_QxK``, the F_k that F is a linear read-out of.
      outer: ``outer(theta_P) -> theta_out_K``, the read-out weights θᴼ.
      loss: ``loss(theta_P) -> L`` = s ⟨F − f, F − f⟩.
      hessian: ``hessian(theta_P) -> H_PxP``, the exact ∇²L: ``core.curvature``'s
        structured form for MLP regression, ``jax.hessian(loss)`` otherwise (or when asked).
      gauss_newton: ``gauss_newton(theta_P) -> G_PxP`` = 2s JᵀWJ, J the Jacobian of F: the Hessian without
        its residual term, positive semi-definite (``gauss_newton_matrix``).
      x: the nodes, ``x_QxD``.
      target: f at the nodes, ``f_Q``: v (regression) or −v (PINN); ``f_MxQ`` with m outputs.
      weights: quadrature weights ``w_Q``.
      outer_mask: ``bool_P``, True on the entries of θ that are θᴼ.
      unravel: ``unravel(theta_P) -> params``, the model's parameter pytree.
      scale: s; the loss of the zero function is s ||f||².
      solution: ``solution(theta_P) -> N_E``, the approximation itself at E error nodes: the
        nodes for regression, a finer grid for a PINN (which is fitted only through 𝓛[N] at the
        nodes, so its error between them is part of the answer).
      exact: the exact solution at the error nodes, ``u_E`` (v for regression).
    """

    n_params: int
    init: Callable[[jax.Array], jax.Array]
    output: Callable[[jax.Array], jax.Array]
    basis: Callable[[jax.Array], jax.Array]
    outer: Callable[[jax.Array], jax.Array]
    loss: Callable[[jax.Array], jax.Array]
    hessian: Callable[[jax.Array], jax.Array]
    gauss_newton: Callable[[jax.Array], jax.Array]
    x: jax.Array
    target: jax.Array
    weights: jax.Array
    outer_mask: jax.Array
    unravel: Callable[[jax.Array], Any]
    scale: float
    solution: Callable[[jax.Array], jax.Array]
    exact: jax.Array

    def inner(self, f_Q: jax.Array, g_Q: jax.Array) -> jax.Array:
        """⟨f, g⟩ = Σ_q w_q f_q g_q (broadcasts over leading axes)."""
        return jnp.sum(self.weights * f_Q * g_Q, axis=-1)

    @property
    def n_outputs(self) -> int:
        """m: 1 for ``target`` ``f_Q``, m for ``f_MxQ``."""
        return 1 if self.target.ndim == 1 else self.target.shape[0]

    def norm2(self, f: jax.Array) -> jax.Array:
        """||f||² = Σ_j ⟨f_j, f_j⟩ over the outputs (⟨f, f⟩ for one)."""
        return self.inner(f, f) if f.ndim == 1 else jnp.sum(self.inner(f, f), axis=-1)


def reparametrised(problem: Problem, s_P: jax.Array) -> Problem:
    """``problem`` in the coordinates θ' of θ = s ⊙ θ' (s > 0 per parameter; ``core.models.ntk_scales``).

    The same network and objective, L'(θ') = L(s ⊙ θ'), so ∇L' = s ⊙ ∇L and ∇²L' = diag(s) ∇²L diag(s) exactly, from
    ``problem``'s own (structured) Hessian. θ₀' = θ₀ / s: the network at θ₀ is the one ``problem.init`` draws. Only
    the geometry changes: with a shift ε, the damped Newton step (∇²L' + εI)⁻¹∇L' is in θ the step
    (∇²L + ε diag(s)⁻²)⁻¹∇L, a damping of ε / s_i² per parameter. The read-out's basis functions carry their factor
    (F = Σ θᴼ'_k s_k F_k); ``unravel`` gives the network's own (standard) parameters.
    """
    out_index = np.flatnonzero(np.asarray(problem.outer_mask))
    out_s = s_P[out_index]

    def curvature(matrix: Callable[[jax.Array], jax.Array]) -> Callable[[jax.Array], jax.Array]:
        return lambda theta: s_P[:, None] * matrix(s_P * theta) * s_P[None, :]

    return problem._replace(
        init=lambda key: problem.init(key) / s_P,
        output=lambda theta: problem.output(s_P * theta),
        basis=lambda theta: problem.basis(s_P * theta) * out_s,
        outer=lambda theta: theta[out_index],
        loss=lambda theta: problem.loss(s_P * theta),
        hessian=curvature(problem.hessian),
        gauss_newton=curvature(problem.gauss_newton),
        unravel=lambda theta: problem.unravel(s_P * theta),
        solution=lambda theta: problem.solution(s_P * theta),
    )


def uniform_nodes(n_points: int) -> jax.Array:
    """Q uniform nodes on [0, 1], both ends included, as ``x_Qx1``."""
    return jnp.linspace(0.0, 1.0, n_points, dtype=jnp.float64)[:, None]


def grid_nodes(n_points: int, dim: int) -> jax.Array:
    """The tensor grid of ``uniform_nodes(n_points)`` in [0, 1]^dim, ``x_QxD`` with Q = n_points^dim."""
    axes = jnp.meshgrid(*[uniform_nodes(n_points)[:, 0]] * dim, indexing="ij")
    return jnp.stack([a.ravel() for a in axes], axis=1)


LOSS_REDUCTIONS = ("mean", "sum", "half_mean", "half_sum")


def quadrature_weights(n_points: int, reduction: str = "mean") -> jax.Array:
    """The weights w_q of a loss reduction (module docstring): 1/Q for the ``mean`` ones, 1 for the ``sum`` ones."""
    loss_factor(reduction)  # checks the name
    return jnp.full((n_points,), 1.0 / n_points if reduction.endswith("mean") else 1.0, jnp.float64)


def loss_factor(reduction: str) -> float:
    """The factor s of a loss reduction: ½ for ``half_mean`` and ``half_sum``, else 1."""
    if reduction not in LOSS_REDUCTIONS:
        raise ValueError(f"loss reduction {reduction!r} is unknown; use one of {list(LOSS_REDUCTIONS)}")
    return 0.5 if reduction.startswith("half") else 1.0


def _scaled(s: float, total: jax.Array) -> jax.Array:
    return total if s == 1.0 else s * total


def gauss_newton_matrix(output: Callable[[jax.Array], jax.Array], weights_Q: jax.Array,
                        scale: float) -> Callable[[jax.Array], jax.Array]:
    """θ ↦ G = 2s Jᵀ diag(w) J with J = ∂F/∂θ (forward mode): the Gauss–Newton matrix of L = s Σ w (F − f)²."""

    def matrix(theta: jax.Array) -> jax.Array:
        jac = jax.jacfwd(output)(theta)  # F_Q's Jacobian, or F_MxQ's: one row per (output, node)
        jac_QxP = jac.reshape(-1, theta.size)
        w_Q = jnp.broadcast_to(weights_Q, jac.shape[:-1]).reshape(-1)
        return 2.0 * scale * jac_QxP.T @ (w_Q[:, None] * jac_QxP)

    return matrix


def sine_target(amplitude: float, wavenumber: float) -> Callable[[jax.Array], jax.Array]:
    """v(x) = A sin(k π x) for inputs ``x_Qx1``; the paper's E3 target is A = 2, k = 4."""
    return lambda x_Qx1: amplitude * jnp.sin(wavenumber * jnp.pi * x_Qx1[:, 0])


def sine_product(amplitude: float, wavenumber: float) -> Callable[[jax.Array], jax.Array]:
    """u(x) = A Π_d sin(k π x_d) for ``x_QxD``: zero on the boundary of [0, 1]^D when k is an integer."""
    return lambda x_QxD: amplitude * jnp.prod(jnp.sin(wavenumber * jnp.pi * x_QxD), axis=1)


def sine_product_source(amplitude: float, wavenumber: float, reaction: float) -> Callable[[jax.Array], jax.Array]:
    """The v with ∇²u + c u + v = 0 for u = ``sine_product``: v = (D (kπ)² − c) u."""
    u = sine_product(amplitude, wavenumber)
    return lambda x_QxD: (x_QxD.shape[1] * (wavenumber * jnp.pi) ** 2 - reaction) * u(x_QxD)


HESSIANS = ("structured", "autodiff")


def _flat_layout(model: Model) -> tuple[jax.Array, Callable[[jax.Array], Any], jax.Array]:
    """A template θ_P of ``model`` (zeros), its ``unravel`` and the ``bool_P`` mask of the read-out θᴼ.

    Zeros of ``init``'s shapes, not a draw: a problem built inside traced code (a seed's context)
    then adds no random-number work to each step.
    """
    template = jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), jax.eval_shape(model.init, jax.random.key(0)))
    theta_template, unravel = ravel_pytree(template)
    mask_tree = jax.tree.map(lambda a: jnp.zeros(a.shape, bool), template)
    mask_tree["out"] = jnp.ones(template["out"].shape, bool)
    return theta_template, unravel, ravel_pytree(mask_tree)[0]


def make_regression(
    model: Model, x_QxD: jax.Array, target_Q: jax.Array, weights_Q: jax.Array, hessian: str = "structured",
    scale: float = 1.0,
) -> Problem:
    """The regression objective L(θ) = s ||N(θ) − v||² of ``model`` on fixed nodes (one output, or m: Σ_j s||N_j − v_j||²).

    Everything is computed in the dtype of ``x_QxD``, ``target_Q``, ``weights_Q`` and the model's parameters
    (float64 unless a float32 run rounds them all, ``engine.build``).

    Args:
      model: the network; its parameters are flattened with ``ravel_pytree``.
      x_QxD: nodes.
      target_Q: v at the nodes, ``v_Q``; ``v_QxM`` for a model with m outputs (``make_mlp(n_outputs=m)``), kept as
        ``Problem.target`` ``v_MxQ``.
      weights_Q: quadrature weights of the inner product.
      hessian: ``"structured"`` (``core.curvature``, MLPs only) or ``"autodiff"``
        (``jax.hessian``); both are the exact Hessian.
      scale: s (``loss_factor``).

    Returns:
      A ``Problem`` whose functions take the flat vector θ_P.
    """
    if hessian not in HESSIANS:
        raise ValueError(f"hessian={hessian!r} is unknown; use one of {list(HESSIANS)}")
    if hessian == "structured" and model.activation is None:
        raise ValueError("hessian='structured' needs a plain MLP (Model.activation set); use hessian='autodiff'")
    theta_template, unravel, outer_mask = _flat_layout(model)
    outputs = unravel(theta_template)["out"].shape[1:]
    if target_Q.shape != (x_QxD.shape[0], *outputs):
        raise ValueError(f"the target has shape {target_Q.shape} for {x_QxD.shape[0]} nodes and a model with "
                         f"read-out {unravel(theta_template)['out'].shape}: pass one column per output")
    target_Q = target_Q if target_Q.ndim == 1 else target_Q.T

    def basis(theta: jax.Array) -> jax.Array:
        return model.basis(unravel(theta), x_QxD)

    def outer(theta: jax.Array) -> jax.Array:
        return unravel(theta)["out"]

    def output(theta: jax.Array) -> jax.Array:
        n = model.apply(unravel(theta), x_QxD)
        return n if n.ndim == 1 else n.T

    def loss(theta: jax.Array) -> jax.Array:
        r = output(theta) - target_Q
        return _scaled(scale, jnp.sum(weights_Q * r * r))

    return Problem(
        n_params=theta_template.size,
        init=lambda key: ravel_pytree(model.init(key))[0],
        output=output,
        basis=basis,
        outer=outer,
        loss=loss,
        hessian=(
            make_mlp_least_squares_hessian(model.activation, x_QxD, target_Q, _scaled(scale, weights_Q), unravel,
                                           unravel(theta_template))
            if hessian == "structured" else jax.hessian(loss)
        ),
        gauss_newton=gauss_newton_matrix(output, weights_Q, scale),
        x=x_QxD,
        target=target_Q,
        weights=weights_Q,
        outer_mask=outer_mask,
        unravel=unravel,
        scale=scale,
        solution=output,
        exact=target_Q,
    )


def boundary_envelope(x_QxD: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """g(x) = Π_d x_d (1 − x_d), zero on the boundary of [0, 1]^D, with ∂_d g and ∂_dd g.

    Returns:
      ``g_Q``, ``dg_QxD`` and ``ddg_QxD``.
    """
    p = x_QxD * (1.0 - x_QxD)
    others = jnp.stack([jnp.prod(jnp.delete(p, d, axis=1), axis=1) for d in range(x_QxD.shape[1])], axis=1)
    return jnp.prod(p, axis=1), (1.0 - 2.0 * x_QxD) * others, -2.0 * others


def make_pinn(
    model: Model, x_QxD: jax.Array, source_Q: jax.Array, weights_Q: jax.Array, reaction: float,
    x_error_ExD: jax.Array, exact_E: jax.Array, scale: float = 0.5, hessian: str = "structured",
) -> Problem:
    """The strong-form PINN loss L(θ) = s Σ_q w_q (𝓛[N](x_q) + v_q)², 𝓛[u] = ∇²u + c u; the paper's s = ½.

    Dirichlet conditions u = 0 on the boundary of [0, 1]^D are imposed hard: N = g · Σ_k θᴼ_k h_k
    with ``boundary_envelope`` g, so the basis functions are g h_k, still linear in θᴼ, and
    𝓛[N] = Σ_k θᴼ_k 𝓛[g h_k]. Second derivatives in x come from forward-mode Taylor streams
    (``models.mlp_basis_derivatives``); the Hessian in θ is ``core.curvature.make_pinn_hessian`` (``"structured"``)
    or ``jax.hessian`` of the loss (``"autodiff"``).

    Args:
      model: a plain MLP (``Model.activation`` set) on D inputs.
      x_QxD: collocation nodes.
      source_Q: v at the nodes.
      weights_Q: quadrature weights.
      reaction: c (0 for Poisson, 1 for E7's ∇²u + u + v = 0).
      x_error_ExD: where the error against the exact solution is measured.
      exact_E: the exact solution there.
      scale: s (``loss_factor``).
      hessian: ``HESSIANS``.

    Returns:
      A ``Problem`` with F = 𝓛[N], f = −v.
    """
    if hessian not in HESSIANS:
        raise ValueError(f"hessian={hessian!r} is unknown; use one of {list(HESSIANS)}")
    if model.activation is None:
        raise ValueError("make_pinn needs a plain MLP (Model.activation set) for its x-derivative streams")
    theta_template, unravel, outer_mask = _flat_layout(model)
    g_Q, dg_QxD, ddg_QxD = boundary_envelope(x_QxD)
    target_Q = -source_Q

    def operator_basis(theta: jax.Array) -> jax.Array:
        h, dh, ddh = mlp_basis_derivatives(model.activation, unravel(theta), x_QxD)
        # ∇²(g h) = ∇²g h + 2 ∇g · ∇h + g ∇²h, then + c g h.
        laplacian = (jnp.sum(ddg_QxD, axis=1)[:, None] * h + 2.0 * jnp.einsum("qd,qdk->qk", dg_QxD, dh)
                     + g_Q[:, None] * jnp.sum(ddh, axis=1))
        return laplacian + reaction * g_Q[:, None] * h

    def output(theta: jax.Array) -> jax.Array:
        return operator_basis(theta) @ unravel(theta)["out"]

    g_E = boundary_envelope(x_error_ExD)[0]

    def solution(theta: jax.Array) -> jax.Array:
        return g_E * model.apply(unravel(theta), x_error_ExD)

    def loss(theta: jax.Array) -> jax.Array:
        r = output(theta) - target_Q
        return _scaled(scale, jnp.sum(weights_Q * r * r))

    return Problem(
        n_params=theta_template.size,
        init=lambda key: ravel_pytree(model.init(key))[0],
        output=output,
        basis=operator_basis,
        outer=lambda theta: unravel(theta)["out"],
        loss=loss,
        hessian=(
            make_pinn_hessian(
                model.activation,
                lambda params: mlp_basis_derivatives(model.activation, {"hidden": params["hidden"][:-1]}, x_QxD),
                jnp.sum(ddg_QxD, axis=1) + reaction * g_Q, 2.0 * dg_QxD, g_Q, target_Q, _scaled(scale, weights_Q),
                unravel, unravel(theta_template))
            if hessian == "structured" else jax.hessian(loss)
        ),
        gauss_newton=gauss_newton_matrix(output, weights_Q, scale),
        x=x_QxD,
        target=target_Q,
        weights=weights_Q,
        outer_mask=outer_mask,
        unravel=unravel,
        scale=scale,
        solution=solution,
        exact=exact_E,
    )
