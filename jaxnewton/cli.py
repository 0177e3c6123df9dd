"""Command line: ``python -m jaxnewton run CONFIG [--seeds N] [--out DIR] [--set field=value ...]``,
and ``python -m jaxnewton compare CONFIG --optimizers newton,adam [same options]``.

CONFIG's type picks the runner: a ``Config`` is a seed sweep (``experiment.run_experiment``),
a ``LandscapeConfig`` a grid of starts (``stationary.run_landscape``), a ``SaddlesConfig``
the toy-saddle trajectories (``saddles.run_saddles``), a ``RandomHessiansConfig`` the
random-matrix counts (``random_hessians.run_random_hessians``), an ``IndexLossConfig`` the
index-against-loss collection (``index_loss.run_index_loss``), a ``PhaseMapConfig`` damped Newton
over (η, ε) and widths (``phase_map.run_phase_map``), a ``MechanismConfig`` the curvature
record of quasi-Newton runs (``mechanism.run_mechanism``), a ``PathsToyConfig`` FourierPathFinder on
the 2-D toy (``toy_paths.run_paths_toy``), a ``DigitsStudyConfig`` the companion paper's digits study
(``digits.run_digits_study``) and a ``LandscapeStudyConfig`` the path tools on a comparison's end
points (``landscape_study.run_landscape_study``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from jaxnewton.config import (SOLVERS, AnyConfig, Config, DigitsStudyConfig, IndexLossConfig, LandscapeConfig,
                              LandscapeStudyConfig, MechanismConfig, PathsToyConfig, PhaseMapConfig,
                              RandomHessiansConfig, load_config, override)
from jaxnewton.results import Log, Progress


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=int, help="number of seeds (overrides the config's n_seeds)")
    parser.add_argument("--out", type=Path, help="results folder (default results/<config name>)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a config field, e.g. --set eta=0.1 --set widths=20,20 (repeatable)")
    parser.add_argument("--smoke", action="store_true", help="the config's shrunk-down variant (few seeds, few steps)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jaxnewton", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="sweep the seeds of one experiment config and write its results folder")
    run.add_argument("config", help="a config file (configs/mlp_tanh.py) or its name (mlp_tanh)")
    _add_common(run)
    compare = commands.add_parser("compare", help="run several optimisers from the same initial points "
                                                  "(jaxnewton.compare) and write comparison.csv")
    compare.add_argument("config", help="a seed-sweep config file or name (e.g. pinn2d)")
    compare.add_argument("--optimizers", required=True,
                         help=f"comma-separated values of solver, e.g. newton,sfn,bfgs (known: {', '.join(SOLVERS)})")
    _add_common(compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        overrides = args.overrides + ([f"optimizers={args.optimizers}"] if args.command == "compare" else [])
        config = override(load_config(args.config, smoke=args.smoke), overrides)
        if args.command == "compare" and not isinstance(config, Config):
            raise ValueError(f"{args.config} is a {type(config).__name__}: compare needs a seed sweep (a Config)")
        if args.seeds is not None:
            if not isinstance(config, (Config, PhaseMapConfig, MechanismConfig)):
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
    if isinstance(config, Config) and config.optimizers:
        from jaxnewton.compare import run_compare
        return run_compare(config, out, log, progress)
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
    if isinstance(config, PhaseMapConfig):
        from jaxnewton.phase_map import run_phase_map
        return run_phase_map(config, out, log, progress)
    if isinstance(config, MechanismConfig):
        from jaxnewton.mechanism import run_mechanism
        return run_mechanism(config, out, log, progress)
    if isinstance(config, DigitsStudyConfig):
        from jaxnewton.digits import run_digits_study
        return run_digits_study(config, out, log, progress)
    if isinstance(config, LandscapeStudyConfig):
        from jaxnewton.landscape_study import run_landscape_study
        return run_landscape_study(config, out, log)
    if isinstance(config, PathsToyConfig):
        from jaxnewton.toy_paths import run_paths_toy
        return run_paths_toy(config, out, log)
    from jaxnewton.saddles import run_saddles
    return run_saddles(config, out, log)
