"""Pure network models: ``init(key) -> params`` and ``basis(params, x) -> h``.

Every model here has the form of the paper's trivial-solution analysis,

    N(x; θ) = Σ_k θᴼ_k h_k(x; θᴵ),

a bias-free linear read-out θᴼ (``params["out"]``) of basis functions h_k built by
the inner parameters θᴵ (everything else). ``apply`` is derived from ``basis``, so the
split is exact by construction.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxnewton.core.curvature import activation_derivatives

Params = Any

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "tanh": jnp.tanh,
}

BIAS_INITS = ("torch_default", "zeros")
WEIGHT_INITS = ("xavier", "xavier_normal", "siren")
DTYPES = {"float64": jnp.float64, "float32": jnp.float32}


class Model(NamedTuple):
    """A model as pure functions over a parameter pytree.

    Attributes:
      init: ``init(key) -> params``.
      basis: ``basis(params, x_QxD) -> h_QxK``, the last hidden layer's outputs.
      apply: ``apply(params, x_QxD) -> N_Q`` = ``basis(params, x) @ params["out"]``.
      n_basis: K, the width of the last hidden layer.
      activation: σ when the model is a plain MLP (hidden layers σ(h W + b) from h = x,
        parameters as ``make_mlp``'s); this enables ``core.curvature``'s structured
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


def xavier_normal(key: jax.Array, fan_in: int, fan_out: int) -> jax.Array:
    """Glorot-normal weights as PyTorch's ``xavier_normal_`` (gain 1): N(0, 2 / (fan_in + fan_out))."""
    return jnp.sqrt(2.0 / (fan_in + fan_out)) * jax.random.normal(key, (fan_in, fan_out), jnp.float64)


def _bias(key: jax.Array, fan_in: int, fan_out: int, bias_init: str) -> jax.Array:
    if bias_init == "zeros":
        return jnp.zeros((fan_out,), jnp.float64)
    # PyTorch's nn.Linear default, kept when only the weights are re-initialised.
    bound = 1.0 / jnp.sqrt(fan_in)
    return jax.random.uniform(key, (fan_out,), jnp.float64, -bound, bound)


def siren_uniform(key: jax.Array, fan_in: int, fan_out: int, omega0: float, first: bool) -> jax.Array:
    """SIREN weights (Sitzmann et al. 2020, Sec. 3.2 and their code's ``sine_init``).

    First layer U(−1/fan_in, 1/fan_in); every later layer U(−√(6/fan_in)/ω₀, √(6/fan_in)/ω₀),
    so that ω₀·(a W) has unit-order spread whatever ω₀ is.
    """
    bound = 1.0 / fan_in if first else jnp.sqrt(6.0 / fan_in) / omega0
    return jax.random.uniform(key, (fan_in, fan_out), jnp.float64, -bound, bound)


def sine(omega0: float) -> Callable[[jax.Array], jax.Array]:
    """The SIREN activation z ↦ sin(ω₀ z), applied to every hidden layer's pre-activation."""
    return lambda z: jnp.sin(omega0 * z)


def make_mlp(
    in_dim: int,
    widths: tuple[int, ...],
    activation: str = "tanh",
    bias_init: str = "torch_default",
    weight_init: str = "xavier",
    omega0: float = 1.0,
    dtype: str = "float64",
    n_outputs: int = 1,
) -> Model:
    """A fully connected network with hidden biases and a bias-free linear read-out (one output, or m).

    Args:
      in_dim: input dimension D.
      widths: hidden layer widths, e.g. ``(10, 10)``; the last one is K.
      activation: a key of ``ACTIVATIONS``, or ``"sine"``: sin(ω₀ z) (a SIREN).
      bias_init: ``"torch_default"`` (U(−1/√fan_in, 1/√fan_in), what PyTorch leaves in
        ``nn.Linear.bias`` when only weights get ``xavier_uniform_``; Sitzmann et al.'s code
        leaves it too) or ``"zeros"``.
      weight_init: ``"xavier"`` (``xavier_uniform``), ``"xavier_normal"`` or ``"siren"`` (``siren_uniform``,
        which also draws the read-out θᴼ like a later layer).
      omega0: ω₀ of the sine activation and of the SIREN init; unused otherwise.
      dtype: ``"float64"`` or ``"float32"``, the parameters' dtype (drawn in float64, then rounded).
      n_outputs: m. One output (the default): ``out`` is ``w_K`` and ``apply`` gives ``N_Q``; m > 1: ``out`` is
        ``W_KxM`` (drawn like a layer of fan-out m) and ``apply`` gives ``N_QxM``.

    Returns:
      A ``Model``. Parameters: ``{"hidden": [{"w": W_DxH, "b": b_H}, ...], "out": w_K}`` (``W_KxM`` for m > 1).
    """
    if activation not in ACTIVATIONS and activation != "sine":
        raise ValueError(f"activation={activation!r} is unknown; use one of {sorted(ACTIVATIONS) + ['sine']}")
    if bias_init not in BIAS_INITS:
        raise ValueError(f"bias_init={bias_init!r} is unknown; use one of {list(BIAS_INITS)}")
    if weight_init not in WEIGHT_INITS:
        raise ValueError(f"weight_init={weight_init!r} is unknown; use one of {list(WEIGHT_INITS)}")
    if omega0 <= 0:
        raise ValueError(f"omega0={omega0} must be > 0")
    if dtype not in DTYPES:
        raise ValueError(f"dtype={dtype!r} is unknown; use one of {list(DTYPES)}")
    if in_dim < 1 or not widths or any(w < 1 for w in widths) or n_outputs < 1:
        raise ValueError(f"in_dim={in_dim}, widths={widths} and n_outputs={n_outputs} must be positive and widths "
                         "non-empty")
    act = sine(omega0) if activation == "sine" else ACTIVATIONS[activation]
    fans = list(zip((in_dim, *widths[:-1]), widths))

    def weights(key: jax.Array, fan_in: int, fan_out: int, first: bool) -> jax.Array:
        if weight_init == "siren":
            return siren_uniform(key, fan_in, fan_out, omega0, first)
        if weight_init == "xavier_normal":
            return xavier_normal(key, fan_in, fan_out)
        return xavier_uniform(key, fan_in, fan_out)

    def init(key: jax.Array) -> Params:
        keys = jax.random.split(key, 2 * len(fans) + 1)
        hidden = [
            {"w": weights(keys[2 * i], fi, fo, i == 0), "b": _bias(keys[2 * i + 1], fi, fo, bias_init)}
            for i, (fi, fo) in enumerate(fans)
        ]
        out = weights(keys[-1], widths[-1], n_outputs, False)
        out = out[:, 0] if n_outputs == 1 else out
        return jax.tree.map(lambda a: a.astype(DTYPES[dtype]), {"hidden": hidden, "out": out})

    def basis(params: Params, x_QxD: jax.Array) -> jax.Array:
        h = x_QxD
        for layer in params["hidden"]:
            h = act(h @ layer["w"] + layer["b"])
        return h

    def apply(params: Params, x_QxD: jax.Array) -> jax.Array:
        return basis(params, x_QxD) @ params["out"]

    return Model(init=init, basis=basis, apply=apply, n_basis=widths[-1], activation=act)


PARAMETRISATIONS = ("standard", "ntk")


def ntk_scales(params: Params) -> Params:
    """Per-parameter factors s of the NTK parametrisation (Jacot, Gabriel & Hongler 2018) of ``make_mlp``'s network:
    each layer computes σ(a W / √fan_in + b) and the read-out a · θᴼ / √K, i.e. the standard network at θ = s ⊙ θ'
    with s = 1/√fan_in on a layer's weights, 1 on its biases (β = 1) and 1/√K on θᴼ."""
    return {"hidden": [{"w": jnp.full(layer["w"].shape, 1.0 / math.sqrt(layer["w"].shape[0])),
                        "b": jnp.ones(layer["b"].shape)} for layer in params["hidden"]],
            "out": jnp.full(params["out"].shape, 1.0 / math.sqrt(params["out"].shape[0]))}


def make_mlp_classifier(in_dim: int, widths: tuple[int, ...], n_classes: int, activation: str = "tanh") -> Model:
    """A bias-free MLP with C outputs (logits), as the companion paper's 784-50-50-10 network.

    Args:
      in_dim: input dimension D.
      widths: hidden layer widths.
      n_classes: C, the number of logits.
      activation: a key of ``ACTIVATIONS``.

    Returns:
      A ``Model`` whose ``apply`` gives logits ``Q×C``. Parameters:
      ``{"hidden": [{"w": W_DxH}, ...], "out": W_KxC}``, every matrix ``xavier_uniform``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is unknown; use one of {sorted(ACTIVATIONS)}")
    if in_dim < 1 or n_classes < 2 or not widths or any(w < 1 for w in widths):
        raise ValueError(f"in_dim={in_dim}, widths={widths}, n_classes={n_classes}: use positive sizes, "
                         "non-empty widths and at least 2 classes")
    act = ACTIVATIONS[activation]
    fans = list(zip((in_dim, *widths), (*widths, n_classes)))

    def init(key: jax.Array) -> Params:
        keys = jax.random.split(key, len(fans))
        matrices = [xavier_uniform(k, fi, fo) for k, (fi, fo) in zip(keys, fans)]
        return {"hidden": [{"w": w} for w in matrices[:-1]], "out": matrices[-1]}

    def basis(params: Params, x_QxD: jax.Array) -> jax.Array:
        h = x_QxD
        for layer in params["hidden"]:
            h = act(h @ layer["w"])
        return h

    def apply(params: Params, x_QxD: jax.Array) -> jax.Array:
        return basis(params, x_QxD) @ params["out"]

    return Model(init=init, basis=basis, apply=apply, n_basis=widths[-1])


def mlp_basis_derivatives(
    activation: Callable[[jax.Array], jax.Array], params: Params, x_QxD: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """A plain MLP's basis h, its gradient in x and its pure second derivatives in x, in one pass.

    Forward-mode Taylor propagation through each layer a ↦ σ(a W + b): with z = a W + b,
    ∂_d z = ∂_d a W, ∂_dd z = ∂_dd a W, then ∂_d σ(z) = σ'(z) ∂_d z and
    ∂_dd σ(z) = σ''(z) (∂_d z)² + σ'(z) ∂_dd z. Three streams (D + 2 for the Laplacian) instead
    of nested ``jacfwd``, which matters when ``jax.hessian`` in θ is taken of the result.

    Args:
      activation: σ (``Model.activation``).
      params: ``make_mlp`` parameters.
      x_QxD: points.

    Returns:
      ``h_QxK``, ``dh_QxDxK`` (∂h_k/∂x_d) and ``ddh_QxDxK`` (∂²h_k/∂x_d²).
    """
    n_q, dim = x_QxD.shape
    a = x_QxD
    da = jnp.broadcast_to(jnp.eye(dim, dtype=x_QxD.dtype), (n_q, dim, dim))
    dda = jnp.zeros((n_q, dim, dim), x_QxD.dtype)
    for layer in params["hidden"]:
        z = a @ layer["w"] + layer["b"]
        dz, ddz = da @ layer["w"], dda @ layer["w"]
        s0, s1, s2 = activation_derivatives(activation, z)
        a, da, dda = s0, s1[:, None, :] * dz, s2[:, None, :] * dz * dz + s1[:, None, :] * ddz
    return a, da, dda


def fourier_matrix(key: jax.Array, n_features: int, in_dim: int, sigma2: float) -> jax.Array:
    """B of Tancik et al. (2020)'s Gaussian Fourier features: ``B_FxD`` with entries N(0, σ²)."""
    return jnp.sqrt(sigma2) * jax.random.normal(key, (n_features, in_dim), jnp.float64)


FOURIER_SCALES = {"2pi": 2.0 * math.pi, "1": 1.0}  # γ's factor c in sin(c·Bx): Tancik et al.'s 2π, or none


def fourier_features(x_QxD: jax.Array, B_FxD: jax.Array, scale: str = "2pi") -> jax.Array:
    """γ(x) = [sin(cBx), cos(cBx)] with c = 2π (``scale="2pi"``, Tancik et al. 2020) or 1, ``x_QxD -> gamma_Qx2F``."""
    phase = FOURIER_SCALES[scale] * x_QxD @ B_FxD.T
    return jnp.concatenate([jnp.sin(phase), jnp.cos(phase)], axis=1)
