"""The data sets of the quality suite: which of :data:`selmix_sk.datasets.DATASETS` it runs."""

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
