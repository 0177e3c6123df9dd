"""One entry per optimiser name: how to build it, what it reads from a config, how to describe it, its flags.

Every list of optimisers elsewhere reads this registry: the config's ``solver`` and ``optimizers``
checks, ``compare`` (and ``--optimizers all``), ``make paper``, the mechanism record, the report's E9
row and the tests. A new optimiser is one function in its family module (``newton``, ``quasi_newton``,
``first_order``) plus one ``register(Optimizer(...))`` entry at the end of this file.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, NamedTuple

import jax

from jaxnewton.optim.base import HessianFn, LossFn, Solver
from jaxnewton.optim.first_order import adam, gradient_descent
from jaxnewton.optim.globalised import (cubic_regularisation, gauss_newton, levenberg_marquardt, newton_line_search,
                                        newton_monotone, sr1_trust_region, trust_region_newton)
from jaxnewton.optim.newton import damped_newton, newton_mr, saddle_free_newton
from jaxnewton.optim.quasi_newton import (bfgs, bfgs_exact, bfgs_fixed_step, bfgs_inverse_hessian, lbfgs, lbfgs_gss,
                                          lbfgs_gss_inverse_hessian, track_curvature)

CAPS = ("max_steps", "first_order_max_steps")


class Optimizer(NamedTuple):
    """Everything about one optimiser name.

    Attributes:
      name: the value of a config's ``solver`` (and of ``--optimizers``).
      title: what it is, in words.
      build: ``build(loss, curvature, settings) -> Solver``; ``curvature`` is the problem's exact Hessian (its
        Gauss–Newton matrix where ``gauss_newton`` is set) and ``settings`` the config (it reads only the
        ``hyperparameters`` fields).
      hyperparameters: the config fields it reads.
      describe: ``describe(settings) -> str``, its settings for log lines and legends (default: the fields).
      cap: the config field that caps its iterations: ``max_steps``, or ``first_order_max_steps`` for the
        cheap-step optimisers (that field is used when it is set, else ``max_steps``).
      quasi_newton: a curvature-pair method: wrapped in ``track_curvature``, eligible for the mechanism record.
      refuses_bad_pairs: a pair with yᵀs ≤ 0 never enters its approximation.
      ablation: one of the E9 ablation pair (BFGS at a fixed step with and without its safeguard).
      inverse_hessian: ``inverse_hessian(state) -> H_PxP`` of one seed's own solver state (inside the
        curvature record), for the mechanism record; None where it is not at hand.
      gauss_newton: it uses the Gauss–Newton matrix 2s JᵀWJ of a least-squares problem, not the Hessian.
      in_all: one of ``--optimizers all`` (E9's comparison); the second-order family of ``optim.globalised``
        runs by name in its own comparison (``make compare-second-order``).
      forms_hessian: its step forms a P × P curvature matrix (unless ``linear_solver=krylov``): what
        ``engine.memory`` counts per seed in flight.
      dense_state: it keeps a P × P matrix per seed in its state (BFGS's inverse Hessian, SR1's B).
      matrix_free: every step is a Krylov solve on Hessian-vector products (its state a ``KrylovState``-like record
        of ``krylov_iterations`` and ``unsolved_steps``), whatever ``linear_solver`` says.
      records: further integer fields of its state recorded per seed (``arrays.npz``) and totalled in the summary.
    """

    name: str
    title: str
    build: Callable[[LossFn, HessianFn, Any], Solver]
    hyperparameters: tuple[str, ...] = ()
    describe: Callable[[Any], str] | None = None
    cap: str = "max_steps"
    quasi_newton: bool = False
    refuses_bad_pairs: bool = False
    ablation: bool = False
    inverse_hessian: Callable[[Any], jax.Array] | None = None
    gauss_newton: bool = False
    in_all: bool = True
    forms_hessian: bool = False
    dense_state: bool = False
    matrix_free: bool = False
    records: tuple[str, ...] = ()

    def settings(self, config: Any) -> str:
        """Its settings in words (``describe``, or ``field=value`` of each hyperparameter)."""
        if self.describe is not None:
            return self.describe(config)
        return " ".join(f"{field}={getattr(config, field)}" for field in self.hyperparameters)


_OPTIMIZERS: dict[str, Optimizer] = {}


def register(optimizer: Optimizer) -> Optimizer:
    """Add ``optimizer`` under its name (a name can be registered once)."""
    if not optimizer.name.isidentifier() or optimizer.name == "all":
        raise ValueError(f"optimizer name {optimizer.name!r}: use a Python identifier other than 'all'")
    if optimizer.name in _OPTIMIZERS:
        raise ValueError(f"optimizer {optimizer.name!r} is registered already")
    if optimizer.cap not in CAPS:
        raise ValueError(f"optimizer {optimizer.name!r}: cap={optimizer.cap!r}, use one of {list(CAPS)}")
    _OPTIMIZERS[optimizer.name] = optimizer
    return optimizer


@contextlib.contextmanager
def registered(optimizer: Optimizer) -> Iterator[Optimizer]:
    """``optimizer`` registered for the duration of a ``with`` block (tests, experiments in a notebook)."""
    register(optimizer)
    try:
        yield optimizer
    finally:
        del _OPTIMIZERS[optimizer.name]


def names(**flags: bool) -> tuple[str, ...]:
    """Every registered name in registration order, or those whose flags equal ``flags`` (e.g. ``ablation=True``)."""
    return tuple(n for n, o in _OPTIMIZERS.items() if all(getattr(o, k) == v for k, v in flags.items()))


def get(name: str) -> Optimizer:
    """The optimiser called ``name``; a ValueError naming the known ones otherwise."""
    if name not in _OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} is unknown: use one of {list(_OPTIMIZERS)}")
    return _OPTIMIZERS[name]


def counts_krylov(config: Any) -> bool:
    """Whether the config's solver runs a Krylov path whose state counts Hessian-vector products (``KrylovState``)."""
    optimizer = get(config.solver)
    return optimizer.matrix_free or config.linear_solver == "krylov" and "linear_solver" in optimizer.hyperparameters


def seed_by_seed(config: Any) -> bool:
    """Whether on CPU the seeds run one at a time, each in its own loop (``engine.sweep.make_batch_fns(uneven=True)``):
    when a step is a Krylov solve (each seed's own length, ``counts_krylov``), or a dense Hessian by autodiff
    (``hessian = "autodiff"``, a model of your own): ``jax.hessian`` pushes P tangents through every node of one seed,
    which already fills the cache, and vmapped over a chunk of 16 it cost twice as much a seed
    (``docs/performance.md``). Then a sweep of 4 seeds computes 4, not a padded chunk of 16."""
    return counts_krylov(config) or get(config.solver).forms_hessian and config.hessian == "autodiff"


def build_solver(name: str, loss: LossFn, hessian: HessianFn | None, settings: Any,
                 gauss_newton_matrix: HessianFn | None = None) -> Solver:
    """The optimiser ``name`` on ``loss`` with the config ``settings``; quasi-Newton ones are ``track_curvature``d.

    Args:
      name: a registered name.
      loss: L(θ) of a flat vector.
      hessian: the exact Hessian θ ↦ ∇²L(θ) (``jax.hessian(loss)`` when None).
      settings: an object with the optimiser's ``hyperparameters`` as attributes (a ``Config``).
      gauss_newton_matrix: θ ↦ 2s JᵀWJ of a least-squares problem (``Problem.gauss_newton``), for the optimisers
        flagged ``gauss_newton``.

    Raises:
      ValueError: a Gauss–Newton optimiser without a least-squares problem.
    """
    optimizer = get(name)
    if optimizer.gauss_newton and gauss_newton_matrix is None:
        raise ValueError(f"optimizer {name!r} needs the Gauss–Newton matrix of a least-squares problem "
                         "(a jaxnewton Problem), not a bare loss")
    curvature = gauss_newton_matrix if optimizer.gauss_newton else (hessian or jax.hessian(loss))
    solver = optimizer.build(loss, curvature, settings)
    return track_curvature(solver) if optimizer.quasi_newton else solver


def _shift(c: Any) -> str:
    return f"η={c.eta} ε={c.eps}"


register(Optimizer("newton", "damped Newton",
                   lambda loss, h, c: damped_newton(loss, c.eta, c.eps, h, c.linear_solver, c.krylov_rtol,
                                                    c.krylov_max_iter),
                   ("eta", "eps", "linear_solver", "krylov_rtol", "krylov_max_iter"),
                   lambda c: _shift(c) + (f" MINRES to {c.krylov_rtol:g}, cap {c.krylov_max_iter or '2P'}"
                                          if c.linear_solver == "krylov" else ""), forms_hessian=True))
register(Optimizer("sfn", "saddle-free Newton",
                   lambda loss, h, c: saddle_free_newton(loss, c.eta, c.eps, h, c.linear_solver, c.krylov_max_iter),
                   ("eta", "eps", "linear_solver", "krylov_max_iter"),
                   lambda c: _shift(c) + (f" Lanczos {c.krylov_max_iter or 'P'} steps" if c.linear_solver == "krylov"
                                          else ""), forms_hessian=True))
register(Optimizer("bfgs", "BFGS", lambda loss, h, c: bfgs(loss), (), lambda c: "zoom line search",
                   quasi_newton=True, refuses_bad_pairs=True, inverse_hessian=bfgs_inverse_hessian, dense_state=True))
register(Optimizer("lbfgs", "L-BFGS", lambda loss, h, c: lbfgs(loss, c.memory), ("memory",),
                   lambda c: f"memory {c.memory}, zoom line search", quasi_newton=True))
register(Optimizer("lbfgs_gss", "L-BFGS-GSS", lambda loss, h, c: lbfgs_gss(loss, c.memory, c.gss_evals),
                   ("memory", "gss_evals"),
                   lambda c: f"memory {c.memory}, {c.gss_evals}-evaluation golden section",
                   quasi_newton=True, refuses_bad_pairs=True, inverse_hessian=lbfgs_gss_inverse_hessian))
register(Optimizer("adam", "ADAM", lambda loss, h, c: adam(c.learning_rate), ("learning_rate",),
                   lambda c: f"lr={c.learning_rate}", cap="first_order_max_steps"))
register(Optimizer("gd", "gradient descent", lambda loss, h, c: gradient_descent(c.gd_learning_rate),
                   ("gd_learning_rate",), lambda c: f"α={c.gd_learning_rate}", cap="first_order_max_steps"))
register(Optimizer("bfgs_fixed", "BFGS at a fixed step", lambda loss, h, c: bfgs_fixed_step(c.eta, guarded=True),
                   ("eta",), lambda c: f"fixed step η={c.eta}", quasi_newton=True, refuses_bad_pairs=True,
                   ablation=True, inverse_hessian=bfgs_inverse_hessian, dense_state=True))
register(Optimizer("bfgs_fixed_unguarded", "BFGS at a fixed step without its curvature safeguard",
                   lambda loss, h, c: bfgs_fixed_step(c.eta, guarded=False), ("eta",),
                   lambda c: f"fixed step η={c.eta}, no curvature safeguard", quasi_newton=True, ablation=True,
                   inverse_hessian=bfgs_inverse_hessian, dense_state=True))

# The second-order family as practitioners run it (optim.globalised): not in ``all``; make compare-second-order.
register(Optimizer("gauss_newton", "Gauss–Newton", lambda loss, g, c: gauss_newton(loss, g, c.eta, c.eps),
                   ("eta", "eps"), _shift, gauss_newton=True, in_all=False, forms_hessian=True))
register(Optimizer("lm", "Levenberg–Marquardt", lambda loss, g, c: levenberg_marquardt(loss, g, c.eps), ("eps",),
                   lambda c: f"λ₀ = ε = {c.eps}, ×10 / ÷10", gauss_newton=True, in_all=False, forms_hessian=True))
register(Optimizer("trust_region", "trust-region Newton (Moré–Sorensen)",
                   lambda loss, h, c: trust_region_newton(loss, h, c.trust_radius), ("trust_radius",),
                   lambda c: f"Δ₀ = {c.trust_radius}", in_all=False, forms_hessian=True))
register(Optimizer("cubic", "adaptive cubic regularisation", lambda loss, h, c: cubic_regularisation(loss, h, c.cubic_sigma),
                   ("cubic_sigma",), lambda c: f"σ₀ = {c.cubic_sigma}", in_all=False, forms_hessian=True))
register(Optimizer("sr1", "SR1 in a trust region", lambda loss, h, c: sr1_trust_region(loss, c.trust_radius),
                   ("trust_radius",), lambda c: f"Δ₀ = {c.trust_radius}", in_all=False, dense_state=True))
register(Optimizer("newton_ls", "damped Newton direction with an Armijo line search",
                   lambda loss, h, c: newton_line_search(loss, h, c.eps), ("eps",),
                   lambda c: f"ε = {c.eps}, backtracking from t = 1", in_all=False, forms_hessian=True))
register(Optimizer("newton_mr", "Newton-MR: MINRES on the Hessian, a step along non-positive curvature when found",
                   lambda loss, h, c: newton_mr(loss, c.krylov_rtol, c.krylov_max_iter), ("krylov_rtol", "krylov_max_iter"),
                   lambda c: f"MINRES to {c.krylov_rtol:g}, cap {c.krylov_max_iter or '2P'}, Armijo / forward tracking",
                   in_all=False, matrix_free=True, records=("curvature_steps",)))
register(Optimizer("newton_monotone", "damped Newton, never raising the loss",
                   lambda loss, h, c: newton_monotone(loss, h, c.eta, c.eps), ("eta", "eps"),
                   lambda c: _shift(c) + ", step halved from η while L would rise", in_all=False, forms_hessian=True))

# The mechanism variants (why does BFGS escape?): BFGS given the exact Hessian, at θ₀ or every k steps.
register(Optimizer("bfgs_hessian_start", "BFGS from the exact Hessian at θ₀, shifted positive definite",
                   lambda loss, h, c: bfgs_exact(loss, h, c.eps), ("eps",),
                   lambda c: f"H₀ = (∇²L + τI)⁻¹, λ_min ≥ ε = {c.eps}, zoom line search", quasi_newton=True,
                   refuses_bad_pairs=True, inverse_hessian=bfgs_inverse_hessian, in_all=False, forms_hessian=True,
                   dense_state=True))
register(Optimizer("bfgs_indefinite_start", "BFGS from the paper's indefinite (∇²L + εI) at θ₀, fixed step",
                   lambda loss, h, c: bfgs_exact(loss, h, c.eps, shift=False, eta=c.eta), ("eta", "eps"),
                   lambda c: f"H₀ = (∇²L + εI)⁻¹, fixed step η={c.eta}, every pair used", quasi_newton=True,
                   inverse_hessian=bfgs_inverse_hessian, in_all=False, forms_hessian=True, dense_state=True))
for _k in (1, 10, 100):
    register(Optimizer(f"bfgs_reset_{_k}", f"BFGS reset to the shifted exact Hessian every {_k} steps",
                       lambda loss, h, c, k=_k: bfgs_exact(loss, h, c.eps, reset_every=k), ("eps",),
                       lambda c, k=_k: f"H = (∇²L + τI)⁻¹ every {k} steps, λ_min ≥ ε = {c.eps}, zoom line search",
                       quasi_newton=True, refuses_bad_pairs=True, inverse_hessian=bfgs_inverse_hessian, in_all=False,
                       forms_hessian=True, dense_state=True))
