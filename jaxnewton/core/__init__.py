"""Pure mathematics: no I/O, no jit, nothing above this layer is imported.

- ``models``: networks as ``init(key) -> params`` and ``basis(params, x)``, with the read-out split θᴵ / θᴼ.
- ``problems``: regression and strong-form PINN objectives over a flat θ (``Problem``).
- ``curvature``: the exact structured Hessian of an MLP least-squares loss.
- ``linalg``: LU solves and symmetric eigendecompositions that stay safe under ``vmap``.
- ``diagnostics``: Hessian spectrum, Morse label and the trivial-solution measures of an end point.
- ``stats``: the Wilson interval of a proportion.
"""
