"""The optimisation loop as pure init / step / terminate, for one seed; vmap it for many.

Every seed carries its own step count and an integer status, so a batch of seeds
needs no host round-trip to know who finished and nothing is ever raised from
compiled code. ``advance`` runs ``step`` in one ``lax.while_loop`` up to a step bound;
calling it repeatedly with growing bounds gives progress reports between segments
without changing any seed's trajectory (a segment boundary is not a step).

Status codes are ``STATUS`` indices; ``STATUS_MESSAGES`` says what each means.

A seed may carry a *context*: constants of its own problem that are not optimised, such
as the Fourier-feature matrix B drawn from its key (E5). ``make_context_loop`` builds the
loss and solver from ``state.context`` inside the traced step, so a batch of seeds with
different problems is still one vmap; ``make_loop`` is the usual case of no context (``()``).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxnewton.optim.base import LossFn, Solver

RUNNING, CONVERGED, MAX_STEPS, NONFINITE = 0, 1, 2, 3
STATUS = ("running", "converged", "max_steps", "nonfinite")
TOL_ON = ("grad", "step")  # what the tolerance bounds: ||∇L(θ)||₂, or the last step's ||Δθ||₂
STATUS_MESSAGES = {
    "running": "still iterating",
    "converged": "met the tolerance: ||∇L||₂ ≤ tol (or, with tol_on=step, ||Δθ||₂ ≤ tol)",
    "max_steps": "reached the iteration cap without meeting the tolerance; not a stationary point",
    "nonfinite": "a step produced NaN/Inf or a loss blow-up; the last finite iterate is kept",
}


class RunState(NamedTuple):
    """One seed's loop state (a leading seed axis is added by vmap).

    Attributes:
      theta: θ_P, the current iterate (the last finite one after a blow-up).
      loss: L(θ), float64 scalar.
      grad: ∇L(θ), ``grad_P``.
      grad_norm: ||∇L(θ)||₂.
      loss0: L(θ₀), the reference for the blow-up test.
      steps: int32, iterations performed (including a rejected non-finite one).
      status: int32, an index of ``STATUS``.
      solver_state: the solver's own pytree.
      history_loss: ``loss_H``, L every ``history_stride`` steps (NaN where not reached).
      history_grad_norm: ``grad_norm_H``, likewise ||∇L||₂.
      context: the seed's problem constants (a pytree; ``()`` when the problem is shared).
    """

    theta: jax.Array
    loss: jax.Array
    grad: jax.Array
    grad_norm: jax.Array
    loss0: jax.Array
    steps: jax.Array
    status: jax.Array
    solver_state: Any
    history_loss: jax.Array
    history_grad_norm: jax.Array
    context: Any = ()


class Loop(NamedTuple):
    """``init(theta0, context=()) -> RunState``; ``step``; ``terminate``; ``advance(state, until)``."""

    init: Callable[..., RunState]
    step: Callable[[RunState], RunState]
    terminate: Callable[[RunState], jax.Array]
    advance: Callable[[RunState, jax.Array], RunState]
    n_history: int


def history_length(max_steps: int, history_stride: int) -> int:
    """Entries in the history buffer: steps 0, stride, 2·stride, … ≤ max_steps."""
    return max_steps // history_stride + 1


def make_loop(
    loss: LossFn,
    solver: Solver,
    tol: float,
    max_steps: int,
    history_stride: int,
    divergence_factor: float,
    tol_on: str = "grad",
) -> Loop:
    """Build the per-seed loop for ``solver`` on ``loss``.

    Args:
      loss: L(θ) of a flat vector.
      solver: the update rule.
      tol: converged when ||∇L||₂ ≤ tol (``tol_on="grad"``) or ||θ_new − θ||₂ ≤ tol (``tol_on="step"``).
      max_steps: the iteration cap.
      history_stride: record L and ||∇L|| every this many steps.
      divergence_factor: L > divergence_factor · max(L(θ₀), tiny) is a blow-up.
      tol_on: what ``tol`` bounds, a ``TOL_ON`` entry.

    Returns:
      A ``Loop`` of pure functions (none jitted: jit once, at the top).
    """
    return make_context_loop(lambda context: (loss, solver), tol, max_steps, history_stride, divergence_factor, tol_on)


def make_context_loop(
    build: Callable[[Any], tuple[LossFn, Solver]],
    tol: float,
    max_steps: int,
    history_stride: int,
    divergence_factor: float,
    tol_on: str = "grad",
) -> Loop:
    """``make_loop`` for seeds whose loss and solver depend on their own context.

    Args:
      build: ``build(context) -> (loss, solver)``, called inside the traced init and step.
      tol, max_steps, history_stride, divergence_factor, tol_on: as in ``make_loop``.
    """
    if tol_on not in TOL_ON:
        raise ValueError(f"tol_on={tol_on!r} is unknown; use one of {list(TOL_ON)}")
    n_history = history_length(max_steps, history_stride)

    def classify(steps, measure, finite):
        """``measure`` is what the tolerance bounds (``tol_on``); +inf where nothing is measured yet."""
        return jnp.where(
            ~finite,
            NONFINITE,
            jnp.where(measure <= tol, CONVERGED, jnp.where(steps >= max_steps, MAX_STEPS, RUNNING)),
        ).astype(jnp.int32)

    def init(theta0: jax.Array, context: Any = ()) -> RunState:
        loss, solver = build(context)
        loss0, grad = jax.value_and_grad(loss)(theta0)
        grad_norm = jnp.linalg.norm(grad)
        finite = jnp.isfinite(loss0) & jnp.isfinite(grad_norm)
        nan_history = jnp.full((n_history,), jnp.nan, loss0.dtype)
        return RunState(
            theta=theta0,
            loss=loss0,
            grad=grad,
            grad_norm=grad_norm,
            loss0=loss0,
            steps=jnp.zeros((), jnp.int32),
            # A step's length is not known before the first step.
            status=classify(0, grad_norm if tol_on == "grad" else jnp.inf, finite),
            solver_state=solver.init(theta0),
            history_loss=nan_history.at[0].set(loss0),
            history_grad_norm=nan_history.at[0].set(grad_norm),
            context=context,
        )

    def terminate(state: RunState) -> jax.Array:
        return state.status != RUNNING

    def step(state: RunState) -> RunState:
        done = terminate(state)
        loss, solver = build(state.context)
        theta, solver_state = solver.update(state.theta, state.grad, state.solver_state, done)
        loss_value, grad = jax.value_and_grad(loss)(theta)
        grad_norm = jnp.linalg.norm(grad)
        blow_up = loss_value > divergence_factor * jnp.maximum(state.loss0, jnp.finfo(loss_value.dtype).tiny)
        finite = jnp.all(jnp.isfinite(theta)) & jnp.isfinite(loss_value) & jnp.isfinite(grad_norm) & ~blow_up
        steps = state.steps + 1
        measure = grad_norm if tol_on == "grad" else jnp.linalg.norm(theta - state.theta)
        status = classify(steps, measure, finite)
        record = steps % history_stride == 0
        slot = jnp.minimum(steps // history_stride, n_history - 1)

        def keep_finite(new, old):
            return jnp.where(finite, new, old)

        new = RunState(
            theta=keep_finite(theta, state.theta),
            loss=keep_finite(loss_value, state.loss),
            grad=keep_finite(grad, state.grad),
            grad_norm=keep_finite(grad_norm, state.grad_norm),
            loss0=state.loss0,
            steps=steps,
            status=status,
            solver_state=jax.tree.map(keep_finite, solver_state, state.solver_state),
            history_loss=state.history_loss.at[slot].set(
                jnp.where(record & finite, loss_value, state.history_loss[slot])),
            history_grad_norm=state.history_grad_norm.at[slot].set(
                jnp.where(record & finite, grad_norm, state.history_grad_norm[slot])),
            context=state.context,
        )
        # A finished seed does not move: every field keeps its value.
        return jax.tree.map(lambda n, o: jnp.where(done, o, n), new, state)

    def advance(state: RunState, until: jax.Array) -> RunState:
        """Step until terminated or ``steps == until`` (a traced bound: no recompiles)."""
        return jax.lax.while_loop(lambda s: ~terminate(s) & (s.steps < until), step, state)

    return Loop(init=init, step=step, terminate=terminate, advance=advance, n_history=n_history)
