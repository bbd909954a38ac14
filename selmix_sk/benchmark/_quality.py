"""The quality suite: every method on every data set and seed, scored on test."""

import copy
import time
import warnings

import joblib
import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._classifier import SelMixClassifier
from ..metrics import coverage_score, hmean_recall_score, mean_recall_score, min_recall_score
from ._data import _ALL_DATASETS, INTERNAL_SPLIT_DATASETS
from ._threads import limit_threads

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
    >>> from selmix_sk.benchmark import run_quality
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
