"""Command line: ``python -m jaxnewton run CONFIG [--seeds N] [--out DIR] [--set field=value ...]``.

CONFIG's type picks the runner: a ``Config`` is a seed sweep (``experiment.run_experiment``),
a ``LandscapeConfig`` a grid of starts (``stationary.run_landscape``), a ``SaddlesConfig``
the toy-saddle trajectories (``saddles.run_saddles``), a ``RandomHessiansConfig`` the
random-matrix counts (``random_hessians.run_random_hessians``) and an ``IndexLossConfig`` the
index-against-loss collection (``index_loss.run_index_loss``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from jaxnewton.config import (AnyConfig, Config, IndexLossConfig, LandscapeConfig, RandomHessiansConfig, load_config,
                              override)
from jaxnewton.results import Log, Progress


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jaxnewton", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="sweep the seeds of one experiment config and write its results folder")
    run.add_argument("config", help="a config file (configs/mlp_tanh.py) or its name (mlp_tanh)")
    run.add_argument("--seeds", type=int, help="number of seeds (overrides the config's n_seeds)")
    run.add_argument("--out", type=Path, help="results folder (default results/<config name>)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                     help="override a config field, e.g. --set eta=0.1 --set widths=20,20 (repeatable)")
    run.add_argument("--smoke", action="store_true", help="the config's shrunk-down variant (few seeds, few steps)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = override(load_config(args.config, smoke=args.smoke), args.overrides)
        if args.seeds is not None:
            if not isinstance(config, Config):
                raise ValueError(f"{args.config} is a {type(config).__name__}, which has no seeds: drop --seeds"
                                 + (" (set the grid of starts with --set grid=N)"
                                    if isinstance(config, LandscapeConfig) else ""))
            config = dataclasses.replace(config, n_seeds=args.seeds)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    run_config(config, args.out or Path("results") / config.name)
    return 0


def run_config(config: AnyConfig, out: Path, log: Log = print, progress: Progress | None = None) -> dict:
    """Run any validated config with the runner its type needs; returns its summary.

    ``progress(fraction, text)`` is called between segments by the runners that have segments.
    """
    # Imported here: nothing compiles before a config has been validated.
    if isinstance(config, Config):
        from jaxnewton.experiment import run_experiment
        return run_experiment(config, out, log, progress)
    if isinstance(config, LandscapeConfig):
        from jaxnewton.stationary import run_landscape
        return run_landscape(config, out, log, progress)
    if isinstance(config, RandomHessiansConfig):
        from jaxnewton.random_hessians import run_random_hessians
        return run_random_hessians(config, out, log, progress)
    if isinstance(config, IndexLossConfig):
        from jaxnewton.index_loss import run_index_loss
        return run_index_loss(config, out, log)
    from jaxnewton.saddles import run_saddles
    return run_saddles(config, out, log)
