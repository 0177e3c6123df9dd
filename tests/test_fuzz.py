"""Fuzzed ``--set`` overrides of every config type: each fails with one line, or gives a config that runs.

A seeded generator draws a config (its smoke variant), one or two fields and a value from a pool of the
awkward (0, negatives, ±1e999, nan, 1e-300, 1e300, huge integers, empty and wrong strings, tuples). The fast
test checks every draw: a one-line ValueError, or a valid config that hashes and serialises to strict JSON.
The slow test runs the first valid draws of the cheap config types end to end through the command line.
"""

import collections
import dataclasses
import json
import random

import pytest

from jaxnewton.cli import main
from jaxnewton.engine.config import CONFIGS_DIR, load_config, override
from jaxnewton.engine.io import strict_json

CONFIGS = sorted(p.stem for p in CONFIGS_DIR.glob("*.py"))
VALUES = ["0", "1", "-1", "2", "3", "0.5", "-0.5", "1e-300", "1e300", "1e999", "-1e999", "nan", "inf", "", "abc",
          "1,2", "(1, 2)", "[0]", "True", "None", "2**40", "4294967297", "10000000000", "1e-12", "none", "tanh",
          "newton", "0,0", "-3,4", "'x'", "1e5", "mlp_tanh", "circle"]
TRIALS = 600
RUN_CONFIGS = ("circle", "saddles", "paths_toy", "random_hessians", "index_loss", "mlp_tanh")  # each runs in seconds


def draws(seed: int, trials: int):
    """(config name, assignments, config or the ValueError's message) for each draw."""
    rng = random.Random(seed)
    smoke = {name: load_config(name, smoke=True) for name in CONFIGS}
    for _ in range(trials):
        name = rng.choice(CONFIGS)
        fields = [f.name for f in dataclasses.fields(smoke[name])]
        assignments = [f"{rng.choice(fields)}={rng.choice(VALUES)}" for _ in range(rng.randint(1, 2))]
        try:
            yield name, assignments, override(smoke[name], assignments)
        except ValueError as error:
            yield name, assignments, str(error)


def test_every_fuzzed_override_fails_in_one_line_or_validates():
    outcome = collections.Counter()
    for name, assignments, result in draws(0, TRIALS):  # any exception other than ValueError fails the test
        if isinstance(result, str):
            assert result and "\n" not in result, (name, assignments, result)
            outcome["refused"] += 1
        else:
            json.dumps(strict_json(result.to_dict()), allow_nan=False)
            assert len(result.hash()) == 16
            outcome["valid"] += 1
    assert outcome["refused"] > TRIALS / 2 and outcome["valid"] > 20, outcome


@pytest.mark.slow
def test_valid_fuzzed_overrides_run_their_smoke_variant(tmp_path, capsys):
    chosen = {}
    for name, assignments, result in draws(1, 3000):
        if name in RUN_CONFIGS and not isinstance(result, str) and name not in chosen:
            chosen[name] = assignments
    assert set(chosen) == set(RUN_CONFIGS)
    for name, assignments in chosen.items():
        args = ["run", name, "--smoke", "--out", str(tmp_path / name)] + [a for x in assignments for a in ("--set", x)]
        status = main(args)
        err = capsys.readouterr().err.strip()
        # index_loss reads other runs and the name field renames nothing on disk: either may be refused in one line
        assert status == 0 or (status == 2 and "\n" not in err and "Traceback" not in err), (args, status, err)
