"""E7: the 2-D diffusion–reaction PINN ∇²u + u + v = 0 on [0, 1]², damped Newton against ADAM.

u = sin(πx) sin(πy) is the manufactured exact solution, so v = (2π² − 1) u; N = x(1−x)y(1−y)·MLP
imposes u = 0 on the boundary; loss ½∫(∇²N + N + v)².

Run:      make pinn2d         (python -m jaxnewton compare pinn2d --optimizers newton,adam --out results/pinn2d)
Runtime:  about 45 s on a 2-core CPU (float64, the AMD VM of 2026-11-30; docs/experiments.md).
Paper:    Newton goes to the trivial solution; ADAM solves the PDE.
"""

from jaxnewton.engine.config import Config


def get_config(smoke: bool = False) -> Config:
    config = Config(
        name="pinn2d",
        problem="diffusion_reaction_2d",
        # A 10 × 10 grid of collocation nodes (ends included, Q = 100, mean quadrature): one exact Newton step
        # costs ~32 ms a seed on 2 CPU cores, so 500 steps of 16 seeds take ~4 min. The error is measured on a
        # 37 × 37 grid (4× finer).
        n_points=10,
        loss_reduction="half_mean",  # paper: the strong-form loss ½∫(𝓛[N] + v)², the integral as the mean
        target_amplitude=1.0,
        target_wavenumber=1.0,
        widths=(10, 10),  # tanh 2-10-10-1, 150 parameters (the paper's network is not given)
        activation="tanh",
        weight_init="xavier",
        bias_init="torch_default",
        hessian="structured",  # core.curvature.make_pinn_hessian: equal to jax.hessian to 1e-15, ~8× faster
        eta=5e-2,  # E3's η and ε
        eps=5e-2,
        learning_rate=1e-2,  # ADAM (not given in the paper); optax's β₁, β₂
        optimizers=("newton", "adam"),  # the same seeds, initial points and tolerance for both
        tol=1e-5,
        max_steps=500,  # Newton's cap (unknown in the paper)
        first_order_max_steps=20_000,  # an ADAM step is ~300× cheaper; a 16-seed pilot solved all 16 (error ≤ 1e-3)
        n_seeds=16,  # unknown in the paper; 16 is one CPU chunk
        seed=0,
    )
    if smoke:
        return Config(**{**config.to_dict(), "n_seeds": 2, "max_steps": 10, "first_order_max_steps": 10,
                         "segment_steps": 5, "history_stride": 5, "n_points": 5, "widths": (4,)})
    return config
