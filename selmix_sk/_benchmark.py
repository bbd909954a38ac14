"""The ``selmix-sk benchmark`` command: quality and speed of SelMix, with a report.

The quality suite fits every method on every data set and seed and scores it
on the test set; the speed suite times the closed-form gain against a literal
K^4 formulation, a SelMix step against a plain step, and measures the peak
memory of a fit. :func:`run_benchmark` runs either or both and writes
``report.md``, CSV files and PNG plots; the report states every target as met
or NOT met and every comparison that SelMix loses.
"""

import copy
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
import skorch
import torch
from matplotlib.figure import Figure
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.utils import check_random_state
from skorch import NeuralNet
from threadpoolctl import threadpool_limits
from torch import nn

from . import __version__
from ._classifier import SelMixClassifier
from ._finetune import PairSampler, SelMixNet
from ._modules import MLP
from .datasets import DATASETS, load_long_tailed_digits, make_long_tailed
from .gain import compute_gain
from .metrics import coverage_score, hmean_recall_score, mean_recall_score, min_recall_score
from .mixup import FeatureMixer

__all__ = ["limit_threads", "literal_gain", "run_benchmark", "run_quality", "run_speed",
           "write_report"]

QUALITY_DATASETS = {
    "digits_lt_10": partial(load_long_tailed_digits, imbalance=10),
    "digits_lt_50": partial(load_long_tailed_digits, imbalance=50),
    "digits_lt_100": partial(load_long_tailed_digits, imbalance=100),
    "mnist1d_lt": DATASETS["mnist1d_lt"],
    "seattle_weather": DATASETS["seattle_weather"],
    "cars": DATASETS["cars"],
    "wine": DATASETS["wine"],
}


def _long_tailed_synthetic(*, random_state=None):
    """Six classes from ``make_classification``, long-tailed at imbalance 30."""
    X, y = make_classification(n_samples=6000, n_classes=6, n_features=20, n_informative=8,
                               random_state=check_random_state(random_state).randint(2**31))
    return make_long_tailed(X, y, n_max=300, imbalance=30, n_val_per_class=20,
                            n_test_per_class=200, random_state=random_state)


def _long_tailed_breast_cancer(*, random_state=None):
    """scikit-learn's breast-cancer data, the rarer class drawn at imbalance 20."""
    X, y = load_breast_cancer(return_X_y=True)
    return make_long_tailed(X, y, n_max=150, imbalance=20, n_val_per_class=15,
                            n_test_per_class=40, random_state=random_state)


# Data sets that no default was chosen on, outside the default run: name them
# with --datasets to check that the defaults carry over to new data.
HELD_OUT_DATASETS = {
    "synthetic_lt": _long_tailed_synthetic,
    "breast_cancer_lt": _long_tailed_breast_cancer,
    "mnist1d_lt_val10": partial(DATASETS["mnist1d_lt"], imbalance=20, n_max=200,
                                n_val_per_class=10),
}
_ALL_DATASETS = {**QUALITY_DATASETS, **HELD_OUT_DATASETS}
QUICK_DATASETS = ("digits_lt_50", "seattle_weather", "cars")
INTERNAL_SPLIT_DATASETS = ("digits_lt_10", "digits_lt_50", "digits_lt_100")
OBJECTIVES = ("min_recall", "hmean", "mean_recall_min_coverage")

# Fine-tuning methods start from the shared logit-adjusted network; the two
# pre-trained baselines ("cross-entropy", "logit-adjusted") need no objective,
# and "SelMix" is the fit of "SelMix + offsets" without its offsets. Offsets are
# set explicitly, so that no row changes meaning with the objective.
_FINETUNED = {
    "logit-adjusted + offsets": {"finetune_steps": 0, "tune_offsets": True},
    "uniform mixup": {"selection": "uniform", "tune_offsets": False},
    "greedy": {"selection": "greedy", "tune_offsets": False},
    "SelMix + offsets": {"tune_offsets": True},
}
_INTERNAL = {
    "uniform mixup (internal split)": {"selection": "uniform", "tune_offsets": False},
    "SelMix (internal split)": {"tune_offsets": False},
}
METHODS = ("cross-entropy", "logit-adjusted", "logit-adjusted + offsets", "uniform mixup",
           "greedy", "SelMix", "SelMix + offsets", "logit-adjusted (internal split)", *_INTERNAL)
_SCORES = ["mean_recall", "min_recall", "hmean", "min_coverage"]
# The same scores on the validation set the fit saw (the held-out share for the
# internal split), and the size of its smallest class.
RUN_COLUMNS = ["dataset", "method", "objective", "seed", "validation", *_SCORES, "fit_seconds",
               "pretrain_seconds", *(f"val_{score}" for score in _SCORES),
               "val_smallest_class"]
_METRICS = ["mean_recall", "min_recall", "hmean", "min_coverage", "fit_seconds"]
_COVERAGE_ALPHA = 0.95
# What each objective is judged on: alone against uniform mixup and the starting
# network, and beside mean recall for a Pareto win over the tuned offsets. The
# constrained objective is judged on its constraint, met at 0.95.
_JUDGED = {"min_recall": "min_recall", "hmean": "hmean",
           "mean_recall_min_coverage": "coverage_capped"}
_LABELS = {"mean_recall": "mean recall", "min_recall": "min recall", "hmean": "H-mean",
           "min_coverage": "min coverage", "coverage_capped": "min coverage (capped at 0.95)",
           "fit_seconds": "fit s"}

GAIN_KS = (10, 30, 100, 1000)
_GAIN_FEATURES = 128
_LITERAL_MAX_BYTES = 2 * 1024**3
_LITERAL_MAX_SECONDS = 60.0
_STEP_CONFIGS = {
    "MLP 64-128-128-10": (64, (128, 128), 10),
    "wide MLP 256-1024-1024-100": (256, (1024, 1024), 100),
}
_STEP_BATCH = 64
_MiB = 1024**2
_TARGETS = {"speedup_k100": 1000.0, "closed_k100_s": 0.010, "closed_k1000_s": 2.0,
            "step_ratio": 1.2}


@contextmanager
def limit_threads(n_threads):
    """Run the block with ``n_threads`` torch and BLAS threads, restoring them after.

    The networks and arrays of the benchmarks are small: one thread per
    process is faster than several that contend for two cores (NumPy's BLAS
    slows a batched product of small matrices ten-fold that way), and makes
    timings repeatable.

    Parameters
    ----------
    n_threads : int
        Threads for torch's intra-op parallelism and for the BLAS and OpenMP
        libraries that ``threadpoolctl`` finds.

    Examples
    --------
    >>> import torch
    >>> from selmix_sk._benchmark import limit_threads
    >>> with limit_threads(1):
    ...     torch.get_num_threads()
    1
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(n_threads):
            yield
    finally:
        torch.set_num_threads(previous)


def _scores(clf, X, y):
    y_pred = clf.predict(X)
    labels = clf.classes_
    return {
        "mean_recall": mean_recall_score(y, y_pred, labels=labels),
        "min_recall": min_recall_score(y, y_pred, labels=labels),
        "hmean": hmean_recall_score(y, y_pred, labels=labels),
        "min_coverage": coverage_score(y, y_pred, labels=labels),
    }


def _without_offsets(clf):
    """The fitted model predicting without its tuned logit offsets.

    The offsets are tuned after fine-tuning and only added to the logits, so
    this is the model that the same fit with ``tune_offsets=False`` gives.
    """
    plain = copy.copy(clf)
    plain.offsets_ = np.zeros_like(clf.offsets_)
    return plain


def _timed_fit(clf, X, y, X_val=None, y_val=None):
    start = time.perf_counter()
    clf.fit(X, y, X_val, y_val)
    return clf, time.perf_counter() - start


def _quality_unit(dataset, seed, objectives, estimator_params):
    """Every method on one data set and seed: ``((dataset, seed), run records)``."""
    with limit_threads(1), warnings.catch_warnings():
        # The internal-split rows hold out tiny classes on purpose; the report says so.
        warnings.filterwarnings("ignore", "The validation share held out", UserWarning)
        data = _ALL_DATASETS[dataset](random_state=seed)
        common = {"random_state": seed, "device": "cpu", **estimator_params}
        val = (data.X_val, data.y_val)
        test = (data.X_test, data.y_test)

        def record(method, objective, clf, seconds, pretrain_seconds, validation="explicit"):
            X_seen, y_seen = val if validation == "explicit" else split[2:]
            seen = {f"val_{score}": value for score, value in _scores(clf, X_seen, y_seen).items()}
            return {"dataset": dataset, "method": method, "objective": objective, "seed": seed,
                    "validation": validation, **_scores(clf, *test),
                    "fit_seconds": seconds, "pretrain_seconds": pretrain_seconds, **seen,
                    "val_smallest_class": np.unique(y_seen, return_counts=True)[1].min()}

        ce, ce_s = _timed_fit(
            SelMixClassifier(**{**common, "finetune_steps": 0, "logit_adjustment": 0.0}),
            data.X_train, data.y_train, *val)
        la, la_s = _timed_fit(SelMixClassifier(**{**common, "finetune_steps": 0}),
                              data.X_train, data.y_train, *val)
        internal = dataset in INTERNAL_SPLIT_DATASETS
        if internal:
            # Only the long-tailed training data, as a user without a validation set has.
            X_all, y_all = data.X_train, data.y_train
            # The split that fit(X_all, y_all) holds out with this random_state, so that
            # fine-tuning below never validates on pre-training data.
            split = SelMixClassifier(**common)._hold_out(X_all, y_all, check_random_state(seed))
            la_int, la_int_s = _timed_fit(SelMixClassifier(**{**common, "finetune_steps": 0}),
                                          *split)
        rows = []
        for objective in objectives:
            rows.append(record("cross-entropy", objective, ce, ce_s, 0.0))
            rows.append(record("logit-adjusted", objective, la, la_s, 0.0))
            for method, params in _FINETUNED.items():
                clf, seconds = _timed_fit(
                    SelMixClassifier(la.net_, **{**common, "objective": objective, **params}),
                    data.X_train, data.y_train, *val)
                rows.append(record(method, objective, clf, seconds, la_s))
                if method == "SelMix + offsets":
                    rows.append(record("SelMix", objective, _without_offsets(clf), seconds,
                                       la_s))
            if not internal:
                continue
            rows.append(record("logit-adjusted (internal split)", objective, la_int, la_int_s,
                               0.0, "internal"))
            for method, params in _INTERNAL.items():
                clf, seconds = _timed_fit(
                    SelMixClassifier(la_int.net_, **{**common, "objective": objective, **params}),
                    X_all, y_all)
                rows.append(record(method, objective, clf, seconds, la_int_s, "internal"))
    return (dataset, seed), rows


def run_quality(datasets, seeds, *, objectives=OBJECTIVES, n_jobs=2, estimator_params=None,
                progress=None):
    """Fit every method on every data set and seed; score it on the test set.

    For each (data set, seed) one network is pre-trained with the
    logit-adjusted loss and shared, through ``SelMixClassifier(net=...)``, by
    every fine-tuning method; the cross-entropy baseline is pre-trained
    apart. The seed draws both the data split and the estimator's
    randomness. Every fit gets the data set's explicit validation set, except
    the "internal split" variants on the ``digits_lt`` data sets, which see
    the training data alone and hold out their own validation share.

    Parameters
    ----------
    datasets : sequence of str
        Keys of ``QUALITY_DATASETS`` or ``HELD_OUT_DATASETS``.
    seeds : sequence of int
    objectives : sequence of str, default=OBJECTIVES
        Among ``"min_recall"``, ``"hmean"`` and ``"mean_recall_min_coverage"``.
    n_jobs : int, default=2
        Processes over (data set, seed) pairs; each uses one torch thread.
    estimator_params : dict, default=None
        Passed to every :class:`~selmix_sk.SelMixClassifier`, such as a
        smaller ``finetune_steps`` or ``pretrain_epochs``; the methods' own
        settings (``finetune_steps=0`` of the baselines) take precedence.
    progress : callable, default=None
        Called with a line of text as each (data set, seed) pair finishes.

    Returns
    -------
    runs : pandas.DataFrame
        One row per run, with the columns ``RUN_COLUMNS``. The two pre-trained
        baselines do not depend on the objective and appear once per
        objective with the same scores; "SelMix" is the "SelMix + offsets"
        fit predicting without its offsets. ``fit_seconds`` is the run's own
        ``fit``; ``pretrain_seconds`` the pre-training it started from. The
        ``val_`` columns hold the scores on the validation set the fit saw
        (for the internal split, the share the estimator holds out) and the
        size of its smallest class.

    Examples
    --------
    >>> from selmix_sk._benchmark import run_quality
    >>> runs = run_quality(["wine"], [0], objectives=["min_recall"], n_jobs=1,
    ...                    estimator_params={"pretrain_epochs": 2, "finetune_steps": 2})
    >>> runs["method"].tolist()[:3]
    ['cross-entropy', 'logit-adjusted', 'logit-adjusted + offsets']
    """
    unknown = sorted(set(datasets) - set(_ALL_DATASETS))
    if unknown:
        raise ValueError(f"Unknown data sets {unknown}; choose from {list(_ALL_DATASETS)}.")
    bad = sorted(set(objectives) - set(OBJECTIVES))
    if bad:
        raise ValueError(f"Unknown objectives {bad}; choose from {list(OBJECTIVES)}.")
    units = [(dataset, seed) for dataset in datasets for seed in seeds]
    if not units or not objectives:
        raise ValueError("Need at least one data set, seed and objective.")
    results = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        joblib.delayed(_quality_unit)(dataset, seed, list(objectives), estimator_params or {})
        for dataset, seed in units
    )
    rows = []
    for done, ((dataset, seed), unit_rows) in enumerate(results, start=1):
        rows.extend(unit_rows)
        if progress is not None:
            progress(f"quality: {dataset} seed {seed} done ({done}/{len(units)})")
    runs = pd.DataFrame(rows, columns=RUN_COLUMNS)
    # Workers finish in any order; list runs as the data sets and objectives were given.
    keys = [runs["seed"], runs["method"].map(METHODS.index),
            runs["objective"].map(list(objectives).index),
            runs["dataset"].map(list(datasets).index)]
    return runs.iloc[np.lexsort(keys)].reset_index(drop=True)


def _with_capped_coverage(runs):
    capped = {"coverage_capped": runs["min_coverage"].clip(upper=_COVERAGE_ALPHA)}
    if "val_min_coverage" in runs:
        capped["val_coverage_capped"] = runs["val_min_coverage"].clip(upper=_COVERAGE_ALPHA)
    return runs.assign(**capped)


def _summarize(runs):
    """Mean and standard deviation over seeds per (data set, objective, method)."""
    runs = _with_capped_coverage(runs)
    grouped = runs.groupby(["dataset", "objective", "method"], sort=False)
    metrics = [*_METRICS, "coverage_capped"]
    summary = grouped[metrics].agg(["mean", "std"])
    summary.columns = [f"{metric}_{stat}" for metric, stat in summary.columns]
    summary["n_seeds"] = grouped["seed"].nunique()
    return summary


def _compare(a, b):
    """+1, 0 or -1 as ``a`` beats, ties or loses to ``b`` at the report's 3 decimals.

    Numbers that print alike tie, so that no verdict reads "0.713 < 0.713".
    """
    return int(np.sign(round(a, 3) - round(b, 3)))


class _Paired:
    """Two methods' scores on the seeds both ran: means and the paired difference.

    ``outcome`` is ``"ok"`` where ``a`` is at least ``b`` (at 3 decimals),
    ``"noise"`` where it falls short by at most two standard errors of the
    per-seed difference, and ``"loss"`` where it falls short by more.
    """

    def __init__(self, scores, a, b):
        paired = scores[[a, b]].dropna()
        difference = paired[a] - paired[b]
        self.a, self.b = paired[a].mean(), paired[b].mean()
        self.n = len(difference)
        self.error = difference.std(ddof=1) / np.sqrt(self.n) if self.n > 1 else np.nan
        self.difference = difference.mean()
        if _compare(self.a, self.b) >= 0:
            self.outcome = "ok"
        elif self.b - self.a <= 2 * self.error:
            self.outcome = "noise"
        else:
            self.outcome = "loss"

    def spread(self):
        if self.n < 2:
            return "1 seed"
        return (f"{self.n} seeds, paired difference {self.difference:+.3f} ± {self.error:.3f} "
                "s.e.")


def _target_verdicts(runs, other):
    """SelMix against the method ``other`` on each objective's target.

    Both fit on the same seeds, so the comparison is on the paired difference
    per seed: a shortfall within two of its standard errors is told apart
    from a loss. With the internal-split variants too where both methods have
    one. Returns ``(lines, losses, within_noise, total)``.
    """
    lines, outcomes = [], []
    for (dataset, objective), group in _with_capped_coverage(runs).groupby(
            ["dataset", "objective"], sort=False):
        target = _JUDGED[objective]
        scores = group.pivot_table(index="seed", columns="method", values=target)
        for suffix in ("", " (internal split)"):
            selmix, rival = "SelMix" + suffix, other + suffix
            if selmix not in scores or rival not in scores:
                continue
            pair = _Paired(scores, selmix, rival)
            outcomes.append(pair.outcome)
            head = (f"- {dataset}, {objective}: {selmix} {pair.a:.3f} vs {rival} {pair.b:.3f} "
                    f"{_LABELS[target]} ({pair.spread()})")
            shortfall = pair.b - pair.a
            lines.append(head + {
                "ok": f": SelMix >= {other}",
                "noise": f": below by {shortfall:.3f}, within two standard errors",
                "loss": f": **LOSES** by {shortfall:.3f}",
            }[pair.outcome])
    return lines, outcomes.count("loss"), outcomes.count("noise"), len(outcomes)


_PARETO_REFERENCE = "logit-adjusted + offsets"


def _pareto_candidate(scores, candidate, guard):
    """One candidate against the reference on the guarded metric and mean recall.

    Pareto-better needs the guard at least as high and mean recall higher (at
    3 decimals); a shortfall on either that is within two standard errors of
    its paired difference is noise; a larger one is a loss.
    """
    pairs = {metric: _Paired(scores[metric], candidate, _PARETO_REFERENCE)
             for metric in (guard, "mean_recall")}
    worse = [f"{_LABELS[metric]} {pair.a:.3f} < {pair.b:.3f} ({pair.spread()})"
             for metric, pair in pairs.items() if pair.outcome != "ok"]
    outcomes = {pair.outcome for pair in pairs.values()}
    mean = pairs["mean_recall"]
    if "loss" in outcomes:
        outcome, text = "loss", "**LOSES** on " + " and ".join(worse)
    elif "noise" in outcomes:
        outcome, text = "noise", "below within two standard errors on " + " and ".join(worse)
    elif _compare(mean.a, mean.b) > 0:
        outcome, text = "win", "Pareto-better"
    else:
        outcome, text = "noise", f"not better (ties on mean recall {mean.a:.3f})"
    guarded = pairs[guard]
    return outcome, (f"{candidate} ({_LABELS[guard]} {guarded.a:.3f}, mean recall "
                     f"{mean.a:.3f}): {text}")


def _pareto_verdicts(runs):
    """SelMix (+ offsets) against logit-adjusted + offsets, paired over seeds.

    A case is a win where either candidate is Pareto-better, a loss where
    both lose beyond the noise, and within noise otherwise. Returns
    ``(lines, losses, within_noise, total)``.
    """
    lines, verdicts = [], []
    for (dataset, objective), group in _with_capped_coverage(runs).groupby(
            ["dataset", "objective"], sort=False):
        guard = _JUDGED[objective]
        scores = {metric: group.pivot_table(index="seed", columns="method", values=metric)
                  for metric in (guard, "mean_recall")}
        methods = set(scores[guard].columns)
        candidates = [c for c in ("SelMix", "SelMix + offsets") if c in methods]
        if _PARETO_REFERENCE not in methods or not candidates:
            continue
        outcomes, parts = zip(*(_pareto_candidate(scores, c, guard) for c in candidates),
                              strict=True)
        verdict = ("win" if "win" in outcomes else "noise" if "noise" in outcomes else "loss")
        verdicts.append(verdict)
        reference = {metric: frame[_PARETO_REFERENCE].mean() for metric, frame in scores.items()}
        answer = {"win": "yes", "noise": "no, within noise", "loss": "**NO**"}[verdict]
        lines.append(
            f"- {dataset}, {objective}: Pareto-better than {_PARETO_REFERENCE} "
            f"({_LABELS[guard]} {reference[guard]:.3f}, mean recall "
            f"{reference['mean_recall']:.3f})? {answer}. " + "; ".join(parts)
        )
    return lines, verdicts.count("loss"), verdicts.count("noise"), len(verdicts)


def _validation_section(runs):
    """SelMix's change of the target on the validation set beside its change on test."""
    if "val_smallest_class" not in runs or runs["val_smallest_class"].isna().all():
        return []
    rows = []
    for (dataset, objective), group in _with_capped_coverage(runs).groupby(
            ["dataset", "objective"], sort=False):
        target = _JUDGED[objective]
        for suffix in ("", " (internal split)"):
            selmix, start = "SelMix" + suffix, "logit-adjusted" + suffix
            if not {selmix, start} <= set(group["method"]):
                continue
            cells = {"data set": dataset + suffix, "objective": objective,
                     "smallest validation class": int(
                         group.loc[group["method"] == selmix, "val_smallest_class"].min())}
            for where, column in (("validation", f"val_{target}"), ("test", target)):
                pair = _Paired(group.pivot_table(index="seed", columns="method", values=column),
                               selmix, start)
                cells[f"on {where}"] = (f"{pair.difference:+.3f}" if pair.n < 2
                                        else f"{pair.difference:+.3f} ± {pair.error:.3f}")
            rows.append(cells)
    return [
        "### Validation against test",
        "",
        "SelMix minus the network it starts from (logit-adjusted), on the target: on the "
        "validation set that steers the fine-tuning (the held-out share for the internal "
        "split) and on the test set; mean paired difference ± its standard error over seeds. "
        "A gain on validation that the test set does not show is the fine-tuning fitting the "
        "few validation samples of a class rather than the class.",
        "",
        _markdown_table(pd.DataFrame(rows)),
        "",
    ]


def _format_mean_std(mean, std, digits=3):
    if np.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _markdown_table(frame):
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _quality_table(summary, objective):
    rows = []
    for (dataset, obj, method), row in summary.iterrows():
        if obj != objective:
            continue
        cells = {"data set": dataset, "method": method}
        for metric in _METRICS:
            digits = 2 if metric == "fit_seconds" else 3
            cells[_LABELS[metric]] = _format_mean_std(row[f"{metric}_mean"],
                                                      row[f"{metric}_std"], digits)
        cells["seeds"] = int(row["n_seeds"])
        rows.append(cells)
    return _markdown_table(pd.DataFrame(rows))


def _verdict_count(claim, verdicts, unit="comparisons"):
    _, losses, within_noise, total = verdicts
    return (f"{claim} in {total - losses - within_noise} of {total} {unit}; below within "
            f"two standard errors of the paired difference in {within_noise}; it **loses "
            f"{losses}** by more.")


def _quality_section(runs):
    summary = _summarize(runs)
    uniform = _target_verdicts(runs, "uniform mixup")
    start = _target_verdicts(runs, "logit-adjusted")
    pareto = _pareto_verdicts(runs)
    seeds = sorted(runs["seed"].unique().tolist())
    lines = [
        "## Quality",
        "",
        f"Seeds {seeds}: each seed draws the data split and the estimator's randomness. "
        "Scores are on the test set; each cell is the mean ± standard deviation over seeds. "
        "All fine-tuning methods of a (data set, seed) start from one shared "
        "logit-adjusted pre-training (its time is in `pretrain_seconds` of runs.csv, not in "
        "`fit s`); cross-entropy and logit-adjusted do not depend on the objective and are "
        "repeated under each; SelMix is the SelMix + offsets fit without its offsets (the "
        "offsets are tuned after fine-tuning), so both show that fit's time; under a "
        "constrained objective, the estimator's default (`tune_offsets=\"auto\"`) is SelMix "
        "+ offsets. `min coverage` "
        "is the smallest ratio of a class's share of predictions to its share of the test "
        "set.",
        "",
        "The internal-split variants get the training data alone, as a user without a "
        "validation set would, and the estimator holds out a fifth of every class (one "
        "sample of a class of two) to estimate the gains: the rare classes lose data. Such "
        "a user can also keep the logit-adjusted network, which `finetune_steps=0` trains "
        "on all the training data.",
        "",
        "Targets: min_recall is judged on min recall, hmean on the H-mean of recalls, and "
        "mean_recall_min_coverage on its constraint, the smallest coverage ratio (met at "
        f"{_COVERAGE_ALPHA}: a higher one counts as met, not better). Against logit-adjusted "
        "+ offsets, a win must also have a higher mean recall (Pareto); there too a shortfall "
        "on either within two standard errors of its paired difference is told apart from a "
        "loss.",
        "",
        "### Verdicts",
        "",
        _verdict_count("SelMix >= uniform mixup on the target", uniform),
        "",
        *uniform[0],
        "",
        "Does fine-tuning help at all? SelMix against the network it starts from "
        "(logit-adjusted, no fine-tuning): " + _verdict_count(">=", start),
        "",
        *start[0],
        "",
        _verdict_count("SelMix or SelMix + offsets Pareto-better than logit-adjusted + "
                       "offsets", pareto, unit="cases"),
        "",
        *pareto[0],
        "",
    ]
    lines += _validation_section(runs)
    for objective in runs["objective"].unique():
        lines += [f"### Objective {objective}", "", _quality_table(summary, objective), ""]
    return lines


def _plot_quality(runs, output):
    """One PNG per objective: the guarded metric against mean recall, per data set."""
    summary = _summarize(runs).reset_index()
    paths = []
    methods = [m for m in METHODS if m in set(summary["method"])]
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    for objective, frame in summary.groupby("objective", sort=False):
        metric = "min_coverage" if _JUDGED[objective] == "coverage_capped" else _JUDGED[objective]
        datasets = list(dict.fromkeys(frame["dataset"]))
        ncols = min(4, len(datasets))
        nrows = math.ceil(len(datasets) / ncols)
        # Drawn without pyplot, so no display or GUI backend is needed.
        figure = Figure(figsize=(4 * ncols + 2.5, 3.4 * nrows), layout="constrained")
        axes = np.atleast_1d(figure.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, dataset in zip(axes, datasets, strict=False):
            for _, row in frame[frame["dataset"] == dataset].iterrows():
                ax.errorbar(row["mean_recall_mean"], row[f"{metric}_mean"],
                            xerr=np.nan_to_num(row["mean_recall_std"]),
                            yerr=np.nan_to_num(row[f"{metric}_std"]),
                            fmt="o", color=colours[row["method"]], label=row["method"],
                            capsize=3)
            ax.set_title(dataset)
            ax.set_xlabel("test mean recall")
            ax.set_ylabel(f"test {_LABELS[metric]}")
            ax.grid(alpha=0.3)
        for ax in axes[len(datasets):]:
            ax.set_visible(False)
        legend = {}
        for ax in axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                legend.setdefault(label, handle)
        figure.legend(legend.values(), legend.keys(), loc="outside right upper",
                      fontsize="small")
        figure.suptitle(f"Objective {objective}: mean ± std over seeds")
        path = Path(output) / f"quality_{objective}.png"
        figure.savefig(path, dpi=90)
        paths.append(path)
    return paths


def literal_gain(confusion, prototypes, weight, bias, dpsi_dC, *, lambda_min=0.6,
                 class_prior=None):
    """The SelMix gain through the full (K, K, K, K) tensor of logit changes.

    The reference that :func:`~selmix_sk.gain.compute_gain` is checked and
    timed against: for every pair (i, j) it forms the mixed prototype
    ``z_ij = lam z_i + (1 - lam) z_j``, the head's output
    ``p_ij = softmax(W z_ij + b)``, and materialises
    ``dA[i, j, k, l] = (delta_il - p_ij[l]) z_k . z_ij``, the change of the
    head's logit ``l`` on prototype ``k`` after one SGD step (unit learning
    rate) on the (i, j)-mixup; then ``G[i, j] = sum_{k, l} E[k, l] dA[i, j, k, l]``
    with ``E = d psi / d A``. O(K^4) time and memory: 800 MB at K = 100.

    Parameters
    ----------
    confusion, prototypes, weight, bias, dpsi_dC, lambda_min, class_prior
        As in :func:`~selmix_sk.gain.compute_gain` (NumPy arrays).

    Returns
    -------
    gain : ndarray of shape (K, K)
        Equal to ``compute_gain(..., indicator="exact")``.

    Examples
    --------
    >>> import numpy as np
    >>> from selmix_sk.gain import compute_gain
    >>> from selmix_sk._benchmark import literal_gain
    >>> rng = np.random.default_rng(0)
    >>> C = rng.random((4, 4)); C /= C.sum()
    >>> Z, W = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    >>> b, D = rng.normal(size=4), rng.normal(size=(4, 4))
    >>> G = literal_gain(C, Z, W, b, D, class_prior=C.sum(1))
    >>> np.allclose(G, compute_gain(C, Z, W, b, D, class_prior=C.sum(1)))
    True
    """
    C, Z, W, b, D = (np.asarray(a, dtype=np.float64)
                     for a in (confusion, prototypes, weight, bias, dpsi_dC))
    K = len(C)
    pi = np.full(K, 1.0 / K) if class_prior is None else np.asarray(class_prior, np.float64)
    lam = (1.0 + lambda_min) / 2.0
    DC = D * C
    E = DC - (DC.sum(axis=1) / pi)[:, None] * C
    mixed = lam * Z[:, None, :] + (1.0 - lam) * Z[None, :, :]
    logits = mixed @ W.T + b
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    overlap = mixed @ Z.T
    step = np.eye(K)[:, None, :] - p
    # A batched outer product: NumPy's broadcasting multiply is 8x slower here,
    # and a fair reference should be as fast as a K^4 tensor allows.
    dA = overlap[..., :, None] @ step[..., None, :]
    return np.tensordot(dA, E, axes=([2, 3], [0, 1]))


def _gain_inputs(K, d, seed):
    """Random gain inputs with a non-uniform class prior."""
    rng = np.random.default_rng(seed)
    C = rng.random((K, K)) * np.linspace(0.2, 2.0, K)[:, None]
    C /= C.sum()
    Z = rng.normal(size=(K, d))
    W = rng.normal(size=(K, d)) / np.sqrt(d)
    return (C, Z, W, rng.normal(size=K), rng.normal(size=(K, K))), {"class_prior": C.sum(1)}


_GAIN_IMPLEMENTATIONS = {"closed form": compute_gain, "literal K^4": literal_gain}


def _seconds(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _median_seconds(func, repeats, warmup=1):
    for _ in range(warmup):
        func()
    return float(np.median([_seconds(func) for _ in range(repeats)]))


def _proc_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def _peak_rss_during(func):
    """Peak resident memory of ``func()`` above the memory before it, in bytes.

    On Linux the high-water mark is reset first, so this is the peak during
    the call; elsewhere it is the growth of ``ru_maxrss``, a lower bound.
    """
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        before = _proc_kib("VmRSS")
        func()
        return (_proc_kib("VmHWM") - before) * 1024
    except OSError:
        import resource  # not on Windows

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        func()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (after - before) * (1 if sys.platform == "darwin" else 1024)


def _gain_peak_rss(implementation, K, d, seed):
    args, kwargs = _gain_inputs(K, d, seed)
    with limit_threads(1):
        return _peak_rss_during(partial(_GAIN_IMPLEMENTATIONS[implementation], *args, **kwargs))


def _fit_peak_rss(seed, estimator_params):
    data = load_long_tailed_digits(random_state=seed)
    clf = SelMixClassifier(random_state=seed, device="cpu", **estimator_params)
    with limit_threads(1):
        return _peak_rss_during(partial(clf.fit, data.X_train, data.y_train, data.X_val,
                                        data.y_val))


def _in_fresh_process(func, *args):
    """``func(*args)`` in a new interpreter; ``func`` of this module, JSON arguments.

    Memory that earlier work freed would otherwise be reused without showing
    in the resident set. A plain subprocess, unlike multiprocessing's spawn,
    does not re-run the caller's main script.
    """
    code = ("import json, sys; from selmix_sk import _benchmark; "
            f"print(json.dumps(_benchmark.{func.__name__}(*json.loads(sys.argv[1]))))")
    package_root = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", code, json.dumps(args)], check=True,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path})
    return json.loads(result.stdout.splitlines()[-1])


def _gain_speed(ks, *, literal_max_k, seed, measure_memory):
    """Median seconds (and peak memory) of both gain implementations at each K."""
    rows = []
    literal_previous = None
    for K in ks:
        args, kwargs = _gain_inputs(K, _GAIN_FEATURES, seed)
        for name, func in _GAIN_IMPLEMENTATIONS.items():
            row = {"implementation": name, "K": K, "d": _GAIN_FEATURES, "seconds": np.nan,
                   "peak_rss_mib": np.nan, "note": ""}
            if name == "literal K^4":
                tensor_bytes = 8 * K**4
                predicted = (0.0 if literal_previous is None
                             else literal_previous[1] * (K / literal_previous[0]) ** 4)
                if K > literal_max_k:
                    row["note"] = f"skipped: K > {literal_max_k} in this run"
                elif tensor_bytes > _LITERAL_MAX_BYTES:
                    row["note"] = (f"skipped: the K^4 tensor needs {tensor_bytes / 1024**3:,.0f} "
                                   "GiB (> 2 GiB)")
                elif predicted > _LITERAL_MAX_SECONDS:
                    row["note"] = f"skipped: predicted {predicted:.0f} s (> 60 s) from K^4"
                if row["note"]:
                    rows.append(row)
                    continue
            repeats = max(3, min(200, int(2e6 / K**3))) if name == "closed form" else 3
            row["seconds"] = _median_seconds(partial(func, *args, **kwargs), repeats)
            if name == "literal K^4":
                literal_previous = (K, row["seconds"])
            if measure_memory and K >= 100:
                row["peak_rss_mib"] = _in_fresh_process(_gain_peak_rss, name, K,
                                                        _GAIN_FEATURES, seed) / _MiB
            rows.append(row)
    return pd.DataFrame(rows)


def _step_speed(repeats, seed):
    """Median seconds of a SelMix step and of a plain step over the same 2 x batch samples."""
    rows = []
    for name, (n_features, hidden, n_classes) in _STEP_CONFIGS.items():
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        X = torch.randn(2048, n_features, generator=generator)
        y = torch.randint(n_classes, (2048,), generator=generator)
        module = MLP(n_features, n_classes, hidden_units=hidden)
        # Identical weights and optimizer settings; only the step differs.
        options = {"criterion": nn.CrossEntropyLoss, "optimizer": torch.optim.SGD, "lr": 0.01,
                   "optimizer__weight_decay": 5e-4, "device": "cpu"}
        plain_module = MLP(n_features, n_classes, hidden_units=hidden)
        plain_module.load_state_dict(module.state_dict())
        sampler = PairSampler(X, y, n_classes, _STEP_BATCH, 0.6, generator)
        selmix = SelMixNet(module, sampler=sampler, mixer=FeatureMixer(module),
                           refresh_every=20, total_steps=1, batch_size=_STEP_BATCH,
                           **options).initialize()
        plain = NeuralNet(plain_module, batch_size=2 * _STEP_BATCH, train_split=None,
                          **options).initialize()
        pair_batch = sampler.draw()
        plain_batch = (torch.cat(pair_batch[:2]), torch.cat([pair_batch[2], pair_batch[2]]))
        selmix_step = partial(selmix.train_step, pair_batch)
        plain_step = partial(plain.train_step, plain_batch)
        for _ in range(10):
            selmix_step()
            plain_step()
        # Interleaved, so that a change of machine load hits both alike.
        times = np.array([(_seconds(selmix_step), _seconds(plain_step)) for _ in range(repeats)])
        draw = _median_seconds(sampler.draw, repeats)
        selmix_s, plain_s = np.median(times, axis=0)
        rows.append({"module": name, "batch": f"{_STEP_BATCH} pairs / {2 * _STEP_BATCH} samples",
                     "plain_step_ms": 1e3 * plain_s, "selmix_step_ms": 1e3 * selmix_s,
                     "pair_draw_ms": 1e3 * draw, "ratio": selmix_s / plain_s,
                     "ratio_with_draw": (selmix_s + draw) / plain_s})
    return pd.DataFrame(rows)


def run_speed(*, quick=False, seed=0, ks=GAIN_KS, measure_memory=True, step_repeats=None):
    """Time the gain and the fine-tuning step, and measure peak memory.

    Runs with one torch thread, in this process, except memory
    measurements, each in a fresh process.

    Parameters
    ----------
    quick : bool, default=False
        The literal gain only up to K = 100, fewer repetitions of the step.
    seed : int, default=0
    ks : sequence of int, default=GAIN_KS
        Numbers of classes to time the gain at.
    measure_memory : bool, default=True
        Peak memory of the gain (K >= 100) and of a default fit on
        long-tailed digits, each in a fresh process (a few seconds each).
    step_repeats : int, default=None
        Repetitions of each step; None: 100, or 300 without ``quick``.

    Returns
    -------
    results : dict
        ``"gain"``: a DataFrame with a row per implementation and K;
        ``"step"``: a row per module with the median step times (ms) and
        their ratio; ``"fit_memory_mib"``: peak memory of a fit, or None.

    Examples
    --------
    >>> from selmix_sk._benchmark import run_speed
    >>> results = run_speed(ks=(5, 10), measure_memory=False, step_repeats=3)
    >>> results["gain"][["implementation", "K"]].values.tolist()
    [['closed form', 5], ['literal K^4', 5], ['closed form', 10], ['literal K^4', 10]]
    >>> results["step"]["module"].tolist()
    ['MLP 64-128-128-10', 'wide MLP 256-1024-1024-100']
    """
    with limit_threads(1):
        gain = _gain_speed(ks, literal_max_k=100 if quick else max(ks), seed=seed,
                           measure_memory=measure_memory)
        repeats = step_repeats or (100 if quick else 300)
        step = _step_speed(repeats, seed)
    fit_memory = (_in_fresh_process(_fit_peak_rss, seed, {}) / _MiB if measure_memory
                  else None)
    return {"gain": gain, "step": step, "fit_memory_mib": fit_memory}


def _check(label, met, detail):
    return f"- {'met' if met else '**NOT met**'}: {label}: {detail}"


def _speed_section(speed):
    gain, step = speed["gain"], speed["step"]
    closed = gain[gain["implementation"] == "closed form"].set_index("K")
    literal = gain[gain["implementation"] == "literal K^4"].set_index("K")
    table = gain.assign(
        ms=(1e3 * gain["seconds"]).map(lambda v: "" if np.isnan(v) else f"{v:,.3f}"),
        peak=gain["peak_rss_mib"].map(lambda v: "" if np.isnan(v) else f"{v:,.1f}"),
    )[["implementation", "K", "d", "ms", "peak", "note"]]
    table.columns = ["implementation", "K", "d", "median ms", "peak memory MiB", "note"]
    lines = [
        "## Speed",
        "",
        "One torch thread. Times are medians after warm-up. Peak memory is the peak "
        "resident set during one call in a fresh process, above the memory before it "
        "(one-off library buffers included).",
        "",
        "### Closed-form gain against the literal K^4 formulation",
        "",
        f"Random inputs with feature dimension d = {_GAIN_FEATURES} and a non-uniform class "
        "prior; the literal one materialises the (K, K, K, K) tensor of logit changes "
        "(`literal_gain`).",
        "",
        _markdown_table(table),
        "",
    ]
    targets = []
    if 100 in closed.index and 100 in literal.index and not np.isnan(literal.at[100, "seconds"]):
        speedup = literal.at[100, "seconds"] / closed.at[100, "seconds"]
        targets.append(_check("speed-up of the closed form over the literal one at K = 100",
                              speedup >= _TARGETS["speedup_k100"],
                              f"{speedup:,.0f}x (target >= 1000x)"))
    for K, key, target in ((100, "closed_k100_s", "< 10 ms"), (1000, "closed_k1000_s", "< 2 s")):
        if K in closed.index:
            seconds = closed.at[K, "seconds"]
            targets.append(_check(f"closed-form gain at K = {K}", seconds < _TARGETS[key],
                                  f"{1e3 * seconds:,.2f} ms (target {target})"))
    step_table = step.copy()
    for column in ("plain_step_ms", "selmix_step_ms", "pair_draw_ms"):
        step_table[column] = step_table[column].map("{:.3f}".format)
    for column in ("ratio", "ratio_with_draw"):
        step_table[column] = step_table[column].map("{:.2f}".format)
    step_table.columns = ["module", "batch", "plain step ms", "SelMix step ms",
                          "pair draw ms", "SelMix / plain", "(SelMix + draw) / plain"]
    lines += [
        "### A SelMix step against a plain step",
        "",
        "`SelMixNet.train_step` on a batch of pairs (one forward pass over both halves, the "
        "head on the mixed features) against skorch's `NeuralNet.train_step` on the same "
        "2 x batch samples, same module weights, SGD; interleaved repetitions. The pair "
        "draw is the iterator's work, outside the step; it is shown apart.",
        "",
        _markdown_table(step_table),
        "",
    ]
    for _, row in step.iterrows():
        targets.append(_check(f"SelMix step / plain step, {row['module']}",
                              row["ratio"] <= _TARGETS["step_ratio"],
                              f"{row['ratio']:.2f}x (target <= 1.2x; with the pair draw "
                              f"{row['ratio_with_draw']:.2f}x)"))
    if speed["fit_memory_mib"] is not None:
        lines += [
            "### Peak memory of a fit",
            "",
            f"A default `SelMixClassifier` fit (pre-training and 500 SelMix steps) on "
            f"long-tailed digits: peak resident memory {speed['fit_memory_mib']:,.1f} MiB above "
            "the process's memory before the fit (data loaded, torch imported).",
            "",
        ]
    lines += ["### Targets", "", *targets, ""]
    return lines


def _plot_speed(speed, output):
    gain, step = speed["gain"], speed["step"]
    figure = Figure(figsize=(11, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    for name, frame in gain.dropna(subset=["seconds"]).groupby("implementation", sort=False):
        left.loglog(frame["K"], frame["seconds"], "o-", label=name)
    left.set_xlabel("number of classes K")
    left.set_ylabel("median seconds per gain")
    left.set_title("Gain of all K^2 pairs")
    left.grid(alpha=0.3, which="both")
    left.legend()
    positions = np.arange(len(step))
    width = 0.25
    for offset, (column, label) in zip(
        (-width, 0.0, width),
        [("plain_step_ms", "plain step"), ("selmix_step_ms", "SelMix step"),
         ("pair_draw_ms", "pair draw")],
        strict=True,
    ):
        right.bar(positions + offset, step[column], width, label=label)
    right.set_xticks(positions, step["module"], fontsize="small")
    right.set_ylabel("median ms")
    right.set_title(f"Training step, {_STEP_BATCH} pairs / {2 * _STEP_BATCH} samples")
    right.legend()
    path = Path(output) / "speed.png"
    figure.savefig(path, dpi=90)
    return path


def _header(command, elapsed):
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    lines = [
        "# selmix-sk benchmark report",
        "",
        f"- command: `{command}`",
        f"- selmix-sk {__version__}; torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, skorch {skorch.__version__}, NumPy {np.__version__}, "
        f"pandas {pd.__version__}, Python {platform.python_version()}",
        f"- CPUs: {os.cpu_count()} (usable: {affinity}); {platform.platform()}",
        f"- date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
    ]
    if elapsed is not None:
        lines.append(f"- wall time: {elapsed:,.0f} s")
    return [*lines, ""]


def write_report(output, *, command, runs=None, speed=None, elapsed=None):
    """Write ``report.md`` and the plots from quality runs and speed results.

    Parameters
    ----------
    output : str or Path
        Directory, created if needed.
    command : str
        The command line, for the header.
    runs : pandas.DataFrame, default=None
        From :func:`run_quality`; None leaves the quality section out.
    speed : dict, default=None
        From :func:`run_speed`; None leaves the speed section out.
    elapsed : float, default=None
        Wall time of the benchmark in seconds, for the header.

    Returns
    -------
    paths : list of Path
        ``report.md`` first, then the plots.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from selmix_sk._benchmark import write_report
    >>> runs = pd.DataFrame({
    ...     "dataset": "toy", "objective": "min_recall", "seed": 0, "validation": "explicit",
    ...     "method": ["uniform mixup", "SelMix", "logit-adjusted + offsets"],
    ...     "mean_recall": [0.8, 0.8, 0.9], "min_recall": [0.5, 0.4, 0.6], "hmean": 0.7,
    ...     "min_coverage": 0.9, "fit_seconds": 1.0, "pretrain_seconds": 2.0})
    >>> paths = write_report(tempfile.mkdtemp(), command="selmix-sk benchmark", runs=runs)
    >>> text = paths[0].read_text()
    >>> "SelMix 0.400 vs uniform mixup 0.500 min recall (1 seed): **LOSES** by 0.100" in text
    True
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    lines = _header(command, elapsed)
    plots = []
    if runs is not None:
        lines += _quality_section(runs)
        plots += _plot_quality(runs, output)
    if speed is not None:
        lines += _speed_section(speed)
        plots.append(_plot_speed(speed, output))
    lines += ["## Files", "", *(f"- `{p.name}`" for p in plots), ""]
    report = output / "report.md"
    report.write_text("\n".join(lines))
    return [report, *plots]


def run_benchmark(output, *, suite="all", quick=False, seeds=None, seed=0, n_jobs=2,
                  datasets=None, objectives=OBJECTIVES, estimator_params=None, command=None,
                  progress=None):
    """Run the quality and/or speed suites and write the report, CSVs and plots.

    Parameters
    ----------
    output : str or Path
        Directory, created if needed.
    suite : {"all", "quality", "speed"}, default="all"
    quick : bool, default=False
        Data sets ``QUICK_DATASETS``, 2 seeds, and the quick speed suite.
    seeds : int, default=None
        Number of seeds, ``seed, seed + 1, ...``; None: 10, or 2 with ``quick``.
    seed : int, default=0
        First seed.
    n_jobs : int, default=2
        Processes of the quality suite.
    datasets : sequence of str, default=None
        Keys of ``QUALITY_DATASETS`` or ``HELD_OUT_DATASETS``; None: all of
        ``QUALITY_DATASETS``, or ``QUICK_DATASETS`` with ``quick``.
    objectives : sequence of str, default=OBJECTIVES
    estimator_params : dict, default=None
        Passed to every estimator of the quality suite; see
        :func:`run_quality`.
    command : str, default=None
        The command line for the report's header.
    progress : callable, default=None
        Called with a line of text at each stage.

    Returns
    -------
    paths : list of Path
        Everything written, ``report.md`` first.

    Examples
    --------
    >>> import tempfile
    >>> from selmix_sk._benchmark import run_benchmark
    >>> paths = run_benchmark(tempfile.mkdtemp(), suite="quality", datasets=["wine"], seeds=1,
    ...                       objectives=["min_recall"], n_jobs=1,
    ...                       estimator_params={"pretrain_epochs": 2, "finetune_steps": 2})
    >>> sorted(p.name for p in paths)
    ['quality_min_recall.png', 'report.md', 'runs.csv']
    """
    if suite not in ("all", "quality", "speed"):
        raise ValueError(f"suite must be 'all', 'quality' or 'speed', got {suite!r}.")
    start = time.perf_counter()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    n_seeds = seeds if seeds is not None else (2 if quick else 10)
    if datasets is None:
        datasets = QUICK_DATASETS if quick else tuple(QUALITY_DATASETS)
    runs = speed = None
    written = []
    if suite in ("all", "quality"):
        runs = run_quality(datasets, range(seed, seed + n_seeds), objectives=objectives,
                           n_jobs=n_jobs, estimator_params=estimator_params, progress=progress)
        runs.to_csv(output / "runs.csv", index=False)
        written.append(output / "runs.csv")
    if suite in ("all", "speed"):
        if progress is not None:
            progress("speed: gain, training step and fit memory")
        speed = run_speed(quick=quick, seed=seed)
        for name in ("gain", "step"):
            speed[name].to_csv(output / f"speed_{name}.csv", index=False)
            written.append(output / f"speed_{name}.csv")
    paths = write_report(output, command=command or "run_benchmark(...)", runs=runs,
                         speed=speed, elapsed=time.perf_counter() - start)
    return [paths[0], *written, *paths[1:]]
