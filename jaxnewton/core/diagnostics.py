"""What a run converged to: Hessian spectrum, Morse label and trivial-solution measures.

Eigenvalue rule. With λ_max = max|λ_i| of the symmetrised Hessian, an eigenvalue is
near-zero when |λ| ≤ rtol · λ_max, negative or positive otherwise. Labels:

- ``saddle``: at least one negative and one positive eigenvalue (indefinite; flat
  directions do not change that);
- ``minimum`` / ``maximum``: all eigenvalues positive / all negative;
- ``degenerate``: semidefinite with near-zero eigenvalues (or all zero), where the
  second-order test cannot decide. Overparameterised exact fits land here: a
  zero-loss minimum of a network with more parameters than nodes lies on a manifold,
  and its Hessian has at least P − Q zero eigenvalues.

The Morse index is the number of negative eigenvalues, ``n_neg``; the index fraction is n_neg / P.

Spectrum. ``"dense"`` forms H with ``jax.hessian`` and takes every eigenvalue (exact; P ≲ 5 000, O(P³)).
``"lanczos"`` never forms H (``core.spectra.estimate_spectrum`` on Hessian-vector products, O(P) memory,
about 60 · (1 + probes) products): the extreme eigenvalues by Lanczos, the index fraction by stochastic Lanczos
quadrature with a 95% bracket, and the label from the signs of the extreme Ritz values beyond the threshold
(rtol · max|θ|, the same rule): ``saddle`` is then certain (interlacing puts an eigenvalue of H beyond each
Ritz value), ``minimum`` / ``maximum`` are not (``label_certain`` false), and ``degenerate`` is never given (the
near-zero count is not estimated: ``n_zero`` and ``n_pos`` are −1, ``n_neg`` is round(index fraction · P)).

Trivial rule (paper: the stationary point with θᴼ = 0 and every h_k ⊥ v, where
L = ||v||²). A point is trivial when L / L(0) ≥ ``loss_ratio`` and ||N|| / ||v|| ≤
``output_ratio``: the approximation has learned (almost) nothing. For a PINN the same
tests read 𝓛[N] for N and −v for v (``core.problems``). At any stationary
point N is orthogonal to N − v (N lies in the tangent space), so L = ||v||² − ||N||²
and the two tests agree there; together they also reject a non-stationary point that
happens to have the loss of zero. The test is on the function, not on θᴼ = 0, because
redundant basis functions (two equal h_k with opposite weights) give N = 0 with θᴼ ≠ 0.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxnewton.core.curvature import hessian_vector_product
from jaxnewton.core.linalg import symmetric_eigvals
from jaxnewton.core.problems import Problem
from jaxnewton.core.spectra import estimate_spectrum

MINIMUM, MAXIMUM, SADDLE, DEGENERATE = 0, 1, 2, 3
LABELS = ("minimum", "maximum", "saddle", "degenerate")
SPECTRA = ("dense", "lanczos")
LANCZOS_STEPS, LANCZOS_PROBES = 60, 30  # the "lanczos" spectrum: steps per Lanczos run and SLQ probes


class Diagnostics(NamedTuple):
    """End-of-run measures for one seed.

    Attributes:
      eigvals: ``eigvals_P``, ascending eigenvalues of (H + Hᵀ)/2 (``"lanczos"``: the k Ritz values of one
        Lanczos run from a random start, ``eigvals_K``, whose ends bound the spectrum's from inside).
      n_neg, n_zero, n_pos: int32 counts under the rtol rule (n_neg is the Morse index; ``"lanczos"``: see the
        module docstring).
      label: int32 index of ``LABELS``.
      label_certain: bool, false only for a ``"lanczos"`` minimum or maximum.
      index_fraction, index_low, index_high: n_neg / P and its 95% bracket (``"dense"``: all three equal).
      loss_ratio: L / L(0), where L(0) = s ||f||² is the loss of the zero function.
      rel_output_norm: ||F|| / ||f|| (||N|| / ||v|| for regression, ||𝓛[N]|| / ||v|| for a PINN).
      outer_weight_norm: ||θᴼ||₂.
      basis_cosines: ``cos_K``, ⟨F_k, f⟩ / (||F_k|| ||f||) (0 for F_k = 0): for a PINN the cosine
        of 𝓛[h_k] with −v.
      max_basis_cosine: max_k |cos_k|.
      trivial: bool, the trivial rule above.
      rel_l2_error: ||N − u|| / ||u|| against the exact solution u at the problem's error nodes
        (equal weights; for regression the nodes and u = v).
    """

    eigvals: jax.Array
    n_neg: jax.Array
    n_zero: jax.Array
    n_pos: jax.Array
    label: jax.Array
    label_certain: jax.Array
    index_fraction: jax.Array
    index_low: jax.Array
    index_high: jax.Array
    loss_ratio: jax.Array
    rel_output_norm: jax.Array
    outer_weight_norm: jax.Array
    basis_cosines: jax.Array
    max_basis_cosine: jax.Array
    trivial: jax.Array
    rel_l2_error: jax.Array


def hessian_eigvals(loss: Callable[[jax.Array], jax.Array], theta: jax.Array) -> jax.Array:
    """Ascending eigenvalues of the symmetrised exact Hessian of ``loss`` at ``theta``."""
    hessian = jax.hessian(loss)(theta)
    return symmetric_eigvals(hessian)


def classify_spectrum(eigvals: jax.Array, rtol: float) -> tuple[jax.Array, ...]:
    """Counts (n_neg, n_zero, n_pos) and label of a spectrum under the module's rtol rule."""
    threshold = rtol * jnp.max(jnp.abs(eigvals))
    n_neg = jnp.sum(eigvals < -threshold).astype(jnp.int32)
    n_pos = jnp.sum(eigvals > threshold).astype(jnp.int32)
    n_zero = (eigvals.size - n_neg - n_pos).astype(jnp.int32)
    label = jnp.where(
        (n_neg > 0) & (n_pos > 0),
        SADDLE,
        jnp.where(n_zero > 0, DEGENERATE, jnp.where(n_neg == 0, MINIMUM, MAXIMUM)),
    ).astype(jnp.int32)
    return n_neg, n_zero, n_pos, label


def cosines(problem: Problem, basis_QxK: jax.Array, v_Q: jax.Array) -> jax.Array:
    """cos_k = ⟨h_k, v⟩ / (||h_k|| ||v||), defined as 0 where ||h_k|| ||v|| = 0; ``cos_KxM`` per output for ``v_MxQ``."""
    h_KxQ = basis_QxK.T
    if v_Q.ndim == 2:
        return jax.vmap(lambda v: cosines(problem, basis_QxK, v), out_axes=1)(v_Q)
    denom = jnp.sqrt(problem.inner(h_KxQ, h_KxQ) * problem.inner(v_Q, v_Q))
    safe = jnp.where(denom > 0, denom, 1.0)
    return jnp.where(denom > 0, problem.inner(h_KxQ, v_Q) / safe, 0.0)


class TrivialMeasures(NamedTuple):
    """How near θ is to a trivial point, without its spectrum: cheap enough for every iterate of a path."""

    loss_ratio: jax.Array  # L / L(0)
    rel_output_norm: jax.Array  # ||F|| / ||f||
    outer_weight_norm: jax.Array  # ||θᴼ||₂
    trivial: jax.Array  # the trivial rule of the module docstring
    rel_l2_error: jax.Array  # ||N − u|| / ||u||


def make_trivial_measures(problem: Problem, trivial_loss_ratio: float,
                          trivial_output_ratio: float) -> Callable[[jax.Array], TrivialMeasures]:
    """Build ``measures(theta_P) -> TrivialMeasures`` for ``problem`` (the part of ``make_diagnose`` without H)."""
    v_Q = problem.target
    target_norm2 = problem.norm2(v_Q)
    zero_loss = problem.scale * target_norm2
    exact_norm = jnp.linalg.norm(problem.exact)

    def measures(theta: jax.Array) -> TrivialMeasures:
        output = problem.output(theta)
        loss_ratio = problem.loss(theta) / zero_loss
        rel_output_norm = jnp.sqrt(problem.norm2(output) / target_norm2)
        return TrivialMeasures(
            loss_ratio=loss_ratio, rel_output_norm=rel_output_norm,
            outer_weight_norm=jnp.linalg.norm(problem.outer(theta)),
            trivial=(loss_ratio >= trivial_loss_ratio) & (rel_output_norm <= trivial_output_ratio),
            rel_l2_error=jnp.linalg.norm(problem.solution(theta) - problem.exact) / exact_norm)

    return measures


def lanczos_spectrum(loss: Callable[[jax.Array], jax.Array], theta: jax.Array, rtol: float) -> tuple[jax.Array, ...]:
    """(Ritz values, n_neg, n_zero, n_pos, label, certain, index fraction, low, high) of ∇²L(θ) from products only."""
    p = theta.size
    hvp = hessian_vector_product(loss)
    got = estimate_spectrum(lambda v: hvp(theta, v), p, jax.random.key(0), rtol, LANCZOS_PROBES, LANCZOS_STEPS,
                            theta.dtype)
    index = got.index_fraction
    label = jnp.where(got.has_negative & got.has_positive, SADDLE,
                      jnp.where(got.has_negative, MAXIMUM, MINIMUM)).astype(jnp.int32)
    unknown = jnp.asarray(-1, jnp.int32)
    return (got.ritz_values, jnp.round(index.estimate * p).astype(jnp.int32), unknown, unknown, label,
            got.has_negative & got.has_positive, index.estimate, index.low, index.high)


def dense_spectrum(loss: Callable[[jax.Array], jax.Array], theta: jax.Array, rtol: float) -> tuple[jax.Array, ...]:
    """``lanczos_spectrum``'s tuple from every eigenvalue of the formed Hessian (exact: certain, no bracket)."""
    eigvals = hessian_eigvals(loss, theta)
    n_neg, n_zero, n_pos, label = classify_spectrum(eigvals, rtol)
    fraction = n_neg.astype(eigvals.dtype) / eigvals.size
    return eigvals, n_neg, n_zero, n_pos, label, jnp.asarray(True), fraction, fraction, fraction


def make_diagnose(
    problem: Problem, eig_rtol: float, trivial_loss_ratio: float, trivial_output_ratio: float, spectrum: str = "dense"
) -> Callable[[jax.Array], Diagnostics]:
    """Build ``diagnose(theta_P) -> Diagnostics`` for ``problem`` (vmap it over seeds); ``spectrum`` in ``SPECTRA``."""
    if spectrum not in SPECTRA:
        raise ValueError(f"spectrum={spectrum!r}: use one of {', '.join(SPECTRA)}")
    measures = make_trivial_measures(problem, trivial_loss_ratio, trivial_output_ratio)
    spectrum_of = dense_spectrum if spectrum == "dense" else lanczos_spectrum

    def diagnose(theta: jax.Array) -> Diagnostics:
        (eigvals, n_neg, n_zero, n_pos, label, certain, fraction, low, high) = spectrum_of(problem.loss, theta,
                                                                                          eig_rtol)
        m = measures(theta)
        cos_K = cosines(problem, problem.basis(theta), problem.target)
        return Diagnostics(
            eigvals=eigvals,
            n_neg=n_neg,
            n_zero=n_zero,
            n_pos=n_pos,
            label=label,
            label_certain=certain,
            index_fraction=fraction,
            index_low=low,
            index_high=high,
            loss_ratio=m.loss_ratio,
            rel_output_norm=m.rel_output_norm,
            outer_weight_norm=m.outer_weight_norm,
            basis_cosines=cos_K,
            max_basis_cosine=jnp.max(jnp.abs(cos_K)),
            trivial=m.trivial,
            rel_l2_error=m.rel_l2_error,
        )

    return diagnose
