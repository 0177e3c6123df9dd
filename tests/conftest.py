"""Test settings: float64 everywhere and strict dtype promotion (no silent up/down-casts)."""

import atexit
import shutil
import tempfile

import jax
import numpy as np
import pytest

import jaxnewton  # noqa: F401  (turns on float64)
from jaxnewton.engine.build import build, initial_points
from jaxnewton.engine.config import load_config
from jaxnewton.engine.sweep import make_batch_fns

jax.config.update("jax_numpy_dtype_promotion", "strict")

# One session-wide XLA compilation cache, empty at the start of every session: the tests build the same
# computations (an E3 loop, a diagnosis, a path finder) in many tests from fresh closures, and XLA
# compiles each identical program once instead of once per test. Nothing persists between sessions.
_CACHE = tempfile.mkdtemp(prefix="jaxnewton-test-xla-cache-")
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def e3():
    """The real E3 experiment (paper settings), built once."""
    return build(load_config("mlp_tanh"))


@pytest.fixture(scope="session")
def e3_fns(e3):
    """E3's batch functions, jitted once per session: tests that share it share its compiled shapes."""
    return make_batch_fns(e3.loop, e3.diagnose)


@pytest.fixture(scope="session")
def e3_theta0(e3):
    """θ₀ of E3's first 100 seeds, ``theta0_SxP``."""
    return np.asarray(initial_points(e3, np.arange(100)))
