"""Command line: ``python -m jaxnewton run CONFIG [--seeds N] [--out DIR] [--set field=value ...]``,
and ``python -m jaxnewton compare CONFIG --optimizers newton,adam [same options]`` (``--optimizers all``:
every registered optimiser). The config's type picks the study that runs it (``studies.registry``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from jaxnewton.engine.config import Config, load_config, override
from jaxnewton.optim import registry
from jaxnewton.studies.registry import run_config


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=int, help="number of seeds (overrides the config's n_seeds)")
    parser.add_argument("--out", type=Path, help="results folder (default results/<config name>)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a config field, e.g. --set eta=0.1 --set widths=20,20 (repeatable)")
    parser.add_argument("--smoke", action="store_true", help="the config's shrunk-down variant (few seeds, few steps)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jaxnewton", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one experiment config and write its results folder")
    run.add_argument("config", help="a config file (configs/mlp_tanh.py) or its name (mlp_tanh)")
    _add_common(run)
    compare = commands.add_parser("compare", help="run several optimisers from the same initial points "
                                                  "(studies.compare) and write comparison.csv")
    compare.add_argument("config", help="a seed-sweep config file or name (e.g. pinn2d)")
    compare.add_argument("--optimizers", required=True,
                         help=f"comma-separated optimiser names, or all (known: {', '.join(registry.names())})")
    _add_common(compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config, smoke=args.smoke)
        if args.command == "compare" and not isinstance(config, Config):
            raise ValueError(f"{args.config} is a {type(config).__name__}: compare needs a seed-sweep config "
                             "(a Config, e.g. mlp_tanh or pinn2d)")
        overrides = args.overrides + ([f"optimizers={args.optimizers}"] if args.command == "compare" else [])
        config = override(config, overrides)
        if args.command == "compare" and not config.optimizers:
            raise ValueError("--optimizers names no optimiser: give some, e.g. --optimizers newton,adam, or all")
        if args.seeds is not None:
            if "n_seeds" not in {f.name for f in dataclasses.fields(config)}:
                raise ValueError(f"{args.config} is a {type(config).__name__}, which has no seeds: drop --seeds"
                                 + (" (set the grid of starts with --set grid=N)"
                                    if "grid" in {f.name for f in dataclasses.fields(config)} else ""))
            config = dataclasses.replace(config, n_seeds=args.seeds)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    run_config(config, args.out or Path("results") / config.name)
    return 0
