"""jaxnewton: what exact-Hessian Newton converges to on neural-network regression.

Importing the package turns on float64 (``jax_enable_x64``): Hessians, solves and
eigenvalues are curvature computations and float32 is where they break (a config's
``dtype="float32"`` runs its steps in float32 on purpose, and is diagnosed in float64).
It also runs the CPU LAPACK (SciPy's OpenBLAS) on one thread, so results do not depend on the
machine's core count (``core.linalg.use_one_lapack_thread``).

The Python API (``jaxnewton.api``): ``regression`` (your model, flax included, as a problem),
``sweep`` (any registered optimiser over seeds, every end point diagnosed), ``run`` (a config file, as
the CLI runs it).
"""

import jax

jax.config.update("jax_enable_x64", True)

from jaxnewton.core.linalg import use_one_lapack_thread  # noqa: E402

use_one_lapack_thread()

from jaxnewton.version import __version__  # noqa: E402
from jaxnewton.api import SweepResult, regression, run, sweep  # noqa: E402

__all__ = ["SweepResult", "__version__", "regression", "run", "sweep"]
