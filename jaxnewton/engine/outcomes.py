"""Where a seed ended: the one classification every study, figure and report row uses.

A seed's outcome follows from its loop status (``engine.loop.STATUS``), whether its end point meets the
trivial rule (``core.diagnostics``) and the Hessian label there:

- ``trivial``: converged (||∇L||₂ ≤ tol) to a trivial point;
- ``non-trivial <label>``: converged elsewhere, ``<label>`` one of ``core.diagnostics.LABELS``;
- ``max_steps at the trivial point``: reached the cap at a point that meets the trivial rule (not a
  stationary point to the tolerance, so never counted as trivial);
- ``max_steps``: reached the cap elsewhere;
- ``nonfinite``: blew up (the last finite iterate is kept).

Coarser views are maps over these outcomes, never a second classification: ``KIND`` (the colour
classes of the figures: trivial / non-trivial / max_steps / nonfinite) and ``AT_TRIVIAL`` (ended at
the trivial point, converged or capped).
"""

from __future__ import annotations

import numpy as np

from jaxnewton.core.diagnostics import LABELS
from jaxnewton.engine.loop import STATUS

TRIVIAL = "trivial"
CAPPED_TRIVIAL = "max_steps at the trivial point"
OUTCOMES = (TRIVIAL, *(f"non-trivial {label}" for label in LABELS), CAPPED_TRIVIAL, "max_steps", "nonfinite")
KIND = {TRIVIAL: "trivial", **{f"non-trivial {label}": "non-trivial" for label in LABELS},
        CAPPED_TRIVIAL: "max_steps", "max_steps": "max_steps", "nonfinite": "nonfinite"}
AT_TRIVIAL = frozenset({TRIVIAL, CAPPED_TRIVIAL})


def classify(status, trivial, label) -> np.ndarray:
    """The ``OUTCOMES`` entry of every seed.

    Args:
      status: ``STATUS`` indices (any shape), or their names.
      trivial: bools of the same shape: the end point meets the trivial rule.
      label: ``LABELS`` indices, or their names.

    Returns:
      A str array of the same shape (a 0-d array for scalars: ``str(classify(...))``).
    """
    status, label = np.asarray(status), np.asarray(label)
    names = np.asarray(STATUS)[status] if status.dtype.kind in "iu" else status.astype(str)
    labels = np.asarray(LABELS)[label] if label.dtype.kind in "iu" else label.astype(str)
    trivial = np.asarray(trivial, bool)
    non_trivial = np.char.add("non-trivial ", labels.astype(str))
    converged = np.where(trivial, TRIVIAL, non_trivial)
    capped = np.where(trivial, CAPPED_TRIVIAL, "max_steps")
    return np.where(names == "converged", converged, np.where(names == "max_steps", capped, "nonfinite")).astype(str)


def outcome(status: str, trivial: bool, label: str) -> str:
    """One seed's outcome (``classify`` of a single seed)."""
    return str(classify(status, trivial, label))


def kind(outcome_: str) -> str:
    """The colour class of an outcome: trivial, non-trivial, max_steps or nonfinite."""
    return KIND[outcome_]


def counts(outcomes) -> dict[str, int]:
    """How many seeds had each outcome, in ``OUTCOMES`` order, omitting zeros."""
    outcomes = list(outcomes)
    return {o: outcomes.count(o) for o in OUTCOMES if o in outcomes}
