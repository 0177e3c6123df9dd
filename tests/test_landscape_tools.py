"""FourierPathFinder, saddle verification, MLP symmetries and kernel PCA (issue 8)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxnewton.kpca import kernel_pca, rbf_kernel
from jaxnewton.models import make_mlp, make_mlp_classifier
from jaxnewton.paths import (PathSettings, check_settings, make_path_finder, make_saddle_check, path_points,
                             sample_times)
from jaxnewton.symmetry import canonical, canonical_flat, distance_modulo_symmetry, random_symmetry, transform
from jaxnewton.toy_paths import TOY_END_A, TOY_END_B, toy_landscape


def double_well(theta):
    """(x² − 1)² + y²: minima (±1, 0) at 0, an index-1 saddle at the origin at 1."""
    x, y = theta[0], theta[1]
    return (x * x - 1.0) ** 2 + y * y


def test_path_endpoints_stay_fixed_for_any_coefficients():
    key_a, key_b, key_c = jax.random.split(jax.random.key(0), 3)
    theta_a, theta_b = jax.random.normal(key_a, (7,)), jax.random.normal(key_b, (7,))
    coeffs = jax.random.normal(key_c, (10, 7))
    points = path_points(theta_a, theta_b, coeffs, sample_times(50))
    np.testing.assert_array_equal(points[0], theta_a)
    np.testing.assert_array_equal(points[-1], theta_b)
    result = jax.jit(make_path_finder(double_well, PathSettings(n_points=21, lam=0.1, n_steps=200)))(
        jnp.array([-1.0, 0.0]), jnp.array([1.0, 0.0]))
    assert float(result.optimised.losses[0]) == float(result.optimised.losses[-1]) == 0.0


def test_barrier_inside_a_convex_bowl_is_its_higher_endpoint():
    def bowl(theta):
        return jnp.sum((theta - jnp.array([0.3, -0.2, 0.1])) ** 2 * jnp.array([1.0, 4.0, 0.5]))

    theta_a, theta_b = jnp.array([1.0, 0.5, -1.0]), jnp.array([-0.5, -1.0, 2.0])
    result = jax.jit(make_path_finder(bowl, PathSettings(n_points=31, lam=0.5, n_steps=500)))(theta_a, theta_b)
    higher = max(float(bowl(theta_a)), float(bowl(theta_b)))
    for path in (result.straight, result.optimised):
        assert float(path.height) == higher
        assert float(path.above) == 0.0
    assert float(result.objective[-1]) < float(result.objective[0])  # ADAM lowered J


def test_saddle_check_finds_the_known_index_one_saddle_and_the_minimum():
    check = jax.jit(make_saddle_check(double_well))
    at_saddle = check(jnp.array([0.1, 0.3]))
    assert bool(at_saddle.converged) and int(at_saddle.index) == 1 and int(at_saddle.n_zero) == 0
    np.testing.assert_allclose(at_saddle.theta, [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(at_saddle.eigvals, [-4.0, 2.0], rtol=1e-12)  # H = diag(12x² − 4, 2)
    at_minimum = check(jnp.array([0.9, 0.1]))
    assert bool(at_minimum.converged) and int(at_minimum.index) == 0
    np.testing.assert_allclose(at_minimum.theta, [1.0, 0.0], atol=1e-12)


def test_pseudo_inverse_newton_reaches_a_saddle_along_a_flat_direction():
    """f = (x² − 1)² + y² + 0·z: H is singular everywhere, so H⁻¹∇L does not exist; H⁺∇L leaves z alone."""
    def flat(theta):
        return double_well(theta[:2]) + 0.0 * theta[2]

    check = jax.jit(make_saddle_check(flat, max_steps=30, pseudo_inverse_rtol=1e-9))
    result = check(jnp.array([0.1, 0.3, 0.7]))
    assert bool(result.converged) and int(result.index) == 1 and int(result.n_zero) == 1
    np.testing.assert_allclose(result.theta, [0.0, 0.0, 0.7], atol=1e-12)
    plain, pseudo = (jax.jit(make_saddle_check(double_well, max_steps=3, pseudo_inverse_rtol=r))(jnp.array([0.2, 0.1]))
                     for r in (None, 1e-9))
    np.testing.assert_allclose(pseudo.theta, plain.theta, rtol=1e-13, atol=1e-15)  # non-degenerate H: Newton's step


def test_straight_path_over_the_double_well_crosses_the_saddle():
    result = jax.jit(make_path_finder(double_well, PathSettings(n_modes=0, n_points=11)))(
        jnp.array([-1.0, 0.0]), jnp.array([1.0, 0.0]))
    assert float(result.straight.height) == pytest.approx(1.0, abs=1e-15)  # t = 0.5 is a sample
    assert float(result.straight.above) == pytest.approx(1.0, abs=1e-15)


def test_toy_landscape_matches_the_companion_papers_straight_height_and_finds_its_pass():
    """Straight line: 1.102 (the paper). Optimised: the paper says 0.64–0.65 for λ = 10 … 1000; with the
    objective as written we get 0.68–0.73 (README: a disagreement). Either way the path's top refines
    to the one index-1 saddle, at height 0.6244."""
    check = jax.jit(make_saddle_check(toy_landscape))
    for lam in (10.0, 100.0, 1000.0):
        result = jax.jit(make_path_finder(toy_landscape, PathSettings(10, 100, lam, 1e-2, 2000)))(TOY_END_A,
                                                                                                  TOY_END_B)
        assert float(result.straight.height) == pytest.approx(1.102, abs=5e-4)
        assert 0.6244 < float(result.optimised.height) < 0.74
        saddle = check(result.top_theta)
        assert bool(saddle.converged) and int(saddle.index) == 1
        assert float(saddle.loss) == pytest.approx(0.62439, abs=1e-5)


def test_path_finder_vmaps_over_pairs_like_a_loop():
    find = make_path_finder(double_well, PathSettings(n_modes=3, n_points=15, lam=0.1, n_steps=50))
    # No pair is mirror-symmetric about x = 0: there some gradient entries are round-off (1e-15), which
    # ADAM's normalisation turns into steps of order its learning rate, differently in each compilation.
    starts = jnp.array([[-1.0, 0.05], [-0.9, 0.2], [0.8, 0.1]])
    ends = jnp.array([[0.9, -0.1], [1.1, -0.3], [-1.2, 0.5]])
    batched = jax.jit(jax.vmap(find))(starts, ends)
    for i in range(3):
        single = jax.jit(find)(starts[i], ends[i])
        np.testing.assert_allclose(batched.coeffs[i], single.coeffs, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(batched.optimised.height[i], single.optimised.height, rtol=1e-12)


def test_path_settings_errors_say_what_to_change():
    with pytest.raises(ValueError, match="n_points"):
        check_settings(PathSettings(n_points=1))
    with pytest.raises(ValueError, match="lam"):
        check_settings(PathSettings(lam=-1.0))


@pytest.mark.parametrize("odd", [True, False])
@pytest.mark.parametrize("kind", ["regression", "classifier"])
def test_symmetries_leave_the_loss_unchanged_and_the_canonical_form_identical(kind, odd):
    key_m, key_x, key_s = jax.random.split(jax.random.key(1), 3)
    if kind == "regression":  # E3's network: hidden biases, scalar read-out
        model, x = make_mlp(1, (10, 10)), jax.random.uniform(key_x, (40, 1))
    else:  # the digits study's: no biases, 10 logits
        model, x = make_mlp_classifier(64, (12, 12), 10), jax.random.uniform(key_x, (40, 64))
    params = model.init(key_m)
    moved = transform(params, *random_symmetry(key_s, params, odd))
    output, moved_output = model.apply(params, x), model.apply(moved, x)
    np.testing.assert_allclose(moved_output, output, rtol=1e-12, atol=1e-12)
    assert not np.allclose(ravel_pytree(moved)[0], ravel_pytree(params)[0])  # it did move
    canon = canonical(params, odd=True)
    np.testing.assert_array_equal(ravel_pytree(canonical(moved, odd=True))[0], ravel_pytree(canon)[0])
    np.testing.assert_array_equal(ravel_pytree(canonical(canon, odd=True))[0], ravel_pytree(canon)[0])  # idempotent
    np.testing.assert_allclose(model.apply(canon, x), output, rtol=1e-12, atol=1e-12)
    theta, unravel = ravel_pytree(params)
    flat = jax.jit(canonical_flat(unravel, odd=True))
    assert float(distance_modulo_symmetry(flat, theta, ravel_pytree(moved)[0])) == 0.0


def test_canonical_form_vmaps_over_a_solution_set():
    model = make_mlp(1, (6, 5))
    thetas = jnp.stack([ravel_pytree(model.init(k))[0] for k in jax.random.split(jax.random.key(2), 4)])
    flat = jax.jit(canonical_flat(ravel_pytree(model.init(jax.random.key(0)))[1], odd=True))
    np.testing.assert_array_equal(jax.vmap(flat)(thetas), jnp.stack([flat(t) for t in thetas]))


def test_transform_rejects_a_wrong_number_of_layers():
    params = make_mlp(1, (4, 4)).init(jax.random.key(0))
    with pytest.raises(ValueError, match="one per hidden layer"):
        transform(params, [jnp.arange(4)], [jnp.ones(4)])


def test_kernel_pca_matches_scikit_learn_and_the_kernel_formula():
    from sklearn.decomposition import KernelPCA

    x = np.random.default_rng(0).normal(size=(12, 30))
    ours = kernel_pca(x, n_components=3)
    assert ours.two_sigma2 == 30.0
    theirs = KernelPCA(n_components=3, kernel="rbf", gamma=1.0 / 30.0).fit(x)
    coords = theirs.transform(x)
    for c in range(3):  # a component's sign is arbitrary
        sign = np.sign(coords[:, c] @ ours.coords[:, c])
        np.testing.assert_allclose(sign * coords[:, c], ours.coords[:, c], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(theirs.eigenvalues_, ours.eigvals, rtol=1e-10)
    i, j = 2, 7
    assert rbf_kernel(x, 30.0)[i, j] == pytest.approx(np.exp(-np.sum((x[i] - x[j]) ** 2) / 30.0), rel=1e-12)
    with pytest.raises(ValueError, match="n_components"):
        kernel_pca(x, n_components=13)
