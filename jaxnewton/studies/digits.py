"""The companion paper's SGD-vs-quasi-Newton study, offline, on scikit-learn's 8×8 digits (``make digits-study``).

Yu & Morozov (2026) train a bias-free MLP on MNIST with L-BFGS-GSS and with mini-batch SGD from the same
75 starts, keep the best 48 by training loss, and compare the solution sets: train and test loss (their
Table I), barrier heights of FourierPathFinder paths between ~300 random pairs of a set, the spread
|θ − centroid|, and a kernel-PCA map. Their "test" sets are the same runs early-stopped on test loss.
MNIST cannot be downloaded here, so the data are the 1 797 bundled 8×8 digits (64 inputs scaled to
[0, 1], 10 classes), split once into train and test sets, and the network is 64-h-h-10, tanh, no biases,
mean cross-entropy.

Four solution sets: ``<optimizer>_train`` (the end of each run) and ``<optimizer>_test`` (each run's
iterate of lowest test loss among those recorded), for optimizer ∈ {lbfgs_gss, sgd}. Each stage (the two
trainings, every chunk of pairs) is checkpointed, so an interrupted study resumes where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxnewton.version import __version__
from jaxnewton.core.models import ACTIVATIONS, make_mlp_classifier
from jaxnewton.engine.config import ConfigBase, Run, require
from jaxnewton.engine import preempt
from jaxnewton.engine.io import (Log, Progress, checkpoint_dir, read_checked_npz, write_checked_npz, write_csv,
                                 write_npz, write_summary)
from jaxnewton.engine.loop import STATUS, make_loop
from jaxnewton.engine.sweep import map_rows
from jaxnewton.optim.quasi_newton import lbfgs_gss
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.tools.kpca import kernel_pca
from jaxnewton.tools.paths import make_path_finder, random_pairs, require_path_settings, settings_of
from jaxnewton.tools.symmetry import canonical_flat


@dataclass(frozen=True)
class DigitsStudyConfig(ConfigBase):
    """The companion paper's SGD-vs-L-BFGS-GSS study on scikit-learn's 8×8 digits (``studies.digits``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      hidden: h of the 64-h-h-10 network (tanh, no biases).
      activation: the hidden activation (``core.models.ACTIVATIONS``).
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
      n_modes, n_points, lam, path_learning_rate, path_steps, path_objective, path_noise, path_keep_best:
        FourierPathFinder (``tools.paths``).
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
    path_objective: str = "f"
    path_noise: float = 0.0
    path_keep_best: int = 0

    def validate(self) -> None:
        require(self.hidden >= 1, "hidden", self.hidden, "a width ≥ 1, e.g. hidden=16")
        require(self.activation in ACTIVATIONS, "activation", self.activation, f"one of {sorted(ACTIVATIONS)}")
        require(0.0 < self.test_fraction < 1.0, "test_fraction", self.test_fraction, "a fraction in (0, 1)")
        require(self.n_starts <= 10_000, "n_starts", self.n_starts, "at most 10 000 starts (trained together)")
        require(2 <= self.n_keep <= self.n_starts, "n_keep", self.n_keep,
                 f"2 … n_starts = {self.n_starts} solutions (the paper keeps 48 of 75)")
        require(self.memory >= 1 and self.gss_evals >= 2, "memory", (self.memory, self.gss_evals),
                 "memory ≥ 1 and gss_evals ≥ 2")
        require(self.lbfgs_tol > 0.0, "lbfgs_tol", self.lbfgs_tol, "a gradient-norm tolerance > 0")
        require(self.lbfgs_max_steps >= 1, "lbfgs_max_steps", self.lbfgs_max_steps, "an integer ≥ 1")
        require(1 <= self.record_every <= self.lbfgs_max_steps, "record_every", self.record_every,
                 "an integer in [1, lbfgs_max_steps]")
        require(self.sgd_learning_rate > 0.0, "sgd_learning_rate", self.sgd_learning_rate, "a step > 0")
        require(self.sgd_batch >= 1, "sgd_batch", self.sgd_batch, "a batch size ≥ 1 (the paper: 64)")
        require(self.sgd_epochs >= 1, "sgd_epochs", self.sgd_epochs, "an integer ≥ 1")
        require(self.n_pairs >= 1 and self.pair_batch >= 1, "n_pairs", (self.n_pairs, self.pair_batch),
                 "n_pairs ≥ 1 and pair_batch ≥ 1")
        require(self.lam >= 0.0, "lam", self.lam, "a penalty weight ≥ 0 (the paper: 1e-4)")
        require_path_settings(self)


CONFIG = DigitsStudyConfig


OPTIMIZERS = ("lbfgs_gss", "sgd")
SETS = tuple(f"{o}_{kind}" for o in OPTIMIZERS for kind in ("train", "test"))
PAPER_FINDINGS = {  # the companion paper's claims, each checked by ``findings``
    "sgd_barriers_lower": "SGD solutions are separated by lower barriers (H = max L on the path, the paper's)",
    "sgd_barriers_lower_above": "the same, with the barrier measured above the higher endpoint",
    "quasi_newton_deeper": "quasi-Newton reaches lower training loss",
    "quasi_newton_wider": "quasi-Newton solutions spread wider in parameter space",
    "quasi_newton_generalises_worse": "quasi-Newton solutions have higher test loss",
}


class Data(NamedTuple):
    """The fixed split: ``x_train_NxD``, ``y_train_N`` (int), ``x_test_TxD``, ``y_test_T``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_data(test_fraction: float, split_seed: int) -> Data:
    """scikit-learn's bundled digits, pixels / 16, a stratified train/test split fixed by ``split_seed``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x / 16.0, y, test_size=test_fraction, stratify=y,
                                                        random_state=split_seed)
    return Data(x_train, y_train.astype(np.int32), x_test, y_test.astype(np.int32))


def cross_entropy(apply: Callable, unravel: Callable, x_NxD: jax.Array, y_N: jax.Array) -> Callable:
    """L(θ) = mean_n [logsumexp(z_n) − z_n[y_n]] with logits z = apply(unravel(θ), x)."""

    def loss(theta: jax.Array) -> jax.Array:
        logits = apply(unravel(theta), x_NxD)
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, y_N[:, None], axis=1)[:, 0])

    return loss


class Setup(NamedTuple):
    """Everything the stages share: the data, the network and its losses."""

    config: DigitsStudyConfig
    data: Data
    unravel: Callable
    n_params: int
    train_loss: Callable[[jax.Array], jax.Array]
    test_loss: Callable[[jax.Array], jax.Array]
    batch_loss: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]  # (θ, x_BxD, y_B) ↦ L on a batch
    accuracy: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]  # (θ, x, y) ↦ fraction correct
    theta0: np.ndarray  # theta0_SxP, the shared starts


def setup(config: DigitsStudyConfig) -> Setup:
    data = load_data(config.test_fraction, config.split_seed)
    model = make_mlp_classifier(data.x_train.shape[1], (config.hidden, config.hidden), 10, config.activation)
    template, unravel = ravel_pytree(model.init(jax.random.key(0)))
    keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(config.seed), s))(jnp.arange(config.n_starts))
    theta0 = np.asarray(jax.vmap(lambda k: ravel_pytree(model.init(k))[0])(keys))

    def batch_loss(theta, x, y):
        return cross_entropy(model.apply, unravel, x, y)(theta)

    def accuracy(theta, x, y):
        return jnp.mean(jnp.argmax(model.apply(unravel(theta), x), axis=1).astype(y.dtype) == y)

    return Setup(config, data, unravel, template.size,
                 cross_entropy(model.apply, unravel, jnp.asarray(data.x_train), jnp.asarray(data.y_train)),
                 cross_entropy(model.apply, unravel, jnp.asarray(data.x_test), jnp.asarray(data.y_test)),
                 batch_loss, accuracy, theta0)


class Training(NamedTuple):
    """One optimiser's runs (a leading start axis S; R records per run).

    Attributes:
      final: ``theta_SxP`` at the end of each run.
      early: ``theta_SxP`` at each run's record of lowest test loss (early stopping).
      early_record: ``int_S``, which record that was.
      record_step: ``int_R``, the optimiser step (L-BFGS-GSS iteration, or SGD step) of each record.
      train_history, test_history: ``loss_SxR``, train and test loss at each record (NaN once a run stopped).
      status: ``int_S``, ``engine.loop.STATUS`` of L-BFGS-GSS runs; SGD runs are always ``max_steps``.
    """

    final: np.ndarray
    early: np.ndarray
    early_record: np.ndarray
    record_step: np.ndarray
    train_history: np.ndarray
    test_history: np.ndarray
    status: np.ndarray


def _early_stopping(thetas: list[np.ndarray], test_SxR: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    best = np.nanargmin(test_SxR, axis=1)
    stacked = np.stack(thetas, axis=1)  # S×R×P
    return stacked[np.arange(stacked.shape[0]), best], best


def train_lbfgs_gss(study: Setup, log: Log) -> Training:
    """Full-batch L-BFGS-GSS from every start (one vmap over the starts), in segments of ``record_every`` iterations.

    A run stops at ||∇L||₂ ≤ ``lbfgs_tol`` or after ``lbfgs_max_steps`` iterations; its test loss is
    recorded after every segment (and at the start).
    """
    c = study.config
    loop = make_loop(study.train_loss, lbfgs_gss(study.train_loss, c.memory, c.gss_evals), c.lbfgs_tol,
                     c.lbfgs_max_steps, c.lbfgs_max_steps, 1e12)
    advance = jax.jit(jax.vmap(loop.advance, in_axes=(0, None)))
    measure = jax.jit(jax.vmap(lambda t: (study.train_loss(t), study.test_loss(t))))
    state = jax.jit(jax.vmap(loop.init))(jnp.asarray(study.theta0))
    thetas, train, test, steps = [], [], [], []
    for until in range(0, c.lbfgs_max_steps + 1, c.record_every):
        state = advance(state, jnp.asarray(until, jnp.int32))
        live = np.asarray(state.steps) >= until  # a run that stopped earlier repeats its last iterate: NaN there
        tr, te = (np.where(live | (until == 0), np.asarray(v), np.nan) for v in measure(state.theta))
        thetas.append(np.asarray(state.theta))
        train.append(tr), test.append(te), steps.append(until)
        if until % (10 * c.record_every) == 0 and np.any(live):
            log(f"  lbfgs_gss: iteration {until}/{c.lbfgs_max_steps}, running {int(np.sum(state.status == 0))}, "
                f"median train loss {np.median(tr[live]):.3g}, test {np.median(te[live]):.3g}")
        if not np.any(np.asarray(state.status) == STATUS.index("running")):
            break
    test_SxR = np.stack(test, axis=1)
    early, best = _early_stopping(thetas, test_SxR)
    return Training(np.asarray(state.theta), early, best, np.array(steps), np.stack(train, axis=1), test_SxR,
                    np.asarray(state.status))


def train_sgd(study: Setup, log: Log) -> Training:
    """Mini-batch SGD θ ← θ − α ∇L_B(θ) from every start: each epoch a fresh shuffle (per start) in
    batches of ``sgd_batch`` (the remainder is dropped); test loss recorded after every epoch."""
    c = study.config
    x, y = jnp.asarray(study.data.x_train), jnp.asarray(study.data.y_train)
    n_batches = x.shape[0] // c.sgd_batch
    grad = jax.grad(study.batch_loss)

    def epoch(theta, key):
        order = jax.random.permutation(key, x.shape[0])[: n_batches * c.sgd_batch].reshape(n_batches, c.sgd_batch)

        def step(theta, idx):
            return theta - c.sgd_learning_rate * grad(theta, x[idx], y[idx]), None

        return jax.lax.scan(step, theta, order)[0]

    run_epoch = jax.jit(jax.vmap(epoch))
    measure = jax.jit(jax.vmap(lambda t: (study.train_loss(t), study.test_loss(t))))
    root = jax.random.fold_in(jax.random.key(c.seed), 1_000_003)  # the shuffles' stream, apart from the starts'
    start_keys = jax.vmap(lambda s: jax.random.fold_in(root, s))(jnp.arange(c.n_starts))
    theta = jnp.asarray(study.theta0)
    thetas, train, test = [np.asarray(theta)], *[[np.asarray(v)] for v in measure(theta)]
    for e in range(1, c.sgd_epochs + 1):
        theta = run_epoch(theta, jax.vmap(lambda k: jax.random.fold_in(k, e))(start_keys))
        tr, te = measure(theta)
        thetas.append(np.asarray(theta)), train.append(np.asarray(tr)), test.append(np.asarray(te))
        if e % max(1, c.sgd_epochs // 10) == 0:
            log(f"  sgd: epoch {e}/{c.sgd_epochs}, median train loss {np.median(tr):.3g}, test {np.median(te):.3g}")
    test_SxR = np.stack(test, axis=1)
    early, best = _early_stopping(thetas, test_SxR)
    finite = np.isfinite(np.asarray(train[-1]))
    status = np.where(finite, STATUS.index("max_steps"), STATUS.index("nonfinite")).astype(np.int32)
    return Training(np.asarray(theta), early, best, np.arange(c.sgd_epochs + 1) * n_batches,
                    np.stack(train, axis=1), test_SxR, status)


def keep_best(losses_S: np.ndarray, n_keep: int) -> np.ndarray:
    """Indices of the ``n_keep`` lowest finite losses (ties by start index), ascending loss."""
    order = np.argsort(np.where(np.isfinite(losses_S), losses_S, np.inf), kind="stable")
    return np.sort(order[:n_keep][np.isfinite(losses_S[order[:n_keep]])])


def spread(thetas_KxP: np.ndarray) -> np.ndarray:
    """|θ_k − centroid| for each member of a set."""
    return np.linalg.norm(thetas_KxP - thetas_KxP.mean(axis=0, keepdims=True), axis=1)


def make_find(study: Setup) -> Callable:
    """FourierPathFinder on the training loss with the study's settings, mapped over pairs across the devices
    (``map_rows``); returns host arrays."""
    return map_rows(make_path_finder(study.train_loss, settings_of(study.config)))


def set_barriers(study: Setup, find: Callable, thetas_KxP: np.ndarray, pairs: np.ndarray, checkpoint: Path,
                 label: str, log: Log) -> dict[str, np.ndarray]:
    """FourierPathFinder (``make_find``) between the given pairs of a set, ``pair_batch`` pairs per chunk.

    Returns straight and optimised heights (absolute and above the higher endpoint) per pair; every
    chunk is saved under ``checkpoint`` and reused on a rerun.
    """
    c = study.config
    chunks = []
    for start in range(0, len(pairs), c.pair_batch):
        path = checkpoint / f"barriers_{label}_{start}.npz"
        done = read_checked_npz(path, log)
        if done is not None:
            chunks.append(done)
            continue
        chunk = pairs[start: start + c.pair_batch]
        # The last chunk is padded with copies of its last pair: every chunk has one shape, one compile.
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], c.pair_batch - len(chunk), axis=0)])
        t0 = time.perf_counter()
        result = find(jnp.asarray(thetas_KxP[padded[:, 0]]), jnp.asarray(thetas_KxP[padded[:, 1]]))
        arrays = {k: np.asarray(v)[: len(chunk)] for k, v in (
            ("straight", result.straight.height), ("straight_above", result.straight.above),
            ("height", result.optimised.height), ("above", result.optimised.above),
            ("objective_start", result.objective[:, 0]), ("objective_end", result.objective[:, -1]))}
        write_checked_npz(path, arrays)
        preempt.checkpoint_reached(f"{label}, pairs {start + len(chunk)}/{len(pairs)}")
        chunks.append(arrays)
        log(f"  {label}: pairs {start + len(chunk)}/{len(pairs)}, median optimised barrier "
            f"{np.median(arrays['height']):.3g}, {time.perf_counter() - t0:.1f} s")
    return {k: np.concatenate([ch[k] for ch in chunks]) for k in chunks[0]}


def _training(study: Setup, name: str, checkpoint: Path, log: Log) -> Training:
    path = checkpoint / f"train_{name}.npz"
    done = read_checked_npz(path, log)
    if done is not None:
        log(f"  {name}: reusing the finished training in {path}")
        return Training(**done)
    t0 = time.perf_counter()
    training = (train_lbfgs_gss if name == "lbfgs_gss" else train_sgd)(study, log)
    write_checked_npz(path, training._asdict())
    preempt.checkpoint_reached(f"{name}'s training")
    log(f"  {name}: trained {study.config.n_starts} starts in {time.perf_counter() - t0:.1f} s")
    return training


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values))


def findings(table: dict) -> dict:
    """Each of the companion paper's claims (``PAPER_FINDINGS``), compared like for like (train with train
    sets, early-stopped with early-stopped): whether it holds here and the ratio quasi-Newton / SGD."""
    out = {}
    for kind in ("train", "test"):
        qn, sgd = table[f"lbfgs_gss_{kind}"], table[f"sgd_{kind}"]
        for key, column, qn_higher in (("sgd_barriers_lower", "mean_barrier", True),
                                       ("sgd_barriers_lower_above", "mean_barrier_above", True),
                                       ("quasi_newton_deeper", "mean_train_loss", False),
                                       ("quasi_newton_wider", "spread", True),
                                       ("quasi_newton_generalises_worse", "mean_test_loss", True)):
            ratio = qn[column] / sgd[column] if sgd[column] != 0 else None  # SGD's value 0: no ratio
            holds = qn[column] > sgd[column] if qn_higher else qn[column] < sgd[column]
            out.setdefault(key, {})[kind] = {"holds": bool(holds), "quasi_newton": qn[column], "sgd": sgd[column],
                                             "ratio": ratio}
    return out


def run(config: DigitsStudyConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Train, select, measure barriers, spread and kPCA of the four solution sets; write the results contract.

    Writes ``solutions.csv`` (one row per kept solution), ``barriers.csv`` (one row per
    pair), ``arrays.npz`` (``<set>_theta``, ``<set>_pairs``, barrier arrays, kPCA coordinates, histories),
    ``summary.json`` (``table``, ``findings``) and ``digits_study.png``.
    """
    out = Path(out_dir)
    start_time = time.perf_counter()
    checkpoint = checkpoint_dir(out, config.hash())
    study = setup(config)
    log(f"[{config.name}] digits: {len(study.data.y_train)} train / {len(study.data.y_test)} test, MLP "
        f"64-{config.hidden}-{config.hidden}-10 ({study.n_params} parameters), {config.n_starts} starts")
    trainings = {name: _training(study, name, checkpoint, log) for name in OPTIMIZERS}
    measure = jax.jit(jax.vmap(lambda t: (study.train_loss(t), study.test_loss(t),
                                          study.accuracy(t, study.data.x_test, study.data.y_test))))
    canon = jax.jit(jax.vmap(canonical_flat(study.unravel, odd=config.activation == "tanh")))
    find = make_find(study)  # one compile for every set's chunks
    arrays, solution_rows, barrier_rows, table, sets = {}, [], [], {}, {}
    for s, name in enumerate(SETS):
        optimizer, kind = name.rsplit("_", 1)
        training = trainings[optimizer]
        thetas = training.final if kind == "train" else training.early
        train, test, accuracy = (np.asarray(v) for v in measure(jnp.asarray(thetas)))
        kept = keep_best(train if kind == "train" else test, config.n_keep)
        pairs = random_pairs(jax.random.fold_in(jax.random.key(config.seed), 7919 + s), len(kept), config.n_pairs)
        barriers = set_barriers(study, find, thetas[kept], pairs, checkpoint, name, log)
        if progress:
            progress((s + 1) / len(SETS), f"{s + 1}/{len(SETS)} solution sets done")
        distances = spread(thetas[kept])
        canonical = np.asarray(canon(jnp.asarray(thetas[kept])))
        sets[name] = {"theta": thetas[kept], "canonical": canonical}
        table[name] = {"n": int(len(kept)), "mean_train_loss": _mean(train[kept]), "mean_test_loss": _mean(test[kept]),
                       "mean_test_accuracy": _mean(accuracy[kept]), "mean_barrier": _mean(barriers["height"]),
                       "mean_barrier_above": _mean(barriers["above"]),
                       "mean_straight_barrier": _mean(barriers["straight"]), "spread": _mean(distances),
                       "spread_canonical": _mean(spread(canonical)), "n_pairs": int(len(pairs))}
        arrays.update({f"{name}_theta": thetas[kept], f"{name}_start": kept, f"{name}_pairs": pairs,
                       f"{name}_spread": distances, **{f"{name}_{k}": v for k, v in barriers.items()}})
        solution_rows += [{"set": name, "start": int(k), "train_loss": float(train[k]), "test_loss": float(test[k]),
                           "test_accuracy": float(accuracy[k]), "distance_to_centroid": float(d)}
                          for k, d in zip(kept, distances)]
        barrier_rows += [{"set": name, "a": int(kept[i]), "b": int(kept[j]),
                          **{k: float(v[p]) for k, v in barriers.items()}} for p, (i, j) in enumerate(pairs)]
        log(f"[{config.name}] {name}: train {table[name]['mean_train_loss']:.3g}, test "
            f"{table[name]['mean_test_loss']:.3g}, barrier {table[name]['mean_barrier']:.3g} (straight "
            f"{table[name]['mean_straight_barrier']:.3g}), spread {table[name]['spread']:.3g}")
    every = np.concatenate([sets[n]["theta"] for n in SETS])
    arrays["kpca_raw"] = kernel_pca(every, 2).coords
    arrays["kpca_canonical"] = kernel_pca(np.concatenate([sets[n]["canonical"] for n in SETS]), 2).coords
    arrays["kpca_set"] = np.concatenate([np.full(len(sets[n]["theta"]), i) for i, n in enumerate(SETS)])
    for name, training in trainings.items():
        arrays.update({f"{name}_train_history": training.train_history, f"{name}_test_history": training.test_history,
                       f"{name}_record_step": training.record_step, f"{name}_status": training.status})
    write_npz(out / "arrays.npz", arrays)
    write_csv(out / "solutions.csv", solution_rows, list(solution_rows[0]))
    write_csv(out / "barriers.csv", barrier_rows, list(barrier_rows[0]))
    lbfgs_status = trainings["lbfgs_gss"].status
    summary = {
        "experiment": config.name, "config_hash": config.hash(), "version": __version__,
        "n_params": study.n_params, "n_train": int(len(study.data.y_train)), "n_test": int(len(study.data.y_test)),
        "table": table, "findings": findings(table), "paper_findings": PAPER_FINDINGS,
        "lbfgs_gss_status": {k: int(np.sum(lbfgs_status == i)) for i, k in enumerate(STATUS) if k != "running"},
        "sgd_nonfinite": int(np.sum(trainings["sgd"].status == STATUS.index("nonfinite"))),
        "definitions": {
            "sets": "<optimizer>_train: the end of each run, best n_keep by training loss; <optimizer>_test: each "
                    "run's recorded iterate of lowest test loss, best n_keep by test loss",
            "mean_barrier": "mean over pairs of H = max_m L_train(θ(t_m)) on the optimised path (the paper's H)",
            "mean_barrier_above": "mean of H − max(L(θᵃ), L(θᵇ))",
            "spread": "mean |θ − centroid| of the set's raw weights; spread_canonical: of their canonical forms",
        },
    }
    save(digits_figure(summary, arrays, SETS), out / "digits_study.png")
    summary["wall_seconds"] = time.perf_counter() - start_time
    write_summary(out, summary)
    return summary


# ----------------------------------------------------------------------------- figures

SET_STYLES = {"lbfgs_gss_train": ("tab:red", "-"), "lbfgs_gss_test": ("tab:orange", "--"),
              "sgd_train": ("tab:blue", "-"), "sgd_test": ("tab:cyan", "--")}


def _histograms(ax: plt.Axes, arrays: dict, sets: tuple[str, ...], key: str, log_x: bool) -> None:
    values = {name: arrays[f"{name}_{key}"] for name in sets}
    finite = np.concatenate([v[np.isfinite(v)] for v in values.values()])
    low, high = max(finite.min(), 1e-12) if log_x else finite.min(), finite.max()
    bins = np.geomspace(low, high, 30) if log_x and high > low else np.linspace(low, high, 30)
    for name, v in values.items():
        colour, style = SET_STYLES[name]
        ax.hist(np.clip(v, low, high), bins=bins, histtype="step", color=colour, ls=style, lw=1.5,
                label=f"{name} (mean {np.mean(v):.3g})")
    if log_x:
        ax.set_xscale("log")
    ax.legend(fontsize=7)


def digits_figure(summary: dict, arrays: dict, sets: tuple[str, ...]) -> plt.Figure:
    """Barrier and spread histograms, kernel-PCA maps (raw and canonical weights) and the training curves."""
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    _histograms(axes[0, 0], arrays, sets, "height", log_x=True)
    axes[0, 0].set(xlabel="barrier H = max_m L_train on the optimised path", ylabel="pairs",
                   title=f"barriers ({summary['table'][sets[0]]['n_pairs']} pairs per set)")
    _histograms(axes[0, 1], arrays, sets, "straight", log_x=True)
    axes[0, 1].set(xlabel="max L_train on the straight line", ylabel="pairs", title="straight-line barriers")
    _histograms(axes[0, 2], arrays, sets, "spread", log_x=False)
    axes[0, 2].set(xlabel="|θ − centroid of its set|", ylabel="solutions", title="spread in parameter space")
    for ax, key, title in ((axes[1, 0], "kpca_raw", "raw weights"), (axes[1, 1], "kpca_canonical",
                                                                     "canonical weights (symmetries removed)")):
        coords = arrays[key]
        for i, name in enumerate(sets):
            colour, style = SET_STYLES[name]
            mine = arrays["kpca_set"] == i
            ax.scatter(coords[mine, 0], coords[mine, 1], s=14, color=colour,
                       marker="o" if style == "-" else "^", label=name, alpha=0.8)
        ax.set(xlabel="kPCA 1", ylabel="kPCA 2", title=f"kernel PCA (RBF, 2σ² = P = {summary['n_params']}), {title}")
        ax.legend(fontsize=7)
    ax = axes[1, 2]
    for name, colour in (("lbfgs_gss", "tab:red"), ("sgd", "tab:blue")):
        steps = arrays[f"{name}_record_step"]
        for key, style in (("train", "-"), ("test", "--")):
            history = arrays[f"{name}_{key}_history"]
            finite = np.isfinite(history)
            seen = finite.any(axis=0)  # records after every run had stopped hold no value
            median = np.nanmedian(np.where(finite, history, np.nan)[:, seen], axis=0)
            ax.plot(np.maximum(steps[seen], 1), median, color=colour, ls=style, label=f"{name}, {key} loss (median)")
    ax.set(xscale="log", yscale="log", xlabel="optimiser step (L-BFGS-GSS iteration / SGD mini-batch step)",
           ylabel="cross-entropy", title="training curves")
    ax.legend(fontsize=7)
    fig.suptitle(f"Digits 8×8, MLP 64-h-h-10 without biases ({summary['n_params']} parameters): L-BFGS-GSS vs "
                 "mini-batch SGD from the same starts")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- report rows

def _times(ratio: float | None) -> str:
    """"×0.59", or why there is no ratio (a finding's SGD value was 0)."""
    return "(no ratio: SGD's value is 0)" if ratio is None else f"×{ratio:.2g}"


def digits_cells(summaries: list[Summary]) -> Cells:
    """Cells of the digits study: the Table I analogue, and each of the companion paper's claims.

    Verdict: "reproduced" when every claim holds on both the end-of-run and the early-stopped sets (the
    barrier as the paper's H = max L), "partly" when some do, "differs" when none does.
    """
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    table = summary["table"]

    def line(name: str) -> str:
        r = table[name]
        return (f"{name}: train {r['mean_train_loss']:.2g}, test {r['mean_test_loss']:.2g}, barrier "
                f"{r['mean_barrier']:.2g} ({r['mean_barrier_above']:.2g} above the ends), spread {r['spread']:.3g}")

    setting = "<br>".join(line(n) for n in table if n.endswith("_train"))
    large = "early-stopped sets:<br>" + "<br>".join(line(n) for n in table if n.endswith("_test"))
    findings = summary["findings"]
    # The verdict uses the paper's barrier H = max L; the barrier above the ends is shown beside it.
    holds = {k: all(v["holds"] for v in f.values()) for k, f in findings.items() if k != "sgd_barriers_lower_above"}
    words = {"sgd_barriers_lower": "SGD barriers lower", "sgd_barriers_lower_above": "SGD barriers above the ends "
             "lower", "quasi_newton_deeper": "QN deeper",
             "quasi_newton_wider": "QN wider", "quasi_newton_generalises_worse": "QN generalises worse"}
    ratios = "; ".join(f"{words[k]} {_times(f['train']['ratio'])}" for k, f in findings.items())
    short = {"sgd_barriers_lower": "barrier", "quasi_newton_deeper": "train loss", "quasi_newton_wider": "spread",
             "quasi_newton_generalises_worse": "test loss"}
    headline = "QN / SGD, end of run: " + ", ".join(f"{short[k]} {_times(findings[k]['train']['ratio'])}" for k in short
                                                    if k in findings)
    if all(holds.values()):
        return Cells(setting, large, f"reproduced (8×8 digits, not MNIST; QN / SGD, end-of-run sets: {ratios})",
                     headline)
    kinds = {"train": "end-of-run sets", "test": "early-stopped sets"}
    failed = "; ".join(f"{words[k]} fails for the " + " and ".join(kinds[kind] for kind, v in findings[k].items()
                                                                  if not v["holds"])
                       for k, ok in holds.items() if not ok)
    verdict = "partly" if any(holds.values()) else "differs"
    return Cells(setting, large, f"{verdict}: {failed} (QN / SGD, end-of-run sets: {ratios})", headline)


DIGITS_CAPTION = ("L-BFGS-GSS and mini-batch SGD on the 8×8 digits from the same 75 starts, the best 48 of each "
                  "set: barrier histograms (optimised and straight), spread about each set's centroid, kernel PCA "
                  "of the raw and canonical weights, and the median training curves.",
                  "The companion paper's claims: quasi-Newton barriers higher, its minima deeper, spread wider and "
                  "generalising worse.")


ROWS = (
    Row("DS", "digits: L-BFGS-GSS vs SGD", "companion study offline: 8×8 digits, MLP 64-16-16-10 without biases, "
        "L-BFGS-GSS vs mini-batch SGD (batch 64), 75 starts, best 48",
        "SGD barriers lower; quasi-Newton deeper, wider, generalises worse", ("digits_study",), digits_cells,
        (Figure("digits_study", "digits_study.png", DIGITS_CAPTION),)),
)

RUNS = (
    Run("digits_study", "digits_study", 719, quick={"n_starts": 12, "n_keep": 8, "lbfgs_max_steps": 50,
                                                    "sgd_epochs": 10, "n_pairs": 6, "pair_batch": 6,
                                                    "n_points": 20, "path_steps": 30}, quick_s=33),
)
