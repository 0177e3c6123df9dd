"""From a ``Config`` to pure functions and checkpointed batches: the part of a seed sweep every study shares.

``build(config)`` turns a validated seed-sweep config into an ``Experiment``: the problem (per seed,
for Fourier features), the loop of the config's optimiser and the diagnostics, none of them
compiled. ``initial_points`` draws θ₀ from per-seed keys (a seed's θ₀ does not depend on the
others), and ``run_rows`` / ``run_batch`` run rows to the end through ``engine.sweep``,
checkpointing every segment, then diagnose them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxnewton.core import datasets
from jaxnewton.core.diagnostics import Diagnostics, make_diagnose
from jaxnewton.core.models import DTYPES, Model, fourier_features, fourier_matrix, make_mlp, ntk_scales
from jaxnewton.core.problems import (Problem, grid_nodes, loss_factor, make_pinn, make_regression, quadrature_weights,
                                     reparametrised, sine_product, sine_product_source, sine_target)
from jaxnewton.engine.config import Config
from jaxnewton.engine.io import Log
from jaxnewton.engine.loop import Loop, RunState, make_context_loop
from jaxnewton.engine.sweep import (SEGMENT_SECONDS, BatchFns, diagnose_batch, init_batch, run_checkpointed,
                                   save_state)
from jaxnewton.optim import registry

FOURIER_STREAM = 1  # B of seed s is drawn from fold_in(seed key, FOURIER_STREAM); θ₀ from the seed key itself
ROUNDING_STREAM = 2  # a rounding draw's signs: fold_in(fold_in(seed key, ROUNDING_STREAM), draw)
ULP = 2.0 ** -52  # the relative change of a rounding draw: 1 + ULP is the float64 after 1
ERROR_REFINEMENT = 4  # a PINN's error is measured on a grid this many times finer per axis than its nodes


class Experiment(NamedTuple):
    """A config turned into pure functions.

    Attributes:
      config: the validated config.
      problem: the problem of seed 0's context (the problem of every seed when there is no context).
      problem_for: ``problem_for(context) -> Problem``: a seed's problem (E5: built from its B).
      loop: the per-seed loop.
      diagnose: ``diagnose(theta_P, context=()) -> Diagnostics``.
      contexts: ``contexts(seeds_S) -> context`` with a leading seed axis (``()`` when none).
    """

    config: Config
    problem: Problem
    problem_for: Callable[[Any], Problem]
    loop: Loop
    diagnose: Callable[..., Diagnostics]
    contexts: Callable[[np.ndarray], Any]


def make_model(config: Config, in_dim: int, dtype: str | None = None) -> Model:
    """The config's MLP (plain, SIREN, or behind Fourier features of ``in_dim`` entries), in ``dtype``
    (default: the config's), with the problem's m outputs."""
    return make_mlp(in_dim, config.widths, config.activation, config.bias_init, config.weight_init, config.omega0,
                    dtype or config.dtype, config.n_outputs)


def load_data(config: Config) -> datasets.RealData:
    """The config's data set (``problem`` in ``core.datasets.DATASETS``), split as its fields say."""
    return datasets.load(config.problem, config.test_fraction, config.n_train, config.split_seed)


def make_problem_for(config: Config, dtype: str | None = None) -> Callable[[Any], Problem]:
    """``problem_for(context) -> Problem`` of the config; the context is B for Fourier features, else ``()``.

    The problem computes in ``dtype`` (default: the config's): nodes, target, weights and B are built in float64
    and rounded to it; the diagnostics ask for ``"float64"``. With ``parametrisation="ntk"`` it is the same problem in
    the NTK coordinates (``core.problems.reparametrised`` by ``core.models.ntk_scales``).
    """
    standard = _standard_problem_for(config, dtype)
    if config.parametrisation == "standard":
        return standard
    model = make_model(config, 2 * config.fourier_features if config.input_features == "fourier" else config.dim,
                       dtype)
    template = jax.eval_shape(model.init, jax.random.key(0))
    s_P = jnp.asarray(ravel_pytree(ntk_scales(template))[0], DTYPES[dtype or config.dtype])
    return lambda context: reparametrised(standard(context), s_P)


def _standard_problem_for(config: Config, dtype: str | None = None) -> Callable[[Any], Problem]:
    """``make_problem_for`` in the network's own (standard) parametrisation."""
    dtype = dtype or config.dtype
    cast = lambda a: jnp.asarray(a, DTYPES[dtype])  # noqa: E731
    scale = loss_factor(config.loss_reduction)
    if config.problem in datasets.DATASETS:
        data = load_data(config)
        weights = cast(quadrature_weights(len(data.x_train), config.loss_reduction))
        problem = make_regression(make_model(config, config.dim, dtype), cast(data.x_train), cast(data.y_train),
                                  weights, config.hessian, scale)
        return lambda context: problem
    weights = cast(quadrature_weights(config.n_points ** config.dim, config.loss_reduction))
    x = grid_nodes(config.n_points, config.dim)
    if config.problem == "regression":
        target = cast(sine_target(config.target_amplitude, config.target_wavenumber)(x))
        if config.input_features == "fourier":
            model = make_model(config, 2 * config.fourier_features, dtype)
            return lambda B_FxD: make_regression(model, cast(fourier_features(x, B_FxD, config.fourier_scale)), target,
                                                 weights, config.hessian, scale)
        problem = make_regression(make_model(config, 1, dtype), cast(x), target, weights, config.hessian, scale)
        return lambda context: problem
    reaction = 1.0 if config.problem == "diffusion_reaction_2d" else 0.0
    x_error = grid_nodes(ERROR_REFINEMENT * (config.n_points - 1) + 1, config.dim)
    exact = cast(sine_product(config.target_amplitude, config.target_wavenumber)(x_error))
    source = cast(sine_product_source(config.target_amplitude, config.target_wavenumber, reaction)(x))
    problem = make_pinn(make_model(config, config.dim, dtype), cast(x), source, weights, reaction, cast(x_error), exact,
                        scale, config.hessian)
    return lambda context: problem


def build(config: Config) -> Experiment:
    """Build the problem, loop and diagnostics a config describes (nothing is compiled here)."""
    problem_for = make_problem_for(config)
    diagnostic_problem_for = problem_for if config.dtype == "float64" else make_problem_for(config, "float64")

    def contexts(seeds: np.ndarray) -> Any:
        if config.input_features != "fourier":
            return ()
        # B from its own stream of the seed's key, so θ₀ is drawn exactly as without features.
        keys = jax.vmap(lambda k: jax.random.fold_in(k, FOURIER_STREAM))(seed_keys(config.seed, seeds))
        return jax.vmap(lambda k: fourier_matrix(k, config.fourier_features, config.dim, config.fourier_sigma2))(keys)

    def solve(context: Any):
        problem = problem_for(context)
        return problem.loss, registry.build_solver(config.solver, problem.loss, problem.hessian, config,
                                                   problem.gauss_newton)

    def diagnose(theta: jax.Array, context: Any = ()) -> Diagnostics:
        # Always float64 (a float32 run's end point is diagnosed as it is, in float64).
        return make_diagnose(diagnostic_problem_for(context), config.eig_rtol, config.trivial_loss_ratio,
                             config.trivial_output_ratio, config.spectrum)(jnp.asarray(theta, jnp.float64))

    problem = problem_for(jax.tree.map(lambda a: a[0], contexts(np.arange(1))))
    loop = make_context_loop(solve, config.tol, config.max_steps, config.history_stride, config.divergence_factor,
                             config.tol_on)
    return Experiment(config=config, problem=problem, problem_for=problem_for, loop=loop, diagnose=diagnose,
                      contexts=contexts)


def seed_keys(root_seed: int, seeds: np.ndarray) -> jax.Array:
    """Per-seed keys ``fold_in(key(root_seed), s)``: seed s's key does not depend on the others."""
    root = jax.random.key(root_seed)
    return jax.vmap(lambda s: jax.random.fold_in(root, s))(jnp.asarray(seeds, jnp.uint32))


def initial_points(experiment: Experiment, seeds: np.ndarray) -> jax.Array:
    """θ₀ for each seed, ``theta0_SxP``, in the config's dtype; with ``rounding_draw`` r ≥ 1 each entry times 1 ± 2⁻⁵²
    (signs from the seed's key and r: the same seed and r give the same θ₀ in any sweep).

    Eager on purpose: under ``jit`` the threefry draws cost 3.4–4.1 s of compilation for every sweep (each builds a
    fresh ``init``), while eager op-by-op dispatch costs one compilation per process and ~8 ms a call after it
    (docs/performance.md).
    """
    config = experiment.config
    keys = seed_keys(config.seed, seeds)
    theta0 = jax.vmap(experiment.problem.init)(keys)
    if not config.rounding_draw:
        return theta0
    signs = jax.vmap(lambda k: jax.random.rademacher(
        jax.random.fold_in(jax.random.fold_in(k, ROUNDING_STREAM), config.rounding_draw), theta0.shape[1:],
        theta0.dtype))(keys)
    return theta0 * (1.0 + ULP * signs)


class BatchResult(NamedTuple):
    seeds: np.ndarray
    theta0: np.ndarray
    context: Any
    state: RunState
    diagnostics: Diagnostics
    seconds: float


def run_rows(fns: BatchFns, theta0, context: Any, checkpoint: Path, max_steps: int, segment_steps: int,
             label: str, log: Log, on_segment: Callable[[RunState], None] | None = None,
             segment_seconds: float = SEGMENT_SECONDS) -> tuple[RunState, Diagnostics, float]:
    """Run rows (θ₀ with their contexts) to the end and diagnose them, resuming from and saving to ``checkpoint``
    (segments as in ``engine.sweep.run_checkpointed``).

    ``fns.diagnose`` must return ``Diagnostics``. Returns the final state, the diagnostics and the seconds
    spent (over every resumption).
    """
    state, start, extra = run_checkpointed(fns, init_batch(fns, theta0, context), checkpoint, max_steps,
                                           segment_steps, label, log, on_segment, segment_seconds)
    if extra and set(Diagnostics._fields) <= set(extra):  # (a checkpoint of an older version lacks some: redo)
        diagnostics = Diagnostics(**{k: extra[k] for k in Diagnostics._fields})
    else:
        diagnostics = diagnose_batch(fns, state.theta, context)
        save_state(checkpoint, state, time.perf_counter() - start, diagnostics._asdict())
        log(f"{label}: Hessian diagnostics done, {time.perf_counter() - start:.1f} s")
    return state, diagnostics, time.perf_counter() - start


def run_batch(experiment: Experiment, fns: BatchFns, seeds: np.ndarray, checkpoint: Path, log: Log,
              on_segment: Callable[[RunState], None] | None = None) -> BatchResult:
    """Run one seed batch to the end, resuming from and saving to ``checkpoint``.

    ``on_segment(state)`` is called after every checkpointed segment (progress displays).
    """
    config = experiment.config
    theta0 = initial_points(experiment, seeds)
    context = jax.tree.map(np.asarray, experiment.contexts(seeds))
    state, diagnostics, seconds = run_rows(fns, theta0, context, checkpoint, config.max_steps,
                                           config.segment_steps, f"  seeds {seeds[0]}–{seeds[-1]}", log, on_segment,
                                           config.segment_seconds)
    return BatchResult(seeds, np.asarray(theta0), context, state, diagnostics, seconds)
