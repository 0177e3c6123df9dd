"""The phase map: damped Newton on E3 over a grid of (η, ε), and over hidden width at the paper's η, ε.

Run:      make phase-map      (python -m jaxnewton run phase_map --out results/phase_map)
Runtime:  about 260 s on one core in make paper (float64, the 2-core AMD VM of 2026-11-30; docs/experiments.md).
Paper:    η = ε = 5e-2 sends 9 of 10 seeds to the trivial saddle; no other setting is reported.
"""

from jaxnewton.studies.phase_map import PhaseMapConfig


def get_config(smoke: bool = False) -> PhaseMapConfig:
    config = PhaseMapConfig(
        name="phase_map",
        base="mlp_tanh",  # E3's problem, network, initial points, tolerance and diagnostics
        etas=(0.02, 0.05, 0.1, 0.2, 0.5, 1.0),  # 1.0 is the undamped step
        epss=(1e-3, 1e-2, 5e-2, 0.2, 1.0),  # from nearly exact Newton to a step well inside the gradient's scale
        n_seeds=16,  # one CPU chunk per cell: 30 cells × 16 seeds = 480 runs in one batch
        # E3 runs to 10 000 steps; 2 000 keeps the grid at ≈ 0.5 ms × 480 × 2 000 ≈ 8 min on 2 cores at worst.
        # A run still going at the cap is reported as capped, at the trivial point or elsewhere.
        max_steps=2_000,
        # Width 40 (1 760 parameters) costs 82 ms a seed-step on 2 CPU cores (16 seeds × 2 000 steps ≈ 45 min),
        # so it is left to a GPU: make phase-map ARGS="--set widths=5,10,20,40".
        widths=(5, 10, 20),
    )
    if smoke:
        return PhaseMapConfig(name="phase_map", etas=(0.05, 0.5), epss=(0.05, 1.0), n_seeds=2, max_steps=20,
                              widths=(3,))
    return config
