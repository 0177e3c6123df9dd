"""The Python API: flax models against the built-in MLP, bare losses against known answers, bad input, the README's
example and the example script."""

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen, nnx

import jaxnewton as jn
from jaxnewton.core.diagnostics import make_diagnose
from jaxnewton.engine.build import build, initial_points
from jaxnewton.engine.config import load_config
from jaxnewton.optim.newton import damped_newton

ROOT = Path(__file__).resolve().parents[1]


class NnxNet(nnx.Module):
    """E3's 1-10-10-1 tanh network in flax nnx: the same parameter layout as the built-in MLP once raveled."""

    def __init__(self, rngs):
        self.l1 = nnx.Linear(1, 10, rngs=rngs, param_dtype=jnp.float64)
        self.l2 = nnx.Linear(10, 10, rngs=rngs, param_dtype=jnp.float64)
        self.out = nnx.Linear(10, 1, use_bias=False, rngs=rngs, param_dtype=jnp.float64)

    def __call__(self, x):
        return self.out(jnp.tanh(self.l2(jnp.tanh(self.l1(x)))))


class LinenNet(linen.Module):
    @linen.compact
    def __call__(self, x):
        h = jnp.tanh(linen.Dense(10, name="l1", param_dtype=jnp.float64)(x))
        h = jnp.tanh(linen.Dense(10, name="l2", param_dtype=jnp.float64)(h))
        return linen.Dense(1, use_bias=False, name="out", param_dtype=jnp.float64)(h)


def newton_iterates(problem, theta0, steps=20):
    solver = damped_newton(problem.loss, 0.05, 0.05, problem.hessian)

    def body(theta, _):
        theta, _ = solver.update(theta, jax.grad(problem.loss)(theta), (), jnp.asarray(False))
        return theta, theta

    return np.asarray(jax.jit(jax.vmap(lambda t: jax.lax.scan(body, t, None, length=steps)[1]))(theta0))


@pytest.mark.parametrize("model", [NnxNet(nnx.Rngs(0)), LinenNet()], ids=["nnx", "linen"])
def test_flax_e3_network_takes_the_builtin_mlps_newton_steps_and_diagnostics(model):
    """The same θ₀ (the built-in MLP's draws, in flax's layout), 20 damped Newton iterates: agree to 1e-12 (the
    built-in uses the structured Hessian, flax jax.hessian; measured 2e-13). Diagnostics at the end agree."""
    e3 = build(load_config("mlp_tanh"))
    theta0 = np.asarray(initial_points(e3, np.arange(4)))
    problem = jn.regression(model, np.asarray(e3.problem.x), np.asarray(e3.problem.target))
    assert problem.n_params == e3.problem.n_params == 140
    np.testing.assert_array_equal(problem.outer_mask, e3.problem.outer_mask)  # the read-out was found
    ours, theirs = newton_iterates(e3.problem, theta0), newton_iterates(problem, theta0)
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-12)
    assert np.max(np.abs(ours[:, -1] - theta0)) > 0.1  # they moved
    d_ours = jax.jit(jax.vmap(make_diagnose(e3.problem, 1e-6, 0.99, 0.1)))(ours[:, -1])
    d_theirs = jax.jit(jax.vmap(make_diagnose(problem, 1e-6, 0.99, 0.1)))(theirs[:, -1])
    scale = np.max(np.abs(d_ours.eigvals))
    np.testing.assert_allclose(d_theirs.eigvals, d_ours.eigvals, rtol=0, atol=1e-10 * scale)
    for field in ("label", "trivial", "n_neg"):
        np.testing.assert_array_equal(getattr(d_theirs, field), getattr(d_ours, field))
    for field in ("loss_ratio", "rel_output_norm", "outer_weight_norm", "max_basis_cosine"):
        np.testing.assert_allclose(getattr(d_theirs, field), getattr(d_ours, field), rtol=1e-10)


def test_a_model_of_your_own_gives_a_seed_the_same_bits_in_any_sweep():
    """A model of your own runs one seed at a time on CPU (``registry.seed_by_seed``), padded by single finished seeds:
    its first two seeds end bitwise alike in sweeps of 2 and 5 seeds, and a sweep moves them (10 Newton steps)."""
    e3 = build(load_config("mlp_tanh"))
    problem = jn.regression(NnxNet, np.asarray(e3.problem.x), np.asarray(e3.problem.target))
    two, five = (jn.sweep(problem, n_seeds=n, max_steps=10, progress=False) for n in (2, 5))
    np.testing.assert_array_equal(two.theta, five.theta[:2])
    np.testing.assert_array_equal(two.eigvals, five.eigvals[:2])
    assert np.max(np.abs(two.theta - two.theta0)) > 1e-3


def test_sweep_of_a_bare_loss_finds_the_known_stationary_points():
    """x² + 2y² from anywhere: a minimum in one Newton step at η = 1, ε = 0; x² − y²: Newton goes to the saddle."""
    bowl = lambda t: t[0] ** 2 + 2.0 * t[1] ** 2  # noqa: E731
    starts = np.array([[1.0, -2.0], [0.3, 0.5], [-4.0, 1.0]])
    result = jn.sweep(bowl, starts, eta=1.0, eps=0.0, progress=False)
    assert list(result.status) == ["converged"] * 3 and list(result.steps) == [1] * 3
    assert list(result.outcomes) == ["minimum"] * 3 and result.trivial is None
    np.testing.assert_allclose(result.theta, 0.0, atol=1e-14)
    np.testing.assert_allclose(result.eigvals, [[2.0, 4.0]] * 3, rtol=1e-14)
    saddle = jn.sweep(lambda t: t[0] ** 2 - t[1] ** 2, starts, eta=1.0, eps=0.0, progress=False)
    assert list(saddle.labels) == ["saddle"] * 3
    assert "saddle" in saddle.table() and len(saddle.to_frame()["seed"]) == 3
    np.testing.assert_array_equal(saddle.index_fraction, [[0.5, 0.5, 0.5]] * 3)  # dense: exact, no bracket
    # Nothing P × P formed: MINRES steps and the Lanczos spectrum find the same saddle, labelled with certainty
    wide = jn.sweep(lambda t: t[0] ** 2 - t[1] ** 2, starts, eta=1.0, eps=0.0, progress=False,
                    linear_solver="krylov", spectrum="lanczos")
    assert list(wide.labels) == ["saddle"] * 3 and wide.label_certain.all()
    assert (wide.spectrum, saddle.spectrum) == ("lanczos", "dense")
    np.testing.assert_allclose(wide.theta, 0.0, atol=1e-14)
    np.testing.assert_allclose(wide.eigvals, [[-2.0, 2.0]] * 3, rtol=1e-12)  # P = 2: two Lanczos steps are exact
    assert (wide.index_fraction[:, 1] <= 0.5 + 1e-12).all() and (0.5 - 1e-12 <= wide.index_fraction[:, 2]).all()


@pytest.mark.parametrize("call, error, message", [
    (lambda: jn.sweep(lambda t: t @ t, np.zeros(3)), ValueError, r"theta0 has shape \(3,\)"),
    (lambda: jn.sweep(lambda t: t * t, np.zeros((2, 3))), ValueError, "must return a scalar"),
    (lambda: jn.sweep(lambda t: t @ t, np.zeros((2, 3)), etaa=0.1), TypeError, r"unknown setting\(s\) \['etaa'\]"),
    (lambda: jn.sweep(lambda t: t @ t, np.zeros((2, 3)), optimizer="newtn"), ValueError, "optimizer 'newtn'"),
    (lambda: jn.sweep(lambda t: t @ t), TypeError, "pass theta0"),
    (lambda: jn.sweep(lambda t: t @ t, np.zeros((2, 3)), eps=-1.0), ValueError, "sweep: config field eps=-1.0"),
    (lambda: jn.sweep(lambda t: t @ t, np.zeros((2, 3)), optimizer="lm"), ValueError, "needs the Gauss–Newton"),
    (lambda: jn.sweep(42, np.zeros((2, 3))), TypeError, "not int"),
    (lambda: jn.sweep(lambda t: t @ t, np.zeros((2, 3)), spectrum="full"), ValueError, "sweep: spectrum='full'"),
    (lambda: jn.regression(lambda p, x: x @ p["w"], np.zeros((5, 1)), np.zeros(5)), TypeError, "pass params="),
    (lambda: jn.regression(lambda p, x: (x @ p["a"]) @ p["b"], np.zeros((5, 2)), np.zeros(5),
                           params={"a": np.ones((2, 1)), "b": np.ones((1, 1))}), ValueError, "cannot identify the read-out"),
    (lambda: jn.regression(lambda p, x: jnp.tanh(x @ p["out"]), np.ones((5, 2)), np.zeros(5),
                           params={"out": np.ones(2)}), ValueError, "not linear in its read-out"),
    (lambda: jn.regression(lambda p, x: x @ p["out"], np.ones((5, 2)), np.zeros(4), params={"out": np.ones(2)}),
     ValueError, r"v \(4,\)"),
    (lambda: jn.regression(lambda p, x: x @ p["out"], np.ones((5, 2)), np.zeros(5), params={"out": np.ones(2)},
                           readout="head"), ValueError, "readout='head' names no parameter leaf"),
])
def test_bad_input_is_a_clear_error_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_run_returns_what_the_cli_wrote(tmp_path):
    config = dataclasses.replace(load_config("mlp_tanh", smoke=True), n_seeds=2)
    result = jn.run(config, tmp_path / "r")
    again = jn.run(config, tmp_path / "r")  # complete: read back, not rerun
    assert result.theta.shape == (2, 140) and list(result.status) == list(again.status)
    np.testing.assert_array_equal(result.eigvals, again.eigvals)
    assert len(result.outcomes) == 2


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- python-example -->\s*```python\n(.*?)```", text, re.S)
    assert block, "README.md lacks its <!-- python-example --> block"
    return block.group(1)


def test_readme_python_example_is_short_and_runs_as_written(tmp_path):
    code = readme_example()
    assert len(code.strip().splitlines()) <= 10
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "seeds" in done.stdout and "parameters" in done.stdout


@pytest.mark.slow
def test_example_script_runs_in_its_shrunk_form(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "own_model.py"), "--smoke", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "outcome" in done.stdout and (tmp_path / "spectrum.png").stat().st_size > 0
