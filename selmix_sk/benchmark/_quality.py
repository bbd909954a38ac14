"""The quality suite: every method on every data set and seed, scored on test."""

import copy
import time
import warnings

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._classifier import SelMixClassifier
from .._optional import import_optional
from .._plugin import TunedOffsetsClassifierCV
from .._threads import limit_threads
from ..metrics import coverage_score, hmean_recall_score, mean_recall_score, min_recall_score
from ._data import _ALL_DATASETS

OBJECTIVES = ("min_recall", "hmean", "mean_recall_min_coverage")

# With the explicit validation set. Fine-tuning methods start from the shared
# logit-adjusted network. The decision layer is set explicitly, so that no row
# changes meaning with the objective: the ablations are plain networks, and
# "SelMix + decision layer" has the estimator's defaults.
_FINETUNED = {
    "uniform mixup": {"selection": "uniform", "tune_offsets": False},
    "greedy": {"selection": "greedy", "tune_offsets": False},
    "SelMix + decision layer": {},
}
# Without a validation set: the training and validation parts in one fit(X, y),
# as a user who has no validation set calls it, with the estimator's defaults
# for how the held-out signal is drawn; "single split" is the fit(X, y) of
# before cross-fitting, a fifth of every class held out.
_NO_VALIDATION = {
    "SelMix, fit(X, y)": {},
    "SelMix, single split": {"cv": 0.2},
}
# A fit and the row of the same fit predicting without its offsets: what the
# decision layer adds to one fine-tuned network.
_WITHOUT_DECISION_LAYER = {
    "SelMix + decision layer": "SelMix",
    "SelMix, fit(X, y)": "SelMix without decision layer, fit(X, y)",
}
PEERS = ("logistic regression", "gradient boosting", "balanced random forest")
# The classic peers with the decision layer over them, tuned for the objective:
# judged apart from PEERS, which do not depend on the objective.
PLUGIN_PEERS = ("gradient boosting + plug-in",)
METHODS = ("cross-entropy", "logit-adjusted", "logit-adjusted + plug-in", "uniform mixup",
           "greedy", "SelMix", "SelMix + decision layer", "pre-trained, fit(X, y)",
           "pre-trained + plug-in, fit(X, y)", "SelMix, fit(X, y)",
           "SelMix without decision layer, fit(X, y)", "SelMix, single split", *PEERS,
           *PLUGIN_PEERS)
_SCORES = ["mean_recall", "min_recall", "hmean", "min_coverage"]
# The same scores on the validation set the fit saw, and the size of its
# smallest class; empty where the fit drew its own held-out parts. Then what
# the fit kept: whether fine-tuning kept its start, whether the decision layer
# applied.
RUN_COLUMNS = ["dataset", "method", "objective", "seed", "validation", *_SCORES, "fit_seconds",
               "pretrain_seconds", *(f"val_{score}" for score in _SCORES),
               "val_smallest_class", "kept_start", "decision_applied"]


def _peers(seed):
    """The estimators a user would pick instead, each weighting the classes alike.

    They need no validation set, so they train on all the labelled data.
    """
    ensemble = import_optional("imblearn.ensemble", "imbalanced-learn", "The benchmark")
    return {
        "logistic regression": make_pipeline(
            StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=5000,
                                                 random_state=seed)),
        "gradient boosting": HistGradientBoostingClassifier(class_weight="balanced",
                                                            random_state=seed),
        "balanced random forest": ensemble.BalancedRandomForestClassifier(random_state=seed,
                                                                          n_jobs=1),
    }


def _plug_in(estimator, objective, seed, cv=5):
    """The decision layer over ``estimator``, tuned out of fold (or on the data given, prefit)."""
    return TunedOffsetsClassifierCV(estimator, objective=objective, cv=cv, random_state=seed)


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
    plain.tune_offsets = False
    return plain


def _fit_facts(clf):
    """What a fit kept: ``kept_start`` and ``decision_applied``, NaN where they do not apply.

    ``kept_start`` is whether a fine-tuning fit kept the weights it started
    from; ``decision_applied`` whether a fit with a decision layer applied its
    offsets.
    """
    fine_tuned = (isinstance(clf, SelMixClassifier) and clf.finetune_steps > 0
                  and clf.kept_refresh_ is not None)
    layered = (isinstance(clf, SelMixClassifier | TunedOffsetsClassifierCV)
               and clf.tune_offsets is not False)
    return {"kept_start": clf.kept_refresh_ == 0 if fine_tuned else np.nan,
            "decision_applied": clf.decision_layer_["applied"] if layered else np.nan}


def _timed_fit(clf, *data):
    start = time.perf_counter()
    clf.fit(*data)
    return clf, time.perf_counter() - start


def _quality_unit(dataset, seed, objectives, estimator_params):
    """Every method on one data set and seed: ``((dataset, seed), run records)``."""
    with limit_threads(1), warnings.catch_warnings():
        # fit(X, y) holds out tiny classes on the rows without a validation set, and the
        # plug-ins' five folds are short of a class of fewer than five samples.
        warnings.filterwarnings("ignore", "The held-out parts of y", UserWarning)
        warnings.filterwarnings("ignore", "The least populated class in y", UserWarning)
        data = _ALL_DATASETS[dataset](random_state=seed)
        common = {"random_state": seed, "device": "cpu", **estimator_params}
        plain = {**common, "finetune_steps": 0, "tune_offsets": False}
        val = (data.X_val, data.y_val)
        test = (data.X_test, data.y_test)
        labelled = (np.concatenate([data.X_train, data.X_val]),
                    np.concatenate([data.y_train, data.y_val]))

        def seen(clf, validation):
            """The scores on the explicit validation set and its smallest class, if any."""
            if validation != "explicit":
                return {**dict.fromkeys((f"val_{score}" for score in _SCORES), np.nan),
                        "val_smallest_class": np.nan}
            return {**{f"val_{score}": value for score, value in _scores(clf, *val).items()},
                    "val_smallest_class": np.unique(data.y_val, return_counts=True)[1].min()}

        def record(method, objective, clf, seconds, pretrain_seconds, validation="explicit"):
            """The rows of one fit: its own, and the one without offsets where it has one."""
            fits = {method: clf}
            if method in _WITHOUT_DECISION_LAYER:
                fits[_WITHOUT_DECISION_LAYER[method]] = _without_offsets(clf)
            return [{"dataset": dataset, "method": name, "objective": objective, "seed": seed,
                     "validation": validation, **_scores(fitted, *test),
                     "fit_seconds": seconds, "pretrain_seconds": pretrain_seconds,
                     **seen(fitted, validation), **_fit_facts(fitted)}
                    for name, fitted in fits.items()]

        ce, ce_s = _timed_fit(SelMixClassifier(**{**plain, "logit_adjustment": 0.0}),
                              data.X_train, data.y_train, *val)
        la, la_s = _timed_fit(SelMixClassifier(**plain), data.X_train, data.y_train, *val)
        pretrained = _timed_fit(SelMixClassifier(**plain), *labelled)
        classic = _peers(seed)
        peers = {name: _timed_fit(clone(peer), *labelled) for name, peer in classic.items()}
        rows = []
        for objective in objectives:
            rows += record("cross-entropy", objective, ce, ce_s, 0.0)
            rows += record("logit-adjusted", objective, la, la_s, 0.0)
            rows += record("logit-adjusted + plug-in", objective,
                           *_timed_fit(_plug_in(la, objective, seed, cv="prefit"), *val), la_s)
            for method, params in _FINETUNED.items():
                clf, seconds = _timed_fit(
                    SelMixClassifier(la.net_, **{**common, "objective": objective, **params}),
                    data.X_train, data.y_train, *val)
                rows += record(method, objective, clf, seconds, la_s)
            fits = {"pre-trained, fit(X, y)": pretrained,
                    "pre-trained + plug-in, fit(X, y)": _timed_fit(
                        _plug_in(SelMixClassifier(**plain), objective, seed), *labelled)}
            for method, params in _NO_VALIDATION.items():
                fits[method] = _timed_fit(
                    SelMixClassifier(**{**common, "objective": objective, **params}), *labelled)
            fits |= peers
            fits["gradient boosting + plug-in"] = _timed_fit(
                _plug_in(clone(classic["gradient boosting"]), objective, seed), *labelled)
            for method, (clf, seconds) in fits.items():
                rows += record(method, objective, clf, seconds, 0.0, "none")
    return (dataset, seed), rows


def run_quality(datasets, seeds, *, objectives=OBJECTIVES, n_jobs=2, estimator_params=None,
                progress=None):
    """Fit every method on every data set and seed; score it on the test set.

    For each (data set, seed) one network is pre-trained with the
    logit-adjusted loss and shared, through ``SelMixClassifier(net=...)``, by
    every fine-tuning method; the cross-entropy baseline is pre-trained
    apart. These fits get the data set's explicit validation set
    (``validation="explicit"``): the two plain networks ("cross-entropy",
    "logit-adjusted", ``finetune_steps=0, tune_offsets=False``), the
    logit-adjusted network with the decision layer tuned on the validation
    set ("logit-adjusted + plug-in",
    ``TunedOffsetsClassifierCV(cv="prefit")``), the ablations "uniform mixup"
    and "greedy" (``tune_offsets=False``), "SelMix + decision layer" (the
    estimator's defaults) and "SelMix", that same fit predicting without its
    offsets.

    The rows with ``validation="none"`` see the training and validation parts
    together, as a user without a validation set has them:
    ``SelMixClassifier(finetune_steps=0, tune_offsets=False).fit(X, y)``
    ("pre-trained, fit(X, y)"), the same wrapped in
    ``TunedOffsetsClassifierCV(cv=5)`` ("pre-trained + plug-in, fit(X, y)"),
    ``SelMixClassifier(objective=...).fit(X, y)`` with the estimator's
    defaults ("SelMix, fit(X, y)"; "SelMix without decision layer, fit(X, y)"
    is that fit without its offsets) and with ``cv=0.2`` ("SelMix, single
    split"); the classic peers ``PEERS``: a standardised
    ``LogisticRegression(class_weight="balanced")``,
    ``HistGradientBoostingClassifier(class_weight="balanced")`` and
    imbalanced-learn's ``BalancedRandomForestClassifier``; and
    ``PLUGIN_PEERS``, the gradient boosting wrapped in
    ``TunedOffsetsClassifierCV(cv=5)``. The seed draws the data split and
    every estimator's randomness.

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
        One row per run, with the columns ``RUN_COLUMNS``. The plain networks,
        "pre-trained, fit(X, y)" and the classic peers do not depend on the
        objective and appear once per objective with the same scores.
        ``fit_seconds`` is the run's own ``fit``: the tuning of the offsets for
        "logit-adjusted + plug-in", the fit it comes from for a fit predicting
        without its offsets; ``pretrain_seconds`` the shared pre-training it
        started from. The ``val_`` columns hold the scores on the explicit
        validation set and the size of its smallest class; they are empty for
        the rows without one. ``kept_start`` is whether a fit that fine-tuned
        kept the weights it started from (``kept_refresh_ == 0``), and
        ``decision_applied`` whether a fit with a decision layer applied its
        offsets (``decision_layer_["applied"]``); both are empty where they do
        not apply.

    Examples
    --------
    >>> from selmix_sk.benchmark import run_quality
    >>> runs = run_quality(["wine"], [0], objectives=["min_recall"], n_jobs=1,
    ...                    estimator_params={"pretrain_epochs": 2, "finetune_steps": 2})
    >>> runs["method"].tolist()[:3]
    ['cross-entropy', 'logit-adjusted', 'logit-adjusted + plug-in']
    >>> runs.set_index("method").loc["SelMix + decision layer", "kept_start"] in (True, False)
    True
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
