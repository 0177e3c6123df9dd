"""Several outputs (issue 42): the structured Hessian against jax.hessian, the Gauss–Newton matrix, the trivial
measures and the basis cosines per output, and the bundled data sets' splits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.core import datasets
from jaxnewton.core.diagnostics import cosines, make_diagnose
from jaxnewton.core.models import make_mlp
from jaxnewton.core.problems import make_regression, quadrature_weights

Q, D = 17, 3


def problem(widths, m, seed=0):
    x = jax.random.normal(jax.random.key(seed), (Q, D))
    y = jax.random.normal(jax.random.key(seed + 1), (Q, m) if m > 1 else (Q,))
    return make_regression(make_mlp(D, widths, n_outputs=m), x, y, quadrature_weights(Q))


@pytest.mark.parametrize("widths, m", [((5,), 3), ((4, 6), 1), ((4, 6), 3), ((4, 6), 10), ((3, 4, 5), 10)])
def test_structured_hessian_matches_autodiff(widths, m):
    # The m one-output Hessians summed on the hidden block, block-diagonal on the read-out: jax.hessian of the loss
    # to 1e-12 relative (measured: ≤ 6e-16), at a random point and at one with a large residual; 1, 2 and 3 hidden
    # layers, m = 1, 3 and 10 (every m at two layers, each depth with several outputs).
    pr = problem(widths, m)
    for theta in (pr.init(jax.random.key(3)), 3.0 * pr.init(jax.random.key(4))):
        got = jax.jit(pr.hessian)(theta)
        want = jax.jit(jax.hessian(pr.loss))(theta)
        assert got.shape == (theta.size, theta.size)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * float(jnp.max(jnp.abs(want))))


def test_gauss_newton_is_jacobian_gram_per_output():
    pr = problem((4, 5), 3)
    theta = pr.init(jax.random.key(1))
    jac = jax.jacfwd(pr.output)(theta)  # (m, Q, P)
    want = 2.0 * np.einsum("jqp,q,jqr->pr", jac, np.asarray(pr.weights), jac)
    np.testing.assert_allclose(pr.gauss_newton(theta), want, rtol=1e-12, atol=1e-14)


def test_trivial_point_and_cosines_per_output():
    pr = problem((4, 5), 3)
    theta = pr.init(jax.random.key(2))
    zero_out = jnp.where(pr.outer_mask, 0.0, theta)  # θᴼ = 0: N ≡ 0, L = s||Y||², the trivial point
    d = make_diagnose(pr, 1e-6, 0.99, 0.1)(zero_out)
    assert float(d.loss_ratio) == pytest.approx(1.0, abs=1e-14)
    assert float(d.rel_output_norm) == 0.0 and bool(d.trivial)
    basis = np.asarray(pr.basis(theta))
    y = np.asarray(pr.target)  # (m, Q)
    got = np.asarray(cosines(pr, jnp.asarray(basis), pr.target))
    want = (basis.T @ y.T) / np.outer(np.linalg.norm(basis, axis=0), np.linalg.norm(y, axis=1))  # equal weights
    assert got.shape == (5, 3)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    d = make_diagnose(pr, 1e-6, 0.99, 0.1)(theta)
    assert float(d.loss_ratio) == pytest.approx(float(pr.loss(theta)) / float(np.sum(y ** 2) / Q), rel=1e-13)


def test_target_shape_mismatch_is_one_line():
    x = jnp.zeros((Q, D))
    with pytest.raises(ValueError, match="one column per output"):
        make_regression(make_mlp(D, (3,), n_outputs=2), x, jnp.zeros((Q, 3)), quadrature_weights(Q))


def test_digits_split_is_stratified_and_fixed():
    data = datasets.load("digits", 0.25, 300, 0)
    assert data.x_train.shape == (300, 64) and data.y_train.shape == (300, 10)
    assert data.x_test.shape == (450, 64) and 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    per_class = data.y_train.sum(axis=0)
    assert per_class.min() >= 28 and per_class.max() <= 32  # 300 of 10 nearly equal classes
    np.testing.assert_array_equal(np.sum(data.y_train, axis=1), 1.0)  # one-hot
    again = datasets.load("digits", 0.25, 300, 0)
    np.testing.assert_array_equal(again.x_train, data.x_train)
    assert not np.array_equal(datasets.load("digits", 0.25, 300, 1).x_train, data.x_train)


def test_diabetes_standardised_with_training_statistics():
    data = datasets.load("diabetes")
    assert data.x_train.shape == (331, 10) and data.y_train.shape == (331,) and len(data.y_test) == 111
    np.testing.assert_allclose(data.x_train.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.x_train.std(0), 1.0, rtol=1e-12)
    assert np.mean(data.y_train ** 2) == pytest.approx(1.0, rel=1e-12)  # so N ≡ 0 has L = 1
    assert abs(data.y_test.mean()) < 0.3  # stratified by quintile: the test split's mean is near the training one
    with pytest.raises(ValueError, match="unknown"):
        datasets.load("mnist")
