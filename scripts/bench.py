"""Benchmark: damped Newton seed-iterations per second on E3, jaxnewton vs per-seed loops and PyTorch.

Run:      make bench            (installs the ``bench`` extra, PyTorch CPU, then
                                 python scripts/bench.py --out results/bench.json)
Runtime:  several minutes on a 2-core CPU after the install (the width scan at P = 6 720 dominates).

Every implementation runs the same damped Newton step of the E3 config (140 parameters,
100 nodes, float64; θ ← θ − η (H + εI)⁻¹ ∇L with the exact Hessian) for a fixed number
of steps with the stopping test disabled, so every seed does the same work. All are
timed in one process, after compiling / warming up, best of ``--repeats``:

- ``jaxnewton``: the batched runner (``jaxnewton.engine.sweep``: jit(shard_map(chunks of
  vmap(while_loop)))) with the structured exact Hessian of ``jaxnewton.core.curvature``;
- ``jax_loop``: a Python loop over seeds, each running the same loop jitted unbatched;
- ``jaxnewton_1device``: the same runner on one CPU device (``jaxnewton`` uses one per core,
  ``engine.sweep.use_every_core``, as ``python -m jaxnewton`` and ``make paper`` do);
- ``torch_loop``: the straightforward PyTorch script, a loop over seeds and steps with
  ``torch.autograd.functional.hessian`` and ``torch.linalg.solve``;
- ``torch_vectorize``: the same loop with ``hessian(..., vectorize=True)`` (one batched
  backward pass over the P basis vectors instead of P passes);
- ``torch_func_vmap``: ``torch.func.vmap(torch.func.hessian(loss))`` over the seeds.

``best_torch_ratio`` is jaxnewton's rate at its largest seed count over the fastest PyTorch row
(any option, any seed count).

Also measured in the same run:

- ``matmul_gflops``: the float64 matrix-multiply rate (2n³ / time, n = 2048);
- ``hessian``: XLA's FLOP and byte counts for one exact Hessian, ``jax.hessian`` vs
  ``jaxnewton.core.curvature``, their times at 64 seeds in chunks of 16 (as the runner); ``hessian_gflops``, the
  structured Hessian's own FLOPs / its time; ``hessian_effective_gflops``, jax.hessian's
  FLOP count / the structured time (the rate needed to do jax.hessian's arithmetic that
  fast); and both as fractions of ``matmul_gflops``;
- ``problems``: per experiment (E3–E7), the exact Hessian the runner uses (the config's ``hessian``) against
  ``jax.hessian``, and the LU solve, ms per seed in chunks of 16, with XLA's FLOP count (``--only problems`` for
  that section alone, with the matmul rate: ``docs/bench_problems.json``);
- ``optimizers`` (``--only optimizers`` alone, ``docs/bench_optimizers.json``; not in the full run): each optimiser
  of E9's comparison on E3 through the runner, ms a seed-step, with XLA's FLOP and byte count of one loop step;
- ``widths``: time per seed-iteration of one Newton step against the parameter count, in the faster of two
  layouts (one device, or the seeds split across the devices), for two hidden layers of width 5–80
  (structured vs ``jax.hessian`` vs MINRES on Hessian-vector products, ``--only widths`` for that scan alone,
  vs the PyTorch loop, each only where it fits in time and memory);
- ``sweep_10`` / ``sweep_100``: the wall time (compile included) and iterations of the
  real E3 sweeps, read from ``results/mlp_tanh*/summary.json`` (``make mlp``,
  ``make mlp-100``), against total iterations × this run's batched cost per iteration.

Not in the full run, each alone with ``--only``:

- ``step``: E3's step taken apart at ``--step-seeds`` (gradient, structured Hessian, LU solve, ``jnp.linalg.solve``,
  the whole loop step, and the diagnostics' ``eigvalsh``), ms a seed with XLA's FLOP and byte count
  (``docs/bench_gpu_step.json`` on an H200);
- ``seeds``: the seed rows and ratios alone (``scripts/gpu.sh`` runs it on a GPU with ``--torch-device cuda``);
- ``peers``: E3's 64 starts to ||∇L|| ≤ 1e-5 within 1 000 iterations by jaxnewton's damped Newton, trust-region
  Newton, Levenberg–Marquardt, BFGS and L-BFGS (one batched run each) and by SciPy's ``trust-exact`` and
  ``trust-krylov`` (per seed, jitted JAX loss, gradient, Hessian or Hessian-vector products), optimistix's ``BFGS``
  and ``LevenbergMarquardt`` and optax's ``lbfgs`` (vmapped over the starts) and pytorch-minimize's ``trust-exact``
  (per seed): wall time for all 64 (compilation included), the end points' outcomes, and each peer's time over
  jaxnewton's same method (``docs/bench_peers.json``);
- ``matrix-free``: one step of each matrix-free second-order method (truncated damped Newton at k = 50 and 500
  MINRES products, Krylov saddle-free Newton on 50 Lanczos steps, Newton-MR capped at 500) from E3's θ₀ at widths
  80 and 320 (P = 6 720 and 103 680): products a step, ms a product, ms a step (``docs/bench_matrix_free.json``).

- ``user-model`` (also run by ``make bench``): damped Newton through ``jn.regression`` + ``jn.sweep`` on a plain
  JAX apply function (diabetes, tanh 10-16-16-1) at 4 and 32 seeds, one seed at a time as now against vmapped
  chunks as before, and the same model's step in PyTorch (``docs/bench_user_model.json``).

The PyTorch step is checked against the JAX step on the same θ before anything is timed.
Writes JSON and a PNG (time per iteration against seeds and against parameter count).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from unittest import mock
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton.core.linalg import lu_solve, symmetric_eigvals
from jaxnewton.engine.build import build, initial_points
from jaxnewton.engine.config import load_config
from jaxnewton.engine.io import machine_info, write_json
from jaxnewton.engine.loop import make_loop
from jaxnewton.engine.sweep import (CHUNK, advance_running, default_chunk, init_batch, make_batch_fns, map_rows,
                                    seed_mesh, use_every_core)
from jaxnewton.optim import registry

IMPLS = ("jaxnewton", "jaxnewton_1device", "jax_loop", "torch_loop", "torch_vectorize", "torch_func_vmap")
TORCH_IMPLS = ("torch_loop", "torch_vectorize", "torch_func_vmap")
COLORS = {"jaxnewton": "C0", "jaxnewton_1device": "C5", "jax_loop": "C1", "torch_loop": "C2", "torch_vectorize": "C6",
          "torch_func_vmap": "C3", "jax.hessian (vmapped)": "C4", "jaxnewton krylov": "C7"}


def best_time(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` calls, after one untimed call (compile, warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def cost(jitted, *args) -> dict[str, float]:
    """XLA's cost analysis of a jitted function: FLOPs and bytes accessed."""
    analysis = jitted.lower(*args).compile().cost_analysis()
    analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
    return {"flops": float(analysis.get("flops", np.nan)), "bytes": float(analysis.get("bytes accessed", np.nan))}


def matmul_gflops(repeats: int, n: int = 2048) -> float:
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float64)
    matmul = jax.jit(lambda x: x @ x)
    seconds = best_time(lambda: matmul(a).block_until_ready(), max(repeats, 3))
    return 2 * n**3 / seconds / 1e9


# ---------------------------------------------------------------- PyTorch ------------

def torch_mlp_loss(x_QxD, target_Q, weights_Q, sizes, weights_first: bool = False, readout_bias: bool = False,
                   device: str = "cpu"):
    """L(θ) = Σ_q w_q (N(x_q) − v_q)² of a tanh MLP with layer sizes ``sizes`` in PyTorch, on a flat θ laid out as
    ``ravel_pytree`` lays out the JAX model's parameters: per layer its bias then its weights (the built-in MLP's
    dicts), or its weights then its bias (``weights_first``: a list of (W, b)); the read-out has a bias only with
    ``readout_bias``. Leading axes of θ batch."""
    import torch

    x, target, weights = (torch.from_numpy(np.array(a)).to(device) for a in (x_QxD, target_Q, weights_Q))
    layers = list(zip(sizes[:-1], sizes[1:]))

    def loss(theta):
        h, i = x, 0
        for layer, (fan_in, fan_out) in enumerate(layers):
            readout = layer == len(layers) - 1
            has_bias = readout_bias or not readout
            n_w, n_b = fan_in * fan_out, fan_out if has_bias else 0
            at_w, at_b = (i, i + n_w) if weights_first else (i + n_b, i)
            w = theta[..., at_w:at_w + n_w].reshape(*theta.shape[:-1], fan_in, fan_out)
            i += n_w + n_b
            h = h @ w + (theta[..., at_b:at_b + n_b].unsqueeze(-2) if has_bias else 0.0)
            h = h.squeeze(-1) if readout else torch.tanh(h)
        r = h - target
        return torch.sum(weights * r * r, dim=-1)

    return loss


def torch_problem(experiment, device: str = "cpu"):
    """The E3 loss in PyTorch on the same flat θ layout as ``ravel_pytree`` (b₁, W₁, b₂, W₂, …, θᴼ)."""
    problem, config = experiment.problem, experiment.config
    if config.activation != "tanh":
        raise ValueError("the PyTorch reference implements tanh networks only")
    return torch_mlp_loss(problem.x, problem.target, problem.weights, (problem.x.shape[1], *config.widths, 1),
                          device=device)


def torch_loop_run(loss, theta0_SxP, steps: int, eta: float, eps: float, device: str = "cpu",
                   vectorize: bool = False):
    """The straightforward script: for each seed, for each step, Hessian + gradient + solve.

    ``vectorize=True`` is PyTorch's batched Hessian (one vmapped backward pass over the basis vectors)."""
    import torch

    out = []
    for theta0 in theta0_SxP:
        theta = torch.from_numpy(np.array(theta0)).to(device)
        eye = torch.eye(theta.numel(), dtype=theta.dtype, device=device)
        for _ in range(steps):
            hessian = torch.autograd.functional.hessian(loss, theta, vectorize=vectorize)
            t = theta.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(loss(t), t)
            theta = theta - eta * torch.linalg.solve(hessian + eps * eye, grad)
        out.append(theta.cpu().numpy())  # .cpu() also waits for the device
    return np.stack(out)


def make_torch_vmap_run(loss, eta: float, eps: float, device: str = "cpu"):
    import torch
    from torch.func import grad, hessian, vmap

    batched_hessian, batched_grad = vmap(hessian(loss)), vmap(grad(loss))

    def run(theta0_SxP, steps: int):
        theta = torch.from_numpy(np.array(theta0_SxP)).to(device)
        eye = torch.eye(theta.shape[-1], dtype=theta.dtype, device=device)
        for _ in range(steps):
            rhs = batched_grad(theta).unsqueeze(-1)
            theta = theta - eta * torch.linalg.solve(batched_hessian(theta) + eps * eye, rhs).squeeze(-1)
        return theta.cpu().numpy()

    return run


# ---------------------------------------------------------------- sections -----------

def as_runner_batches(fn):
    """jit of ``fn`` over rows of its arguments as the runner batches one device's seeds: chunks of ``CHUNK`` on CPU,
    one vmap elsewhere (``engine.sweep.default_chunk``)."""
    chunk = default_chunk(seed_mesh())
    if chunk is None:
        return jax.jit(jax.vmap(fn))
    return jax.jit(lambda *xs: jax.lax.map(lambda x: fn(*x), xs, batch_size=chunk))


def newton_loop(experiment, steps: int):
    config, problem = experiment.config, experiment.problem
    # tol = 0 never stops early: every seed runs exactly `steps` steps.
    return make_loop(problem.loss, registry.build_solver(config.solver, problem.loss, problem.hessian, config), 0.0, steps, config.history_stride,
                     config.divergence_factor)


def seed_rows(experiment, seed_counts, steps, repeats, torch_seeds, torch_vmap_seeds, torch_steps,
              use_torch, torch_device: str = "cpu", loop_seeds=None) -> tuple[list, dict]:
    config = experiment.config
    loop = newton_loop(experiment, steps)
    fns = make_batch_fns(loop, experiment.diagnose)
    one_device = make_batch_fns(loop, experiment.diagnose, seed_mesh(jax.local_devices()[:1]))
    single = jax.jit(lambda theta0: loop.advance(loop.init(theta0), jnp.asarray(steps, jnp.int32)))
    impls = {"jaxnewton": seed_counts, "jax_loop": seed_counts if loop_seeds is None else loop_seeds}
    if fns.n_devices > 1:
        impls["jaxnewton_1device"] = seed_counts
    checks = {}
    if use_torch:
        import torch

        loss = torch_problem(experiment, torch_device)
        torch_vmap = make_torch_vmap_run(loss, config.eta, config.eps, torch_device)
        # Independent-implementation check: 3 steps from 4 seeds, PyTorch vs the JAX runner.
        theta0 = initial_points(experiment, np.arange(4))
        check_fns = make_batch_fns(newton_loop(experiment, 3), experiment.diagnose)
        reference = advance_running(check_fns, init_batch(check_fns, theta0), 3).theta
        for name, theta in (("torch_loop", torch_loop_run(loss, theta0, 3, config.eta, config.eps, torch_device)),
                            ("torch_vectorize", torch_loop_run(loss, theta0, 3, config.eta, config.eps, torch_device,
                                                               vectorize=True)),
                            ("torch_func_vmap", torch_vmap(theta0, 3))):
            err = float(np.max(np.abs(theta - reference)) / np.max(np.abs(reference)))
            checks[name] = err
            print(f"{name} vs jaxnewton after 3 steps: max relative difference {err:.1e}")
            if not err < 1e-9:
                raise RuntimeError(f"{name} disagrees with jaxnewton ({err:.1e}); the comparison would be meaningless")
        # PyTorch first: on a GPU, JAX keeps the memory its largest batch took, and torch.func.vmap at 16 384 seeds
        # then ran out of memory on an H200 (2026-11-30).
        impls = {"torch_loop": torch_seeds, "torch_vectorize": torch_seeds, "torch_func_vmap": torch_vmap_seeds} | impls
        print(f"torch {torch.__version__} on {torch_device}, {torch.get_num_threads()} CPU threads")
    rows = []
    for impl, counts in impls.items():
        if impl == "jaxnewton" and use_torch and torch_device.startswith("cuda"):
            torch.cuda.empty_cache()  # hand PyTorch's cached blocks back before JAX's rows
        for n_seeds in counts:
            theta0 = initial_points(experiment, np.arange(n_seeds))
            n_steps = torch_steps if impl.startswith("torch") else steps
            fn = {
                "jaxnewton": lambda: jax.block_until_ready(advance_running(fns, init_batch(fns, theta0), steps).theta),
                "jaxnewton_1device": lambda: jax.block_until_ready(
                    advance_running(one_device, init_batch(one_device, theta0), steps).theta),
                "jax_loop": lambda: [jax.block_until_ready(single(t).theta) for t in theta0],
                "torch_loop": lambda: torch_loop_run(loss, theta0, n_steps, config.eta, config.eps, torch_device),
                "torch_vectorize": lambda: torch_loop_run(loss, theta0, n_steps, config.eta, config.eps, torch_device,
                                                          vectorize=True),
                "torch_func_vmap": lambda: torch_vmap(theta0, n_steps),
            }[impl]
            seconds = best_time(fn, 1 if impl == "torch_loop" else repeats)
            rate = n_seeds * n_steps / seconds
            rows.append({"impl": impl, "seeds": n_seeds, "steps": n_steps, "seconds": seconds,
                         "seed_iters_per_s": rate, "ms_per_seed_iter": 1e3 / rate})
            print(f"{impl:>16} {n_seeds:>4} seeds: {rate:9.1f} seed-iter/s ({1e3 / rate:8.3f} ms per seed-iteration)")
    return rows, checks


def hessian_section(experiment, repeats: int, n_seeds: int = 64) -> dict:
    problem = experiment.problem
    theta = initial_points(experiment, np.arange(n_seeds))
    out = {"seeds": n_seeds}
    for name, fn in (("autodiff", jax.hessian(problem.loss)), ("structured", problem.hessian)):
        batched = as_runner_batches(fn)
        # XLA counts a lax.map body once, so FLOPs are counted on one vmapped chunk.
        per_seed = {k: v / CHUNK for k, v in cost(jax.jit(jax.vmap(fn)), theta[:CHUNK]).items()}
        seconds = best_time(lambda: batched(theta).block_until_ready(), repeats + 2) / n_seeds
        out[name] = {"flops_per_seed": per_seed["flops"], "bytes_per_seed": per_seed["bytes"],
                     "ms_per_seed": 1e3 * seconds, "gflops": per_seed["flops"] / seconds / 1e9}
        print(f"hessian {name:>10}: {per_seed['flops'] / 1e6:6.1f} MFLOP, {per_seed['bytes'] / 1e6:6.1f} MB, "
              f"{1e3 * seconds:.3f} ms per seed, {per_seed['flops'] / seconds / 1e9:5.1f} GFLOP/s")
    reference = jax.jit(jax.vmap(jax.hessian(problem.loss)))(theta[:8])
    structured = jax.jit(jax.vmap(problem.hessian))(theta[:8])
    out["max_rel_diff"] = float(jnp.max(jnp.abs(structured - reference)) / jnp.max(jnp.abs(reference)))
    out["speedup"] = out["autodiff"]["ms_per_seed"] / out["structured"]["ms_per_seed"]
    return out


PROBLEMS = ("mlp_tanh", "siren", "fourier", "pinn1d", "pinn2d")  # E3, E4, E5, E6, E7


def problem_section(repeats: int, n_seeds: int = 32) -> list:
    """Per experiment: one exact Hessian as the runner computes it (the config's ``hessian``) against
    ``jax.hessian``, and one LU solve, ms per seed in chunks of ``CHUNK``; the two Hessians checked equal first."""
    rows = []
    for name in PROBLEMS:
        experiment = build(load_config(name))
        config, seeds = experiment.config, np.arange(n_seeds)
        theta = jnp.asarray(initial_points(experiment, seeds))
        contexts = experiment.contexts(seeds)
        args = (theta,) if isinstance(contexts, tuple) else (theta, contexts)
        runner = lambda t, c=(): experiment.problem_for(c).hessian(t)  # noqa: E731
        autodiff = lambda t, c=(): jax.hessian(experiment.problem_for(c).loss)(t)  # noqa: E731
        chunked = lambda fn: jax.jit(lambda *xs: jax.lax.map(lambda x: fn(*x), xs, batch_size=CHUNK))  # noqa: E731
        ours, reference = chunked(runner)(*args), chunked(autodiff)(*args)
        rel = float(jnp.max(jnp.abs(ours - reference)) / jnp.max(jnp.abs(reference)))
        if not rel < 1e-12:
            raise RuntimeError(f"{name}: the runner's Hessian differs from jax.hessian by {rel:.1e}")
        eye = jnp.eye(theta.shape[1], dtype=theta.dtype)
        solve = chunked(lambda h, g: lu_solve(h + config.eps * eye, g))
        row = {"config": name, "n_params": int(theta.shape[1]), "hessian": config.hessian, "max_rel_diff": rel}
        for label, fn, fargs in (("runner", chunked(runner), args), ("autodiff", chunked(autodiff), args),
                                 ("lu", solve, (ours, theta))):
            row[f"{label}_ms_per_seed"] = 1e3 * best_time(lambda: jax.block_until_ready(fn(*fargs)), repeats) / n_seeds
        # XLA counts a lax.map body once, so FLOPs are counted on one vmapped chunk.
        chunk_args = (jax.tree.map(lambda a: a[:CHUNK], x) for x in args)
        row["runner_mflop_per_seed"] = cost(jax.jit(jax.vmap(runner)), *chunk_args)["flops"] / CHUNK / 1e6
        rows.append(row)
        print(f"{name:>9} P = {row['n_params']:>4}: Hessian ({config.hessian}) {row['runner_ms_per_seed']:.3f} ms, "
              f"jax.hessian {row['autodiff_ms_per_seed']:.3f} ms, LU {row['lu_ms_per_seed']:.3f} ms a seed; "
              f"{row['runner_mflop_per_seed']:.1f} MFLOP; agree to {rel:.1e}")
    return rows


MULTI_OUTPUT = (("diabetes", 16, 0), ("digits", 8, 300), ("digits", 16, 300))  # the real-data study's networks


def multi_output_section(repeats: int, n_seeds: int = 16) -> list:
    """The real-data networks (issue 42): the structured multi-output Hessian against ``jax.hessian``, checked equal
    to 1e-12 first, ms per seed with ``n_seeds`` vmapped, and one LU solve."""
    rows = []
    base = load_config("mlp_tanh")
    for data, width, n_train in MULTI_OUTPUT:
        experiment = build(dataclasses.replace(base, problem=data, widths=(width, width), n_train=n_train))
        problem = experiment.problem
        theta = jnp.asarray(initial_points(experiment, np.arange(n_seeds)))
        structured, autodiff = jax.jit(jax.vmap(problem.hessian)), jax.jit(jax.vmap(jax.hessian(problem.loss)))
        ours, reference = structured(theta), autodiff(theta)
        rel = float(jnp.max(jnp.abs(ours - reference)) / jnp.max(jnp.abs(reference)))
        if not rel < 1e-12:
            raise RuntimeError(f"{data} w={width}: the structured Hessian differs from jax.hessian by {rel:.1e}")
        eye = jnp.eye(theta.shape[1], dtype=theta.dtype)
        solve = jax.jit(jax.vmap(lambda h, g: lu_solve(h + base.eps * eye, g)))
        row = {"data": data, "width": width, "n_outputs": problem.n_outputs, "n_train": int(problem.x.shape[0]),
               "n_params": problem.n_params, "seeds": n_seeds, "max_rel_diff": rel}
        for label, fn, args in (("structured", structured, (theta,)), ("autodiff", autodiff, (theta,)),
                                ("lu", solve, (ours, theta))):
            row[f"{label}_ms_per_seed"] = 1e3 * best_time(lambda: jax.block_until_ready(fn(*args)), repeats) / n_seeds
        row["speedup"] = row["autodiff_ms_per_seed"] / row["structured_ms_per_seed"]
        rows.append(row)
        print(f"{data:>8} w={width:<3} m={row['n_outputs']:<2} P={row['n_params']:>5}: structured "
              f"{row['structured_ms_per_seed']:.2f} ms, jax.hessian {row['autodiff_ms_per_seed']:.2f} ms "
              f"({row['speedup']:.1f}×), LU {row['lu_ms_per_seed']:.2f} ms a seed; agree to {rel:.1e}")
    return rows


USER_MODEL = (10, 16, 16, 1)  # issue 41's model of your own: a tanh apply function on diabetes (P = 465)


def hessian_forms(apply, init, x, y, repeats: int) -> dict:
    """One seed's exact Hessian of L = mean((N − y)²) formed three ways, ms each (jitted, one seed): ``jax.hessian``
    (forward-over-reverse, what ``jn.regression`` uses), the Jacobian of the Jacobian (``jacrev(jacrev)``), and the
    least-squares split issue 41 suggests, (2/Q)(JᵀJ + ∇²(rᵀN)) with J by ``jacfwd`` and the second term's r held
    fixed. Each is checked equal to ``jax.hessian`` to 1e-12 relative first."""
    from jax.flatten_util import ravel_pytree

    theta, unravel = ravel_pytree(init(jax.random.key(0)))

    def residual(t):
        return apply(unravel(t), x) - y

    def loss(t):
        return jnp.mean(residual(t) ** 2)

    def split(t):
        jac, r = jax.jacfwd(residual)(t), residual(t)
        curvature = jax.hessian(lambda u: jnp.dot(jax.lax.stop_gradient(r), residual(u)))(t)
        return (2.0 / r.size) * (jac.T @ jac + curvature)

    forms = {"jax_hessian": jax.hessian(loss), "jacrev_of_jacrev": jax.jacrev(jax.jacrev(loss)),
             "least_squares_split": split}
    reference = jax.jit(forms["jax_hessian"])(theta)
    row = {}
    for name, form in forms.items():
        fn = jax.jit(form)
        rel = float(jnp.max(jnp.abs(fn(theta) - reference)) / jnp.max(jnp.abs(reference)))
        if not rel < 1e-12:
            raise RuntimeError(f"the Hessian form {name} differs from jax.hessian by {rel:.1e} relative")
        row[name] = 1e3 * best_time(lambda: jax.block_until_ready(fn(theta)), repeats)  # noqa: B023
    return row


def user_model(sizes=USER_MODEL):
    """(apply, init, x, y) of a plain JAX MLP as a user writes one: params a list of (W, b), tanh, linear read-out."""
    from jaxnewton.core import datasets

    data = datasets.load("diabetes", test_fraction=0.2)  # 353 × 10, standardised

    def init(key):
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            key, sub = jax.random.split(key)
            params.append((jax.random.normal(sub, (fan_in, fan_out), jnp.float64) / np.sqrt(fan_in),
                           jnp.zeros(fan_out, jnp.float64)))
        return params

    def apply(params, x):
        h = x
        for w, b in params[:-1]:
            h = jnp.tanh(h @ w + b)
        w, b = params[-1]
        return (h @ w + b)[:, 0]

    return apply, init, data.x_train, data.y_train


def user_model_section(repeats: int, seed_counts=(4, 32), seed_steps: int = 320, torch_seeds: int = 4) -> dict:
    """Issue 41, item 4: damped Newton on a model of your own (``jn.regression`` of ``user_model``) through
    ``jn.sweep``, ms a seed-step at each seed count (the difference of caps of 2 and 2 + ``seed_steps`` / seeds steps,
    so compilation and the end points' spectra cancel), against the same model's step in PyTorch (``torch.autograd.functional.hessian(...,
    vectorize=True)`` seed by seed, and ``torch.func.vmap(torch.func.hessian)``), checked equal first; and its
    Hessian alone in the two CPU layouts (chunks of ``CHUNK`` vmapped, as before; one seed at a time, as now:
    ``registry.seed_by_seed``), with XLA's FLOP count and the floor that count sets at the matmul rate; and one seed's
    Hessian formed three ways (``hessian_forms``)."""
    import jaxnewton as jn

    apply, init, x, y = user_model()
    problem = jn.regression(apply, x, y, init=init, readout=(f"{len(USER_MODEL) - 2}/0", f"{len(USER_MODEL) - 2}/1"))
    theta = jnp.asarray(jax.vmap(problem.init)(jax.random.split(jax.random.key(0), CHUNK)))
    hessian = jax.hessian(problem.loss)
    layouts = {"chunks_of_16_vmapped": jax.jit(lambda t: jax.lax.map(hessian, t, batch_size=CHUNK)),
               "one_seed_at_a_time": jax.jit(lambda t: jax.lax.map(hessian, t))}
    rate = matmul_gflops(repeats)
    mflop = cost(jax.jit(hessian), theta[0])["flops"] / 1e6
    row = {"model": "tanh " + "-".join(map(str, USER_MODEL)), "data": "diabetes 353 × 10", "n_params":
           problem.n_params, "matmul_gflops": rate, "hessian_mflop_per_seed": mflop,
           "hessian_floor_ms": mflop / rate, "hessian_ms_per_seed": {}}
    for name, fn in layouts.items():
        row["hessian_ms_per_seed"][name] = 1e3 * best_time(lambda: jax.block_until_ready(fn(theta)), repeats) / CHUNK
    row["hessian_forms_ms_one_seed"] = hessian_forms(apply, init, x, y, repeats)

    def sweep_seconds(n_seeds: int, n_steps: int) -> float:
        return best_time(lambda: jn.sweep(problem, n_seeds=n_seeds, max_steps=n_steps, tol=1e-300, progress=False),
                         repeats)

    def ms_per_seed_step() -> dict[str, float]:
        return {str(n): 1e3 * (sweep_seconds(n, 2 + seed_steps // n) - sweep_seconds(n, 2)) / (seed_steps // n * n)
                for n in seed_counts}

    row["jaxnewton_ms_per_seed_step"] = ms_per_seed_step()
    # the layout before 2026-12-06, side by side: the seeds in vmapped chunks of CHUNK (seed_by_seed: Krylov only)
    with mock.patch.object(registry, "seed_by_seed", registry.counts_krylov):
        row["jaxnewton_chunked_ms_per_seed_step"] = ms_per_seed_step()
    config = load_config("mlp_tanh")
    try:
        import torch
    except ImportError:
        row["torch"] = "not installed (pip install -e .[bench])"
    else:
        loss = torch_mlp_loss(x, y, np.full(len(y), 1.0 / len(y)), USER_MODEL, weights_first=True,
                              readout_bias=True)
        theta0 = np.asarray(theta[:torch_seeds])
        ours = jn.sweep(problem, theta0=theta0, max_steps=1, tol=1e-300, progress=False).theta
        theirs = make_torch_vmap_run(loss, config.eta, config.eps)(theta0, 1)
        # relative to the step: (H + εI)⁻¹ amplifies the Hessians' rounding differences (1.6e-10 absolute, 2026-12-06)
        row["torch_step_rel_diff"] = float(np.max(np.abs(ours - theirs)) / np.max(np.abs(ours - theta0)))
        if not row["torch_step_rel_diff"] < 1e-8:
            raise RuntimeError(f"the PyTorch step differs from jaxnewton's by {row['torch_step_rel_diff']:.1e} "
                               "relative")
        torch_steps = 3
        row["torch_ms_per_seed_step"] = {
            "torch_vectorize": 1e3 * best_time(lambda: torch_loop_run(loss, theta0, torch_steps, config.eta, config.eps,
                                                                      vectorize=True), 1) / (torch_seeds * torch_steps),
            "torch_func_vmap": 1e3 * best_time(lambda: make_torch_vmap_run(loss, config.eta, config.eps)(
                theta0, torch_steps), 1) / (torch_seeds * torch_steps)}
        fastest = min(row["torch_ms_per_seed_step"].values())
        row["ratio_to_fastest_torch"] = {n: fastest / ms for n, ms in row["jaxnewton_ms_per_seed_step"].items()}
    small, large = (row["jaxnewton_ms_per_seed_step"][str(n)] for n in (seed_counts[0], seed_counts[-1]))
    row["small_over_large_per_seed"] = small / large
    print(f"user model P = {problem.n_params}: Hessian forms {row['hessian_forms_ms_one_seed']} ms (one seed); "
          f"Hessian {row['hessian_ms_per_seed']} ms a seed "
          f"({mflop:.0f} MFLOP, floor {row['hessian_floor_ms']:.1f} ms at {rate:.0f} GFLOP/s); jn.sweep "
          f"{row['jaxnewton_ms_per_seed_step']} ms a seed-step (in chunks {row['jaxnewton_chunked_ms_per_seed_step']}); PyTorch {row.get('torch_ms_per_seed_step')}")
    return row


def optimizer_section(repeats: int, n_seeds: int = 32, steps: int = 100) -> list:
    """Per optimiser of E9's comparison on E3: ms a seed-step through the runner (``steps`` steps from θ₀, the
    stopping test off), and XLA's FLOP and byte count of one loop step (solver update, L and ∇L, bookkeeping) on a
    vmapped chunk, per seed. XLA counts a loop's body once: a line search's or golden section's evaluations beyond
    the first are not in the count."""
    experiment = build(load_config("mlp_tanh"))
    config, problem = experiment.config, experiment.problem
    theta0 = initial_points(experiment, np.arange(n_seeds))
    rows = []
    for name in registry.names(in_all=True):
        solver = registry.build_solver(name, problem.loss, problem.hessian, config,
                                       gauss_newton_matrix=problem.gauss_newton)
        loop = make_loop(problem.loss, solver, 0.0, steps, config.history_stride, config.divergence_factor)
        fns = make_batch_fns(loop)
        finals = []  # advance_running returns host arrays: each call has finished when it returns
        seconds = best_time(lambda: finals.append(advance_running(fns, init_batch(fns, theta0), steps)), repeats)
        final = finals[-1]
        states = jax.jit(jax.vmap(loop.init))(jnp.asarray(theta0[:CHUNK]))
        counted = cost(jax.jit(jax.vmap(loop.step)), states)
        done = final.steps.astype(np.float64).sum()  # a seed that blew up stops early: count the steps it took
        row = {"optimizer": name, "seeds": n_seeds, "steps": steps, "seed_steps_done": int(done),
               "ms_per_seed_step": 1e3 * seconds / done, "mflop_per_seed_step": counted["flops"] / CHUNK / 1e6,
               "mb_per_seed_step": counted["bytes"] / CHUNK / 1e6}
        row["gflops"] = row["mflop_per_seed_step"] / row["ms_per_seed_step"]
        rows.append(row)
        print(f"{name:>22}: {row['ms_per_seed_step']:.4f} ms a seed-step, {row['mflop_per_seed_step']:.3f} MFLOP "
              f"({row['mb_per_seed_step']:.2f} MB) counted, {row['gflops']:.2f} GFLOP/s; {int(done)} seed-steps")
    return rows


def step_section(seed_counts, repeats: int, eig_seeds: int = 256) -> list:
    """E3's Newton step taken apart at each seed count, as the runner batches it (chunks of ``CHUNK`` on CPU, one vmap
    elsewhere): the gradient, the structured Hessian, the LU solve of (H + εI) x = ∇L and ``jnp.linalg.solve`` of the
    same system, and the whole loop step (``newton_loop``: Hessian, gradient, solve, loss and bookkeeping), ms a seed
    with XLA's FLOP and byte count a seed; and the diagnostics' ``eigvalsh`` at ``eig_seeds`` seeds (on a GPU jaxlib
    runs one 140 × 140 ``syevd`` after another). The two solves are checked equal first."""
    experiment = build(load_config("mlp_tanh"))
    config, problem = experiment.config, experiment.problem
    eye = jnp.eye(problem.n_params, dtype=jnp.float64)
    loop = newton_loop(experiment, 1)
    parts = {"gradient": jax.grad(problem.loss), "hessian": problem.hessian,
             "lu_solve": lambda h, g: lu_solve(h + config.eps * eye, g),
             "linalg_solve": lambda h, g: jnp.linalg.solve(h + config.eps * eye, g), "loop_step": loop.step,
             "eigvalsh": symmetric_eigvals}
    rows = []
    for n_seeds in seed_counts:
        theta = jnp.asarray(initial_points(experiment, np.arange(n_seeds)))
        hessians = as_runner_batches(problem.hessian)(theta)
        grads = as_runner_batches(jax.grad(problem.loss))(theta)
        states = as_runner_batches(loop.init)(theta)
        args = {"gradient": (theta,), "hessian": (theta,), "lu_solve": (hessians, grads),
                "linalg_solve": (hessians, grads), "loop_step": (states,), "eigvalsh": (hessians[:eig_seeds],)}
        lu, solve = (as_runner_batches(parts[name])(hessians, grads) for name in ("lu_solve", "linalg_solve"))
        rel = float(jnp.max(jnp.abs(lu - solve)) / jnp.max(jnp.abs(solve)))
        if not rel < 1e-9:
            raise RuntimeError(f"lu_solve and jnp.linalg.solve disagree by {rel:.1e}")
        row = {"seeds": n_seeds, "chunk": default_chunk(seed_mesh()), "solve_max_rel_diff": rel}
        for name, fn in parts.items():
            fargs = args[name]
            count = fargs[0].shape[0] if name != "loop_step" else n_seeds
            jitted = as_runner_batches(fn)
            seconds = best_time(lambda: jax.block_until_ready(jitted(*fargs)), repeats)  # noqa: B023
            small = jax.tree.map(lambda a: a[:CHUNK], fargs)  # XLA counts a lax.map body once: count one vmap
            counted = cost(jax.jit(jax.vmap(fn)), *small)
            row[name] = {"seeds": count, "ms_per_seed": 1e3 * seconds / count,
                         "mflop_per_seed": counted["flops"] / CHUNK / 1e6,
                         "mb_per_seed": counted["bytes"] / CHUNK / 1e6}
            row[name]["gflops"] = row[name]["mflop_per_seed"] / row[name]["ms_per_seed"]
            print(f"step {n_seeds:>6} seeds {name:>12}: {row[name]['ms_per_seed']:.5f} ms a seed "
                  f"({count} seeds), {row[name]['mflop_per_seed']:.2f} MFLOP, {row[name]['mb_per_seed']:.2f} MB, "
                  f"{row[name]['gflops']:.1f} GFLOP/s")
        rows.append(row)
    return rows


class Timed(NamedTuple):
    """``best_layout``'s answer: the faster layout, each layout's best seconds, and the faster layout's output."""

    layout: str
    seconds: dict
    result: Any

    def row(self, n_seeds: int) -> dict:
        """The row fields: ms a seed-step in the faster layout, which one it was, and each layout's ms."""
        return {"ms_per_seed_iter": 1e3 * self.seconds[self.layout] / n_seeds, "layout": self.layout,
                **{f"ms_{name}": 1e3 * value / n_seeds for name, value in self.seconds.items()}}


def best_layout(fn, theta, repeats: int, uneven: bool = False) -> Timed:
    """``fn`` (one seed) over the seeds ``theta``, timed in both layouts, each returning host arrays: one vmap on one
    device, and the seeds split across this process's devices as the runner splits them (``map_rows``: a vmap of
    each device's share, or for an ``uneven`` step, a MINRES solve, one seed at a time, as ``make_batch_fns`` runs
    it). Neither wins everywhere (a large LU may already use every core), so both are kept and the faster one is the
    row's time."""
    one, split = jax.jit(jax.vmap(fn)), map_rows(fn, chunk=1 if uneven else None)
    layouts = {"one_device": lambda: jax.tree.map(np.asarray, one(theta)), "across_devices": lambda: split(theta)}
    seconds, results = {}, {}
    for name, call in layouts.items():
        outputs = []  # the calls return host arrays: each has finished when it returns
        seconds[name] = best_time(lambda: outputs.append(call()), repeats)  # noqa: B023 (called at once)
        results[name] = outputs[-1]
    layout = min(seconds, key=seconds.get)
    return Timed(layout, seconds, results[layout])


def width_section(base, widths, repeats: int, budget_params: dict, use_torch: bool, torch_device: str = "cpu") -> list:
    """ms per seed-iteration of one Newton step (Hessian + gradient + LU solve, or MINRES) against P, in the faster of
    two layouts (``best_layout``)."""
    rows = []
    for width in widths:
        config = dataclasses.replace(base, widths=(width, width))
        experiments = {hessian: build(dataclasses.replace(config, hessian=hessian))
                       for hessian in ("structured", "autodiff")}
        n_params = experiments["structured"].problem.n_params
        for hessian, experiment in experiments.items():
            if n_params > budget_params[hessian]:
                continue
            problem = experiment.problem
            n_seeds = 8 if n_params <= 500 else 2
            theta = initial_points(experiment, np.arange(n_seeds))
            solver = registry.build_solver(config.solver, problem.loss, problem.hessian, config)
            timed = best_layout(lambda t: solver.update(t, jax.grad(problem.loss)(t), (), False)[0], theta, repeats)
            impl = "jaxnewton" if hessian == "structured" else "jax.hessian (vmapped)"
            rows.append({"impl": impl, "width": width, "n_params": n_params, "seeds": n_seeds, **timed.row(n_seeds)})
            print(f"width {width:>3} (P = {n_params:>5}) {impl:>22}: {rows[-1]['ms_per_seed_iter']:10.3f} ms "
                  f"({timed.layout})")
        if n_params <= budget_params.get("krylov", 0):  # MINRES on Hessian-vector products, H never formed
            experiment = experiments["structured"]
            problem = experiment.problem
            n_seeds = 8 if n_params <= 500 else 2
            theta = initial_points(experiment, np.arange(n_seeds))
            solver = registry.build_solver("newton", problem.loss, None,
                                           dataclasses.replace(config, linear_solver="krylov"))
            timed = best_layout(lambda t: solver.update(t, jax.grad(problem.loss)(t), solver.init(t), False), theta,
                                repeats, uneven=True)
            iterations = float(np.mean(timed.result[1].krylov_iterations))
            rows.append({"impl": "jaxnewton krylov", "width": width, "n_params": n_params, "seeds": n_seeds,
                         **timed.row(n_seeds), "minres_iterations": iterations})
            print(f"width {width:>3} (P = {n_params:>5}) {'jaxnewton krylov':>22}: "
                  f"{rows[-1]['ms_per_seed_iter']:10.3f} ms ({timed.layout}, {iterations:.0f} MINRES iterations)")
        if use_torch and n_params <= budget_params["torch_loop"]:
            experiment = experiments["structured"]
            theta = initial_points(experiment, np.arange(1))
            loss = torch_problem(experiment, torch_device)
            seconds = best_time(lambda: torch_loop_run(loss, theta, 1, config.eta, config.eps, torch_device), 1)
            rows.append({"impl": "torch_loop", "width": width, "n_params": n_params, "seeds": 1,
                         "ms_per_seed_iter": 1e3 * seconds})
            print(f"width {width:>3} (P = {n_params:>5}) {'torch_loop':>22}: {1e3 * seconds:10.3f} ms")
    return rows


def sfn_lanczos_section(base, widths, ks=(5, 10, 20, 40, 80), n_seeds: int = 8, newton_steps: int = 300) -> list:
    """How far saddle-free Newton's Lanczos step (k steps from ∇L, H never formed) is from the dense |H| step.

    Per width and k: the relative distance ||s_k − s_dense|| / ||s_dense|| over ``n_seeds`` points θ₀ and as many
    points after ``newton_steps`` damped Newton steps (on their way to the trivial saddle), median and maximum.
    """
    rows = []
    for width in widths:
        config = dataclasses.replace(base, widths=(width, width))
        experiment = build(config)
        problem = experiment.problem
        theta0 = jnp.asarray(initial_points(experiment, np.arange(n_seeds)))
        newton = registry.build_solver("newton", problem.loss, problem.hessian, config)
        grad = jax.grad(problem.loss)
        later = jax.jit(jax.vmap(lambda t: jax.lax.fori_loop(
            0, newton_steps, lambda _, t: newton.update(t, grad(t), (), False)[0], t)))(theta0)
        points = {"theta0": theta0, f"after {newton_steps} Newton steps": later}

        def steps(solver, thetas):
            return np.asarray(jax.jit(jax.vmap(lambda t: solver.update(t, grad(t), solver.init(t), False)[0] - t))(
                thetas))

        dense_solver = registry.build_solver("sfn", problem.loss, problem.hessian, config)
        for where, thetas in points.items():
            dense = steps(dense_solver, thetas)
            for k in [k for k in ks if k < problem.n_params] + [problem.n_params]:
                solver = registry.build_solver("sfn", problem.loss, None, dataclasses.replace(
                    config, linear_solver="krylov", krylov_max_iter=k))
                rel = np.linalg.norm(steps(solver, thetas) - dense, axis=1) / np.linalg.norm(dense, axis=1)
                rows.append({"width": width, "n_params": problem.n_params, "at": where, "lanczos_steps": k,
                             "median_rel_distance": float(np.median(rel)), "max_rel_distance": float(np.max(rel))})
                print(f"sfn lanczos P = {problem.n_params:>4} {where:>24} k = {k:>4}: median {np.median(rel):.2e}, "
                      f"max {np.max(rel):.2e}")
    return rows


# The matrix-free second-order methods as practitioners run them (issue 43): name -> config changes on E3's config.
MATRIX_FREE = {
    "truncated damped Newton, k = 50": {"solver": "newton", "linear_solver": "krylov", "krylov_max_iter": 50},
    "truncated damped Newton, k = 500": {"solver": "newton", "linear_solver": "krylov", "krylov_max_iter": 500},
    "Krylov saddle-free Newton, k = 50": {"solver": "sfn", "linear_solver": "krylov", "krylov_max_iter": 50},
    "Newton-MR, cap 500": {"solver": "newton_mr", "krylov_max_iter": 500},
}


def matrix_free_section(base, widths, repeats: int) -> list:
    """One step of each matrix-free method (``MATRIX_FREE``) from seed 0's θ₀ of E3's network at each width, side
    by side: Hessian-vector products in the step, ms a product (one product timed alone), ms the step."""
    rows = []
    for width in widths:
        config = dataclasses.replace(base, widths=(width, width))
        experiment = build(config)
        problem = experiment.problem
        theta = initial_points(experiment, np.arange(1))[0]
        grad = jax.jit(jax.grad(problem.loss))(theta)
        hvp = jax.jit(lambda t, v: jax.jvp(jax.grad(problem.loss), (t,), (v,))[1])
        product_s = best_time(lambda: hvp(theta, grad).block_until_ready(), repeats)
        for name, changes in MATRIX_FREE.items():
            settings = dataclasses.replace(config, **changes)
            solver = registry.build_solver(settings.solver, problem.loss, None, settings)
            step = jax.jit(lambda t, g: solver.update(t, g, solver.init(t), False))  # noqa: B023 (called at once)
            outputs = []
            seconds = best_time(lambda: outputs.append(jax.block_until_ready(step(theta, grad))), repeats)  # noqa: B023
            record = outputs[-1][1]
            rows.append({"method": name, "width": width, "n_params": problem.n_params,
                         "products": int(record.krylov_iterations), "ms_per_product": 1e3 * product_s,
                         "ms_per_step": 1e3 * seconds, "unsolved": int(record.unsolved_steps),
                         "curvature_step": int(getattr(record, "curvature_steps", 0))})
            print(f"width {width:>3} (P = {problem.n_params:>6}) {name:<36} {rows[-1]['products']:>5} products, "
                  f"{rows[-1]['ms_per_product']:8.3f} ms a product, {rows[-1]['ms_per_step']:10.1f} ms the step",
                  flush=True)
    return rows


# Peers on the same work (issue 41): jaxnewton's method each peer is set against.
PEERS = {
    "scipy trust-exact (per seed)": "trust_region", "scipy trust-krylov (per seed)": "trust_region",
    "optimistix BFGS (vmap)": "bfgs", "optimistix LevenbergMarquardt (vmap)": "lm", "optax lbfgs (vmap)": "lbfgs",
    "pytorch-minimize trust-exact (per seed)": "trust_region",
}
PEER_TOL, PEER_CAP = 1e-5, 1000  # ||∇L|| ≤ tol, at most this many iterations, for every row


def peer_outcomes(experiment, theta_SxP) -> dict[str, int]:
    """fit / trivial / other of the end points: trivial by the project's rule (``core.diagnostics``), fit when the
    relative L2 error is at most ``studies.seeds.SOLVED_L2``, and how many reached ||∇L|| ≤ PEER_TOL."""
    from jaxnewton.core.diagnostics import make_trivial_measures
    from jaxnewton.studies.seeds import SOLVED_L2

    problem, config = experiment.problem, experiment.config
    measures = jax.jit(jax.vmap(make_trivial_measures(problem, config.trivial_loss_ratio, config.trivial_output_ratio)))
    grads = jax.jit(jax.vmap(jax.grad(problem.loss)))
    theta = jnp.asarray(theta_SxP)
    m = measures(theta)
    trivial, fit = np.asarray(m.trivial), np.asarray(m.rel_l2_error) <= SOLVED_L2
    converged = np.linalg.norm(np.asarray(grads(theta)), axis=1) <= PEER_TOL
    return {"fit": int(np.sum(fit & ~trivial)), "trivial": int(np.sum(trivial)), "other": int(np.sum(~fit & ~trivial)),
            "converged": int(np.sum(converged))}


def _jaxnewton_solve(experiment, name: str, theta0, cap: int):
    """One batched run of the registered optimiser ``name`` to ||∇L|| ≤ PEER_TOL or ``cap`` (the engine's runner)."""
    from jaxnewton.engine.sweep import advance_to_end, seed_mesh_for

    problem, config = experiment.problem, experiment.config
    solver = registry.build_solver(name, problem.loss, problem.hessian, config, problem.gauss_newton)
    loop = make_loop(problem.loss, solver, PEER_TOL, cap, max(1, cap // 100), config.divergence_factor)
    fns = make_batch_fns(loop, None, seed_mesh_for(len(theta0)))
    return advance_to_end(fns, init_batch(fns, np.asarray(theta0)), cap, config.segment_steps, lambda s: None).theta


def _scipy_solve(experiment, method: str, theta0, cap: int):
    import scipy.optimize

    problem = experiment.problem
    fun, jac = jax.jit(problem.loss), jax.jit(jax.grad(problem.loss))
    hess = jax.jit(problem.hessian)
    hessp = jax.jit(lambda t, v: jax.jvp(jax.grad(problem.loss), (t,), (v,))[1])
    extra = {"hess": lambda t: np.asarray(hess(t))} if method == "trust-exact" else {
        "hessp": lambda t, v: np.asarray(hessp(t, v))}
    ends = [scipy.optimize.minimize(lambda t: float(fun(t)), np.asarray(t0), jac=lambda t: np.asarray(jac(t)),
                                    method=method, options={"gtol": PEER_TOL, "maxiter": cap}, **extra).x
            for t0 in np.asarray(theta0)]
    return np.stack(ends)


def _optimistix_solve(experiment, which: str, theta0, cap: int):
    import optimistix as optx

    problem = experiment.problem
    if which == "bfgs":
        def one(t0):
            return optx.minimise(lambda t, _: problem.loss(t), optx.BFGS(rtol=1e-12, atol=1e-12), t0, max_steps=cap,
                                 throw=False).value
    else:
        def residual(t, _):  # L = Σ_q w_q r_q² as a sum of squares of √w r
            return jnp.sqrt(problem.weights) * (problem.output(t) - problem.target)

        def one(t0):
            return optx.least_squares(residual, optx.LevenbergMarquardt(rtol=1e-12, atol=1e-12), t0, max_steps=cap,
                                      throw=False).value
    with jax.numpy_dtype_promotion("standard"):
        return np.asarray(jax.jit(jax.vmap(one))(jnp.asarray(theta0)))


def _optax_lbfgs_solve(experiment, theta0, cap: int):
    import optax

    problem = experiment.problem
    optimizer = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(problem.loss)

    def one(t0):
        def step(carry):
            theta, state, k = carry
            value, grad = value_and_grad(theta, state=state)
            updates, state = optimizer.update(grad, state, theta, value=value, grad=grad, value_fn=problem.loss)
            return optax.apply_updates(theta, updates), state, k + 1

        def running(carry):
            theta, state, k = carry
            return (k < cap) & (jnp.linalg.norm(jax.grad(problem.loss)(theta)) > PEER_TOL)

        return jax.lax.while_loop(running, step, (t0, optimizer.init(t0), 0))[0]

    with jax.numpy_dtype_promotion("standard"):
        return np.asarray(jax.jit(jax.vmap(one))(jnp.asarray(theta0)))


def _torchmin_solve(experiment, theta0, cap: int):
    import torch
    import torchmin

    loss = torch_problem(experiment)
    ends = []
    for t0 in np.asarray(theta0):
        result = torchmin.minimize(loss, torch.from_numpy(t0.copy()), method="trust-exact", max_iter=cap,
                                   options={"gtol": PEER_TOL})
        ends.append(result.x.detach().numpy())
    return np.stack(ends)


def peer_section(n_seeds: int = 64, cap: int = PEER_CAP) -> dict:
    """E3's first ``n_seeds`` starts solved to ||∇L|| ≤ PEER_TOL within ``cap`` iterations by jaxnewton's
    trust-region Newton, Levenberg–Marquardt, BFGS, L-BFGS and damped Newton (one batched run each) and by the peers
    (``PEERS``), one after another in this process: wall time for all starts (compilation included), the end
    points' outcomes, and each peer's time over jaxnewton's same method. A peer that cannot run gets its reason."""
    experiment = build(load_config("mlp_tanh"))
    theta0 = np.asarray(initial_points(experiment, np.arange(n_seeds)))
    rows, ours = [], {}
    solvers = {**{f"jaxnewton {name} (batched)": (lambda name=name: _jaxnewton_solve(experiment, name, theta0, cap))
                  for name in ("newton", "trust_region", "lm", "bfgs", "lbfgs")},
               "scipy trust-exact (per seed)": lambda: _scipy_solve(experiment, "trust-exact", theta0, cap),
               "scipy trust-krylov (per seed)": lambda: _scipy_solve(experiment, "trust-krylov", theta0, cap),
               "optimistix BFGS (vmap)": lambda: _optimistix_solve(experiment, "bfgs", theta0, cap),
               "optimistix LevenbergMarquardt (vmap)": lambda: _optimistix_solve(experiment, "lm", theta0, cap),
               "optax lbfgs (vmap)": lambda: _optax_lbfgs_solve(experiment, theta0, cap),
               "pytorch-minimize trust-exact (per seed)": lambda: _torchmin_solve(experiment, theta0, cap)}
    for name, solve in solvers.items():
        start = time.perf_counter()
        try:
            ends = solve()
        except ImportError as error:  # a peer not installed here: its row says why
            rows.append({"solver": name, "error": f"not installed: {error}"})
            print(f"{name:<42} not run: {error}", flush=True)
            continue
        seconds = time.perf_counter() - start
        row = {"solver": name, "seconds": seconds, **peer_outcomes(experiment, ends)}
        if name.startswith("jaxnewton"):
            ours[name.split()[1]] = seconds
        else:
            row["ratio_to_jaxnewton"] = seconds / ours[PEERS[name]]
            row["jaxnewton_method"] = PEERS[name]
        rows.append(row)
        print(f"{name:<42} {seconds:8.1f} s  fit {row['fit']:>2}, trivial {row['trivial']:>2}, other {row['other']:>2}, "
              f"converged {row['converged']:>2}" + (f", {row['ratio_to_jaxnewton']:.1f}× jaxnewton's "
                                                    f"{row['jaxnewton_method']}" if "ratio_to_jaxnewton" in row else ""),
              flush=True)
    return {"n_seeds": n_seeds, "tol": PEER_TOL, "cap": cap, "rows": rows}


def sweep_section(results: Path, per_iter_s: float) -> dict:
    out = {}
    for key, folder in (("sweep_10", "mlp_tanh"), ("sweep_100", "mlp_tanh_100")):
        path = results / folder / "summary.json"
        if not path.exists():
            print(f"{path} missing: run `make {'mlp' if key == 'sweep_10' else 'mlp-100'}` first for {key}")
            continue
        summary = json.loads(path.read_text())
        predicted = summary["total_iterations"] * per_iter_s
        out[key] = {"wall_s": summary["wall_seconds"], "total_iters": summary["total_iterations"],
                    "per_iter_s": per_iter_s, "predicted_s": predicted,
                    "wall_over_predicted": summary["wall_seconds"] / predicted, "source": str(path)}
        print(f"{key}: {summary['wall_seconds']:.0f} s for {summary['total_iterations']} iterations; "
              f"iterations × batched cost = {predicted:.0f} s; ratio {summary['wall_seconds'] / predicted:.2f}")
    return out


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for impl in IMPLS:
        rows = [r for r in report["rows"] if r["impl"] == impl]
        if rows:
            left.plot([r["seeds"] for r in rows], [r["ms_per_seed_iter"] for r in rows], "o-", label=impl,
                      color=COLORS[impl])
    left.set(xscale="log", yscale="log", xlabel="seeds", ylabel="ms per seed-iteration",
             title=f"E3 ({report['n_params']} parameters): time per Newton iteration")
    left.legend()
    for impl in sorted({r["impl"] for r in report["widths"]}):
        rows = [r for r in report["widths"] if r["impl"] == impl]
        right.plot([r["n_params"] for r in rows], [r["ms_per_seed_iter"] for r in rows], "o-", label=impl,
                   color=COLORS[impl])
    right.set(xscale="log", yscale="log", xlabel="parameters P (two hidden layers of width 5–80)",
              ylabel="ms per seed-iteration", title="one Newton step against problem size")
    right.legend()
    fig.suptitle(f"{report['machine']['processor']}, {report['machine']['cpu_count']} cores, "
                 f"{report['machine']['jax_backend']}, float64", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def ratios(rows: list, top: int) -> dict:
    """jaxnewton's rate at ``top`` seeds over every other row's, and over the fastest PyTorch row (any option, any seed
    count): ``ratios``, ``best_torch`` and ``best_torch_ratio``."""
    by = {(r["impl"], r["seeds"]): r["seed_iters_per_s"] for r in rows}
    out = {"ratios": {f"jaxnewton@{top} / {impl}@{n}": by[("jaxnewton", top)] / rate
                      for (impl, n), rate in by.items() if impl != "jaxnewton"}}
    for name, ratio in out["ratios"].items():
        print(f"{name}: {ratio:.1f}×")
    torch_rows = {k: v for k, v in by.items() if k[0] in TORCH_IMPLS}
    if torch_rows:
        (impl, n), rate = max(torch_rows.items(), key=lambda item: item[1])
        out["best_torch"] = {"impl": impl, "seeds": n, "ms_per_seed_iter": 1e3 / rate}
        out["best_torch_ratio"] = by[("jaxnewton", top)] / rate
        print(f"fastest PyTorch option: {impl} at {n} seeds; jaxnewton@{top} is {out['best_torch_ratio']:.1f}× faster")
    return out


BUDGET = {"structured": 10_000, "autodiff": 500, "torch_loop": 500, "krylov": 200_000}  # largest P each impl runs at


def seed_section(args, experiment) -> dict:
    """The seed rows at the command line's seed counts (jaxnewton, the JAX loop, the PyTorch options unless
    ``--no-torch``): ``rows``, ``torch_check`` and the ``ratios``."""
    counts = [int(s) for s in args.seeds.split(",")]
    rows, check = seed_rows(
        experiment, counts, args.steps, args.repeats, [int(s) for s in args.torch_seeds.split(",")],
        [int(s) for s in args.torch_vmap_seeds.split(",")], args.torch_steps, not args.no_torch, args.torch_device,
        [int(s) for s in args.loop_seeds.split(",")] if args.loop_seeds else None)
    return {"rows": rows, "torch_check": check} | ratios(rows, max(counts))


def _seed_report(args) -> dict:
    """The seed rows alone, with the matmul rate."""
    return {"matmul_gflops": matmul_gflops(args.repeats), "steps": args.steps,
            "torch_device": None if args.no_torch else args.torch_device} | seed_section(
                args, build(load_config("mlp_tanh")))


# --only NAME: (what it measures, args -> the section's JSON fields)
ONLY = {
    "widths": ("the size scan, dense against Krylov (no PyTorch)", lambda args: {"widths": width_section(
        load_config("mlp_tanh"), [int(w) for w in args.widths.split(",") if w], args.repeats,
        {**BUDGET, "autodiff": 0}, False)}),
    "problems": ("each experiment's Hessian (the runner's against jax.hessian) and LU solve",
                 lambda args: {"matmul_gflops": matmul_gflops(args.repeats),
                               "problems": problem_section(args.repeats)}),
    "multi-output": ("the real-data networks' structured multi-output Hessian against jax.hessian, and the LU",
                     lambda args: {"matmul_gflops": matmul_gflops(args.repeats),
                                   "multi_output": multi_output_section(args.repeats)}),
    "optimizers": ("E9's optimisers on E3, time and XLA's FLOPs a seed-step",
                   lambda args: {"matmul_gflops": matmul_gflops(args.repeats),
                                 "optimizers": optimizer_section(args.repeats)}),
    "peers": ("E3's 64 starts to ||∇L|| ≤ 1e-5 within 1 000 iterations: jaxnewton's second-order family against SciPy, "
              "optimistix, optax and pytorch-minimize", lambda args: {"peers": peer_section()}),
    "matrix-free": ("one step of truncated damped Newton, Krylov saddle-free Newton and Newton-MR at P = 6 720 and "
                    "103 680", lambda args: {"matrix_free": matrix_free_section(load_config("mlp_tanh"), (80, 320),
                                                                               args.repeats)}),
    "sfn-lanczos": ("saddle-free Newton's Lanczos step against its dense step (accuracy)",
                    lambda args: {"sfn_lanczos": sfn_lanczos_section(load_config("mlp_tanh"), (10, 20))}),
    "step": ("E3's step taken apart (gradient, Hessian, LU, whole step, eigvalsh) at --step-seeds",
             lambda args: {"matmul_gflops": matmul_gflops(args.repeats), "step": step_section(
                 [int(s) for s in args.step_seeds.split(",")], args.repeats)}),
    "seeds": ("the seed rows against the PyTorch options, and the ratios", _seed_report),
    "user-model": ("damped Newton on a model of your own (diabetes, tanh apply function) against PyTorch",
                   lambda args: {"user_model": user_model_section(args.repeats)}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="Newton steps per seed (JAX and torch.func)")
    parser.add_argument("--seeds", default="1,16,64,256", help="comma-separated seed counts")
    parser.add_argument("--loop-seeds", help="seed counts for the per-seed JAX loop (default: --seeds)")
    parser.add_argument("--torch-seeds", default="1,4", help="seed counts for the (slow) PyTorch loop")
    parser.add_argument("--torch-vmap-seeds", default="1,16,64", help="seed counts for torch.func.vmap")
    parser.add_argument("--torch-steps", type=int, default=20, help="Newton steps per seed in the PyTorch rows")
    parser.add_argument("--widths", default="5,10,20,40,80", help="hidden widths for the size scan ('' skips it)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many timings (the slow torch_loop: 1)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch rows")
    parser.add_argument("--torch-device", default="cpu", help="where PyTorch runs: cpu, or cuda on a GPU machine")
    parser.add_argument("--results", type=Path, default=Path("results"), help="where make mlp / mlp-100 wrote")
    parser.add_argument("--out", type=Path, default=Path("results/bench.json"))
    parser.add_argument("--only", choices=sorted(ONLY), help="one section alone, into --out: "
                        + "; ".join(f"{name}: {what}" for name, (what, _) in sorted(ONLY.items())))
    parser.add_argument("--step-seeds", default="64,256,1024",
                        help="seed counts of --only step (E3's step taken apart)")
    args = parser.parse_args()
    use_every_core()  # as the runner's CLI does (one CPU device per core)
    if args.only:
        write_json(args.out, {"machine": machine_info(), "repeats": args.repeats, **ONLY[args.only][1](args)})
        print(f"wrote {args.out}")
        return

    use_torch = not args.no_torch
    if use_torch:
        try:
            import torch  # noqa: F401
        except ImportError as error:
            raise SystemExit("PyTorch is not installed: `pip install -e '.[bench]'` "
                             "(or `make bench`), or pass --no-torch") from error

    experiment = build(load_config("mlp_tanh"))
    counts = [int(s) for s in args.seeds.split(",")]
    report = {"machine": machine_info(), "n_params": experiment.problem.n_params,
              "problem": f"E3 mlp_tanh: {experiment.problem.n_params} parameters, "
                         f"{experiment.config.n_points} nodes, float64",
              "steps": args.steps, "repeats": args.repeats, "torch_device": args.torch_device if use_torch else None}
    report["matmul_gflops"] = matmul_gflops(args.repeats)
    print(f"float64 matmul: {report['matmul_gflops']:.1f} GFLOP/s")
    report["hessian"] = hessian_section(experiment, args.repeats)
    structured = report["hessian"]["structured"]
    # Own rate: the structured Hessian's FLOPs / its time. Effective rate: the FLOPs XLA
    # counts in jax.hessian (a measure of "one exact Hessian") / the same time.
    report["hessian_gflops"] = structured["gflops"]
    report["hessian_effective_gflops"] = report["hessian"]["autodiff"]["flops_per_seed"] / structured["ms_per_seed"] / 1e6
    report["hessian_fraction_of_matmul"] = {
        "own": report["hessian_gflops"] / report["matmul_gflops"],
        "effective": report["hessian_effective_gflops"] / report["matmul_gflops"],
    }
    print(f"structured Hessian: {report['hessian_gflops']:.1f} GFLOP/s own, "
          f"{report['hessian_effective_gflops']:.1f} GFLOP/s effective; fractions of matmul {report['hessian_fraction_of_matmul']}")
    report["problems"] = problem_section(args.repeats)
    report["multi_output"] = multi_output_section(args.repeats)
    report |= seed_section(args, experiment)
    by = {(r["impl"], r["seeds"]): r["seed_iters_per_s"] for r in report["rows"]}
    widths = [int(w) for w in args.widths.split(",") if w]
    report["widths"] = width_section(experiment.config, widths, args.repeats, BUDGET, use_torch, args.torch_device)
    report["sfn_lanczos"] = sfn_lanczos_section(experiment.config, (10, 20))
    per_iter = 1 / by[("jaxnewton", 64 if 64 in counts else max(counts))]
    report |= sweep_section(args.results, per_iter)
    write_json(args.out, report)
    plot(report, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
