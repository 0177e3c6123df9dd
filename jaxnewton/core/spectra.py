"""Spectra of a symmetric operator without forming it: Lanczos extremes and stochastic Lanczos quadrature (SLQ).

For a Hessian too large to form (P ≳ 10⁴), everything here needs only v ↦ Hv (``core.curvature.hessian_vector_product``, forward over reverse):

- ``lanczos``: k steps of Lanczos with full reorthogonalisation, restarted with a fresh orthogonal vector where the
  Krylov space closes (an invariant subspace), so every Ritz value is an eigenvalue of H restricted to the span.
- ``extreme_eigenvalues``: the smallest and largest Ritz values, each with its residual bound ||H y − θ y||:
  an eigenvalue of H lies within it, and by interlacing λ_min ≤ θ_min, θ_max ≤ λ_max.
- ``slq_index_fraction``: the Morse index fraction (1/P) tr 1[λ < −t], t = rtol · max|λ| (the diagnostics' rule),
  by Gauss quadrature of the spectral measure seen from Rademacher probes (Ubaru, Chen & Saad 2017), with a 95%
  bracket that covers the probe noise and the nodes too near zero to place (a near-zero cluster is an interior
  cluster, which Lanczos resolves only slowly; the near-zero *count* is not estimated for that reason).
- ``estimate_spectrum``: both, and the Morse label with how sure it is: "saddle" is certain once one Ritz value is
  below −t and one above t (Ritz values lie inside the spectrum's hull); "minimum" / "maximum" are not
  (Lanczos may miss an eigenvalue of the other sign).

matfree (Krämer 2024) has Lanczos tridiagonalisation and trace estimators; these ~80 lines are written here to keep
the dependency list to what the brief allows and to carry the restart and residual bounds the label needs.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxnewton.core.linalg import symmetric_eigh

MatVec = Callable[[jax.Array], jax.Array]


class Lanczos(NamedTuple):
    """The tridiagonal T_k = Qᵀ H Q of ``lanczos``: its diagonal, off-diagonal, the last step's β (residual) and Q."""

    alpha: jax.Array  # alpha_k
    beta: jax.Array  # beta_{k−1}: T's off-diagonal (0 where the space was restarted)
    residual: jax.Array  # β_k: ||H q_k − Σ ...||, the norm that bounds every Ritz pair's residual
    basis: jax.Array  # Q as rows, basis_KxP, orthonormal, first row v0 / ||v0|| (unused, it costs nothing under jit)


def _orthogonalise(basis_KxP: jax.Array, w: jax.Array) -> jax.Array:
    """w minus its projection on the rows of ``basis`` (twice: classical Gram–Schmidt needs the second pass)."""
    w = w - basis_KxP.T @ (basis_KxP @ w)
    return w - basis_KxP.T @ (basis_KxP @ w)


def lanczos(matvec: MatVec, v0_P: jax.Array, k: int, key: jax.Array) -> Lanczos:
    """k Lanczos steps from v0 with full reorthogonalisation (k ≤ P).

    Where the Krylov space closes (β ≤ 1e-12 · |T|), the next vector is a fresh random one (from ``key``)
    orthogonal to the basis, and T's off-diagonal entry is 0: T stays block diagonal, every Ritz value an
    eigenvalue of H on the span, and the blocks after the first carry no weight in v0's spectral measure.
    """
    p = v0_P.size
    if not 1 <= k <= p:
        raise ValueError(f"k={k}: use 1 ≤ k ≤ P = {p}")
    basis = jnp.zeros((k, p), v0_P.dtype).at[0].set(v0_P / jnp.linalg.norm(v0_P))

    def body(j, carry):
        basis, alpha, beta, scale = carry
        q = basis[j]
        w = matvec(q)
        a = jnp.dot(q, w)
        w = _orthogonalise(basis, w)  # the rows past j are still zero
        b = jnp.linalg.norm(w)
        scale = jnp.maximum(scale, jnp.abs(a) + b)
        closed = b <= 1e-12 * scale
        fresh = _orthogonalise(basis, jax.random.normal(jax.random.fold_in(key, j), (p,), v0_P.dtype))
        following = jnp.where(closed, fresh / jnp.linalg.norm(fresh), w / jnp.where(closed, 1.0, b))
        row = jnp.minimum(j + 1, k - 1)
        basis = basis.at[row].set(jnp.where(j + 1 < k, following, basis[row]))
        return basis, alpha.at[j].set(a), beta.at[j].set(jnp.where(closed, 0.0, b)), scale

    zeros = jnp.zeros((k,), v0_P.dtype)
    basis, alpha, beta, _ = jax.lax.fori_loop(0, k, body, (basis, zeros, zeros, jnp.zeros((), v0_P.dtype)))
    return Lanczos(alpha=alpha, beta=beta[:-1], residual=beta[-1], basis=basis)


def ritz(t: Lanczos) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Ritz values θ (ascending), their quadrature weights (first components of T's eigenvectors, squared) and
    residual bounds |β_k s_k| (last components): an eigenvalue of H lies within each bound of its θ."""
    theta, vectors = _tridiagonal_eigh(t)
    return theta, vectors[0] ** 2, jnp.abs(t.residual * vectors[-1])


def _tridiagonal_eigh(t: Lanczos) -> tuple[jax.Array, jax.Array]:
    # core.linalg's eigh: one matrix at a time on CPU. A batched call here (probes × seeds) deadlocked a two-device
    # CPU run in its end points' Lanczos spectra (the real-data study, P = 1 440, 2026-12-05; core.linalg's docstring).
    matrix = jnp.diag(t.alpha) + jnp.diag(t.beta, 1) + jnp.diag(t.beta, -1)
    return symmetric_eigh(matrix)


def lanczos_matrix_function(t: Lanczos, f: Callable[[jax.Array], jax.Array], norm_v0: jax.Array) -> jax.Array:
    """f(H) v0 ≈ Q f(T) Qᵀ v0 = ||v0|| Q S f(Θ) Sᵀ e₁ from a Lanczos run started at v0 (T = S Θ Sᵀ).

    Exact (to rounding) once the Krylov space of v0 is invariant under H (k = P, or fewer steps where it closes:
    the restarted blocks have no weight in e₁); for k below that it is the Lanczos approximation of f(H) v0.
    """
    theta, vectors = _tridiagonal_eigh(t)
    return t.basis.T @ (vectors @ (norm_v0 * vectors[0] * f(theta)))


class Extremes(NamedTuple):
    """The extreme Ritz values and their residual bounds (``extreme_eigenvalues``)."""

    smallest: jax.Array
    smallest_bound: jax.Array
    largest: jax.Array
    largest_bound: jax.Array


def extreme_eigenvalues(matvec: MatVec, p: int, key: jax.Array, k: int = 60, dtype=jnp.float64) -> Extremes:
    """λ_min and λ_max of H by k Lanczos steps from a random start (λ_min ≤ smallest, largest ≤ λ_max)."""
    theta, _, bound = _random_start_ritz(matvec, p, key, k, dtype)
    return Extremes(theta[0], bound[0], theta[-1], bound[-1])


def _random_start_ritz(matvec: MatVec, p: int, key: jax.Array, k: int, dtype) -> tuple[jax.Array, ...]:
    """``ritz`` of min(k, P) Lanczos steps from a Gaussian start."""
    start_key, restart_key = jax.random.split(key)
    return ritz(lanczos(matvec, jax.random.normal(start_key, (p,), dtype), min(k, p), restart_key))


class Fraction(NamedTuple):
    """An SLQ share of the eigenvalues: its estimate and a 95% bracket (``slq_index_fraction``); arrays under
    ``jit``/``vmap``."""

    estimate: jax.Array
    low: jax.Array
    high: jax.Array


class SpectrumEstimate(NamedTuple):
    """What ``estimate_spectrum`` says of H: extremes, index fraction and which signs the Ritz values show.

    Every field is an array, so ``estimate_spectrum`` runs under ``jit`` and ``vmap`` (the diagnostics of a sweep at
    large P, ``core.diagnostics``); ``label`` and ``certain`` read it.
    """

    extremes: Extremes
    index_fraction: Fraction  # share of eigenvalues below −t
    threshold: jax.Array  # t = rtol · max|λ| (from the extreme Ritz values)
    ritz_values: jax.Array  # the extremes run's k Ritz values, ascending
    has_negative: jax.Array  # a Ritz value below −t: H has an eigenvalue below −t (interlacing)
    has_positive: jax.Array  # a Ritz value above t

    @property
    def label(self) -> str:
        """saddle, minimum or maximum (names of ``core.diagnostics.LABELS``)."""
        if bool(self.has_negative) and bool(self.has_positive):
            return "saddle"
        return "maximum" if bool(self.has_negative) else "minimum"

    @property
    def certain(self) -> bool:
        """True only for a saddle shown by Ritz values of both signs (Lanczos may miss an eigenvalue of the other
        sign, or near zero, so "minimum" and "maximum" are not certain)."""
        return bool(self.has_negative) and bool(self.has_positive)


def slq_index_fraction(matvec: MatVec, p: int, key: jax.Array, threshold: float | jax.Array, n_probes: int = 30,
                       k: int = 60, band: float = 1e-2, dtype=jnp.float64) -> Fraction:
    """The share of eigenvalues below −``threshold`` by SLQ over Rademacher probes, with a 95% bracket.

    A Gauss node stands for the spectral mass around it, and an interior cluster (the near-zero eigenvalues of a
    trivial saddle) is resolved only slowly: its node can sit on either side of a small threshold for any
    moderate k. So the mass of the nodes within ``band`` · max|θ| of zero is *ambiguous*: the estimate counts the
    nodes below −threshold, and the bracket runs from the probes' 95% lower bound of the clearly negative mass
    (nodes below −band·max|θ|) to the upper bound of the clearly negative plus the ambiguous mass. The tests
    measure the bracket against ``eigvalsh`` (docs: it holds on spectra with a 12% cluster at zero).
    """
    k = min(k, p)

    def probe(key):
        z_key, restart_key = jax.random.split(key)
        z = jax.random.rademacher(z_key, (p,), dtype)
        theta, weight, _ = ritz(lanczos(matvec, z, k, restart_key))
        edge = band * jnp.max(jnp.abs(theta))
        mass = lambda below: jnp.sum(jnp.where(theta < below, weight, 0.0))  # noqa: E731
        return mass(-threshold), mass(-jnp.maximum(edge, threshold)), mass(jnp.maximum(edge, threshold))

    estimate, clear, possible = jax.lax.map(probe, jax.random.split(key, n_probes))
    half = (lambda x: 1.959963984540054 * jnp.std(x, ddof=1) / jnp.sqrt(n_probes)) if n_probes > 1 else (
        lambda x: jnp.inf)
    return Fraction(jnp.mean(estimate), jnp.clip(jnp.mean(clear) - half(clear), 0.0, 1.0),
                    jnp.clip(jnp.mean(possible) + half(possible), 0.0, 1.0))


def estimate_spectrum(matvec: MatVec, p: int, key: jax.Array, rtol: float, n_probes: int = 30, k: int = 60,
                      dtype=jnp.float64) -> SpectrumEstimate:
    """Extremes, the index fraction and the signs of H under the diagnostics' rtol rule, from products only.

    Costs k (extremes) + ``n_probes`` · k (SLQ) products; traceable (``jit``, ``vmap`` over seeds).
    """
    extremes_key, slq_key = jax.random.split(key)
    theta, _, bound = _random_start_ritz(matvec, p, extremes_key, k, dtype)
    extremes = Extremes(theta[0], bound[0], theta[-1], bound[-1])
    threshold = rtol * jnp.maximum(jnp.abs(extremes.smallest), jnp.abs(extremes.largest))
    index = slq_index_fraction(matvec, p, slq_key, threshold, n_probes, k, dtype=dtype)
    return SpectrumEstimate(extremes, index, threshold, theta, theta[0] < -threshold, theta[-1] > threshold)
