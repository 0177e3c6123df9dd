"""Newton without forming the Hessian: MINRES on exact Hessian-vector products, against dense solves."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.core.linalg import minres
from jaxnewton.engine.build import build, initial_points
from jaxnewton.engine.config import load_config
from jaxnewton.engine.loop import CONVERGED, RUNNING
from jaxnewton.engine.sweep import advance_running, init_batch, make_batch_fns, seed_mesh_for
from jaxnewton.core.curvature import hessian_vector_product
from jaxnewton.optim.newton import damped_newton, saddle_free_newton
from jaxnewton.studies.registry import run_config


@pytest.mark.parametrize("n, near_zero", [(40, 0), (140, 100), (140, 139)])
def test_minres_solves_indefinite_systems_with_many_near_zero_eigenvalues(n, near_zero):
    """H + εI at E3's trivial saddle: about 100 of 140 eigenvalues near zero, shifted to ≈ ε, the rest of both
    signs. MINRES agrees with a dense solve to 1e-9 relative, and its residual estimate is the true residual."""
    rng = np.random.default_rng(n + near_zero)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = rng.normal(size=n) * 5.0
    lam[:near_zero] = 0.05 + 1e-7 * rng.normal(size=near_zero)
    a = (q * lam) @ q.T
    b = rng.normal(size=n)
    result = jax.jit(lambda b: minres(lambda v: jnp.asarray(a) @ v, b, 1e-12, 4 * n))(jnp.asarray(b))
    x = np.linalg.solve(a, b)
    assert np.linalg.norm(np.asarray(result.x) - x) <= 1e-9 * np.linalg.norm(x)
    true_residual = np.linalg.norm(a @ np.asarray(result.x) - b) / np.linalg.norm(b)
    assert float(result.relative_residual) <= 1e-12 and true_residual <= 1e-11
    assert int(result.iterations) < 4 * n


def test_minres_of_a_zero_right_hand_side_stops_at_once():
    result = minres(lambda v: 2.0 * v, jnp.zeros(5), 1e-10, 50)
    assert int(result.iterations) == 0 and not np.any(np.asarray(result.x))


def test_hessian_vector_products_equal_the_exact_hessian_times_v(e3, e3_theta0):
    theta = jnp.asarray(e3_theta0[0])
    v = jnp.asarray(np.random.default_rng(0).normal(size=theta.size))
    dense = e3.problem.hessian(theta) @ v
    np.testing.assert_allclose(hessian_vector_product(e3.problem.loss)(theta, v), dense, rtol=0,
                               atol=1e-12 * float(jnp.max(jnp.abs(dense))))


@pytest.mark.parametrize("width, agree", [(10, 30), (20, 18)])  # P = 140, 480
def test_krylov_newton_takes_the_dense_step(width, agree):
    """From every one of the first ``agree`` dense iterates of 2 seeds, the Krylov step equals the dense LU step to
    1e-9 relative; whole trajectories agree to 1e-8 over those iterates. At P = 480 the two exact solvers' last-bit
    differences grow along the trajectory (measured: 1e-8 passed at iterate 18, 3e-4 at iterate 30), as any two
    roundings do under weakly damped Newton (tests/engine/test_readings.py measures the same for two loss scalings)."""
    config = dataclasses.replace(load_config("mlp_tanh"), widths=(width, width))
    experiment = build(config)
    problem = experiment.problem
    theta0 = initial_points(experiment, np.arange(2))
    assert problem.n_params == {10: 140, 20: 480}[width]
    dense = damped_newton(problem.loss, config.eta, config.eps, problem.hessian)
    krylov = damped_newton(problem.loss, config.eta, config.eps, linear_solver="krylov", krylov_rtol=1e-12)
    grad = jax.grad(problem.loss)
    false = jnp.asarray(False)

    def trajectory(solver, steps):
        def body(carry, _):
            theta, state = carry
            theta, state = solver.update(theta, grad(theta), state, false)
            return (theta, state), theta
        return jax.jit(jax.vmap(lambda t: jax.lax.scan(body, (t, solver.init(t)), None, length=steps)[1]))(theta0)

    d, k = np.asarray(trajectory(dense, agree)), np.asarray(trajectory(krylov, agree))
    np.testing.assert_allclose(k, d, rtol=0, atol=1e-8)
    thetas = jnp.asarray(d.reshape(-1, d.shape[-1]))

    def step(solver):
        return np.asarray(jax.jit(jax.vmap(lambda t: solver.update(t, grad(t), solver.init(t), false)[0] - t))(thetas))

    step_d, step_k = step(dense), step(krylov)
    relative = np.linalg.norm(step_k - step_d, axis=1) / np.linalg.norm(step_d, axis=1)
    assert np.max(relative) <= 1e-9, np.max(relative)
    assert np.max(np.abs(d[:, -1] - np.asarray(theta0))) > 1e-2  # they moved


def test_krylov_runs_through_the_sweep_and_records_its_iterations(tmp_path):
    config = dataclasses.replace(load_config("mlp_tanh", smoke=True), linear_solver="krylov", n_seeds=2)
    summary = run_config(config, tmp_path, log=lambda _: None)
    assert 1 <= summary["median_krylov_iterations"] <= 2 * 140
    assert summary["krylov_unsolved"] == {"steps": 0, "seeds": 0}  # every solve met krylov_rtol


def test_krylov_newton_counts_the_steps_whose_minres_stopped_at_its_cap(e3, e3_theta0):
    theta = jnp.asarray(e3_theta0[0])
    grad = jax.grad(e3.problem.loss)
    for cap, unsolved in ((3, 4), (0, 0)):  # 3 products cannot reach 1e-10 at P = 140; 2P always does here
        solver = damped_newton(e3.problem.loss, 0.05, 0.05, linear_solver="krylov", krylov_max_iter=cap)
        t, state = theta, solver.init(theta)
        for _ in range(4):
            t, state = solver.update(t, grad(t), state, jnp.asarray(False))
        assert int(state.unsolved_steps) == unsolved
        assert (int(state.krylov_iterations) == 12) == (cap == 3)


def test_uneven_seeds_run_one_at_a_time_with_finished_padding(e3_theta0):
    """make_batch_fns(uneven=True): on CPU each seed runs its own loop (a Krylov step costs what its own MINRES
    needs), the rows are padded by single seeds, the padding rows arrive finished (in a loop of their own they cost
    nothing), and a seed's iterates are bitwise the same alone as among others."""
    config = dataclasses.replace(load_config("mlp_tanh"), linear_solver="krylov")
    experiment = build(config)
    fns = make_batch_fns(experiment.loop, experiment.diagnose, seed_mesh_for(5, uneven=True), uneven=True)
    assert fns.granule == 1
    seen = []

    def advance(rows, until):
        seen.append(np.asarray(rows.status))
        return fns.advance(rows, until)

    spy = fns._replace(advance=advance)
    state = init_batch(fns, e3_theta0[:8])
    state = state._replace(status=np.where(np.arange(8) < 3, CONVERGED, state.status))  # 3 finished by hand
    many = advance_running(spy, state, 3)
    assert len(seen[0]) == 6 and list(seen[0] == RUNNING) == [True] * 5 + [False]  # 5 running → 6 rows, 1 finished
    alone = advance_running(fns, init_batch(fns, e3_theta0[6:7]), 3)
    np.testing.assert_array_equal(alone.theta[0], many.theta[6])
    assert int(alone.solver_state.krylov_iterations[0]) == int(many.solver_state.krylov_iterations[6]) > 0


def test_lanczos_saddle_free_newton_takes_the_dense_step_with_p_steps():
    """Saddle-free Newton on the Krylov path with k = P Lanczos steps: from 2 seeds' θ₀ and the first 10 dense
    iterates, its step equals the eigendecomposition's to 1e-9 relative, and the trajectories agree to 1e-8.
    How far fewer steps are from the dense step is measured in docs/performance.md (scripts/bench.py)."""
    experiment = build(load_config("mlp_tanh"))
    problem, config = experiment.problem, experiment.config
    theta0 = initial_points(experiment, np.arange(2))
    dense = saddle_free_newton(problem.loss, config.eta, config.eps, problem.hessian)
    krylov = saddle_free_newton(problem.loss, config.eta, config.eps, linear_solver="krylov")
    grad = jax.grad(problem.loss)
    false = jnp.asarray(False)

    def trajectory(solver):
        def body(carry, _):
            theta, state = carry
            theta, state = solver.update(theta, grad(theta), state, false)
            return (theta, state), theta
        return jax.jit(jax.vmap(lambda t: jax.lax.scan(body, (t, solver.init(t)), None, length=10)[1]))(theta0)

    d, k = np.asarray(trajectory(dense)), np.asarray(trajectory(krylov))
    np.testing.assert_allclose(k, d, rtol=0, atol=1e-8)
    thetas = jnp.asarray(np.concatenate([np.asarray(theta0), d.reshape(-1, d.shape[-1])]))
    steps = [np.asarray(jax.jit(jax.vmap(lambda t, s=s: s.update(t, grad(t), s.init(t), false)[0] - t))(thetas))
             for s in (dense, krylov)]
    relative = np.linalg.norm(steps[1] - steps[0], axis=1) / np.linalg.norm(steps[0], axis=1)
    assert np.max(relative) <= 1e-9, np.max(relative)
    assert np.max(np.abs(d[:, -1] - np.asarray(theta0))) > 1e-3  # they moved
    # A finished seed does not move, and its zero gradient does not make the step NaN.
    theta = jnp.asarray(theta0[0])
    same, state = krylov.update(theta, jnp.zeros_like(theta), krylov.init(theta), jnp.asarray(True))
    assert np.array_equal(np.asarray(same), np.asarray(theta)) and int(state.krylov_iterations) == 0


def test_lanczos_saddle_free_newton_runs_through_the_sweep(tmp_path):
    config = dataclasses.replace(load_config("mlp_tanh", smoke=True), solver="sfn", linear_solver="krylov",
                                 krylov_max_iter=20, n_seeds=2)
    summary = run_config(config, tmp_path, log=lambda _: None)
    assert summary["median_krylov_iterations"] == 20  # Lanczos steps (Hessian-vector products) per step
