"""What a user's fit costs: ``fit(X, y)`` with the defaults and nothing around it.

The other suites run their estimators inside :func:`limit_threads`, one
thread a process, two processes side by side: faster for these small
networks, but no user runs that. Here the estimator's own thread setting
(``n_threads="auto"``) is all there is, on a quiet machine against the
gradient boosting a user would pick instead, and with one core kept busy
by a second process, as on a machine that does anything else.
"""

import subprocess
import sys
import warnings
from contextlib import contextmanager, nullcontext
from functools import partial

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from .._classifier import SelMixClassifier
from .._threads import limit_threads
from ._data import QUALITY_DATASETS, _check_datasets, _labelled
from ._speed import _seconds

__all__ = ["USER_TARGETS", "run_user_speed"]

# Issue 24's targets: with one core busy, the default fit at most this many times the
# same fit inside limit_threads(1); on a quiet machine, at most this many times the
# gradient boosting's fit of the same table.
USER_TARGETS = {"busy_ratio": 1.2, "peer_ratio": 10.0}
# The busy machine is timed on the table closest to this many rows (issue 24's 1,038).
_BUSY_ROWS = 1000
_COLUMNS = ["dataset", "n_samples", "seed", "load", "fit", "seconds"]


def _selmix(**overrides):
    def make(seed, params):
        return SelMixClassifier(**{"device": "cpu", **params, "objective": "min_recall",
                                   "random_state": seed, **overrides})
    return make


def _gradient_boosting(seed, params):
    return HistGradientBoostingClassifier(class_weight="balanced", random_state=seed)


# Each fit by name: the estimator of a seed and the estimator settings, and what the
# fit runs inside.
_FITS = {
    "SelMix defaults": (_selmix(), nullcontext),
    "SelMix inside limit_threads(1)": (_selmix(), partial(limit_threads, 1)),
    "SelMix, n_threads=None": (_selmix(n_threads=None), nullcontext),
    "gradient boosting": (_gradient_boosting, nullcontext),
}
_DEFAULT, _LIMITED, _TORCH_THREADS, _PEER = _FITS


@contextmanager
def _one_core_busy():
    """A second process spinning on a core while the block runs, killed after it, on errors too."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield spinner
    finally:
        spinner.kill()
        spinner.wait()


def _fit_seconds(fit, seed, params, X, y):
    make, around = _FITS[fit]
    estimator = make(seed, params)
    with around():
        return _seconds(partial(estimator.fit, X, y))


def run_user_speed(datasets=None, seeds=(0, 1, 2), *, estimator_params=None, progress=None):
    """Time ``fit(X, y)`` as a user runs it, on a quiet machine and with one core busy.

    No thread limit around the estimators. On each data set's training and
    validation parts together: ``SelMixClassifier(objective="min_recall")``
    with its defaults otherwise (on the CPU) and
    ``HistGradientBoostingClassifier(class_weight="balanced")``. Then, on the
    data set closest to 1,000 rows among ``datasets``, with a second process
    spinning on a core during each fit: the default fit, the same inside
    ``limit_threads(1)``, and ``n_threads=None`` (torch's own threads, as
    before the estimator set them), this last on the first seed only as it
    is by far the slowest. One fit at a time, interleaved seed by seed, so
    that a change of load hits them alike; report medians over seeds.

    Parameters
    ----------
    datasets : sequence of str, default=None
        Keys of ``QUALITY_DATASETS`` or ``HELD_OUT_DATASETS``; None: all of
        ``QUALITY_DATASETS``.
    seeds : sequence of int, default=(0, 1, 2)
        Each draws the data split and the estimators' randomness.
    estimator_params : dict, default=None
        Passed to every :class:`~selmix_sk.SelMixClassifier`, e.g. fewer
        epochs and steps for a quick check; None: its defaults.
    progress : callable, default=None
        Called with a line of text as each seed finishes.

    Returns
    -------
    user : pandas.DataFrame
        One row per fit: ``dataset``, ``n_samples`` (rows fitted), ``seed``,
        ``load`` ("quiet" or "one core busy"), ``fit`` (which estimator, and
        around what) and ``seconds``.

    Examples
    --------
    >>> from selmix_sk.benchmark import run_user_speed
    >>> user = run_user_speed(["wine"], [0], estimator_params={"pretrain_epochs": 2,
    ...                                                        "finetune_steps": 4})
    >>> for load, fit in user[["load", "fit"]].values:
    ...     print(f"{load}: {fit}")
    quiet: SelMix defaults
    quiet: gradient boosting
    one core busy: SelMix defaults
    one core busy: SelMix inside limit_threads(1)
    one core busy: SelMix, n_threads=None
    """
    datasets = list(QUALITY_DATASETS) if datasets is None else list(datasets)
    _check_datasets(datasets)
    if not datasets or not seeds:
        raise ValueError("Need at least one data set and seed.")
    params = estimator_params or {}
    sizes = {name: len(_labelled(name, seeds[0])[1]) for name in datasets}
    busy = min(datasets, key=lambda name: abs(sizes[name] - _BUSY_ROWS))
    rows = []

    def timed(dataset, seed, load, fits, X, y, around=nullcontext):
        for fit in fits:
            with around():
                seconds = _fit_seconds(fit, seed, params, X, y)
            rows.append({"dataset": dataset, "n_samples": len(y), "seed": seed, "load": load,
                         "fit": fit, "seconds": seconds})

    with warnings.catch_warnings():
        # fit(X, y) holds out tiny classes of the small tables, and says so every time.
        warnings.filterwarnings("ignore", "The held-out parts of y", UserWarning)
        for seed in seeds:
            for dataset in datasets:
                timed(dataset, seed, "quiet", (_DEFAULT, _PEER), *_labelled(dataset, seed))
            before = (_TORCH_THREADS,) if seed == seeds[0] else ()
            timed(busy, seed, "one core busy", (_DEFAULT, _LIMITED, *before),
                  *_labelled(busy, seed), around=_one_core_busy)
            if progress is not None:
                progress(f"user speed: seed {seed} done")
    return pd.DataFrame(rows, columns=_COLUMNS)
