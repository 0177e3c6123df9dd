"""Spectrum labels and the trivial-solution measures at constructed points."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxnewton.core.diagnostics import LABELS, classify_spectrum, cosines, hessian_eigvals, make_diagnose
from jaxnewton.engine.build import build
from jaxnewton.engine.config import load_config, override


@pytest.mark.parametrize("eigvals, counts, label", [
    ([1.0, 2.0, 3.0], (0, 0, 3), "minimum"),
    ([-1.0, -2.0], (2, 0, 0), "maximum"),
    ([-1.0, 1e-9, 2.0], (1, 1, 1), "saddle"),
    ([0.0, 1e-9, 2.0], (0, 2, 1), "degenerate"),
    ([-3.0, -1e-12], (1, 1, 0), "degenerate"),
    ([0.0, 0.0], (0, 2, 0), "degenerate"),
])
def test_classify_spectrum(eigvals, counts, label):
    n_neg, n_zero, n_pos, lab = classify_spectrum(jnp.asarray(eigvals), rtol=1e-6)
    assert (int(n_neg), int(n_zero), int(n_pos)) == counts
    assert LABELS[int(lab)] == label


def test_hessian_eigvals_of_a_quadratic_are_those_of_a():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((5, 5))
    a = m + m.T
    eig = hessian_eigvals(lambda t: 0.5 * t @ jnp.asarray(a) @ t, jnp.zeros(5))
    np.testing.assert_allclose(eig, np.linalg.eigvalsh(a), rtol=1e-12, atol=1e-12)


def test_cosines_match_numpy_and_zero_basis_gives_zero(e3):
    problem = e3.problem
    x = np.asarray(problem.x[:, 0])
    h = np.stack([np.ones_like(x), x, np.sin(4 * np.pi * x), np.zeros_like(x)], axis=1)
    cos = np.asarray(cosines(problem, jnp.asarray(h), problem.target))
    v = np.asarray(problem.target)
    expected = [hk @ v / (np.linalg.norm(hk) * np.linalg.norm(v)) if hk.any() else 0.0 for hk in h.T]
    np.testing.assert_allclose(cos, expected, atol=1e-14)
    assert cos[2] == pytest.approx(1.0, abs=1e-14) and cos[3] == 0.0


def constant_basis_point(e3):
    """θᴼ = 0 and first-layer weights 0, so every h_k is a constant: constants ⊥ v on the grid."""
    params = e3.problem.unravel(e3.problem.init(jax.random.key(7)))
    params["hidden"][0]["w"] = jnp.zeros_like(params["hidden"][0]["w"])
    params["out"] = jnp.zeros_like(params["out"])
    return ravel_pytree(params)[0]


def test_constructed_trivial_point_is_flagged_and_is_a_saddle(e3):
    theta = constant_basis_point(e3)
    problem = e3.problem
    # Stationary: Σ_q sin(4π q/99) = 0 by the symmetry q → 99 − q, so constants are ⊥ v.
    assert float(jnp.linalg.norm(jax.grad(problem.loss)(theta))) < 1e-13
    d = jax.jit(e3.diagnose)(theta)
    assert bool(d.trivial)
    assert float(d.loss_ratio) == pytest.approx(1.0, abs=1e-14)
    assert float(d.rel_output_norm) == 0.0 and float(d.outer_weight_norm) == 0.0
    assert float(d.max_basis_cosine) < 1e-13
    # Paper: H = [[2G, B], [Bᵀ, 0]] at θᴼ = 0, indefinite. Inner-inner block exactly zero.
    hessian = jax.jit(jax.hessian(problem.loss))(theta)
    inner = ~np.asarray(problem.outer_mask)
    assert float(jnp.max(jnp.abs(hessian[np.ix_(inner, inner)]))) == 0.0
    assert LABELS[int(d.label)] == "saddle" and int(d.n_neg) >= 1


def test_good_fit_is_not_trivial(e3):
    # Step-like basis functions h_k ≈ tanh(½ tanh(20(x − c_k))) and the least-squares θᴼ.
    params = e3.problem.unravel(e3.problem.init(jax.random.key(0)))
    centres = jnp.linspace(0.05, 0.95, 10)
    params["hidden"][0] = {"w": jnp.full((1, 10), 20.0), "b": -20.0 * centres}
    params["hidden"][1] = {"w": 0.5 * jnp.eye(10), "b": jnp.zeros(10)}
    theta = ravel_pytree(params)[0]
    h = e3.problem.basis(theta)
    params["out"] = jnp.linalg.lstsq(h, e3.problem.target)[0]
    d = jax.jit(e3.diagnose)(ravel_pytree(params)[0])
    assert float(d.loss_ratio) < 0.2  # the construction is a decent fit ...
    assert not bool(d.trivial)  # ... and the detector does not call it trivial


def test_pinn_relative_error_and_trivial_measures_at_known_points():
    """θ = 0 is the trivial point: L / L(0) = 1, ||𝓛[N]|| = 0, relative error 1. A PINN fitted
    exactly would have error 0: checked by building the error from the exact solution itself."""
    experiment = build(load_config("pinn1d"))
    problem = experiment.problem
    d = jax.jit(experiment.diagnose)(jnp.zeros(problem.n_params))
    assert d.loss_ratio == pytest.approx(1.0, abs=1e-15)
    assert d.rel_output_norm == 0.0 and d.rel_l2_error == pytest.approx(1.0, abs=1e-15)
    assert bool(d.trivial)
    zero_loss = 0.5 * problem.inner(problem.target, problem.target)  # ½∫v²
    assert problem.loss(jnp.zeros(problem.n_params)) == pytest.approx(float(zero_loss), rel=1e-14)
    assert problem.exact.shape[0] == 4 * 99 + 1  # error grid 4× finer than the 100 nodes


@pytest.mark.parametrize("width", [10, 20])
def test_lanczos_spectrum_agrees_with_eigvalsh(e3, width):
    """spectrum="lanczos" (products only, vmapped over points) against the dense diagnostics at P = 140 and 480, at
    two θ₀ and at the constructed trivial saddle (θᴼ = 0: about P − 2·width eigenvalues at zero): the label equals
    the dense one and is certain, the index fraction's bracket holds n_neg / P, the extreme Ritz values lie inside the
    spectrum within their residual bounds, and every non-spectral measure is identical.

    The bracket is wide on these spectra (measured: [0.12, 0.88] at P = 140, [0.08, 0.92] at P = 480 for θ₀ of
    key 1) because 70–93% of their eigenvalues lie within 1e-2·max|λ| of zero, where a Gauss node cannot say on
    which side of the threshold its mass lies; the point estimate is off by up to 0.5 there (313 against 75
    negative at P = 480), which is what the bracket is for."""
    experiment = e3 if width == 10 else build(override(load_config("mlp_tanh"), [f"widths={width},{width}"]))
    problem = experiment.problem
    points = jnp.stack([problem.init(jax.random.key(1)), problem.init(jax.random.key(2)),
                        constant_basis_point(experiment)])
    args = (problem, 1e-6, 0.99, 0.1)
    dense = jax.jit(jax.vmap(make_diagnose(*args)))(points)
    est = jax.jit(jax.vmap(make_diagnose(*args, spectrum="lanczos")))(points)
    for i in range(len(points)):
        lam = np.asarray(dense.eigvals[i])
        assert int(est.label[i]) == int(dense.label[i]) and bool(est.label_certain[i]), i
        assert float(est.index_low[i]) <= int(dense.n_neg[i]) / lam.size <= float(est.index_high[i]), i
        assert float(est.index_low[i]) <= float(est.index_fraction[i]) <= float(est.index_high[i])
        ritz = np.asarray(est.eigvals[i])
        assert lam[0] - 1e-9 <= ritz[0] and ritz[-1] <= lam[-1] + 1e-9
        # k = 60 Lanczos steps find both ends to 1e-6 relative on these spectra
        np.testing.assert_allclose([ritz[0], ritz[-1]], [lam[0], lam[-1]], rtol=1e-6, atol=1e-9)
        assert int(est.n_zero[i]) == int(est.n_pos[i]) == -1
    assert bool(jnp.all(dense.label_certain)) and np.array_equal(dense.index_fraction, dense.index_low)
    np.testing.assert_array_equal(dense.index_fraction, np.asarray(dense.n_neg, np.float64) / problem.n_params)
    for field in ("loss_ratio", "rel_output_norm", "outer_weight_norm", "max_basis_cosine", "trivial", "rel_l2_error"):
        np.testing.assert_array_equal(getattr(est, field), getattr(dense, field))


def test_unknown_spectrum_is_a_one_line_error(e3):
    with pytest.raises(ValueError, match="spectrum='full': use one of dense, lanczos"):
        make_diagnose(e3.problem, 1e-6, 0.99, 0.1, spectrum="full")
