"""Your own flax model through jaxnewton: does damped Newton go trivial on it?

A small flax nnx network fits a 2-D target v(x, y) = sin(πx) sin(2πy) on an 8 × 8 grid; damped Newton (the paper's
η = ε = 5e-2) runs from 64 seeds at once; the outcome table is printed and the Hessian spectra saved.

Run:  python examples/own_model.py [--out DIR] [--smoke]      (about a minute on 2 CPU cores; --smoke: seconds)
"""

import argparse
from pathlib import Path

import jax.numpy as jnp
import numpy as np
from flax import nnx

import jaxnewton as jn


class Net(nnx.Module):
    """2-8-8-1 tanh; the read-out ``out`` has no bias, as in the paper's networks (a bias would be found too)."""

    def __init__(self, rngs: nnx.Rngs):
        self.hidden1 = nnx.Linear(2, 8, rngs=rngs, param_dtype=jnp.float64)
        self.hidden2 = nnx.Linear(8, 8, rngs=rngs, param_dtype=jnp.float64)
        self.out = nnx.Linear(8, 1, use_bias=False, rngs=rngs, param_dtype=jnp.float64)

    def __call__(self, x):
        return self.out(jnp.tanh(self.hidden2(jnp.tanh(self.hidden1(x)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("."), help="where spectrum.png goes")
    parser.add_argument("--smoke", action="store_true", help="4 seeds, 20 steps")
    args = parser.parse_args()
    grid = np.linspace(0.0, 1.0, 8)
    x = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1).reshape(-1, 2)
    v = np.sin(np.pi * x[:, 0]) * np.sin(2 * np.pi * x[:, 1])
    problem = jn.regression(Net, x, v)  # the class is the factory: seed s draws Net(rngs=nnx.Rngs(key_s))
    result = jn.sweep(problem, n_seeds=4 if args.smoke else 64, max_steps=20 if args.smoke else 500, eta=0.05,
                      eps=0.05, progress=not args.smoke)
    print(result.table())
    args.out.mkdir(parents=True, exist_ok=True)
    result.plot_spectrum(args.out / "spectrum.png")
    print(f"Hessian spectra → {args.out / 'spectrum.png'}")


if __name__ == "__main__":
    main()
