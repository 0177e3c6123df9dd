"""E8: in high dimension almost no symmetric matrix is definite, so almost every stationary point is a saddle.

Large n (the paper's 10⁵ matrices of size 140): each matrix is tested for positive and for
negative definiteness by a Cholesky factorisation of M and of −M, the cheapest correct test
(n³/3 flops each, against 4n³/3 for the tridiagonal reduction every eigenvalue needs, and
25× faster than ``eigvalsh`` measured on the 2-core CPU; LAPACK's Cholesky fails exactly
when a pivot is not positive, and is backward stable, so the verdict is right unless
|λ_min| is within a few n·eps·||M|| of zero). The first ``eig_sample`` matrices also get every
eigenvalue: the fraction of negative ones (the index / n) is histogrammed against the
semicircle law's prediction, 1/2, with the GOE's leading-order spread
sd ≈ √(ln n) / (π n) (Majumdar, Nadal, Scardicchio & Vivo 2009), and the Cholesky verdicts are
checked against the eigenvalues' signs on every one of them.

Small n (1…8): P(positive definite) by sampling, with Wilson intervals, against Dean &
Majumdar's (2006) asymptotic exp(−(ln 3 / 4) n²) for the GOE; the rate θ of a fit
ln p = c − b n − θ n² (the O(n) correction included) is reported beside ln 3 / 4.

Matrix i of a stream is drawn from ``fold_in(stream key, i)``: a count does not depend on how
the matrices are chunked. Chunks are checkpointed, so an interrupted run resumes.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton import __version__
from jaxnewton.config import RandomHessiansConfig
from jaxnewton.results import (Log, Progress, checkpoint_dir, load_npz, wilson_interval, write_config, write_csv,
                               write_npz, write_summary)

ASYMPTOTIC_RATE = math.log(3) / 4  # Dean & Majumdar (2006): P(GOE n×n positive definite) ≈ exp(−(ln 3/4) n²)
LARGE_STREAM, SMALL_STREAM = 0, 1  # fold_in(root, ·): the large matrices' and the small sizes' key streams
MIN_COUNT_FOR_FIT = 10  # a small n enters the rate fit when at least this many definite matrices were seen
HIST_BINS = 120  # pooled-eigenvalue histogram over [−1.25 R, 1.25 R], R the semicircle radius
SAVE_EVERY_S = 10.0


def offdiagonal_variance(ensemble: str) -> float:
    """Variance of an off-diagonal entry: 1/2 for the GOE ((A + Aᵀ)/2), 1 for the mirrored triangle."""
    return 0.5 if ensemble == "goe" else 1.0


def semicircle_radius(n: int, ensemble: str) -> float:
    """The edge R = 2σ√n of the semicircle law (σ² the off-diagonal variance)."""
    return 2.0 * math.sqrt(offdiagonal_variance(ensemble) * n)


def sample_symmetric(key: jax.Array, n: int, ensemble: str) -> jax.Array:
    """One symmetric ``M_NxN`` of ``ensemble``, drawn from its n(n + 1)/2 independent entries.

    ``"goe"``: the law of (A + Aᵀ)/2 with A's entries standard normal (off-diagonal N(0, 1/2),
    diagonal N(0, 1)). ``"mirror"``: A's upper triangle mirrored (every entry N(0, 1)).
    Drawing the triangle rather than A halves the random numbers; the law is the same.
    """
    rows, cols = np.triu_indices(n)
    z = jax.random.normal(key, (len(rows),), jnp.float64)
    if ensemble == "goe":
        z = jnp.where(jnp.asarray(rows == cols), z, z * math.sqrt(0.5))
    upper = jnp.zeros((n, n), jnp.float64).at[rows, cols].set(z)
    return upper + upper.T - jnp.diag(jnp.diag(upper))


def is_positive_definite(M_NxN: jax.Array) -> jax.Array:
    """Whether the Cholesky factorisation of M exists (JAX returns NaN where a pivot is not positive)."""
    return jnp.all(jnp.isfinite(jnp.linalg.cholesky(M_NxN)))


def definiteness(M_CxNxN: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(positive definite, negative definite) of each symmetric matrix, by Cholesky of M and of −M.

    One batched Cholesky of [M; −M]: jaxlib ≤ 0.10 can deadlock when two batched LAPACK calls of one
    CPU computation run side by side in the intra-op thread pool (seen here with Cholesky next to
    eigvalsh), so each compiled function below makes exactly one.
    """
    ok = jnp.all(jnp.isfinite(jnp.linalg.cholesky(jnp.concatenate([M_CxNxN, -M_CxNxN]))), axis=(1, 2))
    return ok[: len(M_CxNxN)], ok[len(M_CxNxN):]


def matrices(key: jax.Array, index_C: jax.Array, n: int, ensemble: str) -> jax.Array:
    """``M_CxNxN``: matrix i of the stream ``key`` for each i in ``index_C``."""
    return jax.vmap(lambda i: sample_symmetric(jax.random.fold_in(key, i), n, ensemble))(index_C)


def make_large_fns(n: int, ensemble: str):
    """Jitted functions for the large matrices: sample and test a chunk; every eigenvalue of a chunk."""
    radius = semicircle_radius(n, ensemble)
    edges = jnp.linspace(-1.25 * radius, 1.25 * radius, HIST_BINS + 1)

    @jax.jit
    def test(key, index_C):
        M = matrices(key, index_C, n, ensemble)
        return M, *definiteness(M)

    @jax.jit
    def eigvals(M_CxNxN, valid_C):
        lam_CxN = jax.vmap(jnp.linalg.eigvalsh)(M_CxNxN)
        hist = jnp.histogram(lam_CxN.ravel(), edges, weights=jnp.repeat(valid_C, n).astype(jnp.float64))[0]
        return jnp.sum(lam_CxN < 0, axis=1), lam_CxN[:, 0], lam_CxN[:, -1], hist

    return test, eigvals, np.asarray(edges)


def make_small_count(n: int, ensemble: str):
    """Jitted: how many of the matrices ``index_C`` of stream ``key`` are positive / negative definite."""

    @jax.jit
    def count(key, index_C, valid_C):
        pd, nd = definiteness(matrices(key, index_C, n, ensemble))
        return jnp.sum(pd & valid_C), jnp.sum(nd & valid_C)

    return count


def fit_rate(sizes: np.ndarray, counts: np.ndarray, samples: np.ndarray) -> dict | None:
    """θ of a weighted least-squares fit ln p = c − b n − θ n², and of ln p = c − θ n² beside it.

    Dean & Majumdar's large deviation is ln P = −θ n² + O(n): the linear term carries the O(n)
    correction, without which small n bias θ upward. Only sizes with ≥ MIN_COUNT_FOR_FIT definite
    samples enter; weights are the counts (the inverse variance of ln p̂ is about k). None if fewer
    than 3 sizes qualify.
    """
    use = counts >= MIN_COUNT_FOR_FIT
    if use.sum() < 3:
        return None
    n, y, w = sizes[use].astype(float), np.log(counts[use] / samples[use]), counts[use].astype(float)

    def solve(columns):
        A = np.stack(columns, axis=1) * np.sqrt(w)[:, None]
        return np.linalg.lstsq(A, y * np.sqrt(w), rcond=None)[0]

    c, b, theta = solve([np.ones_like(n), -n, -n * n])
    c2, theta2 = solve([np.ones_like(n), -n * n])
    return {"rate": float(theta), "linear": float(b), "intercept": float(c), "sizes": sizes[use].tolist(),
            "quadratic_only": {"rate": float(theta2), "intercept": float(c2)}}


class LargeState(NamedTuple):
    positive_definite: np.ndarray  # bool (n_matrices,)
    negative_definite: np.ndarray  # bool (n_matrices,)
    n_neg: np.ndarray  # int (eig_sample,): negative eigenvalues of each sampled matrix
    lam_min: np.ndarray  # (eig_sample,)
    lam_max: np.ndarray  # (eig_sample,)
    hist: np.ndarray  # (HIST_BINS,) pooled eigenvalues of the sample


def _chunks(start: int, stop: int, size: int):
    for a in range(start, stop, size):
        b = min(a + size, stop)
        index = np.arange(a, a + size)
        yield a, b, index, index < b


def run_random_hessians(config: RandomHessiansConfig, out_dir: Path | str, log: Log = print,
                        progress: Progress | None = None) -> dict:
    """Count definite matrices at ``config.size`` and at the small sizes; write the results folder.

    Writes ``config.json``, ``small_n.csv`` (one row per small n), ``arrays.npz`` (leading
    matrix axis: definiteness of every large matrix; index, λ_min, λ_max of the eigenvalue
    sample; the pooled-eigenvalue histogram), ``summary.json`` and ``random_hessians.png``.

    Args:
      config: a validated RandomHessiansConfig.
      out_dir: the results folder (created if missing).
      log: where progress lines go.
      progress: called after every chunk with the fraction done and "k/N matrices".

    Returns:
      The summary dict (also written to ``summary.json``).
    """
    out = Path(out_dir)
    checkpoint = checkpoint_dir(out, config.hash(), log) / "state.npz"
    write_config(out, config)
    n, N, S = config.size, config.n_matrices, config.eig_sample
    root = jax.random.key(config.seed)
    large_key = jax.random.fold_in(root, LARGE_STREAM)
    small_keys = {m: jax.random.fold_in(jax.random.fold_in(root, SMALL_STREAM), m) for m in config.small_sizes}

    # Work units for progress: a matrix costs ~ its generation and two Cholesky factorisations, ~ m² + m³/150
    # (measured on the 2-core CPU), and every eigenvalue ~ m³/23 more.
    def cost(m: int, eig: bool = False) -> float:
        return m * m + m ** 3 / 150 + (m ** 3 / 23 if eig else 0.0)

    total = S * cost(n, True) + (N - S) * cost(n) + sum(config.small_samples * cost(m) for m in config.small_sizes)

    state = LargeState(np.zeros(N, bool), np.zeros(N, bool), np.zeros(S, np.int64), np.zeros(S), np.zeros(S),
                       np.zeros(HIST_BINS))
    large_done, small = 0, {}
    seconds = 0.0
    if checkpoint.exists():
        saved = load_npz(checkpoint)
        state = LargeState(*(saved[k] for k in LargeState._fields))
        large_done, seconds = int(saved["large_done"]), float(saved["seconds"])
        small = {int(m): (int(pd), int(nd)) for m, pd, nd in saved["small"]}
        log(f"[{config.name}] resumed: {large_done}/{N} large matrices, small sizes done {sorted(small)}")
    start = time.perf_counter() - seconds
    last_save = time.perf_counter()

    def save(force: bool = False) -> None:
        nonlocal last_save
        if force or time.perf_counter() - last_save > SAVE_EVERY_S:
            write_npz(checkpoint, {**state._asdict(), "large_done": large_done,
                                   "seconds": time.perf_counter() - start,
                                   "small": np.array([[m, *small[m]] for m in small], np.int64).reshape(-1, 3)})
            last_save = time.perf_counter()

    def report(text: str) -> None:
        done = (min(large_done, S) * cost(n, True) + max(large_done - S, 0) * cost(n)
                + sum(config.small_samples * cost(m) for m in small))
        if progress is not None:
            progress(done / total, text)

    log(f"[{config.name}] {N} {config.ensemble.upper()} matrices of size {n} (every eigenvalue of the first {S}); "
        f"P(positive definite) at n = {list(config.small_sizes)} from {config.small_samples} samples each")
    test, eigvals, edges = make_large_fns(n, config.ensemble)
    chunk_log_every = max(1, N // config.chunk // 20)
    k = 0
    while large_done < N:
        a = large_done
        b = min(a + config.chunk, S if a < S else N)  # chunks of the eigenvalue sample end at S
        index = np.arange(a, a + config.chunk)  # padded to one shape: one compilation
        valid = index < b
        M, pd, nd = test(large_key, jnp.asarray(index))
        if a < S:
            n_neg, lam_min, lam_max, hist = eigvals(M, jnp.asarray(valid))
            state.n_neg[a:b], state.lam_min[a:b], state.lam_max[a:b] = (np.asarray(x)[: b - a] for x in
                                                                        (n_neg, lam_min, lam_max))
            state = state._replace(hist=state.hist + np.asarray(hist))
        state.positive_definite[a:b], state.negative_definite[a:b] = np.asarray(pd)[: b - a], np.asarray(nd)[: b - a]
        large_done = b
        save()
        report(f"{large_done}/{N} matrices of size {n}")
        if k % chunk_log_every == 0 or large_done == N:
            log(f"  size {n}: {large_done}/{N}, {int(state.positive_definite[:b].sum())} positive and "
                f"{int(state.negative_definite[:b].sum())} negative definite, {time.perf_counter() - start:.1f} s")
        k += 1
    save(force=True)

    for m in config.small_sizes:
        if m in small:
            continue
        count = make_small_count(m, config.ensemble)
        pd = nd = 0
        for a, b, index, valid in _chunks(0, config.small_samples, config.small_chunk):
            c_pd, c_nd = count(small_keys[m], jnp.asarray(index), jnp.asarray(valid))
            pd, nd = pd + int(c_pd), nd + int(c_nd)
        small[m] = (pd, nd)
        save(force=True)
        report(f"small n = {m}: {pd}/{config.small_samples} positive definite")
        log(f"  n = {m}: {pd}/{config.small_samples} positive definite, {nd} negative definite, "
            f"{time.perf_counter() - start:.1f} s")
    return write_results(config, state, small, edges, out, time.perf_counter() - start, log)


def write_results(config: RandomHessiansConfig, state: LargeState, small: dict[int, tuple[int, int]],
                  edges: np.ndarray, out: Path, seconds: float, log: Log) -> dict:
    """small_n.csv, arrays.npz, the figure and summary.json."""
    from jaxnewton import plots  # matplotlib is only imported when figures are drawn

    n, N, S = config.size, config.n_matrices, config.eig_sample
    rows = []
    for m in config.small_sizes:
        pd, nd = small[m]
        low, high = wilson_interval(pd, config.small_samples)
        rows.append({"n": m, "p_positive_definite": pd / config.small_samples, "ci_low": low, "ci_high": high,
                     "samples": config.small_samples, "count": pd, "count_negative_definite": nd,
                     "asymptotic": math.exp(-ASYMPTOTIC_RATE * m * m)})
    write_csv(out / "small_n.csv", rows, list(rows[0]))
    sizes = np.array([r["n"] for r in rows])
    fit = fit_rate(sizes, np.array([r["count"] for r in rows]), np.array([r["samples"] for r in rows]))
    write_npz(out / "arrays.npz", {**state._asdict(), "hist_edges": edges})

    n_pd, n_nd = int(state.positive_definite.sum()), int(state.negative_definite.sum())
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "n_matrices": N,
        "size": n,
        "ensemble": config.ensemble,
        "n_positive_definite": n_pd,
        "n_negative_definite": n_nd,
        "definite_ci95": list(wilson_interval(n_pd + n_nd, N)),
        "small_n": [{k: r[k] for k in ("n", "p_positive_definite", "ci_low", "ci_high", "samples", "count")}
                    for r in rows],
        "fitted_rate": fit["rate"] if fit else None,
        "fit": fit,
        "asymptotic_rate": ASYMPTOTIC_RATE,
    }
    if S:
        eig_pd, eig_nd = state.lam_min > 0, state.lam_max < 0
        fraction = state.n_neg / n
        summary["eig_sample"] = {
            "matrices": S,
            "cholesky_agrees_with_eigvalsh": int(np.sum((eig_pd == state.positive_definite[:S])
                                                        & (eig_nd == state.negative_definite[:S]))),
            "index_fraction_mean": float(fraction.mean()),
            "index_fraction_sd": float(fraction.std(ddof=1)) if S > 1 else 0.0,
            "index_fraction_sd_goe_leading_order": math.sqrt(math.log(n)) / (math.pi * n),
            "index_fraction_range": [float(fraction.min()), float(fraction.max())],
            "min_abs_eigenvalue": float(np.min(np.minimum(np.abs(state.lam_min), np.abs(state.lam_max)))),
        }
    summary["definitions"] = {
        "ensemble": {"goe": "(A + Aᵀ)/2, A with standard-normal entries", "mirror": "A's upper triangle mirrored"}[
            config.ensemble],
        "n_positive_definite": "Cholesky of M succeeds (every pivot positive); n_negative_definite: of −M",
        "definite_ci95": "95% Wilson interval for P(definite) at this size from these matrices",
        "small_n": "P(positive definite) by sampling, 95% Wilson interval",
        "fitted_rate": f"θ of a least-squares fit ln p = c − b n − θ n² (weights = counts) over the small n with "
                       f"≥ {MIN_COUNT_FOR_FIT} definite samples (fit.quadratic_only: the fit without b n); "
                       "asymptotic_rate = ln 3 / 4 (Dean & Majumdar 2006)",
        "eig_sample": "the first matrices, with every eigenvalue: the index fraction (negative eigenvalues / n) "
                      "and how many Cholesky verdicts the eigenvalues' signs confirm",
    }
    summary["wall_seconds"] = seconds
    plots.save(plots.random_hessians(summary, rows, fit, state, edges, config), out / "random_hessians.png")
    write_summary(out, summary)
    log(f"[{config.name}] size {n}: {n_pd} positive and {n_nd} negative definite of {N}; fitted rate "
        f"{summary['fitted_rate']} vs ln3/4 = {ASYMPTOTIC_RATE:.4f}; {seconds:.1f} s → {out}")
    return summary
