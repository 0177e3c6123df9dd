"""Test settings: float64 everywhere and strict dtype promotion (no silent up/down-casts)."""

import atexit
import os
import shutil
import tempfile

# The suite is compile-bound (most of a test's time is XLA compiling a fresh program on one core), and much of a
# CPU compile is LLVM's optimisation passes. The tests build with those passes off (XLA's CPU fast-math is off at
# every level, so the arithmetic is IEEE either way, but a result can differ from the default level's in the last
# bit: contraction into FMAs, vectorised loops). So every process of a test uses the same level: set here before
# JAX starts its backend, inherited by the subprocesses the tests start. test_sharding's subprocesses alone run at
# the default level, as the suite's bitwise check of the sweep as `make paper` compiles it. Measured on the 2-core
# VM: the whole suite 583 s at the default level, 447 s at level 0.
if "--xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=0".strip()

import jax  # noqa: E402
import numpy as np
import pytest

import jaxnewton  # noqa: F401  (turns on float64)
from jaxnewton.engine.build import build, initial_points
from jaxnewton.engine.config import load_config
from jaxnewton.engine.sweep import make_batch_fns

jax.config.update("jax_numpy_dtype_promotion", "strict")

# The CLI gives JAX one CPU device per core (engine.sweep.use_every_core); under two pytest workers the cores are
# already busy, and a one-device subprocess pads a small batch to one chunk instead of one per device. The
# several-device path has its own tests (tests/engine/test_sharding.py), which set the count themselves.
os.environ.setdefault("JAXNEWTON_CPU_DEVICES", "1")

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
# The same cache for the CLI and example subprocesses the tests start (JAX reads these variables at import): a
# subprocess that runs a program a test already compiled (E3's loop on one device, say) loads it instead.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.environ["JAXNEWTON_TEST_XLA_CACHE"])
os.environ.setdefault("JAXNEWTON_XLA_CACHE", os.environ["JAXNEWTON_TEST_XLA_CACHE"])  # the CLI's (use_compilation_cache)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


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
