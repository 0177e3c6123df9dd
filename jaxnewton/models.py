"""Pure network models: ``init(key) -> params`` and ``basis(params, x) -> h``.

Every model here has the form of the paper's trivial-solution analysis,

    N(x; θ) = Σ_k θᴼ_k h_k(x; θᴵ),

a bias-free linear read-out θᴼ (``params["out"]``) of basis functions h_k built by
the inner parameters θᴵ (everything else). ``apply`` is derived from ``basis``, so the
split is exact by construction.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

Params = Any

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "tanh": jnp.tanh,
}

BIAS_INITS = ("torch_default", "zeros")


class Model(NamedTuple):
    """A model as pure functions over a parameter pytree.

    Attributes:
      init: ``init(key) -> params``.
      basis: ``basis(params, x_QxD) -> h_QxK``, the last hidden layer's outputs.
      apply: ``apply(params, x_QxD) -> N_Q`` = ``basis(params, x) @ params["out"]``.
      n_basis: K, the width of the last hidden layer.
      activation: σ when the model is a plain MLP (hidden layers σ(h W + b) from h = x,
        parameters as ``make_mlp``'s); this enables ``jaxnewton.curvature``'s structured
        Hessian. None for any other model.
    """

    init: Callable[[jax.Array], Params]
    basis: Callable[[Params, jax.Array], jax.Array]
    apply: Callable[[Params, jax.Array], jax.Array]
    n_basis: int
    activation: Callable[[jax.Array], jax.Array] | None = None


def xavier_uniform(key: jax.Array, fan_in: int, fan_out: int) -> jax.Array:
    """Glorot-uniform weights as PyTorch's ``xavier_uniform_`` (gain 1).

    U(−a, a) with a = √(6 / (fan_in + fan_out)). Stored as ``(fan_in, fan_out)`` so the
    layer is ``x @ W``; PyTorch stores the transpose, and the bound is symmetric in the
    two fans, so the distribution is the same.
    """
    bound = jnp.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, (fan_in, fan_out), jnp.float64, -bound, bound)


def _bias(key: jax.Array, fan_in: int, fan_out: int, bias_init: str) -> jax.Array:
    if bias_init == "zeros":
        return jnp.zeros((fan_out,), jnp.float64)
    # PyTorch's nn.Linear default, kept when only the weights are re-initialised.
    bound = 1.0 / jnp.sqrt(fan_in)
    return jax.random.uniform(key, (fan_out,), jnp.float64, -bound, bound)


def make_mlp(
    in_dim: int,
    widths: tuple[int, ...],
    activation: str = "tanh",
    bias_init: str = "torch_default",
) -> Model:
    """A fully connected network with hidden biases and a bias-free scalar output.

    Args:
      in_dim: input dimension D.
      widths: hidden layer widths, e.g. ``(10, 10)``; the last one is K.
      activation: a key of ``ACTIVATIONS``.
      bias_init: ``"torch_default"`` (U(−1/√fan_in, 1/√fan_in), what PyTorch leaves in
        ``nn.Linear.bias`` when only weights get ``xavier_uniform_``) or ``"zeros"``.

    Returns:
      A ``Model``. Parameters: ``{"hidden": [{"w": W_DxH, "b": b_H}, ...], "out": w_K}``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is unknown; use one of {sorted(ACTIVATIONS)}")
    if bias_init not in BIAS_INITS:
        raise ValueError(f"bias_init={bias_init!r} is unknown; use one of {list(BIAS_INITS)}")
    if in_dim < 1 or not widths or any(w < 1 for w in widths):
        raise ValueError(f"in_dim={in_dim} and widths={widths} must be positive and widths non-empty")
    act = ACTIVATIONS[activation]
    fans = list(zip((in_dim, *widths[:-1]), widths))

    def init(key: jax.Array) -> Params:
        keys = jax.random.split(key, 2 * len(fans) + 1)
        hidden = [
            {"w": xavier_uniform(keys[2 * i], fi, fo), "b": _bias(keys[2 * i + 1], fi, fo, bias_init)}
            for i, (fi, fo) in enumerate(fans)
        ]
        out = xavier_uniform(keys[-1], widths[-1], 1)[:, 0]
        return {"hidden": hidden, "out": out}

    def basis(params: Params, x_QxD: jax.Array) -> jax.Array:
        h = x_QxD
        for layer in params["hidden"]:
            h = act(h @ layer["w"] + layer["b"])
        return h

    def apply(params: Params, x_QxD: jax.Array) -> jax.Array:
        return basis(params, x_QxD) @ params["out"]

    return Model(init=init, basis=basis, apply=apply, n_basis=widths[-1], activation=act)
