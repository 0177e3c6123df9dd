"""Quasi-Newton optimisers: dense BFGS, L-BFGS, L-BFGS-GSS, and the record of their curvature pairs.

- ``bfgs``: dense inverse-Hessian BFGS (``scale_by_bfgs``, an optax transformation written here)
  behind optax's zoom (strong Wolfe) line search.
- ``lbfgs``: optax's L-BFGS with the same line search.
- ``lbfgs_gss``: L-BFGS whose step comes from a fixed-budget golden-section search
  (``golden_section``), the companion paper's L-BFGS-GSS.
- ``bfgs_fixed_step``: BFGS at a fixed step, with or without its curvature safeguard (an ablation).
- ``bfgs_exact``: BFGS whose approximation starts from, or is reset every k steps to, the exact Hessian
  (``shifted_inverse``: shifted positive definite, or the paper's indefinite H + εI): the mechanism variants.

``track_curvature`` wraps any of them to count the curvature pairs (s, y) its updates used and
how many broke the curvature condition yᵀs > 0. ``bfgs_inverse_hessian`` and
``lbfgs_gss_inverse_hessian`` read the inverse-Hessian approximation out of a solver's state.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxnewton.core.linalg import shifted_inverse
from jaxnewton.optim.base import HessianFn, LossFn, Solver, from_optax

LINESEARCH_STEPS = 20  # optax.lbfgs's default for its zoom line search; BFGS uses the same


def zoom_linesearch() -> optax.GradientTransformationExtraArgs:
    """optax's zoom line search (strong Wolfe: sufficient decrease and |φ'(u)| ≤ 0.9 |φ'(0)|), as L-BFGS uses it."""
    return optax.scale_by_zoom_linesearch(max_linesearch_steps=LINESEARCH_STEPS, initial_guess_strategy="one")


class ScaleByBFGSState(NamedTuple):
    """Dense BFGS state: the previous iterate and gradient, and the inverse-Hessian approximation."""

    count: jax.Array  # updates done
    params: jax.Array  # θ of the previous update
    grad: jax.Array  # ∇L of the previous update
    inv_hessian: jax.Array  # H_PxP ≈ (∇²L)⁻¹, positive definite by construction (unless started indefinite)
    n_updates: jax.Array  # curvature pairs accepted into H
    n_skipped: jax.Array  # pairs refused because yᵀs ≤ 0 (or not finite)


def scale_by_bfgs(guarded: bool = True, start: Callable[[jax.Array], jax.Array] | None = None,
                  reset_every: int = 0) -> optax.GradientTransformation:
    """Dense BFGS as an optax transformation over a flat vector: ``updates`` ∇L ↦ H ∇L.

    H is updated with the pair s = θ_k − θ_{k−1}, y = ∇L_k − ∇L_{k−1} by the inverse BFGS
    formula H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1/yᵀs (Nocedal & Wright, eq. 6.17),
    only when yᵀs > 0: that curvature condition is what keeps H positive definite. A refused
    pair leaves H unchanged (``n_skipped`` counts them). Before the first accepted pair H is
    min(1, 1/||∇L||) I (optax's L-BFGS start); the first accepted pair rescales it to
    (|yᵀs| / yᵀy) I before updating (Nocedal & Wright, eq. 6.20).

    ``guarded=False`` is the ablation of that safeguard: every pair with yᵀs ≠ 0 is used, so a
    pair of negative curvature makes H indefinite (only the first rescaling keeps its sign).

    ``start(θ) -> H_PxP``, given, is H at θ₀ instead of the scaled identity (no first rescaling), and with
    ``reset_every = k > 0`` H is set to ``start(θ)`` again at every k-th update instead of being updated
    (k = 1: the direction is ``start``'s own at every iterate).

    Written here rather than taken from optimistix: optimistix's BFGS is a whole solver with
    its own loop, state and line search, while this is one transformation that chains with
    the same optax zoom line search as optax's L-BFGS, so ``bfgs`` and ``lbfgs`` differ only
    in how they approximate the Hessian.
    """

    def init(params: jax.Array) -> ScaleByBFGSState:
        zero = jnp.zeros((), jnp.int32)
        inv_hessian = jnp.eye(params.size, dtype=params.dtype) if start is None else start(params)
        return ScaleByBFGSState(count=zero, params=jnp.zeros_like(params), grad=jnp.zeros_like(params),
                                inv_hessian=inv_hessian, n_updates=zero, n_skipped=zero)

    def update(updates: jax.Array, state: ScaleByBFGSState, params: jax.Array | None = None):
        grad = updates
        s, y = params - state.params, grad - state.grad
        sy = jnp.dot(y, s)
        has_pair = state.count > 0
        good = has_pair & jnp.isfinite(sy) & ((sy > 0.0) if guarded else (sy != 0.0))
        rho = 1.0 / jnp.where(good, sy, 1.0)
        eye = jnp.eye(params.size, dtype=params.dtype)
        first = jnp.where(good, jnp.abs(sy) / jnp.dot(y, y), 1.0) * eye
        h = state.inv_hessian if start is not None else jnp.where(state.n_updates == 0, first, state.inv_hessian)
        hy = h @ y
        updated = h - rho * (jnp.outer(s, hy) + jnp.outer(hy, s)) + (rho * rho * jnp.dot(y, hy) + rho) * jnp.outer(s, s)
        if start is None:
            before_pairs = jnp.minimum(1.0, 1.0 / jnp.linalg.norm(grad)) * eye
            inv_hessian = jnp.where(good, updated, jnp.where(has_pair, state.inv_hessian, before_pairs))
        else:
            inv_hessian = jnp.where(good, updated, state.inv_hessian)
            if reset_every:
                # Every k-th update (counting the first, which meets no pair) takes start(θ) instead.
                reset = (state.count % reset_every) == 0
                inv_hessian = jnp.where(reset, start(params), inv_hessian)
        used = good if start is None or not reset_every else good & ~reset
        new_state = ScaleByBFGSState(
            count=state.count + 1, params=params, grad=grad, inv_hessian=inv_hessian,
            n_updates=state.n_updates + used.astype(jnp.int32),
            n_skipped=state.n_skipped + (has_pair & ~good).astype(jnp.int32))
        return inv_hessian @ grad, new_state

    return optax.GradientTransformation(init, update)


def bfgs(loss: LossFn) -> Solver:
    """Dense BFGS (``scale_by_bfgs``) with optax's zoom line search from a unit step.

    Args:
      loss: L(θ) of a flat vector.

    Returns:
      A ``Solver`` whose state is the optax chain's (BFGS state, sign, line-search state).
    """
    return from_optax(optax.chain(scale_by_bfgs(), optax.scale(-1.0), zoom_linesearch()), loss)


def bfgs_fixed_step(eta: float, guarded: bool = True) -> Solver:
    """BFGS without a line search: θ ← θ − η H ∇L, the ablation that tests the curvature safeguard.

    A line search to the strong Wolfe conditions makes every pair satisfy yᵀs > 0, so ``bfgs``
    never needs its safeguard. With a fixed step, pairs of negative curvature do occur:
    ``guarded=True`` refuses them (H stays positive definite), ``guarded=False`` uses them
    (H can become indefinite, as the exact Hessian near a saddle is). Same η as damped Newton.

    Args:
      eta: the fixed step η.
      guarded: refuse pairs with yᵀs ≤ 0 (``scale_by_bfgs``).
    """
    return from_optax(optax.chain(scale_by_bfgs(guarded), optax.scale(-eta)))


def bfgs_exact(loss: LossFn, hessian: HessianFn, eps: float, shift: bool = True, reset_every: int = 0,
               eta: float | None = None) -> Solver:
    """BFGS that starts from the exact Hessian at θ₀ (and is reset to it every ``reset_every`` steps): the mechanism
    variants that ask whether BFGS escapes the trivial saddle because of its positive-definite model.

    Args:
      loss: L(θ) of a flat vector.
      hessian: the exact ∇²L.
      eps: with ``shift``, H's start is (∇²L + τI)⁻¹ with λ_min(∇²L + τI) ≥ ε (``shifted_inverse``: positive
        definite); without, the paper's damped Newton matrix (∇²L + εI)⁻¹, indefinite where ∇²L has an eigenvalue
        below −ε.
      shift: as above. An indefinite start runs at the fixed step ``eta`` with every pair used (no curvature
        safeguard): its first step is damped Newton's, and the Wolfe line search, which needs a descent
        direction, is not used.
      reset_every: k > 0: H is set to the shifted exact inverse again at every k-th step (k = 1 is a modified
        Newton step with a Wolfe line search).
      eta: the fixed step of the indefinite start (required there, unused otherwise).
    """
    if shift:
        start = lambda theta: shifted_inverse(hessian(theta), eps)  # noqa: E731
        return from_optax(optax.chain(scale_by_bfgs(True, start, reset_every), optax.scale(-1.0),
                                      zoom_linesearch()), loss)
    if eta is None or reset_every:
        raise ValueError("an indefinite BFGS start runs at a fixed step: give eta, and no reset_every")
    start = lambda theta: shifted_inverse(hessian(theta), eps, positive=False)  # noqa: E731
    return from_optax(optax.chain(scale_by_bfgs(False, start), optax.scale(-eta)))


def lbfgs(loss: LossFn, memory: int) -> Solver:
    """optax's L-BFGS (``optax.lbfgs``) with ``memory`` pairs and its zoom line search.

    optax keeps every pair its line search produced; a successful strong-Wolfe search
    guarantees yᵀs > 0, a failed one does not (``track_curvature`` counts such pairs).

    Args:
      loss: L(θ) of a flat vector.
      memory: the number of curvature pairs kept.
    """
    return from_optax(optax.lbfgs(memory_size=memory, linesearch=zoom_linesearch()), loss)


GOLDEN = 0.5 * (3.0 - 5.0 ** 0.5)  # 0.381966…: a golden-section point sits this fraction into the larger segment


class GoldenResult(NamedTuple):
    """``golden_section``'s answer: the best step u found, φ(u), and the bracket [low, high] around it."""

    u: jax.Array
    value: jax.Array
    low: jax.Array
    high: jax.Array


def golden_section(phi: Callable[[jax.Array], jax.Array], phi0: jax.Array, u0: jax.Array | float,
                   n_eval: int) -> GoldenResult:
    """Derivative-free minimisation of φ(u), u ≥ 0, in exactly ``n_eval`` evaluations of φ.

    Bracket by doubling: try u0, 2u0, 4u0, … while φ keeps decreasing; the first increase
    closes the bracket [a, b] around the best point c. (If φ(u0) ≥ φ(0) the bracket is
    [0, u0] with c = 0.) Then shrink by golden section: evaluate d a fraction 0.382 into
    the larger of [a, c] and [c, b], keep the better of c and d as the new c and the side
    that still brackets it. For a unimodal φ the minimiser stays in [low, high].

    The evaluations are one ``fori_loop`` of fixed length (a small state machine, not a
    nested data-dependent loop), so every seed of a vmapped batch does the same work.
    A non-finite φ(d) counts as +∞.

    Args:
      phi: φ(u) for a scalar u.
      phi0: φ(0).
      u0: the first trial step (> 0).
      n_eval: the evaluation budget.

    Returns:
      ``GoldenResult``: u = 0 with φ(0) when no trial decreased φ; ``high`` is the untried
      next doubling while the bracket never closed.
    """
    u0 = jnp.asarray(u0, jnp.result_type(phi0))
    zero = jnp.zeros_like(u0)

    def body(_, carry):
        a, c, b, fc, expanding, u_next = carry
        right = (b - c) > (c - a)
        golden = jnp.where(right, c + GOLDEN * (b - c), c - GOLDEN * (c - a))
        d = jnp.where(expanding, u_next, golden)
        fd = phi(d)
        fd = jnp.where(jnp.isfinite(fd), fd, jnp.inf)
        better = fd < fc
        # Expanding: a better d moves the bracket's start to the old c and doubles on; a worse one closes it.
        # Shrinking: keep the side of the better point (c or d).
        new_a = jnp.where(expanding, jnp.where(better, c, a),
                          jnp.where(better, jnp.where(d > c, c, a), jnp.where(d > c, a, d)))
        new_b = jnp.where(expanding, jnp.where(better, b, d),
                          jnp.where(better, jnp.where(d > c, b, c), jnp.where(d > c, d, b)))
        new_c = jnp.where(better, d, c)
        return (new_a, new_c, new_b, jnp.where(better, fd, fc), expanding & better,
                jnp.where(expanding & better, 2.0 * d, u_next))

    a, c, b, fc, expanding, u_next = jax.lax.fori_loop(
        0, n_eval, body, (zero, zero, jnp.full_like(u0, jnp.inf), phi0, jnp.asarray(True), u0))
    return GoldenResult(u=c, value=fc, low=a, high=jnp.where(expanding, u_next, b))


class LBFGSGSSState(NamedTuple):
    """L-BFGS-GSS state: a circular memory of ``m`` curvature pairs and what the next search needs."""

    s: jax.Array  # s_mxP, steps θ_{k+1} − θ_k
    y: jax.Array  # y_mxP, gradient changes
    rho: jax.Array  # rho_m = 1 / yᵀs
    n_pairs: jax.Array  # pairs held (≤ m); 0 after a reset
    newest: jax.Array  # slot of the newest pair
    params: jax.Array  # θ of the previous update
    grad: jax.Array  # ∇L of the previous update
    loss: jax.Array  # L(θ) at the current iterate: φ(0) of the next search
    step_init: jax.Array  # the next search's first trial u
    count: jax.Array  # updates done
    n_resets: jax.Array  # history resets caused by a bad pair


def lbfgs_direction(grad: jax.Array, s_mxP: jax.Array, y_mxP: jax.Array, rho_m: jax.Array, n_pairs: jax.Array,
                    newest: jax.Array, gamma: jax.Array) -> jax.Array:
    """H ∇L by the L-BFGS two-loop recursion (Nocedal & Wright, Alg. 7.4) over a circular memory.

    Slot ``newest`` holds the newest pair, ``newest − 1`` (mod m) the one before, and so on
    for ``n_pairs`` pairs; H₀ = γ I. Inactive slots are masked, so the loop has a fixed length.
    """
    m = s_mxP.shape[0]

    def backward(i, carry):
        q, alpha = carry
        j = (newest - i) % m
        a = jnp.where(i < n_pairs, rho_m[j] * jnp.dot(s_mxP[j], q), 0.0)
        return q - a * y_mxP[j], alpha.at[j].set(a)

    q, alpha = jax.lax.fori_loop(0, m, backward, (grad, jnp.zeros_like(rho_m)))

    def forward(i, r):
        k = m - 1 - i
        j = (newest - k) % m
        b = rho_m[j] * jnp.dot(y_mxP[j], r)
        return r + jnp.where(k < n_pairs, alpha[j] - b, 0.0) * s_mxP[j]

    return jax.lax.fori_loop(0, m, forward, gamma * q)


def lbfgs_gss(loss: LossFn, memory: int, n_eval: int) -> Solver:
    """L-BFGS-GSS (Yu & Morozov 2026): L-BFGS whose step length comes from a golden-section search.

    Each update: form the pair (s, y) of the last step; if yᵀs ≤ 0 or it is not finite the
    whole history is reset (the companion paper's safeguard), else it enters the memory.
    The direction p = H ∇L comes from the two-loop recursion with H₀ = (sᵀy / yᵀy) I of the
    newest pair (min(1, 1/||∇L||) I without pairs), and θ ← θ − u p with u from
    ``golden_section`` on φ(u) = L(θ − u p), ``n_eval`` evaluations from u = 1. When no
    trial decreased L, θ stays and the next search starts at the shrunk bracket's end
    instead of 1 (a step of zero is not a curvature pair and resets nothing).

    Args:
      loss: L(θ) of a flat vector.
      memory: pairs kept (the paper: 10).
      n_eval: loss evaluations per step search (the paper: about 6).
    """

    def init(theta: jax.Array) -> LBFGSGSSState:
        zero = jnp.zeros((), jnp.int32)
        return LBFGSGSSState(
            s=jnp.zeros((memory, theta.size), theta.dtype), y=jnp.zeros((memory, theta.size), theta.dtype),
            rho=jnp.zeros((memory,), theta.dtype), n_pairs=zero, newest=jnp.asarray(memory - 1, jnp.int32),
            params=theta, grad=jnp.zeros_like(theta), loss=loss(theta), step_init=jnp.ones((), theta.dtype),
            count=zero, n_resets=zero)

    def update(theta: jax.Array, grad: jax.Array, state: LBFGSGSSState, done: jax.Array):
        s, y = theta - state.params, grad - state.grad
        sy = jnp.dot(y, s)
        moved = (state.count > 0) & jnp.any(s != 0.0)
        good = moved & jnp.isfinite(sy) & (sy > 0.0)
        reset = moved & ~good
        slot = (state.newest + 1) % memory
        keep = lambda new, old: jnp.where(good, new, old)  # noqa: E731
        s_mem = keep(state.s.at[slot].set(s), state.s)
        y_mem = keep(state.y.at[slot].set(y), state.y)
        rho_mem = keep(state.rho.at[slot].set(1.0 / jnp.where(good, sy, 1.0)), state.rho)
        newest = keep(slot, state.newest)
        n_pairs = jnp.where(good, jnp.minimum(state.n_pairs + 1, memory), jnp.where(reset, 0, state.n_pairs))
        y_new = y_mem[newest]
        has_pairs = n_pairs > 0
        yy = jnp.where(has_pairs, jnp.dot(y_new, y_new), 1.0)
        gamma = jnp.where(has_pairs, jnp.dot(s_mem[newest], y_new) / yy, jnp.minimum(1.0, 1.0 / jnp.linalg.norm(grad)))
        p = lbfgs_direction(grad, s_mem, y_mem, rho_mem, n_pairs, newest, gamma)
        search = golden_section(lambda u: loss(theta - u * p), state.loss, state.step_init, n_eval)
        found = search.u > 0.0
        new_state = LBFGSGSSState(
            s=s_mem, y=y_mem, rho=rho_mem, n_pairs=n_pairs.astype(jnp.int32), newest=newest.astype(jnp.int32),
            params=theta, grad=grad, loss=search.value,
            step_init=jnp.where(found, 1.0, jnp.where(jnp.isfinite(search.high), search.high, 1.0)),
            count=state.count + 1, n_resets=state.n_resets + reset.astype(jnp.int32))
        return theta - search.u * p, new_state

    return Solver(init=init, update=update)


class CurvatureState(NamedTuple):
    """``track_curvature``'s record around a solver's own state."""

    inner: Any  # the wrapped solver's state
    params: jax.Array  # θ of the previous update
    grad: jax.Array  # ∇L of the previous update
    n_pairs: jax.Array  # pairs (s, y) formed so far (one per update after the first)
    n_bad: jax.Array  # of which yᵀs ≤ 0 or not finite: the curvature condition failed
    last_ratio: jax.Array  # yᵀs / sᵀs of the newest pair: the mean curvature along the last step


def track_curvature(solver: Solver) -> Solver:
    """``solver`` plus a count of the curvature pairs (s, y) it met and how many had yᵀs ≤ 0.

    s = θ_k − θ_{k−1} and y = ∇L_k − ∇L_{k−1} are the pair a quasi-Newton update uses at
    step k, whatever the wrapped solver then does with it (BFGS and L-BFGS-GSS refuse a bad
    pair; optax's L-BFGS stores it). yᵀs / sᵀs is the average of the true Hessian's
    curvature along the step. A step of zero forms no pair. Trajectories are unchanged.
    """

    def init(theta: jax.Array) -> CurvatureState:
        zero = jnp.zeros((), jnp.int32)
        return CurvatureState(inner=solver.init(theta), params=theta, grad=jnp.zeros_like(theta), n_pairs=zero,
                              n_bad=zero, last_ratio=jnp.full((), jnp.nan, theta.dtype))

    def update(theta: jax.Array, grad: jax.Array, state: CurvatureState, done: jax.Array):
        s, y = theta - state.params, grad - state.grad
        ss = jnp.dot(s, s)
        formed = ss > 0.0
        sy = jnp.dot(y, s)
        bad = formed & ~(jnp.isfinite(sy) & (sy > 0.0))
        new_theta, inner = solver.update(theta, grad, state.inner, done)
        return new_theta, CurvatureState(
            inner=inner, params=theta, grad=grad, n_pairs=state.n_pairs + formed.astype(jnp.int32),
            n_bad=state.n_bad + bad.astype(jnp.int32),
            last_ratio=jnp.where(formed, sy / jnp.where(formed, ss, 1.0), state.last_ratio))

    return Solver(init=init, update=update)


def bfgs_inverse_hessian(state: Any) -> jax.Array:
    """H_PxP ≈ (∇²L)⁻¹ stored in a dense BFGS solver's state (``bfgs`` and ``bfgs_fixed_step``: the chain's first)."""
    return state[0].inv_hessian


def lbfgs_gss_inverse_hessian(state: LBFGSGSSState) -> jax.Array:
    """H_PxP of L-BFGS-GSS: the two-loop recursion applied to the identity's columns.

    H₀ = γI with γ = sᵀy / yᵀy of the newest pair, as the step uses; I with no pairs.
    """
    n, newest = state.n_pairs, state.newest
    sy, yy = jnp.dot(state.s[newest], state.y[newest]), jnp.dot(state.y[newest], state.y[newest])
    gamma = jnp.where(n > 0, sy / jnp.where(n > 0, yy, 1.0), 1.0)
    columns = jnp.eye(state.s.shape[1], dtype=state.s.dtype)
    return jax.vmap(lambda e: lbfgs_direction(e, state.s, state.y, state.rho, n, newest, gamma))(columns)
