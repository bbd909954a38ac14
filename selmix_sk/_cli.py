"""The ``selmix-sk`` command line: ``selmix-sk demo`` and ``selmix-sk benchmark``."""

import argparse
import shlex
import sys
from pathlib import Path

from . import __version__
from ._demo import run_demo
from .benchmark import (
    HELD_OUT_DATASETS,
    OBJECTIVES,
    QUALITY_DATASETS,
    QUICK_DATASETS,
    run_benchmark,
)

__all__ = ["main"]


def _integer(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _imbalance(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 1 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 1, got {text}")
    return value


def _n_jobs(text):
    value = _integer(-sys.maxsize)(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0 (use 1 for no parallelism, -1 for all "
                                         "cores)")
    return value


def _parser():
    parser = argparse.ArgumentParser(
        prog="selmix-sk",
        description="SelMix fine-tuning for confusion-matrix objectives such as the worst "
                    "per-class recall: a demo and the benchmarks.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--output", type=Path, default=Path("selmix_sk_output"), metavar="DIR",
                        help="directory for the results, created if needed "
                             "(default: selmix_sk_output in the current directory)")
    common.add_argument("--seed", type=_integer(0), default=0,
                        help="seed of the data split and the models (default: 0)")

    demo = commands.add_parser(
        "demo", parents=[common], help="pre-trained network vs uniform mixup vs SelMix on "
                                       "long-tailed digits",
        description="Fit three models on scikit-learn's digits made long-tailed, with the same "
                    "budget and seed, for the minimum recall: the pre-trained network alone, "
                    "fine-tuned with uniform mixup, and fine-tuned with SelMix. Prints their "
                    "test mean, minimum and harmonic-mean recall and fit seconds, and writes "
                    "DIR/demo.csv and DIR/demo.png (per-class recall, validation objective "
                    "over fine-tuning). About 10 seconds on two CPU cores.",
    )
    demo.add_argument("--imbalance", type=_imbalance, default=50.0,
                      help="training images of the most frequent digit over the rarest's "
                           "(default: 50)")
    demo.add_argument("--steps", type=_integer(0), default=500,
                      help="fine-tuning steps of uniform mixup and SelMix (default: 500)")
    demo.add_argument("--pretrain-epochs", type=_integer(1), default=100,
                      help="pre-training epochs (default: 100)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")

    benchmark = commands.add_parser(
        "benchmark", parents=[common], help="quality and speed benchmarks with a report",
        description="Quality suite: every method (cross-entropy, logit-adjusted, logit-adjusted "
                    "+ offsets, uniform mixup, greedy, SelMix, SelMix + offsets) on every data "
                    "set and objective over several seeds. Speed suite: the closed-form gain "
                    "against a literal K^4 one, a SelMix step against a plain step, and the "
                    "peak memory of a fit. Writes DIR/report.md (with the verdicts and "
                    "targets, losses included), DIR/runs.csv, DIR/speed_*.csv and PNG plots. "
                    "The full run takes roughly 15 to 20 minutes on two CPU cores; --quick "
                    "under 5.",
    )
    benchmark.add_argument("--quick", action="store_true",
                           help=f"data sets {', '.join(QUICK_DATASETS)}, 2 seeds, the literal "
                                "gain only up to K = 100")
    benchmark.add_argument("--suite", choices=["all", "quality", "speed"], default="all",
                           help="which suite to run (default: all)")
    benchmark.add_argument("--seeds", type=_integer(1), default=None, metavar="N",
                           help="number of seeds, from --seed on (default: 10, or 2 with --quick)")
    benchmark.add_argument("--n-jobs", type=_n_jobs, default=2,
                           help="processes of the quality suite (default: 2)")
    benchmark.add_argument("--datasets", nargs="+",
                           choices=[*QUALITY_DATASETS, *HELD_OUT_DATASETS], metavar="NAME",
                           help="data sets of the quality suite, among "
                                f"{', '.join(QUALITY_DATASETS)} (default: all of these, or the "
                                "quick ones with --quick), and the held-out "
                                f"{', '.join(HELD_OUT_DATASETS)}, on which no default was "
                                "chosen")
    benchmark.add_argument("--objectives", nargs="+", choices=list(OBJECTIVES),
                           default=list(OBJECTIVES), metavar="NAME",
                           help=f"objectives, among {', '.join(OBJECTIVES)} (default: all)")
    benchmark.add_argument("--steps", type=_integer(0), default=None,
                           help="fine-tuning steps of every fine-tuning method (default: the "
                                "estimator's 500)")
    benchmark.add_argument("--pretrain-epochs", type=_integer(1), default=None,
                           help="pre-training epochs (default: the estimator's 100)")
    benchmark.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def _run_demo(args):
    table = run_demo(args.output, seed=args.seed, imbalance=args.imbalance,
                     finetune_steps=args.steps, pretrain_epochs=args.pretrain_epochs,
                     progress=not args.quiet)
    print(f"Long-tailed digits, imbalance {args.imbalance:g}, seed {args.seed}; objective "
          "min_recall; scores on the balanced test set.")
    print(table.to_string(index=False, float_format="{:.3f}".format))
    print("fit_seconds of the fine-tuned models is fine-tuning only: they start from the "
          "pre-trained network.")
    print(f"Wrote {args.output / 'demo.csv'} and {args.output / 'demo.png'}")
    return 0


def _print_stderr(line):
    print(line, file=sys.stderr, flush=True)


def _run_benchmark(args, command):
    estimator_params = {}
    if args.steps is not None:
        estimator_params["finetune_steps"] = args.steps
    if args.pretrain_epochs is not None:
        estimator_params["pretrain_epochs"] = args.pretrain_epochs
    paths = run_benchmark(
        args.output, suite=args.suite, quick=args.quick, seeds=args.seeds, seed=args.seed,
        n_jobs=args.n_jobs, datasets=args.datasets, objectives=args.objectives,
        estimator_params=estimator_params, command=command,
        progress=None if args.quiet else _print_stderr,
    )
    print(f"Report: {paths[0]}")
    for path in paths[1:]:
        print(f"Wrote {path}")
    return 0


def main(argv=None):
    """Run the ``selmix-sk`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 2 for bad arguments (after a usage message on stderr),
        1 when a data set's optional package is missing.

    Examples
    --------
    >>> from selmix_sk._cli import main
    >>> main(["--version"])
    selmix-sk 0.1.0
    0
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code
    try:
        if args.command == "demo":
            return _run_demo(args)
        return _run_benchmark(args, command=shlex.join(["selmix-sk", *argv]))
    except ImportError as exc:  # an optional data set package; the message says what to install
        print(f"selmix-sk: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
