"""Toy saddles: Newton's one step, gradient descent's closed form and escape."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.core.diagnostics import LABELS, classify_spectrum, hessian_eigvals
from jaxnewton.engine.config import load_config
from jaxnewton.optim.first_order import gradient_descent
from jaxnewton.optim.newton import damped_newton
from jaxnewton.studies.registry import run_config
from jaxnewton.studies.saddles import trajectory
from jaxnewton.tools.landscapes import monkey_saddle, saddle
from summaries import table_line, write

PNG = b"\x89PNG\r\n\x1a\n"


def test_one_undamped_newton_step_lands_on_the_saddle_from_anywhere():
    landscape = saddle()
    newton = damped_newton(landscape.loss, 1.0, 0.0)
    starts = jnp.asarray(np.random.default_rng(0).uniform(-5, 5, (50, 2)))
    step = jax.jit(jax.vmap(lambda t: newton.update(t, jax.grad(landscape.loss)(t), (), jnp.asarray(False))[0]))
    np.testing.assert_allclose(step(starts), 0.0, atol=1e-15)
    eigvals = hessian_eigvals(landscape.loss, jnp.zeros(2))
    np.testing.assert_allclose(eigvals, [-2.0, 2.0], rtol=1e-15)
    assert LABELS[int(classify_spectrum(eigvals, 1e-6)[3])] == "saddle"


def test_gradient_descent_on_the_saddle_follows_the_closed_form():
    # x_k = (1 − 2α)^k x₀ toward the saddle, y_k = (1 + 2α)^k y₀ away from it.
    alpha, steps = 0.05, 40
    path = trajectory(saddle().loss, gradient_descent(alpha), jnp.asarray([1.0, 1e-4]), steps)
    k = np.arange(steps + 1)
    np.testing.assert_allclose(path[:, 0], (1 - 2 * alpha) ** k, rtol=1e-12)
    np.testing.assert_allclose(path[:, 1], 1e-4 * (1 + 2 * alpha) ** k, rtol=1e-12)


def test_newton_halves_the_distance_on_the_monkey_saddle():
    # ∇f is homogeneous of degree 2, so H θ = 2 ∇f and the Newton step is exactly θ/2.
    landscape = monkey_saddle()
    path = trajectory(landscape.loss, damped_newton(landscape.loss, 1.0, 0.0), jnp.asarray([0.8, -0.3]), 10)
    np.testing.assert_allclose(path, np.asarray([0.8, -0.3]) * 0.5 ** np.arange(11)[:, None], rtol=1e-12)
    eigvals = hessian_eigvals(landscape.loss, jnp.zeros(2))
    assert LABELS[int(classify_spectrum(eigvals, 1e-6)[3])] == "degenerate"


def test_escaped_path_stays_finite():
    # GD runs down the monkey saddle's valleys (f → −∞); the path freezes once |θ| > 10.
    path = trajectory(monkey_saddle().loss, gradient_descent(0.2), jnp.asarray([-1.0, 0.0]), 200)
    assert np.all(np.isfinite(path)) and np.linalg.norm(path[-1]) > 10


@pytest.mark.slow
def test_saddles_run_writes_figure_and_summary(tmp_path):
    summary = run_config(load_config("saddles", smoke=True), tmp_path, log=lambda _: None)
    assert (tmp_path / "saddles.png").read_bytes()[:8] == PNG
    assert summary["landscapes"]["saddle"]["origin_label"] == "saddle"
    assert summary["landscapes"]["monkey_saddle"]["origin_label"] == "degenerate"
    newton = [r for r in summary["landscapes"]["saddle"]["runs"] if r["method"] == "newton"]
    assert newton and all(r["distance_after_1_step"] == 0.0 for r in newton)
    assert json.loads((tmp_path / "summary.json").read_text())["landscapes"].keys() == {"saddle", "monkey_saddle"}


def fake_saddles(newton_one_step, gd_escape):
    def runs(escape):
        return ([{"method": "gradient_descent", "start": [1.0, 1e-4], "escape_step": escape, "final_distance": 10.0,
                  "distance_after_1_step": 0.9}]
                + [{"method": "newton", "start": [1.0, 1e-4], "escape_step": None, "final_distance": newton_one_step,
                    "distance_after_1_step": newton_one_step}])
    return {"wall_seconds": 1.0, "landscapes": {"saddle": {"origin_label": "saddle", "runs": runs(gd_escape)},
                                                 "monkey_saddle": {"origin_label": "degenerate", "runs": runs(264)}}}


def test_saddles_row(tmp_path):
    write(tmp_path, "saddles", fake_saddles(0.0, 97))
    row = table_line(tmp_path, "S")
    assert row.endswith("| reproduced |") and "y₀ = 0.0001: 97" in row and "origin degenerate" in row
    write(tmp_path, "saddles", fake_saddles(1e-3, None))
    assert table_line(tmp_path, "S").endswith(
        "| differs: Newton ‖θ₁‖ = 1.0e-03 after one step; a GD path never escaped |")
