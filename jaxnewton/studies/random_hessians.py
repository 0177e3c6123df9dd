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
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.core.stats import wilson_interval
from jaxnewton.engine.config import ConfigBase, Run, require
from jaxnewton.engine import preempt
from jaxnewton.engine.io import (Log, Progress, checkpoint_dir, read_checked_npz, write_checked_npz, write_csv,
                                 write_npz, write_summary)
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary

ENSEMBLES = ("goe", "mirror")
MAX_CHUNK_ENTRIES = 2.5e8  # 2 GB of float64 per compiled chunk


@dataclass(frozen=True)
class RandomHessiansConfig(ConfigBase):
    """E8: how often a random symmetric matrix is definite (``studies.random_hessians``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      size: n of the large matrices (the paper: 140, E3's parameter count).
      n_matrices: how many large matrices are tested for definiteness.
      ensemble: ``"goe"``, the law of (A + Aᵀ)/2 with A standard normal (off-diagonal variance 1/2,
        diagonal 1), or ``"mirror"``, A's upper triangle mirrored (every entry variance 1).
      eig_sample: the first this many large matrices also get every eigenvalue (``eigvalsh``): the
        index histogram, and a check of the definiteness test.
      small_sizes: the n at which P(positive definite) is measured by sampling.
      small_samples: matrices sampled at each small n.
      chunk: large matrices per compiled batch (memory: 8·size²·chunk bytes, times a few).
      small_chunk: small matrices per compiled batch.
      seed: the root key; matrix i of a run is drawn from fold_in(its stream's key, i), so the
        counts do not depend on the chunk sizes.
    """

    name: str
    size: int = 140
    n_matrices: int = 100_000
    ensemble: str = "goe"
    eig_sample: int = 10_000
    small_sizes: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    small_samples: int = 2_000_000
    chunk: int = 500
    small_chunk: int = 200_000
    seed: int = 0

    def validate(self) -> None:
        require(1 <= self.size <= 4096, "size", self.size, "an integer in [1, 4096]")
        require(1 <= self.n_matrices <= 10 ** 8, "n_matrices", self.n_matrices,
                "an integer in [1, 10⁸] (every matrix's verdict is held in memory)")
        require(self.ensemble in ENSEMBLES, "ensemble", self.ensemble, f"one of {list(ENSEMBLES)}")
        require(0 <= self.eig_sample <= self.n_matrices, "eig_sample", self.eig_sample,
                 "an integer in [0, n_matrices]")
        require(len(self.small_sizes) >= 1 and all(1 <= n <= 64 for n in self.small_sizes), "small_sizes",
                 self.small_sizes, "sizes in 1..64, e.g. small_sizes=1,2,3,4,5,6,7,8")
        require(len(set(self.small_sizes)) == len(self.small_sizes), "small_sizes", self.small_sizes,
                 "distinct sizes")
        require(self.small_samples >= 1, "small_samples", self.small_samples, "an integer ≥ 1")
        require(1 <= self.chunk and self.chunk * self.size ** 2 <= MAX_CHUNK_ENTRIES, "chunk", self.chunk,
                f"an integer ≥ 1 with chunk · size² ≤ {MAX_CHUNK_ENTRIES:.1e} (a chunk of matrices is in memory)")
        require(1 <= self.small_chunk and self.small_chunk * max(self.small_sizes) ** 2 <= MAX_CHUNK_ENTRIES,
                "small_chunk", self.small_chunk,
                f"an integer ≥ 1 with small_chunk · max(small_sizes)² ≤ {MAX_CHUNK_ENTRIES:.1e}")


CONFIG = RandomHessiansConfig


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


def run(config: RandomHessiansConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Count definite matrices at ``config.size`` and at the small sizes; write the results folder.

    Writes ``small_n.csv`` (one row per small n), ``arrays.npz`` (leading
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
    checkpoint = checkpoint_dir(out, config.hash()) / "state.npz"
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
    saved = read_checked_npz(checkpoint, log)
    if saved is not None:
        state = LargeState(*(saved[k] for k in LargeState._fields))
        large_done, seconds = int(saved["large_done"]), float(saved["seconds"])
        small = {int(m): (int(pd), int(nd)) for m, pd, nd in saved["small"]}
        log(f"[{config.name}] resumed: {large_done}/{N} large matrices, small sizes done {sorted(small)}")
    start = time.perf_counter() - seconds
    last_save = time.perf_counter()

    def save(force: bool = False) -> None:
        nonlocal last_save
        if force or time.perf_counter() - last_save > SAVE_EVERY_S:
            write_checked_npz(checkpoint, {**state._asdict(), "large_done": large_done,
                                           "seconds": time.perf_counter() - start,
                                           "small": np.array([[m, *small[m]] for m in small], np.int64).reshape(-1, 3)})
            last_save = time.perf_counter()
            preempt.checkpoint_reached(f"{large_done}/{N} large matrices")

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
    save(random_hessians_figure(summary, rows, fit, state, edges, config), out / "random_hessians.png")
    write_summary(out, summary)
    log(f"[{config.name}] size {n}: {n_pd} positive and {n_nd} negative definite of {N}; fitted rate "
        f"{summary['fitted_rate']} vs ln3/4 = {ASYMPTOTIC_RATE:.4f}; {seconds:.1f} s → {out}")
    return summary


# ----------------------------------------------------------------------------- figures

def random_hessians_figure(summary: dict, rows: list[dict], fit: dict | None, state, edges: np.ndarray, config) -> plt.Figure:
    """E8: pooled eigenvalues against the semicircle, the index fraction, and P(positive definite) at small n."""
    n = config.size
    fig, (ax_eig, ax_index, ax_small) = plt.subplots(1, 3, figsize=(17, 4.6))
    radius = semicircle_radius(n, config.ensemble)
    sample = summary.get("eig_sample")
    if sample:
        centres, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
        density = state.hist / (state.hist.sum() * width)
        ax_eig.bar(centres, density, width=width, color="tab:gray", alpha=0.6,
                   label=f"{sample['matrices']} matrices × {n} eigenvalues")
        x = np.linspace(-radius, radius, 400)
        ax_eig.plot(x, 2 / (np.pi * radius ** 2) * np.sqrt(np.maximum(radius ** 2 - x ** 2, 0)), "k",
                    label=f"semicircle, R = {radius:.2f}")
        ax_eig.set(xlabel="eigenvalue λ", ylabel="density", title=f"Eigenvalues ({config.ensemble.upper()}, n = {n})")
        ax_eig.legend(fontsize=7)
        fraction = state.n_neg / n
        values = np.arange(fraction.min() * n - 0.5, fraction.max() * n + 1.5) / n
        ax_index.hist(fraction, bins=values, density=True, color="tab:blue", alpha=0.6,
                      label=f"index / n: mean {sample['index_fraction_mean']:.4f}, sd {sample['index_fraction_sd']:.4f}")
        sd = sample["index_fraction_sd_goe_leading_order"]
        x = np.linspace(values[0], values[-1], 400)
        ax_index.plot(x, np.exp(-((x - 0.5) / sd) ** 2 / 2) / (sd * np.sqrt(2 * np.pi)), "k",
                      label=f"N(1/2, sd² = ln n / (π n)²), sd = {sd:.4f}")
        ax_index.axvline(0.5, color="k", ls=":", lw=1, label="semicircle law: 1/2")
        ax_index.set(xlabel="fraction of negative eigenvalues", ylabel="density",
                     title=f"Index of {sample['matrices']} matrices: {int(np.sum((state.n_neg == 0) | (state.n_neg == n)))} "
                           "at 0 or n (definite)")
        ax_index.legend(fontsize=7)
    sizes = np.array([r["n"] for r in rows])
    p = np.array([r["p_positive_definite"] for r in rows])
    low, high = np.array([r["ci_low"] for r in rows]), np.array([r["ci_high"] for r in rows])
    seen = p > 0
    ax_small.errorbar(sizes[seen], p[seen], yerr=[p[seen] - low[seen], high[seen] - p[seen]], fmt="o",
                      color="tab:blue", capsize=3, label="sampled, 95% CI")
    if (~seen).any():
        ax_small.plot(sizes[~seen], high[~seen], "v", color="tab:blue", mfc="none",
                      label="none seen: 95% upper bound")
    grid = np.linspace(1, sizes.max(), 200)
    ax_small.plot(grid, np.exp(-ASYMPTOTIC_RATE * grid ** 2), "k--", label="exp(−(ln 3 / 4) n²)")
    if fit:
        ax_small.plot(grid, np.exp(fit["intercept"] - fit["linear"] * grid - fit["rate"] * grid ** 2),
                      color="tab:red", label=f"fit exp({fit['intercept']:.2f} − {fit['linear']:.2f} n − "
                                             f"{fit['rate']:.3f} n²)")
        quad = fit["quadratic_only"]
        ax_small.plot(grid, np.exp(quad["intercept"] - quad["rate"] * grid ** 2), color="tab:red", ls=":",
                      label=f"fit without the n term: θ = {quad['rate']:.3f}")
    ax_small.set(yscale="log", xlabel="n", ylabel="P(positive definite)",
                 title=f"Small n, {rows[0]['samples']} samples each")
    ax_small.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- report rows

def random_hessians_cells(summaries: list[Summary]) -> Cells:
    """Cells of E8: definite matrices at the paper's size; small-n probabilities, fitted rate and index spread.

    Verdict: "reproduced" when no matrix of the paper's size and count is definite.
    """
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    n_definite = summary["n_positive_definite"] + summary["n_negative_definite"]
    small = (f"{summary['n_positive_definite']} positive, {summary['n_negative_definite']} negative definite of "
             f"{summary['n_matrices']} ({summary['ensemble'].upper()}, n = {summary['size']}): P(definite) ≤ "
             f"{summary['definite_ci95'][1]:.1e}")
    probabilities = ", ".join(f"{r['n']}: {r['p_positive_definite']:.2g}" for r in summary["small_n"])
    fit = summary.get("fit")
    rate = (f"fitted rate θ = {fit['rate']:.3f} (ln p = c − b n − θ n²; {fit['quadratic_only']['rate']:.3f} without "
            f"the n term) vs ln 3 / 4 = {summary['asymptotic_rate']:.3f}" if fit else "too few definite samples to fit")
    large = f"P(positive definite) at n = {probabilities} ({summary['small_n'][0]['samples']} samples each); {rate}"
    sample = summary.get("eig_sample")
    if sample:
        large += (f"; index / n of {sample['matrices']}: {sample['index_fraction_mean']:.4f} ± "
                  f"{sample['index_fraction_sd']:.4f} (semicircle: 1/2)")
    verdict = "reproduced" if n_definite == 0 else f"differs: {n_definite} definite matrices"
    headline = (f"{n_definite} of {summary['n_matrices']} definite; fitted rate "
                + (f"{fit['rate']:.3f}" if fit else "not fitted") + f" vs ln 3 / 4 = {summary['asymptotic_rate']:.3f}")
    return Cells(small, large, verdict, headline)


RANDOM_HESSIANS_CAPTION = (
    "Left: the eigenvalues of the matrices that got every eigenvalue, against the semicircle law. Middle: their "
    "fraction of negative eigenvalues, against 1/2 and the GOE's leading-order spread. Right: P(positive definite) "
    "at small n by sampling (95% intervals), against exp(−(ln 3 / 4) n²) and the fits.",
    "The paper's argument: in high dimension almost no symmetric matrix is definite, so almost every stationary "
    "point is a saddle.")


ROWS = (
    Row("E8", "random Hessians", "random symmetric 140×140 matrices, standard-normal entries",
        "not one of 10⁵ definite", ("random_hessians",), random_hessians_cells,
        (Figure("random_hessians", "random_hessians.png", RANDOM_HESSIANS_CAPTION),)),
)

RUNS = (
    Run("random_hessians", "random_hessians", 131, quick={"n_matrices": 10_000, "eig_sample": 2_000,
                                                          "small_samples": 200_000}, quick_s=27),
)
