"""Every experiment at the paper's settings, then results/REPORT.md (``jaxnewton.paper``).

Run:      make paper                (python scripts/paper.py)
          make paper FORCE=1        (rerun runs that are already complete)
          make paper STALE=rerun    (rerun the complete runs made by another commit; by default reused and marked)
          make paper-quick          (python scripts/paper.py --quick: shrunk, into results/quick)
          make publish              (python scripts/paper.py --publish)
          python scripts/paper.py --readme-only   (the README's table from docs/results; the large studies' targets)
A run writes only under results/ (the report is results/REPORT.md). `make publish` copies a complete run's
summaries into docs/results and rewrites the README's results table from them (make test checks that the two
agree); it refuses runs made by more than one commit or from a dirty tree.
Runtime:  docs/experiments.md lists every run's cost; the digits study and E3 at 100 seeds dominate. A run already complete
          for the same config is skipped, so a second `make paper` only rewrites the report.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from jaxnewton.engine import preempt
from jaxnewton.engine.sweep import use_compilation_cache, use_every_core
from jaxnewton.paper import run_one, run_paper
from jaxnewton.report.table import update_readme, write_readme_table
from jaxnewton.studies.registry import ROWS


def main() -> int:
    """``make paper``; a stop signal (a scheduler's SIGTERM, Ctrl-C) stops every run at its next checkpoint."""
    with preempt.stop_at_checkpoints():
        try:
            paper()
        except preempt.Stopped as stopped:
            print(str(stopped), file=sys.stderr)
            return stopped.status
        except ValueError as error:  # what to change, in one line (make publish's refusals, a bad config)
            print(f"error: {error}", file=sys.stderr)
            return 2
    return 0


def paper() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every run shrunk, into results/quick (a first look)")
    parser.add_argument("--force", action="store_true", help="rerun runs that are already complete")
    parser.add_argument("--stale", choices=("reuse", "rerun"), default="reuse",
                        help="a complete run made by another commit: reuse it and mark it stale (default), or rerun it")
    parser.add_argument("--results", type=Path, default=Path("results"), help="folder of results folders")
    parser.add_argument("--publish", action="store_true",
                        help="run nothing: copy the summaries of a complete run of one clean commit into docs/results "
                             "and rewrite the README's table")
    parser.add_argument("--readme-only", action="store_true",
                        help="run nothing: rewrite the README's table from docs/results as committed (what a large "
                             "study's own target ends with)")
    parser.add_argument("--one-at-a-time", action="store_true",
                        help="no runs side by side (by default every run that reads no other runs in a "
                             "process pinned to a core, one a core at a time)")
    parser.add_argument("--only", metavar="FOLDER", help=argparse.SUPPRESS)  # one run, for a process side by side
    args = parser.parse_args()
    results = args.results / "quick" if args.quick else args.results
    if args.only:
        use_every_core()
        use_compilation_cache()
        run_one(args.only, results, args.quick, args.force)
        return
    if args.readme_only:
        write_readme_table(Path("README.md"), Path("docs/results"), ROWS)
        print("README.md's results table rewritten from docs/results")
        return
    if args.publish:
        update_readme(Path("README.md"), args.results, Path("docs/results"), ROWS)
        print("docs/results and README.md's results table rewritten from " + str(args.results))
        return
    use_every_core()
    use_compilation_cache()

    cores = sorted(os.sched_getaffinity(0))

    def launch(folder: str, log: Path, lane: int, force: bool) -> subprocess.Popen:
        """This script with --only FOLDER in a process of its own on core ``lane`` alone (so one JAX device and
        one XLA thread; one lane a core), output into ``log``; ``force``: into a cleared folder."""
        command = [sys.executable, "-u", __file__, "--only", folder, "--results", str(args.results),
                   *(["--quick"] if args.quick else []), *(["--force"] if force else [])]
        core = {cores[lane % len(cores)]}
        with open(log, "w") as out:
            return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                    preexec_fn=lambda: os.sched_setaffinity(0, core))

    # Quick runs are mostly compilation, which already keeps both cores busy: side by side measured no faster
    # there (docs/performance.md).
    side_by_side = not (args.quick or args.one_at_a_time)
    run_paper(results, quick=args.quick, force=args.force, launch=launch if side_by_side else None,
              lanes=len(cores), stale=args.stale)


if __name__ == "__main__":
    sys.exit(main())
