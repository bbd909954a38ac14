"""The ``selmix-sk`` command line: demo, benchmark, and fit, predict, evaluate on data files."""

import argparse
import ast
import shlex
import sys
from pathlib import Path

import pandas as pd

from . import __version__
from ._classifier import SelMixClassifier
from ._confusion import normalised_confusion
from ._demo import run_demo
from ._report import class_report, describe_columns, kept_summary, plot_confusion_matrix
from ._tabular import (
    column_kinds,
    feature_frame,
    fit_pipeline,
    load_model,
    make_columns,
    model_inputs,
    read_table,
    save_model,
    split_target,
)
from .benchmark import (
    HELD_OUT_DATASETS,
    OBJECTIVES,
    QUALITY_DATASETS,
    QUICK_DATASETS,
    SUITES,
    run_benchmark,
)
from .objectives import make_objective

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


def _key_value(parse_value):
    def parse(text):
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
        return key, parse_value(value)

    return parse


def _threshold(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _literal(text):
    """A Python literal (``5``, ``0.1``, ``True``, ``None``, ``'a'``), else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _parser():
    parser = argparse.ArgumentParser(
        prog="selmix-sk",
        description="SelMix fine-tuning for confusion-matrix objectives such as the worst "
                    "per-class recall: a demo, the benchmarks, and fit, predict "
                    "and evaluate on CSV or parquet files.",
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
        "demo", parents=[common], help="pre-trained network vs the plug-in rule vs uniform "
                                       "mixup vs SelMix on long-tailed digits",
        description="Fit SelMix on scikit-learn's digits made long-tailed for the minimum "
                    "recall, as fit(X, y) with no validation set against the same network "
                    "without fine-tuning; then, with the data's validation set and the same "
                    "budget and seed: the pre-trained network alone, with per-class offsets "
                    "tuned on the validation set (the plug-in rule), fine-tuned with uniform "
                    "mixup, and fine-tuned with SelMix. Prints their test mean, minimum and "
                    "harmonic-mean recall and fit seconds, and writes DIR/demo.csv and "
                    "DIR/demo.png (per-class recall, validation objective over fine-tuning). "
                    "About half a minute on two CPU cores.",
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
                    "peak memory of a fit. User-speed suite: fit(X, y) with the defaults, as "
                    "a user runs it, on a quiet machine and with one core busy. Writes "
                    "DIR/report.md (with the verdicts and targets, losses included), "
                    "DIR/runs.csv, DIR/speed_*.csv and PNG plots. "
                    "The full run takes an hour or more on two CPU cores; --quick about 2 "
                    "minutes.",
    )
    benchmark.add_argument("--quick", action="store_true",
                           help=f"a check that every part runs, not a measurement: data sets "
                                f"{', '.join(QUICK_DATASETS)}, 2 seeds, the first objective, "
                                "30 pre-training epochs and 100 steps, the literal gain only "
                                "up to K = 100")
    benchmark.add_argument("--suite", choices=SUITES, default="all",
                           help="which suite to run (default: all)")
    benchmark.add_argument("--seeds", type=_integer(1), default=None, metavar="N",
                           help="number of seeds, from --seed on (default: 10, or 2 with --quick; "
                                "3 for the stream, semi-supervised and user-speed suites)")
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
    _add_data_commands(commands)
    return parser


def _add_data_commands(commands):
    fit = commands.add_parser(
        "fit", help="fit a SelMix model on a CSV or parquet file",
        description="Fit a SelMixClassifier on the columns of a CSV or parquet file, for an "
                    "objective. skrub's TableVectorizer types and encodes every column "
                    "(numbers, dates, strings of few or many values; empty and constant "
                    "columns are dropped), missing values become the median, and every "
                    "feature is scaled; these steps and the classifier are saved together as "
                    "one joblib file for `selmix-sk predict` and `selmix-sk evaluate`. Needs "
                    'skrub: pip install "selmix-sk[tabular]".',
    )
    fit.add_argument("train", type=Path, metavar="TRAIN", help="training data, .csv or .parquet")
    fit.add_argument("--target", required=True, metavar="COL", help="the column of labels")
    fit.add_argument("--objective", default="min_recall", metavar="NAME",
                     help="what to maximise: min_recall (default), mean_recall, hmean, gmean, "
                          "min_head_tail_recall, mean_recall_min_coverage, or a scikit-learn "
                          "scorer name such as f1_macro")
    fit.add_argument("--constraint", action="append", type=_key_value(_threshold), default=[],
                     metavar="NAME=VALUE",
                     help="min_recall=T (every class's recall at least T) or min_coverage=A "
                          "(every class predicted at least A times as often as it occurs); "
                          "repeatable")
    fit.add_argument("--validation", type=Path, metavar="VAL",
                     help="a validation file with the same columns, to steer SelMix (default: "
                          "a share of every class of TRAIN is held out)")
    fit.add_argument("--param", action="append", type=_key_value(_literal), default=[],
                     metavar="KEY=VALUE",
                     help="a SelMixClassifier parameter, such as finetune_steps=200; the value "
                          "is read as a Python literal, else as a string; repeatable")
    fit.add_argument("--output", type=Path, required=True, metavar="MODEL",
                     help="where to write the model (a .joblib file)")
    fit.add_argument("--seed", type=_integer(0), default=0,
                     help="seed of the split and the network (default: 0)")
    fit.add_argument("--quiet", action="store_true", help="no progress bars")

    predict = commands.add_parser(
        "predict", help="predict the classes of a data file with a fitted model",
        description="Write the predicted class of every row of DATA (or, with --proba, the "
                    "probability of every class) to a CSV file, one row per row of DATA in "
                    "the same order. DATA needs the feature columns of the training file; "
                    "other columns, the target among them, are ignored.",
    )
    predict.add_argument("model", type=Path, metavar="MODEL",
                         help="a model file written by selmix-sk fit")
    predict.add_argument("data", type=Path, metavar="DATA", help=".csv or .parquet")
    predict.add_argument("--output", type=Path, required=True, metavar="PRED",
                         help="the CSV file to write")
    predict.add_argument("--proba", action="store_true",
                         help="one column of probabilities per class, named by the class, "
                              "instead of one column of classes named by the target")

    evaluate = commands.add_parser(
        "evaluate", help="per-class precision, recall and coverage of a model on labelled data",
        description="Print, for a fitted model on labelled data, every class's support, "
                    "precision, recall and coverage (its share of the predictions over its "
                    "share of the data), then the objective and whether each constraint "
                    "holds; --output also writes that table to a CSV file.",
    )
    evaluate.add_argument("model", type=Path, metavar="MODEL",
                          help="a model file written by selmix-sk fit")
    evaluate.add_argument("data", type=Path, metavar="DATA", help=".csv or .parquet, labelled")
    evaluate.add_argument("--target", metavar="COL",
                          help="the column of labels (default: the one the model was fitted on)")
    evaluate.add_argument("--objective", metavar="NAME",
                          help="the objective to report (default: the one the model was "
                               "fitted for)")
    evaluate.add_argument("--output", type=Path, metavar="CSV",
                          help="also write the per-class table to this CSV file")
    evaluate.add_argument("--plot", type=Path, metavar="PNG",
                          help="also write the confusion matrix, rows normalised, to this PNG "
                               "file")


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


def _classifier_params(pairs):
    """The ``--param`` pairs as a dict, refusing names SelMixClassifier lacks."""
    valid = sorted(set(SelMixClassifier().get_params(deep=False)) - _OWN_OPTIONS.keys())
    params = {}
    for key, value in pairs:
        if key in _OWN_OPTIONS:
            raise ValueError(f"--param {key}=...: use {_OWN_OPTIONS[key]} instead.")
        if key not in valid:
            raise ValueError(f"unknown parameter {key!r} in --param; valid: {', '.join(valid)}.")
        params[key] = value
    return params


# Classifier parameters with an option of their own, or none from the command line.
_OWN_OPTIONS = {"objective": "--objective", "constraints": "--constraint",
                "net": "Python (a network of your own cannot be written as a literal)"}


def _run_fit(args):
    constraints = dict(args.constraint) or None
    make_objective(args.objective, constraints)  # an unknown name fails before any reading
    classifier = SelMixClassifier(objective=args.objective, constraints=constraints,
                                  random_state=args.seed, verbose=0 if args.quiet else 1)
    classifier.set_params(**_classifier_params(args.param))
    columns = make_columns()  # without skrub, this fails before a file is read
    X, y = split_target(read_table(args.train), args.target, args.train)
    X_val = y_val = None
    if args.validation is not None:
        X_val, y_val = split_target(read_table(args.validation), args.target, args.validation)
        X_val = feature_frame(X_val, X.columns, args.validation)
    pipeline = fit_pipeline(classifier, columns, X, y, X_val, y_val, args.validation)
    save_model(args.output, pipeline, target=args.target, objective=args.objective,
               constraints=constraints)
    print(f"Read {len(X)} rows of {args.train}: {len(classifier.classes_)} classes, "
          f"{describe_columns(column_kinds(columns))} -> {classifier.n_features_in_} "
          "features.")
    print(kept_summary(classifier, args.validation))
    print(f"Wrote {args.output}")
    return 0


def _run_predict(args):
    model = load_model(args.model)
    X = model_inputs(model, read_table(args.data), args.data)
    pipeline = model["pipeline"]
    if args.proba:
        output = pd.DataFrame(pipeline.predict_proba(X),
                              columns=[str(label) for label in model["classes"]])
    else:
        output = pd.DataFrame({model["target"]: pipeline.predict(X)})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    output.to_csv(args.output, index=False)
    print(f"Wrote {len(output)} rows to {args.output}")
    return 0


def _run_evaluate(args):
    model = load_model(args.model)
    target = args.target or model["target"]
    X, y = split_target(read_table(args.data), target, args.data)
    X = model_inputs(model, X, args.data)
    classes = model["classes"]
    unknown = sorted(set(y.tolist()) - set(classes), key=str)
    if unknown:
        raise ValueError(f"the column {target!r} of {args.data} has labels the model never "
                         f"saw: {', '.join(map(str, unknown))}; its classes: "
                         f"{', '.join(map(str, classes))}.")
    y_pred = model["pipeline"].predict(X)
    report = class_report(y, y_pred, classes)
    print(f"Model {args.model} on {len(y)} rows of {args.data}:")
    print(report.to_string(index=False, float_format="{:.3f}".format, na_rep="-"))
    spec = args.objective or model["objective"]
    C = normalised_confusion(y, y_pred, labels=classes)
    value = make_objective(spec).reset(C.sum(axis=1)).value(C)
    print(f"objective {spec}: {value:.4f}")
    present = report["support"] > 0
    worst = {"min_recall": report["recall"][present].min(),
             "min_coverage": report["coverage"][present].min()}
    for name, threshold in (model["constraints"] or {}).items():
        verdict = "met" if worst[name] >= threshold else "NOT met"
        print(f"constraint {name} >= {threshold:g}: worst class {worst[name]:.4f}, {verdict}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        report.to_csv(args.output, index=False)
        print(f"Wrote {args.output}")
    if args.plot is not None:
        plot_confusion_matrix(args.plot, y, y_pred, classes,
                              title=f"{spec} {value:.3f} on {args.data.name}")
        print(f"Wrote {args.plot}")
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
        0 on success; 2 for bad arguments (after a usage message on stderr)
        or bad input to ``fit``, ``predict`` and ``evaluate`` (after a
        one-line message on stderr); 1 when an optional package is missing.

    Examples
    --------
    >>> from selmix_sk._cli import main
    >>> main(["--version"])
    selmix-sk 0.2.0
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
        if args.command == "benchmark":
            return _run_benchmark(args, command=shlex.join(["selmix-sk", *argv]))
        return _DATA_COMMANDS[args.command](args)
    except ImportError as exc:  # an optional package; the message says what to install
        print(f"selmix-sk: {exc}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError) as exc:
        if args.command not in _DATA_COMMANDS:
            raise
        # The user's files and parameters: what is wrong, in one line, without a traceback.
        print(f"selmix-sk {args.command}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


_DATA_COMMANDS = {"fit": _run_fit, "predict": _run_predict, "evaluate": _run_evaluate}


if __name__ == "__main__":
    raise SystemExit(main())
