"""FourierPathFinder and the saddle check against analytic answers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.tools.paths import (
    PathSettings,
    check_settings,
    make_path_finder,
    make_saddle_check,
    path_objective,
    path_points,
    sample_times,
)
from known_answers import double_well


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


def test_straight_path_over_the_double_well_crosses_the_saddle():
    result = jax.jit(make_path_finder(double_well, PathSettings(n_modes=0, n_points=11)))(
        jnp.array([-1.0, 0.0]), jnp.array([1.0, 0.0]))
    assert float(result.straight.height) == pytest.approx(1.0, abs=1e-15)  # t = 0.5 is a sample
    assert float(result.straight.above) == pytest.approx(1.0, abs=1e-15)


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


def test_path_objectives_are_the_sum_of_losses_or_of_their_squares():
    """J_f = Σ L + λ Σ|Δθ|², J_f2 = Σ L² + λ Σ|Δθ|², by hand on a straight path of a quadratic."""
    loss = lambda theta: jnp.sum(theta ** 2)  # noqa: E731
    a, b, t = jnp.array([1.0, 0.0]), jnp.array([0.0, 2.0]), sample_times(5)
    coeffs = jnp.zeros((0, 2))
    points = np.asarray(path_points(a, b, coeffs, t))
    values = np.sum(points ** 2, axis=1)
    segments = np.sum(np.diff(points, axis=0) ** 2)
    for kind, expected in (("f", values.sum()), ("f2", (values ** 2).sum())):
        got = path_objective(loss, a, b, t, 0.5, kind)(coeffs)
        np.testing.assert_allclose(got, expected + 0.5 * segments, rtol=1e-14)


def test_keep_best_returns_the_lowest_objective_met_and_noise_is_seeded():
    """With gradient noise the objective goes up and down; keep_best returns the coefficients of the lowest J of
    the steps (J_T[k] is J before update k), and the same key gives the same path."""
    loss = lambda theta: jnp.sum((theta ** 2 - 1.0) ** 2)  # noqa: E731
    a, b = jnp.array([-1.0, 1.0]), jnp.array([1.0, -1.0])
    settings = PathSettings(n_modes=3, n_points=11, lam=0.1, learning_rate=0.05, n_steps=60, gradient_noise=3.0,
                            keep_best=True)
    find = jax.jit(make_path_finder(loss, settings))
    result = find(a, b)
    history = np.asarray(result.objective)
    objective = path_objective(loss, a, b, sample_times(11), 0.1)
    best = float(objective(result.coeffs))
    assert best <= history.min() + 1e-12
    assert np.any(np.diff(history) > 0)  # the noise made it rise somewhere
    step = int(result.best_step)
    assert step == settings.n_steps or best == pytest.approx(history[step], rel=1e-12)
    again = find(a, b)
    np.testing.assert_array_equal(again.coeffs, result.coeffs)
    other = find(a, b, None, jax.random.key(7))
    assert not np.array_equal(other.coeffs, result.coeffs)
    plain = jax.jit(make_path_finder(loss, settings._replace(gradient_noise=0.0, keep_best=False)))(a, b)
    assert int(plain.best_step) == settings.n_steps
