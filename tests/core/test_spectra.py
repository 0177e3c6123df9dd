"""Lanczos extremes and stochastic Lanczos quadrature against eigvalsh (core.spectra)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.core.diagnostics import LABELS, classify_spectrum
from jaxnewton.core.spectra import (estimate_spectrum, extreme_eigenvalues, lanczos, lanczos_matrix_function, ritz,
                                   slq_index_fraction)
from jaxnewton.core.curvature import hessian_vector_product
from known_answers import with_spectrum


def test_full_lanczos_has_every_eigenvalue_and_closes_early_on_a_few_distinct_ones():
    rng = np.random.default_rng(1)
    m = rng.standard_normal((40, 40))
    a = jnp.asarray(m + m.T)
    theta, weight, _ = ritz(lanczos(lambda v: a @ v, jnp.asarray(rng.standard_normal(40)), 40, jax.random.key(0)))
    np.testing.assert_allclose(theta, np.linalg.eigvalsh(np.asarray(a)), atol=1e-10)
    assert float(jnp.sum(weight)) == pytest.approx(1.0, abs=1e-12)
    # Three distinct eigenvalues: the Krylov space closes after 3 steps and is restarted; every Ritz value is
    # still an eigenvalue, and the restarted blocks carry no weight.
    b = with_spectrum(np.repeat([-2.0, 0.5, 3.0], 10))
    theta, weight, _ = ritz(lanczos(lambda v: b @ v, jnp.ones(30), 12, jax.random.key(1)))
    assert np.all(np.isfinite(theta))
    assert np.min(np.abs(np.asarray(theta)[:, None] - np.array([-2.0, 0.5, 3.0])), axis=1).max() < 1e-10
    assert float(jnp.sum(weight)) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("distinct", [False, True])
def test_lanczos_matrix_function_is_exact_on_the_whole_krylov_space(distinct):
    """(|A| + εI)⁻¹ b, saddle-free Newton's step, from P Lanczos steps equals the eigendecomposition's to 1e-10
    relative: on an indefinite spectrum with a near-zero cluster (E3's trivial saddle), and on three distinct
    eigenvalues, where the space closes after 3 steps and the restarted blocks must add nothing."""
    rng = np.random.default_rng(3)
    lam = (np.repeat([-2.0, 0.5, 3.0], 20) if distinct else
           np.concatenate([rng.normal(size=20) * 5.0, 1e-6 * rng.normal(size=40)]))
    a = with_spectrum(lam, seed=4)
    b = jnp.asarray(rng.standard_normal(60))
    f = lambda x: 1.0 / (jnp.abs(x) + 0.05)  # noqa: E731
    w, v = np.linalg.eigh(np.asarray(a))
    dense = v @ (np.asarray(f(w)) * (v.T @ np.asarray(b)))
    t = lanczos(lambda x: a @ x, b, 60, jax.random.key(2))
    got = np.asarray(lanczos_matrix_function(t, f, jnp.linalg.norm(b)))
    assert np.linalg.norm(got - dense) <= 1e-10 * np.linalg.norm(dense)


def test_extreme_eigenvalues_to_1e_8_with_interlacing_and_their_bounds():
    lam = np.concatenate([[-5.0, -4.0], np.linspace(-1.0, 2.0, 396), [6.0, 8.0]])
    a = with_spectrum(lam, seed=2)
    e = extreme_eigenvalues(lambda v: a @ v, 400, jax.random.key(3), k=60)
    assert float(e.smallest) >= -5.0 - 1e-12 and float(e.largest) <= 8.0 + 1e-12  # interlacing
    np.testing.assert_allclose([float(e.smallest), float(e.largest)], [-5.0, 8.0], rtol=1e-8)
    assert abs(float(e.smallest) + 5.0) <= float(e.smallest_bound) + 1e-12 and float(e.largest_bound) < 1e-6


def test_slq_index_fraction_bracket_holds_with_a_cluster_at_zero():
    """P = 500: 30% negative, a 12% cluster within 1e-7 of zero, the rest positive; 40 probes. Lanczos does not
    place the cluster's node at k = 60 (measured: 5e-3 for one probe, −1.7e-4 at k = 200), so the point estimate
    is off (0.36 against 0.30); the bracket, which leaves that node's mass undecided, holds the true share."""
    rng = np.random.default_rng(4)
    lam = np.concatenate([-rng.uniform(0.01, 3.0, 150), rng.uniform(-1e-7, 1e-7, 60), rng.uniform(0.01, 5.0, 290)])
    a = with_spectrum(lam, seed=5)
    got = slq_index_fraction(lambda v: a @ v, 500, jax.random.key(6), 1e-5, n_probes=40, k=60)
    assert got.low <= 0.30 <= got.high and got.high - got.low < 0.25, got
    assert abs(got.estimate - 0.30) > 0.03  # the bias the bracket is for: the test is not vacuous


def test_estimate_spectrum_labels_a_network_hessian_as_eigvalsh_does():
    """A 1-8-1 tanh regression (P = 25) at a random θ: the label and the index fraction from products only."""
    rng = np.random.default_rng(7)
    x, y = jnp.linspace(-1, 1, 20), jnp.sin(3 * jnp.linspace(-1, 1, 20))

    def loss(t):
        w1, b1, w2, b2 = t[:8], t[8:16], t[16:24], t[24]
        return jnp.mean((jnp.tanh(jnp.outer(x, w1) + b1) @ w2 + b2 - y) ** 2)

    theta = jnp.asarray(rng.standard_normal(25))
    h = jax.hessian(loss)(theta)
    hvp = functools.partial(hessian_vector_product(loss), theta)
    eigvals = np.linalg.eigvalsh(np.asarray(h))
    n_neg, _, _, label = classify_spectrum(jnp.asarray(eigvals), 1e-6)
    got = estimate_spectrum(hvp, 25, jax.random.key(8), 1e-6, n_probes=60, k=25)
    assert got.label == LABELS[int(label)] == "saddle" and got.certain
    np.testing.assert_allclose([float(got.extremes.smallest), float(got.extremes.largest)],
                               [eigvals[0], eigvals[-1]], rtol=1e-8)
    # k = P: every probe's quadrature is exact, so only the probe noise is left (sd ≈ 0.09 a probe here).
    assert got.index_fraction.low <= int(n_neg) / 25 <= got.index_fraction.high
