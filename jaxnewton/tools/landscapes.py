"""Low-dimensional landscapes with known answers: E1 unit circle, E2 elliptic torus, toy saddles.

E1 and E2 are the paper's regression objective L(θ) = ||N(θ) − v||² (Euclidean norm) for a
parametrised approximation N(θ) whose parameters are angles, so θ lives on a circle or a
torus and stationary points are counted modulo 2π. The toy saddles are plain functions on
the plane. Each is a ``Landscape`` whose ``loss`` is a pure function of a flat vector θ_D,
so the same loop, solvers and diagnostics as the networks apply unchanged.

E2's stationary points, for a target on the symmetry axis, v = (0, 0, h) (the only case
``check_torus`` accepts, because then the count can be proved):

    L(θ₁, θ₂) = c(θ₁) (R + r cos θ₂)² + (r sin θ₂ − h)² + const,   c = cos²θ₁ + e² sin²θ₁,

so ∂L/∂θ₁ = c'(θ₁) (R + r cos θ₂)² vanishes (for R > r, e ≠ 1) exactly at θ₁ ∈ {0, π/2,
π, 3π/2}, where ∂²L/∂θ₁∂θ₂ = 0 too. At each, the θ₂-function is the squared distance from
the point (0, h) to an ellipse with semi-axes (√c r, r) centred at (√c R, 0) in the
meridian plane, which has exactly 2 critical points (its minimum and maximum) when the
point lies outside the ellipse's evolute (an astroid). With 0 < e < 1, θ₁ = π/2, 3π/2
(c = e²) are minima in θ₁ and θ₁ = 0, π maxima, giving 2 minima, 2 maxima and 4 saddles.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

TWO_PI = 2.0 * jnp.pi


class Landscape(NamedTuple):
    """A loss over a flat θ_D with what the stationary-point tools need to know about it.

    Attributes:
      name: short name (used in tables and figure titles).
      dim: D.
      loss: ``loss(theta_D) -> L``.
      approximation: ``N(theta_D) -> N_M`` for a regression landscape, None for a plain function.
      target: v, ``v_M``, or None.
      periodic: True when θ is a vector of angles: points equal modulo 2π are the same point.
      low, high: the box the start grid covers on every axis ([0, 2π) for angles).
    """

    name: str
    dim: int
    loss: Callable[[jax.Array], jax.Array]
    approximation: Callable[[jax.Array], jax.Array] | None
    target: jax.Array | None
    periodic: bool
    low: float
    high: float


def regression(name: str, dim: int, approximation: Callable[[jax.Array], jax.Array], target) -> Landscape:
    """L(θ) = ||N(θ) − v||² over angles θ ∈ [0, 2π)^D."""
    v_M = jnp.asarray(target, jnp.float64)

    def loss(theta: jax.Array) -> jax.Array:
        r = approximation(theta) - v_M
        return jnp.sum(r * r)

    return Landscape(name, dim, loss, approximation, v_M, True, 0.0, float(TWO_PI))


def unit_circle(target=(2.0, 2.0)) -> Landscape:
    """E1: N(θ) = [cos θ, sin θ]. For v = [2, 2], L = 9 − 4√2 cos(θ − π/4)."""
    if len(target) != 2:
        raise ValueError(f"the unit circle lives in the plane: target needs 2 entries, got {tuple(target)}")
    return regression("circle", 1, lambda t: jnp.stack([jnp.cos(t[0]), jnp.sin(t[0])]), target)


def check_torus(R: float, r: float, e: float, target) -> None:
    """Raise ValueError unless (R, r, e, v) provably give E2 exactly 8 stationary points (module docstring).

    Conditions: R > r > 0, 0 < e < 1, v = (0, 0, h), and (0, h) outside the evolute of the
    θ₁ = π/2 meridian ellipse: (e² R r)^(2/3) + (|h| r)^(2/3) > (r² (1 − e²))^(2/3). (The
    θ₁ = 0 meridian curve is a circle, whose evolute is its centre (R, 0) ≠ (0, h).)
    """
    if len(target) != 3:
        raise ValueError(f"the torus lives in 3-D: target needs 3 entries, got {tuple(target)}")
    if not R > r > 0:
        raise ValueError(f"torus needs R > r > 0 (a ring torus), got R={R}, r={r}")
    if not 0 < e < 1:
        raise ValueError(f"torus needs an ellipticity 0 < e < 1 (e = 1 is a circular torus with "
                         f"a continuum of stationary points for an axis target), got e={e}")
    if target[0] != 0 or target[1] != 0:
        raise ValueError(f"target must lie on the torus's axis, (0, 0, h), for the 8-point count to be "
                         f"provable; got {tuple(target)}")
    h = target[2]
    if not (e * e * R * r) ** (2 / 3) + (abs(h) * r) ** (2 / 3) > (r * r * (1 - e * e)) ** (2 / 3):
        raise ValueError(f"(0, h={h}) lies inside the evolute of the θ₁ = π/2 meridian ellipse, so there are "
                         f"more than 8 stationary points: increase |h|, R or e")


def elliptic_torus(R: float, r: float, e: float, target) -> Landscape:
    """E2: N(θ₁, θ₂) = [(R + r cos θ₂) cos θ₁, (R + r cos θ₂) e sin θ₁, r sin θ₂]."""
    check_torus(R, r, e, target)

    def approximation(t: jax.Array) -> jax.Array:
        ring = R + r * jnp.cos(t[1])
        return jnp.stack([ring * jnp.cos(t[0]), ring * e * jnp.sin(t[0]), r * jnp.sin(t[1])])

    return regression("torus", 2, approximation, target)


def saddle() -> Landscape:
    """f(x, y) = x² − y²: a non-degenerate saddle at the origin (Hessian diag(2, −2))."""
    return Landscape("saddle", 2, lambda t: t[0] ** 2 - t[1] ** 2, None, None, False, -1.0, 1.0)


def monkey_saddle() -> Landscape:
    """f(x, y) = x³ − 3xy²: a degenerate saddle at the origin (Hessian 0, three descending valleys)."""
    return Landscape("monkey_saddle", 2, lambda t: t[0] ** 3 - 3.0 * t[0] * t[1] ** 2, None, None, False,
                     -1.0, 1.0)
