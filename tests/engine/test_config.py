"""Configs: validation, overrides, loading, hashing."""

import dataclasses

import pytest

from jaxnewton.cli import main
from jaxnewton.engine.config import Config, load_config, override


def test_e3_config_has_the_paper_settings():
    config = load_config("configs/mlp_tanh.py")
    assert (config.eta, config.eps, config.tol, config.n_seeds) == (5e-2, 5e-2, 1e-5, 10)
    assert config.widths == (10, 10) and config.activation == "tanh" and config.n_points == 100


@pytest.mark.parametrize("assignment, field", [
    ("eta=1.5", "eta"),
    ("eta=0", "eta"),
    ("eps=-0.1", "eps"),
    ("n_seeds=0", "n_seeds"),
    ("max_steps=2.5", "max_steps"),
    ("widths=(10, -1)", "widths"),
    ("widths=abc", "widths"),
    ("activation=relu6", "activation"),
    ("tol=0", "tol"),
    ("trivial_output_ratio=2", "trivial_output_ratio"),
])
def test_bad_value_raises_naming_the_field(assignment, field):
    with pytest.raises(ValueError, match=field):
        override(load_config("mlp_tanh"), [assignment])


def test_typo_in_field_name_suggests_the_right_one():
    with pytest.raises(ValueError, match=r"no field 'etaa'.*Did you mean 'eta'"):
        override(load_config("mlp_tanh"), ["etaa=0.1"])


def test_override_parses_types():
    config = override(load_config("mlp_tanh"), ["eta=0.1", "widths=20,20", "max_steps=50", "bias_init=zeros"])
    assert (config.eta, config.widths, config.max_steps, config.bias_init) == (0.1, (20, 20), 50, "zeros")
    assert override(config, ["eps=1"]).eps == 1.0


def test_config_is_frozen_and_hash_tracks_content():
    config = load_config("mlp_tanh")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.eta = 0.2
    assert config.hash() == load_config("mlp_tanh").hash()
    assert config.hash() != override(config, ["eta=0.2"]).hash()


def test_unknown_config_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="mlp_tanh"):
        load_config("no_such_experiment")


def test_direct_construction_validates():
    with pytest.raises(ValueError, match="solver"):
        Config(name="x", solver="lbfgs-gss")  # the name is lbfgs_gss


@pytest.mark.slow
def test_landscape_configs_load_and_validate(capsys, tmp_path):
    torus = load_config("torus")
    assert (torus.R, torus.r, torus.e, torus.target) == (2.0, 1.0, 0.6, (0.0, 0.0, 0.5))
    assert override(torus, ["target=0,0,1"]).target == (0.0, 0.0, 1.0)  # ints become floats
    with pytest.raises(ValueError, match="evolute"):
        override(torus, ["e=0.5", "target=0,0,0"])
    with pytest.raises(ValueError, match="R = r = e = 0"):
        override(load_config("circle"), ["R=2"])
    with pytest.raises(ValueError, match="2 numbers"):
        override(load_config("circle"), ["target=1,2,3"])
    with pytest.raises(ValueError, match="numbers only"):
        override(load_config("circle"), ["target=(1, 'a')"])
    with pytest.raises(ValueError, match=r"LandscapeConfig has no field 'gird'.*'grid'"):
        override(load_config("circle"), ["gird=10"])
    with pytest.raises(ValueError, match="start_y"):
        override(load_config("saddles"), ["start_y=0"])
    assert main(["run", "circle", "--seeds", "3", "--out", str(tmp_path / "c")]) == 2
    assert "no seeds" in capsys.readouterr().err and not (tmp_path / "c").exists()


def test_network_config_errors_say_what_to_change():
    with pytest.raises(ValueError, match="target_wavenumber"):
        Config(name="p", problem="poisson_1d", target_wavenumber=1.5)
    with pytest.raises(ValueError, match="input_features"):
        Config(name="p", problem="poisson_1d", input_features="fourier")
    with pytest.raises(ValueError, match="optimizers"):
        Config(name="p", optimizers=("newton", "newton"))
    with pytest.raises(ValueError, match="fourier_sigma2"):
        Config(name="p", fourier_sigma2=0.0)
    with pytest.raises(ValueError, match=r"fourier_scale='2π' is out of range: use one of \['2pi', '1'\]"):
        Config(name="p", fourier_scale="2π")
    with pytest.raises(ValueError, match=r"spectrum='slq' is out of range: use one of \['dense', 'lanczos'\]"):
        Config(name="p", spectrum="slq")
