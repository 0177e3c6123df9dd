"""The benchmark's three ways of forming a model of your own's Hessian (issue 41, item 4) agree with jax.hessian."""

import importlib.util
import sys
from pathlib import Path

import jax
import jax.numpy as jnp


def load_bench():
    path = Path(__file__).resolve().parents[1] / "scripts" / "bench.py"
    spec = importlib.util.spec_from_file_location("bench_script", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_script"] = module  # dataclasses look their module up while the script runs
    spec.loader.exec_module(module)
    return module


def test_every_hessian_form_is_timed_after_matching_jax_hessian():
    bench = load_bench()
    x = jax.random.normal(jax.random.key(1), (7, 3), jnp.float64)
    y = jnp.sin(x[:, 0])

    def init(key):
        k1, k2 = jax.random.split(key)
        return [(jax.random.normal(k1, (3, 4), jnp.float64), jnp.zeros(4)),
                (jax.random.normal(k2, (4, 1), jnp.float64), jnp.zeros(1))]

    def apply(params, x):
        (w1, b1), (w2, b2) = params
        return (jnp.tanh(x @ w1 + b1) @ w2 + b2)[:, 0]

    row = bench.hessian_forms(apply, init, x, y, repeats=1)  # raises if a form differs by 1e-12 relative
    assert set(row) == {"jax_hessian", "jacrev_of_jacrev", "least_squares_split"}
    assert all(ms > 0 for ms in row.values())
