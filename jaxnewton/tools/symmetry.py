"""The exact symmetries of an MLP's parameters, a canonical form, and a distance modulo them.

Hidden unit k of layer l enters the network through column k of W_l (and b_l[k]) and leaves it
through row k of the next weight matrix (or of the read-out). Permuting the units of a layer, with
the same permutation applied to those columns and rows, changes no output; neither does, for an
odd activation (tanh, sine), flipping the sign of unit k's column, bias and row at once, since
σ(−z) = −σ(z). So a non-zero minimum is never unique, and the midpoint of two of its copies is in
general not a minimum: the loss is not convex (the teaching text of ``../shared/PAPER.md``, §3).

``canonical`` picks one member of each orbit, layer by layer from the input: for an odd activation
it makes each unit's largest-magnitude incoming weight (bias included) positive, then sorts the
units by the norm of their incoming weights. Layer l's incoming weights are rows of layer l − 1's
units, which are already in canonical order and sign, so the key of every layer is well defined and
two symmetric copies reach bitwise the same canonical form (ties in the key have measure zero).

Parameters are ``core.models`` pytrees: ``{"hidden": [{"w": W_IxH, "b": b_H (optional)}, …],
"out": w_K or W_KxC}``. Every function is pure ``jax.numpy`` and maps under ``vmap``.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

Params = Any


def _check(params: Params, transforms: list) -> None:
    if len(transforms) != len(params["hidden"]):
        raise ValueError(f"got {len(transforms)} per-layer transforms for {len(params['hidden'])} hidden layers; "
                         "give one per hidden layer")


def _next_weights(params: Params, layer: int) -> tuple[Any, Any]:
    """The matrix whose rows are layer ``layer``'s outgoing weights, and how to put it back."""
    hidden = params["hidden"]
    if layer + 1 < len(hidden):
        return hidden[layer + 1]["w"], lambda p, w: _set_hidden(p, layer + 1, "w", w)
    return params["out"], lambda p, w: {**p, "out": w}


def _set_hidden(params: Params, layer: int, key: str, value: jax.Array) -> Params:
    hidden = list(params["hidden"])
    hidden[layer] = {**hidden[layer], key: value}
    return {**params, "hidden": hidden}


def transform_layer(params: Params, layer: int, order_H: jax.Array, signs_H: jax.Array) -> Params:
    """Unit k of hidden layer ``layer`` becomes ``signs_H[k]`` × old unit ``order_H[k]``.

    Column k of W, b[k] and row k of the next weights are taken from unit ``order_H[k]`` and multiplied
    by ``signs_H[k]`` (±1). A permutation with all signs +1 is exact for any activation; a sign −1
    is exact only for an odd one.
    """
    unit = params["hidden"][layer]
    params = _set_hidden(params, layer, "w", unit["w"][:, order_H] * signs_H[None, :])
    if "b" in unit:
        params = _set_hidden(params, layer, "b", unit["b"][order_H] * signs_H)
    following, put = _next_weights(params, layer)
    rows = following[order_H] * (signs_H[:, None] if following.ndim == 2 else signs_H)
    return put(params, rows)


def transform(params: Params, orders: list[jax.Array], signs: list[jax.Array]) -> Params:
    """``transform_layer`` applied to every hidden layer (one order and one sign vector per layer)."""
    _check(params, orders)
    _check(params, signs)
    for layer, (order_H, signs_H) in enumerate(zip(orders, signs)):
        params = transform_layer(params, layer, order_H, signs_H)
    return params


def random_symmetry(key: jax.Array, params: Params, odd: bool) -> tuple[list[jax.Array], list[jax.Array]]:
    """A random element of the symmetry group: a permutation per layer and, when ``odd``, random signs."""
    orders, signs = [], []
    for layer in params["hidden"]:
        key, k_perm, k_sign = jax.random.split(key, 3)
        width = layer["w"].shape[1]
        orders.append(jax.random.permutation(k_perm, width))
        signs.append(jax.random.rademacher(k_sign, (width,), layer["w"].dtype) if odd
                     else jnp.ones((width,), layer["w"].dtype))
    return orders, signs


def incoming(params: Params, layer: int) -> jax.Array:
    """``in_HxI``: each unit's incoming weights, its bias last when the layer has one."""
    unit = params["hidden"][layer]
    columns = unit["w"].T
    return jnp.concatenate([columns, unit["b"][:, None]], axis=1) if "b" in unit else columns


def canonical(params: Params, odd: bool) -> Params:
    """The canonical member of ``params``' orbit (module docstring); idempotent."""
    for layer in range(len(params["hidden"])):
        weights_HxI = incoming(params, layer)
        width = weights_HxI.shape[0]
        if odd:
            largest = jnp.take_along_axis(weights_HxI, jnp.argmax(jnp.abs(weights_HxI), axis=1)[:, None], axis=1)
            signs_H = jnp.where(largest[:, 0] < 0, -1.0, 1.0).astype(weights_HxI.dtype)
            params = transform_layer(params, layer, jnp.arange(width), signs_H)
            weights_HxI = weights_HxI * signs_H[:, None]
        order_H = jnp.argsort(jnp.sum(weights_HxI ** 2, axis=1), stable=True)
        params = transform_layer(params, layer, order_H, jnp.ones((width,), weights_HxI.dtype))
    return params


def canonical_flat(unravel: Callable[[jax.Array], Params], odd: bool) -> Callable[[jax.Array], jax.Array]:
    """``canon(theta_P) -> theta_P``: ``canonical`` on flat vectors (``unravel`` from ``ravel_pytree``)."""
    return lambda theta: ravel_pytree(canonical(unravel(theta), odd))[0]


def distance_modulo_symmetry(canon: Callable[[jax.Array], jax.Array], theta_a: jax.Array,
                             theta_b: jax.Array) -> jax.Array:
    """|canon(θᵃ) − canon(θᵇ)|₂: zero for symmetric copies, an upper bound on the distance between orbits."""
    return jnp.linalg.norm(canon(theta_a) - canon(theta_b))
