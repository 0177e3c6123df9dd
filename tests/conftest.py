"""Test settings: float64 everywhere and strict dtype promotion (no silent up/down-casts)."""

import jax
import pytest

import jaxnewton  # noqa: F401  (turns on float64)

jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture(scope="session")
def e3():
    """The real E3 experiment (paper settings), built once."""
    from jaxnewton.config import load_config
    from jaxnewton.experiment import build

    return build(load_config("mlp_tanh"))
