"""Real data sets for least-squares problems, from installed packages only (scikit-learn's bundled sets: nothing is
downloaded).

Each data set has a fixed, stratified train/test split (``split_seed``) and, where asked, a fixed stratified
subset of the training split (``n_train``): the exact-Hessian step costs about Q·m·P² a seed-step, so a
training set of Q samples is a budget. ``DATASETS`` registers them:

- ``digits``: the 1 797 bundled 8 × 8 digits, pixels / 16 (each input in [0, 1]), one-hot targets (m = 10);
  stratified by class.
- ``diabetes``: the 442 diabetes patients' 10 raw features and their disease progression (m = 1), both
  standardised with the training split's mean and standard deviation; stratified by the target's quintile.

A data set is a least-squares problem as E3 is: L(θ) = (1/Q) Σ_q ||N(x_q) − y_q||² (``loss_reduction="mean"``), so
the trivial point N ≡ 0 has L = (1/Q) Σ_q ||y_q||² (1 for one-hot targets, 1 for a standardised one).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np


class RealData(NamedTuple):
    """A fixed split: ``x_train_NxD``, ``y_train_NxM`` (``y_train_N`` for m = 1), the test split the same way,
    and ``description``: what was done to the raw data, for a summary."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    description: dict


QUANTILE_BINS = 5  # the diabetes split is stratified by the target's quintile


def _split(x: np.ndarray, y: np.ndarray, strata: np.ndarray, test_fraction: float, n_train: int, split_seed: int):
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(np.arange(len(x)), test_size=test_fraction, stratify=strata,
                                   random_state=split_seed)
    if n_train and n_train < len(train):
        train, _ = train_test_split(train, train_size=n_train, stratify=strata[train], random_state=split_seed)
    return np.sort(train), np.sort(test)


def digits(test_fraction: float, n_train: int, split_seed: int) -> RealData:
    """scikit-learn's bundled digits: pixels / 16, one-hot targets, stratified by class."""
    from sklearn.datasets import load_digits

    x, labels = load_digits(return_X_y=True)
    train, test = _split(x, labels, labels, test_fraction, n_train, split_seed)
    y = np.eye(10)[labels]
    return RealData(x[train] / 16.0, y[train], x[test] / 16.0, y[test], {
        "source": "sklearn.datasets.load_digits (bundled)", "inputs": "pixels / 16, in [0, 1]",
        "targets": "one-hot, m = 10", "stratified_by": "class"})


def diabetes(test_fraction: float, n_train: int, split_seed: int) -> RealData:
    """scikit-learn's bundled diabetes data: inputs and target standardised with the training split's statistics."""
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True, scaled=False)
    edges = np.quantile(y, np.linspace(0, 1, QUANTILE_BINS + 1)[1:-1])
    train, test = _split(x, y, np.digitize(y, edges), test_fraction, n_train, split_seed)
    x_mean, x_std = x[train].mean(0), x[train].std(0)
    y_mean, y_std = y[train].mean(), y[train].std()
    return RealData((x[train] - x_mean) / x_std, (y[train] - y_mean) / y_std, (x[test] - x_mean) / x_std,
                    (y[test] - y_mean) / y_std, {
                        "source": "sklearn.datasets.load_diabetes(scaled=False) (bundled)",
                        "inputs": "standardised with the training split's mean and standard deviation",
                        "targets": "disease progression, standardised the same way, m = 1",
                        "stratified_by": f"the target's quantile ({QUANTILE_BINS} bins)"})


DATASETS: dict[str, Callable[[float, int, int], RealData]] = {"digits": digits, "diabetes": diabetes}
SIZES = {"digits": (1797, 64, 10), "diabetes": (442, 10, 1)}  # samples, inputs D, outputs m


def load(name: str, test_fraction: float = 0.25, n_train: int = 0, split_seed: int = 0) -> RealData:
    """The data set ``name`` (``DATASETS``) split as the module docstring says; ``n_train`` = 0: the whole training
    split."""
    if name not in DATASETS:
        raise ValueError(f"data set {name!r} is unknown; use one of {list(DATASETS)}")
    data = DATASETS[name](test_fraction, n_train, split_seed)
    description = {**data.description, "n_train": len(data.x_train), "n_test": len(data.x_test),
                   "test_fraction": test_fraction, "split_seed": split_seed,
                   "train_subset": f"a stratified subset of {n_train} of the training split" if n_train else "all"}
    return data._replace(description=description)
