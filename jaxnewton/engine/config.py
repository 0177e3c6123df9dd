"""Configuration: frozen dataclasses validated before anything compiles, loaded from config files.

``ConfigBase`` is what every config shares (type checks, range checks, ``to_dict``, ``hash``). ``Config``
describes one seed sweep of a network (E3–E7): the engine's input (``engine.build``); the other studies
define their own config dataclasses next to their code (``jaxnewton.studies``). Config files
(``configs/<experiment>.py``) define ``get_config(smoke=False)`` returning one of them. Command-line
overrides (``--set field=value``) go through ``override``, which rejects unknown fields (with a
suggestion) and values of the wrong type, so a typo is an error and never a silent default. A ``Run``
names a config file, the changes made to it and the results folder it writes (``make paper``'s runs).
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import hashlib
import importlib.util
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from jaxnewton.version import __version__
from jaxnewton.core import datasets
from jaxnewton.core.diagnostics import SPECTRA
from jaxnewton.core.models import ACTIVATIONS, BIAS_INITS, DTYPES, FOURIER_SCALES, PARAMETRISATIONS, WEIGHT_INITS
from jaxnewton.core.problems import HESSIANS, LOSS_REDUCTIONS
from jaxnewton.engine.loop import TOL_ON
from jaxnewton.optim import registry
from jaxnewton.optim.newton import LINEAR_SOLVERS

CONFIGS_DIR = Path(__file__).resolve().parents[2] / "configs"
PROBLEMS = ("regression", "poisson_1d", "diffusion_reaction_2d", *datasets.DATASETS)
INPUT_FEATURES = ("none", "fourier")
# Hard limits, each a clear error rather than a crash or an exhausted machine.
MAX_SEEDS = 2 ** 32  # seed s is a uint32 in fold_in
MAX_STEPS = 2 ** 31 - 2  # step counts are int32
MAX_SEED_BATCH = 2 ** 16  # a batch of seeds is held in memory
MAX_HISTORY = 100_000  # recorded history entries per seed
MAX_NODES = 100_000  # collocation or regression nodes
AMPLITUDE_RANGE = (1e-100, 1e100)


class ConfigBase:
    """What every config dataclass shares: type checks on construction, ``to_dict``, ``hash``."""

    LARGE_INTS = ("n_seeds", "seed")  # integer fields allowed beyond int32 (their own checks bound them)
    # Fields that say how a run is carried out, never what it computes (segments, the memory it may take): left out
    # of the hash, so a resumed or moved run keeps its folder whatever they are (results are bitwise independent of
    # them, tested).
    OPERATIONAL = ("segment_steps", "segment_seconds", "memory_limit")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_type(f.name, getattr(self, f.name), f.type, f.name in self.LARGE_INTS)
        require(self.name.isidentifier(), "name", self.name, "a Python identifier such as 'mlp_tanh'")
        self.validate()

    def validate(self) -> None:
        """Range checks of the subclass; raise ValueError naming the field and what to use."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def depends_on(self) -> dict[str, Any]:
        """What else the run depends on, hashed with the config (a base config's hash, for example)."""
        return {}

    def reads(self) -> tuple[str, ...]:
        """The results folders (siblings of its own) its run reads: ``make paper`` runs it after them, not beside
        another run (``paper.runs_beside``)."""
        return ()

    def hash(self) -> str:
        """A short hash of the config, what it depends on and the package version: equal hashes mean equal runs.

        Fields at their default value are left out, so adding a field whose default keeps the old behaviour (the
        rule for new fields) keeps every earlier run's hash, and its results folder stays valid; so are the
        ``OPERATIONAL`` fields, whatever their value.
        """
        defaults = {f.name: f.default for f in dataclasses.fields(self) if f.default is not dataclasses.MISSING}
        config = {k: v for k, v in self.to_dict().items()
                  if k not in self.OPERATIONAL and (k not in defaults or v != defaults[k])}
        payload = json.dumps({"config": config, "version": __version__, **self.depends_on()}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Config(ConfigBase):
    """Everything that defines a run. Field groups: problem, model, solver, sweep, diagnostics.

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      problem: ``"regression"`` (E3–E5: fit v), ``"poisson_1d"`` (E6: u'' + v = 0 on [0, 1]) or
        ``"diffusion_reaction_2d"`` (E7: ∇²u + u + v = 0 on [0, 1]²); PINNs have u = 0 on the
        boundary imposed hard and the strong-form loss ½∫(𝓛[N] + v)² (``core.problems``); or a real data set
        of ``core.datasets`` (``"digits"``: m = 10 one-hot outputs; ``"diabetes"``), fitted by least squares.
      n_points: uniform nodes per axis on [0, 1] (ends included): Q = n_points, or n_points² in 2-D (unused by a
        data set, whose nodes are its training samples).
      n_train, test_fraction, split_seed: a data set's split (``core.datasets.load``): the test fraction, the seed of
        the stratified split, and a stratified subset of n_train training samples (0: the whole training split).
      loss_reduction: L = c Σ_q r_q² with c = 1/Q (``"mean"``), 1 (``"sum"``), 1/(2Q) (``"half_mean"``) or
        ½ (``"half_sum"``) (``core.problems``). The paper's PINN loss ½∫(𝓛[N] + v)² is ``half_mean``. It
        matters for damped Newton: ``sum`` with ε is ``mean`` with ε/Q, and tol bounds Q·||∇L_mean||.
      target_amplitude, target_wavenumber: A and k. Regression: v(x) = A sin(kπx). PINN: the
        exact solution u = A Π_d sin(kπx_d), and v is computed from it.
      widths: hidden layer widths; the output layer is bias-free.
      activation: hidden activation: ``core.models.ACTIVATIONS`` or ``"sine"`` (sin(ω₀ z), SIREN).
      omega0: ω₀ of the sine activation and the SIREN init (unused otherwise).
      weight_init: ``"xavier"`` (PyTorch's ``xavier_uniform_``), ``"xavier_normal"`` (``xavier_normal_``)
        or ``"siren"`` (Sitzmann et al. 2020).
      bias_init: ``"torch_default"`` or ``"zeros"`` (see ``core.models.make_mlp``).
      parametrisation: ``"standard"`` (σ(a W + b), the paper's) or ``"ntk"`` (σ(a W / √fan_in + b), read-out
        a · θᴼ / √K: Jacot et al. 2018 with β = 1), the same network at θ₀ in other coordinates, in which the shift ε
        damps parameter i by ε fan_in (``core.problems.reparametrised``).
      input_features: ``"none"`` or ``"fourier"``: γ(x) = [sin(2πBx), cos(2πBx)] feeds the MLP.
      fourier_features: f, the number of rows of B (γ has 2f entries).
      fourier_sigma2: σ², the variance of B's entries, B_ij ~ N(0, σ²); B is drawn per seed from
        the seed's key and saved in ``arrays.npz`` (Tancik et al. 2020's Gaussian mapping).
      fourier_scale: c in γ(x) = [sin(cBx), cos(cBx)]: ``"2pi"`` (the paper's and Tancik et al.'s) or ``"1"``.
      solver: ``"newton"``: θ ← θ − η (H + εI)⁻¹ ∇L; ``"sfn"``: saddle-free Newton θ ← θ − η (|H| + εI)⁻¹ ∇L;
        ``"bfgs"``, ``"lbfgs"`` (line search to the strong Wolfe conditions), ``"lbfgs_gss"``
        (golden-section step); ``"adam"`` (optax, ``learning_rate``); ``"gd"`` (``gd_learning_rate``).
        ``optim`` has the formulas.
      hessian: how newton and sfn compute the exact H: ``"structured"`` (``core.curvature``,
        several times faster on MLPs; for the PINNs the last hidden layer and the read-out in closed form, the
        earlier layers by Hessian-vector products) or ``"autodiff"`` (``jax.hessian``).
        Diagnostics never use it (``spectrum``: ``jax.hessian`` or Hessian-vector products).
      eta: step relaxation η in (0, 1] (newton and sfn).
      eps: Hessian shift ε ≥ 0 (newton and sfn).
      linear_solver: how newton solves (H + εI)s = ∇L: ``"dense"`` (form H, LU) or ``"krylov"`` (MINRES on exact
        Hessian-vector products, H never formed: for large P; ``optim.newton``); for sfn, ``"krylov"`` is
        (|H| + εI)⁻¹∇L on the Lanczos space of ∇L.
      krylov_rtol, krylov_max_iter: MINRES's relative residual and iteration cap (0: 2P); for sfn,
        krylov_max_iter is the number of Lanczos steps (0: P, the dense step).
      learning_rate: ADAM's step size.
      gd_learning_rate: gradient descent's step α.
      trust_radius: the initial trust radius Δ₀ of trust_region and sr1.
      cubic_sigma: the initial cubic weight σ₀ of cubic.
      memory: curvature pairs kept by lbfgs and lbfgs_gss (the companion paper: 10).
      gss_evals: loss evaluations of lbfgs_gss's golden-section step search (the companion paper: about 6).
      optimizers: empty for one sweep with ``solver``; else a comparison (``studies.compare``):
        one sweep per optimiser named here (values of ``solver``), from the same initial points;
        ``("all",)`` stands for every registered optimiser of E9's comparison (``in_all`` in ``optim.registry``),
        in registration order.
      first_order_max_steps: the iteration cap of adam and gd when it is not ``max_steps`` (0: the
        same). Their step costs a gradient, hundreds of times less than an exact Newton step.
      dtype: ``"float64"`` or ``"float32"`` (PyTorch's default): the loss, gradient and optimiser step
        run in it; θ₀ is drawn in float64 and rounded. Diagnostics are float64 whatever it is.
      tol: stop when ||∇L||₂ ≤ tol (``tol_on="grad"``) or the last step ||Δθ||₂ ≤ tol (``tol_on="step"``).
      tol_on: what tol bounds, ``"grad"`` or ``"step"`` (the paper's "T = 1e-5" does not say).
      max_steps: iteration cap; a run that reaches it has status ``max_steps``.
      n_seeds: number of seeds; seed s uses ``fold_in(key(seed), s)``.
      seed: root seed.
      rounding_draw: 0, or a rounding draw r ≥ 1: every θ₀ is multiplied entry by entry by 1 ± 2⁻⁵² (a one-ulp
        relative change, signs drawn from the seed's key and r: ``engine.build.initial_points``), so the run differs
        from the plain one by rounding alone (``studies.rounding``).
      seed_batch: seeds run together in one vmapped batch (and saved as one checkpoint).
      history_stride: loss and ||∇L|| are recorded every this many steps.
      segment_steps: steps per compiled segment at most; progress is printed and a checkpoint written between
        segments.
      segment_seconds: a segment's wall time at most, about: segments are sized by the measured step time
        (``engine.sweep.next_segment``; 0: always ``segment_steps``). A stop signal ends the run at the next segment's
        end (``engine.preempt``): the default, 25 s, is below the grace period Slurm and Kubernetes give by default
        (30 s), so a preempted run loses nothing; keep it below yours.
      memory_limit: GiB the run may use (0: this machine's memory, or the accelerator's); a run whose estimate
        (``engine.memory``) exceeds it is refused before anything compiles.
      divergence_factor: a loss above this times the initial loss counts as a blow-up.
      eig_rtol: an eigenvalue is near-zero when |λ| ≤ eig_rtol · max|λ|.
      spectrum: how the end points' Hessian spectrum is taken: ``"dense"`` (form H, every eigenvalue: exact, P ≲
        5 000) or ``"lanczos"`` (Hessian-vector products only: extreme eigenvalues, the index fraction with a 95%
        bracket, the label and whether it is certain; ``core.diagnostics``).
      trivial_loss_ratio: trivial needs L / ||v||² ≥ this ...
      trivial_output_ratio: ... and ||N|| / ||v|| ≤ this.
    """

    name: str
    problem: str = "regression"
    n_points: int = 100
    n_train: int = 0
    test_fraction: float = 0.25
    split_seed: int = 0
    loss_reduction: str = "mean"
    target_amplitude: float = 2.0
    target_wavenumber: float = 4.0
    widths: tuple[int, ...] = (10, 10)
    activation: str = "tanh"
    omega0: float = 1.0
    weight_init: str = "xavier"
    bias_init: str = "torch_default"
    parametrisation: str = "standard"
    input_features: str = "none"
    fourier_features: int = 10
    fourier_sigma2: float = 1.5
    fourier_scale: str = "2pi"
    solver: str = "newton"
    hessian: str = "structured"
    eta: float = 5e-2
    eps: float = 5e-2
    linear_solver: str = "dense"
    krylov_rtol: float = 1e-10
    krylov_max_iter: int = 0
    learning_rate: float = 1e-3
    gd_learning_rate: float = 1e-2
    trust_radius: float = 1.0
    cubic_sigma: float = 1.0
    memory: int = 10
    gss_evals: int = 6
    optimizers: tuple[str, ...] = ()
    first_order_max_steps: int = 0
    dtype: str = "float64"
    tol: float = 1e-5
    tol_on: str = "grad"
    max_steps: int = 5000
    n_seeds: int = 10
    seed: int = 0
    rounding_draw: int = 0
    seed_batch: int = 100
    history_stride: int = 10
    segment_steps: int = 250
    segment_seconds: float = 25.0
    memory_limit: float = 0.0
    divergence_factor: float = 1e8
    eig_rtol: float = 1e-6
    spectrum: str = "dense"
    trivial_loss_ratio: float = 0.99
    trivial_output_ratio: float = 0.1

    def __post_init__(self) -> None:
        if self.optimizers == ("all",):
            object.__setattr__(self, "optimizers", registry.names(in_all=True))
        super().__post_init__()

    def validate(self) -> None:
        require(self.problem in PROBLEMS, "problem", self.problem, f"one of {list(PROBLEMS)}")
        require(self.n_points >= 2, "n_points", self.n_points, "an integer ≥ 2")
        require(self.loss_reduction in LOSS_REDUCTIONS, "loss_reduction", self.loss_reduction,
                f"one of {list(LOSS_REDUCTIONS)}")
        require(self.dtype in DTYPES, "dtype", self.dtype, f"one of {list(DTYPES)}")
        require(self.tol_on in TOL_ON, "tol_on", self.tol_on, f"one of {list(TOL_ON)}")
        require(self.problem in datasets.DATASETS or self.n_points ** self.dim <= MAX_NODES, "n_points", self.n_points,
                f"at most {MAX_NODES} nodes in all (n_points^{self.dim})")
        require(AMPLITUDE_RANGE[0] <= abs(self.target_amplitude) <= AMPLITUDE_RANGE[1], "target_amplitude",
                self.target_amplitude, f"a non-zero amplitude with {AMPLITUDE_RANGE[0]:g} ≤ |A| ≤ "
                f"{AMPLITUDE_RANGE[1]:g} (beyond, A² under- or overflows float64)")
        require(0.0 < self.target_wavenumber <= 1e6, "target_wavenumber", self.target_wavenumber,
                "a wavenumber 0 < k ≤ 1e6")
        if self.problem in datasets.DATASETS:
            require(self.input_features == "none", "input_features", self.input_features,
                    "none for a data set (its inputs are the samples' features)")
            n_split = int(datasets.SIZES[self.problem][0] * (1.0 - self.test_fraction))
            require(0.0 < self.test_fraction < 1.0, "test_fraction", self.test_fraction, "a fraction in (0, 1)")
            require(self.n_train == 0 or 20 <= self.n_train < n_split, "n_train", self.n_train,
                    f"0 (the whole training split, about {n_split} samples) or a subset of 20 … {n_split - 1}")
        elif self.problem != "regression":
            require(self.input_features == "none", "input_features", self.input_features,
                     "none: the PINNs take x itself (Fourier features are a regression experiment, E5)")
            require(float(self.target_wavenumber).is_integer() and self.target_wavenumber >= 1,
                     "target_wavenumber", self.target_wavenumber,
                     "a positive integer, so the exact solution A Π sin(kπx_d) is zero on the boundary")
        require(len(self.widths) >= 1 and all(w >= 1 for w in self.widths), "widths", self.widths,
                 "a non-empty tuple of positive widths, e.g. widths=10,10")
        require(self.activation in ACTIVATIONS or self.activation == "sine", "activation", self.activation,
                 f"one of {sorted(ACTIVATIONS) + ['sine']}")
        require(self.omega0 > 0.0, "omega0", self.omega0, "a frequency ω₀ > 0")
        require(self.weight_init in WEIGHT_INITS, "weight_init", self.weight_init, f"one of {list(WEIGHT_INITS)}")
        require(self.bias_init in BIAS_INITS, "bias_init", self.bias_init, f"one of {list(BIAS_INITS)}")
        require(self.parametrisation in PARAMETRISATIONS, "parametrisation", self.parametrisation,
                f"one of {list(PARAMETRISATIONS)}")
        require(self.input_features in INPUT_FEATURES, "input_features", self.input_features,
                 f"one of {list(INPUT_FEATURES)}")
        require(1 <= self.fourier_features <= 1000, "fourier_features", self.fourier_features, "an integer 1 ≤ f ≤ 1000")
        require(self.fourier_sigma2 > 0.0, "fourier_sigma2", self.fourier_sigma2, "a variance σ² > 0")
        require(self.fourier_scale in FOURIER_SCALES, "fourier_scale", self.fourier_scale,
                f"one of {list(FOURIER_SCALES)}")
        require(self.solver in registry.names(), "solver", self.solver, f"one of {list(registry.names())}")
        require(self.hessian in HESSIANS, "hessian", self.hessian, f"one of {list(HESSIANS)}")
        require(0.0 < self.eta <= 1.0, "eta", self.eta, "a step relaxation in (0, 1]")
        require(self.eps >= 0.0, "eps", self.eps, "a shift ≥ 0")
        require(self.linear_solver in LINEAR_SOLVERS, "linear_solver", self.linear_solver,
                f"one of {list(LINEAR_SOLVERS)}")
        require(0.0 < self.krylov_rtol < 1.0, "krylov_rtol", self.krylov_rtol, "a relative residual in (0, 1)")
        require(self.krylov_max_iter >= 0, "krylov_max_iter", self.krylov_max_iter, "0 (2P) or a cap ≥ 1")
        require(self.eps > 0.0 or self.solver != "sfn" and "sfn" not in self.optimizers, "eps", self.eps,
                "a shift > 0 for saddle-free Newton: with ε = 0 a zero eigenvalue of |H| is an infinite step")
        require(self.learning_rate > 0.0, "learning_rate", self.learning_rate, "a step size > 0")
        require(self.gd_learning_rate > 0.0, "gd_learning_rate", self.gd_learning_rate, "a step size > 0")
        require(self.trust_radius > 0.0, "trust_radius", self.trust_radius, "a radius Δ₀ > 0")
        require(self.cubic_sigma > 0.0, "cubic_sigma", self.cubic_sigma, "a cubic weight σ₀ > 0")
        require(self.memory >= 1, "memory", self.memory, "at least 1 curvature pair (the paper: 10)")
        require(self.gss_evals >= 2, "gss_evals", self.gss_evals, "at least 2 loss evaluations per step search")
        known = registry.names()
        require(all(o in known for o in self.optimizers) and len(set(self.optimizers)) == len(self.optimizers),
                "optimizers", self.optimizers,
                f"distinct names from {list(registry.names())}, e.g. optimizers=newton,adam, or all")
        require(0.0 < self.tol and (self.tol_on == "step" or self.tol < self.loss_scale), "tol", self.tol,
                f"a gradient-norm tolerance > 0 and below the loss scale {self.loss_scale:.3g} (the loss of the zero "
                "function): above it a run stops before it starts")
        require(1 <= self.max_steps <= MAX_STEPS, "max_steps", self.max_steps, f"an integer in [1, {MAX_STEPS}]")
        require(0 <= self.first_order_max_steps <= MAX_STEPS, "first_order_max_steps", self.first_order_max_steps,
                f"0 (same as max_steps) or a cap in [1, {MAX_STEPS}]")
        require(1 <= self.n_seeds <= MAX_SEEDS, "n_seeds", self.n_seeds,
                f"1 … {MAX_SEEDS} seeds (seed s's key is fold_in(key(seed), s) with s a uint32)")
        require(self.seed >= 0, "seed", self.seed, "an integer ≥ 0")
        require(0 <= self.rounding_draw <= 2 ** 16, "rounding_draw", self.rounding_draw,
                "0 (no perturbation) or a draw 1 … 65536")
        require(1 <= self.seed_batch <= MAX_SEED_BATCH, "seed_batch", self.seed_batch,
                f"an integer in [1, {MAX_SEED_BATCH}] (a batch is held in memory)")
        require(self.history_stride >= 1, "history_stride", self.history_stride, "an integer ≥ 1")
        require(max(self.max_steps, self.first_order_max_steps) // self.history_stride <= MAX_HISTORY,
                "history_stride", self.history_stride,
                f"a stride that records at most {MAX_HISTORY} steps per seed (raise it, or lower the caps)")
        require(self.segment_steps >= 1, "segment_steps", self.segment_steps, "an integer ≥ 1")
        require(self.segment_seconds >= 0.0, "segment_seconds", self.segment_seconds,
                "seconds ≥ 0 (0: segments of segment_steps whatever they take)")
        require(self.memory_limit >= 0.0, "memory_limit", self.memory_limit, "GiB > 0, or 0 for this machine's memory")
        require(self.divergence_factor > 1.0, "divergence_factor", self.divergence_factor, "a factor > 1")
        require(0.0 < self.eig_rtol < 1.0, "eig_rtol", self.eig_rtol, "a relative tolerance in (0, 1)")
        require(self.spectrum in SPECTRA, "spectrum", self.spectrum, f"one of {list(SPECTRA)}")
        require(0.0 < self.trivial_loss_ratio <= 1.0, "trivial_loss_ratio", self.trivial_loss_ratio,
                 "a ratio in (0, 1]")
        require(0.0 < self.trivial_output_ratio < 1.0, "trivial_output_ratio", self.trivial_output_ratio,
                 "a ratio in (0, 1)")

    @property
    def dim(self) -> int:
        """The input dimension D of the problem."""
        if self.problem in datasets.DATASETS:
            return datasets.SIZES[self.problem][1]
        return 2 if self.problem == "diffusion_reaction_2d" else 1

    @property
    def n_outputs(self) -> int:
        """m, the network's outputs: a data set's, else 1."""
        return datasets.SIZES[self.problem][2] if self.problem in datasets.DATASETS else 1

    @property
    def n_nodes(self) -> int:
        """Q, the nodes (or a data set's training samples, about) the loss sums over."""
        if self.problem in datasets.DATASETS:
            return self.n_train or int(datasets.SIZES[self.problem][0] * (1.0 - self.test_fraction))
        return self.n_points ** self.dim

    @property
    def batch_size(self) -> int:
        """Seeds per vmapped batch: never more than there are seeds."""
        return min(self.seed_batch, self.n_seeds)

    @property
    def loss_scale(self) -> float:
        """The loss of the zero function, about c Q A_f² / 2^D: A_f is the amplitude of what is fitted (A for
        regression; A (D (kπ)² − c') for a PINN) and c Q the loss reduction's weight times the node count
        (1 for ``mean``, Q for ``sum``, halved for the ``half_`` ones)."""
        n_nodes = self.n_nodes
        weight_sum = (1.0 if self.loss_reduction.endswith("mean") else n_nodes) * (
            0.5 if self.loss_reduction.startswith("half") else 1.0)
        if self.problem in datasets.DATASETS:  # one-hot or standardised targets: mean ||y_q||² = 1
            return weight_sum
        if self.problem == "regression":
            return weight_sum * self.target_amplitude ** 2 / 2
        reaction = 1.0 if self.problem == "diffusion_reaction_2d" else 0.0
        source = self.target_amplitude * (self.dim * (self.target_wavenumber * math.pi) ** 2 - reaction)
        return weight_sum * source ** 2 / 2 ** self.dim


def require(ok: bool, field: str, value: Any, want: str) -> None:
    if not ok:
        raise ValueError(f"config field {field}={value!r} is out of range: use {want}")


INT_LIMIT = 2 ** 31 - 1  # integer fields are counts, steps and sizes: int32 in the compiled loops


def _check_type(field: str, value: Any, annotation: str, large: bool = False) -> None:
    """The field's type, and what every field of that type must satisfy: finite numbers, and integers within int32
    (``large``: within int64)."""
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
    numbers = value if annotation.startswith("tuple[") and annotation != "tuple[str, ...]" else (
        (value,) if annotation in ("int", "float") else ())
    if not all(math.isfinite(v) for v in numbers):
        raise ValueError(f"config field {field}={value!r} is not finite: use finite numbers")
    limit = 2 ** 62 if large else INT_LIMIT
    if annotation in ("int", "tuple[int, ...]") and not all(abs(v) <= limit for v in numbers):
        raise ValueError(f"config field {field}={value!r} is out of range: use integers of magnitude ≤ {limit}")


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


def override(config: ConfigBase, assignments: Iterable[str]) -> ConfigBase:
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


def load_config(path_or_name: str, smoke: bool = False) -> ConfigBase:
    """Load ``get_config(smoke)`` from a config file path, or by name from ``configs/``.

    Args:
      path_or_name: ``configs/mlp_tanh.py`` or ``mlp_tanh``.
      smoke: ask the config for its shrunk-down variant.
    """
    path = Path(path_or_name)
    if not path.suffix:  # a name, or a path written without its .py
        path = Path(f"{path_or_name}.py") if Path(f"{path_or_name}.py").is_file() else CONFIGS_DIR / f"{path_or_name}.py"
    if not path.is_file():
        available = sorted(p.stem for p in CONFIGS_DIR.glob("*.py"))
        raise ValueError(f"config {path_or_name!r} not found; give a path or one of {available}")
    try:
        spec = importlib.util.spec_from_file_location(f"jaxnewton_config_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not hasattr(module, "get_config"):
            raise ValueError(f"{path} defines no get_config(smoke=False)")
        config = module.get_config(smoke=smoke)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") if str(path) not in str(error) else error
    except Exception as error:  # the config file is the user's code: any error there is bad input
        raise ValueError(f"{path} failed: {type(error).__name__}: {error}") from error
    if not isinstance(config, ConfigBase):
        raise ValueError(f"{path}: get_config must return a config dataclass (a jaxnewton.engine.config.ConfigBase), "
                         f"not a {type(config).__name__}")
    return config


class BasedConfig(ConfigBase):
    """A study config built on the seed-sweep config its ``base`` field names: its hash covers the base's."""

    def depends_on(self) -> dict[str, Any]:
        return {"base_hash": load_config(self.base).hash()}

    @staticmethod
    def require_builds(field: str, what: str, build: Callable[[], Any]) -> None:
        """Build a config the study derives (a cell, a width) now: a bad one fails on loading, not an hour in, with
        a ValueError naming ``field`` and ``what``."""
        try:
            build()
        except ValueError as error:
            raise ValueError(f"config field {field}: {what}: {error}") from None


def base_config(config: ConfigBase) -> Config:
    """The seed-sweep config ``config.base`` names, checked to be one (the phase map and mechanism build on it)."""
    base = load_config(config.base)
    require(isinstance(base, Config), "base", config.base, "the name of a seed-sweep config, e.g. base=mlp_tanh")
    return base


class Run(NamedTuple):
    """One named run: a config file, the changes made to it, and its results folder (a ``make paper`` run)."""

    folder: str  # results/<folder>
    config: str  # configs/<config>.py
    expected_s: float  # wall time of the run on the 2-core CPU VM (make paper's ETA prior)
    changes: Mapping[str, Any] = {}  # fields changed from the config file (e.g. the larger sweep's n_seeds)
    quick: Mapping[str, Any] = {}  # further changes for make paper-quick
    quick_s: float = 0.0  # wall time of the quick run on the 2-core CPU VM

    def prior_s(self, quick: bool) -> float:
        return self.quick_s if quick else self.expected_s

    def config_of(self, quick: bool = False) -> ConfigBase:
        """The validated config this run runs (with its quick changes when ``quick``)."""
        changes = {**self.changes, **(self.quick if quick else {})}
        return override(load_config(self.config), [f"{k}={_text(v)}" for k, v in changes.items()])


def _text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
