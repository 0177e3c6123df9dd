"""E8: the definiteness test against eigvalsh, the samplers' laws, small-n probabilities, chunking, the run."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.core.stats import wilson_interval
from jaxnewton.engine.config import load_config, override
from jaxnewton.engine.io import load_npz
from jaxnewton.studies.random_hessians import definiteness, fit_rate, make_small_count, matrices
from jaxnewton.studies.registry import run_config
from summaries import table_line, write

GOE_2X2_PD = (2 - math.sqrt(2)) / 4  # ∫ over λ₁, λ₂ > 0 of the 2×2 GOE joint density |λ₁ − λ₂| e^{−(λ₁² + λ₂²)/2}


@jax.jit
def constructed(keys, eigvals):
    """Q diag(eigvals) Qᵀ for each key, with a random orthogonal Q: symmetric matrices with known spectrum."""
    def one(key):
        q, _ = jnp.linalg.qr(jax.random.normal(key, (eigvals.size, eigvals.size)))
        return (q * eigvals) @ q.T
    return jax.vmap(one)(keys)


def test_definiteness_agrees_with_eigvalsh_on_random_and_constructed_matrices():
    """Random GOE matrices against eigvalsh; constructed spectra, including |λ_min| = 1e-8 of either sign.

    Below about n·eps·||M|| (1e-14 here) no floating-point test can tell the sign; 1e-8 is far above it.
    """
    key = jax.random.key(1)
    checked = 0
    test = jax.jit(definiteness)
    for n in (2, 3, 5, 8, 12, 40):
        M = jax.jit(matrices, static_argnums=(2, 3))(jax.random.fold_in(key, n), jnp.arange(40), n, "goe")
        lam = np.linalg.eigvalsh(np.asarray(M))
        pd, nd = test(M)
        np.testing.assert_array_equal(np.asarray(pd), lam[:, 0] > 0)
        np.testing.assert_array_equal(np.asarray(nd), lam[:, -1] < 0)
        checked += len(M)
        spectra = {  # (eigenvalues, positive definite?, negative definite?)
            "definite": (np.linspace(0.5, 3.0, n), True, False),
            "near-singular definite": (np.r_[1e-8, np.linspace(1.0, 3.0, n - 1)], True, False),
            "barely indefinite": (np.r_[-1e-8, np.linspace(1.0, 3.0, n - 1)], False, False),
        }
        for s, (eigvals, want_pd, want_nd) in enumerate(spectra.values()):
            for sign, want in ((1.0, (want_pd, want_nd)), (-1.0, (want_nd, want_pd))):
                keys = jnp.stack([jax.random.fold_in(key, 1000 * n + 10 * s + r) for r in range(5)])
                got = test(constructed(keys, jnp.asarray(sign * eigvals)))
                assert np.asarray(got[0]).tolist() == [want[0]] * 5 and np.asarray(got[1]).tolist() == [want[1]] * 5
                checked += 5
    assert checked >= 400


@pytest.mark.parametrize("ensemble, offdiagonal", [("goe", 0.5), ("mirror", 1.0)])
def test_sampler_law(ensemble, offdiagonal):
    M = np.asarray(matrices(jax.random.key(2), jnp.arange(40_000), 3, ensemble))
    np.testing.assert_array_equal(M, np.swapaxes(M, 1, 2))
    sd_of_variance = math.sqrt(2 / len(M))  # variance estimate of a normal: relative sd √(2/N)
    assert abs(M[:, [0, 1, 2], [0, 1, 2]].var() - 1.0) < 4 * sd_of_variance
    assert abs(M[:, [0, 0, 1], [1, 2, 2]].var() - offdiagonal) < 4 * sd_of_variance * offdiagonal
    assert abs(M.mean()) < 0.02


def goe_reference(key, n):
    """(A + Aᵀ)/2 from a full standard-normal A: the textbook GOE construction."""
    A = jax.random.normal(key, (n, n))
    return (A + A.T) / 2


def sampled_p(n, samples, key, ensemble="goe"):
    count = make_small_count(n, ensemble)
    index = jnp.arange(samples)
    pd, nd = count(key, index, index < samples)
    return int(pd), int(nd)


def test_small_n_probabilities():
    key = jax.random.key(3)
    pd, nd = sampled_p(1, 20_000, key)
    low, high = wilson_interval(pd, 20_000)
    assert low <= 0.5 <= high and pd + nd == 20_000
    short, _ = sampled_p(2, 20_000, jax.random.fold_in(key, 1))
    long, _ = sampled_p(2, 2_000_000, jax.random.fold_in(key, 2))
    low, high = wilson_interval(short, 20_000)
    assert low <= long / 2_000_000 <= high
    low, high = wilson_interval(long, 2_000_000, z=3.29)  # 99.9%
    assert low <= GOE_2X2_PD <= high
    # The textbook (A + Aᵀ)/2 construction has the same P(positive definite) at n = 3.
    M = jax.vmap(lambda i: goe_reference(jax.random.fold_in(key, i), 3))(jnp.arange(200_000))
    reference = int(jnp.sum(definiteness(M)[0]))
    ours, _ = sampled_p(3, 200_000, jax.random.fold_in(key, 4))
    low, high = wilson_interval(reference, 200_000, z=3.29)
    assert low <= ours / 200_000 <= high


def test_fit_rate_recovers_a_known_rate():
    sizes = np.arange(1, 7)
    samples = np.full(6, 10 ** 15)
    counts = np.round(samples * np.exp(-0.1 - 0.4 * sizes - 0.3 * sizes ** 2)).astype(np.int64)
    fit = fit_rate(sizes, counts, samples)
    assert fit["rate"] == pytest.approx(0.3, abs=1e-6) and fit["linear"] == pytest.approx(0.4, abs=1e-5)
    assert fit["intercept"] == pytest.approx(-0.1, abs=1e-5)
    assert fit["quadratic_only"]["rate"] > 0.3  # leaving out the n term biases θ up
    assert fit_rate(sizes, np.array([50, 30, 9, 0, 0, 0]), samples) is None  # fewer than 3 sizes with ≥ 10


def tiny(**changes):
    config = override(load_config("random_hessians", smoke=True),
                      ["size=3", "n_matrices=400", "eig_sample=100", "small_sizes=1,2", "small_samples=3000"])
    return override(config, [f"{k}={v}" for k, v in changes.items()])


@pytest.mark.slow
def test_chunked_sampler_gives_the_same_counts_as_one_batch(tmp_path):
    one = run_config(tiny(chunk=400, small_chunk=3000), tmp_path / "one", log=lambda _: None)
    many = run_config(tiny(chunk=7, small_chunk=333), tmp_path / "many", log=lambda _: None)
    assert one["n_positive_definite"] > 0  # at n = 3 about 2.5% are positive definite: the test sees some
    for key in ("n_positive_definite", "n_negative_definite", "small_n", "eig_sample"):
        assert one[key] == many[key], key
    a, b = load_npz(tmp_path / "one" / "arrays.npz"), load_npz(tmp_path / "many" / "arrays.npz")
    for key in ("positive_definite", "negative_definite", "n_neg", "lam_min"):
        np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.slow
def test_smoke_run_contract_and_resume(tmp_path):
    config = load_config("random_hessians", smoke=True)
    logs = []
    summary = run_config(config, tmp_path, log=logs.append)
    for name in ("config.json", "small_n.csv", "arrays.npz", "summary.json", "random_hessians.png"):
        assert (tmp_path / name).stat().st_size > 0
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    for key in ("n_matrices", "size", "ensemble", "n_positive_definite", "n_negative_definite", "small_n",
                "fitted_rate"):
        assert key in on_disk
    assert on_disk["ensemble"] == "goe" and on_disk["n_matrices"] == config.n_matrices
    assert set(on_disk["small_n"][0]) >= {"n", "p_positive_definite", "ci_low", "ci_high", "samples"}
    assert on_disk["eig_sample"]["cholesky_agrees_with_eigvalsh"] == config.eig_sample
    (tmp_path / "summary.json").unlink()
    again = run_config(config, tmp_path, log=logs.append)
    assert any("resumed: 300/300" in line for line in logs)
    assert {k: again[k] for k in ("small_n", "n_positive_definite")} == {k: summary[k] for k in
                                                                          ("small_n", "n_positive_definite")}


def test_bad_config_values_are_clear_errors():
    config = load_config("random_hessians", smoke=True)
    with pytest.raises(ValueError, match="ensemble.*one of"):
        override(config, ["ensemble=gue"])
    with pytest.raises(ValueError, match="eig_sample"):
        override(config, ["eig_sample=100000"])


def fake_random_hessians(n_pd, fit=True):
    small = [{"n": n, "p_positive_definite": p, "ci_low": p / 2, "ci_high": 2 * p, "samples": 1000, "count": 1}
             for n, p in ((1, 0.5), (2, 0.15))]
    return {"wall_seconds": 1.0, "n_matrices": 100, "size": 140, "ensemble": "goe", "n_positive_definite": n_pd,
            "n_negative_definite": 0, "definite_ci95": [0.0, 0.037], "small_n": small, "asymptotic_rate": 0.2747,
            "fit": {"rate": 0.276, "quadratic_only": {"rate": 0.38}} if fit else None,
            "eig_sample": {"matrices": 10, "index_fraction_mean": 0.5, "index_fraction_sd": 0.006}}


def test_random_hessians_row(tmp_path):
    write(tmp_path, "random_hessians", fake_random_hessians(0))
    row = table_line(tmp_path, "E8")
    assert row.endswith("| reproduced |") and "0 positive, 0 negative definite of 100 (GOE, n = 140)" in row
    assert "fitted rate θ = 0.276" in row and "0.380 without the n term" in row and "1: 0.5, 2: 0.15" in row
    write(tmp_path, "random_hessians", fake_random_hessians(2, fit=False))
    row = table_line(tmp_path, "E8")
    assert row.endswith("| differs: 2 definite matrices |") and "too few definite samples to fit" in row
