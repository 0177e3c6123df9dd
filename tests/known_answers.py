"""Small problems with known answers, and the loop that runs a registered optimiser on them (shared by tests).

Importable from every test module: ``tests/`` is on ``sys.path`` because ``tests/conftest.py`` lives there.
"""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton.engine.loop import make_loop
from jaxnewton.optim import registry

# Settings per optimiser for the small test problems (first-order ones need many steps on Rosenbrock).
SETTINGS = dict(eta=1.0, eps=0.0, learning_rate=1e-2, gd_learning_rate=1e-3, memory=10, gss_evals=6, trust_radius=1.0,
                cubic_sigma=1.0, linear_solver="dense", krylov_rtol=1e-10, krylov_max_iter=0)
CAPS = {"adam": 20_000, "gd": 100_000}


def random_quadratic(n=6, seed=0):
    """L(θ) = ½ θᵀAθ − bᵀθ with A symmetric positive definite: ∇²L = A, minimiser A⁻¹b."""
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    a = jnp.asarray(m @ m.T + n * np.eye(n))
    b = jnp.asarray(rng.standard_normal(n))
    return (lambda t: 0.5 * t @ a @ t - b @ t), a, b


def with_spectrum(lam, seed=0):
    """Q diag(λ) Qᵀ with Q a random orthogonal matrix: a symmetric matrix of known eigenvalues ``lam``."""
    q = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(lam), len(lam))))[0]
    return jnp.asarray(q @ np.diag(lam) @ q.T)


def quadratic(t):
    """½ (θ − c)ᵀ A (θ − c), A symmetric positive definite (eigenvalues 0.4–3.7): minimiser c = (1, −2, 0.5)."""
    a = jnp.asarray([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    d = t - jnp.asarray([1.0, -2.0, 0.5])
    return 0.5 * d @ a @ d


def rosenbrock(t):
    """(1 − x)² + 100 (y − x²)²: minimiser (1, 1), started from the standard (−1.2, 1)."""
    return (1.0 - t[0]) ** 2 + 100.0 * (t[1] - t[0] ** 2) ** 2


def saddle(t):
    """x² − y²: a non-degenerate saddle at the origin."""
    return t[0] ** 2 - t[1] ** 2


def double_well(theta):
    """(x² − 1)² + y²: minima (±1, 0) at 0, an index-1 saddle at the origin at 1."""
    x, y = theta[0], theta[1]
    return (x * x - 1.0) ** 2 + y * y


def gauss_newton_of(loss):
    """The Gauss–Newton matrix of a known least-squares loss: the quadratic's A (it is ‖A^½(θ − c)‖²/2, a linear
    least-squares problem, so G = H), Rosenbrock's 2JᵀJ of r = (1 − x, 10(y − x²))."""
    if loss is quadratic:
        return jax.hessian(quadratic)
    if loss is rosenbrock:
        def matrix(t):
            j = jax.jacfwd(lambda t: jnp.stack([1.0 - t[0], 10.0 * (t[1] - t[0] ** 2)]))(t)
            return 2.0 * j.T @ j
        return matrix
    return None


def solve(name, loss, theta0, tol=1e-9, **changes):
    """Run the registered optimiser ``name`` on ``loss`` from ``theta0`` to ||∇L|| ≤ tol (or its test cap)."""
    solver = registry.build_solver(name, loss, None, SimpleNamespace(**{**SETTINGS, **changes}), gauss_newton_of(loss))
    loop = make_loop(loss, solver, tol, CAPS.get(name, 2_000), 100, 1e8)
    return jax.jit(loop.advance)(loop.init(theta0), CAPS.get(name, 2_000))


def theta2_roots(c, R=2.0, r=1.0, h=0.5, n=20000):
    """Zeros of ∂L/∂θ₂ at fixed c(θ₁), by bisection on a dense scan (numpy)."""
    def d(t):
        return -2 * c * r * np.sin(t) * (R + r * np.cos(t)) + 2 * r * np.cos(t) * (r * np.sin(t) - h)

    grid = np.linspace(0.0, 2 * np.pi, n + 1)
    values = d(grid)
    roots = []
    for a, b, fa, fb in zip(grid[:-1], grid[1:], values[:-1], values[1:]):
        if fa == 0 or fa * fb < 0:
            for _ in range(200):
                m = 0.5 * (a + b)
                if np.sign(d(m)) == np.sign(fa):
                    a, fa = m, d(m)
                else:
                    b = m
            roots.append(0.5 * (a + b))
    return roots
