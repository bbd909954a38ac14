"""The data sets of the quality suite: which of :data:`selmix_sk.datasets.DATASETS` it runs."""

import numpy as np

from ..datasets import DATASETS

QUALITY_DATASETS = {name: DATASETS[name] for name in (
    "digits_lt_10", "digits_lt_50", "digits_lt_100", "mnist1d_lt", "seattle_weather", "cars",
    "wine", "glass", "olive_oil",
)}
# Data sets that no default was chosen on, outside the default run: name them
# with --datasets to check that the defaults carry over to new data.
HELD_OUT_DATASETS = {name: DATASETS[name] for name in (
    "synthetic_lt", "breast_cancer_lt", "mnist1d_lt_val10",
)}
_ALL_DATASETS = {**QUALITY_DATASETS, **HELD_OUT_DATASETS}
# A smoke test of a few minutes: two small real tables, one with tail classes of
# a few samples, and the paper's long-tailed digits.
QUICK_DATASETS = ("glass", "cars", "digits_lt_50")


def _check_datasets(datasets):
    """Raise on names that are neither quality nor held-out data sets."""
    unknown = sorted(set(datasets) - set(_ALL_DATASETS))
    if unknown:
        raise ValueError(f"Unknown data sets {unknown}; choose from {list(_ALL_DATASETS)}.")


def _labelled(dataset, seed):
    """A data set's training and validation parts together, as ``fit(X, y)`` sees them."""
    data = _ALL_DATASETS[dataset](random_state=seed)
    return np.concatenate([data.X_train, data.X_val]), np.concatenate([data.y_train, data.y_val])
