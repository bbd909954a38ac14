"""The cost of cross-fitting: fit time at 5 folds against the single split."""

import time
import warnings

import pandas as pd

from .._classifier import SelMixClassifier
from .._threads import limit_threads
from ._data import _check_datasets, _labelled

# How fit(X, y) draws its held-out signal, timed: cross-fitting at 5 folds, two at
# a time in their own processes, against the single split of a fifth of every class.
COST_METHODS = {
    "single split": {"cv": 0.2},
    "5 folds, n_jobs=2": {"cv": 5, "n_jobs": 2},
}
# The most fit time the 5 folds may take, as a multiple of the single split's.
COST_TARGET = 5.0


def run_cost(datasets, seeds, *, objective="min_recall", estimator_params=None, progress=None):
    """Time ``fit(X, y)`` with each of ``COST_METHODS``, one fit at a time.

    Each fit has the machine to itself, unlike the quality suite's, which
    run side by side: the folds' processes would contend with the other
    runs. The data are a data set's training and validation parts together,
    as in the quality suite's rows without a validation set; one torch
    thread in this process, and joblib's limit in the folds' processes.

    Parameters
    ----------
    datasets : sequence of str
        Keys of ``QUALITY_DATASETS`` or ``HELD_OUT_DATASETS``.
    seeds : sequence of int
        Each draws the data split and the estimator's randomness.
    objective : str, default="min_recall"
    estimator_params : dict, default=None
        Passed to every :class:`~selmix_sk.SelMixClassifier`; the methods'
        ``cv`` and ``n_jobs`` take precedence.
    progress : callable, default=None
        Called with a line of text as each (data set, seed) pair finishes.

    Returns
    -------
    cost : pandas.DataFrame
        One row per fit: ``dataset``, ``seed``, ``method`` and ``fit_seconds``.

    Examples
    --------
    >>> from selmix_sk.benchmark import run_cost
    >>> cost = run_cost(["wine"], [0], estimator_params={"pretrain_epochs": 2,
    ...                                                  "finetune_steps": 2})
    >>> cost["method"].tolist()
    ['single split', '5 folds, n_jobs=2']
    """
    _check_datasets(datasets)
    rows = []
    for dataset in datasets:
        for seed in seeds:
            X, y = _labelled(dataset, seed)
            for method, params in COST_METHODS.items():
                clf = SelMixClassifier(**{"random_state": seed, "device": "cpu",
                                          **(estimator_params or {}), "objective": objective,
                                          **params})
                with limit_threads(1), warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "The held-out parts of y",
                                            UserWarning)
                    start = time.perf_counter()
                    clf.fit(X, y)
                    seconds = time.perf_counter() - start
                rows.append({"dataset": dataset, "seed": seed, "method": method,
                             "fit_seconds": seconds})
            if progress is not None:
                progress(f"cost: {dataset} seed {seed} done")
    return pd.DataFrame(rows, columns=["dataset", "seed", "method", "fit_seconds"])
