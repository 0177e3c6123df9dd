"""E1 and E2: the stationary points, basins, results contract and resume."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.core.diagnostics import LABELS
from jaxnewton.engine.config import load_config
from jaxnewton.optim.newton import damped_newton
from jaxnewton.studies.basins import METHODS, deduplicate, start_grid
from jaxnewton.studies.registry import run_config
from jaxnewton.tools.landscapes import elliptic_torus, unit_circle
from known_answers import theta2_roots
from summaries import table_line, write

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def circle(tmp_path_factory):
    out = tmp_path_factory.mktemp("circle")
    return run_config(load_config("circle", smoke=True), out, log=lambda _: None), out


@pytest.fixture(scope="module")
def torus(tmp_path_factory):
    out = tmp_path_factory.mktemp("torus")
    return run_config(load_config("torus", smoke=True), out, log=lambda _: None), out


@pytest.mark.slow
def test_e1_finds_exactly_the_minimum_and_the_maximum(circle):
    summary, _ = circle
    points = summary["stationary_points"]
    assert [p["label"] for p in points] == ["minimum", "maximum"]
    # L(θ) = 9 − 4√2 cos(θ − π/4): L'' = ±4√2 at the two points.
    for p, theta, loss, curvature in [(points[0], np.pi / 4, 9 - 4 * np.sqrt(2), 4 * np.sqrt(2)),
                                      (points[1], 5 * np.pi / 4, 9 + 4 * np.sqrt(2), -4 * np.sqrt(2))]:
        np.testing.assert_allclose(p["theta"], [theta], rtol=0, atol=1e-10)
        np.testing.assert_allclose(p["loss"], loss, rtol=0, atol=1e-10)
        np.testing.assert_allclose(p["eigvals"], [curvature], rtol=1e-10)


@pytest.mark.slow
def test_e1_undamped_newton_basins_are_exactly_half_and_half(circle):
    # L(θ + π) = 18 − L(θ) and Newton's step is unchanged by L → −L, so the Newton map commutes
    # with θ ↦ θ + π: the maximum's basin is the minimum's shifted by π. The cell-centre grid of an
    # even size is invariant under that shift, so exactly half the starts reach each point.
    summary, _ = circle
    assert summary["basin_fractions"]["newton"] == pytest.approx(
        {"minimum": 0.5, "maximum": 0.5, "saddle": 0.0, "degenerate": 0.0, "not_converged": 0.0}, abs=0)
    assert summary["basin_fractions"]["gradient_descent"]["minimum"] == 1.0


def torus_loss_numpy(theta, R=2.0, r=1.0, e=0.6, v=(0.0, 0.0, 0.5)):
    """E2's loss written again in numpy (independent of the JAX landscape)."""
    t1, t2 = theta
    ring = R + r * np.cos(t2)
    n = np.array([ring * np.cos(t1), ring * e * np.sin(t1), r * np.sin(t2)])
    return float(np.sum((n - np.asarray(v)) ** 2))


def finite_difference_hessian(f, x, h=1e-4):
    """Central second differences, O(h²) accurate."""
    d = len(x)
    hess = np.zeros((d, d))
    for i in range(d):
        for j in range(d):
            ei, ej = np.eye(d)[i] * h, np.eye(d)[j] * h
            hess[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return hess


@pytest.mark.slow
def test_e2_has_exactly_eight_stationary_points_two_two_four(torus):
    summary, _ = torus
    points = summary["stationary_points"]
    assert len(points) == 8
    assert [p["label"] for p in points].count("minimum") == 2
    assert [p["label"] for p in points].count("maximum") == 2
    assert [p["label"] for p in points].count("saddle") == 4
    landscape = elliptic_torus(2.0, 1.0, 0.6, (0.0, 0.0, 0.5))
    grad = jax.grad(landscape.loss)
    for p in points:
        theta = np.asarray(p["theta"])
        assert float(jnp.linalg.norm(grad(jnp.asarray(theta)))) < 1e-10
        fd = finite_difference_hessian(torus_loss_numpy, theta)
        np.testing.assert_allclose(np.asarray(jax.hessian(landscape.loss)(jnp.asarray(theta))), fd, rtol=0, atol=1e-5)
        np.testing.assert_allclose(p["eigvals"], np.linalg.eigvalsh(fd), rtol=0, atol=1e-5)
        np.testing.assert_allclose(p["loss"], torus_loss_numpy(theta), rtol=1e-12)


@pytest.mark.slow
def test_e2_points_sit_where_the_factorised_gradient_vanishes(torus):
    # θ₁ ∈ {0, π/2, π, 3π/2}; θ₂ solves ∂L/∂θ₂ = 0 at c = 1 (θ₁ = 0, π) or c = e² (θ₁ = π/2, 3π/2).
    summary, _ = torus
    expected = {(t1, t2) for t1, c in [(0.0, 1.0), (np.pi, 1.0), (np.pi / 2, 0.36), (3 * np.pi / 2, 0.36)]
                for t2 in theta2_roots(c)}
    assert len(expected) == 8
    for p in summary["stationary_points"]:
        distances = [max(abs(np.angle(np.exp(1j * (p["theta"][0] - a)))), abs(np.angle(np.exp(1j * (p["theta"][1] - b)))))
                     for a, b in expected]
        assert min(distances) < 1e-9, p


@pytest.mark.slow
def test_landscape_results_contract(torus):
    summary, out = torus
    for name in ("config.json", "stationary_points.csv", "basins.csv", "arrays.npz", "summary.json", "basins.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "basins.png").read_bytes()[:8] == PNG
    config = json.loads((out / "config.json").read_text())["config"]
    assert (config["R"], config["r"], config["e"], config["target"]) == (2.0, 1.0, 0.6, [0.0, 0.0, 0.5])
    on_disk = json.loads((out / "summary.json").read_text())
    for p in on_disk["stationary_points"]:
        assert {"theta", "loss", "label", "eigvals"} <= set(p) and p["label"] in LABELS
    for method in METHODS:
        fractions = on_disk["basin_fractions"][method]
        assert set(fractions) == {*LABELS, "not_converged"}
        assert sum(fractions.values()) == pytest.approx(1.0, abs=1e-12)
    with np.load(out / "arrays.npz") as arrays:
        assert arrays["starts"].shape == (24 * 24, 2)
        reached = arrays["newton_destination"]
        assert reached.shape == (24 * 24,) and reached.max() < len(on_disk["stationary_points"])


@pytest.mark.slow
def test_landscape_run_resumes_from_its_checkpoints(tmp_path):
    config = load_config("circle", smoke=True)
    first = run_config(config, tmp_path, log=lambda _: None)
    logs = []
    second = run_config(config, tmp_path, log=logs.append)
    assert any("resumed" in line for line in logs)
    assert first["stationary_points"] == second["stationary_points"]
    assert first["basin_fractions"] == second["basin_fractions"]


def test_deduplicate_merges_modulo_two_pi():
    points = np.array([[1e-9], [2 * np.pi - 1e-9], [np.pi], [np.pi + 1e-8], [1.0]])
    grad_norm = np.array([3.0, 1.0, 2.0, 0.5, 1.0])
    cluster, representative = deduplicate(points, grad_norm, periodic=True, merge_tol=1e-6)
    assert cluster.tolist() == [0, 0, 1, 1, 2]
    assert representative.tolist() == [1, 3, 4]  # the member with the smallest ||∇L||
    cluster, _ = deduplicate(points, grad_norm, periodic=False, merge_tol=1e-6)
    assert len(set(cluster.tolist())) == 4  # on the plane, 1e-9 and 2π − 1e-9 are far apart


def test_start_grid_is_cell_centres():
    grid = start_grid(unit_circle(), 4)
    np.testing.assert_allclose(grid[:, 0], (np.arange(4) + 0.5) * np.pi / 2)
    assert start_grid(elliptic_torus(2.0, 1.0, 0.6, (0.0, 0.0, 0.5)), 3).shape == (9, 2)


def test_wrapping_angles_rescues_a_run_thrown_far_from_the_chart():
    # From this E2 start a near-singular damped step throws θ₂ to about −5800, where doubles are
    # 1e-12 apart: unwrapped, ||∇L|| stalls at 1.7e-11 (above tol = 1e-11); wrapped, it converges.
    from jaxnewton.engine.loop import CONVERGED, MAX_STEPS, make_loop
    from jaxnewton.optim.base import on_angles

    landscape = elliptic_torus(2.0, 1.0, 0.6, (0.0, 0.0, 0.5))
    theta0 = jnp.asarray([0.98960169, 1.86924763])
    damped = damped_newton(landscape.loss, 0.05, 0.05)
    statuses = []
    for solver in (damped, on_angles(damped)):
        loop = make_loop(landscape.loss, solver, 1e-11, 2000, 2000, 1e8)
        state = jax.jit(lambda t, loop=loop: loop.advance(loop.init(t), 2000))(theta0)
        statuses.append(int(state.status))
    assert statuses == [MAX_STEPS, CONVERGED]
    # Same step as the plain solver, modulo 2π.
    grad = jax.grad(landscape.loss)(theta0)
    plain = damped.update(theta0, grad, (), jnp.asarray(False))[0]
    wrapped = on_angles(damped).update(theta0, grad, (), jnp.asarray(False))[0]
    np.testing.assert_allclose(wrapped, np.mod(plain, 2 * np.pi), rtol=1e-15)


def fake_landscape(labels, newton):
    fractions = {"minimum": 0.0, "maximum": 0.0, "saddle": 0.0, "degenerate": 0.0, "not_converged": 0.0}
    return {"n_starts": 10, "wall_seconds": 1.0,
            "stationary_points": [{"theta": [float(i)], "loss": 1.0, "label": k} for i, k in enumerate(labels)],
            "basin_fractions": {"newton": {**fractions, **newton}, "gradient_descent": {**fractions, "minimum": 1.0}}}


def test_landscape_rows(tmp_path):
    write(tmp_path, "circle", fake_landscape(["minimum", "maximum"], {"minimum": 0.5, "maximum": 0.5}))
    row = table_line(tmp_path, "E1")
    assert row.endswith("| reproduced |") and "undamped Newton: min 50%, max 50%" in row
    assert "gradient descent: min 100%" in row
    write(tmp_path, "circle", fake_landscape(["minimum", "maximum"], {"minimum": 1.0}))
    assert table_line(tmp_path, "E1").endswith("| differs: undamped Newton never reached a maximum |")
    write(tmp_path, "circle", fake_landscape(["minimum", "maximum", "saddle"], {"minimum": 0.5, "maximum": 0.5}))
    assert "| differs: found {" in table_line(tmp_path, "E1")
