"""Command line: ``python -m jaxnewton run CONFIG [--seeds N] [--out DIR] [--set field=value ...] [--force]``,
and ``python -m jaxnewton compare CONFIG --optimizers newton,adam [same options]`` (``--optimizers all``:
every registered optimiser). The config's type picks the study that runs it (``studies.registry``).
``--distributed`` makes this process one of several that share a seed sweep (``engine.distributed``).

Bad input, a results folder that holds another run, and a file-system error end in one line on stderr and
exit status 2. SIGTERM or SIGHUP (a scheduler's preemption) and Ctrl-C stop the run at its next checkpoint
(``engine.preempt``) with one line and exit status 75 (130 for Ctrl-C); rerun the same command to resume. ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from jaxnewton.engine import distributed, preempt
from jaxnewton.engine.config import Config, ConfigBase, load_config, override
from jaxnewton.engine.sweep import use_compilation_cache, use_every_core
from jaxnewton.optim import registry
from jaxnewton.studies.registry import run_config


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=int, help="number of seeds (overrides the config's n_seeds)")
    parser.add_argument("--out", type=Path, help="results folder (default results/<config name>)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a config field, e.g. --set eta=0.1 --set widths=20,20 (repeatable)")
    parser.add_argument("--smoke", action="store_true", help="the config's shrunk-down variant (few seeds, few steps)")
    parser.add_argument("--force", action="store_true",
                        help="clear the results folder first, whatever run it holds (start over)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error instead of one line")
    parser.add_argument("--distributed", action="store_true",
                        help="one of several processes sharing the seeds (engine.distributed: JAXNEWTON_COORDINATOR, "
                             "JAXNEWTON_NUM_PROCESSES, JAXNEWTON_PROCESS_ID, or a cluster JAX detects)")


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


def configure(args: argparse.Namespace) -> ConfigBase:
    """The validated config the parsed command line asks for (ValueError otherwise, before anything runs)."""
    config = load_config(args.config, smoke=args.smoke)
    if args.command == "compare" and not isinstance(config, Config):
        raise ValueError(f"{args.config} is a {type(config).__name__}: compare needs a seed-sweep config "
                         "(a Config, e.g. mlp_tanh or pinn2d)")
    config = override(config, args.overrides + ([f"optimizers={args.optimizers}"] if args.command == "compare"
                                                 else []))
    if args.command == "compare" and not config.optimizers:
        raise ValueError("--optimizers names no optimiser: give some, e.g. --optimizers newton,adam, or all")
    if args.seeds is not None:
        fields = {f.name for f in dataclasses.fields(config)}
        if "n_seeds" not in fields:
            raise ValueError(f"{args.config} is a {type(config).__name__}, which has no seeds: drop --seeds"
                             + (" (set the grid of starts with --set grid=N)" if "grid" in fields else ""))
        config = dataclasses.replace(config, n_seeds=args.seeds)
    return config


def _line(error: BaseException) -> str:
    """One line for an error: its message, or for a file-system error what failed on which path."""
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"cannot use the results folder: {error.strerror}{where}"
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):  # progress lines reach a log file as they happen, not in 8 KB blocks
        sys.stdout.reconfigure(line_buffering=True)
    try:
        config = configure(args)
        if args.distributed:
            distributed.initialize()
        else:
            use_every_core()
        use_compilation_cache()
        with preempt.stop_at_checkpoints():
            run_config(config, args.out or Path("results") / config.name, policy="clear" if args.force else "refuse")
    except preempt.Stopped as stopped:
        print(str(stopped), file=sys.stderr)
        return stopped.status
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("interrupted — rerun the same command to resume", file=sys.stderr)
        return 130
    except (ValueError, OSError) as error:
        if args.debug:
            raise
        print(f"error: {_line(error)}", file=sys.stderr)
        return 2
    return 0
