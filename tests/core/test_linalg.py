"""LU solves, symmetric eigenvalues under vmap and the shifted inverse, against numpy."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton.core.linalg import lu_solve, shifted_inverse, symmetric_eigvals
from known_answers import with_spectrum


def indefinite_batch(n_batch=7, n=12, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n_batch, n, n))
    return m + np.transpose(m, (0, 2, 1)) + 0.3 * rng.standard_normal((n_batch, n, n)), rng.standard_normal((n_batch, n))


def test_vmapped_lu_solve_matches_numpy_on_indefinite_systems():
    a, b = indefinite_batch()
    x = jax.vmap(lu_solve)(jnp.asarray(a), jnp.asarray(b))
    np.testing.assert_allclose(x, np.linalg.solve(a, b[..., None])[..., 0], rtol=1e-10, atol=1e-12)


def test_vmapped_symmetric_eigvals_are_those_of_the_symmetric_part():
    a, _ = indefinite_batch()
    eig = jax.vmap(symmetric_eigvals)(jnp.asarray(a))
    expected = np.linalg.eigvalsh(0.5 * (a + np.transpose(a, (0, 2, 1))))
    np.testing.assert_allclose(eig, expected, rtol=1e-12, atol=1e-12)
    assert (expected.min(axis=1) < 0).all() and (expected.max(axis=1) > 0).all()  # really indefinite


def test_shifted_inverse_floors_the_spectrum_at_eps_or_shifts_it_by_eps():
    lam = np.array([-2.0, -0.3, 0.01, 0.5, 1.0, 4.0])
    m = with_spectrum(lam, seed=3)
    positive = np.linalg.inv(np.asarray(shifted_inverse(m, 0.1)))
    np.testing.assert_allclose(np.linalg.eigvalsh(positive), lam + 2.1, rtol=1e-12)  # τ = ε − λ_min = 2.1
    np.testing.assert_allclose(shifted_inverse(m, 0.1, positive=False), np.linalg.inv(np.asarray(m) + 0.1 * np.eye(6)),
                               rtol=1e-11)


LAPACK_BITS = ("import hashlib, jax, jax.numpy as jnp, numpy as np, jaxnewton\n"
               "a = jax.random.normal(jax.random.key(0), (2, 200, 200)); a = a + jnp.swapaxes(a, 1, 2)\n"
               "lu = jax.jit(jax.vmap(lambda m: jax.scipy.linalg.lu_factor(m)[0]))(a)\n"
               "vectors = jax.jit(jax.vmap(jnp.linalg.eigh))(a[:, :140, :140])[1]\n"
               "print(hashlib.sha256(np.asarray(lu).tobytes() + np.asarray(vectors).tobytes()).hexdigest())")


def test_lapack_results_do_not_depend_on_the_blas_thread_count():
    # OpenBLAS's threaded LU (n ≥ 150) and eigh round differently from its one-thread path; importing jaxnewton pins
    # it to one thread, so the bits are the same whatever OPENBLAS_NUM_THREADS (or the core count) says.
    import os
    import subprocess
    import sys

    digests = set()
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "JAX_PLATFORMS": "cpu"}
        out = subprocess.run([sys.executable, "-c", LAPACK_BITS], env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1
