"""The Python API: your own model or loss, swept over seeds, with every seed's outcome and Hessian spectrum.

    import jaxnewton as jn
    problem = jn.regression(model, x, v)          # model: apply(params, x), flax nnx or linen
    result = jn.sweep(problem, n_seeds=64)        # damped Newton (η = ε = 5e-2) to ||∇L|| ≤ 1e-5
    print(result.table())

``regression`` turns a model into a ``core.problems.Problem`` (the read-out split the trivial-solution measures
need: ``core.external``); ``sweep`` runs any registered optimiser on a problem, or on a bare loss of a flat θ,
through the same batched, compacted runner as the experiments (``engine.sweep``; no results folder, no
checkpoints), and diagnoses every end point; ``run`` runs a config file as the CLI does and reads its results
folder back. Bad input is a ``ValueError`` or ``TypeError`` naming the argument, raised before anything compiles.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any, Callable

import jax
import numpy as np

from jaxnewton.core.diagnostics import LABELS, SPECTRA, dense_spectrum, lanczos_spectrum, make_diagnose
from jaxnewton.core.external import from_flax, make_external_regression
from jaxnewton.core.problems import Problem
from jaxnewton.engine import memory
from jaxnewton.engine.build import seed_keys
from jaxnewton.engine.config import MAX_SEED_BATCH, Config, ConfigBase, load_config
from jaxnewton.engine.folders import load_summary
from jaxnewton.engine.io import load_npz
from jaxnewton.engine.loop import STATUS, TOL_ON, make_loop
from jaxnewton.engine.outcomes import classify, counts
from jaxnewton.engine.sweep import (advance_to_end, diagnose_batch, init_batch, make_batch_fns, seed_mesh_for,
                                   status_counts)
from jaxnewton.optim import registry
from jaxnewton.report.figures import save
from jaxnewton.studies.registry import run_config
from jaxnewton.studies.seeds import spectrum

# The optimisers' settings a sweep accepts, with the experiments' defaults (engine.config.Config).
SETTINGS = {f.name: f.default for f in dataclasses.fields(Config)
            if f.name in {h for name in registry.names() for h in registry.get(name).hyperparameters}}


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """Every seed's end: arrays with a leading seed axis.

    Attributes:
      status: ``STATUS`` names (converged, max_steps, nonfinite).
      steps, loss, grad_norm: per seed.
      theta: ``theta_SxP``, the end points; ``theta0`` where they started.
      eigvals: ``eig_SxP``, the Hessian spectrum at each end point (float64, ascending); with
        ``spectrum="lanczos"``, ``eig_SxK``: the Ritz values of one Lanczos run (the extremes are the spectrum's).
      labels: minimum / saddle / maximum / degenerate (``core.diagnostics.LABELS``).
      label_certain: per seed, false only for a Lanczos minimum or maximum (None where not recorded).
      index_fraction: ``frac_Sx3``, n_neg / P and its 95% bracket (low, high): exact for the dense spectrum
        (None where not recorded).
      spectrum: how ``eigvals`` was taken (``"dense"`` or ``"lanczos"``).
      trivial: the end point meets the paper's trivial rule (None for a bare loss: no read-out to test).
      outcomes: ``engine.outcomes`` per seed (trivial, non-trivial <label>, max_steps…, nonfinite); for a bare
        loss, the label of a converged seed, else its status.
      problem: the ``Problem`` (None for a bare loss).
    """

    status: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    theta0: np.ndarray
    theta: np.ndarray
    eigvals: np.ndarray
    labels: np.ndarray
    trivial: np.ndarray | None
    outcomes: np.ndarray
    seconds: float
    problem: Problem | None = None
    label_certain: np.ndarray | None = None
    index_fraction: np.ndarray | None = None
    spectrum: str = "dense"

    def counts(self) -> dict[str, int]:
        """Seeds per outcome, zeros omitted (in ``engine.outcomes.OUTCOMES`` order; a bare loss's by first seen)."""
        outcomes = self.outcomes.tolist()
        known = counts(outcomes)
        return known if sum(known.values()) == len(outcomes) else dict(collections.Counter(outcomes))

    def params(self, i: int) -> Any:
        """Seed i's end point as the model's parameter pytree (an ``nnx.State`` for an nnx module: put it in with
        ``nnx.update(model, result.params(i))``)."""
        return self.theta[i] if self.problem is None else self.problem.unravel(self.theta[i])

    def to_frame(self):
        """One row per seed: a pandas DataFrame where pandas is installed, else a dict of columns."""
        columns = {"seed": np.arange(len(self.status)), "status": self.status, "steps": self.steps, "loss": self.loss,
                   "grad_norm": self.grad_norm, "label": self.labels, "outcome": self.outcomes}
        if self.index_fraction is not None:
            columns.update(index_fraction=self.index_fraction[:, 0], index_low=self.index_fraction[:, 1],
                           index_high=self.index_fraction[:, 2], label_certain=self.label_certain)
        else:
            columns["n_neg"] = np.sum(self.eigvals < 0, axis=1)
        if self.trivial is not None:
            columns["trivial"] = self.trivial
        try:
            import pandas
        except ImportError:
            return columns
        return pandas.DataFrame(columns)

    def table(self) -> str:
        """The outcome table, one line per outcome."""
        n = len(self.outcomes)
        lines = [f"{'outcome':<34}{'seeds':>6}{'share':>8}"]
        lines += [f"{outcome:<34}{k:>6}{k / n:>8.2f}" for outcome, k in self.counts().items()]
        lines.append(f"{n} seeds, {self.theta.shape[1]} parameters, {self.seconds:.1f} s")
        return "\n".join(lines)

    def plot_spectrum(self, path: str | Path, eig_rtol: float = 1e-6) -> None:
        """Save the Hessian spectrum of every seed's end point to ``path`` (the sweeps' ``spectrum.png``)."""
        rows = [{"seed": i, "label": label} for i, label in enumerate(self.labels)]
        save(spectrum({"eigvals": self.eigvals}, rows, eig_rtol, ritz=self.spectrum == "lanczos"), Path(path))


def regression(model: Any, x, v, *, params: Any = None, init: Callable[[jax.Array], Any] | None = None,
               readout: str | tuple[str, ...] | None = None, loss_reduction: str = "mean",
               weights=None) -> Problem:
    """The regression problem L(θ) = Σ_q w_q (N(x_q) − v_q)² of your model, with its read-out split.

    Args:
      model: ``apply(params, x) -> N`` (then ``params`` or ``init`` is needed), a ``flax.nnx.Module`` (or a
        factory ``rngs -> Module``, e.g. its class: seeds then draw their own θ₀), or a ``flax.linen.Module``.
      x: nodes, ``(Q, D)`` or ``(Q,)``; v: the target at them, ``(Q,)``.
      params: the parameter pytree of ``apply`` (θ₀ and the layout of θ).
      init: ``init(key) -> params`` for seed sweeps.
      readout: the read-out layer's parameter path(s), e.g. ``"out/kernel"``; default: the one kernel with a single
        output column (and its bias).
      loss_reduction: ``"mean"`` (w = 1/Q), ``"sum"``, ``"half_mean"`` or ``"half_sum"``; ``weights`` overrides w.

    Returns:
      A ``Problem`` for ``sweep``.
    """
    if init is not None and not callable(init):
        raise TypeError(f"regression: init must be a function key -> params, not {type(init).__name__}")
    x = np.asarray(x, np.float64)
    adapted = from_flax(model, x if x.ndim == 2 else x[:, None])
    if adapted is not None:
        apply, flax_params, flax_init = adapted
        params, init = (flax_params if params is None else params), (init or flax_init)
    elif callable(model):
        apply = model
        if params is None and init is None:
            raise TypeError("regression(apply, ...): pass params= (a parameter pytree) or init= (key -> params)")
        params = init(jax.random.key(0)) if params is None else params
    else:
        raise TypeError(f"regression: model must be apply(params, x), a flax nnx or linen module, not "
                        f"{type(model).__name__}")
    return make_external_regression(apply, params, x, v, readout, init, loss_reduction, weights)


def sweep(problem: Problem | Callable[[jax.Array], jax.Array], theta0=None, *, n_seeds: int | None = None,
          seed: int = 0, optimizer: str = "newton", max_steps: int = 10_000, tol: float = 1e-5, tol_on: str = "grad",
          segment_steps: int = 250, eig_rtol: float = 1e-6, trivial_loss_ratio: float = 0.99,
          trivial_output_ratio: float = 0.1, divergence_factor: float = 1e8, progress: bool = True,
          spectrum: str = "dense", **settings: Any) -> SweepResult:
    """Run ``optimizer`` from every θ₀ to the tolerance or the cap, and diagnose every end point.

    Args:
      problem: a ``Problem`` (``regression``, or the experiments' ``engine.build``), or a bare loss of a flat θ
        (then ``theta0`` is needed and there is no trivial test).
      theta0: ``theta0_SxP``, the starts; default: ``problem.init`` of seeds 0 … n_seeds − 1 (keys
        ``fold_in(key(seed), s)``, as the experiments draw them).
      n_seeds: the number of seeds drawn when ``theta0`` is None.
      optimizer: a registered name (``jaxnewton.optim.registry.names()``).
      max_steps, tol, tol_on: the cap and the stopping test (``||∇L||₂ ≤ tol``, or the step with ``"step"``).
      settings: the optimiser's settings (``eta``, ``eps``, ``memory``, ``learning_rate``, …), defaults as the
        experiments'.
      progress: print a status line per segment to stderr.
      spectrum: ``"dense"`` (form H: every eigenvalue) or ``"lanczos"`` (Hessian-vector products only: for a model
        too large to form H; with ``linear_solver="krylov"`` nothing P × P is formed at all).

    Raises:
      TypeError, ValueError: naming the argument, before anything compiles.
    """
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise TypeError(f"sweep: unknown setting(s) {unknown}; the optimisers' settings are {sorted(SETTINGS)}")
    registry.get(optimizer)  # a ValueError naming the known ones
    if tol_on not in TOL_ON or not tol > 0 or int(max_steps) < 1:
        raise ValueError(f"sweep: tol={tol}, tol_on={tol_on!r}, max_steps={max_steps}: use tol > 0, tol_on in "
                         f"{list(TOL_ON)} and max_steps ≥ 1")
    if spectrum not in SPECTRA:
        raise ValueError(f"sweep: spectrum={spectrum!r}: use one of {list(SPECTRA)}")
    is_problem = isinstance(problem, Problem)
    if not is_problem and not callable(problem):
        raise TypeError(f"sweep: problem must be a jaxnewton Problem (jaxnewton.regression) or a loss function of a "
                        f"flat θ, not {type(problem).__name__}")
    loss = problem.loss if is_problem else problem
    if theta0 is None:
        if not is_problem or n_seeds is None:
            raise TypeError("sweep: pass theta0 (S × P starts), or a Problem and n_seeds")
        if n_seeds < 1:
            raise ValueError(f"sweep: n_seeds={n_seeds}: use at least 1")
        theta0 = jax.vmap(problem.init)(seed_keys(seed, np.arange(n_seeds)))
    theta0 = np.asarray(theta0, np.float64)
    if theta0.ndim != 2 or theta0.shape[0] < 1:
        raise ValueError(f"sweep: theta0 has shape {theta0.shape}: pass starts as (n_seeds, n_params)")
    if is_problem and theta0.shape[1] != problem.n_params:
        raise ValueError(f"sweep: theta0 has {theta0.shape[1]} parameters per seed, the problem {problem.n_params}")
    value = jax.eval_shape(loss, jax.ShapeDtypeStruct(theta0.shape[1:], theta0.dtype))
    if value.shape != ():
        raise ValueError(f"sweep: the loss returns shape {value.shape}; it must return a scalar")
    try:  # the settings' ranges, checked as a config's are (a ValueError naming the field)
        hyper = Config(name="sweep", solver=optimizer, **settings)
    except ValueError as error:
        raise ValueError(f"sweep: {error}") from None
    # What cannot fit is refused before anything compiles: from the P × P parts alone (the model's hidden units, on
    # which the spectrum's tangents also grow, are unknown here), so the estimate is a lower bound.
    # The Hessian is priced as autodiff's (a model of your own): the memory, and the layout (one seed at a time on CPU).
    n_seeds = len(theta0)
    sized = dataclasses.replace(hyper, n_seeds=n_seeds, seed_batch=min(n_seeds, MAX_SEED_BATCH),
                                max_steps=int(max_steps), history_stride=max(1, int(max_steps) // 100),
                                spectrum=spectrum, hessian="autodiff")
    memory.check(sized, theta0.shape[1], network=(float(problem.x.shape[0]) if is_problem else 1.0, 0.0, 0.0))
    solver = registry.build_solver(optimizer, loss, problem.hessian if is_problem else None, hyper,
                                   problem.gauss_newton if is_problem else None)
    loop = make_loop(loss, solver, tol, max_steps, max(1, max_steps // 100), divergence_factor, tol_on)
    uneven = registry.seed_by_seed(sized)  # each seed runs its own loop on CPU (engine.sweep)
    if is_problem:
        diagnose_one = make_diagnose(problem, eig_rtol, trivial_loss_ratio, trivial_output_ratio, spectrum)
    else:
        spectrum_of = dense_spectrum if spectrum == "dense" else lanczos_spectrum

        def diagnose_one(theta):
            eigvals, _, _, _, label, certain, fraction, low, high = spectrum_of(loss, theta, eig_rtol)
            return {"eigvals": eigvals, "label": label, "label_certain": certain, "index_fraction": fraction,
                    "index_low": low, "index_high": high}
    fns = make_batch_fns(loop, lambda theta, context: diagnose_one(theta), seed_mesh_for(len(theta0), uneven),
                         uneven=uneven)
    start = time.perf_counter()

    def report(state) -> None:
        if progress:
            print(f"  step {int(np.max(state.steps))}/{max_steps}: {status_counts(state)}, "
                  f"{time.perf_counter() - start:.1f} s", file=sys.stderr)

    state = advance_to_end(fns, init_batch(fns, theta0), max_steps, segment_steps, report)
    d = diagnose_batch(fns, state.theta)
    d = d._asdict() if hasattr(d, "_asdict") else d
    status = np.asarray(STATUS)[np.asarray(state.status)]
    label = np.asarray(d["label"])
    trivial = np.asarray(d["trivial"]) if is_problem else None
    labels = np.asarray(LABELS)[label]
    outcomes = (classify(state.status, trivial, label) if is_problem
                else np.where(status == "converged", labels, status))
    return SweepResult(status=status, steps=np.asarray(state.steps), loss=np.asarray(state.loss),
                       grad_norm=np.asarray(state.grad_norm), theta0=theta0, theta=np.asarray(state.theta),
                       eigvals=np.asarray(d["eigvals"]), labels=labels, trivial=trivial,
                       outcomes=outcomes, seconds=time.perf_counter() - start, problem=problem if is_problem else None,
                       label_certain=np.asarray(d["label_certain"]), spectrum=spectrum,
                       index_fraction=np.stack([np.asarray(d[k]) for k in ("index_fraction", "index_low",
                                                                           "index_high")], axis=1))


def run(config: ConfigBase | str, out: str | Path | None = None, force: bool = False) -> SweepResult | dict:
    """Run a config (a ``ConfigBase`` or a config file's name or path) as ``python -m jaxnewton run`` does.

    Its results folder (``out``, default ``results/<name>``) is written, or reused where it holds the complete run
    of the same config. Returns a ``SweepResult`` read back from the folder for a seed sweep, else the summary.
    """
    config = load_config(config) if isinstance(config, str) else config
    out = Path(out) if out is not None else Path("results") / config.name
    summary = load_summary(out, config.hash())
    if summary is None or force:
        summary = run_config(config, out, policy="clear" if force else "refuse")
    if not isinstance(config, Config) or config.optimizers:
        return summary
    arrays = load_npz(out / "arrays.npz")
    with open(out / "runs.csv") as f:
        rows = list(csv.DictReader(f))
    status = np.array([r["status"] for r in rows])
    labels = np.array([r["label"] for r in rows])
    trivial = np.array([r["trivial"] == "true" for r in rows])
    return SweepResult(status=status, steps=np.array([int(r["steps"]) for r in rows]),
                       loss=np.array([float(r["loss"]) for r in rows]),
                       grad_norm=np.array([float(r["grad_norm"]) for r in rows]), theta0=arrays["theta0"],
                       theta=arrays["theta"], eigvals=arrays["eigvals"], labels=labels, trivial=trivial,
                       outcomes=classify(status, trivial, labels), seconds=float(summary["wall_seconds"]))
