"""Experiment configuration: frozen dataclasses, validated before anything compiles.

``Config`` describes a network seed sweep (E3), ``LandscapeConfig`` a grid of starts on a
known-answer landscape (E1, E2), ``SaddlesConfig`` the toy-saddle trajectories,
``RandomHessiansConfig`` the random-matrix counts (E8), ``IndexLossConfig`` the
index-against-loss collection over the other runs, ``PhaseMapConfig`` damped Newton over a
grid of (η, ε) and widths, and ``MechanismConfig`` the curvature record of quasi-Newton runs. Config
files (``configs/<experiment>.py``) define ``get_config(smoke=False)`` returning one of them.
Command-line overrides (``--set field=value``) go through ``override``, which rejects
unknown fields (with a suggestion) and values of the wrong type, so a typo is an error
and never a silent default.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from jaxnewton import __version__
from jaxnewton.landscapes import check_torus
from jaxnewton.models import ACTIVATIONS, BIAS_INITS, WEIGHT_INITS
from jaxnewton.problems import HESSIANS
from jaxnewton.solvers import NAMES as SOLVERS
from jaxnewton.solvers import QUASI_NEWTON

PROBLEMS = ("regression", "poisson_1d", "diffusion_reaction_2d")
INPUT_FEATURES = ("none", "fourier")


class ConfigBase:
    """What every config dataclass shares: type checks on construction, ``to_dict``, ``hash``."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_type(f.name, getattr(self, f.name), f.type)
        _require(self.name.isidentifier(), "name", self.name, "a Python identifier such as 'mlp_tanh'")
        self.validate()

    def validate(self) -> None:
        """Range checks of the subclass; raise ValueError naming the field and what to use."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def depends_on(self) -> dict[str, Any]:
        """What else the run depends on, hashed with the config (a base config's hash, for example)."""
        return {}

    def hash(self) -> str:
        """A short hash of the config, what it depends on and the package version: equal hashes mean equal runs."""
        payload = json.dumps({"config": self.to_dict(), "version": __version__, **self.depends_on()}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Config(ConfigBase):
    """Everything that defines a run. Field groups: problem, model, solver, sweep, diagnostics.

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      problem: ``"regression"`` (E3–E5: fit v), ``"poisson_1d"`` (E6: u'' + v = 0 on [0, 1]) or
        ``"diffusion_reaction_2d"`` (E7: ∇²u + u + v = 0 on [0, 1]²); PINNs have u = 0 on the
        boundary imposed hard and the strong-form loss ½∫(𝓛[N] + v)² (``jaxnewton.problems``).
      n_points: uniform nodes per axis on [0, 1] (ends included), equal quadrature weights 1/Q
        (Q = n_points, or n_points² in 2-D).
      target_amplitude, target_wavenumber: A and k. Regression: v(x) = A sin(kπx). PINN: the
        exact solution u = A Π_d sin(kπx_d), and v is computed from it.
      widths: hidden layer widths; the output layer is bias-free.
      activation: hidden activation: ``jaxnewton.models.ACTIVATIONS`` or ``"sine"`` (sin(ω₀ z), SIREN).
      omega0: ω₀ of the sine activation and the SIREN init (unused otherwise).
      weight_init: ``"xavier"`` (PyTorch's ``xavier_uniform_``) or ``"siren"`` (Sitzmann et al. 2020).
      bias_init: ``"torch_default"`` or ``"zeros"`` (see ``jaxnewton.models.make_mlp``).
      input_features: ``"none"`` or ``"fourier"``: γ(x) = [sin(2πBx), cos(2πBx)] feeds the MLP.
      fourier_features: f, the number of rows of B (γ has 2f entries).
      fourier_sigma2: σ², the variance of B's entries, B_ij ~ N(0, σ²); B is drawn per seed from
        the seed's key and saved in ``arrays.npz`` (Tancik et al. 2020's Gaussian mapping).
      solver: ``"newton"``: θ ← θ − η (H + εI)⁻¹ ∇L; ``"sfn"``: saddle-free Newton θ ← θ − η (|H| + εI)⁻¹ ∇L;
        ``"bfgs"``, ``"lbfgs"`` (line search to the strong Wolfe conditions), ``"lbfgs_gss"``
        (golden-section step); ``"adam"`` (optax, ``learning_rate``); ``"gd"`` (``gd_learning_rate``).
        ``jaxnewton.solvers`` has the formulas.
      hessian: how newton and sfn compute the exact H: ``"structured"`` (``jaxnewton.curvature``,
        several times faster on MLPs, regression only) or ``"autodiff"`` (``jax.hessian``).
        Diagnostics always use ``jax.hessian``, independently of this choice.
      eta: step relaxation η in (0, 1] (newton and sfn).
      eps: Hessian shift ε ≥ 0 (newton and sfn).
      learning_rate: ADAM's step size.
      gd_learning_rate: gradient descent's step α.
      memory: curvature pairs kept by lbfgs and lbfgs_gss (the companion paper: 10).
      gss_evals: loss evaluations of lbfgs_gss's golden-section step search (the companion paper: about 6).
      optimizers: empty for one sweep with ``solver``; else a comparison (``jaxnewton.compare``):
        one sweep per optimiser named here (values of ``solver``), from the same initial points.
      first_order_max_steps: the iteration cap of adam and gd when it is not ``max_steps`` (0: the
        same). Their step costs a gradient, hundreds of times less than an exact Newton step.
      tol: stop when ||∇L||₂ ≤ tol.
      max_steps: iteration cap; a run that reaches it has status ``max_steps``.
      n_seeds: number of seeds; seed s uses ``fold_in(key(seed), s)``.
      seed: root seed.
      seed_batch: seeds run together in one vmapped batch (and saved as one checkpoint).
      history_stride: loss and ||∇L|| are recorded every this many steps.
      segment_steps: steps per compiled segment; progress is printed between segments.
      divergence_factor: a loss above this times the initial loss counts as a blow-up.
      eig_rtol: an eigenvalue is near-zero when |λ| ≤ eig_rtol · max|λ|.
      trivial_loss_ratio: trivial needs L / ||v||² ≥ this ...
      trivial_output_ratio: ... and ||N|| / ||v|| ≤ this.
    """

    name: str
    problem: str = "regression"
    n_points: int = 100
    target_amplitude: float = 2.0
    target_wavenumber: float = 4.0
    widths: tuple[int, ...] = (10, 10)
    activation: str = "tanh"
    omega0: float = 1.0
    weight_init: str = "xavier"
    bias_init: str = "torch_default"
    input_features: str = "none"
    fourier_features: int = 10
    fourier_sigma2: float = 1.5
    solver: str = "newton"
    hessian: str = "structured"
    eta: float = 5e-2
    eps: float = 5e-2
    learning_rate: float = 1e-3
    gd_learning_rate: float = 1e-2
    memory: int = 10
    gss_evals: int = 6
    optimizers: tuple[str, ...] = ()
    first_order_max_steps: int = 0
    tol: float = 1e-5
    max_steps: int = 5000
    n_seeds: int = 10
    seed: int = 0
    seed_batch: int = 100
    history_stride: int = 10
    segment_steps: int = 250
    divergence_factor: float = 1e8
    eig_rtol: float = 1e-6
    trivial_loss_ratio: float = 0.99
    trivial_output_ratio: float = 0.1

    def validate(self) -> None:
        _require(self.problem in PROBLEMS, "problem", self.problem, f"one of {list(PROBLEMS)}")
        _require(self.n_points >= 2, "n_points", self.n_points, "an integer ≥ 2")
        if self.problem != "regression":
            _require(self.hessian == "autodiff", "hessian", self.hessian,
                     "hessian=autodiff: the structured Hessian is for regression; a PINN's loss has 𝓛[N] in it")
            _require(self.input_features == "none", "input_features", self.input_features,
                     "none: the PINNs take x itself (Fourier features are a regression experiment, E5)")
            _require(float(self.target_wavenumber).is_integer() and self.target_wavenumber >= 1,
                     "target_wavenumber", self.target_wavenumber,
                     "a positive integer, so the exact solution A Π sin(kπx_d) is zero on the boundary")
        _require(len(self.widths) >= 1 and all(w >= 1 for w in self.widths), "widths", self.widths,
                 "a non-empty tuple of positive widths, e.g. widths=10,10")
        _require(self.activation in ACTIVATIONS or self.activation == "sine", "activation", self.activation,
                 f"one of {sorted(ACTIVATIONS) + ['sine']}")
        _require(self.omega0 > 0.0, "omega0", self.omega0, "a frequency ω₀ > 0")
        _require(self.weight_init in WEIGHT_INITS, "weight_init", self.weight_init, f"one of {list(WEIGHT_INITS)}")
        _require(self.bias_init in BIAS_INITS, "bias_init", self.bias_init, f"one of {list(BIAS_INITS)}")
        _require(self.input_features in INPUT_FEATURES, "input_features", self.input_features,
                 f"one of {list(INPUT_FEATURES)}")
        _require(self.fourier_features >= 1, "fourier_features", self.fourier_features, "an integer f ≥ 1")
        _require(self.fourier_sigma2 > 0.0, "fourier_sigma2", self.fourier_sigma2, "a variance σ² > 0")
        _require(self.solver in SOLVERS, "solver", self.solver, f"one of {list(SOLVERS)}")
        _require(self.hessian in HESSIANS, "hessian", self.hessian, f"one of {list(HESSIANS)}")
        _require(0.0 < self.eta <= 1.0, "eta", self.eta, "a step relaxation in (0, 1]")
        _require(self.eps >= 0.0, "eps", self.eps, "a shift ≥ 0")
        _require(self.learning_rate > 0.0, "learning_rate", self.learning_rate, "a step size > 0")
        _require(self.gd_learning_rate > 0.0, "gd_learning_rate", self.gd_learning_rate, "a step size > 0")
        _require(self.memory >= 1, "memory", self.memory, "at least 1 curvature pair (the paper: 10)")
        _require(self.gss_evals >= 2, "gss_evals", self.gss_evals, "at least 2 loss evaluations per step search")
        _require(all(o in SOLVERS for o in self.optimizers) and len(set(self.optimizers)) == len(self.optimizers),
                 "optimizers", self.optimizers, f"distinct names from {list(SOLVERS)}, e.g. optimizers=newton,adam")
        _require(self.tol > 0.0, "tol", self.tol, "a gradient-norm tolerance > 0")
        _require(self.max_steps >= 1, "max_steps", self.max_steps, "an integer ≥ 1")
        _require(self.first_order_max_steps >= 0, "first_order_max_steps", self.first_order_max_steps,
                 "0 (same as max_steps) or a cap ≥ 1")
        _require(self.n_seeds >= 1, "n_seeds", self.n_seeds, "at least 1 seed")
        _require(self.seed >= 0, "seed", self.seed, "an integer ≥ 0")
        _require(self.seed_batch >= 1, "seed_batch", self.seed_batch, "an integer ≥ 1")
        _require(self.history_stride >= 1, "history_stride", self.history_stride, "an integer ≥ 1")
        _require(self.segment_steps >= 1, "segment_steps", self.segment_steps, "an integer ≥ 1")
        _require(self.divergence_factor > 1.0, "divergence_factor", self.divergence_factor, "a factor > 1")
        _require(0.0 < self.eig_rtol < 1.0, "eig_rtol", self.eig_rtol, "a relative tolerance in (0, 1)")
        _require(0.0 < self.trivial_loss_ratio <= 1.0, "trivial_loss_ratio", self.trivial_loss_ratio,
                 "a ratio in (0, 1]")
        _require(0.0 < self.trivial_output_ratio < 1.0, "trivial_output_ratio", self.trivial_output_ratio,
                 "a ratio in (0, 1)")

    @property
    def dim(self) -> int:
        """The input dimension D of the problem."""
        return 2 if self.problem == "diffusion_reaction_2d" else 1

    @property
    def batch_size(self) -> int:
        """Seeds per vmapped batch: never more than there are seeds."""
        return min(self.seed_batch, self.n_seeds)


LANDSCAPES = ("circle", "torus")


@dataclass(frozen=True)
class LandscapeConfig(ConfigBase):
    """E1 / E2: where Newton and gradient descent go from every start of a dense grid of angles.

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      problem: ``"circle"`` (E1, N(θ) = [cos θ, sin θ]) or ``"torus"`` (E2, ``jaxnewton.landscapes``).
      target: v (2 entries for the circle, 3 for the torus).
      R, r, e: the torus's radii and ellipticity (``landscapes.check_torus`` says which are
        allowed); must stay 0 for the circle.
      grid: starts per axis, at the cell centres of [0, 2π)^D (grid^D starts).
      eta, eps: the damped Newton method's relaxation η and shift ε (the undamped method is η = 1, ε = 0).
      learning_rate: gradient descent's step α: θ ← θ − α ∇L.
      tol: a run has converged when ||∇L||₂ ≤ tol.
      max_steps: iteration cap of every method.
      segment_steps: steps per compiled segment (progress is printed between segments).
      merge_tol: converged points closer than this (max-norm, modulo 2π) are one stationary point.
      eig_rtol: an eigenvalue is near-zero when |λ| ≤ eig_rtol · max|λ|.
    """

    name: str
    problem: str = "circle"
    target: tuple[float, ...] = (2.0, 2.0)
    R: float = 0.0
    r: float = 0.0
    e: float = 0.0
    grid: int = 1000
    eta: float = 5e-2
    eps: float = 5e-2
    learning_rate: float = 0.05
    tol: float = 1e-11
    max_steps: int = 5000
    segment_steps: int = 1000
    merge_tol: float = 1e-6
    eig_rtol: float = 1e-6

    def validate(self) -> None:
        _require(self.problem in LANDSCAPES, "problem", self.problem, f"one of {list(LANDSCAPES)}")
        if self.problem == "circle":
            _require(len(self.target) == 2, "target", self.target, "2 numbers for the circle, e.g. target=2,2")
            _require(self.R == self.r == self.e == 0.0, "R", (self.R, self.r, self.e),
                     "R = r = e = 0: they describe the torus only")
        else:
            try:
                check_torus(self.R, self.r, self.e, self.target)
            except ValueError as error:
                raise ValueError(f"config fields R, r, e, target: {error}") from None
        _require(self.grid >= 2, "grid", self.grid, "an integer ≥ 2 (starts per axis)")
        _require(0.0 < self.eta <= 1.0, "eta", self.eta, "a step relaxation in (0, 1]")
        _require(self.eps >= 0.0, "eps", self.eps, "a shift ≥ 0")
        _require(self.learning_rate > 0.0, "learning_rate", self.learning_rate, "a step > 0")
        _require(self.tol > 0.0, "tol", self.tol, "a gradient-norm tolerance > 0")
        _require(self.max_steps >= 1, "max_steps", self.max_steps, "an integer ≥ 1")
        _require(self.segment_steps >= 1, "segment_steps", self.segment_steps, "an integer ≥ 1")
        _require(0.0 < self.merge_tol < 1.0, "merge_tol", self.merge_tol, "a distance in (0, 1)")
        _require(0.0 < self.eig_rtol < 1.0, "eig_rtol", self.eig_rtol, "a relative tolerance in (0, 1)")


@dataclass(frozen=True)
class SaddlesConfig(ConfigBase):
    """Toy saddles x² − y² and x³ − 3xy²: gradient descent and undamped Newton trajectories.

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      start_x: every start is (start_x, y₀): beside the saddle's attracting direction.
      start_y: the offsets y₀ (how close to the stable manifold y = 0 each start is).
      learning_rate: gradient descent's step α.
      gd_steps: gradient descent steps drawn.
      newton_steps: undamped Newton steps drawn.
    """

    name: str
    start_x: float = 1.0
    start_y: tuple[float, ...] = (0.3, 1e-2, 1e-4)
    learning_rate: float = 0.05
    gd_steps: int = 150
    newton_steps: int = 30

    def validate(self) -> None:
        _require(0.0 < self.start_x <= 1.0, "start_x", self.start_x, "a value in (0, 1] (inside the plotted box)")
        _require(len(self.start_y) >= 1 and all(0.0 < abs(y) <= 1.0 for y in self.start_y), "start_y",
                 self.start_y, "non-zero offsets in [−1, 1], e.g. start_y=0.3,1e-2")
        _require(0.0 < self.learning_rate < 0.5, "learning_rate", self.learning_rate,
                 "a step in (0, 0.5): larger ones overshoot x² − y²'s attracting direction")
        _require(self.gd_steps >= 1, "gd_steps", self.gd_steps, "an integer ≥ 1")
        _require(self.newton_steps >= 1, "newton_steps", self.newton_steps, "an integer ≥ 1")


ENSEMBLES = ("goe", "mirror")


@dataclass(frozen=True)
class RandomHessiansConfig(ConfigBase):
    """E8: how often a random symmetric matrix is definite (``jaxnewton.random_hessians``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      size: n of the large matrices (the paper: 140, E3's parameter count).
      n_matrices: how many large matrices are tested for definiteness.
      ensemble: ``"goe"``, the law of (A + Aᵀ)/2 with A standard normal (off-diagonal variance 1/2,
        diagonal 1), or ``"mirror"``, A's upper triangle mirrored (every entry variance 1).
      eig_sample: the first this many large matrices also get every eigenvalue (``eigvalsh``): the
        index histogram, and a check of the definiteness test.
      small_sizes: the n at which P(positive definite) is measured by sampling.
      small_samples: matrices sampled at each small n.
      chunk: large matrices per compiled batch (memory: 8·size²·chunk bytes, times a few).
      small_chunk: small matrices per compiled batch.
      seed: the root key; matrix i of a run is drawn from fold_in(its stream's key, i), so the
        counts do not depend on the chunk sizes.
    """

    name: str
    size: int = 140
    n_matrices: int = 100_000
    ensemble: str = "goe"
    eig_sample: int = 10_000
    small_sizes: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    small_samples: int = 2_000_000
    chunk: int = 500
    small_chunk: int = 200_000
    seed: int = 0

    def validate(self) -> None:
        _require(self.size >= 1, "size", self.size, "an integer ≥ 1")
        _require(self.n_matrices >= 1, "n_matrices", self.n_matrices, "an integer ≥ 1")
        _require(self.ensemble in ENSEMBLES, "ensemble", self.ensemble, f"one of {list(ENSEMBLES)}")
        _require(0 <= self.eig_sample <= self.n_matrices, "eig_sample", self.eig_sample,
                 "an integer in [0, n_matrices]")
        _require(len(self.small_sizes) >= 1 and all(1 <= n <= 64 for n in self.small_sizes), "small_sizes",
                 self.small_sizes, "sizes in 1..64, e.g. small_sizes=1,2,3,4,5,6,7,8")
        _require(len(set(self.small_sizes)) == len(self.small_sizes), "small_sizes", self.small_sizes,
                 "distinct sizes")
        _require(self.small_samples >= 1, "small_samples", self.small_samples, "an integer ≥ 1")
        _require(self.chunk >= 1, "chunk", self.chunk, "an integer ≥ 1")
        _require(self.small_chunk >= 1, "small_chunk", self.small_chunk, "an integer ≥ 1")


@dataclass(frozen=True)
class IndexLossConfig(ConfigBase):
    """Index against loss for every stationary point the other runs found (``jaxnewton.index_loss``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      folders: the results folders to read, siblings of this run's folder (a missing one is skipped
        and named in the summary). Seed sweeps contribute their converged seeds, landscapes their
        stationary points, once per method that reached each.
    """

    name: str
    folders: tuple[str, ...] = ("circle", "torus", "mlp_tanh_100")

    def validate(self) -> None:
        _require(len(self.folders) >= 1 and all(f and "/" not in f for f in self.folders), "folders",
                 self.folders, "folder names under results/, e.g. folders=circle,torus,mlp_tanh_100")


def _base_config(config: ConfigBase) -> Config:
    """The seed-sweep config ``config.base`` names, checked to be one."""
    base = load_config(config.base)
    _require(isinstance(base, Config), "base", config.base, "the name of a seed-sweep config, e.g. base=mlp_tanh")
    return base


@dataclass(frozen=True)
class PhaseMapConfig(ConfigBase):
    """Where damped Newton ends over a grid of (η, ε), and over hidden width (``jaxnewton.phase_map``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      base: the seed-sweep config whose problem, network, tolerance and diagnostics are used (its
        ``eta``, ``eps``, ``n_seeds`` and ``max_steps`` are replaced by the fields below).
      etas, epss: the grid: every η with every ε, the same seeds (and θ₀) in every cell.
      n_seeds: seeds per cell, and per width.
      max_steps: the iteration cap of every run.
      widths: hidden widths w of a w-w network run at the base's η and ε (empty: no width sweep).
    """

    name: str
    base: str = "mlp_tanh"
    etas: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
    epss: tuple[float, ...] = (1e-3, 1e-2, 5e-2, 0.2, 1.0)
    n_seeds: int = 16
    max_steps: int = 2000
    widths: tuple[int, ...] = (5, 10, 20)

    def validate(self) -> None:
        base = _base_config(self)
        _require(base.input_features == "none", "base", self.base,
                 "a config without Fourier features (its per-seed B is a context of its own)")
        _require(len(self.etas) >= 1 and all(0.0 < e <= 1.0 for e in self.etas), "etas", self.etas,
                 "step relaxations in (0, 1], e.g. etas=0.05,0.1,0.5")
        _require(len(self.epss) >= 1 and all(e >= 0.0 for e in self.epss), "epss", self.epss,
                 "shifts ≥ 0, e.g. epss=0.01,0.05,1")
        _require(self.n_seeds >= 1, "n_seeds", self.n_seeds, "at least 1 seed")
        _require(self.max_steps >= 1, "max_steps", self.max_steps, "an integer ≥ 1")
        _require(all(w >= 1 for w in self.widths), "widths", self.widths, "positive widths, e.g. widths=5,10,20")

    def depends_on(self) -> dict[str, Any]:
        return {"base_hash": load_config(self.base).hash()}


@dataclass(frozen=True)
class MechanismConfig(ConfigBase):
    """Along quasi-Newton runs: the curvature condition and the true Hessian's smallest eigenvalue (``jaxnewton.mechanism``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      base: the seed-sweep config whose problem and stopping rule are used.
      optimizers: quasi-Newton solvers to follow (``bfgs``, ``lbfgs``, ``lbfgs_gss``).
      n_seeds: seeds per optimiser (the base's first seeds: the same θ₀ as its sweeps).
      max_steps: the iteration cap.
      stride: the iterate is recorded, and the true Hessian's spectrum computed, every this many steps.
    """

    name: str
    base: str = "mlp_tanh"
    optimizers: tuple[str, ...] = ("bfgs", "lbfgs", "lbfgs_gss")
    n_seeds: int = 16
    max_steps: int = 2000
    stride: int = 20

    def validate(self) -> None:
        _base_config(self)
        _require(len(self.optimizers) >= 1 and all(o in QUASI_NEWTON for o in self.optimizers), "optimizers",
                 self.optimizers, f"names from {list(QUASI_NEWTON)}")
        _require(self.n_seeds >= 1, "n_seeds", self.n_seeds, "at least 1 seed")
        _require(self.max_steps >= 1, "max_steps", self.max_steps, "an integer ≥ 1")
        _require(1 <= self.stride <= self.max_steps, "stride", self.stride, "an integer in [1, max_steps]")

    def depends_on(self) -> dict[str, Any]:
        return {"base_hash": load_config(self.base).hash()}


def _require_path_settings(config: ConfigBase) -> None:
    """The FourierPathFinder fields every path config shares (``jaxnewton.paths.PathSettings``)."""
    _require(config.n_modes >= 0, "n_modes", config.n_modes, "≥ 0 sine modes (the companion paper: 10)")
    _require(config.n_points >= 3, "n_points", config.n_points, "≥ 3 sample points (the companion paper: 50)")
    _require(config.path_learning_rate > 0.0, "path_learning_rate", config.path_learning_rate, "an ADAM step > 0")
    _require(config.path_steps >= 1, "path_steps", config.path_steps, "an integer ≥ 1")


@dataclass(frozen=True)
class PathsToyConfig(ConfigBase):
    """FourierPathFinder on the companion paper's 2-D toy landscape (``jaxnewton.toy_paths``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      lams: the segment-penalty weights λ to run (the paper: 10 … 1000 give ≈ 0.64–0.65).
      n_modes: N_F, sine modes of the path.
      n_points: M, sample points, ends included (the paper: 100 for the toy).
      path_learning_rate, path_steps: ADAM on the sine coefficients.
      newton_steps: the cap of the Newton refinement from the path's top.
    """

    name: str
    lams: tuple[float, ...] = (1e-4, 10.0, 100.0, 1000.0)
    n_modes: int = 10
    n_points: int = 100
    path_learning_rate: float = 1e-2
    path_steps: int = 2000
    newton_steps: int = 50

    def validate(self) -> None:
        _require(len(self.lams) >= 1 and all(lam >= 0.0 for lam in self.lams), "lams", self.lams,
                 "penalty weights ≥ 0, e.g. lams=10,100,1000")
        _require_path_settings(self)
        _require(self.newton_steps >= 1, "newton_steps", self.newton_steps, "an integer ≥ 1")


@dataclass(frozen=True)
class DigitsStudyConfig(ConfigBase):
    """The companion paper's SGD-vs-L-BFGS-GSS study on scikit-learn's 8×8 digits (``jaxnewton.digits``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      hidden: h of the 64-h-h-10 network (tanh, no biases).
      activation: the hidden activation (``jaxnewton.models.ACTIVATIONS``).
      test_fraction: the share of the 1 797 digits held out as the test set (stratified).
      split_seed: the split's random state (fixed: every run sees the same split).
      n_starts: initial points, shared by both optimisers (the paper: 75).
      n_keep: solutions kept per set, the lowest loss first (the paper: 48).
      seed: root seed of the starts, the SGD shuffles and the pairs.
      memory, gss_evals: L-BFGS-GSS's history and loss evaluations per step search (the paper: 10, ≈ 6).
      lbfgs_tol: an L-BFGS-GSS run stops at ||∇L||₂ ≤ this.
      lbfgs_max_steps: its iteration cap.
      record_every: L-BFGS-GSS iterations between test-loss records (the early-stopping candidates).
      sgd_learning_rate, sgd_batch, sgd_epochs: mini-batch SGD (the paper: batch 64; rate and epochs not given).
      n_pairs: random pairs per set for the barrier statistics (the paper: 300).
      pair_batch: pairs optimised together in one vmapped chunk (and checkpointed together).
      n_modes, n_points, lam, path_learning_rate, path_steps: FourierPathFinder (``jaxnewton.paths``).
    """

    name: str
    hidden: int = 16
    activation: str = "tanh"
    test_fraction: float = 0.25
    split_seed: int = 0
    n_starts: int = 75
    n_keep: int = 48
    seed: int = 0
    memory: int = 10
    gss_evals: int = 6
    lbfgs_tol: float = 1e-5
    lbfgs_max_steps: int = 1000
    record_every: int = 5
    sgd_learning_rate: float = 0.1
    sgd_batch: int = 64
    sgd_epochs: int = 300
    n_pairs: int = 100
    pair_batch: int = 25
    n_modes: int = 10
    n_points: int = 50
    lam: float = 1e-4
    path_learning_rate: float = 1e-2
    path_steps: int = 200

    def validate(self) -> None:
        _require(self.hidden >= 1, "hidden", self.hidden, "a width ≥ 1, e.g. hidden=16")
        _require(self.activation in ACTIVATIONS, "activation", self.activation, f"one of {sorted(ACTIVATIONS)}")
        _require(0.0 < self.test_fraction < 1.0, "test_fraction", self.test_fraction, "a fraction in (0, 1)")
        _require(2 <= self.n_keep <= self.n_starts, "n_keep", self.n_keep,
                 f"2 … n_starts = {self.n_starts} solutions (the paper keeps 48 of 75)")
        _require(self.memory >= 1 and self.gss_evals >= 2, "memory", (self.memory, self.gss_evals),
                 "memory ≥ 1 and gss_evals ≥ 2")
        _require(self.lbfgs_tol > 0.0, "lbfgs_tol", self.lbfgs_tol, "a gradient-norm tolerance > 0")
        _require(self.lbfgs_max_steps >= 1, "lbfgs_max_steps", self.lbfgs_max_steps, "an integer ≥ 1")
        _require(1 <= self.record_every <= self.lbfgs_max_steps, "record_every", self.record_every,
                 "an integer in [1, lbfgs_max_steps]")
        _require(self.sgd_learning_rate > 0.0, "sgd_learning_rate", self.sgd_learning_rate, "a step > 0")
        _require(self.sgd_batch >= 1, "sgd_batch", self.sgd_batch, "a batch size ≥ 1 (the paper: 64)")
        _require(self.sgd_epochs >= 1, "sgd_epochs", self.sgd_epochs, "an integer ≥ 1")
        _require(self.n_pairs >= 1 and self.pair_batch >= 1, "n_pairs", (self.n_pairs, self.pair_batch),
                 "n_pairs ≥ 1 and pair_batch ≥ 1")
        _require(self.lam >= 0.0, "lam", self.lam, "a penalty weight ≥ 0 (the paper: 1e-4)")
        _require_path_settings(self)


@dataclass(frozen=True)
class LandscapeStudyConfig(ConfigBase):
    """Barriers, saddle checks, symmetry and kernel PCA of E3's solutions (``jaxnewton.landscape_study``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      source: the comparison folder under results/ whose end points are read (``make compare``'s).
      path_optimizers: whose converged non-trivial points form the ``non_trivial`` group.
      max_pairs: pairs per group at most (all pairs when there are fewer).
      seed: the pair draws' and the symmetry copy's seed.
      n_modes, n_points, lam, path_learning_rate, path_steps: FourierPathFinder (``jaxnewton.paths``).
      newton_steps: the cap of the Newton refinement from each path's top.
    """

    name: str
    source: str = "compare_mlp_tanh"
    path_optimizers: tuple[str, ...] = ("newton", "bfgs", "adam")
    max_pairs: int = 40
    seed: int = 0
    n_modes: int = 10
    n_points: int = 50
    lam: float = 1e-4
    path_learning_rate: float = 1e-2
    path_steps: int = 1000
    newton_steps: int = 200

    def validate(self) -> None:
        _require(bool(self.source) and "/" not in self.source, "source", self.source,
                 "a comparison folder name under results/, e.g. source=compare_mlp_tanh")
        _require(len(self.path_optimizers) >= 1 and all(o in SOLVERS for o in self.path_optimizers),
                 "path_optimizers", self.path_optimizers, f"names from {list(SOLVERS)}")
        _require(self.max_pairs >= 1, "max_pairs", self.max_pairs, "an integer ≥ 1")
        _require(self.lam >= 0.0, "lam", self.lam, "a penalty weight ≥ 0 (the companion paper: 1e-4)")
        _require_path_settings(self)
        _require(self.newton_steps >= 1, "newton_steps", self.newton_steps, "an integer ≥ 1")


CONFIG_TYPES = (Config, LandscapeConfig, SaddlesConfig, RandomHessiansConfig, IndexLossConfig, PhaseMapConfig,
                MechanismConfig, PathsToyConfig, DigitsStudyConfig, LandscapeStudyConfig)
AnyConfig = (Config | LandscapeConfig | SaddlesConfig | RandomHessiansConfig | IndexLossConfig | PhaseMapConfig
             | MechanismConfig | PathsToyConfig | DigitsStudyConfig
             | LandscapeStudyConfig)


def _require(ok: bool, field: str, value: Any, want: str) -> None:
    if not ok:
        raise ValueError(f"config field {field}={value!r} is out of range: use {want}")


def _check_type(field: str, value: Any, annotation: str) -> None:
    expected = {"str": str, "int": int, "float": (int, float), "tuple[int, ...]": tuple,
                "tuple[float, ...]": tuple, "tuple[str, ...]": tuple}[annotation]
    if isinstance(value, bool) or not isinstance(value, expected):
        raise ValueError(f"config field {field}={value!r} has the wrong type: it must be {annotation}")
    if annotation == "tuple[int, ...]" and not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(f"config field {field}={value!r} must hold integers only")
    if annotation == "tuple[float, ...]" and not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise ValueError(f"config field {field}={value!r} must hold numbers only")
    if annotation == "tuple[str, ...]" and not all(isinstance(v, str) for v in value):
        raise ValueError(f"config field {field}={value!r} must hold strings only")


def _parse_value(field: dataclasses.Field, text: str) -> Any:
    """Parse ``text`` for ``field``: Python literals, with bare strings allowed for str fields."""
    if field.type == "str":
        return text
    if field.type == "tuple[str, ...]":
        return tuple(part.strip() for part in text.split(",") if part.strip())
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"--set {field.name}={text!r}: cannot parse the value as {field.type}") from None
    if field.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if field.type.startswith("tuple["):
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = (value,) if is_number else tuple(value) if isinstance(value, (list, tuple)) else value
    if field.type == "tuple[float, ...]" and isinstance(value, tuple):
        value = tuple(float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value)
    return value


def override(config: AnyConfig, assignments: Iterable[str]) -> AnyConfig:
    """Apply ``field=value`` strings to a config, validating names and values.

    Raises:
      ValueError: for a malformed assignment, an unknown field (naming the closest one),
        or a value that fails the config's checks.
    """
    fields = {f.name: f for f in dataclasses.fields(config)}
    changes: dict[str, Any] = {}
    for item in assignments:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: write it as field=value, e.g. --set eta=0.1")
        key, text = item.split("=", 1)
        key = key.strip()
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"--set {key}: {type(config).__name__} has no field {key!r}.{hint} "
                             f"Fields: {', '.join(fields)}")
        changes[key] = _parse_value(fields[key], text.strip())
    return dataclasses.replace(config, **changes)


def sweep_config_from_json(path: Path) -> Config:
    """The seed-sweep ``Config`` a results folder's ``config.json`` records (JSON lists back to tuples)."""
    recorded = json.loads(Path(path).read_text())["config"]
    fields = {f.name: f for f in dataclasses.fields(Config)}
    unknown = sorted(set(recorded) - set(fields))
    if unknown:
        raise ValueError(f"{path} records fields {unknown} that Config does not have: rerun that folder's experiment")
    return Config(**{k: tuple(v) if fields[k].type.startswith("tuple") else v for k, v in recorded.items()})


def load_config(path_or_name: str, smoke: bool = False) -> AnyConfig:
    """Load ``get_config(smoke)`` from a config file path, or by name from ``configs/``.

    Args:
      path_or_name: ``configs/mlp_tanh.py`` or ``mlp_tanh``.
      smoke: ask the config for its shrunk-down variant.
    """
    path = Path(path_or_name)
    if not path.suffix:
        path = Path(__file__).resolve().parent.parent / "configs" / f"{path_or_name}.py"
    if not path.is_file():
        available = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "configs").glob("*.py"))
        raise ValueError(f"config {path_or_name!r} not found; give a path or one of {available}")
    spec = importlib.util.spec_from_file_location(f"jaxnewton_config_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise ValueError(f"{path} defines no get_config(smoke=False)")
    config = module.get_config(smoke=smoke)
    if not isinstance(config, CONFIG_TYPES):
        raise ValueError(f"{path}: get_config must return one of "
                         f"{', '.join('jaxnewton.config.' + t.__name__ for t in CONFIG_TYPES)}")
    return config
