"""Dense linear algebra that stays safe under ``vmap`` on a multi-device CPU backend.

jaxlib ≤ 0.10 fans a batched LAPACK call (getrf, syevd) out to the CPU intra-op thread
pool. When several host devices each run their share of a sharded batch, those devices'
executions already occupy that pool and the batched call can deadlock (observed with
``--xla_force_host_platform_device_count=4``: LU in the Newton step and ``eigvalsh`` in
the diagnostics both hung). So on CPU a batch is handled one matrix at a time with
``jax.custom_batching.sequential_vmap``, on one device too: the loop's program is then the same whatever the
device count, and so are a seed's bits (a batched call on one device and a sequential one on two made XLA fuse the
rest of E3's step differently, and its 10 seeds ended after other step counts; issue 44). It costs the one-device
E3 step about 3% (0.378 against 0.390 ms a seed-step, 64 seeds, one core). GPU and TPU use the batched kernels.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp


def use_one_lapack_thread() -> None:
    """Run the LAPACK that jaxlib calls on CPU (SciPy's OpenBLAS, or MKL) on one thread; the package does at import.

    Its threaded and one-thread paths round differently (measured: LU from n = 150, ``eigh`` from n = 100, Cholesky
    from n = 140 differ in the last bits), and by default it takes as many threads as the machine has cores, so a
    seed's iterates depended on the core count. Its threads also competed with JAX's CPU devices, one per core:
    E5's sweep ran 2.4× slower on 2 cores (docs/performance.md). One thread gives the same bits on any machine.
    """
    import scipy.linalg  # noqa: F401  (loads the library jaxlib's LAPACK kernels call, so its threads can be set)
    import threadpoolctl

    threadpoolctl.threadpool_limits(1, user_api="blas")


def _needs_sequential() -> bool:
    return jax.default_backend() == "cpu"


def per_matrix_on_multi_cpu(fn: Callable) -> Callable:
    """``fn`` itself, but batched one call at a time under vmap on a CPU backend (any device count: module
    docstring)."""
    sequential = jax.custom_batching.sequential_vmap(fn)

    def wrapped(*args):
        return sequential(*args) if _needs_sequential() else fn(*args)

    wrapped.__doc__ = fn.__doc__
    return wrapped


@per_matrix_on_multi_cpu
def lu_solve(a_PxP: jax.Array, b_P: jax.Array) -> jax.Array:
    """x = A⁻¹ b by LU with partial pivoting (LAPACK getrf on CPU).

    ``lu_factor`` + ``lu_solve`` is ~25% faster than ``jnp.linalg.solve`` on batches of
    140×140 on CPU (``scripts/bench.py``).
    """
    return jax.scipy.linalg.lu_solve(jax.scipy.linalg.lu_factor(a_PxP), b_P)


@per_matrix_on_multi_cpu
def symmetric_eigvals(a_PxP: jax.Array) -> jax.Array:
    """Ascending eigenvalues of the symmetric part (A + Aᵀ)/2."""
    return jnp.linalg.eigvalsh(0.5 * (a_PxP + a_PxP.T))


@per_matrix_on_multi_cpu
def symmetric_eigh(a_PxP: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Ascending eigenvalues λ_P and orthonormal eigenvectors V_PxP (columns) of (A + Aᵀ)/2."""
    return jnp.linalg.eigh(0.5 * (a_PxP + a_PxP.T))


SUBPROBLEM_BISECTIONS = 100  # halvings of the shift's bracket: far below float64 resolution of any bracket


def shifted_inverse(matrix_PxP: jax.Array, eps: float, positive: bool = True) -> jax.Array:
    """(M + τI)⁻¹ from one symmetric eigendecomposition of M.

    ``positive``: τ = max(0, ε − λ_min(M)), so the smallest eigenvalue is at least ε > 0 (the classical modified
    Newton matrix, positive definite); else τ = ε (the paper's damped matrix, indefinite where λ_min(M) < −ε).
    """
    lam, vectors = symmetric_eigh(matrix_PxP)
    shifted = lam + (jnp.maximum(0.0, eps - lam[0]) if positive else eps)
    return (vectors / shifted) @ vectors.T


def _shifted_step(lam_P: jax.Array, c_P: jax.Array, mu: jax.Array, tiny: jax.Array) -> jax.Array:
    """z = −c / (λ + μ) in an eigenbasis, 0 where λ + μ ≤ tiny (the hard case's null directions)."""
    denom = lam_P + mu
    ok = denom > tiny
    return jnp.where(ok, -c_P / jnp.where(ok, denom, 1.0), 0.0)


def _bisect(f: Callable[[jax.Array], jax.Array], lo: jax.Array, hi: jax.Array) -> jax.Array:
    """The root of a decreasing f on [lo, hi] (f(lo) ≥ 0 ≥ f(hi)) by ``SUBPROBLEM_BISECTIONS`` halvings."""
    def body(_, bracket):
        a, b = bracket
        m = 0.5 * (a + b)
        return jnp.where(f(m) > 0, m, a), jnp.where(f(m) > 0, b, m)

    a, b = jax.lax.fori_loop(0, SUBPROBLEM_BISECTIONS, body, (lo, hi))
    return 0.5 * (a + b)


def trust_region_subproblem(lam_P: jax.Array, c_P: jax.Array, radius: jax.Array) -> jax.Array:
    """The exact minimiser of cᵀz + ½ Σ λ_i z_i² over ||z|| ≤ Δ, in the eigenbasis of H (Moré & Sorensen 1983).

    z = −(Λ + μI)⁻¹c with μ ≥ max(0, −λ_min): μ = 0 when H is positive definite and its Newton step fits; else
    ||z(μ)|| = Δ, found by bisection (||z(μ)|| decreases in μ). The hard case (c has no component along λ_min's
    eigenvector, so no μ > −λ_min reaches the boundary): μ = −λ_min and the step is completed to the boundary
    along that eigenvector.

    Args:
      lam_P: ascending eigenvalues of H; c_P: Vᵀ∇L; radius: Δ > 0.
    """
    scale = jnp.max(jnp.abs(lam_P)) + jnp.linalg.norm(c_P) + 1e-300
    tiny = 1e-14 * scale
    lo = jnp.maximum(0.0, -lam_P[0])
    newton = _shifted_step(lam_P, c_P, 0.0, tiny)
    interior = (lam_P[0] > tiny) & (jnp.linalg.norm(newton) <= radius)
    hi = lo + jnp.linalg.norm(c_P) / radius + tiny
    mu = _bisect(lambda m: jnp.linalg.norm(_shifted_step(lam_P, c_P, m, tiny)) - radius, lo + tiny, hi)
    hard = jnp.linalg.norm(_shifted_step(lam_P, c_P, lo + 2 * tiny, tiny)) < radius
    mu = jnp.where(hard, lo, mu)
    z = _shifted_step(lam_P, c_P, mu, 2 * tiny)
    fill = jnp.sqrt(jnp.maximum(radius ** 2 - jnp.sum(z * z), 0.0))
    z = jnp.where(hard, z.at[0].add(fill), z)
    return jnp.where(interior, newton, z)


def cubic_subproblem(lam_P: jax.Array, c_P: jax.Array, sigma: jax.Array) -> jax.Array:
    """The global minimiser of cᵀz + ½ Σ λ_i z_i² + (σ/3)||z||³, in the eigenbasis of H (Nesterov & Polyak 2006).

    z = −(Λ + μI)⁻¹c with μ = σ||z|| ≥ max(0, −λ_min): the root of ||z(μ)|| − μ/σ, decreasing in μ, by bisection.
    Hard case (no such root above −λ_min): μ = −λ_min and the step is completed along λ_min's eigenvector to
    ||z|| = μ/σ.

    Args:
      lam_P: ascending eigenvalues of H; c_P: Vᵀ∇L; sigma: σ > 0.
    """
    scale = jnp.max(jnp.abs(lam_P)) + jnp.linalg.norm(c_P) + 1e-300
    tiny = 1e-14 * scale
    lo = jnp.maximum(0.0, -lam_P[0])
    hi = lo + jnp.sqrt(sigma * jnp.linalg.norm(c_P)) + tiny
    phi = lambda m: jnp.linalg.norm(_shifted_step(lam_P, c_P, m, tiny)) - m / sigma  # noqa: E731
    mu = _bisect(phi, lo + tiny, hi)
    hard = phi(lo + 2 * tiny) < 0
    mu = jnp.where(hard, lo, mu)
    z = _shifted_step(lam_P, c_P, mu, 2 * tiny)
    fill = jnp.sqrt(jnp.maximum((mu / sigma) ** 2 - jnp.sum(z * z), 0.0))
    return jnp.where(hard, z.at[0].add(fill), z)


class MinresResult(NamedTuple):
    """x ≈ A⁻¹b, the iterations taken and the final relative residual estimate ||b − Ax|| / ||b||; with
    ``detect_curvature``, also whether it stopped at a direction of non-positive curvature and that direction (the
    residual r of the iterate before it, rᵀAr ≤ 0), else r = b − Ax and False."""

    x: jax.Array
    iterations: jax.Array
    relative_residual: jax.Array
    nonpositive: jax.Array | None = None
    residual: jax.Array | None = None


def minres(matvec: Callable[[jax.Array], jax.Array], b_P: jax.Array, rtol: float, max_iter: int,
           detect_curvature: bool = False) -> MinresResult:
    """MINRES (Paige & Saunders 1975) for a symmetric, possibly indefinite A given by ``matvec``, from x = 0.

    Lanczos tridiagonalisation with Givens rotations: x_k minimises ||b − Ax|| over the k-th Krylov space, so it
    needs only symmetry (conjugate gradients also needs A positive definite, which H + εI at a saddle is not).
    Stops when the recurred residual estimate falls below ``rtol``·||b||, or after ``max_iter`` products. Written
    here: lineax has CG, GMRES, BiCGStab and LSMR but no MINRES; the recurrences follow SciPy's ``minres`` without a
    preconditioner.

    ``detect_curvature`` (MINRES-NPC, Liu & Roosta 2022, Alg. 1): the residual is recurred too,
    r_k = s_k² r_{k−1} − φ_k c_k v_{k+1}, and the solve stops at the first iteration k with c_{k−1} γ_k⁽¹⁾ ≥ 0, which
    holds exactly when r_{k−1}ᵀ A r_{k−1} ≤ 0; it then returns x_{k−1} and r_{k−1}, a direction of non-positive
    curvature with r_{k−1}ᵀ b = ||r_{k−1}||² > 0 (so −r descends on ½xᵀAx − bᵀx's gradient side: for b = −∇L, r
    itself descends). Without it, the iterates are the same bits as before the option existed.
    """
    beta1 = jnp.linalg.norm(b_P)
    safe_beta1 = jnp.where(beta1 > 0, beta1, 1.0)
    zero = jnp.zeros_like(b_P)
    scalar = lambda value: jnp.asarray(value, b_P.dtype)  # noqa: E731
    # state: k, x, r1, r2, y, w, w2, beta, oldb, dbar, epsln, phibar, cs, sn (+ residual, nonpositive)
    init = (jnp.zeros((), jnp.int32), zero, b_P, b_P, b_P, zero, zero, beta1, scalar(0.0), scalar(0.0), scalar(0.0),
            beta1, scalar(-1.0), scalar(0.0))
    if detect_curvature:
        init = init + (b_P, jnp.zeros((), bool))

    def running(s):
        k, phibar, beta = s[0], s[11], s[7]
        go = (k < max_iter) & (phibar > rtol * beta1) & (beta > 0)
        return go & ~s[15] if detect_curvature else go

    def body(s):
        k, x, r1, r2, y, w, w2, beta, oldb, dbar, epsln, phibar, cs, sn = s[:14]
        v = y / beta
        y = matvec(v)
        y = jnp.where(k >= 1, y - (beta / jnp.where(oldb > 0, oldb, 1.0)) * r1, y)
        alfa = jnp.dot(v, y)
        y = y - (alfa / beta) * r2
        r1, r2 = r2, y
        oldb, beta = beta, jnp.linalg.norm(y)
        oldeps = epsln
        delta = cs * dbar + sn * alfa
        gbar = sn * dbar - cs * alfa
        nonpositive = cs * gbar >= 0  # c_{k−1} γ_k⁽¹⁾ ≥ 0: r_{k−1} has non-positive curvature
        epsln = sn * beta
        dbar = -cs * beta
        gamma = jnp.maximum(jnp.hypot(gbar, beta), jnp.finfo(b_P.dtype).tiny)
        cs, sn = gbar / gamma, beta / gamma
        phi = cs * phibar
        phibar = sn * phibar
        w1, w2 = w2, w
        w = (v - oldeps * w1 - delta * w2) / gamma
        new = (k + 1, x + phi * w, r1, r2, y, w, w2, beta, oldb, dbar, epsln, phibar, cs, sn)
        if not detect_curvature:
            return new
        residual = sn * sn * s[14] - phibar * cs * y / jnp.where(beta > 0, beta, 1.0)
        # Stopping at the direction: keep x_{k−1} and r_{k−1}, count the product spent.
        kept = (k + 1, *(jnp.where(nonpositive, old, upd) for old, upd in zip(s[1:14], new[1:])))
        return kept + (jnp.where(nonpositive, s[14], residual), nonpositive)

    final = jax.lax.while_loop(running, body, init)
    if detect_curvature:
        return MinresResult(final[1], final[0], final[11] / safe_beta1, final[15], final[14])
    return MinresResult(final[1], final[0], final[11] / safe_beta1)
