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
from pathlib import Path
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxnewton import __version__
from jaxnewton.config import DigitsStudyConfig
from jaxnewton.kpca import kernel_pca
from jaxnewton.models import make_mlp_classifier
from jaxnewton.paths import make_path_finder, random_pairs, settings_of
from jaxnewton.results import (Log, Progress, checkpoint_dir, load_npz, write_config, write_csv, write_npz,
                               write_summary)
from jaxnewton.runner import STATUS, make_loop
from jaxnewton.solvers import lbfgs_gss
from jaxnewton.symmetry import canonical_flat

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


class Study(NamedTuple):
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


def build(config: DigitsStudyConfig) -> Study:
    data = load_data(config.test_fraction, config.split_seed)
    model = make_mlp_classifier(data.x_train.shape[1], (config.hidden, config.hidden), 10, config.activation)
    template, unravel = ravel_pytree(model.init(jax.random.key(0)))
    keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(config.seed), s))(jnp.arange(config.n_starts))
    theta0 = np.asarray(jax.vmap(lambda k: ravel_pytree(model.init(k))[0])(keys))

    def batch_loss(theta, x, y):
        return cross_entropy(model.apply, unravel, x, y)(theta)

    def accuracy(theta, x, y):
        return jnp.mean(jnp.argmax(model.apply(unravel(theta), x), axis=1).astype(y.dtype) == y)

    return Study(config, data, unravel, template.size,
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
      status: ``int_S``, ``runner.STATUS`` of L-BFGS-GSS runs; SGD runs are always ``max_steps``.
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


def train_lbfgs_gss(study: Study, log: Log) -> Training:
    """Full-batch L-BFGS-GSS from every start, in segments of ``record_every`` iterations.

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


def train_sgd(study: Study, log: Log) -> Training:
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


def make_find(study: Study) -> Callable:
    """FourierPathFinder on the training loss with the study's settings, jitted and vmapped over pairs."""
    return jax.jit(jax.vmap(make_path_finder(study.train_loss, settings_of(study.config))))


def set_barriers(study: Study, find: Callable, thetas_KxP: np.ndarray, pairs: np.ndarray, checkpoint: Path,
                 label: str, log: Log) -> dict[str, np.ndarray]:
    """FourierPathFinder (``make_find``) between the given pairs of a set, ``pair_batch`` pairs per chunk.

    Returns straight and optimised heights (absolute and above the higher endpoint) per pair; every
    chunk is saved under ``checkpoint`` and reused on a rerun.
    """
    c = study.config
    chunks = []
    for start in range(0, len(pairs), c.pair_batch):
        path = checkpoint / f"barriers_{label}_{start}.npz"
        if path.exists():
            chunks.append(load_npz(path))
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
        write_npz(path, arrays)
        chunks.append(arrays)
        log(f"  {label}: pairs {start + len(chunk)}/{len(pairs)}, median optimised barrier "
            f"{np.median(arrays['height']):.3g}, {time.perf_counter() - t0:.1f} s")
    return {k: np.concatenate([ch[k] for ch in chunks]) for k in chunks[0]}


def _training(study: Study, name: str, checkpoint: Path, log: Log) -> Training:
    path = checkpoint / f"train_{name}.npz"
    if path.exists():
        log(f"  {name}: reusing the finished training in {path}")
        return Training(**load_npz(path))
    t0 = time.perf_counter()
    training = (train_lbfgs_gss if name == "lbfgs_gss" else train_sgd)(study, log)
    write_npz(path, training._asdict())
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
            ratio = qn[column] / sgd[column] if sgd[column] != 0 else float("inf")
            holds = qn[column] > sgd[column] if qn_higher else qn[column] < sgd[column]
            out.setdefault(key, {})[kind] = {"holds": bool(holds), "quasi_newton": qn[column], "sgd": sgd[column],
                                             "ratio": ratio}
    return out


def run_digits_study(config: DigitsStudyConfig, out_dir: Path | str, log: Log = print,
                     progress: Progress | None = None) -> dict:
    """Train, select, measure barriers, spread and kPCA of the four solution sets; write the results contract.

    Writes ``config.json``, ``solutions.csv`` (one row per kept solution), ``barriers.csv`` (one row per
    pair), ``arrays.npz`` (``<set>_theta``, ``<set>_pairs``, barrier arrays, kPCA coordinates, histories),
    ``summary.json`` (``table``, ``findings``) and ``digits_study.png``.
    """
    from jaxnewton import plots

    out = Path(out_dir)
    start_time = time.perf_counter()
    checkpoint = checkpoint_dir(out, config.hash(), log)
    write_config(out, config)
    study = build(config)
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
    plots.save(plots.digits_study(summary, arrays, SETS), out / "digits_study.png")
    summary["wall_seconds"] = time.perf_counter() - start_time
    write_summary(out, summary)
    return summary
