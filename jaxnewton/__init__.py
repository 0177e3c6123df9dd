"""jaxnewton: what exact-Hessian Newton converges to on neural-network regression.

Importing the package turns on float64 (``jax_enable_x64``): Hessians, solves and
eigenvalues are curvature computations and float32 is where they break.
"""

import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"
