"""The data sets of the quality suite, by name."""

from functools import partial

from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.utils import check_random_state

from ..datasets import DATASETS, load_long_tailed_digits, make_long_tailed

QUALITY_DATASETS = {
    "digits_lt_10": partial(load_long_tailed_digits, imbalance=10),
    "digits_lt_50": partial(load_long_tailed_digits, imbalance=50),
    "digits_lt_100": partial(load_long_tailed_digits, imbalance=100),
    "mnist1d_lt": DATASETS["mnist1d_lt"],
    "seattle_weather": DATASETS["seattle_weather"],
    "cars": DATASETS["cars"],
    "wine": DATASETS["wine"],
    "glass": DATASETS["glass"],
    "olive_oil": DATASETS["olive_oil"],
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
# A smoke test of a few minutes: two small real tables, one with tail classes of
# a few samples, and the paper's long-tailed digits.
QUICK_DATASETS = ("glass", "cars", "digits_lt_50")
