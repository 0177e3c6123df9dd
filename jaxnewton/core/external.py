"""Regression problems of models written elsewhere: any ``apply(params, x)``, flax ``nnx`` and ``linen`` modules.

The paper's trivial-solution measures need the network in the form N(x; θ) = Σ_k θᴼ_k h_k(x; θᴵ): a read-out
θᴼ, linear in N, of basis functions h_k. For a model from outside, the read-out is a set of its parameter leaves
(``readout``: path names such as ``"out/kernel"``, or found: the one kernel with a single output column), its
linearity is checked at θ₀, and the basis is derived exactly by that linearity, h_k(x) = ∂N(x)/∂θᴼ_k (forward
mode, one column per read-out weight). A read-out bias, if the model has one and it is named, is a read-out
weight whose basis function is 1.

Parameters are raveled into the flat float64 θ the optimisers and the dense Hessian need (``ravel_pytree`` over
the model's own pytree: a flax ``nnx.State`` split on ``nnx.Param``, as flax's own optimiser does, or linen's
``params``), and unraveled into that pytree for every evaluation, so the model runs as written, in float64.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxnewton.core.problems import Problem, gauss_newton_matrix, loss_factor, quadrature_weights

Apply = Callable[[Any, jax.Array], jax.Array]
LINEARITY_RTOL = 1e-8  # N(2θᴼ) = 2 N(θᴼ) to this (relative) at θ₀, or the read-out is not linear


def leaf_paths(params: Any) -> list[str]:
    """The leaves' paths as ``"a/b/c"`` (dict keys, attribute names and indices; flax's ``value`` dropped)."""
    def name(key: Any) -> str:
        for attribute in ("key", "name", "idx"):
            if hasattr(key, attribute):
                return str(getattr(key, attribute))
        return str(key)

    paths = []
    for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]:
        parts = [name(k) for k in path]
        paths.append("/".join(p for p in parts if p != "value"))
    return paths


def find_readout(params: Any, readout: str | tuple[str, ...] | None) -> list[int]:
    """Indices (in leaf order) of the read-out leaves: those named by ``readout`` (whole paths or their trailing
    parts), or else the one kernel (or ``out``) leaf with a single output column, with a bias beside it.

    Raises:
      ValueError: naming the paths to choose from, when none or several match.
    """
    paths = leaf_paths(params)
    shapes = [jnp.shape(leaf) for leaf in jax.tree.leaves(params)]
    if readout is not None:
        names = (readout,) if isinstance(readout, str) else tuple(readout)
        found = [i for i, p in enumerate(paths) if any(p == n or p.endswith("/" + n) for n in names)]
        if len(found) < len(names):
            raise ValueError(f"readout={readout!r} names no parameter leaf (or fewer than it lists): the leaves are "
                             f"{paths}")
        return found
    kernels = [i for i, p in enumerate(paths)
               if p.rsplit("/", 1)[-1] in ("kernel", "out", "w") and len(shapes[i]) in (1, 2)
               and (len(shapes[i]) == 1 or shapes[i][-1] == 1)]
    if len(kernels) != 1:
        raise ValueError(f"cannot identify the read-out layer ({len(kernels)} kernels with one output column): pass "
                         f"readout= with its parameter path, one of {paths}")
    (k,) = kernels
    bias = paths[k].rsplit("/", 1)[0] + "/bias"
    return [k, *(i for i, p in enumerate(paths) if p == bias)]


def make_external_regression(apply: Apply, params: Any, x_QxD: jax.Array, v_Q: jax.Array,
                             readout: str | tuple[str, ...] | None = None, init: Callable[[jax.Array], Any] | None = None,
                             loss_reduction: str = "mean", weights_Q: jax.Array | None = None) -> Problem:
    """The regression problem L(θ) = s Σ_q w_q (N(x_q) − v_q)² of ``apply`` as a ``Problem``.

    Args:
      apply: ``apply(params, x_QxD) -> N`` of shape ``(Q,)`` or ``(Q, 1)``.
      params: a parameter pytree: the layout of θ, and θ₀ of ``Problem.init`` when ``init`` is None.
      x_QxD, v_Q: nodes and target.
      readout: the read-out leaves (``find_readout``).
      init: ``init(key) -> params`` (seed sweeps draw θ₀ from it); None: every key gives ``params``.
      loss_reduction: ``core.problems.LOSS_REDUCTIONS``; ``weights_Q`` replaces its weights when given.

    Raises:
      ValueError: a read-out that cannot be found or is not linear, shapes that do not fit, non-finite data, or an
        ``init`` whose parameters do not match ``params`` (naming them).
    """
    x_QxD = jnp.asarray(x_QxD, jnp.float64)
    if x_QxD.ndim == 1:
        x_QxD = x_QxD[:, None]
    v_Q = jnp.asarray(v_Q, jnp.float64)
    if x_QxD.ndim != 2 or v_Q.shape != (x_QxD.shape[0],):
        raise ValueError(f"x has shape {x_QxD.shape} and v {v_Q.shape}: pass x as (Q, D) (or (Q,)) and v as (Q,)")
    for name, data in (("x", x_QxD), ("v", v_Q), ("weights", weights_Q)):
        bad = 0 if data is None else int(np.sum(~np.isfinite(np.asarray(data, np.float64))))
        if bad:
            raise ValueError(f"{name} holds {bad} non-finite value(s) (NaN or inf): drop or fill those nodes first")
    if init is not None:  # (that it is callable, api.regression checks before it first calls it)
        drawn = jax.eval_shape(init, jax.random.key(0))
        got, want = jax.tree.structure(drawn), jax.tree.structure(params)
        shapes = [jnp.shape(a) for a in jax.tree.leaves(drawn)], [jnp.shape(a) for a in jax.tree.leaves(params)]
        if got != want or shapes[0] != shapes[1]:
            raise ValueError(f"init(key) returns parameters of another structure or shape than params "
                             f"({got.num_leaves} leaves {shapes[0]} against {want.num_leaves} {shapes[1]}): make "
                             "init build the model's own parameter pytree")
    params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), params)
    theta0, unravel = ravel_pytree(params)
    n_q = x_QxD.shape[0]
    weights_Q = quadrature_weights(n_q, loss_reduction) if weights_Q is None else jnp.asarray(weights_Q, jnp.float64)
    scale = loss_factor(loss_reduction)
    readout_leaves = find_readout(params, readout)
    sizes = [int(jnp.size(leaf)) for leaf in jax.tree.leaves(params)]
    offsets = [sum(sizes[:i]) for i in range(len(sizes))]
    readout_index = jnp.concatenate([jnp.arange(offsets[i], offsets[i] + sizes[i]) for i in readout_leaves])
    outer_mask = jnp.zeros(theta0.size, bool).at[readout_index].set(True)

    def output(theta: jax.Array) -> jax.Array:
        return jnp.reshape(apply(unravel(theta), x_QxD), (n_q,))

    out0 = jax.eval_shape(lambda t: apply(unravel(t), x_QxD), theta0)
    if out0.shape not in ((n_q,), (n_q, 1)):
        raise ValueError(f"the model's output has shape {out0.shape} for x of shape {x_QxD.shape}: a regression "
                         f"model must give one value per node, ({n_q},) or ({n_q}, 1)")

    def outer(theta: jax.Array) -> jax.Array:
        return jnp.asarray(theta)[readout_index]

    def basis(theta: jax.Array) -> jax.Array:
        theta = jnp.asarray(theta)
        return jax.jacfwd(lambda w: output(theta.at[readout_index].set(w)))(outer(theta))

    doubled = output(theta0.at[readout_index].multiply(2.0))
    single = output(theta0)
    if not jnp.allclose(doubled, 2.0 * single, rtol=LINEARITY_RTOL, atol=LINEARITY_RTOL * float(jnp.max(jnp.abs(single)))):
        raise ValueError("the model's output is not linear in its read-out (N(2θᴼ) ≠ 2N(θᴼ)): pass readout= with the "
                         f"last layer's weights (and bias), no activation after it; leaves: {leaf_paths(params)}")

    def loss(theta: jax.Array) -> jax.Array:
        r = output(theta) - v_Q
        total = jnp.sum(weights_Q * r * r)
        return total if scale == 1.0 else scale * total

    def init_flat(key: jax.Array) -> jax.Array:
        if init is None:
            return theta0
        return ravel_pytree(jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), init(key)))[0]

    return Problem(n_params=int(theta0.size), init=init_flat, output=output, basis=basis, outer=outer, loss=loss,
                   hessian=jax.hessian(loss), gauss_newton=gauss_newton_matrix(output, weights_Q, scale), x=x_QxD, target=v_Q, weights=weights_Q, outer_mask=outer_mask,
                   unravel=unravel, scale=scale, solution=output, exact=v_Q)


def from_flax(model: Any, x_QxD: jax.Array) -> tuple[Apply, Any, Callable[[jax.Array], Any] | None] | None:
    """``(apply, params, init)`` of a flax model, or None where ``model`` is not one.

    - ``nnx.Module`` instance: split on ``nnx.Param`` (``nnx.split(model, nnx.Param, ...)``); apply merges the
      graph with a parameter state; no ``init`` (pass θ₀, or a factory).
    - a factory ``key -> nnx.Module`` (a function or the module's class taking ``rngs``): as above for the module
      it builds from key 0, and ``init(key)`` builds one from ``key``.
    - ``linen.Module``: ``init(key) = module.init(key, x)["params"]`` and apply is ``module.apply``.
    """
    try:
        from flax import linen, nnx
    except ImportError:  # flax is a dependency, but a model that is not flax needs none of it
        return None
    if isinstance(model, linen.Module):
        def init(key):
            return model.init(key, x_QxD)["params"]

        return (lambda params, x: model.apply({"params": params}, x)), init(jax.random.key(0)), init
    factory = None
    if not isinstance(model, nnx.Module) and callable(model):
        factory = model
        model = _nnx_from(factory, jax.random.key(0))
        if model is None:
            return None
    if isinstance(model, nnx.Module):
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)

        def apply(p, x):
            return nnx.merge(graphdef, p, rest)(x)

        init = None if factory is None else (lambda key: nnx.split(_nnx_from(factory, key), nnx.Param, ...)[1])
        return apply, params, init
    return None


def _nnx_from(factory: Callable, key: jax.Array) -> Any:
    """``factory(rngs=nnx.Rngs(key))`` if it builds an ``nnx.Module``, else None."""
    from flax import nnx
    try:
        module = factory(rngs=nnx.Rngs(key))
    except TypeError:
        return None
    return module if isinstance(module, nnx.Module) else None
