"""Test settings: float64 everywhere and strict dtype promotion (no silent up/down-casts)."""

import atexit
import os
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

# One XLA compilation cache per test session, shared by the pytest-xdist workers and empty at its start: the
# tests build the same computations (an E3 loop, a diagnosis, a path finder) in many tests from fresh
# closures, and XLA compiles each identical program once instead of once per test and worker. The first
# process to import this file (the controller) creates the folder and removes it at exit; the workers it
# starts inherit its path through the environment. Nothing persists between sessions.
if "JAXNEWTON_TEST_XLA_CACHE" not in os.environ:
    os.environ["JAXNEWTON_TEST_XLA_CACHE"] = tempfile.mkdtemp(prefix="jaxnewton-test-xla-cache-")
    atexit.register(shutil.rmtree, os.environ["JAXNEWTON_TEST_XLA_CACHE"], ignore_errors=True)
jax.config.update("jax_compilation_cache_dir", os.environ["JAXNEWTON_TEST_XLA_CACHE"])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


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
