"""Low paths between two solutions, their barrier heights, and the saddle at the top.

FourierPathFinder (Yu & Morozov 2026, the companion paper): a path from θᵃ to θᵇ

    θ(t) = (1 − t) θᵃ + t θᵇ + Σ_{n=1..N_F} b_n sin(nπt),

so the endpoints are fixed for any coefficients b_n, sampled at M equally spaced t_m ∈ [0, 1]
(both ends included). The b_n start at zero (the straight line) and ADAM minimises

    J(b) = Σ_m L(θ(t_m)) + λ Σ_m |θ(t_{m+1}) − θ(t_m)|²        (objective "f"), or
    J(b) = Σ_m L(θ(t_m))² + λ Σ_m |θ(t_{m+1}) − θ(t_m)|²       (objective "f2", the companion paper's code:
                                                                 an MSE of L against zero),

the second term keeping the sample points spread along the path. The companion paper's code also adds
unit Gaussian noise to the gradient at every step and returns the path of lowest J met (``PathSettings``). The barrier height is
H = max_m L(θ(t_m)), reported absolute and above the higher endpoint, H − max(L(θᵃ), L(θᵇ)).

Saddle verification (not in the companion paper): from the path's highest sample, undamped
Newton on ∇L (which converges to the nearest stationary point of any index: the main paper's
finding, used here as a tool) and the Hessian index of the point reached. An index-1 saddle
whose loss is close to H confirms that the path crosses the ridge at a pass, not on a slope.

Everything is a pure function of flat vectors θ_P; ``make_path_finder`` returns a function of one
pair that ``jax.vmap`` maps over many pairs.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxnewton.core.diagnostics import classify_spectrum, hessian_eigvals
from jaxnewton.engine.config import require
from jaxnewton.engine.loop import CONVERGED, make_loop
from jaxnewton.optim.base import LossFn
from jaxnewton.optim.newton import damped_newton, pseudo_inverse_newton


class PathSettings(NamedTuple):
    """FourierPathFinder's settings (the companion paper's in brackets).

    Attributes:
      n_modes: N_F, sine modes of the deformation (10).
      n_points: M, sample points including both ends (50; the 2-D toy: 100).
      lam: λ, the weight of the segment-length penalty (1e-4; the toy: 10 … 1000).
      learning_rate: ADAM's step on the b_n (not given; the toy's code: 1e-2).
      n_steps: ADAM steps (not given; the toy's code: 300).
      objective: ``"f"`` (Σ L) or ``"f2"`` (Σ L², the companion paper's code), ``PATH_OBJECTIVES``.
      gradient_noise: the standard deviation of Gaussian noise added to every gradient entry each step (the
        toy's code: 1); 0: none.
      keep_best: return the path of lowest J met along the steps (the toy's code) instead of the last.
      noise_seed: the root of the noise's keys.
    """

    n_modes: int = 10
    n_points: int = 50
    lam: float = 1e-4
    learning_rate: float = 1e-2
    n_steps: int = 1000
    objective: str = "f"
    gradient_noise: float = 0.0
    keep_best: bool = False
    noise_seed: int = 0


PATH_OBJECTIVES = ("f", "f2")


def settings_of(config, lam: float | None = None) -> PathSettings:
    """The ``PathSettings`` of a config with the path fields (n_modes, n_points, lam, path_learning_rate,
    path_steps, path_objective, path_noise, path_keep_best); ``lam`` replaces ``config.lam`` when given (the toy
    runs several)."""
    return PathSettings(config.n_modes, config.n_points, config.lam if lam is None else lam,
                        config.path_learning_rate, config.path_steps, config.path_objective, config.path_noise,
                        bool(config.path_keep_best))


def require_path_settings(config) -> None:
    """Check the FourierPathFinder fields of a config (those ``settings_of`` reads), naming the one to change."""
    require(config.n_modes >= 0, "n_modes", config.n_modes, "≥ 0 sine modes (the companion paper: 10)")
    require(config.n_points >= 3, "n_points", config.n_points, "≥ 3 sample points (the companion paper: 50)")
    require(config.path_learning_rate > 0.0, "path_learning_rate", config.path_learning_rate, "an ADAM step > 0")
    require(config.path_steps >= 1, "path_steps", config.path_steps, "an integer ≥ 1")
    require(config.path_objective in PATH_OBJECTIVES, "path_objective", config.path_objective,
            f"one of {list(PATH_OBJECTIVES)} (Σ L, or the companion paper's code's Σ L²)")
    require(config.path_noise >= 0.0, "path_noise", config.path_noise, "a noise standard deviation ≥ 0")
    require(config.path_keep_best in (0, 1), "path_keep_best", config.path_keep_best,
            "1 (return the path of lowest objective met) or 0 (the last)")


def random_pairs(key: jax.Array, n: int, n_pairs: int) -> np.ndarray:
    """``pairs_Kx2`` of distinct members (i < j) of a set of n, drawn without replacement from the
    n(n − 1)/2 pairs; all of them (in random order) when there are no more than ``n_pairs``."""
    i, j = np.triu_indices(n, k=1)
    pick = np.asarray(jax.random.choice(key, i.size, (min(n_pairs, i.size),), replace=False))
    return np.stack([i[pick], j[pick]], axis=1)


def check_settings(settings: PathSettings) -> None:
    """Raise ValueError naming the setting to change."""
    if settings.n_modes < 0:
        raise ValueError(f"n_modes={settings.n_modes}: use ≥ 0 sine modes (0 keeps the straight line)")
    if settings.n_points < 2:
        raise ValueError(f"n_points={settings.n_points}: a path needs ≥ 2 sample points (the paper: 50)")
    if settings.lam < 0:
        raise ValueError(f"lam={settings.lam}: the segment penalty λ must be ≥ 0")
    if settings.learning_rate <= 0 or settings.n_steps < 0:
        raise ValueError(f"learning_rate={settings.learning_rate}, n_steps={settings.n_steps}: "
                         "use a positive learning rate and ≥ 0 steps")
    if settings.objective not in PATH_OBJECTIVES or settings.gradient_noise < 0:
        raise ValueError(f"objective={settings.objective!r}, gradient_noise={settings.gradient_noise}: use one of "
                         f"{list(PATH_OBJECTIVES)} and a noise ≥ 0")


def sample_times(n_points: int) -> jax.Array:
    """t_m = m / (M − 1), m = 0 … M − 1: both endpoints included."""
    return jnp.linspace(0.0, 1.0, n_points, dtype=jnp.float64)


def path_points(theta_a: jax.Array, theta_b: jax.Array, coeffs_NxP: jax.Array, t_M: jax.Array) -> jax.Array:
    """θ(t_m) = (1 − t_m) θᵃ + t_m θᵇ + Σ_n b_n sin(nπ t_m), as ``theta_MxP``."""
    modes = jnp.arange(1, coeffs_NxP.shape[0] + 1, dtype=t_M.dtype)
    ends = (t_M == 0.0) | (t_M == 1.0)
    # sin(nπ) is ~1e-16, not 0, in floating point: the endpoints are kept exact.
    sines_MxN = jnp.where(ends[:, None], 0.0, jnp.sin(jnp.pi * t_M[:, None] * modes[None, :]))
    straight_MxP = (1.0 - t_M)[:, None] * theta_a[None, :] + t_M[:, None] * theta_b[None, :]
    return straight_MxP + sines_MxN @ coeffs_NxP


def path_objective(loss: LossFn, theta_a: jax.Array, theta_b: jax.Array, t_M: jax.Array,
                   lam: jax.Array | float, kind: str = "f") -> Callable[[jax.Array], jax.Array]:
    """J(b) = Σ_m L(θ(t_m)) (``kind="f"``) or Σ_m L(θ(t_m))² (``"f2"``), + λ Σ_m |θ(t_{m+1}) − θ(t_m)|², as a
    function of ``coeffs_NxP``."""

    def objective(coeffs_NxP: jax.Array) -> jax.Array:
        theta_MxP = path_points(theta_a, theta_b, coeffs_NxP, t_M)
        segments = jnp.sum(jnp.diff(theta_MxP, axis=0) ** 2)
        losses = jax.vmap(loss)(theta_MxP)
        return jnp.sum(losses * losses if kind == "f2" else losses) + lam * segments

    return objective


class Barrier(NamedTuple):
    """Heights along one path (a leading pair axis when vmapped).

    Attributes:
      losses: ``loss_M``, L at the sample points (ends included).
      height: H = max_m L(θ(t_m)).
      above: H − max(L(θᵃ), L(θᵇ)), ≥ 0; zero when L never rises above the higher end.
      top: int, the m of the highest sample.
    """

    losses: jax.Array
    height: jax.Array
    above: jax.Array
    top: jax.Array


def barrier(losses_M: jax.Array) -> Barrier:
    """``Barrier`` of a path from its sampled losses (the first and last are the endpoints)."""
    height = jnp.max(losses_M)
    return Barrier(losses_M, height, height - jnp.maximum(losses_M[0], losses_M[-1]), jnp.argmax(losses_M))


class PathResult(NamedTuple):
    """What ``make_path_finder``'s function returns for one pair.

    Attributes:
      coeffs: ``coeffs_NxP``, the optimised b_n.
      straight: ``Barrier`` of the straight line (all b_n = 0).
      optimised: ``Barrier`` of the optimised path.
      objective: ``objective_T``, J every step (its first entry is the straight line's J).
      best_step: the step whose coefficients were returned (``keep_best``; else ``n_steps``, the last).
      top_theta: ``theta_P``, the optimised path's highest sample (where saddle refinement starts).
    """

    coeffs: jax.Array
    straight: Barrier
    optimised: Barrier
    objective: jax.Array
    best_step: jax.Array
    top_theta: jax.Array


def make_path_finder(loss: LossFn, settings: PathSettings) -> Callable[..., PathResult]:
    """FourierPathFinder on ``loss``: ``find(theta_a, theta_b, lam=None, key=None) -> PathResult``.

    ADAM's steps are one ``lax.scan`` (a fixed count: every pair of a vmapped batch takes the same
    number of steps). ``lam`` replaces ``settings.lam`` when given, as an argument: one compiled ``find``
    then serves every λ. ``key`` seeds the gradient noise (default: ``key(settings.noise_seed)``). Not jitted:
    jit (and vmap over pairs) at the top.
    """
    check_settings(settings)
    t_M = sample_times(settings.n_points)
    optimizer = optax.adam(settings.learning_rate)

    def losses(theta_a, theta_b, coeffs_NxP):
        return jax.vmap(loss)(path_points(theta_a, theta_b, coeffs_NxP, t_M))

    def find(theta_a: jax.Array, theta_b: jax.Array, lam: jax.Array | float | None = None,
             key: jax.Array | None = None) -> PathResult:
        objective = path_objective(loss, theta_a, theta_b, t_M, settings.lam if lam is None else lam,
                                   settings.objective)
        coeffs0 = jnp.zeros((settings.n_modes, theta_a.size), theta_a.dtype)
        keys = jax.random.split(jax.random.key(settings.noise_seed) if key is None else key, max(settings.n_steps, 1))

        def step(carry, xs):
            coeffs, opt_state, best = carry
            key_k, k = xs
            value, grad = jax.value_and_grad(objective)(coeffs)
            if settings.gradient_noise > 0.0:
                grad = grad + settings.gradient_noise * jax.random.normal(key_k, grad.shape, grad.dtype)
            if settings.keep_best:  # best = (J, coefficients, after how many steps) of the lowest J met
                better = value < best[0]  # NaN never is
                best = jax.tree.map(lambda new, old: jnp.where(better, new, old), (value, coeffs, k), best)
            with jax.numpy_dtype_promotion("standard"):  # optax mixes its float32 constants in
                updates, opt_state = optimizer.update(grad, opt_state, coeffs)
                coeffs = optax.apply_updates(coeffs, updates).astype(coeffs.dtype)
            return (coeffs, opt_state, best), value

        with jax.numpy_dtype_promotion("standard"):
            opt_state0 = optimizer.init(coeffs0)
        best0 = (jnp.asarray(jnp.inf, theta_a.dtype), coeffs0, jnp.zeros((), jnp.int32))
        steps_T = jnp.arange(settings.n_steps, dtype=jnp.int32)
        (coeffs, _, best), history_T = jax.lax.scan(step, (coeffs0, opt_state0, best0), (keys[:settings.n_steps], steps_T))
        best_step = jnp.asarray(settings.n_steps, jnp.int32)
        if settings.keep_best:  # the last update's result is a candidate too
            last_better = objective(coeffs) < best[0]
            coeffs = jnp.where(last_better, coeffs, best[1])
            best_step = jnp.where(last_better, best_step, best[2])
        optimised = barrier(losses(theta_a, theta_b, coeffs))
        top_theta = path_points(theta_a, theta_b, coeffs, t_M[optimised.top][None])[0]
        return PathResult(coeffs, barrier(losses(theta_a, theta_b, coeffs0)), optimised, history_T, best_step,
                          top_theta)

    return find


class SaddleCheck(NamedTuple):
    """Where Newton on ∇L went from a path's top (a leading axis when vmapped).

    Attributes:
      theta: ``theta_P``, the point reached.
      loss: L there.
      grad_norm: ||∇L||₂ there.
      converged: bool, ||∇L||₂ ≤ tol within the step cap (and finite).
      steps: Newton steps taken.
      index: negative Hessian eigenvalues (|λ| > rtol · max|λ|).
      n_zero: near-zero eigenvalues (|λ| ≤ rtol · max|λ|).
      eigvals: ``eig_P``, the Hessian spectrum, ascending.
    """

    theta: jax.Array
    loss: jax.Array
    grad_norm: jax.Array
    converged: jax.Array
    steps: jax.Array
    index: jax.Array
    n_zero: jax.Array
    eigvals: jax.Array


def make_saddle_check(loss: LossFn, tol: float = 1e-10, max_steps: int = 50, eig_rtol: float = 1e-9,
                      hessian: Callable[[jax.Array], jax.Array] | None = None,
                      pseudo_inverse_rtol: float | None = None) -> Callable[[jax.Array], SaddleCheck]:
    """``check(theta_P) -> SaddleCheck``: undamped Newton θ ← θ − H⁻¹∇L from θ, then the Hessian index.

    Args:
      loss: L(θ) of a flat vector.
      tol: converged when ||∇L||₂ ≤ tol.
      max_steps: the Newton step cap.
      eig_rtol: the near-zero eigenvalue threshold, relative to max|λ| (as ``Config.eig_rtol``).
      hessian: θ ↦ ∇²L(θ) for the steps (``jax.hessian(loss)`` when None); the index always uses
        ``jax.hessian``.
      pseudo_inverse_rtol: when set, the steps use H⁺ instead of H⁻¹ (``optim.newton.pseudo_inverse_newton``):
        for heavily degenerate Hessians (E3's have > 100 of 140 eigenvalues near zero), where H⁻¹∇L
        throws the iterate out of the region.
    """
    solver = (damped_newton(loss, 1.0, 0.0, hessian) if pseudo_inverse_rtol is None
              else pseudo_inverse_newton(loss, pseudo_inverse_rtol, hessian))
    loop = make_loop(loss, solver, tol, max_steps, max_steps, 1e12)

    def check(theta: jax.Array) -> SaddleCheck:
        state = loop.advance(loop.init(theta), jnp.asarray(max_steps, jnp.int32))
        eigvals = hessian_eigvals(loss, state.theta)
        n_neg, n_zero, _, _ = classify_spectrum(eigvals, eig_rtol)
        return SaddleCheck(state.theta, state.loss, state.grad_norm, state.status == CONVERGED, state.steps,
                           n_neg, n_zero, eigvals)

    return check
